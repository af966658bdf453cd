//! Spans and `Debug` output never show a provider id, a password hash or a
//! whole session id.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use adapter_api::{
    NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::bson::{Document, doc};
use tracing_subscriber::fmt::MakeWriter;

const PROVIDER_ID: &str = "email:ada.lovelace@example.com";
const NEW_PROVIDER_ID: &str = "email:countess@example.com";
const PASSWORD_HASH: &str = "$argon2id$v=19$m=65536,t=3,p=4$c2VjcmV0";
const SESSION_ID: &str = "tok3n0123456789abcdefghijklmnopqrstuvwx";
const CORRUPT_SESSION_ID: &str = "c0rrupt0123456789abcdefghijklmnopqrstuv";

/// Everything the subscriber writes, kept in memory.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> MakeWriter<'a> for Captured {
    type Writer = Captured;

    fn make_writer(&'a self) -> Self::Writer {
        self.clone()
    }
}

fn assert_no_secret(output: &str) {
    for secret in [
        PROVIDER_ID,
        NEW_PROVIDER_ID,
        PASSWORD_HASH,
        SESSION_ID,
        CORRUPT_SESSION_ID,
    ] {
        assert!(!output.contains(secret), "{secret} appears in: {output}");
    }
    assert!(!output.contains("ada.lovelace@example.com"), "{output}");
}

#[tokio::test]
async fn spans_hide_secrets() {
    let captured = Captured::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(captured.clone())
        .with_max_level(tracing::Level::TRACE)
        .with_span_events(tracing_subscriber::fmt::format::FmtSpan::FULL)
        .with_ansi(false)
        .finish();
    let _guard = tracing::subscriber::set_default(subscriber);

    let Some(test) = TestDatabase::connect("spans_hide_secrets", None).await else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();

    let user = NewUser::new(PROVIDER_ID)
        .hashed_password(PASSWORD_HASH)
        .into_user("u1".into());
    adapter.set_user(user.clone()).await.unwrap();
    // A duplicate provider id is an error whose span event shows the error.
    let duplicate = NewUser::new(PROVIDER_ID).into_user("u2".into());
    adapter.set_user(duplicate).await.unwrap_err();
    adapter.get_user_by_provider_id(PROVIDER_ID).await.unwrap();
    let patch = UserPatch::new()
        .provider_id(NEW_PROVIDER_ID)
        .hashed_password(PASSWORD_HASH);
    adapter.update_user("u1", patch).await.unwrap();
    adapter
        .set_session(Session::new(SESSION_ID, "u1", 10, 20))
        .await
        .unwrap();
    adapter
        .set_session(Session::new(SESSION_ID, "u1", 10, 20))
        .await
        .unwrap_err();
    adapter.get_session(SESSION_ID).await.unwrap();
    adapter.get_session_and_user(SESSION_ID).await.unwrap();
    adapter.update_session(SESSION_ID, 30, 40).await.unwrap();
    adapter
        .delete_sessions(&[SESSION_ID.to_owned()])
        .await
        .unwrap();

    // A corrupt session's error names its id, which is the bearer token, so
    // the logged error must leave the id out.
    let corrupt = doc! { "_id": CORRUPT_SESSION_ID, "user_id": "u1", "expires": "soon", "idle_expires": 1_i64 };
    test.database
        .collection::<Document>("sessions")
        .insert_one(corrupt)
        .await
        .unwrap();
    adapter.get_session(CORRUPT_SESSION_ID).await.unwrap_err();
    adapter.get_sessions_by_user_id("u1").await.unwrap_err();
    adapter
        .get_session_and_user(CORRUPT_SESSION_ID)
        .await
        .unwrap_err();

    let output = String::from_utf8(captured.0.lock().unwrap().clone()).unwrap();
    assert!(
        output.contains("mongodb.set_user"),
        "no span recorded: {output}"
    );
    assert!(
        output.contains("tok3…"),
        "the session id prefix is missing: {output}"
    );
    assert!(
        output.contains("corrupt record in sessions"),
        "the corrupt record error was not logged: {output}"
    );
    assert_no_secret(&output);

    let debug = format!("{adapter:?} {:?}", MongoOptions::new());
    assert_no_secret(&debug);
    test.drop().await;
}
