//! Cases, the context they run in, and running one case against a backend.

use std::any::Any;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use adapter_api::{
    Error, NewUser, Session, SessionAdapter, SessionAndUserAdapter, Storage, User, UserAdapter,
};
use futures::future::BoxFuture;

use crate::target::{Backend, RawStore, Role, SetupError, Target};

/// Longest time one case may take, setup included, before it fails as hung.
pub const CASE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a case needs from its target besides the role it asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// A user adapter.
    Users,
    /// A session adapter.
    Sessions,
    /// A user adapter and a session adapter, in one backend or two: the case
    /// runs through [`Storage`].
    Storage,
    /// One backend as both sides that joins them
    /// ([`SessionAndUserAdapter`]).
    Joined,
    /// A session adapter that itself rejects sessions of missing users.
    UserCheckingSessions,
    /// Users and sessions in two separate backend instances.
    Split,
}

/// Why a case did not pass.
#[derive(Debug)]
pub enum CaseError {
    /// The case does not apply to this backend; the message says why.
    Skip(String),
    /// The case failed.
    Fail(String),
}

impl From<Error> for CaseError {
    fn from(err: Error) -> Self {
        CaseError::Fail(format!("unexpected adapter error: {err} ({err:?})"))
    }
}

impl From<adapter_api::BoxError> for CaseError {
    fn from(err: adapter_api::BoxError) -> Self {
        CaseError::Fail(format!("raw store error: {err}"))
    }
}

/// Result of a case body.
pub type CaseResult = Result<(), CaseError>;

/// One rule of the contract, checked against a backend.
#[derive(Clone, Copy)]
pub struct Case {
    /// Unique snake_case name, also the test name.
    pub name: &'static str,
    /// The role the case asks the backend to set up.
    pub role: Role,
    /// What the case needs from the target.
    pub needs: Needs,
    /// The case body.
    pub run: fn(Ctx) -> BoxFuture<'static, CaseResult>,
}

impl fmt::Debug for Case {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Case")
            .field("name", &self.name)
            .field("role", &self.role)
            .field("needs", &self.needs)
            .finish()
    }
}

/// The adapters a case body works with.
pub struct Ctx {
    users: Option<Arc<dyn UserAdapter>>,
    sessions: Option<Arc<dyn SessionAdapter>>,
    joined: Option<Arc<dyn SessionAndUserAdapter>>,
    raw_users: Option<Arc<dyn RawStore>>,
    raw_sessions: Option<Arc<dyn RawStore>>,
    storage: Option<Storage>,
}

impl Ctx {
    fn new(target: &Target) -> Self {
        let storage = match (&target.joined, &target.users, &target.sessions) {
            (Some(joined), _, _) => Some(Storage::from_arc(joined.clone())),
            (None, Some(users), Some(sessions)) => {
                Some(Storage::split_arc(users.clone(), sessions.clone()))
            }
            _ => None,
        };
        Ctx {
            users: target.users.clone(),
            sessions: target.sessions.clone(),
            joined: target.joined.clone(),
            raw_users: target.raw_users.clone(),
            raw_sessions: target.raw_sessions.clone(),
            storage,
        }
    }

    fn missing(&self, needs: Needs) -> Option<&'static str> {
        match needs {
            Needs::Users if self.users.is_none() => Some("the backend provides no user adapter"),
            Needs::Sessions if self.sessions.is_none() => {
                Some("the backend provides no session adapter")
            }
            Needs::Storage if self.storage.is_none() => {
                Some("the backend does not provide both sides")
            }
            Needs::Joined if self.joined.is_none() => {
                Some("the case needs one backend holding both sides (not a split pair)")
            }
            Needs::UserCheckingSessions => match &self.sessions {
                Some(sessions) if sessions.checks_user_existence() => None,
                _ => Some(
                    "the session adapter itself does not check that users exist (in a split pair, Storage checks instead)",
                ),
            },
            Needs::Split if self.storage.is_none() || self.joined.is_some() => {
                Some("the case needs users and sessions in two separate backends")
            }
            _ => None,
        }
    }

    /// The user adapter.
    pub fn users(&self) -> &Arc<dyn UserAdapter> {
        self.users.as_ref().expect("case declared Needs::Users")
    }

    /// The session adapter.
    pub fn sessions(&self) -> &Arc<dyn SessionAdapter> {
        self.sessions
            .as_ref()
            .expect("case declared Needs::Sessions")
    }

    /// The joined adapter.
    pub fn joined(&self) -> &Arc<dyn SessionAndUserAdapter> {
        self.joined.as_ref().expect("case declared Needs::Joined")
    }

    /// Both sides as the application sees them.
    pub fn storage(&self) -> &Storage {
        self.storage.as_ref().expect("case declared Needs::Storage")
    }

    /// Returns whether a user adapter is present.
    pub fn has_users(&self) -> bool {
        self.users.is_some()
    }

    /// Raw access to the user store, or a skip when the backend gives none.
    pub fn raw_users(&self) -> Result<&Arc<dyn RawStore>, CaseError> {
        self.raw_users
            .as_ref()
            .ok_or_else(|| CaseError::Skip("the backend gives no raw access to its users".into()))
    }

    /// Raw access to the session store, or a skip when the backend gives none.
    pub fn raw_sessions(&self) -> Result<&Arc<dyn RawStore>, CaseError> {
        self.raw_sessions.as_ref().ok_or_else(|| {
            CaseError::Skip("the backend gives no raw access to its sessions".into())
        })
    }

    /// Creates a user with this id and provider id `provider:<id>` when the
    /// target has a user side, so that session cases also work on backends
    /// that check a session's user. Returns the user, if one was created.
    pub async fn ensure_user(&self, user_id: &str) -> Result<Option<User>, CaseError> {
        let Some(users) = &self.users else {
            return Ok(None);
        };
        let user = NewUser::new(format!("provider:{user_id}")).into_user(user_id.to_owned());
        Ok(Some(users.set_user(user).await?))
    }

    /// Creates a session (and its user, where the target has users) through
    /// the adapters and returns the session.
    pub async fn create_session(
        &self,
        id: &str,
        user_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session, CaseError> {
        if self.users.is_some() && self.users().get_user(user_id).await?.is_none() {
            self.ensure_user(user_id).await?;
        }
        let session = Session::new(id, user_id, expires, idle_expires);
        self.sessions().set_session(session.clone()).await?;
        Ok(session)
    }
}

/// How a case ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Every check held.
    Passed,
    /// A check failed; the message says which.
    Failed(String),
    /// The case does not apply or the backend was unreachable outside CI.
    Skipped(String),
}

/// The result of one case on one backend.
#[derive(Debug, Clone)]
pub struct CaseReport {
    /// Case name.
    pub case: &'static str,
    /// Backend name.
    pub backend: String,
    /// The role the case ran in.
    pub role: Role,
    /// How it ended.
    pub outcome: Outcome,
    /// Wall-clock time, setup and cleanup included.
    pub elapsed: Duration,
}

/// Returns whether the process runs under CI (`CI=true`), where an
/// unreachable server fails a case instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(text) = payload.downcast_ref::<&str>() {
        (*text).to_owned()
    } else if let Some(text) = payload.downcast_ref::<String>() {
        text.clone()
    } else {
        "the case panicked with a non-text payload".to_owned()
    }
}

/// Runs one case against a backend: sets up a fresh target, runs the body
/// with [`CASE_TIMEOUT`], and cleans up. A panic in the body (a failed
/// `assert!`) is a failure, never an abort of the whole run.
pub async fn run_case(backend: &dyn Backend, case: &Case) -> CaseReport {
    let started = Instant::now();
    let outcome = match tokio::time::timeout(CASE_TIMEOUT, run_case_inner(backend, case)).await {
        Ok(outcome) => outcome,
        Err(_) => Outcome::Failed(format!("timed out after {} s", CASE_TIMEOUT.as_secs())),
    };
    CaseReport {
        case: case.name,
        backend: backend.name(),
        role: case.role,
        outcome,
        elapsed: started.elapsed(),
    }
}

async fn run_case_inner(backend: &dyn Backend, case: &Case) -> Outcome {
    if !backend.supports(case.role) {
        return Outcome::Skipped(format!(
            "{} does not serve the {:?} role",
            backend.name(),
            case.role
        ));
    }
    let mut target = match backend.setup(case.role).await {
        Ok(target) => target,
        Err(SetupError::Unavailable(reason)) if in_ci() => {
            return Outcome::Failed(format!(
                "{} is unavailable and CI=true makes that a failure: {reason}",
                backend.name()
            ));
        }
        Err(SetupError::Unavailable(reason)) => {
            return Outcome::Skipped(format!("{} is unavailable: {reason}", backend.name()));
        }
        Err(SetupError::Unsupported(reason)) => return Outcome::Skipped(reason),
        Err(SetupError::Failed(err)) => return Outcome::Failed(format!("setup failed: {err}")),
    };
    let ctx = Ctx::new(&target);
    let outcome = match ctx.missing(case.needs) {
        Some(reason) => Outcome::Skipped(reason.to_owned()),
        None => match tokio::spawn((case.run)(ctx)).await {
            Ok(Ok(())) => Outcome::Passed,
            Ok(Err(CaseError::Skip(reason))) => Outcome::Skipped(reason),
            Ok(Err(CaseError::Fail(message))) => Outcome::Failed(message),
            Err(join_error) => match join_error.try_into_panic() {
                Ok(payload) => Outcome::Failed(panic_message(payload.as_ref())),
                Err(join_error) => Outcome::Failed(format!("the case task failed: {join_error}")),
            },
        },
    };
    for cleanup in target.take_cleanup() {
        cleanup().await;
    }
    outcome
}

/// Runs the named case as a `#[test]` does: builds a runtime, runs the case,
/// prints a skip with its reason, and panics on failure. The
/// [`conformance_tests!`](crate::conformance_tests) macro calls this once per
/// case.
pub fn run_case_test(backend: &dyn Backend, name: &str) {
    let case = crate::cases::all()
        .iter()
        .find(|case| case.name == name)
        .unwrap_or_else(|| panic!("no conformance case named {name}"));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("failed to build the tokio runtime for a conformance case");
    let report = runtime.block_on(run_case(backend, case));
    match report.outcome {
        Outcome::Passed => {}
        Outcome::Skipped(reason) => eprintln!("skipped {name} on {}: {reason}", report.backend),
        Outcome::Failed(message) => panic!("{name} failed on {}: {message}", report.backend),
    }
}
