//! The adapter traits every backend implements.

use async_trait::async_trait;

use crate::error::Result;
use crate::record::{Session, User, UserPatch};

/// Storage of users.
///
/// Implementations are shared between tasks (`Arc<dyn UserAdapter>`), so
/// every method takes `&self` and must be safe to call concurrently.
#[async_trait]
pub trait UserAdapter: Send + Sync {
    /// Returns the user with this id, or `None`.
    ///
    /// A read concurrent with a write returns the record either before or
    /// after that write, never a mix of the two.
    ///
    /// # Errors
    /// [`Error::CorruptRecord`](crate::Error::CorruptRecord) when the stored
    /// record cannot be read as a user; [`Error::Backend`](crate::Error::Backend)
    /// on a database failure.
    async fn get_user(&self, user_id: &str) -> Result<Option<User>>;

    /// Returns the user with this provider id, matched exactly (case, spaces
    /// and Unicode form all count), or `None`.
    ///
    /// A provider id changed concurrently by [`update_user`](Self::update_user)
    /// is found under either its old or its new value, never under both.
    ///
    /// # Errors
    /// As [`get_user`](Self::get_user).
    async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>>;

    /// Creates a user and returns it as stored.
    ///
    /// Atomic: on any error nothing is stored. Of concurrent calls with the
    /// same id or the same provider id, exactly one succeeds and the others
    /// get the duplicate error.
    ///
    /// # Errors
    /// - [`Error::InvalidInput`](crate::Error::InvalidInput) when
    ///   [`validate::user`](crate::validate::user) rejects the record.
    /// - [`Error::DuplicateUserId`](crate::Error::DuplicateUserId) when the id
    ///   exists.
    /// - [`Error::DuplicateProviderId`](crate::Error::DuplicateProviderId)
    ///   when another user has the provider id.
    async fn set_user(&self, user: User) -> Result<User>;

    /// Applies `patch` to a user and returns the user after the change.
    ///
    /// Keys the patch does not name keep their stored value; an empty patch
    /// returns the stored user unchanged. Setting a user's provider id to its
    /// current value is not a duplicate. The change is atomic: a failed
    /// update changes nothing.
    ///
    /// # Errors
    /// - [`Error::InvalidInput`](crate::Error::InvalidInput) when
    ///   [`validate::user_patch`](crate::validate::user_patch) rejects the
    ///   patch.
    /// - [`Error::InvalidUserId`](crate::Error::InvalidUserId) when no user has
    ///   this id.
    /// - [`Error::DuplicateProviderId`](crate::Error::DuplicateProviderId)
    ///   when another user has the new provider id.
    async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User>;

    /// Deletes a user. An unknown id is not an error.
    ///
    /// An adapter that also stores sessions deletes the user's sessions too,
    /// and a session created for the user at the same moment is either
    /// rejected or deleted with them. Sessions stored elsewhere are deleted by
    /// [`crate::Storage`].
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) on a database failure.
    async fn delete_user(&self, user_id: &str) -> Result<()>;
}

/// Storage of sessions.
///
/// Implementations are shared between tasks, so every method takes `&self`
/// and must be safe to call concurrently.
#[async_trait]
pub trait SessionAdapter: Send + Sync {
    /// Returns the session with this id, or `None`. Dead sessions are
    /// returned until they are deleted: the caller decides by
    /// [`Session::state`].
    ///
    /// # Errors
    /// [`Error::CorruptRecord`](crate::Error::CorruptRecord) when the stored
    /// record cannot be read as a session; [`Error::Backend`](crate::Error::Backend)
    /// on a database failure.
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>>;

    /// Returns every session of a user, in no particular order; an empty list
    /// for an unknown user. The cost depends on that user's sessions only,
    /// not on how many sessions other users have.
    ///
    /// Sessions created or deleted during the call may or may not be listed.
    ///
    /// # Errors
    /// As [`get_session`](Self::get_session).
    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>>;

    /// Creates a session.
    ///
    /// Of concurrent calls with the same id, exactly one succeeds. Where the
    /// adapter checks the user, a concurrent [`UserAdapter::delete_user`] of
    /// that user either makes this call fail or deletes the new session.
    ///
    /// # Errors
    /// - [`Error::InvalidInput`](crate::Error::InvalidInput) when
    ///   [`validate::session`](crate::validate::session) rejects it.
    /// - [`Error::DuplicateSessionId`](crate::Error::DuplicateSessionId) when
    ///   the id exists.
    /// - [`Error::InvalidUserId`](crate::Error::InvalidUserId) when the
    ///   adapter also stores users ([`checks_user_existence`](Self::checks_user_existence)
    ///   returns true) and the user does not exist.
    async fn set_session(&self, session: Session) -> Result<()>;

    /// Sets new expiry times on a session and returns the renewed session.
    ///
    /// # Errors
    /// - [`Error::InvalidInput`](crate::Error::InvalidInput) when
    ///   `idle_expires < expires`.
    /// - [`Error::InvalidSessionId`](crate::Error::InvalidSessionId) when no
    ///   session has this id, including one deleted concurrently: a renewal
    ///   never brings a deleted session back.
    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session>;

    /// Deletes every listed session; unknown ids are ignored. An empty list
    /// returns at once without reaching the database.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) on a database failure, after
    /// which any subset of the listed sessions may be deleted.
    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()>;

    /// Deletes every session of a user; an unknown user is not an error.
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) on a database failure.
    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()>;

    /// Deletes every session with `idle_expires <= now` and no other, and
    /// returns how many it deleted. `now` is in milliseconds since the Unix
    /// epoch.
    ///
    /// Each session is deleted or renewed as a whole: a renewal racing this
    /// call either lands first, and the session stays if its new
    /// `idle_expires` is after `now`, or fails with
    /// [`Error::InvalidSessionId`](crate::Error::InvalidSessionId).
    ///
    /// # Errors
    /// [`Error::Backend`](crate::Error::Backend) on a database failure.
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64>;

    /// Returns whether [`set_session`](Self::set_session) itself rejects a
    /// session whose user does not exist. When it does not,
    /// [`crate::Storage`] checks through its user adapter first.
    fn checks_user_existence(&self) -> bool {
        false
    }
}

/// A backend that stores both sides and can read a session with its user in
/// one round trip (a join or `$lookup`).
#[async_trait]
pub trait SessionAndUserAdapter: UserAdapter + SessionAdapter {
    /// Returns the session and its user, or `None` when either is missing.
    ///
    /// # Errors
    /// [`Error::CorruptRecord`](crate::Error::CorruptRecord) when either
    /// stored record cannot be read; [`Error::Backend`](crate::Error::Backend)
    /// on a database failure.
    async fn get_session_and_user(&self, session_id: &str) -> Result<Option<(Session, User)>>;
}
