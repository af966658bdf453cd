//! The memory backend against the `Mutex<HashMap>` baseline: every
//! operation, the mixed two-thread load, and lookups at two store sizes.

use std::sync::Arc;
use std::time::Duration;

use adapter_api::{
    Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch, now_millis,
};
use adapter_memory::MemoryAdapter;
use async_trait::async_trait;
use tokio::runtime::Runtime;

use crate::baseline::MutexStore;
use crate::fixtures::{
    Expiry, SESSIONS_PER_USER, due_time, is_fresh_session, is_fresh_user, planted_session_id,
    scatter, session, session_id, user, user_id,
};
use crate::loads::AdapterLoad;
use crate::measure::{
    Bench, MixedLoad, SessionLoad, Settings, Side, Summary, ThroughputComparison,
    compare_throughput,
};

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

    fn seeded_user(&self, index: u64) -> String {
        user_id(scatter(index, self.users))
    }

    fn seeded_session(&self, index: u64) -> String {
        session_id(scatter(index, self.sessions))
    }

    /// Removes every user and session that benchmark calls created or
    /// planted, so each operation runs on the seeded records only.
    pub async fn clean(&self) {
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

    /// Stores a user and sessions in the store that `side` measures.
    async fn plant(&self, side: Side, user: Option<adapter_api::User>, sessions: Vec<Session>) {
        match side {
            Side::Adapter => {
                if let Some(user) = user {
                    self.adapter.set_user(user).await.expect("planting a user");
                }
                for planted in sessions {
                    self.adapter
                        .set_session(planted)
                        .await
                        .expect("planting a session");
                }
            }
            Side::Raw => {
                if let Some(user) = user {
                    self.baseline.set_user(user).await;
                }
                for planted in sessions {
                    self.baseline.set_session(planted).await;
                }
            }
        }
    }

    /// Plants two sessions due at `due_time(index)` for each index, in the
    /// adapter, the baseline or both.
    async fn plant_due(&self, range: std::ops::Range<u64>, in_adapter: bool, in_baseline: bool) {
        for index in range {
            for k in 0..2 {
                let due = due_time(index);
                let planted = Session::new(
                    planted_session_id(index, k),
                    self.seeded_user(index),
                    due,
                    due,
                );
                if in_adapter {
                    self.adapter
                        .set_session(planted.clone())
                        .await
                        .expect("planting a session");
                }
                if in_baseline {
                    self.baseline.set_session(planted).await;
                }
            }
        }
    }
}

/// Measures every operation of the contract on both stores.
pub async fn compare_operations(bench: &mut Bench, stores: &Stores) {
    let adapter = &stores.adapter;
    let baseline = &*stores.baseline;
    let expiry = stores.expiry;

    bench
        .compare(
            BACKEND,
            "get_user",
            async |_, _| {},
            async |i| {
                adapter
                    .get_user(&stores.seeded_user(i))
                    .await
                    .expect("get_user");
            },
            async |i| {
                baseline.get_user(&stores.seeded_user(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "get_user_by_provider_id",
            async |_, _| {},
            async |i| {
                let provider = crate::fixtures::provider_id(scatter(i, stores.users));
                adapter
                    .get_user_by_provider_id(&provider)
                    .await
                    .expect("get_user_by_provider_id");
            },
            async |i| {
                let provider = crate::fixtures::provider_id(scatter(i, stores.users));
                baseline.get_user_by_provider_id(&provider).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "set_user",
            async |_, _| {},
            async |i| {
                adapter.set_user(user(i)).await.expect("set_user");
            },
            async |i| {
                baseline.set_user(user(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "update_user",
            async |_, _| {},
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                adapter
                    .update_user(&stores.seeded_user(i), patch)
                    .await
                    .expect("update_user");
            },
            async |i| {
                let patch = UserPatch::new().attribute("last_seen", i);
                baseline.update_user(&stores.seeded_user(i), &patch).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "delete_user",
            async |range, side| {
                for index in range {
                    let planted = Session::new(
                        planted_session_id(index, 0),
                        user_id(index),
                        expiry.expires,
                        expiry.idle_expires,
                    );
                    stores.plant(side, Some(user(index)), vec![planted]).await;
                }
            },
            async |i| {
                adapter.delete_user(&user_id(i)).await.expect("delete_user");
            },
            async |i| {
                baseline.delete_user(&user_id(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "get_session",
            async |_, _| {},
            async |i| {
                adapter
                    .get_session(&stores.seeded_session(i))
                    .await
                    .expect("get_session");
            },
            async |i| {
                baseline.get_session(&stores.seeded_session(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "get_sessions_by_user_id",
            async |_, _| {},
            async |i| {
                adapter
                    .get_sessions_by_user_id(&stores.seeded_user(i))
                    .await
                    .expect("get_sessions_by_user_id");
            },
            async |i| {
                baseline
                    .get_sessions_by_user_id(&stores.seeded_user(i))
                    .await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "set_session",
            async |_, _| {},
            async |i| {
                let new = Session::new(
                    session_id(i),
                    stores.seeded_user(i),
                    expiry.expires,
                    expiry.idle_expires,
                );
                adapter.set_session(new).await.expect("set_session");
            },
            async |i| {
                let new = Session::new(
                    session_id(i),
                    stores.seeded_user(i),
                    expiry.expires,
                    expiry.idle_expires,
                );
                baseline.set_session(new).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "update_session",
            async |_, _| {},
            async |i| {
                let expires = expiry.expires + (i % 1000) as i64;
                adapter
                    .update_session(&stores.seeded_session(i), expires, expires + 86_400_000)
                    .await
                    .expect("update_session");
            },
            async |i| {
                let expires = expiry.expires + (i % 1000) as i64;
                baseline
                    .update_session(&stores.seeded_session(i), expires, expires + 86_400_000)
                    .await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "delete_sessions",
            async |range, side| {
                for index in range {
                    let planted = (0..2)
                        .map(|k| {
                            Session::new(
                                planted_session_id(index, k),
                                stores.seeded_user(index),
                                expiry.expires,
                                expiry.idle_expires,
                            )
                        })
                        .collect();
                    stores.plant(side, None, planted).await;
                }
            },
            async |i| {
                let ids = [planted_session_id(i, 0), planted_session_id(i, 1)];
                adapter
                    .delete_sessions(&ids)
                    .await
                    .expect("delete_sessions");
            },
            async |i| {
                let ids = [planted_session_id(i, 0), planted_session_id(i, 1)];
                baseline.delete_sessions(&ids).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "delete_sessions_by_user_id",
            async |range, side| {
                for index in range {
                    let planted = (0..2)
                        .map(|k| {
                            Session::new(
                                planted_session_id(index, k),
                                user_id(index),
                                expiry.expires,
                                expiry.idle_expires,
                            )
                        })
                        .collect();
                    stores.plant(side, Some(user(index)), planted).await;
                }
            },
            async |i| {
                adapter
                    .delete_sessions_by_user_id(&user_id(i))
                    .await
                    .expect("delete_sessions_by_user_id");
            },
            async |i| {
                baseline.delete_sessions_by_user_id(&user_id(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "delete_expired_sessions",
            async |range, side| {
                stores
                    .plant_due(range, side == Side::Adapter, side == Side::Raw)
                    .await
            },
            async |i| {
                let deleted = adapter
                    .delete_expired_sessions(due_time(i))
                    .await
                    .expect("delete_expired_sessions");
                debug_assert_eq!(deleted, 2);
            },
            async |i| {
                baseline.delete_expired_sessions(due_time(i)).await;
            },
        )
        .await;
    stores.clean().await;
    bench
        .compare(
            BACKEND,
            "get_session_and_user",
            async |_, _| {},
            async |i| {
                adapter
                    .get_session_and_user(&stores.seeded_session(i))
                    .await
                    .expect("get_session_and_user");
            },
            async |i| {
                baseline
                    .get_session_and_user(&stores.seeded_session(i))
                    .await;
            },
        )
        .await;
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

/// Runs the mixed load on two threads, through the adapter and through
/// the baseline. `runtime` must have two worker threads.
pub fn compare_throughput_two_threads(
    runtime: &Runtime,
    stores: &Stores,
    duration: Duration,
    rounds: usize,
) -> ThroughputComparison {
    let load = MixedLoad {
        tasks: 2,
        read_percent: 80,
        duration,
        session_ids: Arc::new((0..stores.sessions).map(session_id).collect()),
        renew_expires: stores.expiry.expires,
    };
    let adapter: Arc<dyn SessionLoad> = Arc::new(AdapterLoad(Arc::new(stores.adapter.clone())));
    let raw: Arc<dyn SessionLoad> = Arc::new(BaselineLoad(stores.baseline.clone()));
    compare_throughput(runtime, BACKEND, &load, adapter, raw, rounds)
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
    let mut on_adapter = Bench::new(adapter_settings);
    let mut on_baseline = Bench::new(baseline_settings);
    let mut times = Vec::new();

    let adapter_time = on_adapter
        .time(
            async |_, _| {},
            async |i| {
                adapter
                    .get_session(&stores.seeded_session(i))
                    .await
                    .expect("get_session");
            },
        )
        .await;
    let baseline_time = on_baseline
        .time(
            async |_, _| {},
            async |i| {
                baseline.get_session(&stores.seeded_session(i)).await;
            },
        )
        .await;
    times.push(("get_session", adapter_time, baseline_time));

    let adapter_time = on_adapter
        .time(
            async |_, _| {},
            async |i| {
                adapter
                    .get_sessions_by_user_id(&stores.seeded_user(i))
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
                    .get_sessions_by_user_id(&stores.seeded_user(i))
                    .await;
            },
        )
        .await;
    times.push(("get_sessions_by_user_id", adapter_time, baseline_time));

    let adapter_time = on_adapter
        .time(
            async |range, _| stores.plant_due(range, true, false).await,
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
            async |range, _| stores.plant_due(range, false, true).await,
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
