//! The configuration that puts users and sessions in one backend or in two.

use std::fmt;
use std::sync::Arc;

use rand::Rng;
use tracing::instrument;

use crate::adapter::{SessionAdapter, SessionAndUserAdapter, UserAdapter};
use crate::error::{Error, Result};
use crate::record::{NewUser, Session, User, UserPatch};
use crate::validate;

/// Characters of generated user ids.
const ID_ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz0123456789";

/// Length of generated user ids: 36^15 is about 2^77 possible ids.
const GENERATED_ID_LEN: usize = 15;

/// How many generated ids [`Storage::set_user`] tries before it reports the
/// collision. A second collision means the generator is broken, not unlucky.
const GENERATED_ID_ATTEMPTS: usize = 3;

/// Returns a user id of 15 characters from `a-z0-9`, drawn from the thread's
/// cryptographically secure generator (`rand::rng()`, ChaCha12 seeded from
/// the operating system).
pub fn generate_user_id() -> String {
    let mut rng = rand::rng();
    (0..GENERATED_ID_LEN)
        .map(|_| char::from(ID_ALPHABET[rng.random_range(0..ID_ALPHABET.len())]))
        .collect()
}

type IdGenerator = Arc<dyn Fn() -> String + Send + Sync>;

/// Users and sessions as an application sees them: one backend for both
/// sides, or a user backend and a session backend.
///
/// With two backends, `Storage` keeps the rules that span them:
/// - [`set_session`](Self::set_session) checks through the user adapter that
///   the user exists, unless the session adapter checks it itself;
/// - [`delete_user`](Self::delete_user) deletes the user's sessions through
///   the session adapter first, then the user;
/// - [`get_session_and_user`](Self::get_session_and_user) runs two lookups and
///   returns `None` when the user is gone.
///
/// In every layout, [`set_user`](Self::set_user) generates the id of a user
/// created without one ([`generate_user_id`] unless
/// [`with_id_generator`](Self::with_id_generator) replaces it).
///
/// Cloning is cheap: clones share the adapters.
///
/// # Concurrency across two backends
/// The user check on session creation and the session insert are two
/// separate stores, so no transaction spans them. A user deleted between the
/// two steps leaves a session without a user; `get_session_and_user`
/// returns `None` for it and `delete_expired_sessions` removes it once it is
/// dead.
#[derive(Clone)]
pub struct Storage {
    users: Arc<dyn UserAdapter>,
    sessions: Arc<dyn SessionAdapter>,
    joined: Option<Arc<dyn SessionAndUserAdapter>>,
    id_generator: Option<IdGenerator>,
}

impl Storage {
    /// Keeps both sides in one backend.
    pub fn new(adapter: impl SessionAndUserAdapter + 'static) -> Self {
        Storage::from_arc(Arc::new(adapter))
    }

    /// Keeps both sides in one shared backend.
    pub fn from_arc(adapter: Arc<dyn SessionAndUserAdapter>) -> Self {
        Storage {
            users: adapter.clone(),
            sessions: adapter.clone(),
            joined: Some(adapter),
            id_generator: None,
        }
    }

    /// Keeps users in one backend and sessions in another.
    pub fn split(
        users: impl UserAdapter + 'static,
        sessions: impl SessionAdapter + 'static,
    ) -> Self {
        Storage::split_arc(Arc::new(users), Arc::new(sessions))
    }

    /// Keeps users in one shared backend and sessions in another.
    pub fn split_arc(users: Arc<dyn UserAdapter>, sessions: Arc<dyn SessionAdapter>) -> Self {
        Storage {
            users,
            sessions,
            joined: None,
            id_generator: None,
        }
    }

    /// Replaces the generator of ids for users created without one.
    pub fn with_id_generator(
        mut self,
        generator: impl Fn() -> String + Send + Sync + 'static,
    ) -> Self {
        self.id_generator = Some(Arc::new(generator));
        self
    }

    /// Returns whether users and sessions live in two separate adapters
    /// (built with `split`).
    pub fn is_split(&self) -> bool {
        self.joined.is_none()
    }

    /// The user adapter.
    pub fn user_adapter(&self) -> &Arc<dyn UserAdapter> {
        &self.users
    }

    /// The session adapter.
    pub fn session_adapter(&self) -> &Arc<dyn SessionAdapter> {
        &self.sessions
    }

    fn next_id(&self) -> String {
        match &self.id_generator {
            Some(generator) => generator(),
            None => generate_user_id(),
        }
    }

    /// See [`UserAdapter::get_user`].
    #[instrument(level = "debug", skip(self), err(level = "debug"))]
    pub async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        self.users.get_user(user_id).await
    }

    /// See [`UserAdapter::get_user_by_provider_id`].
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        self.users.get_user_by_provider_id(provider_id).await
    }

    /// Creates a user, generating its id when `user.id` is `None`, and
    /// returns it as stored.
    ///
    /// A generated id that collides with an existing user is replaced and
    /// the insert retried, up to three ids in all.
    ///
    /// # Errors
    /// As [`UserAdapter::set_user`].
    #[instrument(level = "debug", skip_all, fields(user_id = user.id.as_deref()), err(level = "debug"))]
    pub async fn set_user(&self, user: NewUser) -> Result<User> {
        if let Some(id) = user.id.clone() {
            return self.users.set_user(user.into_user(id)).await;
        }
        let mut attempt = 1;
        loop {
            let id = self.next_id();
            match self.users.set_user(user.clone().into_user(id)).await {
                Err(Error::DuplicateUserId { user_id }) if attempt < GENERATED_ID_ATTEMPTS => {
                    tracing::warn!(%user_id, attempt, "generated user id collided, generating another");
                    attempt += 1;
                }
                result => return result,
            }
        }
    }

    /// See [`UserAdapter::update_user`].
    #[instrument(level = "debug", skip(self, patch), err(level = "debug"))]
    pub async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        self.users.update_user(user_id, patch).await
    }

    /// Deletes a user and every session of that user. An unknown id is not an
    /// error.
    ///
    /// With two backends the sessions go first, so a failure part way leaves
    /// a user without sessions, never sessions without a user.
    #[instrument(level = "debug", skip(self), err(level = "debug"))]
    pub async fn delete_user(&self, user_id: &str) -> Result<()> {
        if self.joined.is_none() {
            self.sessions.delete_sessions_by_user_id(user_id).await?;
        }
        self.users.delete_user(user_id).await
    }

    /// See [`SessionAdapter::get_session`].
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        self.sessions.get_session(session_id).await
    }

    /// See [`SessionAdapter::get_sessions_by_user_id`].
    #[instrument(level = "debug", skip(self), err(level = "debug"))]
    pub async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        self.sessions.get_sessions_by_user_id(user_id).await
    }

    /// Creates a session after checking that its user exists.
    ///
    /// # Errors
    /// As [`SessionAdapter::set_session`], and
    /// [`Error::InvalidUserId`] when the user does not exist, whichever
    /// backend holds users.
    #[instrument(level = "debug", skip_all, fields(user_id = %session.user_id), err(level = "debug"))]
    pub async fn set_session(&self, session: Session) -> Result<()> {
        if !self.sessions.checks_user_existence() {
            validate::session(&session)?;
            if self.users.get_user(&session.user_id).await?.is_none() {
                return Err(Error::InvalidUserId {
                    user_id: session.user_id,
                });
            }
        }
        self.sessions.set_session(session).await
    }

    /// See [`SessionAdapter::update_session`].
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        self.sessions
            .update_session(session_id, expires, idle_expires)
            .await
    }

    /// See [`SessionAdapter::delete_sessions`].
    #[instrument(level = "debug", skip_all, fields(count = session_ids.len()), err(level = "debug"))]
    pub async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        self.sessions.delete_sessions(session_ids).await
    }

    /// See [`SessionAdapter::delete_sessions_by_user_id`].
    #[instrument(level = "debug", skip(self), err(level = "debug"))]
    pub async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.sessions.delete_sessions_by_user_id(user_id).await
    }

    /// See [`SessionAdapter::delete_expired_sessions`].
    #[instrument(level = "debug", skip(self), err(level = "debug"))]
    pub async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        self.sessions.delete_expired_sessions(now).await
    }

    /// Returns a session with its user, or `None` when either is missing.
    ///
    /// One backend answers in one round trip; two backends take a session
    /// lookup, then a user lookup.
    #[instrument(level = "debug", skip_all, err(level = "debug"))]
    pub async fn get_session_and_user(&self, session_id: &str) -> Result<Option<(Session, User)>> {
        if let Some(joined) = &self.joined {
            return joined.get_session_and_user(session_id).await;
        }
        let Some(session) = self.sessions.get_session(session_id).await? else {
            return Ok(None);
        };
        let user = self.users.get_user(&session.user_id).await?;
        Ok(user.map(|user| (session, user)))
    }
}

impl fmt::Debug for Storage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Storage")
            .field("split", &self.is_split())
            .field("custom_id_generator", &self.id_generator.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_id_shape() {
        let id = generate_user_id();
        assert_eq!(id.len(), GENERATED_ID_LEN);
        assert!(id.bytes().all(|b| ID_ALPHABET.contains(&b)), "{id}");
        assert_ne!(generate_user_id(), id);
    }
}
