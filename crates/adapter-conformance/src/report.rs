//! Runs the whole suite against a list of backends and renders the result as
//! a per-case table or as JSON.

use std::fmt::Write as _;
use std::sync::Once;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};

use crate::case::{Case, CaseReport, Outcome, run_case};
use crate::target::{Backend, Role};

/// Default number of cases of one backend that run at the same time.
pub const DEFAULT_CONCURRENCY: usize = 4;

/// Options of [`run_suite`].
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Runs only the cases whose name contains this substring; `None` runs
    /// every case.
    pub case_filter: Option<String>,
    /// Maximum number of cases of one backend that run at the same time.
    /// Backends run one after another. Zero is treated as one.
    pub concurrency: usize,
    /// Whether a progress line is printed to stderr for each finished case.
    pub progress: bool,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions {
            case_filter: None,
            concurrency: DEFAULT_CONCURRENCY,
            progress: true,
        }
    }
}

impl RunOptions {
    /// Returns the cases of [`crate::cases()`] that the filter selects, in
    /// report order.
    pub fn selected_cases(&self) -> Vec<&'static Case> {
        crate::cases::all()
            .iter()
            .filter(|case| match &self.case_filter {
                Some(filter) => case.name.contains(filter.as_str()),
                None => true,
            })
            .collect()
    }
}

/// The results of one suite run: one [`CaseReport`] per case and backend,
/// ordered by backend, then by case in [`crate::cases()`] order.
#[derive(Debug, Clone, Default)]
pub struct SuiteReport {
    /// Every case result.
    pub reports: Vec<CaseReport>,
}

/// Runs every selected case against each backend and returns the results.
///
/// Backends run one after another. The cases of one backend run up to
/// [`RunOptions::concurrency`] at a time, which is safe because every case
/// sets up its own isolated data. While cases run, the default panic output
/// is suppressed: a panicking case is already reported as a failure with the
/// panic message, so the printout would only clutter the progress lines.
pub async fn run_suite(backends: &[Box<dyn Backend>], options: &RunOptions) -> SuiteReport {
    let cases = options.selected_cases();
    let total = cases.len() * backends.len();
    let concurrency = options.concurrency.max(1);
    let _quiet_panics = QuietPanics::start();

    let mut reports = Vec::with_capacity(total);
    let mut done = 0;
    for backend in backends {
        let mut running = futures::stream::iter(cases.iter().enumerate())
            .map(|(index, case)| async move { (index, run_case(backend.as_ref(), case).await) })
            .buffer_unordered(concurrency);
        let mut finished = Vec::with_capacity(cases.len());
        while let Some((index, report)) = running.next().await {
            done += 1;
            if options.progress {
                eprintln!("{}", progress_line(done, total, &report));
            }
            finished.push((index, report));
        }
        // Cases finish in any order; the report lists them in suite order.
        finished.sort_by_key(|(index, _)| *index);
        reports.extend(finished.into_iter().map(|(_, report)| report));
    }
    SuiteReport { reports }
}

fn progress_line(done: usize, total: usize, report: &CaseReport) -> String {
    let result = match report.outcome {
        Outcome::Passed => "ok",
        Outcome::Failed(_) => "FAILED",
        Outcome::Skipped(_) => "skipped",
    };
    format!(
        "[{done}/{total}] {} {} ... {result}",
        report.backend, report.case
    )
}

/// Suppresses the default panic output for as long as at least one value of
/// this type lives.
///
/// The process-wide hook is wrapped once and stays installed. It calls the
/// hook it replaced whenever no suite is running, so panics outside a run
/// print as usual.
struct QuietPanics;

static RUNNING_SUITES: AtomicUsize = AtomicUsize::new(0);
static WRAP_PANIC_HOOK: Once = Once::new();

impl QuietPanics {
    fn start() -> Self {
        WRAP_PANIC_HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                // NOTE: this also hides a panic of the runner itself or of a
                // backend's setup while a suite runs. Such a panic still
                // unwinds and ends the run, but without its message.
                if RUNNING_SUITES.load(Ordering::SeqCst) == 0 {
                    previous(info);
                }
            }));
        });
        RUNNING_SUITES.fetch_add(1, Ordering::SeqCst);
        QuietPanics
    }
}

impl Drop for QuietPanics {
    fn drop(&mut self) {
        RUNNING_SUITES.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Returns the name of a role as the report's `side` column shows it.
pub fn side_name(role: Role) -> &'static str {
    match role {
        Role::Both => "both",
        Role::Users => "users",
        Role::Sessions => "sessions",
    }
}

fn result_name(outcome: &Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Failed(_) => "FAILED",
        Outcome::Skipped(_) => "skipped",
    }
}

fn milliseconds(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64() * 1000.0
}

impl SuiteReport {
    /// Number of passed cases.
    pub fn passed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Passed))
    }

    /// Number of failed cases.
    pub fn failed(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Failed(_)))
    }

    /// Number of skipped cases.
    pub fn skipped(&self) -> usize {
        self.count(|outcome| matches!(outcome, Outcome::Skipped(_)))
    }

    fn count(&self, matches: impl Fn(&Outcome) -> bool) -> usize {
        self.reports
            .iter()
            .filter(|report| matches(&report.outcome))
            .count()
    }

    /// Returns the summary line `N passed, N failed`, followed by
    /// `, N skipped` only when any case was skipped.
    pub fn counts_line(&self) -> String {
        let mut line = format!("{} passed, {} failed", self.passed(), self.failed());
        let skipped = self.skipped();
        if skipped > 0 {
            write!(line, ", {skipped} skipped").expect("writing to a String cannot fail");
        }
        line
    }

    /// Renders the full text report: the per-case table, then every failure
    /// message, then the skip reasons grouped by identical reason, and last
    /// the [counts line](Self::counts_line). The text ends with a newline.
    pub fn render_text(&self) -> String {
        let mut text = self.render_table();
        let failures = self.render_failures();
        if !failures.is_empty() {
            text.push('\n');
            text.push_str(&failures);
        }
        let skips = self.render_skips();
        if !skips.is_empty() {
            text.push('\n');
            text.push_str(&skips);
        }
        text.push('\n');
        text.push_str(&self.counts_line());
        text.push('\n');
        text
    }

    /// Renders the table with the columns backend, case, side, result and
    /// time in milliseconds, one row per case.
    pub fn render_table(&self) -> String {
        let header = ["backend", "case", "side", "result", "time (ms)"];
        let rows: Vec<[String; 5]> = self
            .reports
            .iter()
            .map(|report| {
                [
                    report.backend.clone(),
                    report.case.to_owned(),
                    side_name(report.role).to_owned(),
                    result_name(&report.outcome).to_owned(),
                    format!("{:.1}", milliseconds(report.elapsed)),
                ]
            })
            .collect();

        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }

        let mut text = String::new();
        push_row(&mut text, &header, &widths);
        let rule = widths.map(|width| "-".repeat(width));
        push_row(&mut text, &rule, &widths);
        for row in &rows {
            push_row(&mut text, row, &widths);
        }
        text
    }

    /// Renders one entry per failed case with its message, or an empty
    /// string when nothing failed.
    pub fn render_failures(&self) -> String {
        let mut text = String::new();
        for report in &self.reports {
            let Outcome::Failed(message) = &report.outcome else {
                continue;
            };
            if text.is_empty() {
                text.push_str("Failures:\n");
            }
            writeln!(text, "  {} {}:", report.backend, report.case)
                .expect("writing to a String cannot fail");
            for line in message.lines() {
                writeln!(text, "      {line}").expect("writing to a String cannot fail");
            }
        }
        text
    }

    /// Renders the skip reasons, each once with the cases it skipped grouped
    /// by backend, or an empty string when nothing was skipped. Reasons and
    /// backends are listed in the order of their first skip.
    pub fn render_skips(&self) -> String {
        let mut groups: Vec<SkipGroup<'_>> = Vec::new();
        for report in &self.reports {
            let Outcome::Skipped(reason) = &report.outcome else {
                continue;
            };
            let index = match groups.iter().position(|group| group.reason == reason) {
                Some(index) => index,
                None => {
                    groups.push(SkipGroup {
                        reason,
                        by_backend: Vec::new(),
                    });
                    groups.len() - 1
                }
            };
            groups[index].add(&report.backend, report.case);
        }

        let mut text = String::new();
        if groups.is_empty() {
            return text;
        }
        text.push_str("Skipped:\n");
        for group in &groups {
            let count: usize = group.by_backend.iter().map(|(_, cases)| cases.len()).sum();
            let noun = if count == 1 { "case" } else { "cases" };
            writeln!(text, "  {} ({count} {noun})", group.reason)
                .expect("writing to a String cannot fail");
            for (backend, cases) in &group.by_backend {
                writeln!(text, "      {backend}: {}", cases.join(", "))
                    .expect("writing to a String cannot fail");
            }
        }
        text
    }

    /// Returns the report as JSON: `cases`, one object per case with
    /// `backend`, `case`, `side`, `result` (`passed`, `failed` or
    /// `skipped`), `time_ms` and `message` (the failure message or skip
    /// reason, `null` for a pass), and the totals `passed`, `failed` and
    /// `skipped`.
    pub fn to_json(&self) -> Value {
        let cases: Vec<Value> = self
            .reports
            .iter()
            .map(|report| {
                let (result, message) = match &report.outcome {
                    Outcome::Passed => ("passed", None),
                    Outcome::Failed(message) => ("failed", Some(message)),
                    Outcome::Skipped(reason) => ("skipped", Some(reason)),
                };
                json!({
                    "backend": report.backend,
                    "case": report.case,
                    "side": side_name(report.role),
                    "result": result,
                    "time_ms": milliseconds(report.elapsed),
                    "message": message,
                })
            })
            .collect();
        json!({
            "cases": cases,
            "passed": self.passed(),
            "failed": self.failed(),
            "skipped": self.skipped(),
        })
    }
}

/// The cases skipped for one reason, by backend in first-seen order.
struct SkipGroup<'a> {
    reason: &'a str,
    by_backend: Vec<(&'a str, Vec<&'static str>)>,
}

impl<'a> SkipGroup<'a> {
    fn add(&mut self, backend: &'a str, case: &'static str) {
        match self
            .by_backend
            .iter_mut()
            .find(|(name, _)| *name == backend)
        {
            Some((_, cases)) => cases.push(case),
            None => self.by_backend.push((backend, vec![case])),
        }
    }
}

/// Appends one table row: every column left-aligned and padded to its width
/// except the last (the time), which is right-aligned.
fn push_row<S: AsRef<str>>(text: &mut String, cells: &[S], widths: &[usize]) {
    let last = cells.len() - 1;
    for (index, (cell, width)) in cells.iter().zip(widths).enumerate() {
        let cell = cell.as_ref();
        if index == last {
            write!(text, "{cell:>width$}").expect("writing to a String cannot fail");
        } else {
            write!(text, "{cell:<width$}  ").expect("writing to a String cannot fail");
        }
    }
    text.push('\n');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::target::{SetupError, Target};
    use async_trait::async_trait;

    fn report(backend: &str, case: &'static str, role: Role, outcome: Outcome) -> CaseReport {
        CaseReport {
            case,
            backend: backend.to_owned(),
            role,
            outcome,
            elapsed: Duration::from_micros(1500),
        }
    }

    fn mixed_report() -> SuiteReport {
        SuiteReport {
            reports: vec![
                report("memory", "user_create", Role::Users, Outcome::Passed),
                report(
                    "memory",
                    "session_expired",
                    Role::Sessions,
                    Outcome::Failed("expected 2 sessions\nfound 3".into()),
                ),
                report(
                    "memory+memory",
                    "joined_lookup",
                    Role::Both,
                    Outcome::Skipped("needs one backend".into()),
                ),
                report(
                    "memory+memory",
                    "joined_delete",
                    Role::Both,
                    Outcome::Skipped("needs one backend".into()),
                ),
                report(
                    "memory",
                    "raw_plant",
                    Role::Users,
                    Outcome::Skipped("no raw access".into()),
                ),
            ],
        }
    }

    fn passing_report() -> SuiteReport {
        SuiteReport {
            reports: vec![
                report("memory", "user_create", Role::Users, Outcome::Passed),
                report("memory", "user_delete", Role::Users, Outcome::Passed),
            ],
        }
    }

    #[test]
    fn counts_line_without_skips() {
        assert_eq!(passing_report().counts_line(), "2 passed, 0 failed");
    }

    #[test]
    fn counts_line_with_skips() {
        assert_eq!(
            mixed_report().counts_line(),
            "1 passed, 1 failed, 3 skipped"
        );
    }

    #[test]
    fn counts_line_empty_report() {
        assert_eq!(SuiteReport::default().counts_line(), "0 passed, 0 failed");
    }

    #[test]
    fn text_ends_with_counts_line() {
        let text = mixed_report().render_text();
        assert_eq!(text.lines().last(), Some("1 passed, 1 failed, 3 skipped"));
        assert!(text.ends_with('\n'));
    }

    #[test]
    fn text_omits_empty_sections() {
        let text = passing_report().render_text();
        assert!(!text.contains("Failures:"), "{text}");
        assert!(!text.contains("Skipped:"), "{text}");
    }

    #[test]
    fn table_has_header_and_aligned_rows() {
        let table = mixed_report().render_table();
        let lines: Vec<&str> = table.lines().collect();
        assert_eq!(lines.len(), 2 + 5);
        assert!(lines[0].starts_with("backend  "), "{table}");
        assert!(lines[0].ends_with("time (ms)"), "{table}");
        assert!(lines[1].starts_with("-------------  "), "{table}");
        let widths: Vec<usize> = lines.iter().map(|line| line.len()).collect();
        assert!(
            widths.iter().all(|width| *width == widths[0]),
            "rows differ in width: {table}"
        );
    }

    #[test]
    fn table_row_shows_every_column() {
        let table = mixed_report().render_table();
        let row = table
            .lines()
            .find(|line| line.contains("session_expired"))
            .expect("row for session_expired");
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(
            cells,
            ["memory", "session_expired", "sessions", "FAILED", "1.5"]
        );
    }

    #[test]
    fn failures_keep_every_message_line() {
        let failures = mixed_report().render_failures();
        assert!(failures.starts_with("Failures:\n"), "{failures}");
        assert!(
            failures.contains("  memory session_expired:\n"),
            "{failures}"
        );
        assert!(
            failures.contains("      expected 2 sessions\n"),
            "{failures}"
        );
        assert!(failures.contains("      found 3\n"), "{failures}");
    }

    #[test]
    fn skips_grouped_by_reason() {
        let skips = mixed_report().render_skips();
        let expected = "Skipped:\n\
            \x20 needs one backend (2 cases)\n\
            \x20     memory+memory: joined_lookup, joined_delete\n\
            \x20 no raw access (1 case)\n\
            \x20     memory: raw_plant\n";
        assert_eq!(skips, expected);
    }

    #[test]
    fn json_has_cases_and_counts() {
        let value = mixed_report().to_json();
        assert_eq!(value["passed"], 1);
        assert_eq!(value["failed"], 1);
        assert_eq!(value["skipped"], 3);
        assert_eq!(value["cases"].as_array().map(Vec::len), Some(5));
        assert_eq!(value["cases"][0]["message"], Value::Null);
        assert_eq!(value["cases"][1]["result"], "failed");
        assert_eq!(value["cases"][1]["side"], "sessions");
        assert_eq!(value["cases"][2]["message"], "needs one backend");
        assert_eq!(value["cases"][0]["time_ms"], 1.5);
    }

    /// A backend whose every setup returns an error: `Unsupported` when
    /// `unsupported` is set, `Failed` otherwise.
    struct FailingSetup {
        unsupported: bool,
    }

    #[async_trait]
    impl Backend for FailingSetup {
        fn name(&self) -> String {
            if self.unsupported {
                "unsupported".to_owned()
            } else {
                "broken".to_owned()
            }
        }

        async fn setup(&self, _role: Role) -> Result<Target, SetupError> {
            if self.unsupported {
                Err(SetupError::Unsupported("no role here".into()))
            } else {
                Err(SetupError::Failed("connection refused".into()))
            }
        }
    }

    fn quiet_options(case_filter: Option<&str>) -> RunOptions {
        RunOptions {
            case_filter: case_filter.map(str::to_owned),
            progress: false,
            ..RunOptions::default()
        }
    }

    #[tokio::test]
    async fn suite_keeps_case_order() {
        let backends: Vec<Box<dyn Backend>> = vec![
            Box::new(FailingSetup { unsupported: true }),
            Box::new(FailingSetup { unsupported: false }),
        ];
        let suite = run_suite(&backends, &quiet_options(None)).await;

        let names: Vec<&str> = crate::cases::all().iter().map(|case| case.name).collect();
        assert_eq!(suite.reports.len(), 2 * names.len());
        let (first, second) = suite.reports.split_at(names.len());
        let first_names: Vec<&str> = first.iter().map(|report| report.case).collect();
        let second_names: Vec<&str> = second.iter().map(|report| report.case).collect();
        assert_eq!(first_names, names);
        assert_eq!(second_names, names);

        assert!(first.iter().all(|report| report.backend == "unsupported"));
        assert!(
            first
                .iter()
                .all(|report| report.outcome == Outcome::Skipped("no role here".into()))
        );
        assert!(second.iter().all(|report| report.backend == "broken"));
        assert!(
            second
                .iter()
                .all(|report| matches!(&report.outcome, Outcome::Failed(message) if message.contains("connection refused")))
        );
        assert_eq!(suite.skipped(), names.len());
        assert_eq!(suite.failed(), names.len());
    }

    #[tokio::test]
    async fn suite_filter_selects_by_substring() {
        let first = crate::cases::all()[0].name;
        let backends: Vec<Box<dyn Backend>> = vec![Box::new(FailingSetup { unsupported: true })];
        let suite = run_suite(&backends, &quiet_options(Some(first))).await;
        assert!(!suite.reports.is_empty());
        assert!(
            suite
                .reports
                .iter()
                .all(|report| report.case.contains(first))
        );

        let none = run_suite(&backends, &quiet_options(Some("no case has this name"))).await;
        assert!(none.reports.is_empty());
    }
}
