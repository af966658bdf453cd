//! Markdown tables of a run's results.

use std::fmt::Write;

use crate::measure::{Comparison, ThroughputComparison, format_duration};
use crate::memory::ScalingPoint;

/// Largest adapter / raw median ratio that meets the target for database
/// backends.
pub const RATIO_TARGET: f64 = 1.05;

/// The latency table: one row per backend and operation.
pub fn latency_table(rows: &[Comparison]) -> String {
    let mut out = String::new();
    out.push_str("| backend | operation | adapter median | raw median | adapter / raw | adapter p25–p75 | raw p25–p75 |\n");
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: | ---: |\n");
    for row in rows {
        let ratio = row.ratio();
        let flag = if row.backend != "memory" && ratio > RATIO_TARGET {
            " ✗"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.3}{} | {}–{} | {}–{} |",
            row.backend,
            row.operation,
            format_duration(row.adapter.median_ns),
            format_duration(row.raw.median_ns),
            ratio,
            flag,
            format_duration(row.adapter.p25_ns),
            format_duration(row.adapter.p75_ns),
            format_duration(row.raw.p25_ns),
            format_duration(row.raw.p75_ns),
        );
    }
    out
}

/// The throughput table: one row per backend.
pub fn throughput_table(rows: &[ThroughputComparison]) -> String {
    let mut out = String::new();
    out.push_str(
        "| backend | load | adapter ops/s | raw ops/s | adapter / raw | ratio p25–p75 |\n",
    );
    out.push_str("| --- | --- | ---: | ---: | ---: | ---: |\n");
    for row in rows {
        let _ = writeln!(
            out,
            "| {} | {} | {:.0} | {:.0} | {:.2} | {:.2}–{:.2} |",
            row.backend,
            row.load,
            row.adapter_ops,
            row.raw_ops,
            row.ratio(),
            row.ratios.p25,
            row.ratios.p75
        );
    }
    out
}

/// The memory scaling table: each operation at the smallest and the
/// largest size, and how much slower the larger one is.
pub fn scaling_table(points: &[ScalingPoint]) -> String {
    let mut out = String::new();
    let (Some(small), Some(large)) = (points.first(), points.last()) else {
        return out;
    };
    let _ = writeln!(
        out,
        "| operation | adapter at {} | adapter at {} | growth | baseline at {} | baseline at {} | growth |",
        small.sessions, large.sessions, small.sessions, large.sessions
    );
    out.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for ((operation, adapter_small, baseline_small), (_, adapter_large, baseline_large)) in
        small.times.iter().zip(&large.times)
    {
        let _ = writeln!(
            out,
            "| {} | {} | {} | {:.2}× | {} | {} | {:.0}× |",
            operation,
            format_duration(adapter_small.median_ns),
            format_duration(adapter_large.median_ns),
            adapter_large.median_ns / adapter_small.median_ns,
            format_duration(baseline_small.median_ns),
            format_duration(baseline_large.median_ns),
            baseline_large.median_ns / baseline_small.median_ns,
        );
    }
    out
}
