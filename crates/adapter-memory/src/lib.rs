#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod state;

use std::sync::Arc;

use adapter_api::{
    Error, ErrorHook, Result, Session, SessionAdapter, SessionAndUserAdapter, User, UserAdapter,
    UserPatch, async_trait, validate,
};
use crossbeam_utils::CachePadded;
use parking_lot::RwLock;

use crate::state::{Sessions, UserSessions, Users};

/// Users and sessions in process memory.
///
/// Clones share the same data. Users sit behind one read-write lock.
/// Sessions are spread by session id over [`SESSION_SHARDS`] shards. The
/// index from a user to that user's session ids is spread by user id over
/// as many shards. Each shard has its own read-write lock, so requests
/// touching different sessions rarely wait for each other.
///
/// Locks are always taken in the order user lock, session shard, user-index
/// shard, and at most one shard of each kind is held at a time, so no two
/// operations deadlock. A session and its index entry change under the same
/// session shard lock. `delete_user` holds the user lock while it removes
/// the sessions and `set_session` holds it while it inserts, so the two
/// never interleave: there is never a session without its user.
#[derive(Clone)]
pub struct MemoryAdapter {
    inner: Arc<Inner>,
}

/// Number of session shards, and of user-index shards. Two threads hitting
/// random sessions collide on a shard one time in 32, and a sweep of every
/// shard for expired sessions reads 32 uncontended locks.
pub const SESSION_SHARDS: usize = 32;

struct Inner {
    users: RwLock<Users>,
    // Each shard sits on cache lines of its own, so two threads that lock
    // neighbouring shards do not invalidate each other's cache.
    sessions: Box<[CachePadded<RwLock<Sessions>>]>,
    user_sessions: Box<[CachePadded<RwLock<UserSessions>>]>,
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
                sessions: (0..SESSION_SHARDS)
                    .map(|_| CachePadded::default())
                    .collect(),
                user_sessions: (0..SESSION_SHARDS)
                    .map(|_| CachePadded::default())
                    .collect(),
                checks_session_users,
                _error_hook: error_hook,
            }),
        }
    }

    fn shard(&self, session_id: &str) -> &RwLock<Sessions> {
        &self.inner.sessions[shard_index(session_id)]
    }

    fn user_shard(&self, user_id: &str) -> &RwLock<UserSessions> {
        &self.inner.user_sessions[shard_index(user_id)]
    }

    /// Inserts a session and its index entry; the caller has checked that
    /// the shard does not hold its id.
    fn insert_session(&self, sessions: &mut Sessions, session: Session) {
        self.user_shard(&session.user_id)
            .write()
            .link(&session.user_id, &session.id);
        sessions.insert(session);
    }

    /// Removes a session and its index entry. With `owner`, only a session
    /// of that user is removed.
    fn remove_session(&self, session_id: &str, owner: Option<&str>) {
        let mut sessions = self.shard(session_id).write();
        if let Some(owner) = owner
            && sessions
                .get(session_id)
                .is_none_or(|session| session.user_id != owner)
        {
            return;
        }
        if let Some(removed) = sessions.remove(session_id) {
            self.user_shard(&removed.user_id)
                .write()
                .unlink(&removed.user_id, session_id);
        }
    }

    /// Removes the sessions of a user that the index lists when it is read.
    /// Each removal checks the owner again, because the id may have been
    /// deleted and created anew for another user after the index was read.
    fn remove_sessions_of(&self, user_id: &str) {
        let ids = self.user_shard(user_id).read().ids(user_id);
        for id in ids {
            self.remove_session(&id, Some(user_id));
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
        self.inner
            .sessions
            .iter()
            .flat_map(|shard| shard.read().all().cloned().collect::<Vec<_>>())
            .collect()
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
        let mut sessions = self.shard(&session.id).write();
        if let Some(replaced) = sessions.remove(&session.id) {
            self.user_shard(&replaced.user_id)
                .write()
                .unlink(&replaced.user_id, &replaced.id);
        }
        self.insert_session(&mut sessions, session);
    }
}

/// Picks the shard of a session id with a multiply-rotate hash over 8-byte
/// words, a few nanoseconds for a 40-character token.
///
/// The hash needs spread, not resistance to crafted ids: each shard's map
/// still hashes with the standard library's keyed SipHash, so ids chosen to
/// share a shard only make that shard's lock busier.
fn shard_index(session_id: &str) -> usize {
    const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;
    let mix = |hash: u64, word: u64| (hash.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    let bytes = session_id.as_bytes();
    let mut words = bytes.chunks_exact(8);
    let mut hash = bytes.len() as u64;
    for word in &mut words {
        let word: [u8; 8] = word.try_into().expect("chunks_exact yields 8 bytes");
        hash = mix(hash, u64::from_le_bytes(word));
    }
    for &byte in words.remainder() {
        hash = mix(hash, u64::from(byte));
    }
    // The multiplication pushes entropy into the high bits, so the shard
    // comes from those. The result is below SESSION_SHARDS and fits usize.
    ((hash >> 32) % SESSION_SHARDS as u64) as usize
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
        // The user lock is held until the sessions are removed, and
        // set_session holds it while inserting, so no session for this user
        // can be created during or after the removal.
        self.remove_sessions_of(user_id);
        Ok(())
    }
}

#[async_trait]
impl SessionAdapter for MemoryAdapter {
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        Ok(self.shard(session_id).read().get(session_id).cloned())
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        // One index lookup, then one lookup per session of this user. The
        // owner is checked because an id read from the index may have been
        // deleted and created anew for another user since.
        let ids = self.user_shard(user_id).read().ids(user_id);
        let found = ids
            .iter()
            .filter_map(|id| {
                self.shard(id)
                    .read()
                    .get(id)
                    .filter(|session| session.user_id == user_id)
                    .cloned()
            })
            .collect();
        Ok(found)
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
        let mut sessions = self.shard(&session.id).write();
        if sessions.contains(&session.id) {
            return Err(Error::DuplicateSessionId {
                session_id: session.id,
            });
        }
        self.insert_session(&mut sessions, session);
        Ok(())
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        validate::expiry(expires, idle_expires)?;
        self.shard(session_id)
            .write()
            .renew(session_id, expires, idle_expires)
            .ok_or_else(|| Error::InvalidSessionId {
                session_id: session_id.to_owned(),
            })
    }

    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        if session_ids.is_empty() {
            return Ok(());
        }
        for id in session_ids {
            self.remove_session(id, None);
        }
        Ok(())
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.remove_sessions_of(user_id);
        Ok(())
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        // Each shard is checked under a read lock first, so a sweep that
        // finds nothing due never blocks readers.
        let mut removed = 0;
        for shard in &self.inner.sessions {
            if !shard.read().has_expired(now) {
                continue;
            }
            let mut sessions = shard.write();
            for expired in sessions.remove_expired(now) {
                self.user_shard(&expired.user_id)
                    .write()
                    .unlink(&expired.user_id, &expired.id);
                removed += 1;
            }
        }
        Ok(removed)
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
        let sessions = self.shard(session_id).read();
        let Some(session) = sessions.get(session_id) else {
            return Ok(None);
        };
        let user = users.by_id.get(&session.user_id).cloned();
        Ok(user.map(|user| (session.clone(), user)))
    }
}
