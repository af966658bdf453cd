//! The memory backend against the `Mutex<HashMap>` baseline: every
//! operation, the mixed two-thread load, and lookups at two store sizes.

use std::sync::Arc;
use std::time::Duration;

use adapter_api::{Session, SessionAdapter, User, UserAdapter, UserPatch, now_millis};
use adapter_memory::MemoryAdapter;
use async_trait::async_trait;
use tokio::runtime::Runtime;

use crate::baseline::{MutexStore, TokioMutexSessions};
use crate::fixtures::{
    Expiry, SESSIONS_PER_USER, due_time, is_fresh_session, is_fresh_user, session, session_id, user,
};
use crate::loads::AdapterLoad;
use crate::measure::{
    Bench, MixedLoad, SessionLoad, Settings, Side, Summary, ThroughputComparison,
    compare_throughput,
};
use crate::twin::{Subject, Twin};

const BACKEND: &str = "memory";

/// The memory adapter and the baseline, seeded with the same records.
pub struct Stores {
    /// The adapter under test, with both sides.
    pub adapter: MemoryAdapter,
    /// The baseline.
    pub baseline: Arc<MutexStore>,
    /// Seeded users.
    pub users: u64,
    /// Seeded sessions.
    pub sessions: u64,
    expiry: Expiry,
}

impl Stores {
    /// Seeds both stores with `sessions` sessions, four per user.
    pub async fn seeded(sessions: u64) -> Stores {
        let adapter = MemoryAdapter::new();
        let baseline = Arc::new(MutexStore::new());
        let users = sessions.div_ceil(SESSIONS_PER_USER);
        let expiry = Expiry::ahead();
        for index in 0..users {
            adapter.set_user(user(index)).await.expect("seeding a user");
            baseline.set_user(user(index)).await;
        }
        for index in 0..sessions {
            adapter
                .set_session(session(index, expiry))
                .await
                .expect("seeding a session");
            baseline.set_session(session(index, expiry)).await;
        }
        Stores {
            adapter,
            baseline,
            users,
            sessions,
            expiry,
        }
    }

    /// Returns the adapter with the baseline as its twin.
    fn subject(&self) -> Subject<'_, MemoryAdapter, Stores> {
        Subject {
            backend: BACKEND,
            adapter: &self.adapter,
            twin: self,
            users: self.users,
            sessions: self.sessions,
            expiry: self.expiry,
        }
    }
}

/// The baseline as the twin of the memory adapter. Both stores live in this
/// process, so planting goes to the store that the side measures.
impl Twin for Stores {
    async fn plant(&self, side: Side, users: &[User], sessions: &[Session]) {
        match side {
            Side::Adapter => {
                for user in users {
                    self.adapter
                        .set_user(user.clone())
                        .await
                        .expect("planting a user");
                }
                for planted in sessions {
                    self.adapter
                        .set_session(planted.clone())
                        .await
                        .expect("planting a session");
                }
            }
            Side::Raw => {
                for user in users {
                    self.baseline.set_user(user.clone()).await;
                }
                for planted in sessions {
                    self.baseline.set_session(planted.clone()).await;
                }
            }
        }
    }

    async fn clean(&self) {
        for stored in self.adapter.stored_users() {
            if is_fresh_user(&stored.id) {
                self.adapter
                    .delete_user(&stored.id)
                    .await
                    .expect("removing a user");
            }
        }
        let fresh: Vec<String> = self
            .adapter
            .stored_sessions()
            .into_iter()
            .map(|stored| stored.id)
            .filter(|id| is_fresh_session(id))
            .collect();
        self.adapter
            .delete_sessions(&fresh)
            .await
            .expect("removing sessions");
        self.baseline.remove_where(
            |stored| is_fresh_user(&stored.id),
            |stored| is_fresh_session(&stored.id),
        );
    }

    async fn get_user(&self, user_id: &str) -> Option<User> {
        self.baseline.get_user(user_id).await
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User> {
        self.baseline.get_user_by_provider_id(provider_id).await
    }

    async fn set_user(&self, user: User) {
        self.baseline.set_user(user).await;
    }

    async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User> {
        self.baseline.update_user(user_id, patch).await
    }

    async fn delete_user(&self, user_id: &str) {
        self.baseline.delete_user(user_id).await;
    }

    async fn get_session(&self, session_id: &str) -> Option<Session> {
        self.baseline.get_session(session_id).await
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session> {
        self.baseline.get_sessions_by_user_id(user_id).await
    }

    async fn set_session(&self, session: Session) {
        self.baseline.set_session(session).await;
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        self.baseline
            .update_session(session_id, expires, idle_expires)
            .await
    }

    async fn delete_sessions(&self, session_ids: &[String]) {
        self.baseline.delete_sessions(session_ids).await;
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) {
        self.baseline.delete_sessions_by_user_id(user_id).await;
    }

    async fn delete_expired_sessions(&self, now: i64) -> u64 {
        self.baseline.delete_expired_sessions(now).await
    }

    async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)> {
        self.baseline.get_session_and_user(session_id).await
    }
}

/// Measures every operation of the contract on both stores.
pub async fn compare_operations(bench: &mut Bench, stores: &Stores) {
    crate::twin::compare_operations(bench, &stores.subject()).await;
}

/// The baseline as a [`SessionLoad`].
struct BaselineLoad(Arc<MutexStore>);

#[async_trait]
impl SessionLoad for BaselineLoad {
    async fn read(&self, session_id: &str) {
        self.0.get_session(session_id).await;
    }

    async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64) {
        self.0
            .update_session(session_id, expires, idle_expires)
            .await;
    }
}

/// Runs the mixed load on two threads through the adapter, once against
/// the `parking_lot` baseline and once against the `tokio::sync::Mutex`
/// store that tower-sessions ships. `runtime` must have two worker
/// threads.
pub fn compare_throughput_two_threads(
    runtime: &Runtime,
    stores: &Stores,
    duration: Duration,
    rounds: usize,
) -> Vec<ThroughputComparison> {
    let load = MixedLoad {
        tasks: 2,
        read_percent: 80,
        duration,
        session_ids: Arc::new((0..stores.sessions).map(session_id).collect()),
        renew_expires: stores.expiry.expires,
    };
    let adapter: Arc<dyn SessionLoad> = Arc::new(AdapterLoad(Arc::new(stores.adapter.clone())));
    let parking_lot: Arc<dyn SessionLoad> = Arc::new(BaselineLoad(stores.baseline.clone()));
    let seeded = (0..stores.sessions).map(|index| session(index, stores.expiry));
    let tokio_mutex: Arc<dyn SessionLoad> = Arc::new(TokioMutexSessions::new(seeded));
    vec![
        compare_throughput(
            runtime,
            "memory vs parking_lot::Mutex",
            &load,
            adapter.clone(),
            parking_lot,
            rounds,
        ),
        compare_throughput(
            runtime,
            "memory vs tokio::sync::Mutex",
            &load,
            adapter,
            tokio_mutex,
            rounds,
        ),
    ]
}

/// Times of the scaling operations at one store size.
#[derive(Debug, Clone)]
pub struct ScalingPoint {
    /// Stored sessions.
    pub sessions: u64,
    /// `(operation, adapter time, baseline time)`.
    pub times: Vec<(&'static str, Summary, Summary)>,
}

/// Times `get_session`, `get_sessions_by_user_id` and
/// `delete_expired_sessions` (two sessions due per call) on both stores at
/// this size. The baseline scans, so it gets its own, smaller settings.
pub async fn scaling_point(
    stores: &Stores,
    adapter_settings: Settings,
    baseline_settings: Settings,
) -> ScalingPoint {
    let adapter = &stores.adapter;
    let baseline = &*stores.baseline;
    let subject = stores.subject();
    let mut on_adapter = Bench::new(adapter_settings);
    let mut on_baseline = Bench::new(baseline_settings);
    let mut times = Vec::new();

    let adapter_time = on_adapter
        .time(
            async |_, _| {},
            async |i| {
                adapter
                    .get_session(&subject.seeded_session(i))
                    .await
                    .expect("get_session");
            },
        )
        .await;
    let baseline_time = on_baseline
        .time(
            async |_, _| {},
            async |i| {
                baseline.get_session(&subject.seeded_session(i)).await;
            },
        )
        .await;
    times.push(("get_session", adapter_time, baseline_time));

    let adapter_time = on_adapter
        .time(
            async |_, _| {},
            async |i| {
                adapter
                    .get_sessions_by_user_id(&subject.seeded_user(i))
                    .await
                    .expect("get_sessions_by_user_id");
            },
        )
        .await;
    let baseline_time = on_baseline
        .time(
            async |_, _| {},
            async |i| {
                baseline
                    .get_sessions_by_user_id(&subject.seeded_user(i))
                    .await;
            },
        )
        .await;
    times.push(("get_sessions_by_user_id", adapter_time, baseline_time));

    let adapter_time = on_adapter
        .time(
            async |range, _| {
                let due =
                    subject.planted_pairs(range, |index| subject.seeded_user(index), due_time);
                stores.plant(Side::Adapter, &[], &due).await;
            },
            async |i| {
                adapter
                    .delete_expired_sessions(due_time(i))
                    .await
                    .expect("delete_expired_sessions");
            },
        )
        .await;
    let baseline_time = on_baseline
        .time(
            async |range, _| {
                let due =
                    subject.planted_pairs(range, |index| subject.seeded_user(index), due_time);
                stores.plant(Side::Raw, &[], &due).await;
            },
            async |i| {
                baseline.delete_expired_sessions(due_time(i)).await;
            },
        )
        .await;
    times.push(("delete_expired_sessions", adapter_time, baseline_time));

    // Every planted session is due in 1970 and every seeded one is in the
    // future, so this removes exactly what the runs above may have left.
    adapter
        .delete_expired_sessions(now_millis())
        .await
        .expect("removing planted sessions");
    baseline.delete_expired_sessions(now_millis()).await;

    for (operation, adapter_time, baseline_time) in &times {
        eprintln!(
            "   memory {operation:<28} at {:>9} sessions: adapter {:>10} baseline {:>10}",
            stores.sessions,
            crate::measure::format_duration(adapter_time.median_ns),
            crate::measure::format_duration(baseline_time.median_ns)
        );
    }
    ScalingPoint {
        sessions: stores.sessions,
        times,
    }
}
