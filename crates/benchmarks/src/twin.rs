//! The hand-written twin of an adapter, and the comparison of every
//! operation of the contract through both, shared by all backends.

use std::future::Future;
use std::sync::Arc;

use adapter_api::{Session, SessionAndUserAdapter, User, UserPatch};
use async_trait::async_trait;

use crate::fixtures::{
    Expiry, due_time, planted_session_id, provider_id, scatter, session_id, user, user_id,
};
use crate::measure::{Bench, SessionLoad, Side};

/// Every operation of the contract written by hand for one backend, as an
/// application would write it with the same guarantees, plus the
/// bookkeeping the comparison needs.
///
/// `get_session` and `update_session` return `Send` futures because the
/// mixed load runs them on spawned tasks. The other operations run on the
/// bench thread only.
#[allow(async_fn_in_trait)]
pub trait Twin: Send + Sync {
    /// Stores records outside any measurement, in the store that `side`
    /// measures. A twin that shares the adapter's database ignores `side`.
    async fn plant(&self, side: Side, users: &[User], sessions: &[Session]);
    /// Removes every user and session that benchmark calls created or
    /// planted (see [`crate::fixtures::fresh_user_ids`]).
    async fn clean(&self);

    /// Returns a user by id.
    async fn get_user(&self, user_id: &str) -> Option<User>;
    /// Returns a user by provider id.
    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User>;
    /// Creates a user.
    async fn set_user(&self, user: User);
    /// Applies a patch and returns the user after it.
    async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User>;
    /// Deletes a user and the user's sessions.
    async fn delete_user(&self, user_id: &str);
    /// Returns a session by id.
    fn get_session(&self, session_id: &str) -> impl Future<Output = Option<Session>> + Send;
    /// Returns a user's sessions.
    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session>;
    /// Creates a session, rejecting one whose user does not exist.
    async fn set_session(&self, session: Session);
    /// Renews a session and returns it.
    fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> impl Future<Output = Option<Session>> + Send;
    /// Deletes the listed sessions.
    async fn delete_sessions(&self, session_ids: &[String]);
    /// Deletes a user's sessions.
    async fn delete_sessions_by_user_id(&self, user_id: &str);
    /// Deletes sessions with `idle_expires <= now` and returns how many.
    async fn delete_expired_sessions(&self, now: i64) -> u64;
    /// Returns a session and its user.
    async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)>;
}

/// An adapter and its twin on the same seeded records.
pub struct Subject<'a, A, T> {
    /// Backend name, such as `postgres`.
    pub backend: &'a str,
    /// The adapter under test.
    pub adapter: &'a A,
    /// The hand-written twin.
    pub twin: &'a T,
    /// Seeded users.
    pub users: u64,
    /// Seeded sessions.
    pub sessions: u64,
    /// Expiry times of the seeded sessions.
    pub expiry: Expiry,
}

impl<A, T> Subject<'_, A, T> {
    /// Id of a seeded user, spread over all of them by `index`.
    pub fn seeded_user(&self, index: u64) -> String {
        user_id(scatter(index, self.users))
    }

    /// Id of a seeded session, spread over all of them by `index`.
    pub fn seeded_session(&self, index: u64) -> String {
        session_id(scatter(index, self.sessions))
    }

    /// Two sessions per index with ids from [`planted_session_id`], owned
    /// by `owner(index)` and idle-expiring at `idle_expires(index)`.
    pub fn planted_pairs(
        &self,
        range: std::ops::Range<u64>,
        owner: impl Fn(u64) -> String,
        idle_expires: impl Fn(u64) -> i64,
    ) -> Vec<Session> {
        let mut planted = Vec::with_capacity(2 * (range.end - range.start) as usize);
        for index in range {
            for k in 0..2 {
                let idle = idle_expires(index);
                planted.push(Session::new(
                    planted_session_id(index, k),
                    owner(index),
                    idle.min(self.expiry.expires),
                    idle,
                ));
            }
        }
        planted
    }
}

/// Measures every operation of the contract through the adapter and
/// through the twin, cleaning up after each so that every operation runs
/// on the seeded records only.
pub async fn compare_operations<A: SessionAndUserAdapter, T: Twin>(
    bench: &mut Bench,
    subject: &Subject<'_, A, T>,
) {
    compare_user_operations(bench, subject).await;
    compare_session_operations(bench, subject).await;
}

async fn compare_user_operations<A: SessionAndUserAdapter, T: Twin>(
    bench: &mut Bench,
    subject: &Subject<'_, A, T>,
) {
    let (backend, adapter, twin) = (subject.backend, subject.adapter, subject.twin);
    let expiry = subject.expiry;

    bench
        .compare(
            backend,
            "get_user",
            async |_, _| {},
            async |i| {
                let id = subject.seeded_user(i);
                adapter.get_user(&id).await.expect("get_user");
            },
            async |i| {
                twin.get_user(&subject.seeded_user(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "get_user_by_provider_id",
            async |_, _| {},
            async |i| {
                let provider = provider_id(scatter(i, subject.users));
                adapter
                    .get_user_by_provider_id(&provider)
                    .await
                    .expect("get_user_by_provider_id");
            },
            async |i| {
                let provider = provider_id(scatter(i, subject.users));
                twin.get_user_by_provider_id(&provider).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "set_user",
            async |_, _| {},
            async |i| {
                adapter.set_user(user(i)).await.expect("set_user");
            },
            async |i| {
                twin.set_user(user(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "update_user",
            async |_, _| {},
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                let id = subject.seeded_user(i);
                adapter.update_user(&id, patch).await.expect("update_user");
            },
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                twin.update_user(&subject.seeded_user(i), &patch).await;
            },
        )
        .await;
    twin.clean().await;

    // Each call deletes a fresh user that owns one session, so the cascade
    // to the sessions is part of the measurement.
    bench
        .compare(
            backend,
            "delete_user",
            async |range, side| {
                let users: Vec<User> = range.clone().map(user).collect();
                let sessions: Vec<Session> = range
                    .map(|index| {
                        Session::new(
                            planted_session_id(index, 0),
                            user_id(index),
                            expiry.expires,
                            expiry.idle_expires,
                        )
                    })
                    .collect();
                twin.plant(side, &users, &sessions).await;
            },
            async |i| {
                adapter.delete_user(&user_id(i)).await.expect("delete_user");
            },
            async |i| {
                twin.delete_user(&user_id(i)).await;
            },
        )
        .await;
    twin.clean().await;
}

async fn compare_session_operations<A: SessionAndUserAdapter, T: Twin>(
    bench: &mut Bench,
    subject: &Subject<'_, A, T>,
) {
    let (backend, adapter, twin) = (subject.backend, subject.adapter, subject.twin);
    let expiry = subject.expiry;
    let renewal = |i: u64| {
        let expires = expiry.expires + (i % 1000) as i64;
        (expires, expires + 86_400_000)
    };

    bench
        .compare(
            backend,
            "get_session",
            async |_, _| {},
            async |i| {
                let id = subject.seeded_session(i);
                adapter.get_session(&id).await.expect("get_session");
            },
            async |i| {
                twin.get_session(&subject.seeded_session(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "get_sessions_by_user_id",
            async |_, _| {},
            async |i| {
                let id = subject.seeded_user(i);
                adapter
                    .get_sessions_by_user_id(&id)
                    .await
                    .expect("get_sessions_by_user_id");
            },
            async |i| {
                twin.get_sessions_by_user_id(&subject.seeded_user(i)).await;
            },
        )
        .await;
    twin.clean().await;

    let new_session = |i: u64| {
        Session::new(
            session_id(i),
            subject.seeded_user(i),
            expiry.expires,
            expiry.idle_expires,
        )
    };
    bench
        .compare(
            backend,
            "set_session",
            async |_, _| {},
            async |i| {
                adapter
                    .set_session(new_session(i))
                    .await
                    .expect("set_session");
            },
            async |i| {
                twin.set_session(new_session(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "update_session",
            async |_, _| {},
            async |i| {
                let (expires, idle_expires) = renewal(i);
                let id = subject.seeded_session(i);
                adapter
                    .update_session(&id, expires, idle_expires)
                    .await
                    .expect("update_session");
            },
            async |i| {
                let (expires, idle_expires) = renewal(i);
                twin.update_session(&subject.seeded_session(i), expires, idle_expires)
                    .await;
            },
        )
        .await;
    twin.clean().await;

    let planted_ids = |i: u64| [planted_session_id(i, 0), planted_session_id(i, 1)];
    bench
        .compare(
            backend,
            "delete_sessions",
            async |range, side| {
                let sessions = subject.planted_pairs(
                    range,
                    |index| subject.seeded_user(index),
                    |_| expiry.idle_expires,
                );
                twin.plant(side, &[], &sessions).await;
            },
            async |i| {
                adapter
                    .delete_sessions(&planted_ids(i))
                    .await
                    .expect("delete_sessions");
            },
            async |i| {
                twin.delete_sessions(&planted_ids(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "delete_sessions_by_user_id",
            async |range, side| {
                let users: Vec<User> = range.clone().map(user).collect();
                let sessions = subject.planted_pairs(range, user_id, |_| expiry.idle_expires);
                twin.plant(side, &users, &sessions).await;
            },
            async |i| {
                adapter
                    .delete_sessions_by_user_id(&user_id(i))
                    .await
                    .expect("delete_sessions_by_user_id");
            },
            async |i| {
                twin.delete_sessions_by_user_id(&user_id(i)).await;
            },
        )
        .await;
    twin.clean().await;

    // Each call finds the two sessions planted for it due, and no other.
    bench
        .compare(
            backend,
            "delete_expired_sessions",
            async |range, side| {
                let sessions =
                    subject.planted_pairs(range, |index| subject.seeded_user(index), due_time);
                twin.plant(side, &[], &sessions).await;
            },
            async |i| {
                adapter
                    .delete_expired_sessions(due_time(i))
                    .await
                    .expect("delete_expired_sessions");
            },
            async |i| {
                twin.delete_expired_sessions(due_time(i)).await;
            },
        )
        .await;
    twin.clean().await;

    bench
        .compare(
            backend,
            "get_session_and_user",
            async |_, _| {},
            async |i| {
                let id = subject.seeded_session(i);
                adapter
                    .get_session_and_user(&id)
                    .await
                    .expect("get_session_and_user");
            },
            async |i| {
                twin.get_session_and_user(&subject.seeded_session(i)).await;
            },
        )
        .await;
    twin.clean().await;
}

/// A twin as a mixed-load target.
pub struct TwinLoad<T>(pub Arc<T>);

#[async_trait]
impl<T: Twin + 'static> SessionLoad for TwinLoad<T> {
    async fn read(&self, session_id: &str) {
        self.0.get_session(session_id).await;
    }

    async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64) {
        self.0
            .update_session(session_id, expires, idle_expires)
            .await;
    }
}
