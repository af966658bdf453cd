//! Property tests that reading a stored row of any content as a user or a
//! session returns a record, nothing, or `Error::CorruptRecord`, and does
//! not panic.
//!
//! The rows are planted in SQLite tables made by hand with untyped columns,
//! which keep any value of any type. The values include NULLs, integers,
//! floats, blobs that are not UTF-8, and text that is not JSON, has numbers
//! beyond `f64`, or nests past serde_json's depth limit. The test then reads
//! them through every adapter operation that decodes them. A failure prints the smallest
//! row that proptest found for it.

#![cfg(feature = "sqlite")]

use adapter_api::{Error, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch};
use adapter_sql::sqlite::SqliteAdapter;
use adapter_sql::sqlx::sqlite::{SqliteArguments, SqlitePoolOptions};
use adapter_sql::sqlx::{self, Sqlite, SqlitePool, query::Query};
use adapter_sql::{AdapterOptions, Sides};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::Value;

/// A value of one of SQLite's storage classes.
#[derive(Debug, Clone, PartialEq)]
enum Stored {
    Null,
    Integer(i64),
    Real(f64),
    Text(String),
    Blob(Vec<u8>),
}

impl Stored {
    fn bind<'q>(
        &self,
        query: Query<'q, Sqlite, SqliteArguments>,
    ) -> Query<'q, Sqlite, SqliteArguments> {
        match self.clone() {
            Stored::Null => query.bind(None::<String>),
            Stored::Integer(value) => query.bind(value),
            Stored::Real(value) => query.bind(value),
            Stored::Text(value) => query.bind(value),
            Stored::Blob(value) => query.bind(value),
        }
    }

    /// Returns the text a column read as `String` may show for this value.
    fn as_text(&self) -> Option<&str> {
        match self {
            Stored::Text(text) => Some(text),
            Stored::Blob(bytes) => std::str::from_utf8(bytes).ok(),
            _ => None,
        }
    }
}

fn any_stored() -> impl Strategy<Value = Stored> {
    prop_oneof![
        Just(Stored::Null),
        any::<i64>().prop_map(Stored::Integer),
        prop_oneof![
            any::<f64>(),
            Just(f64::NAN),
            Just(f64::INFINITY),
            Just(1e300),
            Just(1.5)
        ]
        .prop_map(Stored::Real),
        any::<String>().prop_map(Stored::Text),
        proptest::collection::vec(any::<u8>(), 0..16).prop_map(Stored::Blob),
    ]
}

/// Returns a strategy for a key column: mostly the text the test looks up,
/// otherwise any value.
fn key(text: &'static str) -> impl Strategy<Value = Stored> {
    prop_oneof![
        3 => Just(Stored::Text(text.to_owned())),
        1 => any_stored(),
    ]
}

/// Text that serde_json rejects or reads as something other than an
/// object, next to valid objects.
fn json_edge_text() -> impl Strategy<Value = String> {
    const FIXED: [&str; 21] = [
        "{}",
        "{\"a\":1}",
        "{\"a\":1e400}",
        "{\"a\":-1e400}",
        "{\"a\":18446744073709551616}",
        "{\"a\":-9223372036854775809}",
        "{\"a\":123456789012345678901234567890}",
        "{\"a\":\"\\ud800\"}",
        "{\"a\":1,\"a\":2}",
        "{\"a\":1} trailing",
        "\u{feff}{}",
        "{\"a\":NaN}",
        "{\"a\":Infinity}",
        "null",
        "[]",
        "\"text\"",
        "12",
        "",
        " ",
        "{",
        "{\"a\":",
    ];
    prop_oneof![
        proptest::sample::select(&FIXED[..]).prop_map(str::to_owned),
        // Arrays and objects nested around the serde_json limit of 128.
        (1_usize..200).prop_map(|depth| format!(
            "{{\"a\":{}1{}}}",
            "[".repeat(depth),
            "]".repeat(depth)
        )),
        (1_usize..200).prop_map(|depth| format!(
            "{}{{}}{}",
            "{\"a\":".repeat(depth),
            "}".repeat(depth)
        )),
        any::<String>(),
        "\\{\"[a-z]{0,3}\":[-0-9.eE+]{1,30}\\}",
    ]
}

fn attributes() -> impl Strategy<Value = Stored> {
    prop_oneof![
        3 => json_edge_text().prop_map(Stored::Text),
        1 => json_edge_text().prop_map(|text| Stored::Blob(text.into_bytes())),
        1 => any_stored(),
    ]
}

/// A planted user row: `id, provider_id, hashed_password, attributes`.
#[derive(Debug, Clone)]
struct UserRow {
    id: Stored,
    provider_id: Stored,
    hashed_password: Stored,
    attributes: Stored,
}

fn user_row() -> impl Strategy<Value = UserRow> {
    (key("u"), key("p"), any_stored(), attributes()).prop_map(
        |(id, provider_id, hashed_password, attributes)| UserRow {
            id,
            provider_id,
            hashed_password,
            attributes,
        },
    )
}

/// A planted session row: `id, user_id, expires, idle_expires`.
#[derive(Debug, Clone)]
struct SessionRow {
    id: Stored,
    user_id: Stored,
    expires: Stored,
    idle_expires: Stored,
}

fn millis() -> impl Strategy<Value = Stored> {
    prop_oneof![
        3 => any::<i64>().prop_map(Stored::Integer),
        1 => any_stored(),
        // Numbers past i64 as text, as a careless import might store them.
        1 => Just(Stored::Text("99999999999999999999".to_owned())),
    ]
}

fn session_row() -> impl Strategy<Value = SessionRow> {
    (key("s"), key("u"), millis(), millis()).prop_map(|(id, user_id, expires, idle_expires)| {
        SessionRow {
            id,
            user_id,
            expires,
            idle_expires,
        }
    })
}

/// Runs `body` on a fresh single-threaded runtime, so that no case shares
/// state with another.
fn block_on<T>(body: impl Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("failed to build a runtime")
        .block_on(body)
}

/// Returns an adapter over a new in-memory database whose tables have
/// untyped columns and no constraints, so they keep any planted value.
async fn untyped_store() -> (SqliteAdapter, SqlitePool) {
    // Each connection to `:memory:` opens its own database, so the pool
    // keeps exactly one.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect("sqlite::memory:")
        .await
        .expect("failed to open an in-memory database");
    for statement in [
        "CREATE TABLE users (id, provider_id, hashed_password, attributes)",
        "CREATE TABLE sessions (id, user_id, expires, idle_expires)",
    ] {
        sqlx::query(statement).execute(&pool).await.unwrap();
    }
    let adapter = SqliteAdapter::new(pool.clone(), AdapterOptions::new().sides(Sides::Both));
    (adapter, pool)
}

async fn plant_user(pool: &SqlitePool, row: &UserRow) {
    let query = sqlx::query("INSERT INTO users VALUES (?, ?, ?, ?)");
    let query = row.id.bind(query);
    let query = row.provider_id.bind(query);
    let query = row.hashed_password.bind(query);
    row.attributes.bind(query).execute(pool).await.unwrap();
}

async fn plant_session(pool: &SqlitePool, row: &SessionRow) {
    let query = sqlx::query("INSERT INTO sessions VALUES (?, ?, ?, ?)");
    let query = row.id.bind(query);
    let query = row.user_id.bind(query);
    let query = row.expires.bind(query);
    row.idle_expires.bind(query).execute(pool).await.unwrap();
}

/// Checks an error: a corrupt record of `table` naming one of its columns,
/// that renders without panicking.
fn check_corrupt(err: &Error, table: &str, columns: &[&str]) -> Result<(), TestCaseError> {
    let Error::CorruptRecord {
        collection, field, ..
    } = err
    else {
        return Err(TestCaseError::fail(format!(
            "expected a record, nothing or CorruptRecord, got {err:?}"
        )));
    };
    prop_assert_eq!(collection.as_str(), table);
    prop_assert!(columns.contains(&field.as_str()), "column {field:?}");
    let _ = err.to_string();
    let _ = format!("{err:?}");
    Ok(())
}

const USER_COLUMNS: [&str; 4] = ["id", "provider_id", "hashed_password", "attributes"];
const SESSION_COLUMNS: [&str; 4] = ["id", "user_id", "expires", "idle_expires"];

/// Checks a user read back from `row`: every field equals what the row
/// stores.
fn check_user(user: &adapter_api::User, row: &UserRow) -> Result<(), TestCaseError> {
    prop_assert_eq!(row.id.as_text(), Some(user.id.as_str()));
    prop_assert_eq!(row.provider_id.as_text(), Some(user.provider_id.as_str()));
    match &row.hashed_password {
        Stored::Null => prop_assert_eq!(&user.hashed_password, &None),
        stored => prop_assert_eq!(stored.as_text(), user.hashed_password.as_deref()),
    }
    let text = row.attributes.as_text();
    let parsed = text.and_then(|text| serde_json::from_str::<Value>(text).ok());
    prop_assert_eq!(parsed, Some(Value::Object(user.attributes.clone())));
    Ok(())
}

/// Checks a session read back from `row`: every field equals what the row
/// stores, and the times were stored as integers.
fn check_session(session: &adapter_api::Session, row: &SessionRow) -> Result<(), TestCaseError> {
    prop_assert_eq!(row.id.as_text(), Some(session.id.as_str()));
    prop_assert_eq!(row.user_id.as_text(), Some(session.user_id.as_str()));
    prop_assert_eq!(&row.expires, &Stored::Integer(session.expires));
    prop_assert_eq!(&row.idle_expires, &Stored::Integer(session.idle_expires));
    Ok(())
}

/// Returns a valid user row, for sessions that need a user to join.
fn valid_user() -> UserRow {
    UserRow {
        id: Stored::Text("u".to_owned()),
        provider_id: Stored::Text("p".to_owned()),
        hashed_password: Stored::Null,
        attributes: Stored::Text("{}".to_owned()),
    }
}

/// Returns a valid session row of user `u`, for users read through a join.
fn valid_session() -> SessionRow {
    SessionRow {
        id: Stored::Text("s".to_owned()),
        user_id: Stored::Text("u".to_owned()),
        expires: Stored::Integer(1),
        idle_expires: Stored::Integer(2),
    }
}

async fn read_user_row(row: UserRow) -> Result<(), TestCaseError> {
    let (adapter, pool) = untyped_store().await;
    plant_user(&pool, &row).await;
    plant_session(&pool, &valid_session()).await;

    for (operation, result) in [
        ("get_user", adapter.get_user("u").await),
        (
            "get_user_by_provider_id",
            adapter.get_user_by_provider_id("p").await,
        ),
    ] {
        match result {
            Ok(Some(user)) => check_user(&user, &row)?,
            Ok(None) => {}
            Err(err) => check_corrupt(&err, "users", &USER_COLUMNS)
                .map_err(|fail| TestCaseError::fail(format!("{operation}: {fail}")))?,
        }
    }

    match adapter.get_session_and_user("s").await {
        Ok(Some((_, user))) => check_user(&user, &row)?,
        Ok(None) => {}
        Err(err) => check_corrupt(&err, "users", &USER_COLUMNS)?,
    }

    // An update reads the row first. A row it cannot read is reported, and
    // a row whose id is not the text `u` does not match: SQLite never finds
    // a blob or a number equal to text.
    match adapter
        .update_user("u", UserPatch::new().attribute("n", 1))
        .await
    {
        Ok(user) => {
            prop_assert_eq!(user.id.as_str(), "u");
            prop_assert_eq!(user.attributes.get("n"), Some(&Value::from(1)));
        }
        Err(Error::InvalidUserId { .. }) => {
            prop_assert_ne!(&row.id, &Stored::Text("u".to_owned()));
        }
        Err(err) => check_corrupt(&err, "users", &USER_COLUMNS)?,
    }
    pool.close().await;
    Ok(())
}

async fn read_session_row(row: SessionRow) -> Result<(), TestCaseError> {
    let (adapter, pool) = untyped_store().await;
    plant_user(&pool, &valid_user()).await;
    plant_session(&pool, &row).await;

    match adapter.get_session("s").await {
        Ok(Some(session)) => check_session(&session, &row)?,
        Ok(None) => {}
        Err(err) => check_corrupt(&err, "sessions", &SESSION_COLUMNS)?,
    }
    match adapter.get_sessions_by_user_id("u").await {
        Ok(sessions) => {
            for session in &sessions {
                check_session(session, &row)?;
            }
        }
        Err(err) => check_corrupt(&err, "sessions", &SESSION_COLUMNS)?,
    }
    match adapter.get_session_and_user("s").await {
        Ok(Some((session, _))) => check_session(&session, &row)?,
        Ok(None) => {}
        Err(err) => check_corrupt(&err, "sessions", &SESSION_COLUMNS)?,
    }

    // A renewal returns the row it wrote, read back like any other.
    match adapter.update_session("s", 5, 6).await {
        Ok(session) => {
            prop_assert_eq!(session.id.as_str(), "s");
            prop_assert_eq!((session.expires, session.idle_expires), (5, 6));
            prop_assert_eq!(row.user_id.as_text(), Some(session.user_id.as_str()));
        }
        Err(Error::InvalidSessionId { .. }) => {
            prop_assert_ne!(&row.id, &Stored::Text("s".to_owned()));
        }
        Err(err) => check_corrupt(&err, "sessions", &SESSION_COLUMNS)?,
    }
    pool.close().await;
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        // Integration tests have no lib.rs beside them for proptest to
        // store regressions next to, so a failure is only printed.
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_user_row_reads_or_is_corrupt(row in user_row()) {
        block_on(read_user_row(row))?;
    }

    #[test]
    fn any_session_row_reads_or_is_corrupt(row in session_row()) {
        block_on(read_session_row(row))?;
    }
}
