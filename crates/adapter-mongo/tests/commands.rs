//! How many commands each operation sends, counted with the driver's
//! command monitoring.

mod common;

use std::sync::{Arc, Mutex};

use adapter_api::{
    NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

/// Names of the commands sent to the test database since the last `take`.
/// Commands to `admin` (handshakes, monitoring) are not counted.
#[derive(Clone, Default)]
struct Commands(Arc<Mutex<Vec<String>>>);

impl Commands {
    fn handler(&self) -> EventHandler<CommandEvent> {
        let sink = self.0.clone();
        EventHandler::callback(move |event: CommandEvent| {
            if let CommandEvent::Started(started) = event
                && started.db != "admin"
            {
                sink.lock().unwrap().push(started.command_name);
            }
        })
    }

    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

async fn setup(test: &str) -> Option<(TestDatabase, MongoAdapter, Commands)> {
    let commands = Commands::default();
    let test = TestDatabase::connect(test, Some(commands.handler())).await?;
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    adapter
        .set_user(NewUser::new("email:ada@example.com").into_user("u1".into()))
        .await
        .unwrap();
    for id in ["s1", "s2", "s3"] {
        adapter
            .set_session(Session::new(id, "u1", 10, 20))
            .await
            .unwrap();
    }
    commands.take();
    Some((test, adapter, commands))
}

#[tokio::test]
async fn get_session_and_user_one_command() {
    let Some((test, adapter, commands)) = setup("get_session_and_user_one_command").await else {
        return;
    };
    let found = adapter.get_session_and_user("s1").await.unwrap();
    assert!(found.is_some());
    assert_eq!(commands.take(), vec!["aggregate"]);

    let missing = adapter.get_session_and_user("nope").await.unwrap();
    assert!(missing.is_none());
    assert_eq!(commands.take(), vec!["aggregate"]);
    test.drop().await;
}

#[tokio::test]
async fn delete_sessions_empty_sends_nothing() {
    let Some((test, adapter, commands)) = setup("delete_sessions_empty_sends_nothing").await else {
        return;
    };
    adapter.delete_sessions(&[]).await.unwrap();
    assert_eq!(commands.take(), Vec::<String>::new());
    test.drop().await;
}

#[tokio::test]
async fn delete_sessions_many_one_command() {
    let Some((test, adapter, commands)) = setup("delete_sessions_many_one_command").await else {
        return;
    };
    let ids = ["s1".to_owned(), "s2".to_owned(), "unknown".to_owned()];
    adapter.delete_sessions(&ids).await.unwrap();
    assert_eq!(commands.take(), vec!["delete"]);
    assert!(adapter.get_session("s1").await.unwrap().is_none());
    assert!(adapter.get_session("s2").await.unwrap().is_none());
    assert!(adapter.get_session("s3").await.unwrap().is_some());
    test.drop().await;
}

#[tokio::test]
async fn updates_one_find_and_modify() {
    let Some((test, adapter, commands)) = setup("updates_one_find_and_modify").await else {
        return;
    };
    adapter
        .update_user("u1", UserPatch::new().attribute("name", "Ada"))
        .await
        .unwrap();
    assert_eq!(commands.take(), vec!["findAndModify"]);
    adapter.update_session("s1", 30, 40).await.unwrap();
    assert_eq!(commands.take(), vec!["findAndModify"]);
    test.drop().await;
}

#[tokio::test]
async fn other_operations_command_counts() {
    let Some((test, adapter, commands)) = setup("other_operations_command_counts").await else {
        return;
    };
    adapter.get_user("u1").await.unwrap();
    assert_eq!(commands.take(), vec!["find"]);
    adapter
        .get_user_by_provider_id("email:ada@example.com")
        .await
        .unwrap();
    assert_eq!(commands.take(), vec!["find"]);
    adapter.get_session("s1").await.unwrap();
    assert_eq!(commands.take(), vec!["find"]);
    adapter.get_sessions_by_user_id("u1").await.unwrap();
    assert_eq!(commands.take(), vec!["find"]);
    adapter.delete_expired_sessions(0).await.unwrap();
    assert_eq!(commands.take(), vec!["delete"]);
    adapter.delete_sessions_by_user_id("u1").await.unwrap();
    assert_eq!(commands.take(), vec!["delete"]);

    // The insert, then the user check.
    adapter
        .set_session(Session::new("s4", "u1", 10, 20))
        .await
        .unwrap();
    assert_eq!(commands.take(), vec!["insert", "find"]);
    // The user, then the sessions.
    adapter.delete_user("u1").await.unwrap();
    assert_eq!(commands.take(), vec!["delete", "delete"]);
    test.drop().await;
}
