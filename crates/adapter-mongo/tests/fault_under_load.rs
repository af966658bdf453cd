//! A mixed load through `adapter_api::Storage` while the server stops and
//! starts again: operations fail with retryable backend errors while it is
//! down, the same adapter serves again after the restart, and no
//! acknowledged write is lost or corrupt.
//!
//! The test starts its own SecantusDB server on a free 127.0.0.1 port with
//! a data directory on disk, so the data survives the restart, and never
//! disturbs the server at `MONGODB_URI`.

mod common;

use std::time::Duration;

use adapter_api::Storage;
use adapter_conformance::fault_load::{OutagePlan, assert_survives_outages};
use adapter_mongo::{MongoAdapter, MongoOptions};

use common::secantusdb::{SERVER_SELECTION_TIMEOUT, start_server};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_stopped_under_load() {
    let Some((mut server, client)) = start_server("server_stopped_under_load").await else {
        return;
    };
    let adapter = MongoAdapter::new(&client.database("fault_load"), MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    let storage = Storage::new(adapter);

    // The driver retries a failed read or write once, after selecting a
    // server again, so one call may wait for two selection timeouts.
    let operation_limit = SERVER_SELECTION_TIMEOUT * 2 + Duration::from_secs(10);
    let plan = OutagePlan {
        tasks: 4,
        seed: 11,
        outages: 2,
        healthy: Duration::from_millis(1500),
        down: SERVER_SELECTION_TIMEOUT * 2 + Duration::from_secs(1),
        recovery_limit: Duration::from_secs(30),
        operation_limit,
    };
    assert_survives_outages(&storage, &mut server, "mongodb", &plan).await;

    client.shutdown().await;
}
