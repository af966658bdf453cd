//! Raw access to the SQL tables, mapping the suite's logical record shape
//! to rows and back.
//!
//! A user row is `id, provider_id, hashed_password, attributes` with the
//! attributes as JSON text; a session row is `id, user_id, expires,
//! idle_expires`. Planting bypasses the foreign key, so a session of a
//! missing user can be written. A shape that the columns cannot hold (a
//! number where text belongs, a missing NOT NULL column) is
//! [`PlantError::Unsupported`]. SQLite alone keeps a value of another type
//! in an integer column, so only there can a session carry `"expires":
//! "soon"`.

use adapter_api::BoxError;
use adapter_conformance::{PlantError, RawStore};
use adapter_sql::sqlx::{
    self, ColumnIndex, Database, Decode, Encode, MySqlPool, PgPool, Row, SqlitePool, Type,
};
use async_trait::async_trait;
use serde_json::{Map, Value};

/// Raw access to an SQLite database.
pub(super) struct SqliteRaw(pub SqlitePool);
/// Raw access to a PostgreSQL schema.
pub(super) struct PgRaw(pub PgPool);
/// Raw access to a MySQL or MariaDB database.
pub(super) struct MySqlRaw(pub MySqlPool);

/// A user record as column values.
struct UserRow {
    id: String,
    provider_id: String,
    hashed_password: Option<String>,
    attributes: String,
}

/// A session record as column values.
struct SessionRow {
    id: String,
    user_id: String,
    expires: Cell,
    idle_expires: Cell,
}

/// A value for an integer column.
enum Cell {
    Integer(i64),
    Float(f64),
    Text(String),
}

fn unsupported(reason: impl Into<String>) -> PlantError {
    PlantError::Unsupported(reason.into())
}

fn text_field(record: &Value, field: &str) -> Result<String, PlantError> {
    match record.get(field) {
        Some(Value::String(text)) => Ok(text.clone()),
        Some(other) => Err(unsupported(format!(
            "the text column {field} cannot hold the JSON value {other}"
        ))),
        None => Err(unsupported(format!(
            "the NOT NULL column {field} cannot be left out"
        ))),
    }
}

fn user_row(record: &Value) -> Result<UserRow, PlantError> {
    let hashed_password = match record.get("hashed_password") {
        None | Some(Value::Null) => None,
        Some(Value::String(hash)) => Some(hash.clone()),
        Some(other) => {
            return Err(unsupported(format!(
                "the text column hashed_password cannot hold the JSON value {other}"
            )));
        }
    };
    let attributes = record
        .get("attributes")
        .ok_or_else(|| unsupported("the NOT NULL column attributes cannot be left out"))?;
    Ok(UserRow {
        id: text_field(record, "id")?,
        provider_id: text_field(record, "provider_id")?,
        hashed_password,
        attributes: attributes.to_string(),
    })
}

/// Reads a session record; `loose` allows values other than integers in
/// the integer columns, which only SQLite stores as given.
fn session_row(record: &Value, loose: bool) -> Result<SessionRow, PlantError> {
    let integer_field = |field: &str| -> Result<Cell, PlantError> {
        match record.get(field) {
            Some(Value::Number(number)) if number.is_i64() => {
                Ok(Cell::Integer(number.as_i64().unwrap_or_default()))
            }
            Some(Value::Number(number)) if loose && number.is_f64() => {
                Ok(Cell::Float(number.as_f64().unwrap_or_default()))
            }
            Some(Value::String(text)) if loose => Ok(Cell::Text(text.clone())),
            Some(other) => Err(unsupported(format!(
                "the integer column {field} cannot hold the JSON value {other}"
            ))),
            None => Err(unsupported(format!(
                "the NOT NULL column {field} cannot be left out"
            ))),
        }
    };
    Ok(SessionRow {
        id: text_field(record, "id")?,
        user_id: text_field(record, "user_id")?,
        expires: integer_field("expires")?,
        idle_expires: integer_field("idle_expires")?,
    })
}

fn bind_cell<'q, DB>(
    query: sqlx::query::Query<'q, DB, DB::Arguments>,
    cell: Cell,
) -> sqlx::query::Query<'q, DB, DB::Arguments>
where
    DB: Database,
    for<'a> i64: Encode<'a, DB> + Type<DB>,
    for<'a> f64: Encode<'a, DB> + Type<DB>,
    for<'a> String: Encode<'a, DB> + Type<DB>,
{
    match cell {
        Cell::Integer(value) => query.bind(value),
        Cell::Float(value) => query.bind(value),
        Cell::Text(value) => query.bind(value),
    }
}

/// Reads one column as JSON by the type of the stored value.
fn cell_json<R>(row: &R, index: usize) -> Result<Value, BoxError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    if let Ok(value) = row.try_get::<Option<i64>, _>(index) {
        return Ok(value.map_or(Value::Null, Value::from));
    }
    if let Ok(value) = row.try_get::<Option<f64>, _>(index) {
        return Ok(value.map_or(Value::Null, Value::from));
    }
    Ok(row
        .try_get::<Option<String>, _>(index)?
        .map_or(Value::Null, Value::from))
}

fn user_json<R>(row: &R) -> Result<Value, BoxError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let attributes = match cell_json(row, 3)? {
        // Text that is not JSON comes back as the string it is.
        Value::String(text) => serde_json::from_str(&text).unwrap_or(Value::String(text)),
        other => other,
    };
    let mut user = Map::new();
    user.insert("id".into(), cell_json(row, 0)?);
    user.insert("provider_id".into(), cell_json(row, 1)?);
    user.insert("hashed_password".into(), cell_json(row, 2)?);
    user.insert("attributes".into(), attributes);
    Ok(Value::Object(user))
}

fn session_json<R>(row: &R) -> Result<Value, BoxError>
where
    R: Row,
    usize: ColumnIndex<R>,
    for<'r> i64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> f64: Decode<'r, R::Database> + Type<R::Database>,
    for<'r> String: Decode<'r, R::Database> + Type<R::Database>,
{
    let mut session = Map::new();
    for (index, field) in ["id", "user_id", "expires", "idle_expires"]
        .into_iter()
        .enumerate()
    {
        session.insert(field.into(), cell_json(row, index)?);
    }
    Ok(Value::Object(session))
}

fn count(value: i64) -> u64 {
    u64::try_from(value).unwrap_or_default()
}

/// Implements [`RawStore`] for one database's raw type with its statements.
macro_rules! impl_raw_store {
    ($raw:ty, loose = $loose:expr, sql = {
        read_user: $read_user:expr,
        read_session: $read_session:expr,
        insert_user: $insert_user:expr,
        insert_session: $insert_session:expr,
        foreign_keys_off: $fk_off:expr,
        foreign_keys_on: $fk_on:expr $(,)?
    }) => {
        #[async_trait]
        impl RawStore for $raw {
            async fn read_user(&self, id: &str) -> Result<Option<Value>, BoxError> {
                let row = sqlx::query($read_user)
                    .bind(id)
                    .fetch_optional(&self.0)
                    .await?;
                row.map(|row| user_json(&row)).transpose()
            }

            async fn read_session(&self, id: &str) -> Result<Option<Value>, BoxError> {
                let row = sqlx::query($read_session)
                    .bind(id)
                    .fetch_optional(&self.0)
                    .await?;
                row.map(|row| session_json(&row)).transpose()
            }

            async fn count_users(&self) -> Result<u64, BoxError> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users")
                    .fetch_one(&self.0)
                    .await?;
                Ok(count(total))
            }

            async fn count_sessions(&self) -> Result<u64, BoxError> {
                let total: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
                    .fetch_one(&self.0)
                    .await?;
                Ok(count(total))
            }

            async fn plant_user(&self, record: Value) -> Result<(), PlantError> {
                let row = user_row(&record)?;
                sqlx::query($insert_user)
                    .bind(row.id)
                    .bind(row.provider_id)
                    .bind(row.hashed_password)
                    .bind(row.attributes)
                    .execute(&self.0)
                    .await?;
                Ok(())
            }

            async fn plant_session(&self, record: Value) -> Result<(), PlantError> {
                let row = session_row(&record, $loose)?;
                // The foreign key check is a per-connection setting, so the
                // insert runs on the connection that turned it off, and the
                // connection gets it back before it returns to the pool.
                let mut conn = self.0.acquire().await?;
                sqlx::query($fk_off).execute(&mut *conn).await?;
                let query = sqlx::query($insert_session).bind(row.id).bind(row.user_id);
                let query = bind_cell(bind_cell(query, row.expires), row.idle_expires);
                let inserted = query.execute(&mut *conn).await;
                sqlx::query($fk_on).execute(&mut *conn).await?;
                inserted?;
                Ok(())
            }
        }
    };
}

impl_raw_store!(SqliteRaw, loose = true, sql = {
    read_user: "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?",
    read_session: "SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = ?",
    insert_user: "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES (?, ?, ?, ?)",
    insert_session: "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES (?, ?, ?, ?)",
    foreign_keys_off: "PRAGMA foreign_keys = OFF",
    foreign_keys_on: "PRAGMA foreign_keys = ON",
});

impl_raw_store!(PgRaw, loose = false, sql = {
    read_user: "SELECT id, provider_id, hashed_password, attributes::text FROM users WHERE id = $1",
    read_session: "SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = $1",
    insert_user: "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES ($1, $2, $3, $4::json)",
    insert_session: "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES ($1, $2, $3, $4)",
    // Replica mode skips the triggers that enforce foreign keys.
    foreign_keys_off: "SET session_replication_role = replica",
    foreign_keys_on: "SET session_replication_role = DEFAULT",
});

impl_raw_store!(MySqlRaw, loose = false, sql = {
    read_user: "SELECT id, provider_id, hashed_password, attributes FROM users WHERE id = ?",
    read_session: "SELECT id, user_id, expires, idle_expires FROM sessions WHERE id = ?",
    insert_user: "INSERT INTO users (id, provider_id, hashed_password, attributes) VALUES (?, ?, ?, ?)",
    insert_session: "INSERT INTO sessions (id, user_id, expires, idle_expires) VALUES (?, ?, ?, ?)",
    foreign_keys_off: "SET foreign_key_checks = 0",
    foreign_keys_on: "SET foreign_key_checks = 1",
});
