//! Every query the adapter sends uses an index once `ensure_indexes` ran.
//!
//! The test records the commands of every operation with command
//! monitoring, then has the server explain each query among them, so a
//! query added to the adapter later is checked without changing this file.

mod common;

use std::sync::{Arc, Mutex};

use adapter_api::{
    NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::bson::{Bson, Document, doc};
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;

/// Commands sent to the test database, in order.
#[derive(Clone, Default)]
struct Recorded(Arc<Mutex<Vec<(String, Document)>>>);

impl Recorded {
    fn handler(&self) -> EventHandler<CommandEvent> {
        let sink = self.0.clone();
        EventHandler::callback(move |event: CommandEvent| {
            if let CommandEvent::Started(started) = event
                && started.db != "admin"
            {
                sink.lock()
                    .unwrap()
                    .push((started.command_name, started.command));
            }
        })
    }

    fn take(&self) -> Vec<(String, Document)> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

/// Builds the explainable commands for one recorded command: the query part
/// only, without the session, cluster time and other envelope fields.
fn explainable(name: &str, command: &Document) -> Vec<Document> {
    let collection = command.get_str(name).unwrap_or_default().to_owned();
    match name {
        "find" => vec![doc! { "find": collection, "filter": command.get_document("filter").cloned().unwrap_or_default() }],
        "aggregate" => vec![doc! {
            "aggregate": collection,
            "pipeline": command.get_array("pipeline").cloned().unwrap_or_default(),
            "cursor": {},
        }],
        "findAndModify" => {
            let mut explained = doc! { "findAndModify": collection, "query": command.get_document("query").cloned().unwrap_or_default() };
            for field in ["update", "new"] {
                if let Some(value) = command.get(field) {
                    explained.insert(field, value.clone());
                }
            }
            vec![explained]
        }
        // NOTE: SecantusDB 0.7.0b3 explains a `delete` command with an empty
        // parsedQuery and a COLLSCAN whatever its filter, although its
        // `find` with the same filter uses the index. MongoDB plans the
        // filter of a delete as it plans a find, so the filters of deletes
        // are explained as finds.
        "delete" => command
            .get_array("deletes")
            .map(|deletes| {
                deletes
                    .iter()
                    .filter_map(Bson::as_document)
                    .map(|statement| doc! { "find": collection.clone(), "filter": statement.get_document("q").cloned().unwrap_or_default() })
                    .collect()
            })
            .unwrap_or_default(),
        // Inserts and index commands run no query.
        _ => Vec::new(),
    }
}

/// Collects what in an explain output shows how data was read: the names
/// of all plan stages and any sign of a collection scan.
fn scan_plan(value: &Bson, stages: &mut Vec<String>, scans: &mut Vec<String>) {
    match value {
        Bson::Document(document) => {
            for (key, item) in document {
                match (key.as_str(), item) {
                    ("stage", Bson::String(stage)) => {
                        if stage.contains("COLLSCAN") {
                            scans.push(format!("stage {stage}"));
                        }
                        stages.push(stage.clone());
                    }
                    // $lookup in MongoDB 5.0 and later reports scans of the
                    // joined collection here.
                    ("collectionScans", count)
                        if count
                            .as_i64()
                            .or(count.as_i32().map(i64::from))
                            .unwrap_or(0)
                            > 0 =>
                    {
                        scans.push(format!("collectionScans {count}"));
                    }
                    // The slot-based engine's $lookup without an index.
                    ("strategy", Bson::String(strategy)) if strategy == "NestedLoopJoin" => {
                        scans.push(format!("strategy {strategy}"));
                    }
                    _ => scan_plan(item, stages, scans),
                }
            }
        }
        Bson::Array(items) => items.iter().for_each(|item| scan_plan(item, stages, scans)),
        _ => {}
    }
}

fn is_index_stage(stage: &str) -> bool {
    stage.contains("IXSCAN") || stage.contains("IDHACK") || stage.starts_with("EXPRESS")
}

#[tokio::test]
async fn every_query_uses_an_index() {
    let recorded = Recorded::default();
    let Some(test) =
        TestDatabase::connect("every_query_uses_an_index", Some(recorded.handler())).await
    else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new().ttl_index(true));
    adapter.ensure_indexes().await.unwrap();

    // Enough documents that a scan and an index lookup differ in cost.
    for index in 0..50 {
        let user_id = format!("u{index}");
        adapter
            .set_user(NewUser::new(format!("email:{index}@example.com")).into_user(user_id.clone()))
            .await
            .unwrap();
        adapter
            .set_session(Session::new(
                format!("s{index}"),
                user_id,
                index,
                index + 10,
            ))
            .await
            .unwrap();
    }
    recorded.take();

    adapter.get_user("u1").await.unwrap();
    adapter
        .get_user_by_provider_id("email:1@example.com")
        .await
        .unwrap();
    adapter
        .update_user("u1", UserPatch::new().provider_id("email:one@example.com"))
        .await
        .unwrap();
    adapter.update_user("u1", UserPatch::new()).await.unwrap();
    adapter
        .set_session(Session::new("extra", "u1", 1, 2))
        .await
        .unwrap();
    adapter.get_session("s1").await.unwrap();
    adapter.get_sessions_by_user_id("u1").await.unwrap();
    adapter.get_session_and_user("s1").await.unwrap();
    adapter.update_session("s1", 100, 200).await.unwrap();
    adapter
        .delete_sessions(&["s2".to_owned(), "s3".to_owned()])
        .await
        .unwrap();
    adapter.delete_sessions_by_user_id("u4").await.unwrap();
    adapter.delete_expired_sessions(12).await.unwrap();
    adapter.delete_user("u5").await.unwrap();

    let commands = recorded.take();
    let mut explained = 0;
    for (name, command) in &commands {
        for query in explainable(name, command) {
            let verbosity = if name == "aggregate" {
                "executionStats"
            } else {
                "queryPlanner"
            };
            let output = test
                .database
                .run_command(doc! { "explain": query.clone(), "verbosity": verbosity })
                .await
                .unwrap_or_else(|err| panic!("explain of {query} failed: {err}"));
            let mut stages = Vec::new();
            let mut scans = Vec::new();
            scan_plan(&Bson::Document(output.clone()), &mut stages, &mut scans);
            assert!(
                scans.is_empty(),
                "{query} scans a collection ({scans:?}): {output}"
            );
            assert!(
                stages.iter().any(|stage| is_index_stage(stage)),
                "{query} shows no index stage: {output}"
            );
            explained += 1;
        }
    }
    // Six finds (two user reads, the empty patch's read, the user check of
    // set_session, get_session, sessions by user), one aggregate, two
    // findAndModify, and the filters of five deletes (delete_user sends
    // two).
    assert_eq!(explained, 14, "queries explained from {commands:?}");
    test.drop().await;
}
