//! Paired measurement of an adapter operation and its hand-written twin.
//!
//! Both sides run in the same process against the same data, in
//! alternating batches (adapter first in even rounds, raw first in odd
//! ones), so drift in machine load or database state reaches both sides
//! alike. A sample is the mean time per operation over one batch; each side
//! is summarised by the median of its samples.

use std::ops::Range;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use tokio::runtime::Runtime;

/// How many samples to take and how long each one runs.
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    /// Samples per side, after the calibration batches.
    pub rounds: usize,
    /// Wall time a sample should take. Each side's batch size is picked
    /// during warm-up so that one batch takes about this long.
    pub sample_time: Duration,
    /// Maximum operations per sample, which bounds the records that a run of
    /// an operation that creates records adds.
    pub max_batch: usize,
}

/// The median and quartiles of one side's samples, in nanoseconds per
/// operation.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    /// Median time per operation.
    pub median_ns: f64,
    /// First quartile.
    pub p25_ns: f64,
    /// Third quartile.
    pub p75_ns: f64,
}

impl Summary {
    /// Summarises samples given in nanoseconds per operation.
    pub fn of(samples: &mut [f64]) -> Summary {
        samples.sort_by(f64::total_cmp);
        Summary {
            median_ns: quantile(samples, 0.5),
            p25_ns: quantile(samples, 0.25),
            p75_ns: quantile(samples, 0.75),
        }
    }
}

/// Linear-interpolated quantile of sorted samples.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let position = q * (sorted.len() - 1) as f64;
    let low = position.floor() as usize;
    let high = position.ceil() as usize;
    let weight = position - low as f64;
    sorted[low] * (1.0 - weight) + sorted[high] * weight
}

/// The implementation a batch runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The adapter under test.
    Adapter,
    /// The hand-written twin or baseline.
    Raw,
}

/// One operation of one backend, measured through the adapter and through
/// the hand-written twin.
#[derive(Debug, Clone)]
pub struct Comparison {
    /// Backend name, such as `postgres`.
    pub backend: String,
    /// Operation name, such as `get_session`.
    pub operation: String,
    /// Time per operation through the adapter.
    pub adapter: Summary,
    /// Time per operation through the hand-written twin.
    pub raw: Summary,
}

impl Comparison {
    /// Adapter median over raw median.
    pub fn ratio(&self) -> f64 {
        self.adapter.median_ns / self.raw.median_ns
    }
}

/// Runs paired comparisons and collects their results.
///
/// Every call of an operation gets an index that no other call of the run
/// gets, so operations that create records can derive fresh ids from it.
pub struct Bench {
    settings: Settings,
    next_index: u64,
    /// Results in the order they were measured.
    pub rows: Vec<Comparison>,
}

/// First index handed to an operation. Fixtures use the indices below it,
/// so ids derived from a call index never collide with seeded records.
pub const FIRST_CALL_INDEX: u64 = 1_000_000_000;

impl Bench {
    /// Starts a run with these settings.
    pub fn new(settings: Settings) -> Bench {
        Bench {
            settings,
            next_index: FIRST_CALL_INDEX,
            rows: Vec::new(),
        }
    }

    /// Returns the settings of this run.
    pub fn settings(&self) -> Settings {
        self.settings
    }

    /// Measures `adapter` against `raw`. Before each batch, `setup` gets the
    /// range of call indices that batch will use and the side that will
    /// run it, and prepares their records outside the timed section.
    pub async fn compare(
        &mut self,
        backend: &str,
        operation: &str,
        mut setup: impl AsyncFnMut(Range<u64>, Side),
        mut adapter: impl AsyncFnMut(u64),
        mut raw: impl AsyncFnMut(u64),
    ) {
        let rounds = self.settings.rounds;
        // Calibration doubles as warm-up: it fills connection pools and
        // prepared-statement caches on both sides.
        let adapter_batch = self
            .calibrate(Side::Adapter, &mut setup, &mut adapter)
            .await;
        let raw_batch = self.calibrate(Side::Raw, &mut setup, &mut raw).await;
        let mut adapter_samples = Vec::with_capacity(rounds);
        let mut raw_samples = Vec::with_capacity(rounds);

        for round in 0..rounds {
            for side in 0..2 {
                if (round + side) % 2 == 0 {
                    adapter_samples.push(
                        self.sample(Side::Adapter, adapter_batch, &mut setup, &mut adapter)
                            .await,
                    );
                } else {
                    raw_samples.push(
                        self.sample(Side::Raw, raw_batch, &mut setup, &mut raw)
                            .await,
                    );
                }
            }
        }

        let row = Comparison {
            backend: backend.to_owned(),
            operation: operation.to_owned(),
            adapter: Summary::of(&mut adapter_samples),
            raw: Summary::of(&mut raw_samples),
        };
        eprintln!(
            "{backend:>9} {operation:<28} adapter {:>10} raw {:>10} ratio {:.3} (batches {adapter_batch}/{raw_batch})",
            format_duration(row.adapter.median_ns),
            format_duration(row.raw.median_ns),
            row.ratio()
        );
        self.rows.push(row);
    }

    /// Times one operation alone, with the same calibration and samples as
    /// [`compare`](Self::compare). Used for scaling runs, where both sizes
    /// are measured with the same code.
    pub async fn time(
        &mut self,
        mut setup: impl AsyncFnMut(Range<u64>, Side),
        mut operation: impl AsyncFnMut(u64),
    ) -> Summary {
        let batch = self
            .calibrate(Side::Adapter, &mut setup, &mut operation)
            .await;
        let mut samples = Vec::with_capacity(self.settings.rounds);
        for _ in 0..self.settings.rounds {
            samples.push(
                self.sample(Side::Adapter, batch, &mut setup, &mut operation)
                    .await,
            );
        }
        Summary::of(&mut samples)
    }

    /// Returns the batch size whose run takes about `sample_time`, growing
    /// from one operation.
    async fn calibrate(
        &mut self,
        side: Side,
        setup: &mut impl AsyncFnMut(Range<u64>, Side),
        operation: &mut impl AsyncFnMut(u64),
    ) -> usize {
        let Settings {
            sample_time,
            max_batch,
            ..
        } = self.settings;
        let mut batch = 1;
        loop {
            let per_operation = self.sample(side, batch, setup, operation).await;
            let elapsed = per_operation * batch as f64;
            if elapsed >= sample_time.as_nanos() as f64 || batch >= max_batch {
                return batch;
            }
            let wanted = (sample_time.as_nanos() as f64 / per_operation.max(1.0)).ceil() as usize;
            // Grow at most tenfold per step, so one slow outlier in a tiny
            // batch does not decide the size.
            batch = wanted.clamp(batch + 1, batch * 10).min(max_batch);
        }
    }

    /// Runs one batch and returns nanoseconds per operation.
    async fn sample(
        &mut self,
        side: Side,
        batch: usize,
        setup: &mut impl AsyncFnMut(Range<u64>, Side),
        operation: &mut impl AsyncFnMut(u64),
    ) -> f64 {
        let range = self.take_indices(batch);
        setup(range.clone(), side).await;
        let started = Instant::now();
        for index in range {
            operation(index).await;
        }
        started.elapsed().as_nanos() as f64 / batch as f64
    }

    fn take_indices(&mut self, count: usize) -> Range<u64> {
        let start = self.next_index;
        self.next_index += count as u64;
        start..self.next_index
    }
}

/// Formats nanoseconds per operation with a unit that keeps three
/// significant digits.
pub fn format_duration(nanos: f64) -> String {
    if nanos < 1_000.0 {
        format!("{nanos:.0} ns")
    } else if nanos < 1_000_000.0 {
        format!("{:.2} µs", nanos / 1_000.0)
    } else {
        format!("{:.2} ms", nanos / 1_000_000.0)
    }
}

/// The session operations of the mixed throughput load, implemented once
/// over an adapter and once by hand per backend.
#[async_trait]
pub trait SessionLoad: Send + Sync + 'static {
    /// Reads a session by id, as a request that carries a session cookie
    /// does.
    async fn read(&self, session_id: &str);
    /// Renews a session, as a request in its idle period does.
    async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64);
}

/// A mixed session load: `tasks` concurrent tasks, each repeatedly picking
/// a random session of `session_ids` and reading it (`read_percent` of the
/// calls) or renewing it (the rest), for `duration`.
#[derive(Clone)]
pub struct MixedLoad {
    /// Concurrent tasks.
    pub tasks: usize,
    /// Percentage of calls that are reads; the rest are renewals.
    pub read_percent: u64,
    /// How long each measurement runs.
    pub duration: Duration,
    /// Ids of stored sessions to pick from.
    pub session_ids: Arc<Vec<String>>,
    /// `expires` of renewed sessions; `idle_expires` is one day later.
    pub renew_expires: i64,
}

/// Throughput of the mixed load through the adapter and through the
/// hand-written twin.
#[derive(Debug, Clone)]
pub struct ThroughputComparison {
    /// Backend name.
    pub backend: String,
    /// Description of the load, in words.
    pub load: String,
    /// Median operations per second through the adapter.
    pub adapter_ops: f64,
    /// Median operations per second through the twin.
    pub raw_ops: f64,
    /// Adapter throughput over twin throughput in each round, whose two
    /// runs follow each other. Above 1 means the adapter served more
    /// operations per second.
    pub ratios: RatioSummary,
}

/// The median and quartiles of per-round ratios.
#[derive(Debug, Clone, Copy)]
pub struct RatioSummary {
    /// Median ratio.
    pub median: f64,
    /// First quartile.
    pub p25: f64,
    /// Third quartile.
    pub p75: f64,
}

impl ThroughputComparison {
    /// Median over rounds of adapter throughput over twin throughput.
    pub fn ratio(&self) -> f64 {
        self.ratios.median
    }
}

/// Runs the load `rounds` times per side, alternating which side goes
/// first, and returns the median operations per second of each and the
/// ratio of each round. A round's two runs are adjacent in time, so a burst
/// of other work on the machine skews one ratio, not the median.
pub fn compare_throughput(
    runtime: &Runtime,
    backend: &str,
    load: &MixedLoad,
    adapter: Arc<dyn SessionLoad>,
    raw: Arc<dyn SessionLoad>,
    rounds: usize,
) -> ThroughputComparison {
    let mut adapter_samples = Vec::with_capacity(rounds);
    let mut raw_samples = Vec::with_capacity(rounds);
    for round in 0..rounds {
        for side in 0..2 {
            let adapter_turn = (round + side) % 2 == 0;
            let target = if adapter_turn {
                adapter.clone()
            } else {
                raw.clone()
            };
            let ops = run_mixed(runtime, load, target);
            if adapter_turn {
                adapter_samples.push(ops);
            } else {
                raw_samples.push(ops);
            }
        }
    }
    let mut ratios: Vec<f64> = adapter_samples
        .iter()
        .zip(&raw_samples)
        .map(|(adapter, raw)| adapter / raw)
        .collect();
    adapter_samples.sort_by(f64::total_cmp);
    raw_samples.sort_by(f64::total_cmp);
    let row = ThroughputComparison {
        backend: backend.to_owned(),
        load: if load.read_percent >= 100 {
            format!("{} tasks, get_session only", load.tasks)
        } else {
            format!(
                "{} tasks, {}% get_session / {}% update_session",
                load.tasks,
                load.read_percent,
                100 - load.read_percent
            )
        },
        adapter_ops: quantile(&adapter_samples, 0.5),
        raw_ops: quantile(&raw_samples, 0.5),
        ratios: {
            let summary = Summary::of(&mut ratios);
            RatioSummary {
                median: summary.median_ns,
                p25: summary.p25_ns,
                p75: summary.p75_ns,
            }
        },
    };
    eprintln!(
        "{backend:>9} mixed load ({})  adapter {:.0} ops/s raw {:.0} ops/s ratio {:.2}",
        row.load,
        row.adapter_ops,
        row.raw_ops,
        row.ratio()
    );
    row
}

/// Runs the mixed load once on `runtime` and returns operations per second.
pub fn run_mixed(runtime: &Runtime, load: &MixedLoad, target: Arc<dyn SessionLoad>) -> f64 {
    let stop = Arc::new(AtomicBool::new(false));
    let done = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let handles: Vec<_> = (0..load.tasks)
        .map(|task| {
            let target = target.clone();
            let stop = stop.clone();
            let done = done.clone();
            let ids = load.session_ids.clone();
            let read_percent = load.read_percent;
            let expires = load.renew_expires;
            runtime.spawn(async move {
                let mut random = SplitMix64(0x5eed_0000 + task as u64);
                let mut count = 0_u64;
                while !stop.load(Ordering::Relaxed) {
                    let pick = random.next_u64();
                    let id = &ids[(pick % ids.len() as u64) as usize];
                    if (pick >> 32) % 100 < read_percent {
                        target.read(id).await;
                    } else {
                        let expires = expires + (count % 1000) as i64;
                        target.renew(id, expires, expires + 86_400_000).await;
                    }
                    count += 1;
                }
                done.fetch_add(count, Ordering::Relaxed);
            })
        })
        .collect();
    std::thread::sleep(load.duration);
    stop.store(true, Ordering::Relaxed);
    runtime.block_on(async {
        for handle in handles {
            handle.await.expect("a load task panicked");
        }
    });
    done.load(Ordering::Relaxed) as f64 / started.elapsed().as_secs_f64()
}

/// A small, fast pseudo-random generator (SplitMix64), so that both sides
/// of a throughput comparison spend the same few nanoseconds picking ids.
pub struct SplitMix64(pub u64);

impl SplitMix64 {
    /// Returns the next value.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}
