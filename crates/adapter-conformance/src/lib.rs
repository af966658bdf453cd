#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod case;
mod cases;
pub mod fault_load;
pub mod load;
mod macros;
pub mod report;
mod target;

pub use case::{
    CASE_TIMEOUT, Case, CaseError, CaseReport, CaseResult, Ctx, Needs, Outcome, in_ci, run_case,
    run_case_test,
};
pub use cases::all as cases;
pub use target::{Backend, PlantError, RawStore, Role, SetupError, Split, Target};

/// Re-exported for the [`conformance_tests!`] macro.
#[doc(hidden)]
pub use rstest;
