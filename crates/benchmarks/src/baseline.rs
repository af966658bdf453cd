//! The baseline the memory backend is measured against: one
//! `Mutex<HashMap>` per record kind and no secondary index, the design of
//! the common Rust in-memory session stores. tower-sessions' `MemoryStore`
//! (0.12 and later) is an `Arc<tokio::sync::Mutex<HashMap<Id, Record>>>`;
//! this baseline uses the faster `parking_lot::Mutex`, so it is the
//! stronger of the two.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use adapter_api::{Session, User, UserPatch};
use parking_lot::Mutex;

/// Users and sessions in two mutex-guarded hash maps.
#[derive(Default)]
pub struct MutexStore {
    users: Mutex<HashMap<String, User>>,
    sessions: Mutex<HashMap<String, Session>>,
}

impl MutexStore {
    /// Creates an empty store.
    pub fn new() -> MutexStore {
        MutexStore::default()
    }

    /// Returns a user by id.
    pub async fn get_user(&self, user_id: &str) -> Option<User> {
        self.users.lock().get(user_id).cloned()
    }

    /// Returns a user by provider id, scanning every user: the map has no
    /// provider-id index.
    pub async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User> {
        self.users
            .lock()
            .values()
            .find(|user| user.provider_id == provider_id)
            .cloned()
    }

    /// Inserts a user unless its id is taken; returns whether it did.
    pub async fn set_user(&self, user: User) -> bool {
        match self.users.lock().entry(user.id.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(user);
                true
            }
        }
    }

    /// Applies a patch and returns the user after it.
    pub async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User> {
        let mut users = self.users.lock();
        let user = users.get_mut(user_id)?;
        patch.apply_to(user);
        Some(user.clone())
    }

    /// Deletes a user and, scanning every session, the user's sessions. The
    /// user lock is held throughout, so no session is created for the user
    /// in between.
    pub async fn delete_user(&self, user_id: &str) {
        let mut users = self.users.lock();
        users.remove(user_id);
        self.sessions
            .lock()
            .retain(|_, session| session.user_id != user_id);
    }

    /// Returns a session by id.
    pub async fn get_session(&self, session_id: &str) -> Option<Session> {
        self.sessions.lock().get(session_id).cloned()
    }

    /// Returns a user's sessions, scanning every session.
    pub async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session> {
        self.sessions
            .lock()
            .values()
            .filter(|session| session.user_id == user_id)
            .cloned()
            .collect()
    }

    /// Inserts a session if its user exists and its id is free; returns
    /// whether it did.
    pub async fn set_session(&self, session: Session) -> bool {
        let users = self.users.lock();
        if !users.contains_key(&session.user_id) {
            return false;
        }
        match self.sessions.lock().entry(session.id.clone()) {
            Entry::Occupied(_) => false,
            Entry::Vacant(slot) => {
                slot.insert(session);
                true
            }
        }
    }

    /// Sets new expiry times and returns the session after the change.
    pub async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        let mut sessions = self.sessions.lock();
        let session = sessions.get_mut(session_id)?;
        session.expires = expires;
        session.idle_expires = idle_expires;
        Some(session.clone())
    }

    /// Deletes the listed sessions.
    pub async fn delete_sessions(&self, session_ids: &[String]) {
        let mut sessions = self.sessions.lock();
        for id in session_ids {
            sessions.remove(id);
        }
    }

    /// Deletes a user's sessions, scanning every session.
    pub async fn delete_sessions_by_user_id(&self, user_id: &str) {
        self.sessions
            .lock()
            .retain(|_, session| session.user_id != user_id);
    }

    /// Deletes sessions with `idle_expires <= now`, scanning every session,
    /// and returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> u64 {
        let mut sessions = self.sessions.lock();
        let before = sessions.len();
        sessions.retain(|_, session| session.idle_expires > now);
        (before - sessions.len()) as u64
    }

    /// Returns a session and its user.
    pub async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)> {
        let users = self.users.lock();
        let session = self.sessions.lock().get(session_id).cloned()?;
        let user = users.get(&session.user_id).cloned()?;
        Some((session, user))
    }

    /// Removes the users and sessions that match, outside any measurement.
    pub fn remove_where(&self, user: impl Fn(&User) -> bool, session: impl Fn(&Session) -> bool) {
        self.users.lock().retain(|_, stored| !user(stored));
        self.sessions.lock().retain(|_, stored| !session(stored));
    }
}

/// Sessions in one `tokio::sync::Mutex<HashMap>`, the exact design of
/// tower-sessions' `MemoryStore` (0.12 and later), as a mixed-load target.
/// Only the two operations of the mixed load are written.
pub struct TokioMutexSessions(tokio::sync::Mutex<HashMap<String, Session>>);

impl TokioMutexSessions {
    /// Creates a store holding these sessions.
    pub fn new(sessions: impl IntoIterator<Item = Session>) -> TokioMutexSessions {
        let by_id = sessions
            .into_iter()
            .map(|session| (session.id.clone(), session))
            .collect();
        TokioMutexSessions(tokio::sync::Mutex::new(by_id))
    }
}

#[async_trait::async_trait]
impl crate::measure::SessionLoad for TokioMutexSessions {
    async fn read(&self, session_id: &str) {
        let session = self.0.lock().await.get(session_id).cloned();
        std::hint::black_box(session);
    }

    async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64) {
        let mut sessions = self.0.lock().await;
        if let Some(session) = sessions.get_mut(session_id) {
            session.expires = expires;
            session.idle_expires = idle_expires;
            std::hint::black_box(session.clone());
        }
    }
}
