//! Behaviour while the server is down and after it comes back.
//!
//! The test starts its own SecantusDB server on a free 127.0.0.1 port with
//! its own data directory, stops it, and starts it again on the same port
//! and directory, so it never disturbs the server at `MONGODB_URI`.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapter_api::{
    ErrorHook, NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};

use common::secantusdb::{HANG_LIMIT, assert_retryable_backend, expect_error, start_server};

#[tokio::test]
async fn server_down_then_back() {
    let Some((mut server, client)) = start_server("server_down_then_back").await else {
        return;
    };
    let hooked = Arc::new(AtomicUsize::new(0));
    let counter = hooked.clone();
    let hook = ErrorHook::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        None
    });
    let adapter = MongoAdapter::new(
        &client.database("faults"),
        MongoOptions::new().error_hook(hook),
    );
    adapter.ensure_indexes().await.unwrap();
    adapter
        .set_user(NewUser::new("p1").into_user("u1".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 10, 20))
        .await
        .unwrap();

    server.stop();

    let err = expect_error("get_user", adapter.get_user("u1")).await;
    assert_retryable_backend("get_user", "get_user", &err);
    let err = expect_error(
        "set_user",
        adapter.set_user(NewUser::new("p2").into_user("u2".into())),
    )
    .await;
    assert_retryable_backend("set_user", "set_user", &err);
    let err = expect_error(
        "update_user",
        adapter.update_user("u1", UserPatch::new().attribute("a", 1)),
    )
    .await;
    assert_retryable_backend("update_user", "update_user", &err);
    let err = expect_error(
        "set_session",
        adapter.set_session(Session::new("s2", "u1", 10, 20)),
    )
    .await;
    assert_retryable_backend("set_session", "set_session", &err);
    let err = expect_error("get_session_and_user", adapter.get_session_and_user("s1")).await;
    assert_retryable_backend("get_session_and_user", "get_session_and_user", &err);
    let err = expect_error(
        "delete_sessions",
        adapter.delete_sessions(&["s1".to_owned()]),
    )
    .await;
    assert_retryable_backend("delete_sessions", "delete_sessions", &err);
    let err = expect_error(
        "delete_expired_sessions",
        adapter.delete_expired_sessions(0),
    )
    .await;
    assert_retryable_backend("delete_expired_sessions", "delete_expired_sessions", &err);
    assert_eq!(
        hooked.load(Ordering::SeqCst),
        7,
        "every backend error goes through the hook"
    );

    server.start();

    // The driver's monitor may need a heartbeat to see the server again, so
    // the first read after the restart gets a bounded number of tries.
    let mut first = None;
    for _ in 0..10 {
        match tokio::time::timeout(HANG_LIMIT, adapter.get_user("u1")).await {
            Ok(Ok(user)) => {
                first = Some(user);
                break;
            }
            Ok(Err(err)) => assert!(err.is_retryable(), "after restart: {err:?}"),
            Err(_) => panic!("get_user hung after the restart"),
        }
    }
    let first = first.expect("the adapter did not recover after the server restarted");
    assert_eq!(first.map(|user| user.id), Some("u1".to_owned()));

    adapter
        .set_user(NewUser::new("p2").into_user("u2".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s2", "u2", 10, 20))
        .await
        .unwrap();
    let joined = adapter.get_session_and_user("s2").await.unwrap();
    assert_eq!(joined.map(|(_, user)| user.id), Some("u2".to_owned()));

    client.shutdown().await;
}
