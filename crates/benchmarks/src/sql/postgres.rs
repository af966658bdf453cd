//! PostgreSQL, in a schema of its own that is dropped at the end.

use std::str::FromStr;

use adapter_api::{Session, User, UserPatch};
use adapter_sql::postgres::PgAdapter;
use adapter_sql::{AdapterOptions, SqlAdapter};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{AssertSqlSafe, PgPool, Postgres, QueryBuilder};

use super::{SEED_CHUNK, Setup, session_from_columns, user_from_columns};
use crate::measure::Side;
use crate::twin::Twin;

/// Hand-written queries on the adapter's pool.
pub struct RawPostgres {
    pool: PgPool,
}

/// Environment variable naming the PostgreSQL server.
pub const POSTGRES_URL_ENV: &str = "POSTGRES_URL";
/// Server used when `POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The seeded schema.
pub struct PostgresBench {
    /// Adapter and twin.
    pub setup: Setup<PgAdapter, RawPostgres>,
    admin: PgPool,
    schema: String,
}

impl PostgresBench {
    /// Drops the schema and closes the pools.
    pub async fn drop(self) {
        self.setup.adapter.pool().close().await;
        let statement = format!("DROP SCHEMA IF EXISTS {} CASCADE", self.schema);
        if let Err(err) = sqlx::query(AssertSqlSafe(statement))
            .execute(&self.admin)
            .await
        {
            eprintln!("postgres: cannot drop schema {}: {err}", self.schema);
        }
        self.admin.close().await;
    }
}

/// Creates a schema of its own on the server that `POSTGRES_URL` names
/// (default [`DEFAULT_POSTGRES_URL`]), migrates it and seeds `sessions`
/// sessions. The pool's `search_path` is that schema, so the adapter's
/// unqualified table names resolve there.
///
/// # Errors
/// A message saying why PostgreSQL is skipped.
pub async fn connect(sessions: u64) -> Result<PostgresBench, String> {
    let url = std::env::var(POSTGRES_URL_ENV).unwrap_or_else(|_| DEFAULT_POSTGRES_URL.to_owned());
    let base = PgConnectOptions::from_str(&url)
        .map_err(|err| format!("{POSTGRES_URL_ENV} is invalid: {err}"))?;
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(std::time::Duration::from_secs(5))
        .connect_with(base.clone())
        .await
        .map_err(|err| format!("no PostgreSQL server answers at {url}: {err}"))?;
    let schema = format!("adapter_bench_{}", std::process::id());
    for statement in [
        format!("DROP SCHEMA IF EXISTS {schema} CASCADE"),
        format!("CREATE SCHEMA {schema}"),
    ] {
        // The schema name is built from the process id only.
        sqlx::query(AssertSqlSafe(statement))
            .execute(&admin)
            .await
            .map_err(|err| format!("cannot create schema {schema}: {err}"))?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(8)
        .connect_with(base.options([("search_path", schema.as_str())]))
        .await
        .map_err(|err| format!("cannot connect to {url}: {err}"))?;
    let adapter = SqlAdapter::new(pool.clone(), AdapterOptions::new());
    adapter
        .migrate()
        .await
        .map_err(|err| format!("migration failed: {err}"))?;
    let setup = Setup::seeded("postgres", adapter, RawPostgres { pool }, sessions).await;
    Ok(PostgresBench {
        setup,
        admin,
        schema,
    })
}

impl RawPostgres {
    /// Inserts users in one multi-row statement.
    async fn insert_users(&self, users: &[User]) {
        let mut query = QueryBuilder::<Postgres>::new(
            "INSERT INTO users (id, provider_id, hashed_password, attributes) ",
        );
        query.push_values(users, |mut row, user| {
            row.push_bind(&user.id)
                .push_bind(&user.provider_id)
                .push_bind(user.hashed_password.as_deref())
                .push_bind(serde_json::to_string(&user.attributes).expect("attributes serialize"))
                .push_unseparated("::json");
        });
        query
            .build()
            .execute(&self.pool)
            .await
            .expect("inserting users");
    }

    /// Inserts sessions in one multi-row statement.
    async fn insert_sessions(&self, sessions: &[Session]) {
        let mut query = QueryBuilder::<Postgres>::new(
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

impl Twin for RawPostgres {
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
        sqlx::query("DELETE FROM sessions WHERE (id >= $1 AND id < $2) OR (id >= $3 AND id < $4)")
            .bind(low)
            .bind(high)
            .bind(planted_low)
            .bind(planted_high)
            .execute(&self.pool)
            .await
            .expect("removing sessions");
        let (low, high) = crate::fixtures::fresh_user_ids();
        sqlx::query("DELETE FROM users WHERE id >= $1 AND id < $2")
            .bind(low)
            .bind(high)
            .execute(&self.pool)
            .await
            .expect("removing users");
    }

    async fn get_user(&self, user_id: &str) -> Option<User> {
        sqlx::query_as(
            "SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE id = $1",
        )
        .bind(user_id)
        .fetch_optional(&self.pool)
        .await
        .expect("get_user")
        .map(user_from_columns)
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User> {
        sqlx::query_as("SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE provider_id = $1")
            .bind(provider_id)
            .fetch_optional(&self.pool)
            .await
            .expect("get_user_by_provider_id")
            .map(user_from_columns)
    }

    async fn set_user(&self, user: User) {
        sqlx::query("INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES ($1, $2, $3, $4::json)")
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
        let mut user: User = sqlx::query_as("SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE id = $1 FOR UPDATE")
            .bind(user_id)
            .fetch_optional(&mut *tx)
            .await
            .expect("select user")
            .map(user_from_columns)?;
        patch.apply_to(&mut user);
        sqlx::query("UPDATE users SET attributes = $1::json WHERE id = $2")
            .bind(serde_json::to_string(&user.attributes).expect("attributes serialize"))
            .bind(user_id)
            .execute(&mut *tx)
            .await
            .expect("update user");
        tx.commit().await.expect("commit");
        Some(user)
    }

    async fn delete_user(&self, user_id: &str) {
        sqlx::query("DELETE FROM users WHERE id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .expect("delete_user");
    }

    async fn get_session(&self, session_id: &str) -> Option<Session> {
        sqlx::query_as("SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = $1")
            .bind(session_id)
            .fetch_optional(&self.pool)
            .await
            .expect("get_session")
            .map(session_from_columns)
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session> {
        let rows = sqlx::query_as(
            "SELECT id, user_id, expires, idle_expires FROM sessions WHERE user_id = $1",
        )
        .bind(user_id)
        .fetch_all(&self.pool)
        .await
        .expect("get_sessions_by_user_id");
        rows.into_iter().map(session_from_columns).collect()
    }

    async fn set_session(&self, session: Session) {
        sqlx::query(
            "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES ($1, $2, $3, $4)",
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
            "UPDATE sessions SET expires = $1, idle_expires = $2 WHERE id = $3 RETURNING id, user_id, expires, idle_expires",
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
        sqlx::query("DELETE FROM sessions WHERE id = ANY($1)")
            .bind(session_ids)
            .execute(&self.pool)
            .await
            .expect("delete_sessions");
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1")
            .bind(user_id)
            .execute(&self.pool)
            .await
            .expect("delete_sessions_by_user_id");
    }

    async fn delete_expired_sessions(&self, now: i64) -> u64 {
        sqlx::query("DELETE FROM sessions WHERE idle_expires <= $1")
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
            "SELECT s.id, s.user_id, s.expires, s.idle_expires, u.id, u.provider_id, u.hashed_password, u.attributes::text \
             FROM sessions AS s JOIN users AS u ON u.id = s.user_id WHERE s.id = $1",
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
