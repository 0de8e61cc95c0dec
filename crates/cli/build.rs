//! The commit the binary is built from, for `compact --version`: `git rev-parse --short HEAD`
//! in the checkout, or `unknown` outside one (a source archive, no git). The build reruns when
//! HEAD moves: a checkout of another branch (HEAD) or a commit on this one (its ref, loose or
//! packed).

use std::path::{Path, PathBuf};
use std::process::Command;

/// What `git ARGS` prints in `dir`, trimmed, if it succeeds.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_owned())
}

/// The file behind a git path (`HEAD`, `refs/heads/main`), made absolute.
fn git_path(dir: &Path, name: &str) -> Option<PathBuf> {
    let p = PathBuf::from(git(dir, &["rev-parse", "--git-path", name])?);
    Some(if p.is_absolute() { p } else { dir.join(p) })
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=COMPACT_COMMIT");
    let dir = PathBuf::from(std::env::var_os("CARGO_MANIFEST_DIR").unwrap_or_default());
    let commit = std::env::var("COMPACT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| git(&dir, &["rev-parse", "--short", "HEAD"]))
        .unwrap_or_else(|| "unknown".to_owned());
    // Only files that exist: cargo reruns a script on every build for a missing one.
    let mut watched: Vec<PathBuf> = git_path(&dir, "HEAD").into_iter().collect();
    if let Some(reference) = git(&dir, &["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git_path(&dir, &reference));
    }
    watched.extend(git_path(&dir, "packed-refs"));
    for p in watched.iter().filter(|p| p.exists()) {
        println!("cargo:rerun-if-changed={}", p.display());
    }
    println!("cargo:rustc-env=COMPACT_COMMIT={commit}");
}
