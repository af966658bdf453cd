//! Operations on the user collection.

use adapter_api::{Error, Result, User, UserPatch, validate};
use bson::{Bson, Document, doc};
use mongodb::options::ReturnDocument;
use mongodb::{Collection, Database};

use crate::document::{HASHED_PASSWORD, ID, PROVIDER_ID, user_from_document, user_to_document};
use crate::error::{Duplicates, ErrorMapper};
use crate::insert::insert_one;
use crate::json::json_to_bson;

/// The user collection with the error mapping of its adapter.
#[derive(Clone, Debug)]
pub(crate) struct UserStore {
    database: Database,
    pub(crate) collection: Collection<Document>,
    pub(crate) errors: ErrorMapper,
}

impl UserStore {
    pub(crate) fn new(database: &Database, name: &str, errors: ErrorMapper) -> Self {
        UserStore {
            database: database.clone(),
            collection: database.collection(name),
            errors,
        }
    }

    pub(crate) fn name(&self) -> &str {
        self.collection.name()
    }

    pub(crate) fn read(&self, document: Document) -> Result<User> {
        user_from_document(self.name(), document)
    }

    async fn find_one(&self, operation: &'static str, filter: Document) -> Result<Option<User>> {
        let found = self
            .collection
            .find_one(filter)
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        found.map(|document| self.read(document)).transpose()
    }

    pub(crate) async fn get(&self, user_id: &str) -> Result<Option<User>> {
        self.find_one("get_user", doc! { ID: user_id }).await
    }

    /// Returns whether a user with this id exists, reading only its id.
    pub(crate) async fn exists(&self, operation: &'static str, user_id: &str) -> Result<bool> {
        let found = self
            .collection
            .find_one(doc! { ID: user_id })
            .projection(doc! { ID: 1 })
            .await
            .map_err(|err| self.errors.backend(operation, err))?;
        Ok(found.is_some())
    }

    pub(crate) async fn get_by_provider_id(&self, provider_id: &str) -> Result<Option<User>> {
        self.find_one("get_user_by_provider_id", doc! { PROVIDER_ID: provider_id })
            .await
    }

    /// Creates a user with one `insert`. A duplicate key costs one more
    /// command, which finds the key that collided (see
    /// [`insert_one`](crate::insert::insert_one)).
    pub(crate) async fn insert(&self, user: User) -> Result<User> {
        validate::user(&user)?;
        let document = user_to_document(&user);
        match insert_one(&self.database, &self.collection, document).await {
            Ok(()) => Ok(user),
            Err(failure) => Err(self.errors.insert(
                "set_user",
                failure,
                Duplicates {
                    id: Some(Error::DuplicateUserId { user_id: user.id }),
                    provider_id: Some(Error::DuplicateProviderId {
                        provider_id: user.provider_id,
                    }),
                },
            )),
        }
    }

    /// Applies a patch in one `findOneAndUpdate` that returns the document
    /// after the change, so no other write can land between a read and the
    /// write.
    pub(crate) async fn update(&self, user_id: &str, patch: UserPatch) -> Result<User> {
        validate::user_patch(&patch)?;
        if patch.is_empty() {
            return match self.find_one("update_user", doc! { ID: user_id }).await? {
                Some(user) => Ok(user),
                None => Err(Error::InvalidUserId {
                    user_id: user_id.to_owned(),
                }),
            };
        }

        let updated = self
            .collection
            .find_one_and_update(doc! { ID: user_id }, doc! { "$set": patch_to_set(&patch) })
            .return_document(ReturnDocument::After)
            .await;
        let duplicates = Duplicates {
            provider_id: patch
                .provider_id
                .clone()
                .map(|provider_id| Error::DuplicateProviderId { provider_id }),
            ..Duplicates::default()
        };
        match updated {
            Ok(Some(document)) => self.read(document),
            Ok(None) => Err(Error::InvalidUserId {
                user_id: user_id.to_owned(),
            }),
            Err(err) => Err(self.errors.write("update_user", err, duplicates)),
        }
    }

    pub(crate) async fn delete(&self, user_id: &str) -> Result<()> {
        self.collection
            .delete_one(doc! { ID: user_id })
            .await
            .map_err(|err| self.errors.backend("delete_user", err))?;
        Ok(())
    }
}

/// Builds the `$set` document of a patch. Attribute keys passed
/// [`validate::user_patch`], so none contains `.` or starts with `$` and
/// each names a top-level field, never a path or an operator.
fn patch_to_set(patch: &UserPatch) -> Document {
    let mut set = Document::new();
    if let Some(provider_id) = &patch.provider_id {
        set.insert(PROVIDER_ID, provider_id.as_str());
    }
    if let Some(hash) = &patch.hashed_password {
        let value = hash
            .as_deref()
            .map_or(Bson::Null, |hash| Bson::String(hash.to_owned()));
        set.insert(HASHED_PASSWORD, value);
    }
    for (key, value) in &patch.attributes {
        set.insert(key.clone(), json_to_bson(value));
    }
    set
}
