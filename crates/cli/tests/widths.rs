//! Output fits: the widest tables, on the demo compact, laid out to `COLUMNS=100` and `80`.

#![allow(clippy::expect_used, clippy::unwrap_used)]

use std::path::Path;
use std::process::Command;

/// Runs `compact` with `COLUMNS` set (stdout is a pipe: plain ASCII); returns (code, stdout).
fn run(columns: &str, extra_env: &[(&str, &str)], args: &[&str]) -> (i32, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_compact"));
    cmd.args(args)
        .env("COLUMNS", columns)
        .env("COMPACT_CLOCK", "replay");
    for (k, v) in extra_env {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run compact");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// Builds the demo compact in a fresh directory.
fn demo() -> tempfile::TempDir {
    let t = tempfile::tempdir().expect("tempdir");
    let dir = t.path().join("kc");
    let d = dir.to_str().unwrap();
    let (code, _) = run("100", &[], &["demo", "--dir", d]);
    assert_eq!(code, 0, "demo failed");
    t
}

/// The lines of the tables in `out`: those drawn with a border.
fn table_lines(out: &str) -> impl Iterator<Item = &str> {
    out.lines()
        .filter(|l| l.starts_with('|') || l.starts_with('+'))
}

#[test]
fn no_table_is_wider_than_the_terminal() {
    let t = demo();
    let dir = t.path().join("kc");
    let d = dir.to_str().unwrap();
    let agreement = dir.join("agreements/gb-ua-2024.toml");
    let commands: Vec<Vec<&str>> = vec![
        vec!["check", d],
        vec!["show", "agreement", "gb-ua-2024", "--dir", d],
        vec![
            "status",
            "--dir",
            d,
            "--as-of",
            "2026-04-30",
            "--by",
            "commitment",
        ],
        vec![
            "status",
            "--dir",
            d,
            "--as-of",
            "2026-04-30",
            "--by",
            "pillar",
        ],
        vec![
            "explain",
            "gb-military-2024",
            "--dir",
            d,
            "--as-of",
            "2026-04-30",
        ],
        vec!["stress", "--dir", d, "--without", "US"],
        vec!["agreements", "--dir", d],
        vec!["burden", "--dir", d, "--year", "2025"],
        vec!["reconcile", "kiel", "--dir", d],
        vec!["log", "list", "--dir", d],
        vec!["schema"],
        vec!["schema", "consultation.respond"],
    ];
    for width in [100usize, 80] {
        let columns = width.to_string();
        for args in &commands {
            let (code, out) = run(&columns, &[], args);
            assert_eq!(code, 0, "compact {args:?} failed");
            let mut tables = 0;
            for line in table_lines(&out) {
                tables += 1;
                assert!(
                    line.chars().count() <= width,
                    "compact {args:?} at {width} columns: {} wide:\n{line}\n{out}",
                    line.chars().count()
                );
            }
            assert!(tables > 0, "compact {args:?} printed no table:\n{out}");
            // Piped: plain ASCII, no box drawing, no colour.
            assert!(
                !out.contains('│') && !out.contains('─') && !out.contains('\x1b'),
                "compact {args:?}: {out}"
            );
        }
    }
    // The agreement's source URL is printed whole, on one line, to be copied.
    let text = std::fs::read_to_string(&agreement).unwrap();
    let url = text
        .split('"')
        .find(|s| s.starts_with("https://"))
        .expect("the agreement names its source");
    for width in ["100", "80"] {
        let (_, out) = run(width, &[], &["show", "agreement", "gb-ua-2024", "--dir", d]);
        assert!(
            out.lines().any(|l| l.contains(url)),
            "the URL is broken:\n{out}"
        );
    }
}

#[test]
fn plain_and_no_color_draw_ascii() {
    let base = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/base");
    let b = base.to_str().unwrap();
    for env in [vec![], vec![("NO_COLOR", "1")]] {
        let (code, out) = run("100", &env, &["check", b, "--plain"]);
        assert_eq!(code, 0);
        assert!(out.contains("+--") && out.is_ascii(), "{out}");
    }
    // A narrow terminal: still within its width.
    let (code, out) = run("60", &[], &["check", b]);
    assert_eq!(code, 0);
    assert!(table_lines(&out).all(|l| l.chars().count() <= 60), "{out}");
}
