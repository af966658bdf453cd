//! Mapping between rows and records. Every query selects the columns in the
//! order `USER_COLUMNS` and `SESSION_COLUMNS` list, so one reader serves all
//! of them, joins included.

use adapter_api::{Attributes, Error, Result, Session, User};
use serde_json::Value;
use sqlx::{ColumnIndex, Decode, Row, Type};

/// Name of the user table, as reported in [`Error::CorruptRecord`].
pub(crate) const USERS: &str = "users";
/// Name of the session table, as reported in [`Error::CorruptRecord`].
pub(crate) const SESSIONS: &str = "sessions";

/// Shown as the record id when the id column itself cannot be read.
const UNREADABLE_ID: &str = "<unreadable id>";

/// Reads a user from the four columns `id, provider_id, hashed_password,
/// attributes` starting at `first`.
///
/// `attributes` must arrive as text (PostgreSQL queries cast the `json`
/// column to `text`) and is parsed here, so its numbers keep the exact form
/// serde_json wrote: an integer stays an integer and a float a float.
pub(crate) fn user_from_row<R>(row: &R, first: usize) -> Result<User>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let id = required::<R, String>(row, first, USERS, UNREADABLE_ID, "id")?;
    let provider_id = required::<R, String>(row, first + 1, USERS, &id, "provider_id")?;
    let hashed_password = optional::<R, String>(row, first + 2, USERS, &id, "hashed_password")?;
    let attributes_text = required::<R, String>(row, first + 3, USERS, &id, "attributes")?;
    let attributes = parse_attributes(&attributes_text, &id)?;
    Ok(User {
        id,
        provider_id,
        hashed_password,
        attributes,
    })
}

/// Reads a session from the four columns `id, user_id, expires,
/// idle_expires` starting at `first`.
pub(crate) fn session_from_row<R>(row: &R, first: usize) -> Result<Session>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
{
    let id = required::<R, String>(row, first, SESSIONS, UNREADABLE_ID, "id")?;
    let user_id = required::<R, String>(row, first + 1, SESSIONS, &id, "user_id")?;
    let expires = required::<R, i64>(row, first + 2, SESSIONS, &id, "expires")?;
    let idle_expires = required::<R, i64>(row, first + 3, SESSIONS, &id, "idle_expires")?;
    Ok(Session {
        id,
        user_id,
        expires,
        idle_expires,
    })
}

/// Serializes attributes as the text every database stores.
pub(crate) fn attributes_to_text(attributes: &Attributes) -> String {
    // A map of `serde_json::Value` always serializes, so the fallback is
    // never taken.
    serde_json::to_string(attributes).unwrap_or_else(|_| "{}".to_owned())
}

fn parse_attributes(text: &str, user_id: &str) -> Result<Attributes> {
    match serde_json::from_str::<Value>(text) {
        Ok(Value::Object(attributes)) => Ok(attributes),
        Ok(other) => Err(corrupt(
            USERS,
            user_id,
            "attributes",
            format!("is JSON {} instead of an object", json_kind(&other)),
        )),
        Err(err) => Err(corrupt(
            USERS,
            user_id,
            "attributes",
            format!("is not valid JSON: {err}"),
        )),
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

fn required<R, T>(row: &R, index: usize, table: &str, record_id: &str, column: &str) -> Result<T>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> T: Decode<'r, R::Database> + Type<R::Database>,
{
    optional::<R, T>(row, index, table, record_id, column)?
        .ok_or_else(|| corrupt(table, record_id, column, "is NULL"))
}

fn optional<R, T>(
    row: &R,
    index: usize,
    table: &str,
    record_id: &str,
    column: &str,
) -> Result<Option<T>>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> T: Decode<'r, R::Database> + Type<R::Database>,
{
    // A decode error here means the stored value has a type the column
    // should not hold (SQLite keeps whatever type was written), so it is a
    // corrupt record rather than a backend failure.
    row.try_get::<Option<T>, _>(index)
        .map_err(|err| corrupt(table, record_id, column, format!("cannot be read: {err}")))
}

fn corrupt(table: &str, record_id: &str, column: &str, reason: impl Into<String>) -> Error {
    Error::corrupt_record(table, record_id, column, reason)
}
