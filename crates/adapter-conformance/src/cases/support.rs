//! Assertions and fixtures shared by the cases.

use adapter_api::{Error, NewUser, User};
use serde_json::Value;

use crate::case::{CaseError, CaseResult, Ctx};
use crate::target::PlantError;

/// Builds a user with this id and provider id, no password and no attributes.
pub(crate) fn user(id: &str, provider_id: &str) -> User {
    NewUser::new(provider_id).into_user(id.to_owned())
}

/// Asserts that `result` is [`Error::InvalidInput`] naming `field`.
#[track_caller]
pub(crate) fn assert_invalid_input<T: std::fmt::Debug>(
    result: adapter_api::Result<T>,
    field: &str,
) {
    match result {
        Err(Error::InvalidInput { field: actual, .. }) => {
            assert_eq!(actual, field, "InvalidInput names the wrong field")
        }
        other => panic!("expected InvalidInput for {field}, got {other:?}"),
    }
}

/// Builds a string of `count` characters cycling through several scripts,
/// combining marks and characters outside the Basic Multilingual Plane.
pub(crate) fn mixed_script(count: usize) -> String {
    const PIECES: [char; 8] = ['a', 'é', 'ж', '漢', 'ع', '\u{0301}', '😀', 'Z'];
    (0..count).map(|i| PIECES[i % PIECES.len()]).collect()
}

/// Turns the outcome of planting into a case result: an unsupported shape
/// skips the case, a failed write fails it.
fn planted(result: Result<(), PlantError>) -> CaseResult {
    match result {
        Ok(()) => Ok(()),
        Err(PlantError::Unsupported(reason)) => Err(CaseError::Skip(reason)),
        Err(PlantError::Failed(err)) => Err(CaseError::Fail(format!("planting failed: {err}"))),
    }
}

/// Plants a raw user record behind the adapter.
pub(crate) async fn plant_user(ctx: &Ctx, record: Value) -> CaseResult {
    planted(ctx.raw_users()?.plant_user(record).await)
}

/// Plants a raw session record behind the adapter.
pub(crate) async fn plant_session(ctx: &Ctx, record: Value) -> CaseResult {
    planted(ctx.raw_sessions()?.plant_session(record).await)
}

/// Asserts that `result` is [`Error::CorruptRecord`] naming `record_id`, one
/// of `fields`, and a collection or table.
#[track_caller]
pub(crate) fn assert_corrupt<T: std::fmt::Debug>(
    result: adapter_api::Result<T>,
    record_id: &str,
    fields: &[&str],
) {
    match result {
        Err(Error::CorruptRecord {
            record_id: actual_id,
            field,
            collection,
            ..
        }) => {
            assert!(
                actual_id.contains(record_id),
                "record id {actual_id:?} does not name {record_id:?}"
            );
            assert!(
                fields.contains(&field.as_str()),
                "field {field:?} is not one of {fields:?}"
            );
            assert!(
                !collection.is_empty(),
                "the error must name the collection or table"
            );
        }
        other => panic!("expected CorruptRecord for {record_id}, got {other:?}"),
    }
}
