//! `compact check` on bad input, driven through the real binary.
//!
//! Each directory under `testdata/bad/` is a rule: its files replace or add to the small
//! valid compact in `testdata/base/`, a file named `DELETE` lists base files to remove,
//! and `expected` lists the finding headers (`path:line:col: error: message`, paths relative
//! to the compact) that `compact check` must print, one per line. A fixture expects exit 1 when
//! any expected line is an error, 0 otherwise.

#![allow(
    clippy::expect_used,
    clippy::unwrap_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::fs;

mod common;
use common::{Run, copy_tree, fixtures};

fn compact(args: &[&str]) -> Run {
    common::compact_in(None, args)
}

/// The base compact with the fixture `rule` laid over it, in a fresh temporary directory.
fn build(rule: &str) -> (tempfile::TempDir, Vec<String>) {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixtures().join("base"), dir.path());
    let overlay = fixtures().join("bad").join(rule);
    let mut expected = Vec::new();
    for entry in fs::read_dir(&overlay).expect("fixture exists") {
        let entry = entry.expect("entry");
        let name = entry.file_name().to_string_lossy().into_owned();
        match name.as_str() {
            "expected" => {
                expected = fs::read_to_string(entry.path())
                    .expect("read expected")
                    .lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_owned)
                    .collect();
            }
            "DELETE" => {
                for rel in fs::read_to_string(entry.path())
                    .expect("read DELETE")
                    .lines()
                {
                    fs::remove_file(dir.path().join(rel.trim())).expect("delete base file");
                }
            }
            _ if entry.file_type().expect("type").is_dir() => {
                let target = dir.path().join(&name);
                fs::create_dir_all(&target).expect("mkdir");
                copy_tree(&entry.path(), &target);
            }
            _ => {
                fs::copy(entry.path(), dir.path().join(&name)).expect("copy");
            }
        }
    }
    assert!(
        !expected.is_empty(),
        "fixture {rule} has no `expected` file"
    );
    (dir, expected)
}

/// Runs `compact check` on a fixture and asserts every expected header, the exit code and
/// that no panic happened.
fn assert_rule(rule: &str) {
    let (dir, expected) = build(rule);
    let root = format!("{}/", dir.path().display());
    let run = compact(&["check", &dir.path().display().to_string()]);
    let stderr = run
        .stderr
        .replace(&root, "")
        .replace(&dir.path().display().to_string(), "<dir>");
    assert!(!stderr.contains("panicked"), "{rule}: panic:\n{stderr}");
    let headers: Vec<&str> = stderr
        .lines()
        .filter(|l| l.contains(": error: ") || l.contains(": warning: "))
        .collect();
    for line in &expected {
        assert!(
            headers.contains(&line.as_str()),
            "{rule}: expected the finding\n  {line}\nbut compact check printed:\n{stderr}"
        );
    }
    let expects_error = expected.iter().any(|l| l.contains(": error: "));
    assert_eq!(
        run.code,
        if expects_error { 1 } else { 0 },
        "{rule}: wrong exit code; stderr:\n{stderr}"
    );
    if expects_error {
        assert!(run.stdout.is_empty(), "{rule}: no summary on error");
        // Every finding is shown with its line and a caret, not only its header.
        let with_place = expected.iter().filter(|l| {
            l.split(':')
                .nth(1)
                .is_some_and(|n| n.parse::<u32>().is_ok())
        });
        if with_place.count() > 0 {
            assert!(
                stderr.contains(" | "),
                "{rule}: no source line shown:\n{stderr}"
            );
            assert!(stderr.contains('^'), "{rule}: no caret shown:\n{stderr}");
        }
    }
}

#[test]
fn the_base_fixture_is_valid_and_clean() {
    let run = compact(&["check", &fixtures().join("base").display().to_string()]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert!(
        run.stderr.is_empty(),
        "no warnings expected:\n{}",
        run.stderr
    );
    assert!(run.stdout.contains("Test Compact (test-compact): valid"));
}

#[test]
fn every_rule_fixture_reports_its_finding_at_its_place() {
    let mut rules: Vec<String> = fs::read_dir(fixtures().join("bad"))
        .expect("bad fixtures")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    rules.sort();
    assert!(rules.len() >= 25, "only {} fixtures", rules.len());
    for rule in rules {
        assert_rule(&rule);
    }
}

#[test]
fn a_missing_directory_is_an_error_naming_it() {
    let run = compact(&["check", "/nonexistent/compact"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr
            .starts_with("/nonexistent/compact: error: cannot read the compact directory: no such file or directory"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_empty_directory_is_an_error() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = compact(&["check", "--dir", &dir.path().display().to_string()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("error: the directory is empty"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_file_over_the_size_limit_is_refused() {
    let (dir, _) = build("unknown-party");
    let big = dir.path().join("agreements/huge.toml");
    let file = fs::File::create(&big).expect("create");
    file.set_len(16 * 1024 * 1024 + 1).expect("grow");
    let run = compact(&["check", &dir.path().display().to_string()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("agreements/huge.toml: error: file is 16777217 bytes, over the limit of 16777216 bytes (16 MiB)"),
        "{}",
        run.stderr
    );
}

#[cfg(unix)]
#[test]
fn a_symlink_loop_is_an_error_naming_the_file() {
    let dir = tempfile::tempdir().expect("temp dir");
    copy_tree(&fixtures().join("base"), dir.path());
    std::os::unix::fs::symlink("loop.toml", dir.path().join("agreements/loop.toml"))
        .expect("symlink");
    let run = compact(&["check", &dir.path().display().to_string()]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("agreements/loop.toml: error: cannot read: too many levels of symbolic links (a symlink loop)"),
        "{}",
        run.stderr
    );
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(compact(&["check", "--format", "xml"]).code, 2);
    assert_eq!(compact(&["no-such-command"]).code, 2);
    assert_eq!(compact(&[]).code, 2);
}

#[test]
fn help_lists_the_subcommands() {
    let run = compact(&["--help"]);
    assert_eq!(run.code, 0);
    for sub in ["check", "digest", "show", "demo"] {
        assert!(
            run.stdout.contains(&format!("  {sub} ")),
            "{sub} missing:\n{}",
            run.stdout
        );
    }
}
