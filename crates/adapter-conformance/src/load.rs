//! A bounded mixed workload against a [`Storage`], checked afterwards
//! against a model of every write that succeeded.
//!
//! Each task owns its own users and sessions, so its model is exact, and
//! all tasks contend for a few shared provider ids, so duplicate handling
//! is exercised under load. Sessions are either dead from the start or live
//! far into the future, so the expiry sweeps that run during the load delete
//! exactly the dead ones, whichever task created them.

use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use adapter_api::{Error, NewUser, Session, Storage, UserPatch};

use crate::target::{Backend, Role, SetupError};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// How long and how wide the load runs.
#[derive(Debug, Clone)]
pub struct LoadOptions {
    /// Wall-clock time the tasks keep issuing operations.
    pub duration: Duration,
    /// Concurrent tasks.
    pub tasks: usize,
    /// Provider ids all tasks compete for.
    pub shared_provider_ids: usize,
    /// Seed of the tasks' random choices, so a failing run can be repeated
    /// (timing still varies between runs).
    pub seed: u64,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions {
            duration: Duration::from_secs(2),
            tasks: 8,
            shared_provider_ids: 4,
            seed: 7,
        }
    }
}

/// What a load run did and what the final check found.
#[derive(Debug, Clone, Default)]
pub struct LoadReport {
    /// Operations issued, by operation name.
    pub operations: BTreeMap<&'static str, u64>,
    /// Errors returned, by kind (`DuplicateProviderId`, `Backend`, ...).
    pub errors: BTreeMap<String, u64>,
    /// Broken invariants found by the final check; empty when the store
    /// matches the model.
    pub violations: Vec<String>,
}

impl LoadReport {
    /// Total operations issued.
    pub fn total_operations(&self) -> u64 {
        self.operations.values().sum()
    }

    /// Returns the errors of a kind the load does not expect: anything but
    /// `DuplicateProviderId` on a shared provider id.
    pub fn unexpected_errors(&self) -> u64 {
        self.errors
            .iter()
            .filter(|(kind, _)| kind.as_str() != "DuplicateProviderId")
            .map(|(_, count)| count)
            .sum()
    }
}

/// Start of the load's fixed clock, in milliseconds since the Unix epoch.
/// Dead sessions end their idle period before it, live ones long after.
const SWEEP_AT: i64 = 1_700_000_000_000;
const LIVE_UNTIL: i64 = SWEEP_AT + 1_000_000_000;

#[derive(Default)]
struct TaskModel {
    /// Users this task created and has not deleted: id -> provider id.
    users: HashMap<String, String>,
    /// Live sessions: id -> session as last written.
    live_sessions: HashMap<String, Session>,
    /// Users this task deleted.
    deleted_users: Vec<String>,
    operations: BTreeMap<&'static str, u64>,
    errors: BTreeMap<String, u64>,
}

impl TaskModel {
    fn count(&mut self, operation: &'static str) {
        *self.operations.entry(operation).or_default() += 1;
    }

    fn error(&mut self, operation: &'static str, err: &Error) {
        tracing::debug!(operation, %err, "load operation failed");
        *self.errors.entry(error_kind(err).to_owned()).or_default() += 1;
    }
}

/// Returns the variant name of an error, the key of the error counts.
pub fn error_kind(err: &Error) -> &'static str {
    match err {
        Error::DuplicateProviderId { .. } => "DuplicateProviderId",
        Error::DuplicateUserId { .. } => "DuplicateUserId",
        Error::DuplicateSessionId { .. } => "DuplicateSessionId",
        Error::InvalidUserId { .. } => "InvalidUserId",
        Error::InvalidSessionId { .. } => "InvalidSessionId",
        Error::InvalidInput { .. } => "InvalidInput",
        Error::CorruptRecord { .. } => "CorruptRecord",
        Error::Backend(_) => "Backend",
        Error::Application(_) => "Application",
        _ => "Other",
    }
}

async fn run_task(
    storage: Storage,
    task: usize,
    options: LoadOptions,
    deadline: Instant,
) -> TaskModel {
    let mut rng = StdRng::seed_from_u64(options.seed.wrapping_add(task as u64));
    let mut model = TaskModel::default();
    let mut next = 0_u64;

    while Instant::now() < deadline {
        next += 1;
        let user_ids: Vec<String> = model.users.keys().cloned().collect();
        let some_user =
            (!user_ids.is_empty()).then(|| user_ids[rng.random_range(0..user_ids.len())].clone());
        let session_ids: Vec<String> = model.live_sessions.keys().cloned().collect();
        let some_session = (!session_ids.is_empty())
            .then(|| session_ids[rng.random_range(0..session_ids.len())].clone());

        match (rng.random_range(0..100), some_user, some_session) {
            (0..20, _, _) | (_, None, _) => {
                let id = format!("t{task}-u{next}");
                let shared = rng.random_range(0..4) == 0;
                let provider_id = if shared {
                    format!(
                        "shared-{}",
                        rng.random_range(0..options.shared_provider_ids.max(1))
                    )
                } else {
                    format!("t{task}-p{next}")
                };
                model.count("set_user");
                match storage
                    .set_user(
                        NewUser::new(&provider_id)
                            .id(&id)
                            .attribute("n", next as i64),
                    )
                    .await
                {
                    Ok(_) => {
                        model.users.insert(id, provider_id);
                    }
                    Err(err) => model.error("set_user", &err),
                }
            }
            (20..45, Some(user_id), _) => {
                let id = format!("t{task}-s{next}");
                let dead = rng.random_range(0..3) == 0;
                let session = if dead {
                    Session::new(&id, &user_id, SWEEP_AT - 2_000, SWEEP_AT - 1_000)
                } else {
                    Session::new(&id, &user_id, LIVE_UNTIL, LIVE_UNTIL + 1_000)
                };
                model.count("set_session");
                match storage.set_session(session.clone()).await {
                    Ok(()) if !dead => {
                        model.live_sessions.insert(id, session);
                    }
                    Ok(()) => {}
                    Err(err) => model.error("set_session", &err),
                }
            }
            (45..60, _, Some(session_id)) => {
                let expires = LIVE_UNTIL + next as i64;
                model.count("update_session");
                match storage
                    .update_session(&session_id, expires, expires + 1_000)
                    .await
                {
                    Ok(renewed) => {
                        model.live_sessions.insert(session_id, renewed);
                    }
                    Err(err) => model.error("update_session", &err),
                }
            }
            (60..70, _, Some(session_id)) => {
                model.count("delete_sessions");
                match storage
                    .delete_sessions(std::slice::from_ref(&session_id))
                    .await
                {
                    Ok(()) => {
                        model.live_sessions.remove(&session_id);
                    }
                    Err(err) => model.error("delete_sessions", &err),
                }
            }
            (70..78, Some(user_id), _) => {
                model.count("delete_user");
                match storage.delete_user(&user_id).await {
                    Ok(()) => {
                        model.users.remove(&user_id);
                        model.deleted_users.push(user_id.clone());
                        model
                            .live_sessions
                            .retain(|_, session| session.user_id != user_id);
                    }
                    Err(err) => model.error("delete_user", &err),
                }
            }
            (78..84, Some(user_id), _) => {
                model.count("update_user");
                let patch = UserPatch::new().attribute("n", next as i64);
                if let Err(err) = storage.update_user(&user_id, patch).await {
                    model.error("update_user", &err);
                }
            }
            (84..88, _, _) => {
                model.count("delete_expired_sessions");
                if let Err(err) = storage.delete_expired_sessions(SWEEP_AT).await {
                    model.error("delete_expired_sessions", &err);
                }
            }
            (_, Some(user_id), _) => {
                model.count("get_sessions_by_user_id");
                if let Err(err) = storage.get_sessions_by_user_id(&user_id).await {
                    model.error("get_sessions_by_user_id", &err);
                }
            }
        }
    }
    model
}

/// Runs the load on `storage`, which must start empty, then sweeps the dead
/// sessions once more and checks the store against the model.
pub async fn run_load(storage: &Storage, options: &LoadOptions) -> LoadReport {
    let deadline = Instant::now() + options.duration;
    let tasks: Vec<_> = (0..options.tasks)
        .map(|task| tokio::spawn(run_task(storage.clone(), task, options.clone(), deadline)))
        .collect();

    let mut report = LoadReport::default();
    let mut models = Vec::new();
    for task in tasks {
        match task.await {
            Ok(model) => models.push(model),
            Err(err) => report.violations.push(format!("a load task failed: {err}")),
        }
    }
    for model in &models {
        for (operation, count) in &model.operations {
            *report.operations.entry(operation).or_default() += count;
        }
        for (kind, count) in &model.errors {
            *report.errors.entry(kind.clone()).or_default() += count;
        }
    }
    if let Err(err) = storage.delete_expired_sessions(SWEEP_AT).await {
        report
            .violations
            .push(format!("the final expiry sweep failed: {err}"));
    }
    check_against_model(storage, &models, &mut report).await;
    report
}

async fn check_against_model(storage: &Storage, models: &[TaskModel], report: &mut LoadReport) {
    let mut holders: HashMap<&str, &str> = HashMap::new();
    for model in models {
        for user_id in &model.deleted_users {
            match storage.get_sessions_by_user_id(user_id).await {
                Ok(left) if left.is_empty() => {}
                Ok(left) => report.violations.push(format!(
                    "deleted user {user_id} still has {} sessions",
                    left.len()
                )),
                Err(err) => report
                    .violations
                    .push(format!("listing sessions of {user_id} failed: {err}")),
            }
            if let Ok(Some(_)) = storage.get_user(user_id).await {
                report
                    .violations
                    .push(format!("deleted user {user_id} is still stored"));
            }
        }
        for (user_id, provider_id) in &model.users {
            if let Some(other) = holders.insert(provider_id, user_id) {
                report.violations.push(format!(
                    "provider id {provider_id:?} was given to both {other} and {user_id}"
                ));
            }
            match storage.get_user_by_provider_id(provider_id).await {
                Ok(Some(user)) if &user.id == user_id => {}
                Ok(found) => report.violations.push(format!(
                    "user {user_id} is missing under its provider id (found {:?})",
                    found.map(|user| user.id)
                )),
                Err(err) => report
                    .violations
                    .push(format!("reading user {user_id} failed: {err}")),
            }
            let mut expected: Vec<&Session> = model
                .live_sessions
                .values()
                .filter(|session| &session.user_id == user_id)
                .collect();
            expected.sort_by(|a, b| a.id.cmp(&b.id));
            match storage.get_sessions_by_user_id(user_id).await {
                Ok(mut stored) => {
                    stored.sort_by(|a, b| a.id.cmp(&b.id));
                    let stored: Vec<&Session> = stored.iter().collect();
                    if stored != expected {
                        report.violations.push(format!(
                            "user {user_id} has {} sessions, the model expects {} (lost, extra or stale)",
                            stored.len(),
                            expected.len()
                        ));
                    }
                }
                Err(err) => report
                    .violations
                    .push(format!("listing sessions of {user_id} failed: {err}")),
            }
        }
    }
}

/// Sets up a fresh both-sides target on `backend`, runs the load through a
/// [`Storage`] over it, and cleans up.
///
/// # Errors
/// Returns the setup failure as text when the backend cannot provide both
/// sides.
pub async fn run_load_on(
    backend: &dyn Backend,
    options: &LoadOptions,
) -> Result<LoadReport, String> {
    let mut target = backend
        .setup(Role::Both)
        .await
        .map_err(|err: SetupError| err.to_string())?;
    let storage = match (&target.joined, &target.users, &target.sessions) {
        (Some(joined), _, _) => Storage::from_arc(joined.clone()),
        (None, Some(users), Some(sessions)) => Storage::split_arc(users.clone(), sessions.clone()),
        _ => return Err(format!("{} does not provide both sides", backend.name())),
    };
    let report = run_load(&storage, options).await;
    for cleanup in target.take_cleanup() {
        cleanup().await;
    }
    Ok(report)
}

impl LoadReport {
    /// Renders the report as text: operations and errors by kind, then
    /// every violation.
    pub fn render_text(&self, backend: &str) -> String {
        let mut text = format!(
            "load on {backend}: {} operations\n",
            self.total_operations()
        );
        for (operation, count) in &self.operations {
            text.push_str(&format!("  {operation:<26} {count:>9}\n"));
        }
        if self.errors.is_empty() {
            text.push_str("  errors: none\n");
        }
        for (kind, count) in &self.errors {
            text.push_str(&format!("  error {kind:<20} {count:>9}\n"));
        }
        if self.violations.is_empty() {
            text.push_str("  store matches the model: no lost, stale or orphaned record\n");
        }
        for violation in &self.violations {
            text.push_str(&format!("  VIOLATION {violation}\n"));
        }
        text
    }
}
