//! The README's commands run as written, in order, and show what the README says.
//!
//! Every ```` ```sh ```` block of `README.md` is written to a script and run with `sh -e` from
//! the repository's root, one block after the other, so that a block sees what the blocks before
//! it made. The ways the run differs from a reader's, and why:
//!
//! - `compact` is the binary built for this test: its directory comes first on `PATH`. The
//!   `alias compact=...` line and the `cargo ...` lines (building, the test suite itself, the
//!   release demo, which is `compact demo`) are left out.
//! - Every path under `/tmp/` becomes the same path under a fresh temporary directory, and `HOME`
//!   and `TMPDIR` point into it: nothing outside it is written, and runs do not meet.
//! - `COMPACT_CLOCK` starts unset, as in a reader's shell.
//!
//! Each block must exit 0, and its output must hold a few key lines, listed in [`EXPECT`]
//! (whole outputs are left to the tests of each command).

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// For the block holding the first string: strings its stdout must hold, and strings its stderr
/// must hold.
const EXPECT: &[(&str, &[&str], &[&str])] = &[
    (
        "compact demo --dir /tmp/kc",
        &[
            // check's summary, reconcile's attribution, digest's hex
            "gb-ua-2024",
            "Tracker figures: Kiel Institute for the World Economy, Ukraine Support Tracker, Release 29",
            "\"agreements\"",
        ],
        &[],
    ),
    (
        "sed -i",
        &["exit code 1"],
        &["error: unknown party `ZZ`", "1 error, 0 warnings"],
    ),
    ("compact activate", &["PL"], &[]),
    ("compact keygen --operator", &["in-force", "ok:"], &[]),
    (
        "compact schema delivery.confirm",
        &[
            "delivery.report",
            "compact submit --type delivery.confirm",
            "The payload of pledge",
            "(commit ",
        ],
        &[],
    ),
    (
        "compact serve",
        &[
            "ok: 10 entries, fetched from",
            "\"origin\":\"test-compact\"",
        ],
        &[
            "verified: entry 9 is in the tree",
            "every acknowledged statement is in the log",
        ],
    ),
    (
        "compact retract",
        &[
            "entry 11: GB retracted entry 10 (delivery.report): a typo",
            "exit code 1",
            "Retracted by their authors",
        ],
        &["error[relied-on]", "confirmed by `UA` (entry 8)"],
    ),
];

/// The README's ```` ```sh ```` blocks, in order.
fn sh_blocks(readme: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current: Option<String> = None;
    for line in readme.lines() {
        match &mut current {
            None if line.trim_end() == "```sh" => current = Some(String::new()),
            None => {}
            Some(_) if line.trim_end() == "```" => blocks.extend(current.take()),
            Some(b) => {
                b.push_str(line);
                b.push('\n');
            }
        }
    }
    blocks
}

/// A block as the test runs it: without the lines that build or alias `compact`, `/tmp/` moved
/// under `tmp`.
fn script(block: &str, tmp: &Path) -> String {
    let root = format!("{}/", tmp.display());
    let mut out = String::new();
    for line in block.lines() {
        let t = line.trim_start();
        if t.starts_with("cargo ") || t.starts_with("alias compact=") {
            continue;
        }
        out.push_str(&line.replace("/tmp/", &root));
        out.push('\n');
    }
    out
}

/// Whether a script has anything but comments and blank lines.
fn has_commands(script: &str) -> bool {
    script
        .lines()
        .map(str::trim)
        .any(|l| !l.is_empty() && !l.starts_with('#'))
}

#[test]
fn every_sh_block_of_the_readme_runs_as_written() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = fs::read_to_string(root.join("README.md")).expect("README.md");
    let blocks = sh_blocks(&readme);
    assert!(blocks.len() >= 4, "found {} sh blocks", blocks.len());
    let tmp = tempfile::tempdir().expect("tempdir");
    let home = tmp.path().join("home");
    let scratch = tmp.path().join("scratch");
    fs::create_dir_all(&home).expect("mkdir");
    fs::create_dir_all(&scratch).expect("mkdir");
    let bin_dir: PathBuf = Path::new(env!("CARGO_BIN_EXE_compact"))
        .parent()
        .expect("the binary's directory")
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .expect("PATH");
    let mut matched = vec![false; EXPECT.len()];
    for (n, block) in blocks.iter().enumerate() {
        let script_text = script(block, tmp.path());
        if !has_commands(&script_text) {
            continue;
        }
        let file = tmp.path().join(format!("block-{n}.sh"));
        fs::write(&file, &script_text).expect("write script");
        let out = Command::new("sh")
            .arg("-e")
            .arg(&file)
            .current_dir(&root)
            .env("PATH", &path)
            .env("HOME", &home)
            .env("TMPDIR", &scratch)
            .env_remove("COMPACT_CLOCK")
            .env_remove("COMPACT_BUSY_TIMEOUT_MS")
            .output()
            .expect("run sh");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "README block {n} failed ({:?}):\n{script_text}\n-- stdout:\n{stdout}\n-- stderr:\n{stderr}",
            out.status.code()
        );
        assert!(!stderr.contains("panicked"), "block {n}: {stderr}");
        for (i, (marker, on_stdout, on_stderr)) in EXPECT.iter().enumerate() {
            if !block.contains(marker) {
                continue;
            }
            matched[i] = true;
            for s in *on_stdout {
                assert!(
                    stdout.contains(s),
                    "README block {n}: stdout lacks `{s}`:\n{stdout}"
                );
            }
            for s in *on_stderr {
                assert!(
                    stderr.contains(s),
                    "README block {n}: stderr lacks `{s}`:\n{stderr}"
                );
            }
        }
    }
    for (i, m) in matched.iter().enumerate() {
        assert!(m, "no README sh block holds `{}`", EXPECT[i].0);
    }
}

#[test]
fn blocks_are_extracted_and_rewritten() {
    let blocks = sh_blocks(
        "a\n```sh\ncargo build\nalias compact=x\ncompact check /tmp/kc\n```\n```text\nno\n```\n",
    );
    assert_eq!(blocks.len(), 1);
    let s = script(&blocks[0], Path::new("/t"));
    assert_eq!(s, "compact check /t/kc\n");
    assert!(has_commands(&s));
    assert!(!has_commands("# only\n\n"));
}
