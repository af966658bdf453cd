//! SQLite statements.

use sqlx::sqlite::SqliteRow;
use sqlx::{Sqlite, SqlitePool, Transaction};

pub(super) const GET_USER: &str =
    "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?";
pub(super) const GET_USER_BY_PROVIDER_ID: &str =
    "SELECT id, provider_id, hashed_password, attributes FROM users WHERE provider_id = ?";
pub(super) const INSERT_USER: &str =
    "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES (?, ?, ?, ?)";
pub(super) const USER_ID_EXISTS: &str = "SELECT 1 FROM users WHERE id = ?";
// SQLite has no row locks: `begin_write` takes the database write lock.
pub(super) const SELECT_USER_FOR_UPDATE: &str = GET_USER;
/// Cast after the bound attributes text in an `UPDATE`, empty because the
/// column is text.
pub(super) const ATTRIBUTES_CAST: &str = "";
pub(super) const DELETE_USER: &str = "DELETE FROM users WHERE id = ?";

pub(super) const GET_SESSION: &str =
    "SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = ?";
pub(super) const GET_SESSIONS_BY_USER_ID: &str =
    "SELECT id, user_id, expires, idle_expires FROM sessions WHERE user_id = ?";
pub(super) const INSERT_SESSION: &str =
    "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES (?, ?, ?, ?)";
const UPDATE_SESSION: &str = "UPDATE sessions SET expires = ?, idle_expires = ? WHERE id = ? \
     RETURNING id, user_id, expires, idle_expires";
// The ids arrive as one JSON array, so any number of them is one statement
// with one bound parameter, below SQLite's limit on parameters.
pub(super) const DELETE_SESSIONS: &str =
    "DELETE FROM sessions WHERE id IN (SELECT value FROM json_each(?))";
pub(super) const DELETE_SESSIONS_BY_USER_ID: &str = "DELETE FROM sessions WHERE user_id = ?";
pub(super) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE idle_expires <= ?";
pub(super) const GET_SESSION_AND_USER: &str = "SELECT s.id, s.user_id, s.expires, s.idle_expires, \
            u.id, u.provider_id, u.hashed_password, u.attributes \
     FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?";

/// Starts a transaction that holds the write lock from its first statement.
/// A deferred transaction that reads and then writes fails with
/// `SQLITE_BUSY` when another connection wrote in between.
pub(super) async fn begin_write(
    pool: &SqlitePool,
) -> Result<Transaction<'static, Sqlite>, sqlx::Error> {
    pool.begin_with("BEGIN IMMEDIATE").await
}

pub(super) async fn update_session(
    pool: &SqlitePool,
    session_id: &str,
    expires: i64,
    idle_expires: i64,
) -> Result<Option<SqliteRow>, sqlx::Error> {
    sqlx::query(UPDATE_SESSION)
        .bind(expires)
        .bind(idle_expires)
        .bind(session_id)
        .fetch_optional(pool)
        .await
}

pub(super) async fn delete_sessions(
    pool: &SqlitePool,
    session_ids: &[String],
) -> Result<(), sqlx::Error> {
    let ids = serde_json::to_string(session_ids).map_err(|err| sqlx::Error::Encode(err.into()))?;
    sqlx::query(DELETE_SESSIONS).bind(ids).execute(pool).await?;
    Ok(())
}
