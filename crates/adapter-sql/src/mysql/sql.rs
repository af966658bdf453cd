//! MySQL and MariaDB statements.

use sqlx::mysql::MySqlRow;
use sqlx::{MySql, MySqlPool, QueryBuilder, Transaction};

pub(super) const GET_USER: &str =
    "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?";
pub(super) const GET_USER_BY_PROVIDER_ID: &str =
    "SELECT id, provider_id, hashed_password, attributes FROM users WHERE provider_id = ?";
pub(super) const INSERT_USER: &str =
    "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES (?, ?, ?, ?)";
pub(super) const USER_ID_EXISTS: &str = "SELECT 1 FROM users WHERE id = ?";
pub(super) const SELECT_USER_FOR_UPDATE: &str =
    "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ? FOR UPDATE";
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
const UPDATE_SESSION: &str = "UPDATE sessions SET expires = ?, idle_expires = ? WHERE id = ?";
pub(super) const DELETE_SESSIONS_BY_USER_ID: &str = "DELETE FROM sessions WHERE user_id = ?";
pub(super) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE idle_expires <= ?";
pub(super) const GET_SESSION_AND_USER: &str = "SELECT s.id, s.user_id, s.expires, s.idle_expires, \
            u.id, u.provider_id, u.hashed_password, u.attributes \
     FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?";

/// Ids per `DELETE` statement. Each id is up to 1,020 bytes, so a statement
/// stays near 1 MiB, well below the 16 MiB default `max_allowed_packet` of
/// MariaDB 10.11 (MySQL 8.0 allows 64 MiB).
const DELETE_BATCH: usize = 1000;

pub(super) async fn begin_write(
    pool: &MySqlPool,
) -> Result<Transaction<'static, MySql>, sqlx::Error> {
    pool.begin().await
}

/// Renews a session and reads it back in one transaction. Neither MySQL nor
/// MariaDB has `UPDATE ... RETURNING`; the row lock the update takes keeps
/// the read consistent with it.
pub(super) async fn update_session(
    pool: &MySqlPool,
    session_id: &str,
    expires: i64,
    idle_expires: i64,
) -> Result<Option<MySqlRow>, sqlx::Error> {
    let mut tx = pool.begin().await?;
    sqlx::query(UPDATE_SESSION)
        .bind(expires)
        .bind(idle_expires)
        .bind(session_id)
        .execute(&mut *tx)
        .await?;
    let row = sqlx::query(GET_SESSION)
        .bind(session_id)
        .fetch_optional(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(row)
}

/// Deletes sessions with one `IN (...)` statement per [`DELETE_BATCH`] ids.
/// MySQL has no array parameter, and a `JSON_TABLE` subquery would keep a
/// single-table `DELETE` from using the primary key.
pub(super) async fn delete_sessions(
    pool: &MySqlPool,
    session_ids: &[String],
) -> Result<(), sqlx::Error> {
    for batch in session_ids.chunks(DELETE_BATCH) {
        let mut query = QueryBuilder::<MySql>::new("DELETE FROM sessions WHERE id IN (");
        let mut ids = query.separated(", ");
        for id in batch {
            ids.push_bind(id);
        }
        query.push(")");
        query.build().execute(pool).await?;
    }
    Ok(())
}
