//! `conformance`: runs the conformance suite against backends and prints a
//! per-case report.

#![forbid(unsafe_code)]

use std::process::ExitCode;
use std::time::Duration;

use adapter_conformance::load::{LoadOptions, run_load_on};
use adapter_conformance::report::{DEFAULT_CONCURRENCY, RunOptions, run_suite};
use adapter_conformance::{Backend, Split};
use clap::{Parser, ValueEnum};
use conformance_runner::backend_from_url;
use conformance_runner::backends::memory::MemoryBackend;
use conformance_runner::backends::sql::SqlBackend;

/// Exit code for invalid arguments, the same code clap uses for usage errors.
const EXIT_BAD_ARGUMENTS: u8 = 2;

/// Exit code when at least one case failed.
const EXIT_FAILED: u8 = 1;

const AFTER_HELP: &str = "\
Without --backend, --users or --sessions, the suite runs on the embedded
configurations, which need no server: `memory` and `sqlite::memory:` (users
and sessions in one instance each), and the split pair users in SQLite with
sessions in memory.

Backend URLs: memory; mongodb (reads MONGODB_URI); mongodb://HOST[:PORT][/DATABASE];
mongodb+srv://HOST[/DATABASE]; sqlite:PATH; sqlite::memory:;
postgres://HOST[:PORT]/DATABASE; postgresql://...; mysql://HOST[:PORT]/DATABASE.

Environment:
  MONGODB_URI  MongoDB connection string used by the URL `mongodb`
  CI           when `true` or `1`, an unreachable server fails its cases
               instead of skipping them

Exit status: 0 when no case failed, 1 when any case failed, 2 on invalid
arguments.";

/// Runs the auth storage conformance suite against backends and prints a
/// per-case report: progress on stderr, the table or JSON on stdout.
#[derive(Debug, Parser)]
#[command(name = "conformance", version, after_help = AFTER_HELP)]
struct Cli {
    /// Backend URL to run every case on, with users and sessions in one
    /// instance; `mongodb` alone reads MONGODB_URI. Repeat to run several
    /// backends one after another.
    // URLs stay plain strings here and are parsed in `selected_backends`,
    // because clap's own error message would echo a URL's password.
    #[arg(long = "backend", value_name = "URL")]
    backends: Vec<String>,

    /// Backend URL for the user side of a split pair; requires --sessions.
    #[arg(long, value_name = "URL", requires = "sessions")]
    users: Option<String>,

    /// Backend URL for the session side of a split pair; requires --users.
    #[arg(long, value_name = "URL", requires = "users")]
    sessions: Option<String>,

    /// Runs only the cases whose name contains this substring.
    #[arg(long = "case", value_name = "SUBSTRING")]
    case_filter: Option<String>,

    /// Format of the report printed to stdout.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,

    /// Maximum number of cases of one backend that run at the same time.
    #[arg(
        long,
        value_name = "N",
        default_value_t = DEFAULT_CONCURRENCY as u16,
        value_parser = clap::value_parser!(u16).range(1..=256)
    )]
    jobs: u16,

    /// Turns off the progress line printed to stderr for each finished case.
    #[arg(long)]
    quiet: bool,

    /// Runs a mixed load for this many seconds on each selected backend
    /// instead of the cases, then checks the store against a model of every
    /// write that succeeded.
    #[arg(long, value_name = "SECONDS", value_parser = clap::value_parser!(u64).range(1..=3600))]
    load: Option<u64>,

    /// Concurrent tasks of the --load workload.
    #[arg(long, value_name = "N", default_value_t = 8, value_parser = clap::value_parser!(u16).range(1..=1024))]
    load_tasks: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// A table with one row per case, then failures, skips and the counts.
    Table,
    /// One JSON object with every case result and the counts.
    Json,
}

/// Builds the backends the arguments select, or the embedded
/// configurations when they select none.
fn selected_backends(cli: &Cli) -> Result<Vec<Box<dyn Backend>>, String> {
    let mut backends = Vec::new();
    for url in &cli.backends {
        backends.push(backend_from_url(url)?);
    }
    // clap's `requires` rejects one of --users and --sessions without the
    // other, so either both are set here or neither.
    if let (Some(users), Some(sessions)) = (&cli.users, &cli.sessions) {
        let pair = Split::new(backend_from_url(users)?, backend_from_url(sessions)?);
        backends.push(Box::new(pair));
    }

    if backends.is_empty() {
        backends.push(Box::new(MemoryBackend::new()));
        backends.push(Box::new(SqlBackend::sqlite_memory()));
        backends.push(Box::new(Split::new(
            SqlBackend::sqlite_memory(),
            MemoryBackend::new(),
        )));
    }
    Ok(backends)
}

/// Runs the load on every backend and prints one report each. Fails when a
/// backend cannot be set up, returns an error of an unexpected kind, or ends
/// with a store that does not match the model.
async fn run_load_mode(backends: &[Box<dyn Backend>], seconds: u64, tasks: u16) -> ExitCode {
    let options = LoadOptions {
        duration: Duration::from_secs(seconds),
        tasks: usize::from(tasks),
        ..LoadOptions::default()
    };
    let mut failed = false;
    for backend in backends {
        match run_load_on(backend.as_ref(), &options).await {
            Ok(report) => {
                print!("{}", report.render_text(&backend.name()));
                failed |= !report.violations.is_empty() || report.unexpected_errors() > 0;
            }
            Err(message) => {
                println!("load on {}: setup failed: {message}", backend.name());
                failed = true;
            }
        }
    }
    if failed {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();

    let backends = match selected_backends(&cli) {
        Ok(backends) => backends,
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(EXIT_BAD_ARGUMENTS);
        }
    };

    if let Some(seconds) = cli.load {
        return run_load_mode(&backends, seconds, cli.load_tasks).await;
    }

    let options = RunOptions {
        case_filter: cli.case_filter.clone(),
        concurrency: usize::from(cli.jobs),
        progress: !cli.quiet,
    };
    if options.selected_cases().is_empty() {
        eprintln!(
            "error: no case name contains `{}`; run without --case to see every case",
            cli.case_filter.as_deref().unwrap_or_default()
        );
        return ExitCode::from(EXIT_BAD_ARGUMENTS);
    }

    let report = run_suite(&backends, &options).await;
    match cli.format {
        Format::Table => print!("{}", report.render_text()),
        Format::Json => println!(
            "{}",
            serde_json::to_string_pretty(&report.to_json())
                .expect("a JSON value always serializes")
        ),
    }

    if report.failed() > 0 {
        ExitCode::from(EXIT_FAILED)
    } else {
        ExitCode::SUCCESS
    }
}
