//! SQL: every operation of `SqlAdapter` against hand-written sqlx queries
//! on the same pool, tables and indexes (the adapter's `migrate` creates
//! them), for SQLite, PostgreSQL and MySQL/MariaDB.
//!
//! The twins are what an application would write with the same
//! guarantees: one statement where one suffices, a locked read-modify-write
//! for a partial user update, the database's foreign key for the user
//! check. Each database gets its own schema or database, dropped at the
//! end, so the tests' tables are never touched.

pub mod mysql;
pub mod postgres;
pub mod sqlite;

use std::sync::Arc;
use std::time::Duration;

use adapter_api::{Attributes, Session, SessionAndUserAdapter, User};
use tokio::runtime::Runtime;

use crate::fixtures::{Expiry, SESSIONS_PER_USER, session, session_id, user};
use crate::loads::AdapterLoad;
use crate::measure::{
    Bench, MixedLoad, SessionLoad, Side, ThroughputComparison, compare_throughput,
};
use crate::twin::{Subject, Twin, TwinLoad};

pub use mysql::{DEFAULT_MYSQL_URL, MYSQL_URL_ENV};
pub use postgres::{DEFAULT_POSTGRES_URL, POSTGRES_URL_ENV};

/// Rows per multi-row `INSERT` while seeding: 4,000 parameters, below the
/// parameter limit of each database (32,766 for SQLite 3.32 and later).
const SEED_CHUNK: usize = 1_000;

/// An adapter and the hand-written twin on one seeded database.
pub struct Setup<A, R> {
    /// Backend name, such as `postgres`.
    pub backend: &'static str,
    /// The adapter under test.
    pub adapter: A,
    /// The twin on the same pool.
    pub raw: Arc<R>,
    users: u64,
    sessions: u64,
    expiry: Expiry,
}

impl<A, R: Twin> Setup<A, R> {
    async fn seeded(backend: &'static str, adapter: A, raw: R, sessions: u64) -> Setup<A, R> {
        let users = sessions.div_ceil(SESSIONS_PER_USER);
        let expiry = Expiry::ahead();
        let all_users: Vec<User> = (0..users).map(user).collect();
        let all_sessions: Vec<Session> =
            (0..sessions).map(|index| session(index, expiry)).collect();
        raw.plant(Side::Raw, &all_users, &all_sessions).await;
        Setup {
            backend,
            adapter,
            raw: Arc::new(raw),
            users,
            sessions,
            expiry,
        }
    }

    fn subject(&self) -> Subject<'_, A, R> {
        Subject {
            backend: self.backend,
            adapter: &self.adapter,
            twin: &self.raw,
            users: self.users,
            sessions: self.sessions,
            expiry: self.expiry,
        }
    }
}

/// Reads attributes stored as JSON text.
fn parse_attributes(text: &str) -> Attributes {
    match serde_json::from_str(text).expect("stored attributes are JSON") {
        serde_json::Value::Object(attributes) => attributes,
        other => panic!("stored attributes are not an object: {other}"),
    }
}

/// Builds a user from the four selected columns.
fn user_from_columns(
    (id, provider_id, hashed_password, attributes): (String, String, Option<String>, String),
) -> User {
    User {
        id,
        provider_id,
        hashed_password,
        attributes: parse_attributes(&attributes),
    }
}

/// Builds a session from the four selected columns.
fn session_from_columns(
    (id, user_id, expires, idle_expires): (String, String, i64, i64),
) -> Session {
    Session {
        id,
        user_id,
        expires,
        idle_expires,
    }
}

/// Measures every operation of the contract through the adapter and
/// through the twin.
pub async fn compare_operations<A: SessionAndUserAdapter, R: Twin>(
    bench: &mut Bench,
    setup: &Setup<A, R>,
) {
    crate::twin::compare_operations(bench, &setup.subject()).await;
}

/// Runs the mixed load with `tasks` concurrent tasks through the adapter
/// and through the twin.
pub fn compare_mixed_load<A, R>(
    runtime: &Runtime,
    setup: &Setup<A, R>,
    tasks: usize,
    duration: Duration,
    rounds: usize,
) -> ThroughputComparison
where
    A: SessionAndUserAdapter + Clone + 'static,
    R: Twin + 'static,
{
    let load = MixedLoad {
        tasks,
        read_percent: 80,
        duration,
        session_ids: Arc::new((0..setup.sessions).map(session_id).collect()),
        renew_expires: setup.expiry.expires,
    };
    let adapter: Arc<dyn SessionLoad> = Arc::new(AdapterLoad(Arc::new(setup.adapter.clone())));
    let raw: Arc<dyn SessionLoad> = Arc::new(TwinLoad(setup.raw.clone()));
    compare_throughput(runtime, setup.backend, &load, adapter, raw, rounds)
}

pub use mysql::connect as connect_mysql;
pub use postgres::connect as connect_postgres;
pub use sqlite::connect as connect_sqlite;
