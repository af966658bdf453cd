//! SQLite in a temporary file.

use std::path::PathBuf;
use std::str::FromStr;

use adapter_api::{Session, User, UserPatch};
use adapter_sql::sqlite::SqliteAdapter;
use adapter_sql::{AdapterOptions, SqlAdapter};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{QueryBuilder, Sqlite, SqlitePool};

use super::{SEED_CHUNK, Setup, session_from_columns, user_from_columns};
use crate::measure::Side;
use crate::twin::Twin;

/// Hand-written queries on the adapter's pool.
pub struct RawSqlite {
    pool: SqlitePool,
}

/// The seeded database and the file to remove afterwards.
pub struct SqliteBench {
    /// Adapter and twin.
    pub setup: Setup<SqliteAdapter, RawSqlite>,
    path: PathBuf,
}

impl SqliteBench {
    /// Closes the pool and removes the database files.
    pub async fn drop(self) {
        self.setup.adapter.pool().close().await;
        for suffix in ["", "-wal", "-shm"] {
            let mut path = self.path.clone().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
    }
}

/// Creates a database file in the temporary directory, migrates it and
/// seeds `sessions` sessions.
///
/// The pool uses WAL with `synchronous = NORMAL`, the usual setting for a
/// server application: commits do not wait for an fsync, so the numbers
/// measure the adapter rather than the disk.
///
/// # Errors
/// A message saying why SQLite is skipped.
pub async fn connect(sessions: u64) -> Result<SqliteBench, String> {
    let path = std::env::temp_dir().join(format!("adapter-bench-{}.db", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let options = SqliteConnectOptions::from_str("sqlite:")
        .map_err(|err| format!("invalid SQLite options: {err}"))?
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|err| format!("cannot open {}: {err}", path.display()))?;
    let adapter = SqlAdapter::new(pool.clone(), AdapterOptions::new());
    adapter
        .migrate()
        .await
        .map_err(|err| format!("migration failed: {err}"))?;
    let setup = Setup::seeded("sqlite", adapter, RawSqlite { pool }, sessions).await;
    Ok(SqliteBench { setup, path })
}

impl RawSqlite {
    /// Inserts users in one multi-row statement.
    async fn insert_users(&self, users: &[User]) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO users (id, provider_id, hashed_password, attributes) ",
        );
        query.push_values(users, |mut row, user| {
            row.push_bind(&user.id)
                .push_bind(&user.provider_id)
                .push_bind(user.hashed_password.as_deref())
                .push_bind(serde_json::to_string(&user.attributes).expect("attributes serialize"));
        });
        query
            .build()
            .execute(&self.pool)
            .await
            .expect("inserting users");
    }

    /// Inserts sessions in one multi-row statement.
    async fn insert_sessions(&self, sessions: &[Session]) {
        let mut query = QueryBuilder::<Sqlite>::new(
            "INSERT INTO sessions (id, user_id, expires, idle_expires) ",
        );
        query.push_values(sessions, |mut row, session| {
            row.push_bind(&session.id)
                .push_bind(&session.user_id)
                .push_bind(session.expires)
                .push_bind(session.idle_expires);
        });
        query
            .build()
            .execute(&self.pool)
            .await
            .expect("inserting sessions");
    }
}

impl Twin for RawSqlite {
    async fn plant(&self, _side: Side, users: &[User], sessions: &[Session]) {
        for chunk in users.chunks(SEED_CHUNK) {
            self.insert_users(chunk).await;
        }
        for chunk in sessions.chunks(SEED_CHUNK) {
            self.insert_sessions(chunk).await;
        }
    }

    async fn clean(&self) {
        let (low, high) = crate::fixtures::fresh_session_ids();
        let (planted_low, planted_high) = crate::fixtures::PLANTED_SESSION_IDS;
        sqlx::query("DELETE FROM sessions WHERE (id >= ? AND id < ?) OR (id >= ? AND id < ?)")
            .bind(low)
            .bind(high)
            .bind(planted_low)
            .bind(planted_high)
            .execute(&self.pool)
            .await
            .expect("removing sessions");
        let (low, high) = crate::fixtures::fresh_user_ids();
        sqlx::query("DELETE FROM users WHERE id >= ? AND id < ?")
            .bind(low)
            .bind(high)
            .execute(&self.pool)
            .await
            .expect("removing users");
    }

    async fn get_user(&self, user_id: &str) -> Option<User> {
        sqlx::query_as(
            "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .expect("get_user")
        .map(user_from_columns)
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User> {
        sqlx::query_as(
            "SELECT id, provider_id, hashed_password, attributes FROM users WHERE provider_id = ?",
        )
        .bind(provider_id)
        .fetch_optional(&self.pool)
        .await
        .expect("get_user_by_provider_id")
        .map(user_from_columns)
    }

    async fn set_user(&self, user: User) {
        sqlx::query(
            "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES (?, ?, ?, ?)",
        )
        .bind(&user.id)
        .bind(&user.provider_id)
        .bind(user.hashed_password.as_deref())
        .bind(serde_json::to_string(&user.attributes).expect("attributes serialize"))
        .execute(&self.pool)
        .await
        .expect("set_user");
    }

    async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User> {
        // BEGIN IMMEDIATE takes the write lock first, so the read and the
        // write see no other writer in between.
        let mut tx = self
            .pool
            .begin_with("BEGIN IMMEDIATE")
            .await
            .expect("begin");
        let mut user: User = sqlx::query_as(
            "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?",
        )
        .bind(user_id)
        .fetch_optional(&mut *tx)
        .await
        .expect("select user")
        .map(user_from_columns)?;
        patch.apply_to(&mut user);
        sqlx::query("UPDATE users SET attributes = ? WHERE id = ?")
            .bind(serde_json::to_string(&user.attributes).expect("attributes serialize"))
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .expect("update user");
        tx.commit().await.expect("commit");
        Some(user)
    }

    async fn delete_user(&self, user_id: &str) {
        sqlx::query("DELETE FROM users WHERE id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .expect("delete_user");
    }

    async fn get_session(&self, session_id: &str) -> Option<Session> {
        sqlx::query_as("SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = ?")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await
            .expect("get_session")
            .map(session_from_columns)
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session> {
        let rows = sqlx::query_as(
            "SELECT id, user_id, expires, idle_expires FROM sessions WHERE user_id = ?",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .expect("get_sessions_by_user_id");
        rows.into_iter().map(session_from_columns).collect()
    }

    async fn set_session(&self, session: Session) {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES (?, ?, ?, ?)",
        )
        .bind(&session.id)
        .bind(&session.user_id)
        .bind(session.expires)
        .bind(session.idle_expires)
        .execute(&self.pool)
        .await
        .expect("set_session");
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        sqlx::query_as(
            "UPDATE sessions SET expires = ?, idle_expires = ? WHERE id = ? RETURNING id, user_id, expires, idle_expires",
        )
        .bind(expires)
        .bind(idle_expires)
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await
        .expect("update_session")
        .map(session_from_columns)
    }

    async fn delete_sessions(&self, session_ids: &[String]) {
        let mut query = QueryBuilder::<Sqlite>::new("DELETE FROM sessions WHERE id IN (");
        let mut ids = query.separated(", ");
        for id in session_ids {
            ids.push_bind(id);
        }
        query.push(")");
        query
            .build()
            .execute(&self.pool)
            .await
            .expect("delete_sessions");
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) {
        sqlx::query("DELETE FROM sessions WHERE user_id = ?")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .expect("delete_sessions_by_user_id");
    }

    async fn delete_expired_sessions(&self, now: i64) -> u64 {
        sqlx::query("DELETE FROM sessions WHERE idle_expires <= ?")
            .bind(now)
            .execute(&self.pool)
            .await
            .expect("delete_expired_sessions")
            .rows_affected()
    }

    async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)> {
        type Joined = (
            String,
            String,
            i64,
            i64,
            String,
            String,
            Option<String>,
            String,
        );
        let row: Option<Joined> = sqlx::query_as(
            "SELECT s.id, s.user_id, s.expires, s.idle_expires, u.id, u.provider_id, u.hashed_password, u.attributes \
             FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = ?",
        )
        .bind(session_id)
        .fetch_optional(&self.pool)
        .await
        .expect("get_session_and_user");
        let (id, user_id, expires, idle_expires, uid, provider_id, hash, attributes) = row?;
        Some((
            session_from_columns((id, user_id, expires, idle_expires)),
            user_from_columns((uid, provider_id, hash, attributes)),
        ))
    }
}
