//! Runs the built `conformance` binary as a user would.

use std::process::{Command, Output};

fn run_conformance(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
        .args(args)
        .output()
        .expect("failed to start the conformance binary")
}

/// Returns the number passed from a counts line of the form
/// `N passed, 0 failed` or `N passed, 0 failed, N skipped`, or `None` when
/// the line has another form or reports failures.
fn passed_without_failures(line: &str) -> Option<usize> {
    let (passed, rest) = line.split_once(" passed, 0 failed")?;
    let skips_valid = match rest.strip_prefix(", ") {
        None => rest.is_empty(),
        Some(skipped) => skipped
            .strip_suffix(" skipped")
            .is_some_and(|count| count.parse::<usize>().is_ok_and(|count| count > 0)),
    };
    if !skips_valid {
        return None;
    }
    passed.parse().ok()
}

#[test]
fn counts_line_parser() {
    assert_eq!(passed_without_failures("12 passed, 0 failed"), Some(12));
    assert_eq!(
        passed_without_failures("12 passed, 0 failed, 3 skipped"),
        Some(12)
    );
    assert_eq!(passed_without_failures("12 passed, 1 failed"), None);
    assert_eq!(
        passed_without_failures("12 passed, 0 failed, 0 skipped"),
        None
    );
    assert_eq!(
        passed_without_failures("12 passed, 0 failed, x skipped"),
        None
    );
    assert_eq!(passed_without_failures("passed, 0 failed"), None);
}

#[test]
fn default_run_passes() {
    let output = run_conformance(&[]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    assert_eq!(
        output.status.code(),
        Some(0),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    let last_line = stdout.lines().last().unwrap_or_default();
    let passed = passed_without_failures(last_line);
    assert!(passed.is_some(), "last line: {last_line:?}");
    assert!(passed > Some(0), "last line: {last_line:?}");
}

#[test]
fn default_run_covers_embedded_configurations() {
    let output = run_conformance(&["--format", "json", "--quiet"]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: serde_json::Value =
        serde_json::from_str(&stdout).expect("--format json prints one JSON value");

    let cases = report["cases"].as_array().expect("`cases` is an array");
    let backends: std::collections::BTreeSet<&str> = cases
        .iter()
        .filter_map(|case| case["backend"].as_str())
        .collect();
    assert_eq!(
        backends.into_iter().collect::<Vec<_>>(),
        ["memory", "sqlite-memory", "sqlite-memory+memory"]
    );
    assert_eq!(report["failed"], 0, "{stdout}");
    assert!(output.stderr.is_empty(), "--quiet still printed progress");
}

#[test]
fn progress_goes_to_stderr() {
    let output = run_conformance(&["--backend", "memory"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or_default();
    assert!(first.starts_with("[1/"), "stderr:\n{stderr}");
    assert!(first.ends_with(" ... ok"), "stderr:\n{stderr}");
}

#[test]
fn bad_url_exits_2() {
    let output = run_conformance(&["--backend", "redis://127.0.0.1:6379"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(stderr.contains("unknown form"), "stderr:\n{stderr}");
    assert!(output.stdout.is_empty(), "nothing should run on a bad URL");
}

#[test]
fn bad_url_hides_password() {
    let output = run_conformance(&["--backend", "redis://admin:s3cret@127.0.0.1"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(!stderr.contains("s3cret"), "stderr:\n{stderr}");
}

#[test]
fn users_without_sessions_exits_2() {
    let output = run_conformance(&["--users", "memory"]);
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn unmatched_case_filter_exits_2() {
    let output = run_conformance(&["--case", "no case has this name"]);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "stderr:\n{stderr}");
    assert!(
        stderr.contains("no case name contains"),
        "stderr:\n{stderr}"
    );
}

#[test]
fn case_filter_and_split_flags() {
    let output = run_conformance(&[
        "--users",
        "memory",
        "--sessions",
        "memory",
        "--case",
        "user_",
        "--format",
        "json",
        "--quiet",
    ]);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    let report: serde_json::Value = serde_json::from_str(&stdout).expect("JSON report");
    let cases = report["cases"].as_array().expect("`cases` is an array");
    assert!(!cases.is_empty());
    for case in cases {
        assert_eq!(case["backend"], "memory+memory");
        let name = case["case"].as_str().unwrap_or_default();
        assert!(name.contains("user_"), "{name}");
    }
}
