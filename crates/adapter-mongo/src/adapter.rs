//! The adapter types, their index setup, and the trait implementations of
//! the one-side adapters.

use adapter_api::{Result, Session, SessionAdapter, User, UserAdapter, UserPatch, async_trait};
use mongodb::Database;
use tracing::instrument;

use crate::error::ErrorMapper;
use crate::indexes;
use crate::options::MongoOptions;
use crate::redact::{SessionIdPrefix, log_failure};
use crate::sessions::SessionStore;
use crate::users::UserStore;

/// Users and sessions in one database: both sides, with the user checks that
/// span them and a one-command session-and-user lookup.
#[derive(Clone, Debug)]
pub struct MongoAdapter {
    pub(crate) users: MongoUserAdapter,
    pub(crate) sessions: MongoSessionAdapter,
}

/// Users only. It never reads or writes a session collection.
#[derive(Clone, Debug)]
pub struct MongoUserAdapter {
    pub(crate) users: UserStore,
}

/// Sessions only. It never reads or writes a user collection, so it does
/// not check that a session's user exists: [`adapter_api::Storage`] does
/// that through its user adapter.
#[derive(Clone, Debug)]
pub struct MongoSessionAdapter {
    pub(crate) sessions: SessionStore,
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
            users: MongoUserAdapter::new(database, options.clone()),
            sessions: MongoSessionAdapter::new(database, options),
        }
    }

    /// Creates the indexes of both collections that are missing. See
    /// [`MongoUserAdapter::ensure_indexes`] and
    /// [`MongoSessionAdapter::ensure_indexes`].
    ///
    /// # Errors
    /// [`Error::Backend`](adapter_api::Error::Backend) when listing or creating an index fails.
    pub async fn ensure_indexes(&self) -> Result<()> {
        self.users.ensure_indexes().await?;
        self.sessions.ensure_indexes().await
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
    /// [`Error::Backend`](adapter_api::Error::Backend) when listing or creating an index fails, such as
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
    /// [`Error::Backend`](adapter_api::Error::Backend) when listing or creating an index fails.
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
