//! `compact demo` on a terminal serves the dashboard afterwards (the browser tests are in
//! `.ci/dashboard-e2e`); piped, it never waits. A terminal is given by `script` (util-linux).

#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead as _, BufReader, Read as _};
use std::process::{Command, Stdio};
use std::time::Duration;

#[test]
fn the_demo_serves_the_dashboard_on_a_terminal_and_not_when_piped() {
    let t = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_compact");
    // Piped: the tables, the command to serve, and an exit.
    let piped = Command::new(bin)
        .args(["demo", "--dir"])
        .arg(t.path().join("piped"))
        .output()
        .unwrap();
    assert!(piped.status.success());
    let out = String::from_utf8_lossy(&piped.stdout);
    assert!(out.contains("compact serve --dir"), "{out}");
    assert!(!out.contains("listening on"), "{out}");

    if Command::new("script").arg("--version").output().is_err() {
        eprintln!("skipped: no `script` (util-linux) to give the demo a terminal");
        return;
    }
    let dir = t.path().join("tty");
    let mut child = Command::new("script")
        .args(["-qfec"])
        .arg(format!("{bin} demo --dir {}", dir.display()))
        .arg("/dev/null")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut reader = BufReader::new(child.stdout.take().unwrap());
    let mut url = None;
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap_or(0) > 0 {
        if let Some(u) = line.trim().strip_prefix("listening on ") {
            url = Some(u.to_owned());
            break;
        }
        line.clear();
    }
    let url = url.expect("the demo says where it serves");
    let agent = ureq::Agent::config_builder()
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .new_agent();
    let mut page = agent.get(format!("{url}/")).call().unwrap();
    let mut html = String::new();
    page.body_mut()
        .as_reader()
        .read_to_string(&mut html)
        .unwrap();
    assert!(
        html.contains("Kyiv Security Compact") && html.contains("/dashboard/app.js"),
        "{html}"
    );
    let status = agent.get(format!("{url}/v1/status")).call().unwrap();
    assert_eq!(status.status().as_u16(), 200);
    // Ctrl-C (SIGINT to the demo, through the terminal): it stops.
    let _ = Command::new("pkill")
        .args(["-INT", "-f", &format!("demo --dir {}", dir.display())])
        .status();
    let mut waited = Duration::ZERO;
    while child.try_wait().unwrap().is_none() && waited < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(100));
        waited += Duration::from_millis(100);
    }
    let _ = child.kill();
    assert!(
        waited < Duration::from_secs(30),
        "the demo did not stop on Ctrl-C"
    );
}
