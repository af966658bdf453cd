//! The MongoDB backend for the suite. Every target gets its own client and a
//! database with a unique name, dropped when the case ends.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use adapter_api::BoxError;
use adapter_conformance::{Backend, PlantError, RawStore, Role, SetupError, Target};
use adapter_mongo::json::{bson_to_json, json_to_bson};
use adapter_mongo::{MongoAdapter, MongoOptions, MongoSessionAdapter, MongoUserAdapter};
use async_trait::async_trait;
use bson::{Bson, Document, doc};
use mongodb::options::ClientOptions;
use mongodb::{Client, Collection, Database};
use serde_json::{Map, Value};

use crate::MONGODB_URI_ENV;

/// How long a setup waits for a server before it reports the backend as
/// unavailable, unless the connection string sets its own
/// `serverSelectionTimeoutMS`.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(5);

/// Distinguishes the databases of the cases that one process runs.
static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// Runs each case on a fresh database of the MongoDB server at a connection
/// string.
#[derive(Debug, Clone)]
pub struct MongoBackend {
    uri: Option<String>,
}

impl MongoBackend {
    /// Uses the server at `uri`, a `mongodb://` or `mongodb+srv://`
    /// connection string. The database named in it, if any, is not used:
    /// every case gets its own.
    pub fn from_uri(uri: &str) -> Self {
        MongoBackend {
            uri: Some(uri.to_owned()),
        }
    }

    /// Uses the server that `MONGODB_URI` names. When it is not set, every
    /// setup returns [`SetupError::Unavailable`].
    pub fn from_env() -> Self {
        let uri = std::env::var(MONGODB_URI_ENV)
            .ok()
            .filter(|uri| !uri.trim().is_empty());
        MongoBackend { uri }
    }

    async fn connect(&self) -> Result<Client, SetupError> {
        let Some(uri) = &self.uri else {
            return Err(SetupError::Unavailable(format!(
                "{MONGODB_URI_ENV} is not set; set it to a mongodb:// connection string \
                 or run the tests through scripts/with-secantusdb"
            )));
        };
        let mut options = ClientOptions::parse(uri).await.map_err(|err| {
            SetupError::Unavailable(format!(
                "the connection string in {MONGODB_URI_ENV} is invalid: {err}"
            ))
        })?;
        options
            .server_selection_timeout
            .get_or_insert(SERVER_SELECTION_TIMEOUT);
        let client = Client::with_options(options).map_err(|err| SetupError::Failed(err.into()))?;
        if let Err(err) = client
            .database("admin")
            .run_command(doc! { "ping": 1 })
            .await
        {
            return Err(SetupError::Unavailable(format!(
                "the MongoDB server named by {MONGODB_URI_ENV} did not respond to a ping: {err}"
            )));
        }
        Ok(client)
    }
}

/// Returns a database name no other case of any process uses: the process
/// id, a counter and the time, in at most 38 characters (the limit of a
/// database name on sharded clusters before MongoDB 5.0).
fn unique_database_name() -> String {
    let counter = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    format!("conf_{}_{counter}_{nanos:x}", std::process::id())
}

#[async_trait]
impl Backend for MongoBackend {
    fn name(&self) -> String {
        "mongodb".to_owned()
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        let client = self.connect().await?;
        let database = client.database(&unique_database_name());
        let options = MongoOptions::new();
        let (target, indexed) = match role {
            Role::Both => {
                let adapter = MongoAdapter::new(&database, options.clone());
                let indexed = adapter.ensure_indexes().await;
                (Target::both(Arc::new(adapter)), indexed)
            }
            Role::Users => {
                let adapter = MongoUserAdapter::new(&database, options.clone());
                let indexed = adapter.ensure_indexes().await;
                (Target::users(Arc::new(adapter)), indexed)
            }
            Role::Sessions => {
                let adapter = MongoSessionAdapter::new(&database, options.clone());
                let indexed = adapter.ensure_indexes().await;
                (Target::sessions(Arc::new(adapter)), indexed)
            }
        };
        if let Err(err) = indexed {
            // No target is returned, so no cleanup will run for it: the
            // database is dropped here.
            let _ = database.drop().await;
            client.shutdown().await;
            return Err(SetupError::Failed(err.into()));
        }
        let raw = Arc::new(MongoRaw::new(&database, &options));
        let cleanup_database = database.clone();
        Ok(target.with_raw(raw).with_cleanup(move || {
            Box::pin(async move {
                if let Err(err) = cleanup_database.drop().await {
                    eprintln!(
                        "failed to drop the case database {}: {err}",
                        cleanup_database.name()
                    );
                }
                client.shutdown().await;
            })
        }))
    }
}

/// Raw access to the collections of one case, mapping the suite's logical
/// records to the documents the adapter stores and back.
struct MongoRaw {
    users: Collection<Document>,
    sessions: Collection<Document>,
}

impl MongoRaw {
    fn new(database: &Database, options: &MongoOptions) -> Self {
        MongoRaw {
            users: database.collection(options.users_collection_name()),
            sessions: database.collection(options.sessions_collection_name()),
        }
    }
}

/// Moves `field` of `document` to `key` of `record`, converted to JSON.
fn move_field(document: &mut Document, field: &str, record: &mut Map<String, Value>, key: &str) {
    if let Some(value) = document.remove(field) {
        record.insert(key.to_owned(), bson_to_json(&value));
    }
}

/// Reads a user document in the suite's shape. Attributes are the fields
/// other than the user's own and the Mongoose version `__v`.
fn user_record(mut document: Document) -> Value {
    let mut record = Map::new();
    move_field(&mut document, "_id", &mut record, "id");
    move_field(&mut document, "provider_id", &mut record, "provider_id");
    let hash = document.remove("hashed_password").unwrap_or(Bson::Null);
    record.insert("hashed_password".to_owned(), bson_to_json(&hash));
    document.remove("__v");
    let attributes = document
        .iter()
        .map(|(key, value)| (key.clone(), bson_to_json(value)))
        .collect();
    record.insert("attributes".to_owned(), Value::Object(attributes));
    Value::Object(record)
}

/// Reads a session document in the suite's shape: its four fields, those
/// present.
fn session_record(mut document: Document) -> Value {
    let mut record = Map::new();
    move_field(&mut document, "_id", &mut record, "id");
    for field in ["user_id", "expires", "idle_expires"] {
        move_field(&mut document, field, &mut record, field);
    }
    Value::Object(record)
}

/// Builds the document for a planted record: `id` becomes `_id` and every
/// other top-level key is stored as it is, except that with
/// `flatten_attributes` a user's `attributes` object is flattened into the
/// document, as the adapter stores it.
fn planted_document(record: Value, flatten_attributes: bool) -> Result<Document, PlantError> {
    let Value::Object(fields) = record else {
        return Err(PlantError::Unsupported(
            "a MongoDB document must be a JSON object".to_owned(),
        ));
    };
    let mut document = Document::new();
    for (key, value) in fields {
        match (key.as_str(), value) {
            ("id", value) => {
                document.insert("_id", json_to_bson(&value));
            }
            ("attributes", Value::Object(attributes)) if flatten_attributes => {
                for (name, item) in attributes {
                    document.insert(name, json_to_bson(&item));
                }
            }
            ("attributes", other) if flatten_attributes => {
                return Err(PlantError::Unsupported(format!(
                    "MongoDB flattens attributes into the user document, so they must be an \
                     object, not {other}"
                )));
            }
            (_, value) => {
                document.insert(key, json_to_bson(&value));
            }
        }
    }
    Ok(document)
}

#[async_trait]
impl RawStore for MongoRaw {
    async fn read_user(&self, id: &str) -> Result<Option<Value>, BoxError> {
        let found = self.users.find_one(doc! { "_id": id }).await?;
        Ok(found.map(user_record))
    }

    async fn read_session(&self, id: &str) -> Result<Option<Value>, BoxError> {
        let found = self.sessions.find_one(doc! { "_id": id }).await?;
        Ok(found.map(session_record))
    }

    async fn count_users(&self) -> Result<u64, BoxError> {
        Ok(self.users.count_documents(doc! {}).await?)
    }

    async fn count_sessions(&self) -> Result<u64, BoxError> {
        Ok(self.sessions.count_documents(doc! {}).await?)
    }

    async fn plant_user(&self, record: Value) -> Result<(), PlantError> {
        let document = planted_document(record, true)?;
        self.users.insert_one(document).await?;
        Ok(())
    }

    async fn plant_session(&self, record: Value) -> Result<(), PlantError> {
        let document = planted_document(record, false)?;
        self.sessions.insert_one(document).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn planted_user_is_flattened() {
        let record = json!({"id": 7, "provider_id": "p", "attributes": {"age": 30, "f": 1.5}});
        let document = planted_document(record, true).unwrap();
        assert_eq!(
            document,
            doc! {"_id": 7_i64, "provider_id": "p", "age": 30_i64, "f": 1.5}
        );
    }

    #[test]
    fn user_record_reads_mongoose_document() {
        let document = doc! {"_id": "u1", "provider_id": "p", "__v": 0, "age": 30};
        let record = user_record(document);
        assert_eq!(
            record,
            json!({"id": "u1", "provider_id": "p", "hashed_password": null, "attributes": {"age": 30}})
        );
    }

    #[test]
    fn session_record_keeps_missing_fields_missing() {
        let record = session_record(doc! {"_id": "s1", "expires": 1.5});
        assert_eq!(record, json!({"id": "s1", "expires": 1.5}));
    }
}
