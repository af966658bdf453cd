//! PostgreSQL (feature `postgres`).
//!
//! The adapter uses unqualified table names, so the tables live in the first
//! schema of the connections' `search_path`.

mod error;
mod migrate;
mod sql;

use tracing::Instrument;

/// The statements whose filter an index serves, by operation name, so
/// that their query plans can be checked on real data. Each takes one
/// parameter: an id, a provider id or a time in milliseconds,
/// or an array of ids for `delete_sessions`.
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

/// The adapter over a PostgreSQL pool.
pub type PgAdapter = crate::SqlAdapter<sqlx::Postgres>;

impl_adapter!(sqlx::Postgres);
