//! MariaDB (or MySQL) killed and restarted under a mixed load: operations
//! fail with retryable backend errors while it is down, the same pool and
//! adapter serve again after the restart, and no acknowledged write is lost
//! or corrupt. The test runs its own server on a free port and never stops
//! the shared server at `MYSQL_URL`.

#![cfg(feature = "mysql")]

mod private_server;

use adapter_api::Storage;
use adapter_conformance::fault_load::assert_survives_outages;
use adapter_sql::mysql::MySqlAdapter;
use adapter_sql::sqlx::Executor;
use adapter_sql::sqlx::mysql::MySqlPoolOptions;
use adapter_sql::{AdapterOptions, Sides};

use private_server::{ACQUIRE_TIMEOUT, MariaDbServer, outage_plan, skip};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mysql_killed_under_load() {
    let (program, install) = match MariaDbServer::find() {
        Ok(programs) => programs,
        Err(reason) => {
            skip("mysql_killed_under_load", &reason);
            return;
        }
    };
    let mut server = MariaDbServer::start_new(program, install);

    let admin = MySqlPoolOptions::new()
        .max_connections(1)
        .connect(&server.url())
        .await
        .unwrap();
    admin.execute("CREATE DATABASE fault_load").await.unwrap();
    admin.close().await;

    let pool = MySqlPoolOptions::new()
        .max_connections(4)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .connect(&format!("{}/fault_load", server.url()))
        .await
        .unwrap();
    let adapter = MySqlAdapter::new(pool.clone(), AdapterOptions::new().sides(Sides::Both));
    adapter.migrate().await.unwrap();
    let storage = Storage::new(adapter);

    assert_survives_outages(&storage, &mut server, "mysql", &outage_plan(31)).await;

    pool.close().await;
}
