//! Classification of PostgreSQL errors by SQLSTATE and constraint name.
//! The schema names every constraint, so the names below are stable.

use sqlx::error::DatabaseError;

use crate::error::{Classifier, Violation};

// SQLSTATE codes, from https://www.postgresql.org/docs/current/errcodes-appendix.html.
const UNIQUE_VIOLATION: &str = "23505";
const FOREIGN_KEY_VIOLATION: &str = "23503";
const SERIALIZATION_FAILURE: &str = "40001";
const DEADLOCK_DETECTED: &str = "40P01";
const LOCK_NOT_AVAILABLE: &str = "55P03";
const TOO_MANY_CONNECTIONS: &str = "53300";
const ADMIN_SHUTDOWN: &str = "57P01";
const CRASH_SHUTDOWN: &str = "57P02";
const CANNOT_CONNECT_NOW: &str = "57P03";
/// Class 08: connection exceptions.
const CONNECTION_EXCEPTION_CLASS: &str = "08";

pub(super) const CLASSIFIER: Classifier = Classifier {
    backend: "postgres",
    violation,
    retryable,
};

fn violation(err: &dyn DatabaseError) -> Option<Violation> {
    let code = err.code()?;
    match (code.as_ref(), err.constraint()?) {
        (UNIQUE_VIOLATION, "users_pkey" | "sessions_pkey") => Some(Violation::PrimaryKey),
        (UNIQUE_VIOLATION, "users_provider_id_key") => Some(Violation::ProviderId),
        (FOREIGN_KEY_VIOLATION, "sessions_user_id_fkey") => Some(Violation::ForeignKey),
        _ => None,
    }
}

fn retryable(err: &dyn DatabaseError) -> bool {
    let Some(code) = err.code() else {
        return false;
    };
    matches!(
        code.as_ref(),
        SERIALIZATION_FAILURE
            | DEADLOCK_DETECTED
            | LOCK_NOT_AVAILABLE
            | TOO_MANY_CONNECTIONS
            | ADMIN_SHUTDOWN
            | CRASH_SHUTDOWN
            | CANNOT_CONNECT_NOW
    ) || code.starts_with(CONNECTION_EXCEPTION_CLASS)
}
