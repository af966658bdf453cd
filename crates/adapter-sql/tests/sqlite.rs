//! SQLite: query plans, constraint classification, corrupt rows, schema
//! layouts and error handling.

#![cfg(feature = "sqlite")]

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use adapter_api::{
    Error, ErrorHook, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_sql::sqlite::{INDEXED_STATEMENTS, SqliteAdapter};
use adapter_sql::sqlx::sqlite::{SqliteConnectOptions, SqlitePoolOptions};
use adapter_sql::sqlx::{self, Row, SqlitePool};
use adapter_sql::{AdapterOptions, Sides};
use common::{
    NULL_SESSION_ROWS, NULL_USER_ROWS, assert_corrupt, assert_duplicates_classified,
    assert_null_columns_reported, assert_numbers_exact, numeric_user, user,
};

/// A single-connection in-memory database, so every query sees the same
/// data.
async fn memory_pool(options: SqliteConnectOptions) -> SqlitePool {
    SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(options.in_memory(true))
        .await
        .expect("failed to open an in-memory SQLite database")
}

async fn adapter(sides: Sides) -> SqliteAdapter {
    let pool = memory_pool(SqliteConnectOptions::new()).await;
    let adapter = SqliteAdapter::new(pool, AdapterOptions::new().sides(sides));
    adapter.migrate().await.expect("migrate failed");
    adapter
}

async fn count(pool: &SqlitePool, table: &str) -> i64 {
    let sql = format!("SELECT COUNT(*) FROM {table}");
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql))
        .fetch_one(pool)
        .await
        .expect("count failed")
}

async fn table_names(pool: &SqlitePool) -> Vec<String> {
    sqlx::query_scalar("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        .fetch_all(pool)
        .await
        .expect("listing tables failed")
}

#[tokio::test]
async fn plans_use_indexes() {
    let adapter = adapter(Sides::Both).await;
    for u in 0..200 {
        let user_id = format!("u{u}");
        adapter
            .set_user(user(&user_id, &format!("p{u}")))
            .await
            .unwrap();
        for s in 0..5 {
            let session = Session::new(format!("s{u}-{s}"), &user_id, 1_000 + s, 2_000 + u);
            adapter.set_session(session).await.unwrap();
        }
    }
    sqlx::query("ANALYZE")
        .execute(adapter.pool())
        .await
        .unwrap();

    for (operation, statement) in INDEXED_STATEMENTS {
        let parameter = match *operation {
            "get_user_by_provider_id" => "p7".to_owned(),
            "delete_expired_sessions" => "2005".to_owned(),
            "delete_sessions" => r#"["s1-1","s2-2"]"#.to_owned(),
            "get_user" | "get_sessions_by_user_id" | "delete_sessions_by_user_id" => {
                "u7".to_owned()
            }
            _ => "s7-1".to_owned(),
        };
        let explain = format!("EXPLAIN QUERY PLAN {statement}");
        let rows = sqlx::query(sqlx::AssertSqlSafe(explain))
            .bind(parameter)
            .fetch_all(adapter.pool())
            .await
            .unwrap();
        let plan: Vec<String> = rows
            .iter()
            .map(|row| row.get::<String, _>("detail"))
            .collect();
        // A full scan reads `SCAN <table>`; scanning the JSON array of ids
        // that `delete_sessions` passes is expected.
        let scans: Vec<_> = plan
            .iter()
            .filter(|step| step.starts_with("SCAN") && !step.contains("json_each"))
            .collect();
        assert!(scans.is_empty(), "{operation} scans a table: {plan:?}");
        assert!(
            plan.iter()
                .any(|step| step.contains("USING") && step.contains("INDEX")),
            "{operation} uses no index: {plan:?}"
        );
    }
}

#[tokio::test]
async fn duplicates_classified_by_code() {
    let adapter = adapter(Sides::Both).await;
    assert_duplicates_classified(&adapter).await;

    assert_eq!(count(adapter.pool(), "users").await, 2);
    assert_eq!(count(adapter.pool(), "sessions").await, 1);
    let provider: String = sqlx::query_scalar("SELECT provider_id FROM users WHERE id = 'u2'")
        .fetch_one(adapter.pool())
        .await
        .unwrap();
    assert_eq!(provider, "p2");
}

#[tokio::test]
async fn numbers_round_trip_exactly() {
    let adapter = adapter(Sides::Both).await;
    adapter.set_user(numeric_user()).await.unwrap();
    let stored = adapter.get_user("numbers").await.unwrap().unwrap();
    assert_numbers_exact(&stored);

    let text: String = sqlx::query_scalar("SELECT attributes FROM users WHERE id = 'numbers'")
        .fetch_one(adapter.pool())
        .await
        .unwrap();
    assert!(text.contains("\"float\":1.0"), "{text}");
}

#[tokio::test]
async fn corrupt_values_reported() {
    let adapter = adapter(Sides::Both).await;
    let pool = adapter.pool();
    // Let rows past the json_valid check, as a hand edit or another
    // program could.
    sqlx::query("PRAGMA ignore_check_constraints = ON")
        .execute(pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES \
         ('bad-json', 'p1', NULL, '{not json'), \
         ('array', 'p2', NULL, '[1, 2]'), \
         ('blob-hash', 'p3', x'00ff', '{}'), \
         ('ok', 'p4', NULL, '{}')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES \
         ('text-time', 'ok', 'soon', 5), \
         ('real-time', 'ok', 5, 7.5), \
         ('bad-user', 'bad-json', 5, 6)",
    )
    .execute(pool)
    .await
    .unwrap();

    assert_corrupt(
        adapter.get_user("bad-json").await,
        "users",
        "bad-json",
        "attributes",
    );
    assert_corrupt(
        adapter.get_user_by_provider_id("p2").await,
        "users",
        "array",
        "attributes",
    );
    assert_corrupt(
        adapter.get_user("blob-hash").await,
        "users",
        "blob-hash",
        "hashed_password",
    );
    assert_corrupt(
        adapter.get_session("text-time").await,
        "sessions",
        "text-time",
        "expires",
    );
    assert_corrupt(
        adapter.get_session("real-time").await,
        "sessions",
        "real-time",
        "idle_expires",
    );
    assert_corrupt(
        adapter.get_sessions_by_user_id("ok").await,
        "sessions",
        "text-time",
        "expires",
    );
    assert_corrupt(
        adapter.get_session_and_user("bad-user").await,
        "users",
        "bad-json",
        "attributes",
    );
    assert_corrupt(
        adapter
            .update_user("array", UserPatch::new().attribute("a", 1))
            .await,
        "users",
        "array",
        "attributes",
    );
}

#[tokio::test]
async fn null_columns_reported() {
    let pool = memory_pool(SqliteConnectOptions::new()).await;
    for statement in [
        "CREATE TABLE users (id TEXT PRIMARY KEY, provider_id TEXT, hashed_password TEXT, attributes TEXT)",
        "CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT, expires BIGINT, idle_expires BIGINT)",
        NULL_USER_ROWS,
        NULL_SESSION_ROWS,
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    assert_null_columns_reported(&SqliteAdapter::new(pool, AdapterOptions::new())).await;
}

#[tokio::test]
async fn migrate_idempotent() {
    let adapter = adapter(Sides::Both).await;
    adapter.set_user(user("u1", "p1")).await.unwrap();
    adapter.migrate().await.unwrap();
    assert_eq!(table_names(adapter.pool()).await, ["sessions", "users"]);
    assert_eq!(count(adapter.pool(), "users").await, 1);
    assert!(adapter.checks_user_existence());
}

#[tokio::test]
async fn users_layout_has_no_sessions() {
    let adapter = adapter(Sides::Users).await;
    assert_eq!(table_names(adapter.pool()).await, ["users"]);
    assert!(!adapter.checks_user_existence());
}

#[tokio::test]
async fn sessions_layout_has_no_foreign_key() {
    let adapter = adapter(Sides::Sessions).await;
    assert_eq!(table_names(adapter.pool()).await, ["sessions"]);
    let foreign_keys = sqlx::query("PRAGMA foreign_key_list(sessions)")
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    assert!(foreign_keys.is_empty());
    assert!(!adapter.checks_user_existence());

    // The user lives in another backend, so any user id is accepted.
    adapter
        .set_session(Session::new("s1", "elsewhere", 1, 2))
        .await
        .unwrap();
    assert_eq!(count(adapter.pool(), "sessions").await, 1);
}

#[tokio::test]
async fn delete_user_cascades() {
    let adapter = adapter(Sides::Both).await;
    adapter.set_user(user("u1", "p1")).await.unwrap();
    adapter.set_user(user("u2", "p2")).await.unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 1, 2))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s2", "u2", 1, 2))
        .await
        .unwrap();

    adapter.delete_user("u1").await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    assert_eq!(left, ["s2"]);
}

/// Records every column an `UPDATE` of `users` names, through triggers that
/// fire on `UPDATE OF` that column whether or not its value changes.
async fn log_user_column_writes(pool: &SqlitePool) {
    sqlx::query("CREATE TABLE column_writes (name TEXT NOT NULL)")
        .execute(pool)
        .await
        .unwrap();
    for column in ["provider_id", "hashed_password", "attributes"] {
        let trigger = format!(
            "CREATE TRIGGER log_{column} AFTER UPDATE OF {column} ON users \
             BEGIN INSERT INTO column_writes VALUES ('{column}'); END"
        );
        sqlx::query(sqlx::AssertSqlSafe(trigger))
            .execute(pool)
            .await
            .unwrap();
    }
}

async fn take_column_writes(pool: &SqlitePool) -> Vec<String> {
    let names = sqlx::query_scalar("SELECT name FROM column_writes ORDER BY name")
        .fetch_all(pool)
        .await
        .unwrap();
    sqlx::query("DELETE FROM column_writes")
        .execute(pool)
        .await
        .unwrap();
    names
}

#[tokio::test]
async fn update_writes_changed_columns_only() {
    let adapter = adapter(Sides::Both).await;
    adapter.set_user(user("u1", "p1")).await.unwrap();
    log_user_column_writes(adapter.pool()).await;

    let patch = UserPatch::new().attribute("plan", "pro");
    adapter.update_user("u1", patch).await.unwrap();
    assert_eq!(take_column_writes(adapter.pool()).await, ["attributes"]);

    let own_provider = UserPatch::new().provider_id("p1").attribute("plan", "pro");
    let unchanged = adapter.update_user("u1", own_provider).await.unwrap();
    assert_eq!(unchanged.attributes["plan"], "pro");
    assert!(take_column_writes(adapter.pool()).await.is_empty());

    let patch = UserPatch::new().provider_id("p2").hashed_password("h");
    let updated = adapter.update_user("u1", patch).await.unwrap();
    assert_eq!(
        take_column_writes(adapter.pool()).await,
        ["hashed_password", "provider_id"]
    );
    assert_eq!(updated.provider_id, "p2");
    assert_eq!(adapter.get_user("u1").await.unwrap(), Some(updated));
}

#[tokio::test]
async fn migrate_rejects_foreign_keys_off() {
    let pool = memory_pool(SqliteConnectOptions::new().foreign_keys(false)).await;
    let adapter = SqliteAdapter::new(pool, AdapterOptions::new());
    let err = adapter.migrate().await.unwrap_err();
    assert!(
        matches!(&err, Error::Backend(backend) if backend.operation == "migrate"),
        "{err:?}"
    );
    assert!(table_names(adapter.pool()).await.is_empty());

    // Without users there is no foreign key to check.
    let sessions = SqliteAdapter::new(
        adapter.pool().clone(),
        AdapterOptions::new().sides(Sides::Sessions),
    );
    sessions.migrate().await.unwrap();
}

#[tokio::test]
async fn hook_sees_backend_errors_only() {
    let calls = Arc::new(AtomicUsize::new(0));
    let seen = calls.clone();
    let hook = ErrorHook::new(move |err| {
        seen.fetch_add(1, Ordering::SeqCst);
        assert_eq!(err.backend, "sqlite");
        assert_eq!(err.operation, "get_session");
        assert!(!err.retryable);
        Some("replaced by the application".into())
    });
    let pool = memory_pool(SqliteConnectOptions::new()).await;
    let adapter = SqliteAdapter::new(
        pool,
        AdapterOptions::new().sides(Sides::Users).error_hook(hook),
    );
    adapter.migrate().await.unwrap();

    adapter.set_user(user("u1", "p1")).await.unwrap();
    let err = adapter.set_user(user("u1", "p2")).await.unwrap_err();
    assert!(matches!(err, Error::DuplicateUserId { .. }), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 0);

    // A users-only database has no sessions table.
    let err = adapter.get_session("s1").await.unwrap_err();
    assert!(matches!(err, Error::Application(_)), "{err:?}");
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn backend_error_keeps_source() {
    let adapter = adapter(Sides::Users).await;
    let err = adapter.get_session("s1").await.unwrap_err();
    let Error::Backend(backend) = err else {
        panic!("expected a backend error, got {err:?}");
    };
    assert_eq!(backend.backend, "sqlite");
    assert_eq!(backend.operation, "get_session");
    let source = backend.source.downcast_ref::<sqlx::Error>();
    assert!(
        matches!(source, Some(sqlx::Error::Database(_))),
        "{source:?}"
    );
}

#[tokio::test]
async fn empty_delete_sends_nothing() {
    let adapter = adapter(Sides::Both).await;
    adapter.pool().close().await;

    // A closed pool fails every query, so success shows that nothing was
    // sent.
    adapter.delete_sessions(&[]).await.unwrap();
    let err = adapter
        .delete_sessions(&["s1".to_owned()])
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Backend(backend) if !backend.retryable),
        "{err:?}"
    );
}

#[tokio::test]
async fn pool_timeout_is_retryable() {
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_millis(200))
        .connect_with(SqliteConnectOptions::new().in_memory(true))
        .await
        .unwrap();
    let adapter = SqliteAdapter::new(pool.clone(), AdapterOptions::new());
    let _held = pool.acquire().await.unwrap();

    let err = adapter.get_user("u1").await.unwrap_err();
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(&err, Error::Backend(backend) if backend.operation == "get_user"),
        "{err:?}"
    );
}

#[tokio::test]
async fn delete_many_sessions_at_once() {
    let adapter = adapter(Sides::Both).await;
    adapter.set_user(user("u1", "p1")).await.unwrap();
    let ids: Vec<String> = (0..40_000).map(|n| format!("s{n}")).collect();
    for id in ids.iter().take(3) {
        adapter
            .set_session(Session::new(id, "u1", 1, 2))
            .await
            .unwrap();
    }
    adapter
        .set_session(Session::new("kept", "u1", 1, 2))
        .await
        .unwrap();

    // More ids than SQLite allows parameters (32,766): they travel as one
    // JSON array.
    adapter.delete_sessions(&ids).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    assert_eq!(left, ["kept"]);
}

#[tokio::test]
async fn busy_database_is_retryable() {
    let path = std::env::temp_dir().join(format!("{}.db", common::unique_name("adapter_sql_busy")));
    // No busy timeout: a locked database fails at once instead of waiting.
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .busy_timeout(Duration::ZERO);
    let pool = SqlitePoolOptions::new()
        .max_connections(2)
        .connect_with(options)
        .await
        .unwrap();
    let adapter = SqliteAdapter::new(pool.clone(), AdapterOptions::new());
    adapter.migrate().await.unwrap();

    let mut holder = pool.acquire().await.unwrap();
    sqlx::query("BEGIN IMMEDIATE")
        .execute(&mut *holder)
        .await
        .unwrap();
    let err = adapter.set_user(user("u1", "p1")).await.unwrap_err();
    sqlx::query("ROLLBACK").execute(&mut *holder).await.unwrap();
    drop(holder);

    assert_eq!(common::database_code(&err).as_deref(), Some("5"));
    assert!(err.is_retryable(), "{err:?}");
    assert!(
        matches!(&err, Error::Backend(backend) if backend.operation == "set_user"),
        "{err:?}"
    );
    assert_eq!(adapter.get_user("u1").await.unwrap(), None);
    pool.close().await;
    std::fs::remove_file(&path).unwrap();
}

#[tokio::test]
async fn nul_ids_match_nothing() {
    common::assert_nul_ids_match_nothing(&adapter(Sides::Both).await).await;
}
