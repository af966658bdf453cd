//! Classification of MySQL and MariaDB errors by error number.
//!
//! The server reports a duplicate key (1062) without naming the key in a
//! field, only inside the message text, which this module does not parse.
//! `sessions` has one unique key and the adapter resolves a duplicate in
//! `users` by looking the id up.

use sqlx::error::DatabaseError;
use sqlx::mysql::MySqlDatabaseError;

use crate::error::{Classifier, Violation};

// Server error numbers, from
// https://dev.mysql.com/doc/mysql-errors/8.0/en/server-error-reference.html
// and https://mariadb.com/kb/en/mariadb-error-codes/.
const ER_DUP_ENTRY: u16 = 1062;
const ER_NO_REFERENCED_ROW: u16 = 1216;
const ER_NO_REFERENCED_ROW_2: u16 = 1452;
const ER_CON_COUNT_ERROR: u16 = 1040;
const ER_SERVER_SHUTDOWN: u16 = 1053;
const ER_LOCK_WAIT_TIMEOUT: u16 = 1205;
const ER_LOCK_DEADLOCK: u16 = 1213;
/// MariaDB: the connection was killed.
const ER_CONNECTION_KILLED: u16 = 1927;
/// MySQL 8.0: the server closed an idle connection.
const ER_CLIENT_INTERACTION_TIMEOUT: u16 = 4031;

pub(super) const CLASSIFIER: Classifier = Classifier {
    backend: "mysql",
    violation,
    retryable,
};

fn number(err: &dyn DatabaseError) -> Option<u16> {
    err.try_downcast_ref::<MySqlDatabaseError>()
        .map(MySqlDatabaseError::number)
}

fn violation(err: &dyn DatabaseError) -> Option<Violation> {
    match number(err)? {
        ER_DUP_ENTRY => Some(Violation::UnnamedUnique),
        ER_NO_REFERENCED_ROW | ER_NO_REFERENCED_ROW_2 => Some(Violation::ForeignKey),
        _ => None,
    }
}

fn retryable(err: &dyn DatabaseError) -> bool {
    matches!(
        number(err),
        Some(
            ER_CON_COUNT_ERROR
                | ER_SERVER_SHUTDOWN
                | ER_LOCK_WAIT_TIMEOUT
                | ER_LOCK_DEADLOCK
                | ER_CONNECTION_KILLED
                | ER_CLIENT_INTERACTION_TIMEOUT
        )
    )
}
