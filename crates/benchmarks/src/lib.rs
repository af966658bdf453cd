//! Benchmarks of every backend against hand-written code on the same driver
//! and the same data. The `adapters` bench target runs them; see
//! `docs/BENCHMARKS.md` at the repository root for the results and how to
//! rerun them.

pub mod baseline;
pub mod fixtures;
pub mod loads;
pub mod measure;
pub mod memory;
pub mod mongo;
pub mod report;
pub mod sql;
pub mod twin;
