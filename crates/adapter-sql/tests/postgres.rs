//! PostgreSQL: query plans, constraint classification by name, exact JSON
//! numbers and corrupt rows. Each test works in its own schema on the
//! server at `POSTGRES_URL` (default `postgres://postgres@127.0.0.1:5432/test`).

#![cfg(feature = "postgres")]

mod common;

use std::str::FromStr;

use adapter_api::{Error, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch};
use adapter_sql::postgres::{INDEXED_STATEMENTS, PgAdapter};
use adapter_sql::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use adapter_sql::sqlx::{self, PgPool, Row};
use adapter_sql::{AdapterOptions, Sides};
use common::{
    NULL_SESSION_ROWS, NULL_USER_ROWS, assert_corrupt, assert_duplicates_classified,
    assert_null_columns_reported, assert_numbers_exact, numeric_user, user,
};

/// Creates a schema and returns it with a pool whose connections use it.
/// [`drop_schema`] drops it.
async fn schema_pool() -> (PgPool, String) {
    let url = common::server_url("POSTGRES_URL", common::DEFAULT_POSTGRES_URL);
    let options = PgConnectOptions::from_str(&url).expect("invalid POSTGRES_URL");
    let schema = common::unique_name("adapter_sql_test");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap_or_else(|err| {
            panic!(
                "no PostgreSQL at {url} (set POSTGRES_URL or run scripts/ensure-sql-servers): {err}"
            )
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect_with(options.options([("search_path", schema.as_str())]))
        .await
        .unwrap();
    (pool, schema)
}

async fn drop_schema(pool: &PgPool, schema: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn adapter(sides: Sides) -> (PgAdapter, String) {
    let (pool, schema) = schema_pool().await;
    let adapter = PgAdapter::new(pool, AdapterOptions::new().sides(sides));
    adapter.migrate().await.expect("migrate failed");
    (adapter, schema)
}

#[tokio::test]
async fn plans_use_indexes() {
    let (adapter, schema) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    // Enough rows that a sequential scan costs more than an index lookup.
    sqlx::query(
        "INSERT INTO users (id, provider_id, hashed_password, attributes) \
         SELECT 'u' || n, 'p' || n, NULL, '{}' FROM generate_series(1, 2000) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, expires, idle_expires) \
         SELECT 's' || n, 'u' || (n % 2000 + 1), n, 1000000 + n FROM generate_series(1, 10000) AS n",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();

    for (operation, statement) in INDEXED_STATEMENTS {
        let explain = sqlx::AssertSqlSafe(format!("EXPLAIN {statement}"));
        let query = sqlx::query(explain);
        let query = match *operation {
            "get_user_by_provider_id" => query.bind("p7"),
            "delete_expired_sessions" => query.bind(1_000_010_i64),
            "delete_sessions" => query.bind(vec!["s1".to_owned(), "s2".to_owned()]),
            "get_user" | "get_sessions_by_user_id" | "delete_sessions_by_user_id" => {
                query.bind("u7")
            }
            _ => query.bind("s7"),
        };
        let rows = query.fetch_all(pool).await.unwrap();
        let plan: Vec<String> = rows.iter().map(|row| row.get::<String, _>(0)).collect();
        let plan = plan.join("\n");
        assert!(
            !plan.contains("Seq Scan"),
            "{operation} scans a table:\n{plan}"
        );
        assert!(plan.contains("Index"), "{operation} uses no index:\n{plan}");
    }
    drop_schema(pool, &schema).await;
}

#[tokio::test]
async fn duplicates_classified_by_constraint() {
    let (adapter, schema) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    let names: Vec<String> = sqlx::query_scalar(
        "SELECT conname::text FROM pg_constraint \
         WHERE connamespace = current_schema()::regnamespace ORDER BY conname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(
        names,
        [
            "sessions_pkey",
            "sessions_user_id_fkey",
            "users_pkey",
            "users_provider_id_key"
        ]
    );

    assert_duplicates_classified(&adapter).await;

    let counts: (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM sessions)")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(counts, (2, 1));
    let provider: String = sqlx::query_scalar("SELECT provider_id FROM users WHERE id = 'u2'")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(provider, "p2");
    drop_schema(pool, &schema).await;
}

#[tokio::test]
async fn other_unique_constraint_is_backend_error() {
    let (adapter, schema) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    // A constraint the application added: not one of the adapter's, so
    // it must not be reported as a duplicate id.
    sqlx::query("CREATE UNIQUE INDEX users_hash_key ON users (hashed_password)")
        .execute(pool)
        .await
        .unwrap();
    adapter.set_user(user("u1", "p1").clone()).await.unwrap();
    let mut first = user("u2", "p2");
    first.hashed_password = Some("h".into());
    adapter.set_user(first).await.unwrap();
    let mut second = user("u3", "p3");
    second.hashed_password = Some("h".into());
    let err = adapter.set_user(second).await.unwrap_err();
    assert!(
        matches!(&err, Error::Backend(backend) if backend.backend == "postgres"),
        "{err:?}"
    );
    drop_schema(pool, &schema).await;
}

#[tokio::test]
async fn numbers_round_trip_exactly() {
    let (adapter, schema) = adapter(Sides::Users).await;
    adapter.set_user(numeric_user()).await.unwrap();
    assert_numbers_exact(&adapter.get_user("numbers").await.unwrap().unwrap());

    let updated = adapter
        .update_user("numbers", UserPatch::new().attribute("extra", 2.0))
        .await
        .unwrap();
    assert!(updated.attributes["extra"].is_f64());
    let stored = adapter.get_user("numbers").await.unwrap().unwrap();
    assert_eq!(stored, updated);
    drop_schema(adapter.pool(), &schema).await;
}

#[tokio::test]
async fn corrupt_attributes_reported() {
    let (adapter, schema) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    sqlx::query(
        "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES \
         ('array', 'p1', NULL, '[1, 2]'), ('number', 'p2', NULL, '7')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO sessions VALUES ('s1', 'number', 1, 2)")
        .execute(pool)
        .await
        .unwrap();

    assert_corrupt(
        adapter.get_user("array").await,
        "users",
        "array",
        "attributes",
    );
    assert_corrupt(
        adapter.get_user_by_provider_id("p2").await,
        "users",
        "number",
        "attributes",
    );
    assert_corrupt(
        adapter.get_session_and_user("s1").await,
        "users",
        "number",
        "attributes",
    );
    drop_schema(pool, &schema).await;
}

#[tokio::test]
async fn null_columns_reported() {
    let (pool, schema) = schema_pool().await;
    for statement in [
        "CREATE TABLE users (id TEXT PRIMARY KEY, provider_id TEXT, hashed_password TEXT, attributes JSON)",
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT, expires BIGINT, idle_expires BIGINT)",
        NULL_USER_ROWS,
        NULL_SESSION_ROWS,
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    assert_null_columns_reported(&PgAdapter::new(pool.clone(), AdapterOptions::new())).await;
    drop_schema(&pool, &schema).await;
}

#[tokio::test]
async fn sessions_layout_has_no_foreign_key() {
    let (adapter, schema) = adapter(Sides::Sessions).await;
    let pool = adapter.pool();
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema()",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert_eq!(tables, ["sessions"]);
    adapter
        .set_session(Session::new("s1", "elsewhere", 1, 2))
        .await
        .unwrap();
    assert!(!adapter.checks_user_existence());

    // A second call finds everything in place.
    adapter.migrate().await.unwrap();
    assert_eq!(
        adapter.get_session("s1").await.unwrap().unwrap().user_id,
        "elsewhere"
    );
    drop_schema(pool, &schema).await;
}

#[tokio::test]
async fn concurrent_migrations_succeed() {
    let (adapter, schema) = adapter(Sides::Users).await;
    let both = PgAdapter::new(adapter.pool().clone(), AdapterOptions::new());
    let runs = (0..4).map(|_| both.migrate());
    for result in futures::future::join_all(runs).await {
        result.unwrap();
    }
    assert!(both.checks_user_existence());
    drop_schema(adapter.pool(), &schema).await;
}

#[tokio::test]
async fn lock_timeout_is_retryable() {
    let (pool, schema) = schema_pool().await;
    let adapter = PgAdapter::new(pool.clone(), AdapterOptions::new());
    adapter.migrate().await.unwrap();
    adapter.set_user(user("u1", "p1")).await.unwrap();
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM users WHERE id = 'u1' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();

    // A pool whose connections give up on a row lock after 100 ms.
    let impatient = PgPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("SET lock_timeout = '100ms'")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let waiting = PgAdapter::new(impatient.clone(), AdapterOptions::new());
    let err = waiting
        .update_user("u1", UserPatch::new().attribute("a", 1))
        .await
        .unwrap_err();
    holder.rollback().await.unwrap();

    assert_eq!(common::database_code(&err).as_deref(), Some("55P03"));
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(&err, Error::Backend(backend) if backend.operation == "update_user"),
        "{err:?}"
    );
    assert!(
        adapter
            .get_user("u1")
            .await
            .unwrap()
            .unwrap()
            .attributes
            .is_empty()
    );
    impatient.close().await;
    drop_schema(&pool, &schema).await;
}

#[tokio::test]
async fn nul_ids_match_nothing() {
    let (adapter, schema) = adapter(Sides::Both).await;
    common::assert_nul_ids_match_nothing(&adapter).await;
    drop_schema(adapter.pool(), &schema).await;
}
