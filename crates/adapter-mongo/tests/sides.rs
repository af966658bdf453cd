//! Which collections each adapter type touches, and the user checks of the
//! both-sides adapter.

mod common;

use std::sync::{Arc, Mutex};

use adapter_api::{Error, NewUser, Session, SessionAdapter, UserAdapter};
use adapter_mongo::{MongoAdapter, MongoOptions, MongoSessionAdapter, MongoUserAdapter};
use common::TestDatabase;
use mongodb::bson::{Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

/// Commands sent, each as its name and its body.
type CommandLog = Arc<Mutex<Vec<(String, Document)>>>;

/// Records every command sent, as its name and its body.
fn recorder() -> (CommandLog, EventHandler<CommandEvent>) {
    let seen = CommandLog::default();
    let sink = seen.clone();
    let handler = EventHandler::callback(move |event: CommandEvent| {
        if let CommandEvent::Started(started) = event {
            sink.lock()
                .unwrap()
                .push((started.command_name, started.command));
        }
    });
    (seen, handler)
}

/// Returns whether any recorded command names `collection` as its target,
/// its join source or anywhere in its arguments.
fn mentions(commands: &[(String, Document)], collection: &str) -> bool {
    commands.iter().any(|(_, command)| {
        let text = format!("{command}");
        text.contains(&format!("\"{collection}\""))
    })
}

async fn collection_names(test: &TestDatabase) -> Vec<String> {
    test.database.list_collection_names().await.unwrap()
}

#[tokio::test]
async fn users_only_never_touches_sessions() {
    let (seen, handler) = recorder();
    let Some(test) =
        TestDatabase::connect("users_only_never_touches_sessions", Some(handler)).await
    else {
        return;
    };
    let users = MongoUserAdapter::new(&test.database, MongoOptions::new());
    users.ensure_indexes().await.unwrap();

    let user = NewUser::new("email:ada@example.com").into_user("u1".into());
    users.set_user(user).await.unwrap();
    users.get_user("u1").await.unwrap();
    users
        .get_user_by_provider_id("email:ada@example.com")
        .await
        .unwrap();
    users
        .update_user("u1", adapter_api::UserPatch::new().attribute("a", 1))
        .await
        .unwrap();
    users.delete_user("u1").await.unwrap();

    let commands = seen.lock().unwrap().clone();
    assert!(!commands.is_empty());
    assert!(!mentions(&commands, "sessions"), "{commands:?}");
    assert_eq!(collection_names(&test).await, vec!["users".to_owned()]);
    test.drop().await;
}

#[tokio::test]
async fn sessions_only_never_touches_users() {
    let (seen, handler) = recorder();
    let Some(test) =
        TestDatabase::connect("sessions_only_never_touches_users", Some(handler)).await
    else {
        return;
    };
    let sessions = MongoSessionAdapter::new(&test.database, MongoOptions::new());
    sessions.ensure_indexes().await.unwrap();
    assert!(!sessions.checks_user_existence());

    // No user "nobody" exists anywhere: a session-only adapter cannot see
    // users, so it stores the session.
    sessions
        .set_session(Session::new("s1", "nobody", 10, 20))
        .await
        .unwrap();
    sessions.get_session("s1").await.unwrap();
    sessions.get_sessions_by_user_id("nobody").await.unwrap();
    sessions.update_session("s1", 30, 40).await.unwrap();
    sessions.delete_sessions(&["s1".to_owned()]).await.unwrap();
    sessions.delete_sessions_by_user_id("nobody").await.unwrap();
    sessions.delete_expired_sessions(100).await.unwrap();

    let commands = seen.lock().unwrap().clone();
    assert!(!mentions(&commands, "users"), "{commands:?}");
    assert_eq!(collection_names(&test).await, vec!["sessions".to_owned()]);
    test.drop().await;
}

#[tokio::test]
async fn both_sides_rejects_session_of_missing_user() {
    let Some(test) = TestDatabase::connect("both_sides_rejects_missing_user", None).await else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    assert!(adapter.checks_user_existence());

    let err = adapter
        .set_session(Session::new("s1", "nobody", 10, 20))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == "nobody"),
        "{err:?}"
    );
    let stored = test
        .database
        .collection::<Document>("sessions")
        .count_documents(doc! {})
        .await
        .unwrap();
    assert_eq!(stored, 0);
    test.drop().await;
}

#[tokio::test]
async fn both_sides_delete_user_deletes_sessions() {
    let Some(test) = TestDatabase::connect("both_sides_delete_user_sessions", None).await else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    for id in ["u1", "u2"] {
        adapter
            .set_user(NewUser::new(format!("p:{id}")).into_user(id.into()))
            .await
            .unwrap();
    }
    adapter
        .set_session(Session::new("s1", "u1", 10, 20))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s2", "u1", 10, 20))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s3", "u2", 10, 20))
        .await
        .unwrap();

    adapter.delete_user("u1").await.unwrap();

    let raw_sessions = test.database.collection::<Document>("sessions");
    assert_eq!(
        raw_sessions
            .count_documents(doc! { "user_id": "u1" })
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        raw_sessions
            .count_documents(doc! { "user_id": "u2" })
            .await
            .unwrap(),
        1
    );
    let raw_users = test.database.collection::<Document>("users");
    assert_eq!(
        raw_users
            .count_documents(doc! { "_id": "u1" })
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        raw_users
            .count_documents(doc! { "_id": "u2" })
            .await
            .unwrap(),
        1
    );
    test.drop().await;
}

#[tokio::test]
async fn custom_collection_names_used() {
    let Some(test) = TestDatabase::connect("custom_collection_names_used", None).await else {
        return;
    };
    let options = MongoOptions::new()
        .users_collection("people")
        .sessions_collection("logins");
    let adapter = MongoAdapter::new(&test.database, options);
    adapter.ensure_indexes().await.unwrap();
    adapter
        .set_user(NewUser::new("p").into_user("u1".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 10, 20))
        .await
        .unwrap();

    let mut names = collection_names(&test).await;
    names.sort();
    assert_eq!(names, vec!["logins".to_owned(), "people".to_owned()]);
    let joined = adapter_api::SessionAndUserAdapter::get_session_and_user(&adapter, "s1")
        .await
        .unwrap();
    assert_eq!(joined.map(|(_, user)| user.id), Some("u1".to_owned()));
    test.drop().await;
}
