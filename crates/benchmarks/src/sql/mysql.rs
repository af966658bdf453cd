//! MySQL or MariaDB, in a database of its own that is dropped at the end.

use std::str::FromStr;

use adapter_api::{Session, User, UserPatch};
use adapter_sql::mysql::MySqlAdapter;
use adapter_sql::{AdapterOptions, SqlAdapter};
use sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use sqlx::{AssertSqlSafe, MySql, MySqlPool, QueryBuilder};

use super::{SEED_CHUNK, Setup, session_from_columns, user_from_columns};
use crate::measure::Side;
use crate::twin::Twin;

/// Hand-written queries on the adapter's pool.
pub struct RawMySql {
    pool: MySqlPool,
}

/// Environment variable naming the MySQL or MariaDB server.
pub const MYSQL_URL_ENV: &str = "MYSQL_URL";
/// Server used when `MYSQL_URL` is not set.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// The seeded database.
pub struct MySqlBench {
    /// Adapter and twin.
    pub setup: Setup<MySqlAdapter, RawMySql>,
    admin: MySqlPool,
    database: String,
}

impl MySqlBench {
    /// Drops the database and closes the pools.
    pub async fn drop(self) {
        self.setup.adapter.pool().close().await;
        let statement = format!("DROP DATABASE IF EXISTS {}", self.database);
        if let Err(err) = sqlx::query(AssertSqlSafe(statement))
            .execute(&self.admin)
            .await
        {
            eprintln!("mysql: cannot drop database {}: {err}", self.database);
        }
        self.admin.close().await;
    }
}

/// Creates a database of its own on the server that `MYSQL_URL` names
/// (default [`DEFAULT_MYSQL_URL`]), migrates it and seeds `sessions`
/// sessions.
///
/// # Errors
/// A message saying why MySQL is skipped.
pub async fn connect(sessions: u64) -> Result<MySqlBench, String> {
    let url = std::env::var(MYSQL_URL_ENV).unwrap_or_else(|_| DEFAULT_MYSQL_URL.to_owned());
    let base = MySqlConnectOptions::from_str(&url)
        .map_err(|err| format!("{MYSQL_URL_ENV} is invalid: {err}"))?;
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_with(base.clone())
        .await
        .map_err(|err| format!("no MySQL server answers at {url}: {err}"))?;
    let database = format!("adapter_bench_{}", std::process::id());
    for statement in [
        format!("DROP DATABASE IF EXISTS {database}"),
        format!("CREATE DATABASE {database}"),
    ] {
        // The database name is built from the process id only.
        sqlx::query(AssertSqlSafe(statement))
            .execute(&admin)
            .await
            .map_err(|err| format!("cannot create database {database}: {err}"))?;
    }
    let pool = MySqlPoolOptions::new()
        .max_connections(8)
        .connect_with(base.database(&database))
        .await
        .map_err(|err| format!("cannot connect to {url}: {err}"))?;
    let adapter = SqlAdapter::new(pool.clone(), AdapterOptions::new());
    adapter
        .migrate()
        .await
        .map_err(|err| format!("migration failed: {err}"))?;
    let setup = Setup::seeded("mysql", adapter, RawMySql { pool }, sessions).await;
    Ok(MySqlBench {
        setup,
        admin,
        database,
    })
}

impl RawMySql {
    /// Inserts users in one multi-row statement.
    async fn insert_users(&self, users: &[User]) {
        let mut query = QueryBuilder::<MySql>::new(
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
        let mut query = QueryBuilder::<MySql>::new(
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

impl Twin for RawMySql {
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
        // FOR UPDATE locks the row, so no other update lands between the
        // read and the write.
        let mut tx = self.pool.begin().await.expect("begin");
        let mut user: User = sqlx::query_as("SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ? FOR UPDATE")
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

    /// Renews a session and reads it back in one transaction, because
    /// neither MySQL nor MariaDB has `UPDATE ... RETURNING`. The update
    /// reports matched rows (sqlx sets CLIENT_FOUND_ROWS), so zero means no
    /// such session. The read-back returns the row this call wrote, even
    /// when another call renews or deletes it right after.
    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        let mut tx = self.pool.begin().await.expect("begin");
        let updated = sqlx::query("UPDATE sessions SET expires = ?, idle_expires = ? WHERE id = ?")
            .bind(expires)
            .bind(idle_expires)
            .bind(session_id)
            .execute(&mut *tx)
            .await
            .expect("update_session");
        if updated.rows_affected() == 0 {
            return None;
        }
        let session =
            sqlx::query_as("SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = ?")
                .bind(session_id)
                .fetch_optional(&mut *tx)
                .await
                .expect("read back the session")
                .map(session_from_columns);
        tx.commit().await.expect("commit");
        session
    }

    async fn delete_sessions(&self, session_ids: &[String]) {
        let mut query = QueryBuilder::<MySql>::new("DELETE FROM sessions WHERE id IN (");
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
