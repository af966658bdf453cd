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

use adapter_api::{Attributes, Session, SessionAndUserAdapter, User, UserPatch};
use tokio::runtime::Runtime;

use crate::fixtures::{
    Expiry, SESSIONS_PER_USER, due_time, planted_session_id, provider_id, scatter, session,
    session_id, user, user_id,
};
use crate::loads::AdapterLoad;
use crate::measure::{Bench, MixedLoad, SessionLoad, ThroughputComparison, compare_throughput};

pub use mysql::{DEFAULT_MYSQL_URL, MYSQL_URL_ENV};
pub use postgres::{DEFAULT_POSTGRES_URL, POSTGRES_URL_ENV};

/// Rows per multi-row `INSERT` while seeding: 4,000 parameters, below the
/// parameter limit of each database (32,766 for SQLite 3.32 and later).
const SEED_CHUNK: usize = 1_000;

/// Hand-written queries for one database. The futures need not be `Send`:
/// latency runs drive them on the bench thread.
#[allow(async_fn_in_trait)]
pub trait RawSql {
    /// Inserts users in multi-row statements.
    async fn insert_users(&self, users: &[User]);
    /// Inserts sessions in multi-row statements.
    async fn insert_sessions(&self, sessions: &[Session]);
    /// Removes every user and session that benchmark calls created or
    /// planted (see [`crate::fixtures::fresh_user_ids`]).
    async fn clean(&self);
    /// `SELECT` by primary key.
    async fn get_user(&self, user_id: &str) -> Option<User>;
    /// `SELECT` on the unique `provider_id`.
    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User>;
    /// One `INSERT`.
    async fn set_user(&self, user: &User);
    /// Locked read, merge in Rust, `UPDATE` of `attributes`, commit.
    async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User>;
    /// One `DELETE`; the foreign key cascades to the sessions.
    async fn delete_user(&self, user_id: &str);
    /// `SELECT` by primary key.
    async fn get_session(&self, session_id: &str) -> Option<Session>;
    /// `SELECT` on the `user_id` index.
    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session>;
    /// One `INSERT`; the foreign key rejects a missing user.
    async fn set_session(&self, session: &Session);
    /// Renews a session and returns it.
    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session>;
    /// One `DELETE ... IN` (or `= ANY`).
    async fn delete_sessions(&self, session_ids: &[String]);
    /// One `DELETE` on the `user_id` index.
    async fn delete_sessions_by_user_id(&self, user_id: &str);
    /// One `DELETE` on the `idle_expires` index.
    async fn delete_expired_sessions(&self, now: i64) -> u64;
    /// One `SELECT` joining sessions and users.
    async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)>;
}

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

impl<A, R: RawSql> Setup<A, R> {
    async fn seeded(backend: &'static str, adapter: A, raw: R, sessions: u64) -> Setup<A, R> {
        let users = sessions.div_ceil(SESSIONS_PER_USER);
        let expiry = Expiry::ahead();
        let all_users: Vec<User> = (0..users).map(user).collect();
        for chunk in all_users.chunks(SEED_CHUNK) {
            raw.insert_users(chunk).await;
        }
        let all_sessions: Vec<Session> =
            (0..sessions).map(|index| session(index, expiry)).collect();
        for chunk in all_sessions.chunks(SEED_CHUNK) {
            raw.insert_sessions(chunk).await;
        }
        Setup {
            backend,
            adapter,
            raw: Arc::new(raw),
            users,
            sessions,
            expiry,
        }
    }

    fn seeded_user(&self, index: u64) -> String {
        user_id(scatter(index, self.users))
    }

    fn seeded_session(&self, index: u64) -> String {
        session_id(scatter(index, self.sessions))
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
pub async fn compare_operations<A: SessionAndUserAdapter, R: RawSql>(
    bench: &mut Bench,
    setup: &Setup<A, R>,
) {
    let backend = setup.backend;
    let adapter = &setup.adapter;
    let raw = &*setup.raw;
    let expiry = setup.expiry;

    bench
        .compare(
            backend,
            "get_user",
            async |_, _| {},
            async |i| {
                adapter
                    .get_user(&setup.seeded_user(i))
                    .await
                    .expect("get_user");
            },
            async |i| {
                raw.get_user(&setup.seeded_user(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "get_user_by_provider_id",
            async |_, _| {},
            async |i| {
                let provider = provider_id(scatter(i, setup.users));
                adapter
                    .get_user_by_provider_id(&provider)
                    .await
                    .expect("get_user_by_provider_id");
            },
            async |i| {
                raw.get_user_by_provider_id(&provider_id(scatter(i, setup.users)))
                    .await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "set_user",
            async |_, _| {},
            async |i| {
                adapter.set_user(user(i)).await.expect("set_user");
            },
            async |i| {
                raw.set_user(&user(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "update_user",
            async |_, _| {},
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                adapter
                    .update_user(&setup.seeded_user(i), patch)
                    .await
                    .expect("update_user");
            },
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                raw.update_user(&setup.seeded_user(i), &patch).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "delete_user",
            async |range, _| {
                let users: Vec<User> = range.clone().map(user).collect();
                raw.insert_users(&users).await;
                let planted: Vec<Session> = range
                    .map(|index| {
                        Session::new(
                            planted_session_id(index, 0),
                            user_id(index),
                            expiry.expires,
                            expiry.idle_expires,
                        )
                    })
                    .collect();
                raw.insert_sessions(&planted).await;
            },
            async |i| {
                adapter.delete_user(&user_id(i)).await.expect("delete_user");
            },
            async |i| {
                raw.delete_user(&user_id(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "get_session",
            async |_, _| {},
            async |i| {
                adapter
                    .get_session(&setup.seeded_session(i))
                    .await
                    .expect("get_session");
            },
            async |i| {
                raw.get_session(&setup.seeded_session(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "get_sessions_by_user_id",
            async |_, _| {},
            async |i| {
                adapter
                    .get_sessions_by_user_id(&setup.seeded_user(i))
                    .await
                    .expect("get_sessions_by_user_id");
            },
            async |i| {
                raw.get_sessions_by_user_id(&setup.seeded_user(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "set_session",
            async |_, _| {},
            async |i| {
                let new = Session::new(
                    session_id(i),
                    setup.seeded_user(i),
                    expiry.expires,
                    expiry.idle_expires,
                );
                adapter.set_session(new).await.expect("set_session");
            },
            async |i| {
                let new = Session::new(
                    session_id(i),
                    setup.seeded_user(i),
                    expiry.expires,
                    expiry.idle_expires,
                );
                raw.set_session(&new).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "update_session",
            async |_, _| {},
            async |i| {
                let expires = expiry.expires + (i % 1000) as i64;
                adapter
                    .update_session(&setup.seeded_session(i), expires, expires + 86_400_000)
                    .await
                    .expect("update_session");
            },
            async |i| {
                let expires = expiry.expires + (i % 1000) as i64;
                raw.update_session(&setup.seeded_session(i), expires, expires + 86_400_000)
                    .await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "delete_sessions",
            async |range, _| {
                let planted: Vec<Session> = range
                    .flat_map(|index| {
                        (0..2).map(move |k| {
                            Session::new(
                                planted_session_id(index, k),
                                user_id(scatter(index, setup.users)),
                                expiry.expires,
                                expiry.idle_expires,
                            )
                        })
                    })
                    .collect();
                raw.insert_sessions(&planted).await;
            },
            async |i| {
                let ids = [planted_session_id(i, 0), planted_session_id(i, 1)];
                adapter
                    .delete_sessions(&ids)
                    .await
                    .expect("delete_sessions");
            },
            async |i| {
                raw.delete_sessions(&[planted_session_id(i, 0), planted_session_id(i, 1)])
                    .await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "delete_sessions_by_user_id",
            async |range, _| {
                let users: Vec<User> = range.clone().map(user).collect();
                raw.insert_users(&users).await;
                let planted: Vec<Session> = range
                    .flat_map(|index| {
                        (0..2).map(move |k| {
                            Session::new(
                                planted_session_id(index, k),
                                user_id(index),
                                expiry.expires,
                                expiry.idle_expires,
                            )
                        })
                    })
                    .collect();
                raw.insert_sessions(&planted).await;
            },
            async |i| {
                adapter
                    .delete_sessions_by_user_id(&user_id(i))
                    .await
                    .expect("delete_sessions_by_user_id");
            },
            async |i| {
                raw.delete_sessions_by_user_id(&user_id(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "delete_expired_sessions",
            async |range, _| {
                let planted: Vec<Session> = range
                    .flat_map(|index| {
                        (0..2).map(move |k| {
                            let due = due_time(index);
                            Session::new(
                                planted_session_id(index, k),
                                user_id(scatter(index, setup.users)),
                                due,
                                due,
                            )
                        })
                    })
                    .collect();
                raw.insert_sessions(&planted).await;
            },
            async |i| {
                adapter
                    .delete_expired_sessions(due_time(i))
                    .await
                    .expect("delete_expired_sessions");
            },
            async |i| {
                raw.delete_expired_sessions(due_time(i)).await;
            },
        )
        .await;
    raw.clean().await;
    bench
        .compare(
            backend,
            "get_session_and_user",
            async |_, _| {},
            async |i| {
                adapter
                    .get_session_and_user(&setup.seeded_session(i))
                    .await
                    .expect("get_session_and_user");
            },
            async |i| {
                raw.get_session_and_user(&setup.seeded_session(i)).await;
            },
        )
        .await;
}

/// Runs the mixed load with `tasks` concurrent tasks through the adapter
/// and through the twin.
pub fn compare_mixed_load<A, R>(
    runtime: &Runtime,
    setup: &Setup<A, R>,
    raw_load: Arc<dyn SessionLoad>,
    tasks: usize,
    duration: Duration,
    rounds: usize,
) -> ThroughputComparison
where
    A: SessionAndUserAdapter + Clone + 'static,
{
    let load = MixedLoad {
        tasks,
        read_percent: 80,
        duration,
        session_ids: Arc::new((0..setup.sessions).map(session_id).collect()),
        renew_expires: setup.expiry.expires,
    };
    let adapter: Arc<dyn SessionLoad> = Arc::new(AdapterLoad(Arc::new(setup.adapter.clone())));
    compare_throughput(runtime, setup.backend, &load, adapter, raw_load, rounds)
}

/// Implements [`SessionLoad`] for a twin type whose futures are `Send`.
macro_rules! raw_session_load {
    ($raw:ty) => {
        /// The twin as a mixed-load target.
        pub struct RawLoad(pub std::sync::Arc<$raw>);

        #[async_trait::async_trait]
        impl $crate::measure::SessionLoad for RawLoad {
            async fn read(&self, session_id: &str) {
                $crate::sql::RawSql::get_session(&*self.0, session_id).await;
            }

            async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64) {
                $crate::sql::RawSql::update_session(&*self.0, session_id, expires, idle_expires)
                    .await;
            }
        }
    };
}
use raw_session_load;

pub use mysql::connect as connect_mysql;
pub use postgres::connect as connect_postgres;
pub use sqlite::connect as connect_sqlite;
