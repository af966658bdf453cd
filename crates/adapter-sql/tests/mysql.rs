//! MySQL and MariaDB: query plans, constraint classification, exact
//! matching of ids, exact JSON numbers and corrupt rows. Each test works in
//! its own database on the server at `MYSQL_URL` (default
//! `mysql://root@127.0.0.1:3306/test`).

#![cfg(feature = "mysql")]

mod common;

use std::str::FromStr;

use adapter_api::{Error, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch};
use adapter_sql::mysql::{INDEXED_STATEMENTS, MySqlAdapter};
use adapter_sql::sqlx::mysql::{MySqlConnectOptions, MySqlDatabaseError, MySqlPoolOptions};
use adapter_sql::sqlx::{self, MySqlPool, Row};
use adapter_sql::{AdapterOptions, Sides};
use common::{
    NULL_SESSION_ROWS, NULL_USER_ROWS, assert_corrupt, assert_duplicates_classified,
    assert_null_columns_reported, assert_numbers_exact, numeric_user, user,
};

/// Creates a database and returns it with a pool on it. [`drop_database`]
/// drops it.
async fn database_pool() -> (MySqlPool, String) {
    let url = common::server_url("MYSQL_URL", common::DEFAULT_MYSQL_URL);
    let options = MySqlConnectOptions::from_str(&url).expect("invalid MYSQL_URL");
    let database = common::unique_name("adapter_sql_test");
    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect_with(options.clone())
        .await
        .unwrap_or_else(|err| {
            panic!("no MySQL at {url} (set MYSQL_URL or run scripts/ensure-sql-servers): {err}")
        });
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {database}")))
        .execute(&admin)
        .await
        .unwrap();
    admin.close().await;
    let pool = MySqlPoolOptions::new()
        .max_connections(4)
        .connect_with(options.database(&database))
        .await
        .unwrap();
    (pool, database)
}

async fn drop_database(pool: &MySqlPool, database: &str) {
    sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE {database}")))
        .execute(pool)
        .await
        .unwrap();
    pool.close().await;
}

async fn adapter(sides: Sides) -> (MySqlAdapter, String) {
    let (pool, database) = database_pool().await;
    let adapter = MySqlAdapter::new(pool, AdapterOptions::new().sides(sides));
    adapter.migrate().await.expect("migrate failed");
    (adapter, database)
}

/// Replaces the one `?` of a statement with a quoted literal, because
/// MariaDB cannot prepare `EXPLAIN`. The values are fixed test strings
/// without quotes.
fn with_literal(statement: &str, value: &str) -> String {
    statement.replacen('?', &format!("'{value}'"), 1)
}

#[tokio::test]
async fn plans_use_indexes() {
    let (adapter, database) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    // Enough rows that a full scan costs more than an index lookup. The
    // numbers come from a cross join of two 100-row recursive CTEs, which
    // stays below MySQL's default cte_max_recursion_depth of 1000 (MariaDB's
    // seq_1_to_N tables do not exist on MySQL).
    let numbers = "WITH RECURSIVE digits (n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM digits WHERE n < 99) \
                   SELECT a.n * 100 + b.n + 1 AS seq FROM digits AS a CROSS JOIN digits AS b";
    let users = format!(
        "INSERT INTO users (id, provider_id, hashed_password, attributes) \
         SELECT CONCAT('u', seq), CONCAT('p', seq), NULL, '{{}}' FROM ({numbers}) AS numbers WHERE seq <= 2000"
    );
    let sessions = format!(
        "INSERT INTO sessions (id, user_id, expires, idle_expires) \
         SELECT CONCAT('s', seq), CONCAT('u', seq % 2000 + 1), seq, 1000000 + seq FROM ({numbers}) AS numbers"
    );
    for statement in [users, sessions] {
        sqlx::query(sqlx::AssertSqlSafe(statement))
            .execute(pool)
            .await
            .unwrap();
    }
    let counts: (i64, i64) =
        sqlx::query_as("SELECT (SELECT COUNT(*) FROM users), (SELECT COUNT(*) FROM sessions)")
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!(counts, (2000, 10000));
    sqlx::query("ANALYZE TABLE users, sessions")
        .execute(pool)
        .await
        .unwrap();

    let mut statements: Vec<(&str, String)> = INDEXED_STATEMENTS
        .iter()
        .map(|(operation, statement)| {
            let value = match *operation {
                "get_user_by_provider_id" => "p7",
                "delete_expired_sessions" => "1000010",
                "get_user" | "get_sessions_by_user_id" | "delete_sessions_by_user_id" => "u7",
                _ => "s7",
            };
            (*operation, with_literal(statement, value))
        })
        .collect();
    statements.push((
        "delete_sessions",
        "DELETE FROM sessions WHERE id IN ('s1', 's2')".to_owned(),
    ));

    for (operation, statement) in statements {
        let rows = sqlx::raw_sql(sqlx::AssertSqlSafe(format!("EXPLAIN {statement}")))
            .fetch_all(pool)
            .await
            .unwrap();
        for row in rows {
            let access: Option<String> = row.try_get("type").unwrap();
            let key: Option<String> = row.try_get("key").unwrap();
            let table: Option<String> = row.try_get("table").unwrap();
            assert_ne!(
                access.as_deref(),
                Some("ALL"),
                "{operation} scans {table:?}"
            );
            assert!(key.is_some(), "{operation} uses no index on {table:?}");
        }
    }
    drop_database(pool, &database).await;
}

#[tokio::test]
async fn duplicates_classified() {
    let (adapter, database) = adapter(Sides::Both).await;
    let pool = adapter.pool();
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
    drop_database(pool, &database).await;
}

#[tokio::test]
async fn ids_match_exactly() {
    let (adapter, database) = adapter(Sides::Both).await;
    // Case, trailing spaces and accents all count: none of these collide.
    let lookalikes = ["ada", "Ada", "ada ", "áda", "a\u{0301}da"];
    for (n, provider_id) in lookalikes.iter().enumerate() {
        adapter
            .set_user(user(&format!("{provider_id}#{n}"), provider_id))
            .await
            .unwrap();
    }
    for (n, provider_id) in lookalikes.iter().enumerate() {
        let found = adapter
            .get_user_by_provider_id(provider_id)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(found.id, format!("{provider_id}#{n}"));
    }
    adapter.set_user(user("ID", "p-upper")).await.unwrap();
    adapter.set_user(user("id", "p-lower")).await.unwrap();
    adapter.set_user(user("id ", "p-space")).await.unwrap();
    assert_eq!(
        adapter.get_user("id ").await.unwrap().unwrap().provider_id,
        "p-space"
    );
    assert_eq!(adapter.get_user("iD").await.unwrap(), None);

    let long_id: String = "😀é".repeat(127) + "z";
    assert_eq!(long_id.chars().count(), 255);
    adapter.set_user(user(&long_id, &long_id)).await.unwrap();
    assert_eq!(
        adapter
            .get_user_by_provider_id(&long_id)
            .await
            .unwrap()
            .unwrap()
            .id,
        long_id
    );
    drop_database(adapter.pool(), &database).await;
}

#[tokio::test]
async fn numbers_round_trip_exactly() {
    let (adapter, database) = adapter(Sides::Users).await;
    adapter.set_user(numeric_user()).await.unwrap();
    assert_numbers_exact(&adapter.get_user("numbers").await.unwrap().unwrap());
    drop_database(adapter.pool(), &database).await;
}

#[tokio::test]
async fn corrupt_attributes_reported() {
    let (adapter, database) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    sqlx::query(
        "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES \
         ('array', 'p1', NULL, '[1, 2]'), ('text', 'p2', NULL, '\"x\"')",
    )
    .execute(pool)
    .await
    .unwrap();
    sqlx::query("INSERT INTO sessions VALUES ('s1', 'text', 1, 2)")
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
        "text",
        "attributes",
    );
    assert_corrupt(
        adapter.get_session_and_user("s1").await,
        "users",
        "text",
        "attributes",
    );
    drop_database(pool, &database).await;
}

#[tokio::test]
async fn null_columns_reported() {
    let (pool, database) = database_pool().await;
    // Also without the JSON check, so that invalid JSON can be stored.
    for statement in [
        "CREATE TABLE users (id VARCHAR(255) PRIMARY KEY, provider_id VARCHAR(255), \
         hashed_password TEXT, attributes TEXT)",
        "CREATE TABLE sessions (id VARCHAR(255) PRIMARY KEY, user_id VARCHAR(255), \
         expires BIGINT, idle_expires BIGINT)",
        NULL_USER_ROWS,
        NULL_SESSION_ROWS,
        "INSERT INTO users VALUES ('bad-json', 'p3', NULL, '{x')",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let adapter = MySqlAdapter::new(pool.clone(), AdapterOptions::new());
    assert_null_columns_reported(&adapter).await;
    assert_corrupt(
        adapter.get_user("bad-json").await,
        "users",
        "bad-json",
        "attributes",
    );
    drop_database(&pool, &database).await;
}

#[tokio::test]
async fn layouts_and_idempotent_migrate() {
    let (adapter, database) = adapter(Sides::Sessions).await;
    let pool = adapter.pool();
    adapter.migrate().await.unwrap();
    let foreign_keys: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = DATABASE()",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert_eq!(foreign_keys, 0);
    adapter
        .set_session(Session::new("s1", "elsewhere", 1, 2))
        .await
        .unwrap();

    let users = MySqlAdapter::new(pool.clone(), AdapterOptions::new().sides(Sides::Users));
    users.migrate().await.unwrap();
    let collation: String = sqlx::query_scalar(
        "SELECT COLLATION_NAME FROM information_schema.COLUMNS \
         WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = 'users' AND COLUMN_NAME = 'provider_id'",
    )
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(
        ["utf8mb4_0900_bin", "utf8mb4_nopad_bin"].contains(&collation.as_str()),
        "{collation}"
    );
    drop_database(pool, &database).await;
}

#[tokio::test]
async fn delete_sessions_in_batches() {
    let (adapter, database) = adapter(Sides::Both).await;
    adapter.set_user(user("u1", "p1")).await.unwrap();
    for id in ["s5", "s1500", "s2999", "kept"] {
        adapter
            .set_session(Session::new(id, "u1", 1, 2))
            .await
            .unwrap();
    }
    let ids: Vec<String> = (0..3000).map(|n| format!("s{n}")).collect();
    adapter.delete_sessions(&ids).await.unwrap();
    let left: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions")
        .fetch_all(adapter.pool())
        .await
        .unwrap();
    assert_eq!(left, ["kept"]);
    drop_database(adapter.pool(), &database).await;
}

#[tokio::test]
async fn lock_wait_timeout_is_retryable() {
    let (adapter, database) = adapter(Sides::Both).await;
    let pool = adapter.pool();
    adapter.set_user(user("u1", "p1")).await.unwrap();
    let mut holder = pool.begin().await.unwrap();
    sqlx::query("SELECT 1 FROM users WHERE id = 'u1' FOR UPDATE")
        .execute(&mut *holder)
        .await
        .unwrap();

    // A pool whose connections give up on a row lock after one second,
    // the shortest wait InnoDB allows.
    let impatient = MySqlPoolOptions::new()
        .max_connections(1)
        .after_connect(|conn, _| {
            Box::pin(async move {
                sqlx::query("SET SESSION innodb_lock_wait_timeout = 1")
                    .execute(conn)
                    .await?;
                Ok(())
            })
        })
        .connect_with(pool.connect_options().as_ref().clone())
        .await
        .unwrap();
    let waiting = MySqlAdapter::new(impatient.clone(), AdapterOptions::new());
    let err = waiting
        .update_user("u1", UserPatch::new().attribute("a", 1))
        .await
        .unwrap_err();
    holder.rollback().await.unwrap();

    let Error::Backend(backend) = &err else {
        panic!("expected a backend error, got {err:?}");
    };
    let number = backend
        .source
        .downcast_ref::<sqlx::Error>()
        .and_then(sqlx::Error::as_database_error)
        .and_then(|db| db.try_downcast_ref::<MySqlDatabaseError>())
        .map(MySqlDatabaseError::number);
    // ER_LOCK_WAIT_TIMEOUT
    assert_eq!(number, Some(1205));
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
    drop_database(pool, &database).await;
}

#[tokio::test]
async fn nul_ids_match_nothing() {
    let (adapter, database) = adapter(Sides::Both).await;
    common::assert_nul_ids_match_nothing(&adapter).await;
    drop_database(adapter.pool(), &database).await;
}

#[tokio::test]
async fn concurrent_migrations_succeed() {
    let (pool, database) = database_pool().await;
    let adapter = MySqlAdapter::new(pool.clone(), AdapterOptions::new());
    let runs = (0..4).map(|_| adapter.migrate());
    for result in futures::future::join_all(runs).await {
        result.unwrap();
    }
    let tables: Vec<String> = sqlx::query_scalar(
        "SELECT TABLE_NAME FROM information_schema.TABLES \
         WHERE TABLE_SCHEMA = DATABASE() ORDER BY TABLE_NAME",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(tables, ["sessions", "users"]);
    drop_database(&pool, &database).await;
}
