//! Classification of SQLite errors by extended result code.
//!
//! SQLite names neither the constraint nor the table in its error codes,
//! but it reports a primary key apart from other unique keys. `users` has
//! one other unique key (`provider_id`) and `sessions` none, so the code and
//! the statement that failed identify the constraint.

use sqlx::error::DatabaseError;

use crate::error::{Classifier, Violation};

// Extended result codes, from https://www.sqlite.org/rescode.html.
const SQLITE_BUSY: i32 = 5;
const SQLITE_LOCKED: i32 = 6;
const SQLITE_CONSTRAINT_FOREIGNKEY: i32 = 787;
const SQLITE_CONSTRAINT_PRIMARYKEY: i32 = 1555;
const SQLITE_CONSTRAINT_UNIQUE: i32 = 2067;

pub(super) const CLASSIFIER: Classifier = Classifier {
    backend: "sqlite",
    violation,
    retryable,
};

fn extended_code(err: &dyn DatabaseError) -> Option<i32> {
    err.code()?.parse().ok()
}

fn violation(err: &dyn DatabaseError) -> Option<Violation> {
    match extended_code(err)? {
        SQLITE_CONSTRAINT_PRIMARYKEY => Some(Violation::PrimaryKey),
        SQLITE_CONSTRAINT_UNIQUE => Some(Violation::ProviderId),
        SQLITE_CONSTRAINT_FOREIGNKEY => Some(Violation::ForeignKey),
        _ => None,
    }
}

fn retryable(err: &dyn DatabaseError) -> bool {
    // The low byte of an extended code is its primary code: every
    // SQLITE_BUSY_* and SQLITE_LOCKED_* means another connection holds a
    // lock that it will release.
    matches!(
        extended_code(err).map(|code| code & 0xff),
        Some(SQLITE_BUSY | SQLITE_LOCKED)
    )
}
