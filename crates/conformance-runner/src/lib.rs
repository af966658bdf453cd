//! Backends for the conformance suite and the runner's report.

pub mod backends;
