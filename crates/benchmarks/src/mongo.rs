//! MongoDB: every operation of `MongoAdapter` against the same operation
//! written directly with the driver, on the same collections, documents
//! and indexes.
//!
//! The hand-written twins keep the contract's observable behaviour (the
//! same records come back, `set_session` still rejects a missing user), but
//! convert documents the way application code usually does: serde for JSON
//! to BSON, relaxed Extended JSON for BSON to JSON.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use adapter_api::{Session, SessionAdapter, SessionAndUserAdapter, User, UserAdapter, UserPatch};
use adapter_mongo::{MongoAdapter, MongoOptions};
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::options::{ClientOptions, ReturnDocument};
use mongodb::{Client, Collection, Database};
use tokio::runtime::Runtime;

use crate::fixtures::{
    Expiry, PLANTED_SESSION_IDS, SESSIONS_PER_USER, fresh_session_ids, fresh_user_ids, session,
    session_id, user, user_id,
};
use crate::loads::AdapterLoad;
use crate::measure::{
    Bench, MixedLoad, SessionLoad, Side, ThroughputComparison, compare_throughput,
};
use crate::twin::{Subject, Twin, TwinLoad};

const BACKEND: &str = "mongodb";

/// Environment variable with the server's URI.
pub const MONGODB_URI_ENV: &str = "MONGODB_URI";

/// Records per `insert_many` while seeding.
const SEED_CHUNK: u64 = 1_000;

/// The adapter and the raw collections on one database of the server.
pub struct Setup {
    client: Client,
    database: Database,
    /// The adapter under test, with both sides and its indexes.
    pub adapter: MongoAdapter,
    /// The collections the twins use: the adapter's own.
    pub raw: Arc<RawMongo>,
    users: u64,
    sessions: u64,
    expiry: Expiry,
    /// A second client on the same database whose command monitor counts
    /// commands. The timed client has no monitor, because the driver clones
    /// every command into its events.
    counting: (MongoAdapter, Arc<AtomicU64>),
}

/// The collections as the hand-written code sees them.
pub struct RawMongo {
    users: Collection<Document>,
    sessions: Collection<Document>,
}

impl Setup {
    /// Connects to `MONGODB_URI`, creates a database of its own with the
    /// adapter's indexes, and seeds `sessions` sessions, four per user.
    ///
    /// # Errors
    /// A message saying why the backend is skipped: the variable is unset
    /// or the server does not answer.
    pub async fn connect(sessions: u64) -> Result<Setup, String> {
        let uri = std::env::var(MONGODB_URI_ENV).map_err(|_| {
            format!("{MONGODB_URI_ENV} is not set; run under scripts/with-secantusdb")
        })?;
        let mut options = ClientOptions::parse(&uri)
            .await
            .map_err(|err| format!("{MONGODB_URI_ENV} is not a valid MongoDB URI: {err}"))?;
        options.server_selection_timeout = Some(Duration::from_secs(5));
        let client = Client::with_options(options.clone())
            .map_err(|err| format!("cannot build a client: {err}"))?;
        let database = client.database(&format!("adapter_bench_{}", std::process::id()));
        database
            .run_command(doc! { "ping": 1 })
            .await
            .map_err(|err| format!("the server at {uri} does not answer: {err}"))?;
        database
            .drop()
            .await
            .map_err(|err| format!("cannot drop the benchmark database: {err}"))?;

        let adapter = MongoAdapter::new(&database, MongoOptions::new());
        adapter
            .ensure_indexes()
            .await
            .map_err(|err| format!("cannot create the indexes: {err}"))?;
        let raw = Arc::new(RawMongo {
            users: database.collection("users"),
            sessions: database.collection("sessions"),
        });

        let commands = Arc::new(AtomicU64::new(0));
        let counter = commands.clone();
        options.command_event_handler =
            Some(mongodb::event::EventHandler::callback(move |event| {
                if let mongodb::event::command::CommandEvent::Started(_) = event {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            }));
        let counting_client =
            Client::with_options(options).map_err(|err| format!("cannot build a client: {err}"))?;
        let counting_adapter = MongoAdapter::new(
            &counting_client.database(database.name()),
            MongoOptions::new(),
        );

        let users = sessions.div_ceil(SESSIONS_PER_USER);
        let expiry = Expiry::ahead();
        seed(&raw, users, sessions, expiry).await?;
        Ok(Setup {
            client,
            database,
            adapter,
            raw,
            users,
            sessions,
            expiry,
            counting: (counting_adapter, commands),
        })
    }

    /// Drops the benchmark database.
    pub async fn drop(self) {
        if let Err(err) = self.database.drop().await {
            eprintln!("mongodb: cannot drop {}: {err}", self.database.name());
        }
        self.client.shutdown().await;
    }

    /// Returns the adapter with the hand-written collections as its twin.
    fn subject(&self) -> Subject<'_, MongoAdapter, RawMongo> {
        Subject {
            backend: BACKEND,
            adapter: &self.adapter,
            twin: &self.raw,
            users: self.users,
            sessions: self.sessions,
            expiry: self.expiry,
        }
    }

    /// Commands the adapter sends for one `get_session_and_user`, one
    /// `set_session` and one `delete_user`.
    pub async fn count_commands(&self) -> Vec<(&'static str, u64)> {
        let (adapter, commands) = &self.counting;
        let mut counts = Vec::new();

        let before = commands.load(Ordering::Relaxed);
        let found = adapter
            .get_session_and_user(&self.subject().seeded_session(7))
            .await
            .expect("get_session_and_user");
        assert!(found.is_some(), "a seeded session has a user");
        counts.push((
            "get_session_and_user",
            commands.load(Ordering::Relaxed) - before,
        ));

        let fresh = Session::new(
            "round-trip-count",
            self.subject().seeded_user(7),
            self.expiry.expires,
            self.expiry.idle_expires,
        );
        let before = commands.load(Ordering::Relaxed);
        adapter.set_session(fresh).await.expect("set_session");
        counts.push(("set_session", commands.load(Ordering::Relaxed) - before));

        adapter.set_user(user(u64::MAX)).await.expect("set_user");
        let before = commands.load(Ordering::Relaxed);
        adapter
            .delete_user(&user_id(u64::MAX))
            .await
            .expect("delete_user");
        counts.push(("delete_user", commands.load(Ordering::Relaxed) - before));

        adapter
            .delete_sessions(&["round-trip-count".to_owned()])
            .await
            .expect("delete_sessions");
        counts
    }
}

async fn seed(raw: &RawMongo, users: u64, sessions: u64, expiry: Expiry) -> Result<(), String> {
    let fail = |err: mongodb::error::Error| format!("seeding failed: {err}");
    for start in (0..users).step_by(SEED_CHUNK as usize) {
        let documents: Vec<Document> = (start..(start + SEED_CHUNK).min(users))
            .map(|i| user_document(&user(i)))
            .collect();
        raw.users.insert_many(documents).await.map_err(fail)?;
    }
    for start in (0..sessions).step_by(SEED_CHUNK as usize) {
        let documents: Vec<Document> = (start..(start + SEED_CHUNK).min(sessions))
            .map(|i| session_document(&session(i, expiry)))
            .collect();
        raw.sessions.insert_many(documents).await.map_err(fail)?;
    }
    Ok(())
}

/// A user as hand-written code stores it: the adapter's layout, with the
/// attributes converted by serde.
fn user_document(user: &User) -> Document {
    let mut document = doc! {
        "_id": &user.id,
        "provider_id": &user.provider_id,
        "hashed_password": user.hashed_password.as_deref(),
    };
    for (key, value) in &user.attributes {
        document.insert(
            key.clone(),
            bson::to_bson(value).expect("JSON converts to BSON"),
        );
    }
    document
}

fn session_document(session: &Session) -> Document {
    doc! {
        "_id": &session.id,
        "user_id": &session.user_id,
        "expires": session.expires,
        "idle_expires": session.idle_expires,
    }
}

fn user_from_document(mut document: Document) -> User {
    let id = document.get_str("_id").expect("string _id").to_owned();
    let provider_id = document
        .get_str("provider_id")
        .expect("string provider_id")
        .to_owned();
    let hashed_password = match document.remove("hashed_password") {
        Some(Bson::String(hash)) => Some(hash),
        _ => None,
    };
    document.remove("_id");
    document.remove("provider_id");
    let attributes = document
        .into_iter()
        .map(|(key, value)| (key, value.into_relaxed_extjson()))
        .collect();
    User {
        id,
        provider_id,
        hashed_password,
        attributes,
    }
}

fn session_from_document(document: &Document) -> Session {
    Session {
        id: document.get_str("_id").expect("string _id").to_owned(),
        user_id: document
            .get_str("user_id")
            .expect("string user_id")
            .to_owned(),
        expires: document.get_i64("expires").expect("int64 expires"),
        idle_expires: document
            .get_i64("idle_expires")
            .expect("int64 idle_expires"),
    }
}

impl Twin for RawMongo {
    async fn plant(&self, _side: Side, users: &[User], sessions: &[Session]) {
        // insert_many rejects an empty list.
        if !users.is_empty() {
            let documents: Vec<Document> = users.iter().map(user_document).collect();
            self.users
                .insert_many(documents)
                .await
                .expect("insert_many");
        }
        if !sessions.is_empty() {
            let documents: Vec<Document> = sessions.iter().map(session_document).collect();
            self.sessions
                .insert_many(documents)
                .await
                .expect("insert_many");
        }
    }

    async fn clean(&self) {
        let (low, high) = fresh_user_ids();
        self.users
            .delete_many(doc! { "_id": { "$gte": low, "$lt": high } })
            .await
            .expect("removing users");
        let (low, high) = fresh_session_ids();
        let (planted_low, planted_high) = PLANTED_SESSION_IDS;
        self.sessions
            .delete_many(doc! { "$or": [
                { "_id": { "$gte": low, "$lt": high } },
                { "_id": { "$gte": planted_low, "$lt": planted_high } },
            ] })
            .await
            .expect("removing sessions");
    }

    async fn get_user(&self, user_id: &str) -> Option<User> {
        let found = self
            .users
            .find_one(doc! { "_id": user_id })
            .await
            .expect("find_one");
        found.map(user_from_document)
    }

    async fn get_user_by_provider_id(&self, provider_id: &str) -> Option<User> {
        let found = self
            .users
            .find_one(doc! { "provider_id": provider_id })
            .await
            .expect("find_one");
        found.map(user_from_document)
    }

    async fn set_user(&self, user: User) {
        self.users
            .insert_one(user_document(&user))
            .await
            .expect("insert_one");
    }

    async fn update_user(&self, user_id: &str, patch: &UserPatch) -> Option<User> {
        let mut set = Document::new();
        if let Some(provider_id) = &patch.provider_id {
            set.insert("provider_id", provider_id);
        }
        if let Some(hash) = &patch.hashed_password {
            set.insert("hashed_password", hash.as_deref());
        }
        for (key, value) in &patch.attributes {
            set.insert(key, bson::to_bson(value).expect("JSON converts to BSON"));
        }
        let updated = self
            .users
            .find_one_and_update(doc! { "_id": user_id }, doc! { "$set": set })
            .return_document(ReturnDocument::After)
            .await
            .expect("find_one_and_update");
        updated.map(user_from_document)
    }

    async fn delete_user(&self, user_id: &str) {
        self.sessions
            .delete_many(doc! { "user_id": user_id })
            .await
            .expect("delete_many");
        self.users
            .delete_one(doc! { "_id": user_id })
            .await
            .expect("delete_one");
    }

    async fn get_session(&self, session_id: &str) -> Option<Session> {
        let found = self
            .sessions
            .find_one(doc! { "_id": session_id })
            .await
            .expect("find_one");
        found.as_ref().map(session_from_document)
    }

    async fn get_sessions_by_user_id(&self, user_id: &str) -> Vec<Session> {
        let cursor = self
            .sessions
            .find(doc! { "user_id": user_id })
            .await
            .expect("find");
        let documents: Vec<Document> = cursor.try_collect().await.expect("cursor");
        documents.iter().map(session_from_document).collect()
    }

    /// Checks the user, then inserts: the contract rejects a session of a
    /// missing user.
    async fn set_session(&self, session: Session) {
        let user = self
            .users
            .find_one(doc! { "_id": &session.user_id })
            .projection(doc! { "_id": 1 })
            .await
            .expect("find_one");
        if user.is_some() {
            self.insert_session(session).await;
        }
    }

    async fn update_session(
        &self,
        session_id: &str,
        expires: i64,
        idle_expires: i64,
    ) -> Option<Session> {
        let updated = self
            .sessions
            .find_one_and_update(
                doc! { "_id": session_id },
                doc! { "$set": { "expires": expires, "idle_expires": idle_expires } },
            )
            .return_document(ReturnDocument::After)
            .await
            .expect("find_one_and_update");
        updated.as_ref().map(session_from_document)
    }

    async fn delete_sessions(&self, session_ids: &[String]) {
        self.sessions
            .delete_many(doc! { "_id": { "$in": session_ids } })
            .await
            .expect("delete_many");
    }

    async fn delete_sessions_by_user_id(&self, user_id: &str) {
        self.sessions
            .delete_many(doc! { "user_id": user_id })
            .await
            .expect("delete_many");
    }

    async fn delete_expired_sessions(&self, now: i64) -> u64 {
        self.sessions
            .delete_many(doc! { "idle_expires": { "$lte": now } })
            .await
            .expect("delete_many")
            .deleted_count
    }

    async fn get_session_and_user(&self, session_id: &str) -> Option<(Session, User)> {
        let pipeline = [
            doc! { "$match": { "_id": session_id } },
            doc! { "$lookup": { "from": "users", "localField": "user_id", "foreignField": "_id", "as": "user" } },
        ];
        let cursor = self.sessions.aggregate(pipeline).await.expect("aggregate");
        let mut found: Vec<Document> = cursor.try_collect().await.expect("cursor");
        let mut joined = found.pop()?;
        let user = match joined.remove("user") {
            Some(Bson::Array(mut users)) => users.pop(),
            _ => None,
        };
        match user {
            Some(Bson::Document(user)) => {
                Some((session_from_document(&joined), user_from_document(user)))
            }
            _ => None,
        }
    }
}

impl RawMongo {
    /// Inserts a session without checking its user.
    async fn insert_session(&self, session: Session) {
        self.sessions
            .insert_one(session_document(&session))
            .await
            .expect("insert_one");
    }
}

/// Measures every operation of the contract through the adapter and
/// through the driver, then `set_session` against an insert without the
/// user check.
pub async fn compare_operations(bench: &mut Bench, setup: &Setup) {
    let subject = setup.subject();
    crate::twin::compare_operations(bench, &subject).await;

    // Not a twin: the hand-written insert skips the user check that the
    // contract requires, so this row shows what that check costs.
    let new_session = |i: u64| {
        Session::new(
            session_id(i),
            subject.seeded_user(i),
            setup.expiry.expires,
            setup.expiry.idle_expires,
        )
    };
    bench
        .compare(
            BACKEND,
            "set_session vs bare insert",
            async |_, _| {},
            async |i| {
                setup
                    .adapter
                    .set_session(new_session(i))
                    .await
                    .expect("set_session");
            },
            async |i| {
                setup.raw.insert_session(new_session(i)).await;
            },
        )
        .await;
    setup.raw.clean().await;
}

/// Runs the mixed load with `tasks` concurrent tasks, `read_percent` of
/// calls reads and the rest renewals, through the adapter and through the
/// driver.
pub fn compare_mixed_load(
    runtime: &Runtime,
    setup: &Setup,
    read_percent: u64,
    tasks: usize,
    duration: Duration,
    rounds: usize,
) -> ThroughputComparison {
    let load = MixedLoad {
        tasks,
        read_percent,
        duration,
        session_ids: Arc::new((0..setup.sessions).map(session_id).collect()),
        renew_expires: setup.expiry.expires,
    };
    let adapter: Arc<dyn SessionLoad> = Arc::new(AdapterLoad(Arc::new(setup.adapter.clone())));
    let raw: Arc<dyn SessionLoad> = Arc::new(TwinLoad(setup.raw.clone()));
    compare_throughput(runtime, BACKEND, &load, adapter, raw, rounds)
}
