//! SQLite, the embedded default (feature `sqlite`).
//!
//! The pool must keep sqlx's default `foreign_keys(true)` connection option:
//! SQLite checks foreign keys only when it is on, and
//! [`SqlAdapter::migrate`](crate::SqlAdapter::migrate) fails otherwise for
//! the layout with both tables. An in-memory database exists once per
//! connection, so a pool over `sqlite::memory:` needs `max_connections(1)`
//! and no idle timeout or maximum lifetime.

mod error;
mod migrate;
mod sql;

use tracing::Instrument;

/// The statements whose filter an index serves, by operation name, so
/// that their query plans can be checked on real data. Each takes one
/// parameter: an id, a provider id or a time in milliseconds,
/// or a JSON array of ids for `delete_sessions`.
pub const INDEXED_STATEMENTS: &[(&str, &str)] = &[
    ("get_user", sql::GET_USER),
    ("get_user_by_provider_id", sql::GET_USER_BY_PROVIDER_ID),
    ("get_session", sql::GET_SESSION),
    ("get_sessions_by_user_id", sql::GET_SESSIONS_BY_USER_ID),
    ("get_session_and_user", sql::GET_SESSION_AND_USER),
    (
        "delete_sessions_by_user_id",
        sql::DELETE_SESSIONS_BY_USER_ID,
    ),
    ("delete_expired_sessions", sql::DELETE_EXPIRED_SESSIONS),
    ("delete_sessions", sql::DELETE_SESSIONS),
];

/// The adapter over an SQLite pool.
pub type SqliteAdapter = crate::SqlAdapter<sqlx::Sqlite>;

impl_adapter!(sqlx::Sqlite);
