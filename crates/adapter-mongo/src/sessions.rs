//! Operations on the session collection.

use adapter_api::{Error, Result, Session, validate};
use bson::{DateTime, Document, doc};
use futures::TryStreamExt;
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database};

use crate::document::{
    EXPIRES, ID, IDLE_EXPIRES, IDLE_EXPIRES_AT, USER_ID, session_from_document, session_to_document,
};
use crate::error::{Duplicates, ErrorMapper};
use crate::insert::insert_one;

/// The session collection with the error mapping of its adapter.
#[derive(Clone, Debug)]
pub(crate) struct SessionStore {
    database: Database,
    pub(crate) collection: Collection<Document>,
    pub(crate) errors: ErrorMapper,
    /// Whether writes keep the TTL date field `idle_expires_at`.
    pub(crate) ttl_index: bool,
}

impl SessionStore {
    pub(crate) fn new(
        database: &Database,
        name: &str,
        errors: ErrorMapper,
        ttl_index: bool,
    ) -> Self {
        SessionStore {
            database: database.clone(),
            collection: database.collection(name),
            errors,
            ttl_index,
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.collection.name()
    }

    pub(crate) fn read(&self, document: &Document) -> Result<Session> {
        session_from_document(self.name(), document)
    }

    pub(crate) async fn get(&self, session_id: &str) -> Result<Option<Session>> {
        let found = self
            .collection
            .find_one(doc! { ID: session_id })
            .await
            .map_err(|err| self.errors.backend("get_session", err))?;
        found.map(|document| self.read(&document)).transpose()
    }

    pub(crate) async fn get_by_user_id(&self, user_id: &str) -> Result<Vec<Session>> {
        let operation = "get_sessions_by_user_id";
        let cursor = self
            .collection
            .find(doc! { USER_ID: user_id })
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        let documents: Vec<Document> = cursor
            .try_collect()
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        documents
            .iter()
            .map(|document| self.read(document))
            .collect()
    }

    /// Creates a session without checking its user, with one `insert`
    /// (two on a duplicate key, see [`insert_one`](crate::insert::insert_one)).
    pub(crate) async fn insert(&self, session: Session) -> Result<()> {
        validate::session(&session)?;
        let document = session_to_document(&session, self.ttl_index);
        match insert_one(&self.database, &self.collection, document).await {
            Ok(()) => Ok(()),
            Err(failure) => Err(self.errors.insert(
                "set_session",
                failure,
                Duplicates {
                    id: Some(Error::DuplicateSessionId {
                        session_id: session.id,
                    }),
                    ..Duplicates::default()
                },
            )),
        }
    }

    /// Deletes one session by id.
    pub(crate) async fn delete_one(&self, operation: &'static str, session_id: &str) -> Result<()> {
        self.collection
            .delete_one(doc! { ID: session_id })
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        Ok(())
    }

    /// Renews a session in one `findOneAndUpdate` that returns the document
    /// after the change.
    pub(crate) async fn update(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Result<Session> {
        validate::expiry(expires, idle_expires)?;
        let update = if self.ttl_index {
            doc! { "$set": { EXPIRES: expires, IDLE_EXPIRES: idle_expires, IDLE_EXPIRES_AT: DateTime::from_millis(idle_expires) } }
        } else {
            doc! { "$set": { EXPIRES: expires, IDLE_EXPIRES: idle_expires }, "$unset": { IDLE_EXPIRES_AT: "" } }
        };
        let updated = self
            .collection
            .find_one_and_update(doc! { ID: session_id }, update)
            .return_document(ReturnDocument::After)
            .await
            .map_err(|err| self.errors.backend("update_session", err))?;
        match updated {
            Some(document) => self.read(&document),
            None => Err(Error::InvalidSessionId {
                session_id: session_id.to_owned(),
            }),
        }
    }

    /// Deletes the listed sessions in one `delete` command; an empty list
    /// sends nothing.
    pub(crate) async fn delete_many(&self, session_ids: &[String]) -> Result<()> {
        if session_ids.is_empty() {
            return Ok(());
        }
        self.collection
            .delete_many(doc! { ID: { "$in": session_ids } })
            .await
            .map_err(|err| self.errors.backend("delete_sessions", err))?;
        Ok(())
    }

    pub(crate) async fn delete_by_user_id(
        &self,
        operation: &'static str,
        user_id: &str,
    ) -> Result<()> {
        self.collection
            .delete_many(doc! { USER_ID: user_id })
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        Ok(())
    }

    pub(crate) async fn delete_expired(&self, now: i64) -> Result<u64> {
        let deleted = self
            .collection
            .delete_many(doc! { IDLE_EXPIRES: { "$lte": now } })
            .await
            .map_err(|err| self.errors.backend("delete_expired_sessions", err))?;
        Ok(deleted.deleted_count)
    }
}
