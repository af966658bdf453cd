//! PostgreSQL schema.

use adapter_api::Result;
use sqlx::Postgres;

use crate::SqlAdapter;
use crate::migrate::Schema;

const USERS: &str = "CREATE TABLE IF NOT EXISTS users (
    id TEXT NOT NULL CONSTRAINT users_pkey PRIMARY KEY,
    provider_id TEXT NOT NULL CONSTRAINT users_provider_id_key UNIQUE,
    hashed_password TEXT,
    attributes JSON NOT NULL
)";

const SESSIONS_WITH_USERS: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id TEXT NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    user_id TEXT NOT NULL CONSTRAINT sessions_user_id_fkey REFERENCES users (id) ON DELETE CASCADE,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL
)";

const SESSIONS_ALONE: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id TEXT NOT NULL CONSTRAINT sessions_pkey PRIMARY KEY,
    user_id TEXT NOT NULL,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL
)";

const SESSION_INDEXES: &[&str] = &[
    "CREATE INDEX IF NOT EXISTS sessions_user_id_idx ON sessions (user_id)",
    "CREATE INDEX IF NOT EXISTS sessions_idle_expires_idx ON sessions (idle_expires)",
];

/// Key of the transaction-level advisory lock that serializes migrations,
/// because two concurrent `CREATE TABLE IF NOT EXISTS` of one table can
/// both pass the check and one then fails on the catalog's unique index.
const MIGRATION_LOCK_KEY: i64 = 0x6164_6170_7465_7273;

const SCHEMA: Schema<'static> = Schema {
    users: USERS,
    sessions_with_users: SESSIONS_WITH_USERS,
    sessions_alone: SESSIONS_ALONE,
    session_indexes: SESSION_INDEXES,
};

impl SqlAdapter<Postgres> {
    /// Creates the tables and indexes of this adapter's [`Sides`](crate::Sides) where they
    /// do not exist, in one transaction, in the first schema of the
    /// `search_path`. Safe to call on every start and from several
    /// processes at once.
    ///
    /// # Errors
    /// [`Error::Backend`](adapter_api::Error::Backend) when a statement
    /// fails.
    pub async fn migrate(&self) -> Result<()> {
        let fail = |err| super::error::CLASSIFIER.backend(self.error_hook.as_ref(), "migrate", err);
        let mut tx = self.pool.begin().await.map_err(fail)?;
        sqlx::query("SELECT pg_advisory_xact_lock($1)")
            .bind(MIGRATION_LOCK_KEY)
            .execute(&mut *tx)
            .await
            .map_err(fail)?;
        for statement in SCHEMA.statements(self.sides) {
            sqlx::query(statement)
                .execute(&mut *tx)
                .await
                .map_err(fail)?;
        }
        tx.commit().await.map_err(fail)
    }
}
