#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod state;

use std::sync::Arc;

use adapter_api::{
    Error, ErrorHook, Result, Session, SessionAdapter, SessionAndUserAdapter, User, UserAdapter,
    UserPatch, async_trait, validate,
};
use parking_lot::RwLock;

use crate::state::{Sessions, Users};

/// Users and sessions in process memory.
///
/// Clones share the same data. Users and sessions each sit behind their own
/// read-write lock; an operation that needs both takes the user lock first,
/// so a user's deletion and the creation of a session for it never
/// interleave: there is never a session without its user.
#[derive(Clone)]
pub struct MemoryAdapter {
    inner: Arc<Inner>,
}

struct Inner {
    users: RwLock<Users>,
    sessions: RwLock<Sessions>,
    checks_session_users: bool,
    // Kept for the constructor contract shared by every backend; the memory
    // backend has no backend errors, so the hook is never called.
    _error_hook: Option<ErrorHook>,
}

/// Options of [`MemoryAdapter::with_options`].
#[derive(Debug, Clone, Default)]
pub struct MemoryOptions {
    /// Serve the session side only: `set_session` does not look for the
    /// user (see [`MemoryAdapter::sessions_only`]).
    pub sessions_only: bool,
    /// Error hook, accepted for the constructor shape every backend shares.
    /// The memory backend raises no backend errors, so it is never called.
    pub error_hook: Option<ErrorHook>,
}

impl Default for MemoryAdapter {
    fn default() -> Self {
        MemoryAdapter::new()
    }
}

impl MemoryAdapter {
    /// Creates an empty store that serves both sides: `set_session` rejects
    /// a session whose user it does not hold.
    pub fn new() -> Self {
        MemoryAdapter::build(true, None)
    }

    /// Creates an empty store for the session side of a split layout, where
    /// users live in another backend: `set_session` does not look for the
    /// user, and [`adapter_api::Storage`] checks through the user adapter
    /// instead.
    pub fn sessions_only() -> Self {
        MemoryAdapter::build(false, None)
    }

    /// Creates an empty store with explicit options.
    pub fn with_options(options: MemoryOptions) -> Self {
        MemoryAdapter::build(!options.sessions_only, options.error_hook)
    }

    fn build(checks_session_users: bool, error_hook: Option<ErrorHook>) -> Self {
        MemoryAdapter {
            inner: Arc::new(Inner {
                users: RwLock::default(),
                sessions: RwLock::default(),
                checks_session_users,
                _error_hook: error_hook,
            }),
        }
    }

    /// Returns a copy of every stored user, for tests that inspect the store
    /// directly.
    pub fn stored_users(&self) -> Vec<User> {
        self.inner.users.read().by_id.values().cloned().collect()
    }

    /// Returns a copy of every stored session, for tests that inspect the
    /// store directly.
    pub fn stored_sessions(&self) -> Vec<Session> {
        self.inner.sessions.read().by_id.values().cloned().collect()
    }

    /// Stores a user as given, skipping validation and uniqueness checks
    /// except that an existing record with the same id is replaced. Tests use
    /// it to plant records the adapter would refuse.
    pub fn insert_user_unchecked(&self, user: User) {
        let mut users = self.inner.users.write();
        if let Some(old) = users.by_id.remove(&user.id) {
            users.id_by_provider.remove(&old.provider_id);
        }
        users
            .id_by_provider
            .insert(user.provider_id.clone(), user.id.clone());
        users.by_id.insert(user.id.clone(), user);
    }

    /// Stores a session as given, skipping validation and the user check,
    /// replacing a session with the same id.
    pub fn insert_session_unchecked(&self, session: Session) {
        let mut sessions = self.inner.sessions.write();
        sessions.remove(&session.id);
        sessions.insert(session);
    }
}

#[async_trait]
impl UserAdapter for MemoryAdapter {
    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        Ok(self.inner.users.read().by_id.get(user_id).cloned())
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        let users = self.inner.users.read();
        let user = users
            .id_by_provider
            .get(provider_id)
            .and_then(|id| users.by_id.get(id))
            .cloned();
        Ok(user)
    }

    async fn set_user(&self, user: User) -> Result<User> {
        validate::user(&user)?;
        let mut users = self.inner.users.write();
        if users.by_id.contains_key(&user.id) {
            return Err(Error::DuplicateUserId { user_id: user.id });
        }
        if users.id_by_provider.contains_key(&user.provider_id) {
            return Err(Error::DuplicateProviderId {
                provider_id: user.provider_id,
            });
        }
        users
            .id_by_provider
            .insert(user.provider_id.clone(), user.id.clone());
        users.by_id.insert(user.id.clone(), user.clone());
        Ok(user)
    }

    async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        validate::user_patch(&patch)?;
        let mut users = self.inner.users.write();
        let Some(current) = users.by_id.get(user_id) else {
            return Err(Error::InvalidUserId {
                user_id: user_id.to_owned(),
            });
        };
        let mut updated = current.clone();
        patch.apply_to(&mut updated);
        if updated.provider_id != current.provider_id {
            if users.id_by_provider.contains_key(&updated.provider_id) {
                return Err(Error::DuplicateProviderId {
                    provider_id: updated.provider_id,
                });
            }
            let old_provider_id = current.provider_id.clone();
            users.id_by_provider.remove(&old_provider_id);
            users
                .id_by_provider
                .insert(updated.provider_id.clone(), user_id.to_owned());
        }
        users.by_id.insert(user_id.to_owned(), updated.clone());
        Ok(updated)
    }

    async fn delete_user(&self, user_id: &str) -> Result<()> {
        let mut users = self.inner.users.write();
        if let Some(user) = users.by_id.remove(user_id) {
            users.id_by_provider.remove(&user.provider_id);
        }
        // Held with the user lock, so no session for this user can be
        // created between the two removals.
        self.inner.sessions.write().remove_user(user_id);
        Ok(())
    }
}

#[async_trait]
impl SessionAdapter for MemoryAdapter {
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        Ok(self.inner.sessions.read().by_id.get(session_id).cloned())
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        let sessions = self.inner.sessions.read();
        let Some(ids) = sessions.ids_by_user.get(user_id) else {
            return Ok(Vec::new());
        };
        Ok(ids
            .iter()
            .filter_map(|id| sessions.by_id.get(id))
            .cloned()
            .collect())
    }

    async fn set_session(&self, session: Session) -> Result<()> {
        validate::session(&session)?;
        // The user lock is held until the session is in, so a concurrent
        // delete_user either runs before (and the user is missing) or after
        // (and removes this session too).
        let users = self
            .inner
            .checks_session_users
            .then(|| self.inner.users.read());
        if let Some(users) = &users
            && !users.by_id.contains_key(&session.user_id)
        {
            return Err(Error::InvalidUserId {
                user_id: session.user_id,
            });
        }
        let mut sessions = self.inner.sessions.write();
        if sessions.by_id.contains_key(&session.id) {
            return Err(Error::DuplicateSessionId {
                session_id: session.id,
            });
        }
        sessions.insert(session);
        Ok(())
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        validate::expiry(expires, idle_expires)?;
        let mut sessions = self.inner.sessions.write();
        let Some(mut session) = sessions.remove(session_id) else {
            return Err(Error::InvalidSessionId {
                session_id: session_id.to_owned(),
            });
        };
        session.expires = expires;
        session.idle_expires = idle_expires;
        sessions.insert(session.clone());
        Ok(session)
    }

    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        if session_ids.is_empty() {
            return Ok(());
        }
        let mut sessions = self.inner.sessions.write();
        for id in session_ids {
            sessions.remove(id);
        }
        Ok(())
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.inner.sessions.write().remove_user(user_id);
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        Ok(self.inner.sessions.write().remove_expired(now))
    }

    fn checks_user_existence(&self) -> bool {
        self.inner.checks_session_users
    }
}

#[async_trait]
impl SessionAndUserAdapter for MemoryAdapter {
    async fn get_session_and_user(&self, session_id: &str) -> Result<Option<(Session, User)>> {
        // User lock first, as everywhere, so this never deadlocks with a
        // writer holding the user lock and waiting for the session lock.
        let users = self.inner.users.read();
        let sessions = self.inner.sessions.read();
        let Some(session) = sessions.by_id.get(session_id) else {
            return Ok(None);
        };
        let user = users.by_id.get(&session.user_id).cloned();
        Ok(user.map(|user| (session.clone(), user)))
    }
}
