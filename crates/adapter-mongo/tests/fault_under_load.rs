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
use adapter_conformance::fault_load::{OutagePlan, ServerControl, run_with_outages};
use adapter_mongo::{MongoAdapter, MongoOptions};

use common::secantusdb::{SERVER_SELECTION_TIMEOUT, Server, start_server};

/// The server stops with SIGTERM and its process is awaited, so the stop
/// is complete when `stop` returns.
struct Controlled<'a>(&'a mut Server);

impl ServerControl for Controlled<'_> {
    fn stop(&mut self) {
        self.0.stop();
    }

    fn start(&mut self) {
        self.0.start();
    }
}

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
    let run = run_with_outages(&storage, &mut Controlled(&mut server), &plan).await;
    let findings = run.check("mongodb", operation_limit);
    let verification = run.report.verify(&storage).await;

    eprintln!(
        "mongodb fault load: {} operations ({} succeeded, {} acknowledged writes), \
         {} faults injected, {} operations while down, {} retryable errors; \
         read back {} users and {} sessions, {} acknowledged records, {} lost, {} corrupt",
        findings.operations,
        run.report.succeeded(),
        run.report.acknowledged_writes(),
        run.outages.len(),
        findings.down_operations,
        findings.retryable_errors,
        verification.users_read,
        verification.sessions_read,
        verification.acknowledged_records,
        verification.lost.len(),
        verification.corrupt.len(),
    );

    assert_eq!(run.outages.len(), plan.outages);
    assert!(
        findings.unobserved_outages.is_empty(),
        "no operation ran while the server was down in outages {:?}",
        findings.unobserved_outages
    );
    assert!(
        findings.down_violations.is_empty(),
        "{:#?}",
        findings.down_violations
    );
    assert!(
        findings.healthy_violations.is_empty(),
        "{:#?}",
        findings.healthy_violations
    );
    assert!(
        findings.straddling_violations.is_empty(),
        "{:#?}",
        findings.straddling_violations
    );
    assert!(
        findings.slow_operations.is_empty(),
        "{:#?}",
        findings.slow_operations
    );
    assert!(
        verification.acknowledged_records > 0,
        "the load stored nothing"
    );
    assert!(verification.lost.is_empty(), "{:#?}", verification.lost);
    assert!(
        verification.corrupt.is_empty(),
        "{:#?}",
        verification.corrupt
    );
    assert!(
        verification.unexpected.is_empty(),
        "{:#?}",
        verification.unexpected
    );
    assert!(
        verification.failed_reads.is_empty(),
        "{:#?}",
        verification.failed_reads
    );

    client.shutdown().await;
}
