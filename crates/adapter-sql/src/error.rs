//! The part of error conversion that all databases share. Each database
//! module's `error.rs` classifies its own error codes, and this module
//! turns the result into the contract's [`Error`].

use adapter_api::{BackendError, Error, ErrorHook, apply_hook};
use sqlx::error::DatabaseError;

/// A constraint violation of the adapter's schema. The statement that
/// failed identifies the table, so the adapter maps a violation to a known
/// error of the contract by the operation it ran.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Violation {
    /// The primary key (`id`) of the table written.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    PrimaryKey,
    /// The unique key on `users.provider_id`.
    #[cfg_attr(not(any(feature = "sqlite", feature = "postgres")), allow(dead_code))]
    ProviderId,
    /// A unique key the error does not name: MySQL reports only the error
    /// number. The adapter resolves it from what the table can collide on.
    #[cfg_attr(not(feature = "mysql"), allow(dead_code))]
    UnnamedUnique,
    /// The foreign key from `sessions.user_id` to `users.id`.
    ForeignKey,
}

/// Classification rules for the errors of one database.
pub(crate) struct Classifier {
    /// Short backend name for [`BackendError::backend`].
    pub backend: &'static str,
    /// Maps a constraint violation of the adapter's tables to a
    /// [`Violation`] by constraint name or error code. Returns `None` for
    /// any other error.
    pub violation: fn(&dyn DatabaseError) -> Option<Violation>,
    /// Returns whether a database error is transient: a serialization
    /// failure, a deadlock, a busy database or a server shutting down.
    pub retryable: fn(&dyn DatabaseError) -> bool,
}

impl Classifier {
    /// Returns the violation an error reports, if any.
    pub(crate) fn violation(&self, err: &sqlx::Error) -> Option<Violation> {
        err.as_database_error().and_then(|db| (self.violation)(db))
    }

    /// Wraps an error that matches no known situation and passes it
    /// through the hook.
    pub(crate) fn backend(
        &self,
        hook: Option<&ErrorHook>,
        operation: &'static str,
        err: sqlx::Error,
    ) -> Error {
        let retryable = self.is_retryable(&err);
        tracing::debug!(backend = self.backend, operation, retryable, error = %err, "database error");
        apply_hook(
            hook,
            BackendError::new(self.backend, operation, retryable, err),
        )
    }

    fn is_retryable(&self, err: &sqlx::Error) -> bool {
        match err {
            // The pool found no free connection in time, or the connection
            // broke: a later attempt gets a fresh connection.
            sqlx::Error::PoolTimedOut | sqlx::Error::Io(_) | sqlx::Error::WorkerCrashed => true,
            sqlx::Error::Database(db) => (self.retryable)(db.as_ref()),
            _ => false,
        }
    }
}
