//! Helpers shared by the database tests: records, and a fresh PostgreSQL
//! schema or MySQL database per test on the local servers.

#![allow(dead_code)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use adapter_api::{Error, NewUser, Session, SessionAndUserAdapter, User, UserPatch};
use serde_json::json;

/// PostgreSQL server of the tests, unless `POSTGRES_URL` names another.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// MySQL or MariaDB server of the tests, unless `MYSQL_URL` names another.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Returns a schema or database name that no other test uses.
pub fn unique_name(prefix: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

/// Returns the server URL from `env`, or `default`.
pub fn server_url(env: &str, default: &str) -> String {
    std::env::var(env)
        .ok()
        .filter(|url| !url.trim().is_empty())
        .unwrap_or_else(|| default.to_owned())
}

/// Builds a user with this id and provider id, no password and no
/// attributes.
pub fn user(id: &str, provider_id: &str) -> User {
    NewUser::new(provider_id).into_user(id.to_owned())
}

/// Builds a user whose attributes hold numbers that lose their kind or
/// value in a careless JSON store.
pub fn numeric_user() -> User {
    let attributes = json!({
        "integer": 1,
        "float": 1.0,
        "large_float": 1e16,
        "tiny_float": 5e-324,
        "sum": 0.1 + 0.2,
        "max_float": f64::MAX,
        "max_integer": i64::MAX,
        "min_integer": i64::MIN,
        "nested": {"list": [1, 1.5, -0.0, "2"]},
    });
    User {
        attributes: attributes.as_object().cloned().unwrap_or_default(),
        ..user("numbers", "provider:numbers")
    }
}

/// Asserts that every number in the stored attributes kept its kind and
/// value.
pub fn assert_numbers_exact(stored: &User) {
    let expected = numeric_user();
    assert_eq!(stored.attributes, expected.attributes);
    let attributes = &stored.attributes;
    assert!(
        attributes["integer"].is_i64(),
        "{:?}",
        attributes["integer"]
    );
    assert!(attributes["float"].is_f64(), "{:?}", attributes["float"]);
    assert!(
        attributes["large_float"].is_f64(),
        "{:?}",
        attributes["large_float"]
    );
    assert!(
        attributes["max_integer"].is_i64(),
        "{:?}",
        attributes["max_integer"]
    );
    assert_eq!(attributes["tiny_float"].as_f64(), Some(5e-324));
    assert_eq!(attributes["sum"].as_f64(), Some(0.1 + 0.2));
    assert!(attributes["nested"]["list"][1].is_f64());
}

/// Asserts that `result` is a corrupt-record error for this table, record
/// and column.
#[track_caller]
pub fn assert_corrupt<T: std::fmt::Debug>(
    result: adapter_api::Result<T>,
    table: &str,
    record_id: &str,
    column: &str,
) {
    match result {
        Err(Error::CorruptRecord {
            collection,
            record_id: actual_id,
            field,
            ..
        }) => {
            assert_eq!(collection, table);
            assert_eq!(actual_id, record_id);
            assert_eq!(field, column);
        }
        other => panic!("expected CorruptRecord {table}/{record_id}/{column}, got {other:?}"),
    }
}

/// Creates users `u1` (`p1`) and `u2` (`p2`) and session `s1` of `u1`, then
/// checks that every collision gets its own error variant. Afterwards the
/// tables must still hold exactly those two users and that one session,
/// with `u2` keeping `p2`. The caller checks that on the raw tables.
pub async fn assert_duplicates_classified(adapter: &dyn SessionAndUserAdapter) {
    adapter.set_user(user("u1", "p1")).await.unwrap();
    adapter.set_user(user("u2", "p2")).await.unwrap();

    let err = adapter.set_user(user("u1", "p9")).await.unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateUserId { user_id } if user_id == "u1"),
        "{err:?}"
    );
    let err = adapter.set_user(user("u9", "p1")).await.unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "p1"),
        "{err:?}"
    );
    let err = adapter
        .update_user("u2", UserPatch::new().provider_id("p1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "p1"),
        "{err:?}"
    );

    adapter
        .set_session(Session::new("s1", "u1", 1, 2))
        .await
        .unwrap();
    let err = adapter
        .set_session(Session::new("s1", "u2", 1, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateSessionId { session_id } if session_id == "s1"),
        "{err:?}"
    );
    let err = adapter
        .set_session(Session::new("s2", "ghost", 1, 2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == "ghost"),
        "{err:?}"
    );
}

/// Rows with a NULL in a required column, for tables made by hand without
/// NOT NULL. Columns: `id, provider_id, hashed_password, attributes`.
pub const NULL_USER_ROWS: &str = "INSERT INTO users VALUES ('no-provider', NULL, NULL, '{}'), ('no-attributes', 'p2', NULL, NULL)";
/// Session rows with a NULL in a required column. Columns: `id, user_id,
/// expires, idle_expires`.
pub const NULL_SESSION_ROWS: &str =
    "INSERT INTO sessions VALUES ('no-user', NULL, 1, 2), ('no-idle', 'u1', 1, NULL)";

/// Checks that every row of [`NULL_USER_ROWS`] and [`NULL_SESSION_ROWS`]
/// reads as a corrupt record naming its NULL column.
pub async fn assert_null_columns_reported(adapter: &dyn SessionAndUserAdapter) {
    assert_corrupt(
        adapter.get_user("no-provider").await,
        "users",
        "no-provider",
        "provider_id",
    );
    assert_corrupt(
        adapter.get_user("no-attributes").await,
        "users",
        "no-attributes",
        "attributes",
    );
    assert_corrupt(
        adapter.get_session("no-user").await,
        "sessions",
        "no-user",
        "user_id",
    );
    assert_corrupt(
        adapter.get_sessions_by_user_id("u1").await,
        "sessions",
        "no-idle",
        "idle_expires",
    );
}

/// Returns the database error code (SQLSTATE, SQLite extended result code
/// or MySQL SQLSTATE) behind a backend error.
pub fn database_code(err: &Error) -> Option<String> {
    let Error::Backend(backend) = err else {
        return None;
    };
    let source = backend.source.downcast_ref::<adapter_sql::sqlx::Error>()?;
    Some(source.as_database_error()?.code()?.into_owned())
}

/// Checks that ids with a NUL character, which no table can hold, match
/// nothing on every operation instead of failing: PostgreSQL rejects NUL in
/// a text parameter, so the adapter must not send them.
pub async fn assert_nul_ids_match_nothing(adapter: &dyn SessionAndUserAdapter) {
    let id = "a\0b";
    adapter.set_user(user("u1", "p1")).await.unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 1, 2))
        .await
        .unwrap();

    assert_eq!(adapter.get_user(id).await.unwrap(), None);
    assert_eq!(adapter.get_user_by_provider_id(id).await.unwrap(), None);
    assert_eq!(adapter.get_session(id).await.unwrap(), None);
    assert_eq!(adapter.get_sessions_by_user_id(id).await.unwrap(), []);
    assert_eq!(adapter.get_session_and_user(id).await.unwrap(), None);
    adapter.delete_user(id).await.unwrap();
    adapter.delete_sessions_by_user_id(id).await.unwrap();
    adapter
        .delete_sessions(&[id.to_owned(), "s1".to_owned()])
        .await
        .unwrap();

    let err = adapter
        .update_user(id, UserPatch::new().attribute("a", 1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == id),
        "{err:?}"
    );
    let err = adapter.update_session(id, 1, 2).await.unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSessionId { session_id } if session_id == id),
        "{err:?}"
    );

    // The valid id in the list was deleted, the user was not touched.
    assert_eq!(adapter.get_session("s1").await.unwrap(), None);
    assert!(adapter.get_user("u1").await.unwrap().is_some());
}
