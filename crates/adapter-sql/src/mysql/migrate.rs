//! MySQL and MariaDB schema.

use adapter_api::Result;
use sqlx::{AssertSqlSafe, MySql};

use crate::SqlAdapter;
use crate::migrate::Schema;

// `{collation}` is replaced by the collation `migrate` picks. `attributes`
// is LONGTEXT with a JSON_VALID check rather than MySQL's JSON type, which
// stores a binary form and prints numbers its own way, so serde_json's
// text would not come back unchanged. (MariaDB's JSON is this same
// LONGTEXT and check.)
const USERS: &str = "CREATE TABLE IF NOT EXISTS users (
    id VARCHAR(255) NOT NULL,
    provider_id VARCHAR(255) NOT NULL,
    hashed_password LONGTEXT NULL,
    attributes LONGTEXT NOT NULL,
    PRIMARY KEY (id),
    UNIQUE KEY users_provider_id_key (provider_id),
    CONSTRAINT users_attributes_json CHECK (JSON_VALID(attributes))
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE {collation}";

// MySQL has no CREATE INDEX IF NOT EXISTS (MariaDB has), so the indexes are
// part of the table statements.
const SESSIONS_WITH_USERS: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY sessions_user_id_idx (user_id),
    KEY sessions_idle_expires_idx (idle_expires),
    CONSTRAINT sessions_user_id_fkey FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE {collation}";

const SESSIONS_ALONE: &str = "CREATE TABLE IF NOT EXISTS sessions (
    id VARCHAR(255) NOT NULL,
    user_id VARCHAR(255) NOT NULL,
    expires BIGINT NOT NULL,
    idle_expires BIGINT NOT NULL,
    PRIMARY KEY (id),
    KEY sessions_user_id_idx (user_id),
    KEY sessions_idle_expires_idx (idle_expires)
) ENGINE = InnoDB DEFAULT CHARACTER SET utf8mb4 COLLATE {collation}";

const SCHEMA: Schema<'static> = Schema {
    users: USERS,
    sessions_with_users: SESSIONS_WITH_USERS,
    sessions_alone: SESSIONS_ALONE,
    session_indexes: &[],
};

/// Binary, NO PAD collations in order of preference: MySQL 8.0.17 and
/// later has the first, MariaDB 10.2 and later the second. Binary makes
/// comparison case-sensitive and NO PAD makes trailing spaces count.
const COLLATIONS: [&str; 2] = ["utf8mb4_0900_bin", "utf8mb4_nopad_bin"];

/// Name of the `GET_LOCK` lock that serializes migrations, because DDL
/// statements commit on their own and cannot share a transaction.
const MIGRATION_LOCK: &str = "adapter_sql_migrate";
const MIGRATION_LOCK_TIMEOUT_SECONDS: i64 = 30;

impl SqlAdapter<MySql> {
    /// Creates the tables and indexes of this adapter's
    /// [`Sides`](crate::Sides) where they do not exist, in the connection's
    /// current database. Safe to call on every start and from several
    /// processes at once (they wait on a named lock).
    ///
    /// # Errors
    /// [`Error::Backend`](adapter_api::Error::Backend) when a statement
    /// fails, when the migration lock is not free within 30 seconds, or
    /// when the server has neither `utf8mb4_0900_bin` nor
    /// `utf8mb4_nopad_bin`.
    pub async fn migrate(&self) -> Result<()> {
        let fail = |err| super::error::CLASSIFIER.backend(self.error_hook.as_ref(), "migrate", err);
        let mut conn = self.pool.acquire().await.map_err(fail)?;

        let locked: Option<i64> = sqlx::query_scalar("SELECT GET_LOCK(?, ?)")
            .bind(MIGRATION_LOCK)
            .bind(MIGRATION_LOCK_TIMEOUT_SECONDS)
            .fetch_one(&mut *conn)
            .await
            .map_err(fail)?;
        if locked != Some(1) {
            return Err(fail(sqlx::Error::Protocol(format!(
                "the migration lock {MIGRATION_LOCK} was not free within {MIGRATION_LOCK_TIMEOUT_SECONDS} s"
            ))));
        }

        let result = async {
            let collation = pick_collation(&mut conn).await?;
            for statement in SCHEMA.statements(self.sides) {
                let statement = statement.replace("{collation}", collation);
                // The only text spliced in is a name from `COLLATIONS`.
                sqlx::query(AssertSqlSafe(statement))
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }
        .await;

        // The lock also ends with the session; a failed release only keeps
        // it until the pool closes this connection.
        let _ = sqlx::query("SELECT RELEASE_LOCK(?)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await;
        result.map_err(fail)
    }
}

async fn pick_collation(conn: &mut sqlx::MySqlConnection) -> Result<&'static str, sqlx::Error> {
    let available: Vec<String> = sqlx::query_scalar(
        "SELECT COLLATION_NAME FROM information_schema.COLLATIONS WHERE COLLATION_NAME IN (?, ?)",
    )
    .bind(COLLATIONS[0])
    .bind(COLLATIONS[1])
    .fetch_all(conn)
    .await?;
    COLLATIONS
        .into_iter()
        .find(|name| available.iter().any(|found| found == name))
        .ok_or_else(|| {
            sqlx::Error::Protocol(format!(
                "the server has none of the collations {COLLATIONS:?}; MySQL 8.0.17 or MariaDB 10.2 is needed"
            ))
        })
}
