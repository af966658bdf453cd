//! SQLite schema.

use adapter_api::Result;
use sqlx::Sqlite;

use crate::migrate::Schema;
use crate::{Sides, SqlAdapter};

// `attributes` is TEXT because a column declared JSON gets NUMERIC affinity
// in SQLite, which would turn some JSON texts into numbers.
const USERS: &str = "CREATE TABLE IF NOT EXISTS users (
    id TEXT NOT NULL PRIMARY KEY,
    provider_id TEXT NOT NULL CONSTRAINT users_provider_id_key UNIQUE,
    hashed_password TEXT,
    attributes TEXT NOT NULL CONSTRAINT users_attributes_json CHECK (json_valid(attributes))
)";

const SESSIONS_WITH_USERS: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL CONSTRAINT sessions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL
)";

const SESSIONS_ALONE: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id TEXT NOT NULL PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL
)";

const SESSION_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON sessions (user_id)",
    "CREATE INDEX IF NOT EXISTS sessions_idle_expires_idx ON sessions (idle_expires)",
];

const SCHEMA: Schema<'static> = Schema {
    users: USERS,
    sessions_with_users: SESSIONS_WITH_USERS,
    sessions_alone: SESSIONS_ALONE,
    session_indexes: SESSION_INDEXES,
};

impl SqlAdapter<Sqlite> {
    /// Creates the tables and indexes of this adapter's [`Sides`] where they
    /// do not exist, in one transaction. Safe to call on every start.
    ///
    /// # Errors
    /// [`Error::Backend`](adapter_api::Error::Backend) when a statement fails, or when the layout has
    /// both tables and the connection has foreign keys off, because then
    /// SQLite would accept sessions of missing users and keep sessions of
    /// deleted ones.
    pub async fn migrate(&self) -> Result<()> {
        let fail = |err| super::error::CLASSIFIER.backend(self.error_hook.as_ref(), "migrate", err);
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .map_err(fail)?;
        if self.sides == Sides::Both {
            let (enabled,): (i64,) = sqlx::query_as("PRAGMA foreign_keys")
                .fetch_one(&mut *tx)
                .await
                .map_err(fail)?;
            if enabled != 1 {
                return Err(fail(sqlx::Error::Configuration(
                    "foreign keys are off on this SQLite connection; keep the connect option \
                     foreign_keys(true) so that sessions follow their users"
                        .into(),
                )));
            }
        }
        for statement in SCHEMA.statements(self.sides) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }
}
