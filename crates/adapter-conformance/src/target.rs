//! The target a backend builds for one case: its adapters, raw access to
//! what they store, and how to clean up afterwards.

use std::fmt;
use std::sync::Arc;

use adapter_api::{BoxError, SessionAdapter, SessionAndUserAdapter, UserAdapter};
use async_trait::async_trait;
use futures::future::BoxFuture;
use serde_json::Value;

/// The side or sides a target provides.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Users and sessions in one backend instance.
    Both,
    /// Users only: the backend must not need anything of the session side.
    Users,
    /// Sessions only: the backend must not need anything of the user side,
    /// and must not check that a session's user exists.
    Sessions,
}

/// Failure to set up a target.
#[derive(Debug)]
pub enum SetupError {
    /// The backend's server is not reachable. Outside CI the suite skips the
    /// case with this reason; with `CI=true` the case fails.
    Unavailable(String),
    /// The backend does not provide this role, so cases needing it are
    /// skipped everywhere.
    Unsupported(String),
    /// Anything else: the case fails.
    Failed(BoxError),
}

impl fmt::Display for SetupError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SetupError::Unavailable(reason) => write!(f, "backend unavailable: {reason}"),
            SetupError::Unsupported(reason) => write!(f, "role not supported: {reason}"),
            SetupError::Failed(err) => write!(f, "setup failed: {err}"),
        }
    }
}

/// Failure to plant a raw record.
#[derive(Debug)]
pub enum PlantError {
    /// The store cannot hold a record of this shape at all (a SQL column
    /// cannot hold a number where text belongs, say). Cases skip.
    Unsupported(String),
    /// The write failed.
    Failed(BoxError),
}

impl<E: Into<BoxError>> From<E> for PlantError {
    fn from(err: E) -> Self {
        PlantError::Failed(err.into())
    }
}

/// Raw access to what a backend stores, bypassing the adapter.
///
/// Records use one logical JSON shape on every backend. A user is
/// `{"id", "provider_id", "hashed_password", "attributes": {..}}`, a session
/// `{"id", "user_id", "expires", "idle_expires"}`. Reading returns what is
/// stored in that shape: a stored null or missing password hash is `null`,
/// an integer is a JSON integer, a float a JSON float, and a field missing
/// from the store is missing from the object.
///
/// Planting writes a record in that shape as it is, including wrong types,
/// missing fields and non-string ids, so cases can check how the adapter
/// reads records it did not write. Where the store has its own field layout
/// (MongoDB flattens attributes into the document), the backend maps the
/// shape to it.
#[async_trait]
pub trait RawStore: Send + Sync {
    /// Reads the stored user with this id.
    async fn read_user(&self, id: &str) -> Result<Option<Value>, BoxError>;
    /// Reads the stored session with this id.
    async fn read_session(&self, id: &str) -> Result<Option<Value>, BoxError>;
    /// Counts stored users.
    async fn count_users(&self) -> Result<u64, BoxError>;
    /// Counts stored sessions.
    async fn count_sessions(&self) -> Result<u64, BoxError>;
    /// Writes a user record as given, bypassing every check.
    async fn plant_user(&self, record: Value) -> Result<(), PlantError>;
    /// Writes a session record as given, bypassing every check.
    async fn plant_session(&self, record: Value) -> Result<(), PlantError>;
}

type Cleanup = Box<dyn FnOnce() -> BoxFuture<'static, ()> + Send>;

/// The adapters under test for one case, with raw access and cleanup.
#[derive(Default)]
pub struct Target {
    /// The user side, if this target has one.
    pub users: Option<Arc<dyn UserAdapter>>,
    /// The session side, if this target has one.
    pub sessions: Option<Arc<dyn SessionAdapter>>,
    /// The same backend instance as both sides, when it can join them.
    pub joined: Option<Arc<dyn SessionAndUserAdapter>>,
    /// Raw access to the store behind `users`.
    pub raw_users: Option<Arc<dyn RawStore>>,
    /// Raw access to the store behind `sessions`.
    pub raw_sessions: Option<Arc<dyn RawStore>>,
    cleanup: Vec<Cleanup>,
}

impl Target {
    /// Builds a target with one backend instance as both sides.
    pub fn both(adapter: Arc<dyn SessionAndUserAdapter>) -> Self {
        Target {
            users: Some(adapter.clone()),
            sessions: Some(adapter.clone()),
            joined: Some(adapter),
            ..Target::default()
        }
    }

    /// Builds a target with a user side only.
    pub fn users(adapter: Arc<dyn UserAdapter>) -> Self {
        Target {
            users: Some(adapter),
            ..Target::default()
        }
    }

    /// Builds a target with a session side only.
    pub fn sessions(adapter: Arc<dyn SessionAdapter>) -> Self {
        Target {
            sessions: Some(adapter),
            ..Target::default()
        }
    }

    /// Adds raw access to the store of every side this target has.
    pub fn with_raw(mut self, raw: Arc<dyn RawStore>) -> Self {
        if self.users.is_some() {
            self.raw_users = Some(raw.clone());
        }
        if self.sessions.is_some() {
            self.raw_sessions = Some(raw);
        }
        self
    }

    /// Adds a step that runs after the case, pass or fail, such as dropping
    /// the case's database.
    pub fn with_cleanup(
        mut self,
        cleanup: impl FnOnce() -> BoxFuture<'static, ()> + Send + 'static,
    ) -> Self {
        self.cleanup.push(Box::new(cleanup));
        self
    }

    /// Joins the user side of `users` and the session side of `sessions`
    /// into a split target, keeping both cleanups.
    pub fn split(users: Target, sessions: Target) -> Self {
        let mut cleanup = users.cleanup;
        cleanup.extend(sessions.cleanup);
        Target {
            users: users.users,
            sessions: sessions.sessions,
            joined: None,
            raw_users: users.raw_users,
            raw_sessions: sessions.raw_sessions,
            cleanup,
        }
    }

    pub(crate) fn take_cleanup(&mut self) -> Vec<Cleanup> {
        std::mem::take(&mut self.cleanup)
    }
}

/// A backend as the suite sees it: something that builds a fresh, isolated
/// target for each case.
#[async_trait]
pub trait Backend: Send + Sync {
    /// Name shown in reports and skip messages, such as `memory` or
    /// `postgres`.
    fn name(&self) -> String;

    /// Returns whether the backend serves `role`. Cases in a role it does not
    /// serve are skipped without calling [`setup`](Self::setup). The default
    /// serves every role.
    fn supports(&self, role: Role) -> bool {
        let _ = role;
        true
    }

    /// Builds a target for one case in `role`. Every call returns adapters
    /// over data that no other call sees (a new instance, database, schema or
    /// collection prefix), so cases can run in parallel.
    async fn setup(&self, role: Role) -> Result<Target, SetupError>;
}

/// Users from one backend and sessions from another: the split layout.
pub struct Split<U, S> {
    users: U,
    sessions: S,
}

impl<U: Backend, S: Backend> Split<U, S> {
    /// Pairs a user backend with a session backend.
    pub fn new(users: U, sessions: S) -> Self {
        Split { users, sessions }
    }
}

#[async_trait]
impl<U: Backend, S: Backend> Backend for Split<U, S> {
    fn name(&self) -> String {
        format!("{}+{}", self.users.name(), self.sessions.name())
    }

    fn supports(&self, role: Role) -> bool {
        match role {
            Role::Users => self.users.supports(Role::Users),
            Role::Sessions => self.sessions.supports(Role::Sessions),
            Role::Both => {
                self.users.supports(Role::Users) && self.sessions.supports(Role::Sessions)
            }
        }
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        match role {
            Role::Users => self.users.setup(Role::Users).await,
            Role::Sessions => self.sessions.setup(Role::Sessions).await,
            Role::Both => {
                let users = self.users.setup(Role::Users).await?;
                let sessions = self.sessions.setup(Role::Sessions).await?;
                Ok(Target::split(users, sessions))
            }
        }
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Arc<B> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn supports(&self, role: Role) -> bool {
        (**self).supports(role)
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        (**self).setup(role).await
    }
}

#[async_trait]
impl<B: Backend + ?Sized> Backend for Box<B> {
    fn name(&self) -> String {
        (**self).name()
    }

    fn supports(&self, role: Role) -> bool {
        (**self).supports(role)
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        (**self).setup(role).await
    }
}
