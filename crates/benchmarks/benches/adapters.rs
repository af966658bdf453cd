//! Compares every backend with hand-written code on the same driver and
//! data, and prints the results as Markdown tables on standard output
//! (progress goes to standard error).
//!
//! ```sh
//! scripts/with-secantusdb cargo bench -p benchmarks --bench adapters
//! cargo bench -p benchmarks --bench adapters -- memory sqlite
//! ```
//!
//! Arguments that do not start with `-` select backends (`memory`,
//! `sqlite`, `postgres`, `mysql`, `mongodb`); without any, all run. A
//! backend whose server does not answer is skipped with the reason.

use std::time::{Duration, Instant};

use benchmarks::measure::{Bench, Comparison, Settings, ThroughputComparison};
use benchmarks::memory::{self, ScalingPoint};
use benchmarks::{mongo, report, sql};
use tokio::runtime::Runtime;

const BACKENDS: [&str; 5] = ["memory", "sqlite", "postgres", "mysql", "mongodb"];

/// Sessions stored while the database backends are measured.
const DATABASE_SESSIONS: u64 = 100_000;
/// Sessions stored while the memory backend is compared with the baseline,
/// and the two sizes of the memory scaling run.
const MEMORY_SESSIONS: u64 = 10_000;
const MEMORY_SCALING_SIZES: [u64; 2] = [10_000, 1_000_000];

/// Memory operations take well under a microsecond: many per sample.
const MEMORY_SETTINGS: Settings = Settings {
    rounds: 31,
    sample_time: Duration::from_millis(2),
    max_batch: 4_000,
};
/// The baseline scans for some operations, which takes milliseconds at a
/// million sessions: few, short samples.
const BASELINE_SCALING_SETTINGS: Settings = Settings {
    rounds: 9,
    sample_time: Duration::from_millis(10),
    max_batch: 4_000,
};
/// Database operations take tens of microseconds to a few milliseconds.
/// Samples of 25 ms hold a few hundred writes, so each side's samples take
/// their share of SQLite WAL checkpoints (one per 1,000 written pages by
/// default) instead of a checkpoint stalling one side's short batch.
const DATABASE_SETTINGS: Settings = Settings {
    rounds: 31,
    sample_time: Duration::from_millis(25),
    max_batch: 400,
};

/// Mixed-load measurements: rounds per side and length of each.
const LOAD_ROUNDS: usize = 5;
const LOAD_DURATION: Duration = Duration::from_millis(1_500);
/// The memory load runs shorter and more often, so that a burst of other
/// work on the machine spoils fewer samples.
const MEMORY_LOAD_ROUNDS: usize = 15;
const MEMORY_LOAD_DURATION: Duration = Duration::from_millis(400);
/// Concurrent tasks of the database mixed load.
const DATABASE_LOAD_TASKS: usize = 8;
/// Reads in the MongoDB load. SecantusDB 0.7.0b3 takes about a second per
/// `findOneAndUpdate` on 100 thousand sessions (the latency table shows
/// it), so renewals would leave a handful of operations per measurement.
/// Reads alone still compare the two clients under concurrency.
const MONGODB_LOAD_READ_PERCENT: u64 = 100;

#[derive(Default)]
struct Results {
    latency: Vec<Comparison>,
    throughput: Vec<ThroughputComparison>,
    scaling: Vec<ScalingPoint>,
    round_trips: Vec<(String, &'static str, u64)>,
    skipped: Vec<(String, String)>,
}

/// Runs one SQL backend, which `$connect` builds and seeds. A macro, because
/// each database's connect function returns its own type.
macro_rules! run_sql {
    ($name:literal, $connect:path, $runtime:expr, $results:expr) => {{
        let (runtime, results): (&Runtime, &mut Results) = ($runtime, $results);
        eprintln!("{}: seeding {DATABASE_SESSIONS} sessions", $name);
        match runtime.block_on($connect(DATABASE_SESSIONS)) {
            Err(reason) => skip(results, $name, reason),
            Ok(database) => {
                let mut bench = Bench::new(DATABASE_SETTINGS);
                runtime.block_on(sql::compare_operations(&mut bench, &database.setup));
                results.latency.extend(bench.rows);
                results.throughput.push(sql::compare_mixed_load(
                    runtime,
                    &database.setup,
                    DATABASE_LOAD_TASKS,
                    LOAD_DURATION,
                    LOAD_ROUNDS,
                ));
                runtime.block_on(database.drop());
            }
        }
    }};
}

fn main() {
    let selected: Vec<String> = std::env::args()
        .skip(1)
        .filter(|argument| !argument.starts_with('-'))
        .collect();
    for name in &selected {
        if !BACKENDS.contains(&name.as_str()) {
            eprintln!("unknown backend `{name}`; expected one of {BACKENDS:?}");
            std::process::exit(2);
        }
    }
    let wanted = |backend: &str| selected.is_empty() || selected.iter().any(|name| name == backend);

    // Two worker threads: the machine this was sized for has two cores, and
    // the memory mixed load is defined as two threads.
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("building the Tokio runtime");

    let started = Instant::now();
    let mut results = Results::default();
    if wanted("memory") {
        run_memory(&runtime, &mut results);
    }
    if wanted("sqlite") {
        run_sql!("sqlite", sql::connect_sqlite, &runtime, &mut results);
    }
    if wanted("postgres") {
        run_sql!("postgres", sql::connect_postgres, &runtime, &mut results);
    }
    if wanted("mysql") {
        run_sql!("mysql", sql::connect_mysql, &runtime, &mut results);
    }
    if wanted("mongodb") {
        run_mongodb(&runtime, &mut results);
    }

    print_results(&results, started.elapsed());
}

fn run_memory(runtime: &Runtime, results: &mut Results) {
    eprintln!("memory: seeding {MEMORY_SESSIONS} sessions");
    let stores = runtime.block_on(memory::Stores::seeded(MEMORY_SESSIONS));
    let mut bench = Bench::new(MEMORY_SETTINGS);
    runtime.block_on(memory::compare_operations(&mut bench, &stores));
    results.latency.extend(bench.rows);
    results
        .throughput
        .extend(memory::compare_throughput_two_threads(
            runtime,
            &stores,
            MEMORY_LOAD_DURATION,
            MEMORY_LOAD_ROUNDS,
        ));
    drop(stores);

    for size in MEMORY_SCALING_SIZES {
        eprintln!("memory: seeding {size} sessions for the scaling run");
        let stores = runtime.block_on(memory::Stores::seeded(size));
        let point = runtime.block_on(memory::scaling_point(
            &stores,
            MEMORY_SETTINGS,
            BASELINE_SCALING_SETTINGS,
        ));
        results.scaling.push(point);
    }
}

fn run_mongodb(runtime: &Runtime, results: &mut Results) {
    eprintln!("mongodb: seeding {DATABASE_SESSIONS} sessions");
    let setup = match runtime.block_on(mongo::Setup::connect(DATABASE_SESSIONS)) {
        Ok(setup) => setup,
        Err(reason) => return skip(results, "mongodb", reason),
    };
    let mut bench = Bench::new(DATABASE_SETTINGS);
    runtime.block_on(mongo::compare_operations(&mut bench, &setup));
    results.latency.extend(bench.rows);
    for (operation, commands) in runtime.block_on(setup.count_commands()) {
        results
            .round_trips
            .push(("mongodb".to_owned(), operation, commands));
    }
    results.throughput.push(mongo::compare_mixed_load(
        runtime,
        &setup,
        MONGODB_LOAD_READ_PERCENT,
        DATABASE_LOAD_TASKS,
        LOAD_DURATION,
        LOAD_ROUNDS,
    ));
    runtime.block_on(setup.drop());
}

fn skip(results: &mut Results, backend: &str, reason: String) {
    eprintln!("{backend}: skipped: {reason}");
    results.skipped.push((backend.to_owned(), reason));
}

fn print_results(results: &Results, elapsed: Duration) {
    println!("## Latency per operation (adapter vs hand-written)\n");
    println!("{}", report::latency_table(&results.latency));
    println!("## Mixed load throughput\n");
    println!("{}", report::throughput_table(&results.throughput));
    if !results.scaling.is_empty() {
        println!("## Memory backend scaling\n");
        println!("{}", report::scaling_table(&results.scaling));
    }
    if !results.round_trips.is_empty() {
        println!("## Commands sent per adapter call\n");
        println!("| backend | operation | commands |\n| --- | --- | ---: |");
        for (backend, operation, commands) in &results.round_trips {
            println!("| {backend} | {operation} | {commands} |");
        }
        println!();
    }
    for (backend, reason) in &results.skipped {
        println!("Skipped {backend}: {reason}");
    }
    println!("Total run time: {:.0} s", elapsed.as_secs_f64());
}
