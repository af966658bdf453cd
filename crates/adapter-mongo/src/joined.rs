//! The both-sides adapter: forwarding to the one-side adapters, plus the
//! operations that span users and sessions.

use adapter_api::{
    Error, Result, Session, SessionAdapter, SessionAndUserAdapter, User, UserAdapter, UserPatch,
    async_trait, validate,
};
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use tracing::instrument;

use crate::adapter::MongoAdapter;
use crate::document::{ID, USER_ID};
use crate::redact::{SessionIdPrefix, log_failure};

/// Field that contains the joined user in the `$lookup` of
/// `get_session_and_user`. Any stored field of that name in the session
/// document is replaced in the pipeline output only.
const JOINED_USER: &str = "user";

#[async_trait]
impl UserAdapter for MongoAdapter {
    async fn get_user(&self, user_id: &str) -> Result<Option<User>> {
        self.users.get_user(user_id).await
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        self.users.get_user_by_provider_id(provider_id).await
    }

    async fn set_user(&self, user: User) -> Result<User> {
        self.users.set_user(user).await
    }

    async fn update_user(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        self.users.update_user(user_id, patch).await
    }

    /// Deletes the user, then the user's sessions, in two commands. This
    /// order lets `set_session` detect a concurrent deletion (see there).
    /// If the second command fails, the sessions stay without a user until
    /// `delete_user` is called again, which deletes them.
    #[instrument(name = "mongodb.delete_user", skip(self), err(level = "debug"))]
    async fn delete_user(&self, user_id: &str) -> Result<()> {
        self.users.users.delete(user_id).await?;
        self.sessions
            .sessions
            .delete_by_user_id("delete_user", user_id)
            .await
    }
}

#[async_trait]
impl SessionAdapter for MongoAdapter {
    async fn get_session(&self, session_id: &str) -> Result<Option<Session>> {
        self.sessions.get_session(session_id).await
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        self.sessions.get_sessions_by_user_id(user_id).await
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        self.sessions
            .update_session(session_id, expires, idle_expires)
            .await
    }

    async fn delete_sessions(&self, session_ids: &[String]) -> Result<()> {
        self.sessions.delete_sessions(session_ids).await
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) -> Result<()> {
        self.sessions.delete_sessions_by_user_id(user_id).await
    }

    async fn delete_expired_sessions(&self, now: i64) -> Result<u64> {
        self.sessions.delete_expired_sessions(now).await
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
        let sessions = &self.sessions.sessions;
        sessions.insert(session).await?;
        if self.users.users.exists("set_session", &user_id).await? {
            return Ok(());
        }
        sessions.delete_one("set_session", &session_id).await?;
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
        let users = &self.users.users;
        let sessions = &self.sessions.sessions;
        let pipeline = [
            doc! { "$match": { ID: session_id } },
            doc! { "$lookup": {
                "from": users.name(),
                "localField": USER_ID,
                "foreignField": ID,
                "as": JOINED_USER,
            } },
        ];
        let cursor = sessions
            .collection
            .aggregate(pipeline)
            .await
            .map_err(|err| sessions.errors.backend(operation, err))?;
        // `_id` is unique, so the first batch contains the whole result and
        // the server closes the cursor: no getMore or killCursors follows.
        let mut found: Vec<Document> = cursor
            .try_collect()
            .await
            .map_err(|err| sessions.errors.backend(operation, err))?;
        let Some(mut joined) = found.pop() else {
            return Ok(None);
        };

        let joined_users = joined.remove(JOINED_USER);
        let session = sessions.read(&joined)?;
        let user_document = match joined_users {
            Some(Bson::Array(mut matches)) => matches.pop(),
            _ => None,
        };
        match user_document {
            Some(Bson::Document(user)) => Ok(Some((session, users.read(user)?))),
            _ => Ok(None),
        }
    }
}
