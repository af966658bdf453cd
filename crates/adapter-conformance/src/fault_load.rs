//! A mixed workload that keeps running while the backend fails, for fault
//! tests that stop and restart a database server under load.
//!
//! Unlike [`crate::load`], which expects every operation to succeed, this
//! workload logs every operation with its start, end and error, and keeps a
//! model of what the store may hold. A write that returned `Ok` is
//! acknowledged and must survive. A write that failed may or may not have
//! reached the database before the connection broke, so its record is
//! "uncertain": the final check accepts it present or absent, but still
//! reads it back to prove it is not corrupt. Each task stops touching
//! records that are uncertain, so the model stays exact for the rest.
//!
//! [`FaultLoad::verify`] reads back every user and session id that any task
//! ever tried to write, because the adapters offer no way to list a store.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use adapter_api::{Error, NewUser, Session, Storage, UserPatch};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use tokio::task::JoinHandle;

use crate::load::error_kind;

/// Time of the expiry sweeps, in milliseconds since the Unix epoch. Dead
/// sessions end their idle period before it, live ones long after.
const SWEEP_AT: i64 = 1_700_000_000_000;
const LIVE_UNTIL: i64 = SWEEP_AT + 1_000_000_000;

/// Provider ids that all tasks compete for, so that duplicate handling runs
/// under load too.
const SHARED_PROVIDER_IDS: u32 = 3;

/// Pause between two operations of one task. It keeps the load from
/// filling the log with hundreds of thousands of entries on a fast backend.
const PAUSE: Duration = Duration::from_millis(2);

/// One operation that the workload ran.
#[derive(Debug)]
pub struct OperationLog {
    /// Operation name, as in [`adapter_api::BackendError::operation`].
    pub operation: &'static str,
    /// When the call started.
    pub started: Instant,
    /// When the call returned.
    pub finished: Instant,
    /// The error it returned, `None` when it succeeded.
    pub error: Option<Error>,
}

impl OperationLog {
    /// Returns how long the call took.
    pub fn elapsed(&self) -> Duration {
        self.finished - self.started
    }

    /// Returns whether the call ran entirely within `from..to`.
    pub fn within(&self, from: Instant, to: Instant) -> bool {
        self.started >= from && self.finished <= to
    }

    /// Returns whether the error is a known contract error that the
    /// workload provokes on purpose: a duplicate on a shared provider id.
    pub fn is_expected_error(&self) -> bool {
        matches!(self.error, Some(Error::DuplicateProviderId { .. }))
    }
}

/// Whether a record is stored, as far as the acknowledged writes tell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Presence {
    /// Created or last changed by an acknowledged write: must be stored.
    Stored,
    /// Deleted by an acknowledged write, or never created: must be absent.
    Absent,
    /// The last write to it failed, so it may be either.
    Uncertain,
}

#[derive(Debug)]
struct UserModel {
    provider_id: String,
    presence: Presence,
    /// Values the attribute `n` may have: the last acknowledged one and the
    /// one of a failed update after it.
    n: Vec<i64>,
}

#[derive(Debug)]
struct SessionModel {
    user_id: String,
    presence: Presence,
    /// Whether the session was written dead, so that expiry sweeps delete it.
    dead: bool,
    /// `(expires, idle_expires)` pairs the session may have.
    times: Vec<(i64, i64)>,
}

#[derive(Debug, Default)]
struct TaskModel {
    users: HashMap<String, UserModel>,
    sessions: HashMap<String, SessionModel>,
    log: Vec<OperationLog>,
}

impl TaskModel {
    /// Returns ids of users that every write so far left stored.
    fn stored_users(&self) -> Vec<&String> {
        let mut ids: Vec<&String> = self
            .users
            .iter()
            .filter(|(_, user)| user.presence == Presence::Stored)
            .map(|(id, _)| id)
            .collect();
        // HashMap order changes between runs, so sort to keep a seed's run
        // repeatable.
        ids.sort();
        ids
    }

    /// Returns ids of live sessions that every write so far left stored.
    fn stored_live_sessions(&self) -> Vec<&String> {
        let mut ids: Vec<&String> = self
            .sessions
            .iter()
            .filter(|(_, session)| session.presence == Presence::Stored && !session.dead)
            .map(|(id, _)| id)
            .collect();
        ids.sort();
        ids
    }

    /// Marks the sessions of a user as deleted with it, or as uncertain when
    /// the deletion failed.
    fn user_deleted(&mut self, user_id: &str, presence: Presence) {
        for session in self.sessions.values_mut() {
            if session.user_id == user_id && session.presence != Presence::Absent {
                session.presence = presence;
            }
        }
    }
}

/// Runs `operation`, logs it, and returns its result.
async fn logged<T>(
    model: &mut TaskModel,
    operation: &'static str,
    call: impl Future<Output = Result<T, Error>>,
) -> Result<T, ()> {
    let started = Instant::now();
    let result = call.await;
    let finished = Instant::now();
    let (value, error) = match result {
        Ok(value) => (Ok(value), None),
        Err(err) => (Err(()), Some(err)),
    };
    model.log.push(OperationLog {
        operation,
        started,
        finished,
        error,
    });
    value
}

async fn run_task(storage: Storage, task: usize, seed: u64, stop: Arc<AtomicBool>) -> TaskModel {
    let mut rng = StdRng::seed_from_u64(seed.wrapping_add(task as u64));
    let mut model = TaskModel::default();
    let mut next: i64 = 0;

    while !stop.load(Ordering::Relaxed) {
        next += 1;
        let user_ids = model.stored_users();
        let some_user =
            (!user_ids.is_empty()).then(|| user_ids[rng.random_range(0..user_ids.len())].clone());
        let session_ids = model.stored_live_sessions();
        let some_session = (!session_ids.is_empty())
            .then(|| session_ids[rng.random_range(0..session_ids.len())].clone());

        match (rng.random_range(0..100), some_user, some_session) {
            (0..20, _, _) | (_, None, _) => {
                create_user(&storage, &mut model, &mut rng, task, next).await
            }
            (20..40, Some(user_id), _) => {
                create_session(&storage, &mut model, &mut rng, task, next, user_id).await;
            }
            (40..52, _, Some(session_id)) => {
                let expires = LIVE_UNTIL + next;
                let result = logged(
                    &mut model,
                    "update_session",
                    storage.update_session(&session_id, expires, expires + 1_000),
                )
                .await;
                let session = model
                    .sessions
                    .get_mut(&session_id)
                    .expect("modelled session");
                match result {
                    Ok(_) => session.times = vec![(expires, expires + 1_000)],
                    Err(()) => session.times.push((expires, expires + 1_000)),
                }
            }
            (52..60, _, Some(session_id)) => {
                let result = logged(
                    &mut model,
                    "delete_sessions",
                    storage.delete_sessions(std::slice::from_ref(&session_id)),
                )
                .await;
                let session = model
                    .sessions
                    .get_mut(&session_id)
                    .expect("modelled session");
                session.presence = match result {
                    Ok(()) => Presence::Absent,
                    Err(()) => Presence::Uncertain,
                };
            }
            (60..66, Some(user_id), _) => {
                let result = logged(&mut model, "delete_user", storage.delete_user(&user_id)).await;
                let presence = match result {
                    Ok(()) => Presence::Absent,
                    Err(()) => Presence::Uncertain,
                };
                model
                    .users
                    .get_mut(&user_id)
                    .expect("modelled user")
                    .presence = presence;
                model.user_deleted(&user_id, presence);
            }
            (66..76, Some(user_id), _) => {
                let patch = UserPatch::new().attribute("n", next);
                let result = logged(
                    &mut model,
                    "update_user",
                    storage.update_user(&user_id, patch),
                )
                .await;
                let user = model.users.get_mut(&user_id).expect("modelled user");
                match result {
                    Ok(_) => user.n = vec![next],
                    Err(()) => user.n.push(next),
                }
            }
            (76..80, _, _) => {
                let _ = logged(
                    &mut model,
                    "delete_expired_sessions",
                    storage.delete_expired_sessions(SWEEP_AT),
                )
                .await;
            }
            (80..88, Some(user_id), _) => {
                let _ = logged(&mut model, "get_user", storage.get_user(&user_id)).await;
            }
            (88..94, _, Some(session_id)) => {
                let _ = logged(
                    &mut model,
                    "get_session_and_user",
                    storage.get_session_and_user(&session_id),
                )
                .await;
            }
            (_, Some(user_id), _) => {
                let _ = logged(
                    &mut model,
                    "get_sessions_by_user_id",
                    storage.get_sessions_by_user_id(&user_id),
                )
                .await;
            }
        }
        tokio::time::sleep(PAUSE).await;
    }
    model
}

async fn create_user(
    storage: &Storage,
    model: &mut TaskModel,
    rng: &mut StdRng,
    task: usize,
    next: i64,
) {
    let id = format!("t{task}-u{next}");
    let provider_id = if rng.random_range(0..4) == 0 {
        format!("shared-{}", rng.random_range(0..SHARED_PROVIDER_IDS))
    } else {
        format!("t{task}-p{next}")
    };
    let new_user = NewUser::new(&provider_id).id(&id).attribute("n", next);
    let result = logged(model, "set_user", storage.set_user(new_user)).await;
    let presence = match result {
        Ok(_) => Presence::Stored,
        // A rejected duplicate stores nothing.
        Err(())
            if model
                .log
                .last()
                .is_some_and(OperationLog::is_expected_error) =>
        {
            Presence::Absent
        }
        Err(()) => Presence::Uncertain,
    };
    model.users.insert(
        id,
        UserModel {
            provider_id,
            presence,
            n: vec![next],
        },
    );
}

async fn create_session(
    storage: &Storage,
    model: &mut TaskModel,
    rng: &mut StdRng,
    task: usize,
    next: i64,
    user_id: String,
) {
    let id = format!("t{task}-s{next}");
    let dead = rng.random_range(0..4) == 0;
    let times = if dead {
        (SWEEP_AT - 2_000, SWEEP_AT - 1_000)
    } else {
        (LIVE_UNTIL, LIVE_UNTIL + 1_000)
    };
    let session = Session::new(&id, &user_id, times.0, times.1);
    let result = logged(model, "set_session", storage.set_session(session)).await;
    let presence = match result {
        Ok(()) => Presence::Stored,
        Err(()) => Presence::Uncertain,
    };
    model.sessions.insert(
        id,
        SessionModel {
            user_id,
            presence,
            dead,
            times: vec![times],
        },
    );
}

/// A running [`FaultLoad`]: tasks that issue operations until
/// [`FaultLoad::stop`] is called.
pub struct FaultLoad {
    stop: Arc<AtomicBool>,
    tasks: Vec<JoinHandle<TaskModel>>,
}

impl FaultLoad {
    /// Starts `tasks` concurrent tasks on `storage`, which must start empty.
    /// `seed` fixes each task's choice of operations (timing still varies).
    pub fn start(storage: &Storage, tasks: usize, seed: u64) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let tasks = (0..tasks)
            .map(|task| tokio::spawn(run_task(storage.clone(), task, seed, stop.clone())))
            .collect();
        FaultLoad { stop, tasks }
    }

    /// Stops the tasks after their current operation and returns what they
    /// did. A task that panicked is a test failure, so this panics too.
    pub async fn stop(self) -> FaultLoadReport {
        self.stop.store(true, Ordering::Relaxed);
        let mut models = Vec::new();
        for task in self.tasks {
            models.push(task.await.expect("a load task panicked"));
        }
        let mut log = Vec::new();
        let mut users = HashMap::new();
        let mut sessions = HashMap::new();
        for model in models {
            log.extend(model.log);
            users.extend(model.users);
            sessions.extend(model.sessions);
        }
        log.sort_by_key(|entry| entry.started);
        FaultLoadReport {
            log,
            users,
            sessions,
        }
    }
}

/// Log and model of a stopped [`FaultLoad`]: every operation in order of
/// start, and what the store may hold.
#[derive(Debug)]
pub struct FaultLoadReport {
    /// Every operation, in order of start.
    pub log: Vec<OperationLog>,
    users: HashMap<String, UserModel>,
    sessions: HashMap<String, SessionModel>,
}

/// Counts and findings of [`FaultLoadReport::verify`].
#[derive(Debug, Default)]
pub struct Verification {
    /// Users read back: every id the load tried to create.
    pub users_read: usize,
    /// Sessions read back: every id the load tried to create.
    pub sessions_read: usize,
    /// Acknowledged records that must be stored and were checked.
    pub acknowledged_records: usize,
    /// Acknowledged records missing, or holding a value older than the
    /// last acknowledged write.
    pub lost: Vec<String>,
    /// Records that read as [`Error::CorruptRecord`].
    pub corrupt: Vec<String>,
    /// Records stored against the model: a deleted one back, a rejected
    /// one stored, a field that no write set.
    pub unexpected: Vec<String>,
    /// Reads that failed with any other error.
    pub failed_reads: Vec<String>,
}

impl FaultLoadReport {
    /// Returns how many operations of the log succeeded.
    pub fn succeeded(&self) -> usize {
        self.log
            .iter()
            .filter(|entry| entry.error.is_none())
            .count()
    }

    /// Returns the operations that ran entirely within `from..to`.
    pub fn within(&self, from: Instant, to: Instant) -> impl Iterator<Item = &OperationLog> {
        self.log.iter().filter(move |entry| entry.within(from, to))
    }

    /// Returns the writes that the backend acknowledged.
    pub fn acknowledged_writes(&self) -> usize {
        self.log
            .iter()
            .filter(|entry| entry.error.is_none() && is_write(entry.operation))
            .count()
    }

    /// Sweeps dead sessions once, then reads back every user and session
    /// the load tried to create and compares them with the model. The
    /// backend must be up.
    pub async fn verify(&self, storage: &Storage) -> Verification {
        let mut found = Verification::default();
        if let Err(err) = storage.delete_expired_sessions(SWEEP_AT).await {
            found
                .failed_reads
                .push(format!("the final expiry sweep failed: {err:?}"));
        }

        let mut user_ids: Vec<&String> = self.users.keys().collect();
        user_ids.sort();
        for id in user_ids {
            self.verify_user(storage, id, &mut found).await;
        }
        let mut session_ids: Vec<&String> = self.sessions.keys().collect();
        session_ids.sort();
        for id in session_ids {
            self.verify_session(storage, id, &mut found).await;
        }
        found
    }

    async fn verify_user(&self, storage: &Storage, id: &str, found: &mut Verification) {
        let model = &self.users[id];
        found.users_read += 1;
        if model.presence == Presence::Stored {
            found.acknowledged_records += 1;
        }
        match storage.get_user(id).await {
            Err(err) => record_read_error(found, format!("user {id}"), err),
            Ok(None) if model.presence == Presence::Stored => {
                found.lost.push(format!("user {id} is missing"));
            }
            Ok(None) => {}
            Ok(Some(_)) if model.presence == Presence::Absent => found
                .unexpected
                .push(format!("user {id} is stored but was deleted or rejected")),
            Ok(Some(user)) => {
                if user.provider_id != model.provider_id {
                    found.unexpected.push(format!(
                        "user {id} has provider id {:?}, written {:?}",
                        user.provider_id, model.provider_id
                    ));
                }
                let n = user.attributes.get("n").and_then(serde_json::Value::as_i64);
                if !n.is_some_and(|n| model.n.contains(&n)) {
                    found.lost.push(format!(
                        "user {id} has n = {n:?}, acknowledged or attempted {:?}",
                        model.n
                    ));
                }
            }
        }
        // The session list is a separate query with its own decoding, so a
        // corrupt session shows here even when its id was never modelled.
        if let Err(err) = storage.get_sessions_by_user_id(id).await {
            record_read_error(found, format!("sessions of user {id}"), err);
        }
        if model.presence == Presence::Stored
            && let Err(err) = storage.get_user_by_provider_id(&model.provider_id).await
        {
            record_read_error(found, format!("user {id} by provider id"), err);
        }
    }

    async fn verify_session(&self, storage: &Storage, id: &str, found: &mut Verification) {
        let model = &self.sessions[id];
        found.sessions_read += 1;
        // The final sweep deleted every dead session, whichever task wrote it.
        let presence = if model.dead && model.presence != Presence::Absent {
            Presence::Absent
        } else {
            model.presence
        };
        if presence == Presence::Stored {
            found.acknowledged_records += 1;
        }
        match storage.get_session(id).await {
            Err(err) => record_read_error(found, format!("session {id}"), err),
            Ok(None) if presence == Presence::Stored => {
                found.lost.push(format!("session {id} is missing"));
            }
            Ok(None) => {}
            Ok(Some(_)) if presence == Presence::Absent => found
                .unexpected
                .push(format!("session {id} is stored but was deleted or is dead")),
            Ok(Some(session)) => {
                if session.user_id != model.user_id {
                    found.unexpected.push(format!(
                        "session {id} belongs to {}, written for {}",
                        session.user_id, model.user_id
                    ));
                }
                let times = (session.expires, session.idle_expires);
                if !model.times.contains(&times) {
                    found.lost.push(format!(
                        "session {id} has times {times:?}, acknowledged or attempted {:?}",
                        model.times
                    ));
                }
            }
        }
        if presence == Presence::Stored
            && let Err(err) = storage.get_session_and_user(id).await
        {
            record_read_error(found, format!("session {id} with its user"), err);
        }
    }
}

fn record_read_error(found: &mut Verification, what: String, err: Error) {
    match err {
        Error::CorruptRecord { .. } => found.corrupt.push(format!("{what}: {err}")),
        other => found
            .failed_reads
            .push(format!("{what}: {} {other}", error_kind(&other))),
    }
}

fn is_write(operation: &str) -> bool {
    matches!(
        operation,
        "set_user"
            | "update_user"
            | "delete_user"
            | "set_session"
            | "update_session"
            | "delete_sessions"
            | "delete_expired_sessions"
    )
}

/// A database server that a fault test owns and may stop and start again
/// on the same address and data.
pub trait ServerControl {
    /// Stops the server and returns once its process has exited.
    fn stop(&mut self);
    /// Starts the server and returns once it accepts connections.
    fn start(&mut self);
}

/// Timing of a [`run_with_outages`] run.
#[derive(Debug, Clone)]
pub struct OutagePlan {
    /// Concurrent load tasks.
    pub tasks: usize,
    /// Seed of the tasks' choices of operations.
    pub seed: u64,
    /// Stops of the server, each followed by a restart.
    pub outages: usize,
    /// Load with the server up before the first stop and after each
    /// recovery.
    pub healthy: Duration,
    /// Time the server stays down. It must exceed the client's timeout, so
    /// that operations started while down fail before the restart.
    pub down: Duration,
    /// Maximum wait for the adapter to succeed again after a restart.
    pub recovery_limit: Duration,
    /// Maximum duration of any one operation, down or up: the client's
    /// timeout plus a generous margin.
    pub operation_limit: Duration,
}

/// When one outage happened, as seen by the test.
#[derive(Debug, Clone, Copy)]
pub struct Outage {
    /// The stop was requested.
    pub stop_requested: Instant,
    /// The server process had exited.
    pub stopped: Instant,
    /// The restart was requested.
    pub restart_requested: Instant,
    /// The first probe through the adapter succeeded after the restart.
    pub recovered: Instant,
}

/// A finished [`run_with_outages`] run: the load's log and model, and when
/// each outage happened.
#[derive(Debug)]
pub struct OutageRun {
    /// Log and model of the load.
    pub report: FaultLoadReport,
    /// When the load started.
    pub started: Instant,
    /// When the load stopped.
    pub ended: Instant,
    /// Each outage, in order.
    pub outages: Vec<Outage>,
}

/// Id that no load task creates, read to probe whether the adapter works.
const PROBE_ID: &str = "fault-load-probe";

/// Runs a [`FaultLoad`] on `storage` and stops and restarts `server`
/// `plan.outages` times in the middle of it, waiting after each restart
/// until a read through `storage` succeeds.
///
/// `server` is stopped and started on the calling thread through
/// [`tokio::task::block_in_place`], so the load keeps running meanwhile.
/// That needs the multi-threaded runtime
/// (`#[tokio::test(flavor = "multi_thread")]`).
///
/// # Panics
/// When the adapter does not succeed within `plan.recovery_limit` after a
/// restart.
pub async fn run_with_outages(
    storage: &Storage,
    server: &mut impl ServerControl,
    plan: &OutagePlan,
) -> OutageRun {
    let started = Instant::now();
    let load = FaultLoad::start(storage, plan.tasks, plan.seed);
    let mut outages = Vec::new();
    tokio::time::sleep(plan.healthy).await;

    for _ in 0..plan.outages {
        let stop_requested = Instant::now();
        tokio::task::block_in_place(|| server.stop());
        let stopped = Instant::now();
        tokio::time::sleep(plan.down).await;

        let restart_requested = Instant::now();
        tokio::task::block_in_place(|| server.start());
        let recovered = wait_for_recovery(storage, plan).await;
        outages.push(Outage {
            stop_requested,
            stopped,
            restart_requested,
            recovered,
        });
        tokio::time::sleep(plan.healthy).await;
    }

    let report = load.stop().await;
    OutageRun {
        report,
        started,
        ended: Instant::now(),
        outages,
    }
}

/// Probes until a read succeeds, and returns when it did. The client may
/// need a heartbeat or a fresh connection to see the server again, so
/// retryable errors are tolerated until the limit.
async fn wait_for_recovery(storage: &Storage, plan: &OutagePlan) -> Instant {
    let deadline = Instant::now() + plan.recovery_limit;
    loop {
        let attempt = tokio::time::timeout(plan.operation_limit, storage.get_user(PROBE_ID)).await;
        match attempt {
            Ok(Ok(None)) => return Instant::now(),
            Ok(Ok(Some(user))) => panic!("the probe id {PROBE_ID} was never written: {user:?}"),
            Ok(Err(err)) if err.is_retryable() => {}
            Ok(Err(err)) => {
                panic!("after the restart, a read failed without a retryable error: {err:?}")
            }
            Err(_) => panic!(
                "after the restart, a read hung past {:?}",
                plan.operation_limit
            ),
        }
        assert!(
            Instant::now() < deadline,
            "the adapter did not recover within {:?} of the restart",
            plan.recovery_limit
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Findings of [`OutageRun::check`], one list per rule so that a failing
/// test names the rule it broke.
#[derive(Debug, Default)]
pub struct OutageFindings {
    /// Operations issued in total.
    pub operations: usize,
    /// Operations that ran entirely while the server was down.
    pub down_operations: usize,
    /// Maximum duration of the operations that ran entirely while the
    /// server was down, which is how long a caller waited for its error.
    pub slowest_down_operation: Duration,
    /// Retryable backend errors returned, down or straddling a stop.
    pub retryable_errors: usize,
    /// Outages in which no operation ran entirely while the server was
    /// down, so the test proved nothing about them.
    pub unobserved_outages: Vec<usize>,
    /// Operations that ran entirely while the server was down and did not
    /// fail with a retryable backend error of this backend and operation.
    pub down_violations: Vec<String>,
    /// Operations that ran entirely while the server was up (before the
    /// first stop, or after a recovery) and failed.
    pub healthy_violations: Vec<String>,
    /// Operations that overlapped a stop or a restart and failed with
    /// anything but a retryable backend error.
    pub straddling_violations: Vec<String>,
    /// Operations that took longer than the plan's operation limit.
    pub slow_operations: Vec<String>,
}

impl OutageRun {
    /// Checks every logged operation against the rules of its phase.
    /// While the server is down, each operation fails with a retryable
    /// [`Error::Backend`] of `backend` that names the operation. While it
    /// is up, none fails except by a provoked duplicate. Around a stop or a
    /// restart, either outcome is fine. No operation takes longer than
    /// `operation_limit`.
    pub fn check(&self, backend: &str, operation_limit: Duration) -> OutageFindings {
        let mut findings = OutageFindings {
            operations: self.report.log.len(),
            ..OutageFindings::default()
        };
        let mut observed = vec![false; self.outages.len()];

        for (index, entry) in self.report.log.iter().enumerate() {
            let describe = || {
                format!(
                    "operation {index} {} after {:?}, taking {:?}: {:?}",
                    entry.operation,
                    entry.started - self.started,
                    entry.elapsed(),
                    entry.error
                )
            };
            if entry.elapsed() > operation_limit {
                findings.slow_operations.push(describe());
            }
            let retryable = is_retryable_backend(entry, backend);
            if retryable {
                findings.retryable_errors += 1;
            }

            if let Some(outage) = self
                .outages
                .iter()
                .position(|outage| entry.within(outage.stopped, outage.restart_requested))
            {
                observed[outage] = true;
                findings.down_operations += 1;
                findings.slowest_down_operation =
                    findings.slowest_down_operation.max(entry.elapsed());
                if !retryable {
                    findings.down_violations.push(describe());
                }
            } else if self.is_healthy(entry) {
                if entry.error.is_some() && !entry.is_expected_error() {
                    findings.healthy_violations.push(describe());
                }
            } else if entry.error.is_some() && !entry.is_expected_error() && !retryable {
                findings.straddling_violations.push(describe());
            }
        }
        findings.unobserved_outages = observed
            .iter()
            .enumerate()
            .filter(|(_, seen)| !**seen)
            .map(|(outage, _)| outage)
            .collect();
        findings
    }

    /// Returns whether the operation ran entirely while the server was up
    /// and reachable: before the first stop or after a recovery.
    fn is_healthy(&self, entry: &OperationLog) -> bool {
        let mut up_from = self.started;
        for outage in &self.outages {
            if entry.within(up_from, outage.stop_requested) {
                return true;
            }
            up_from = outage.recovered;
        }
        entry.within(up_from, self.ended)
    }
}

fn is_retryable_backend(entry: &OperationLog, backend: &str) -> bool {
    match &entry.error {
        Some(Error::Backend(err)) => {
            err.retryable && err.backend == backend && err.operation == entry.operation
        }
        _ => false,
    }
}

/// Runs [`run_with_outages`] on `storage`, prints the figures to stderr,
/// and asserts every rule of [`OutageRun::check`] and of
/// [`FaultLoadReport::verify`]: errors of `backend` while down are
/// retryable, service returns after each restart, and no acknowledged write
/// is lost or corrupt.
///
/// # Panics
/// When any rule is broken, with the operations or records that broke it.
pub async fn assert_survives_outages(
    storage: &Storage,
    server: &mut impl ServerControl,
    backend: &str,
    plan: &OutagePlan,
) {
    let run = run_with_outages(storage, server, plan).await;
    let findings = run.check(backend, plan.operation_limit);
    let verification = run.report.verify(storage).await;

    eprintln!(
        "{backend} fault load: {} operations ({} succeeded, {} acknowledged writes), \
         {} faults injected, {} operations while down (slowest {:?}), {} retryable errors; \
         read back {} users and {} sessions, {} acknowledged records, {} lost, {} corrupt",
        findings.operations,
        run.report.succeeded(),
        run.report.acknowledged_writes(),
        run.outages.len(),
        findings.down_operations,
        findings.slowest_down_operation,
        findings.retryable_errors,
        verification.users_read,
        verification.sessions_read,
        verification.acknowledged_records,
        verification.lost.len(),
        verification.corrupt.len(),
    );

    assert_eq!(run.outages.len(), plan.outages);
    assert!(
        findings.unobserved_outages.is_empty(),
        "no operation ran while the server was down in outages {:?}",
        findings.unobserved_outages
    );
    assert!(
        findings.down_violations.is_empty(),
        "operations while down that did not fail with a retryable backend error: {:#?}",
        findings.down_violations
    );
    assert!(
        findings.healthy_violations.is_empty(),
        "operations that failed while the server was up: {:#?}",
        findings.healthy_violations
    );
    assert!(
        findings.straddling_violations.is_empty(),
        "operations around a stop or restart that failed without a retryable backend error: {:#?}",
        findings.straddling_violations
    );
    assert!(
        findings.slow_operations.is_empty(),
        "operations slower than {:?}: {:#?}",
        plan.operation_limit,
        findings.slow_operations
    );
    assert!(
        verification.acknowledged_records > 0,
        "the load stored nothing"
    );
    assert!(
        verification.lost.is_empty(),
        "acknowledged writes lost: {:#?}",
        verification.lost
    );
    assert!(
        verification.corrupt.is_empty(),
        "corrupt records: {:#?}",
        verification.corrupt
    );
    assert!(
        verification.unexpected.is_empty(),
        "records that no acknowledged write explains: {:#?}",
        verification.unexpected
    );
    assert!(
        verification.failed_reads.is_empty(),
        "reads that failed after recovery: {:#?}",
        verification.failed_reads
    );
}
