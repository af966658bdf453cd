//! PostgreSQL statements.
//!
//! `attributes` is a `json` column, which keeps the text as written (unlike
//! `jsonb`, which turns `1e16` into `10000000000000000` and so a float into
//! an integer). Parameters arrive as `text` and are cast to `json`, and
//! reads cast back to `text` so that serde_json parses the stored text.

use sqlx::postgres::PgRow;
use sqlx::{PgPool, Postgres, Transaction};

pub(super) const GET_USER: &str =
    "SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE id = $1";
pub(super) const GET_USER_BY_PROVIDER_ID: &str =
    "SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE provider_id = $1";
pub(super) const INSERT_USER: &str = "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES ($1, $2, $3, $4::json)";
pub(super) const USER_ID_EXISTS: &str = "SELECT 1 FROM users WHERE id = $1";
pub(super) const SELECT_USER_FOR_UPDATE: &str =
    "SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE id = $1 FOR UPDATE";
/// Cast after the bound attributes text in an `UPDATE`, because the column
/// is `json`.
pub(super) const ATTRIBUTES_CAST: &str = "::json";
pub(super) const DELETE_USER: &str = "DELETE FROM users WHERE id = $1";

pub(super) const GET_SESSION: &str =
    "SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = $1";
pub(super) const GET_SESSIONS_BY_USER_ID: &str =
    "SELECT id, user_id, expires, idle_expires FROM sessions WHERE user_id = $1";
pub(super) const INSERT_SESSION: &str =
    "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES ($1, $2, $3, $4)";
const UPDATE_SESSION: &str = "UPDATE sessions SET expires = $1, idle_expires = $2 WHERE id = $3 \
     RETURNING id, user_id, expires, idle_expires";
pub(super) const DELETE_SESSIONS: &str = "DELETE FROM sessions WHERE id = ANY($1)";
pub(super) const DELETE_SESSIONS_BY_USER_ID: &str = "DELETE FROM sessions WHERE user_id = $1";
pub(super) const DELETE_EXPIRED_SESSIONS: &str = "DELETE FROM sessions WHERE idle_expires <= $1";
pub(super) const GET_SESSION_AND_USER: &str = "SELECT s.id, s.user_id, s.expires, s.idle_expires, \
            u.id, u.provider_id, u.hashed_password, u.attributes::text \
     FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = $1";

pub(super) async fn begin_write(
    pool: &PgPool,
) -> Result<Transaction<'static, Postgres>, sqlx::Error> {
    pool.begin().await
}

pub(super) async fn update_session(
    pool: &PgPool,
    session_id: &str,
    expires: i64,
    idle_expires: i64,
) -> Result<Option<PgRow>, sqlx::Error> {
    sqlx::query(UPDATE_SESSION)
        .bind(expires)
        .bind(idle_expires)
        .bind(session_id)
        .fetch_optional(pool)
        .await
}

pub(super) async fn delete_sessions(
    pool: &PgPool,
    session_ids: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query(DELETE_SESSIONS)
        .bind(session_ids)
        .execute(pool)
        .await?;
    Ok(())
}
