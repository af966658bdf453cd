//! MySQL and MariaDB (feature `mysql`).
//!
//! Tables use the connection's current database. Text columns use a
//! binary, NO PAD collation (`utf8mb4_0900_bin` on MySQL 8.0.17 and later,
//! `utf8mb4_nopad_bin` on MariaDB 10.2 and later), so id and provider id
//! matching is exact: case and trailing spaces count.

mod error;
mod migrate;
mod sql;

use tracing::Instrument;

/// The statements whose filter an index serves, by operation name, so
/// that their query plans can be checked on real data. Each takes one
/// parameter: an id, a provider id or a time in milliseconds.
/// `delete_sessions` is missing: it builds its statement for the number
/// of ids, as `DELETE FROM sessions WHERE id IN (?, ...)`.
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
];

/// The adapter over a MySQL or MariaDB pool.
pub type MySqlAdapter = crate::SqlAdapter<sqlx::MySql>;

impl_adapter!(sqlx::MySql);
