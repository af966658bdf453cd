//! PostgreSQL stopped and restarted under a mixed load: operations fail
//! with retryable backend errors while it is down, the same pool and
//! adapter serve again after the restart, and no acknowledged write is lost
//! or corrupt. The test runs its own cluster on a free port and never stops
//! the shared server at `POSTGRES_URL`.

#![cfg(feature = "postgres")]

mod private_server;

use adapter_api::Storage;
use adapter_conformance::fault_load::assert_survives_outages;
use adapter_sql::postgres::PgAdapter;
use adapter_sql::sqlx::postgres::PgPoolOptions;
use adapter_sql::{AdapterOptions, Sides};

use private_server::{ACQUIRE_TIMEOUT, PgServer, outage_plan, skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_stopped_under_load() {
    let bin = match PgServer::find() {
        Ok(bin) => bin,
        Err(reason) => {
            skip("postgres_stopped_under_load", &reason);
            return;
        }
    };
    let mut server = PgServer::start_new(bin);

    let pool = PgPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect(&server.url())
        .await
        .unwrap();
    let adapter = PgAdapter::new(pool.clone(), AdapterOptions::new().sides(Sides::Both));
    adapter.migrate().await.unwrap();
    let storage = Storage::new(adapter);

    assert_survives_outages(&storage, &mut server, "postgres", &outage_plan(21)).await;

    pool.close().await;
}
