//! Setup of PostgreSQL and MySQL targets: a fresh schema or database per
//! case on a running server, dropped when the case ends.

use std::str::FromStr;
use std::sync::Arc;
use std::time::Duration;

use adapter_conformance::{SetupError, Target};
use adapter_sql::Sides;
use adapter_sql::sqlx::mysql::{MySqlConnectOptions, MySqlPoolOptions};
use adapter_sql::sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use adapter_sql::sqlx::{AssertSqlSafe, Connection, MySqlConnection, PgConnection};

use super::{Server, raw, target};

/// How long a setup waits for a server to accept a connection before it
/// reports the backend as unavailable.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Connections per case: enough for the suite's concurrency cases.
const POOL_SIZE: u32 = 4;

pub(super) async fn setup_postgres(
    server: &Server,
    schema: &str,
    sides: Sides,
) -> Result<Target, SetupError> {
    let options =
        PgConnectOptions::from_str(&server.url).map_err(|err| invalid_url(server, err))?;
    let mut admin = connect(server, PgConnection::connect_with(&options)).await?;
    // `schema` holds only letters, digits and underscores.
    adapter_sql::sqlx::query(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&mut admin)
        .await
        .map_err(|err| SetupError::Failed(err.into()))?;

    // Setting search_path at connect time puts every connection of the
    // pool, and so the adapter's unqualified tables, in the case's schema.
    let pool = PgPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.options([("search_path", schema)]))
        .await
        .map_err(|err| SetupError::Failed(err.into()))?;
    let target = target(pool.clone(), sides, Arc::new(raw::PgRaw(pool.clone()))).await?;

    let drop_schema = format!("DROP SCHEMA IF EXISTS {schema} CASCADE");
    Ok(target.with_cleanup(move || {
        Box::pin(async move {
            pool.close().await;
            // A schema left behind by a failed drop is harmless to other
            // cases, which all use their own.
            let _ = adapter_sql::sqlx::query(AssertSqlSafe(drop_schema))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        })
    }))
}

pub(super) async fn setup_mysql(
    server: &Server,
    database: &str,
    sides: Sides,
) -> Result<Target, SetupError> {
    let options =
        MySqlConnectOptions::from_str(&server.url).map_err(|err| invalid_url(server, err))?;
    let mut admin = connect(server, MySqlConnection::connect_with(&options)).await?;
    // `database` holds only letters, digits and underscores.
    adapter_sql::sqlx::query(AssertSqlSafe(format!(
        "CREATE DATABASE {database} CHARACTER SET utf8mb4"
    )))
    .execute(&mut admin)
    .await
    .map_err(|err| SetupError::Failed(err.into()))?;

    let pool = MySqlPoolOptions::new()
        .max_connections(POOL_SIZE)
        .acquire_timeout(CONNECT_TIMEOUT)
        .connect_with(options.database(database))
        .await
        .map_err(|err| SetupError::Failed(err.into()))?;
    let target = target(pool.clone(), sides, Arc::new(raw::MySqlRaw(pool.clone()))).await?;

    let drop_database = format!("DROP DATABASE IF EXISTS {database}");
    Ok(target.with_cleanup(move || {
        Box::pin(async move {
            pool.close().await;
            let _ = adapter_sql::sqlx::query(AssertSqlSafe(drop_database))
                .execute(&mut admin)
                .await;
            let _ = admin.close().await;
        })
    }))
}

/// Opens the admin connection, turning a server that does not respond into
/// [`SetupError::Unavailable`].
async fn connect<C>(
    server: &Server,
    connecting: impl Future<Output = Result<C, adapter_sql::sqlx::Error>>,
) -> Result<C, SetupError> {
    let unavailable = |reason: String| {
        SetupError::Unavailable(format!(
            "no connection to {}: {reason}; start the server with scripts/ensure-sql-servers",
            server.describe()
        ))
    };
    match tokio::time::timeout(CONNECT_TIMEOUT, connecting).await {
        Err(_) => Err(unavailable(format!(
            "timed out after {} s",
            CONNECT_TIMEOUT.as_secs()
        ))),
        Ok(Err(err @ (adapter_sql::sqlx::Error::Io(_) | adapter_sql::sqlx::Error::Tls(_)))) => {
            Err(unavailable(err.to_string()))
        }
        Ok(Err(err)) => Err(SetupError::Failed(
            format!("connecting to {} failed: {err}", server.describe()).into(),
        )),
        Ok(Ok(conn)) => Ok(conn),
    }
}

fn invalid_url(server: &Server, err: adapter_sql::sqlx::Error) -> SetupError {
    SetupError::Failed(format!("invalid URL {}: {err}", server.describe()).into())
}
