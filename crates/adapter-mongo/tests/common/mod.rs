//! Connection to the test server named by `MONGODB_URI`, one fresh
//! database per test.

#![allow(dead_code)]

pub mod secantusdb;

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mongodb::bson::doc;
use mongodb::event::EventHandler;
use mongodb::event::command::CommandEvent;
use mongodb::options::ClientOptions;
use mongodb::{Client, Database};

static NEXT_DATABASE: AtomicU64 = AtomicU64::new(0);

/// Returns whether the tests run under CI, where a missing server fails a
/// test instead of skipping it.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true" || value == "1")
}

/// Prints why a test is skipped, or panics under CI.
pub fn skip(test: &str, reason: &str) {
    assert!(
        !in_ci(),
        "{test}: {reason}, and CI=true makes that a failure"
    );
    eprintln!("skipped {test}: {reason}");
}

/// A client of the server at `MONGODB_URI` and a database that no other
/// test uses.
pub struct TestDatabase {
    pub client: Client,
    pub database: Database,
}

impl TestDatabase {
    /// Connects to `MONGODB_URI`, with `handler` watching every command
    /// when given. Returns `None`, after printing why, when the variable is
    /// not set outside CI.
    pub async fn connect(test: &str, handler: Option<EventHandler<CommandEvent>>) -> Option<Self> {
        let Some(uri) = std::env::var("MONGODB_URI")
            .ok()
            .filter(|uri| !uri.is_empty())
        else {
            skip(
                test,
                "MONGODB_URI is not set; run through scripts/with-secantusdb",
            );
            return None;
        };
        let mut options = ClientOptions::parse(&uri)
            .await
            .expect("MONGODB_URI is not a valid connection string");
        options
            .server_selection_timeout
            .get_or_insert(Duration::from_secs(10));
        if let Some(handler) = handler {
            options.command_event_handler = Some(handler);
        }
        let client = Client::with_options(options).expect("failed to build the client");
        let counter = NEXT_DATABASE.fetch_add(1, Ordering::Relaxed);
        let name = format!("am_{}_{}_{counter}", short(test), std::process::id());
        let database = client.database(&name);
        database
            .run_command(doc! { "ping": 1 })
            .await
            .expect("the server at MONGODB_URI did not respond to a ping");
        Some(TestDatabase { client, database })
    }

    /// Drops the test's database.
    pub async fn drop(self) {
        self.database
            .drop()
            .await
            .expect("failed to drop the test database");
        self.client.shutdown().await;
    }
}

/// Keeps database names within the 38-character limit of sharded clusters.
fn short(test: &str) -> String {
    test.chars()
        .filter(char::is_ascii_alphanumeric)
        .take(16)
        .collect()
}
