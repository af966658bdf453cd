//! A short mixed workload through `Storage`, checked against a model of
//! every write that succeeded.

use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::load::{LoadOptions, run_load};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[case!(
    load_mixed_workload_matches_model,
    Role::Both,
    Needs::Storage
)];

async fn load_mixed_workload_matches_model(ctx: Ctx) -> CaseResult {
    let report = run_load(ctx.storage(), &LoadOptions::default()).await;

    assert!(
        report.violations.is_empty(),
        "the store does not match the model: {:#?}",
        report.violations
    );
    assert_eq!(
        report.unexpected_errors(),
        0,
        "errors of an unexpected kind: {:?}",
        report.errors
    );
    assert!(
        report.total_operations() > 100,
        "the load ran only {} operations",
        report.total_operations()
    );
    Ok(())
}
