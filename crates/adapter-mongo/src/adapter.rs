//! The adapter types and their trait implementations.

use adapter_api::{
    Error, Result, Session, SessionAdapter, SessionAndUserAdapter, User, UserAdapter, UserPatch,
    async_trait, validate,
};
use bson::{Document, doc};
use futures::TryStreamExt;
use mongodb::Database;
use tracing::instrument;

use crate::document::{ID, USER_ID};
use crate::error::ErrorMapper;
use crate::indexes;
use crate::options::MongoOptions;
use crate::redact::{SessionIdPrefix, log_failure};
use crate::sessions::SessionStore;
use crate::users::UserStore;

/// Field that contains the joined user in the `$lookup` of
/// `get_session_and_user`. Any stored field of that name in the session
/// document is replaced in the pipeline output only.
const JOINED_USER: &str = "user";

/// Users and sessions in one database: both sides, with the user checks that
/// span them and a one-command session-and-user lookup.
#[derive(Clone, Debug)]
pub struct MongoAdapter {
    users: UserStore,
    sessions: SessionStore,
}

/// Users only. It never reads or writes a session collection.
#[derive(Clone, Debug)]
pub struct MongoUserAdapter {
    users: UserStore,
}

/// Sessions only. It never reads or writes a user collection, so it does
/// not check that a session's user exists: [`adapter_api::Storage`] does
/// that through its user adapter.
#[derive(Clone, Debug)]
pub struct MongoSessionAdapter {
    sessions: SessionStore,
}

fn user_store(database: &Database, options: &MongoOptions) -> UserStore {
    let errors = ErrorMapper {
        hook: options.error_hook.clone(),
    };
    UserStore::new(database, &options.users_collection, errors)
}

fn session_store(database: &Database, options: &MongoOptions) -> SessionStore {
    let errors = ErrorMapper {
        hook: options.error_hook.clone(),
    };
    SessionStore::new(
        database,
        &options.sessions_collection,
        errors,
        options.ttl_index,
    )
}

impl MongoAdapter {
    /// Builds the adapter on a database handle that the application
    /// connected. Reads and writes use the handle's read concern, write
    /// concern and read preference. Nothing is sent to the server until the
    /// first operation.
    pub fn new(database: &Database, options: MongoOptions) -> Self {
        MongoAdapter {
            users: user_store(database, &options),
            sessions: session_store(database, &options),
        }
    }

    /// Creates the indexes of both collections that are missing. See
    /// [`MongoUserAdapter::ensure_indexes`] and
    /// [`MongoSessionAdapter::ensure_indexes`].
    ///
    /// # Errors
    /// [`Error::Backend`] when listing or creating an index fails.
    #[instrument(name = "mongodb.ensure_indexes", skip_all, err(level = "debug"))]
    pub async fn ensure_indexes(&self) -> Result<()> {
        indexes::ensure(
            &self.users.collection,
            indexes::user_indexes(),
            &self.users.errors,
        )
        .await?;
        let required = indexes::session_indexes(self.sessions.ttl_index);
        indexes::ensure(&self.sessions.collection, required, &self.sessions.errors).await
    }
}

impl MongoUserAdapter {
    /// Builds a user-only adapter on a database handle that the application
    /// connected. The session options are ignored.
    pub fn new(database: &Database, options: MongoOptions) -> Self {
        MongoUserAdapter {
            users: user_store(database, &options),
        }
    }

    /// Creates the unique index on `provider_id` unless an index with that
    /// key and uniqueness exists under any name. Safe to call on every
    /// start.
    ///
    /// # Errors
    /// [`Error::Backend`] when listing or creating an index fails, such as
    /// when existing users already share a provider id.
    #[instrument(name = "mongodb.ensure_indexes", skip_all, err(level = "debug"))]
    pub async fn ensure_indexes(&self) -> Result<()> {
        indexes::ensure(
            &self.users.collection,
            indexes::user_indexes(),
            &self.users.errors,
        )
        .await
    }
}

impl MongoSessionAdapter {
    /// Builds a session-only adapter on a database handle that the
    /// application connected. The user options are ignored.
    pub fn new(database: &Database, options: MongoOptions) -> Self {
        MongoSessionAdapter {
            sessions: session_store(database, &options),
        }
    }

    /// Creates the missing session indexes: `user_id`, `idle_expires`, and
    /// with [`MongoOptions::ttl_index`] the TTL index on `idle_expires_at`.
    /// Safe to call on every start.
    ///
    /// # Errors
    /// [`Error::Backend`] when listing or creating an index fails.
    #[instrument(name = "mongodb.ensure_indexes", skip_all, err(level = "debug"))]
    pub async fn ensure_indexes(&self) -> Result<()> {
        let required = indexes::session_indexes(self.sessions.ttl_index);
        indexes::ensure(&self.sessions.collection, required, &self.sessions.errors).await
    }
}

#[async_trait]
impl UserAdapter for MongoUserAdapter {
    #[instrument(name = "mongodb.get_user", skip(self), err(level = "debug"))]
    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        self.users.get(user_id).await
    }

    #[instrument(
        name = "mongodb.get_user_by_provider_id",
        skip_all,
        err(level = "debug")
    )]
    async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        self.users.get_by_provider_id(provider_id).await
    }

    #[instrument(name = "mongodb.set_user", skip_all, fields(user_id = %user.id), err(level = "debug"))]
    async fn set_user(&self, user: User) -> Result<User> {
        self.users.insert(user).await
    }

    #[instrument(name = "mongodb.update_user", skip(self, patch), err(level = "debug"))]
    async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        self.users.update(user_id, patch).await
    }

    #[instrument(name = "mongodb.delete_user", skip(self), err(level = "debug"))]
    async fn delete_user(&self, user_id: &str) -> Result<()> {
        self.users.delete(user_id).await
    }
}

#[async_trait]
impl SessionAdapter for MongoSessionAdapter {
    #[instrument(name = "mongodb.get_session", skip_all, fields(session_id = %SessionIdPrefix(session_id)))]
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        log_failure(self.sessions.get(session_id).await)
    }

    #[instrument(name = "mongodb.get_sessions_by_user_id", skip(self))]
    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        log_failure(self.sessions.get_by_user_id(user_id).await)
    }

    #[instrument(name = "mongodb.update_session", skip_all, fields(session_id = %SessionIdPrefix(session_id)))]
    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        log_failure(
            self.sessions
                .update(session_id, expires, idle_expires)
                .await,
        )
    }

    #[instrument(name = "mongodb.delete_sessions", skip_all, fields(count = session_ids.len()), err(level = "debug"))]
    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        self.sessions.delete_many(session_ids).await
    }

    #[instrument(
        name = "mongodb.delete_sessions_by_user_id",
        skip(self),
        err(level = "debug")
    )]
    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.sessions
            .delete_by_user_id("delete_sessions_by_user_id", user_id)
            .await
    }

    #[instrument(
        name = "mongodb.delete_expired_sessions",
        skip(self),
        err(level = "debug")
    )]
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        self.sessions.delete_expired(now).await
    }

    #[instrument(name = "mongodb.set_session", skip_all, fields(session_id = %SessionIdPrefix(&session.id), user_id = %session.user_id), err(level = "debug"))]
    async fn set_session(&self, session: Session) -> Result<()> {
        self.sessions.insert(session).await
    }
}

#[async_trait]
impl UserAdapter for MongoAdapter {
    #[instrument(name = "mongodb.get_user", skip(self), err(level = "debug"))]
    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        self.users.get(user_id).await
    }

    #[instrument(
        name = "mongodb.get_user_by_provider_id",
        skip_all,
        err(level = "debug")
    )]
    async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        self.users.get_by_provider_id(provider_id).await
    }

    #[instrument(name = "mongodb.set_user", skip_all, fields(user_id = %user.id), err(level = "debug"))]
    async fn set_user(&self, user: User) -> Result<User> {
        self.users.insert(user).await
    }

    #[instrument(name = "mongodb.update_user", skip(self, patch), err(level = "debug"))]
    async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        self.users.update(user_id, patch).await
    }

    /// Deletes the user, then the user's sessions, in two commands. This
    /// order lets `set_session` detect a concurrent deletion (see there).
    /// If the second command fails, the sessions stay without a user until
    /// `delete_user` is called again, which deletes them.
    #[instrument(name = "mongodb.delete_user", skip(self), err(level = "debug"))]
    async fn delete_user(&self, user_id: &str) -> Result<()> {
        self.users.delete(user_id).await?;
        self.sessions
            .delete_by_user_id("delete_user", user_id)
            .await
    }
}

#[async_trait]
impl SessionAdapter for MongoAdapter {
    #[instrument(name = "mongodb.get_session", skip_all, fields(session_id = %SessionIdPrefix(session_id)))]
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        log_failure(self.sessions.get(session_id).await)
    }

    #[instrument(name = "mongodb.get_sessions_by_user_id", skip(self))]
    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        log_failure(self.sessions.get_by_user_id(user_id).await)
    }

    #[instrument(name = "mongodb.update_session", skip_all, fields(session_id = %SessionIdPrefix(session_id)))]
    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        log_failure(
            self.sessions
                .update(session_id, expires, idle_expires)
                .await,
        )
    }

    #[instrument(name = "mongodb.delete_sessions", skip_all, fields(count = session_ids.len()), err(level = "debug"))]
    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        self.sessions.delete_many(session_ids).await
    }

    #[instrument(
        name = "mongodb.delete_sessions_by_user_id",
        skip(self),
        err(level = "debug")
    )]
    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.sessions
            .delete_by_user_id("delete_sessions_by_user_id", user_id)
            .await
    }

    #[instrument(
        name = "mongodb.delete_expired_sessions",
        skip(self),
        err(level = "debug")
    )]
    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        self.sessions.delete_expired(now).await
    }

    /// Inserts the session, then checks that its user exists, and deletes
    /// the session again when the user is missing.
    ///
    /// No transaction is used, so that the adapter also works on standalone
    /// servers. The order closes the race with a concurrent `delete_user`,
    /// which deletes the user before its sessions: a session inserted
    /// before that sessions delete is removed by it, and one inserted after
    /// it finds the user gone and removes itself. Either way no session
    /// outlives its user once both calls return, provided reads see the
    /// latest writes (the default: reads from the primary). While the
    /// check runs, `get_session` may briefly return the new session of a
    /// missing user.
    #[instrument(name = "mongodb.set_session", skip_all, fields(session_id = %SessionIdPrefix(&session.id), user_id = %session.user_id), err(level = "debug"))]
    async fn set_session(&self, session: Session) -> Result<()> {
        validate::session(&session)?;
        let session_id = session.id.clone();
        let user_id = session.user_id.clone();
        self.sessions.insert(session).await?;
        if self.users.exists("set_session", &user_id).await? {
            return Ok(());
        }
        self.sessions.delete_one("set_session", &session_id).await?;
        Err(Error::InvalidUserId { user_id })
    }

    fn checks_user_existence(&self) -> bool {
        true
    }
}

#[async_trait]
impl SessionAndUserAdapter for MongoAdapter {
    /// Reads the session and its user with one `aggregate` command: a
    /// `$match` on the session id and a `$lookup` of the user by `_id`.
    #[instrument(name = "mongodb.get_session_and_user", skip_all, fields(session_id = %SessionIdPrefix(session_id)))]
    async fn get_session_and_user(&self, session_id: &str) -> Result<Option<(Session, User)>> {
        log_failure(self.read_session_and_user(session_id).await)
    }
}

impl MongoAdapter {
    async fn read_session_and_user(&self, session_id: &str) -> Result<Option<(Session, User)>> {
        let operation = "get_session_and_user";
        let pipeline = [
            doc! { "$match": { ID: session_id } },
            doc! { "$lookup": {
                "from": self.users.name(),
                "localField": USER_ID,
                "foreignField": ID,
                "as": JOINED_USER,
            } },
        ];
        let cursor = self
            .sessions
            .collection
            .aggregate(pipeline)
            .await
            .map_err(|err| self.sessions.errors.backend(operation, err))?;
        // `_id` is unique, so the first batch contains the whole result and the
        // cursor is closed by the server: no getMore or killCursors follows.
        let mut found: Vec<Document> = cursor
            .try_collect()
            .await
            .map_err(|err| self.sessions.errors.backend(operation, err))?;
        let Some(mut joined) = found.pop() else {
            return Ok(None);
        };

        let users = joined.remove(JOINED_USER);
        let session = self.sessions.read(&joined)?;
        let user_document = match users {
            Some(bson::Bson::Array(mut users)) => users.pop(),
            _ => None,
        };
        match user_document {
            Some(bson::Bson::Document(user)) => Ok(Some((session, self.users.read(user)?))),
            _ => Ok(None),
        }
    }
}
