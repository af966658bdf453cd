//! The per-user session index stays in step with the sessions when an id is
//! deleted and created again for another user, and when sessions expire.

use adapter_api::{Session, SessionAdapter, User, UserAdapter};
use adapter_memory::MemoryAdapter;

const HOUR: i64 = 3_600_000;

fn user(id: &str) -> User {
    User {
        id: id.to_owned(),
        provider_id: format!("email:{id}@example.com"),
        hashed_password: None,
        attributes: Default::default(),
    }
}

fn session(id: &str, user_id: &str, idle_expires: i64) -> Session {
    Session::new(id, user_id, idle_expires - HOUR, idle_expires)
}

async fn two_users() -> MemoryAdapter {
    let adapter = MemoryAdapter::new();
    adapter.set_user(user("ada")).await.expect("set ada");
    adapter.set_user(user("bob")).await.expect("set bob");
    adapter
}

#[tokio::test]
async fn reused_session_id_moves_to_new_owner() {
    let adapter = two_users().await;
    adapter
        .set_session(session("shared-id", "ada", 10 * HOUR))
        .await
        .expect("first session");
    adapter
        .delete_sessions(&["shared-id".to_owned()])
        .await
        .expect("delete");
    adapter
        .set_session(session("shared-id", "bob", 10 * HOUR))
        .await
        .expect("same id for bob");

    let of_ada = adapter
        .get_sessions_by_user_id("ada")
        .await
        .expect("list ada");
    let of_bob = adapter
        .get_sessions_by_user_id("bob")
        .await
        .expect("list bob");
    assert!(of_ada.is_empty(), "ada still lists {of_ada:?}");
    assert_eq!(of_bob.len(), 1);
    assert_eq!(of_bob[0].user_id, "bob");

    adapter
        .delete_sessions_by_user_id("ada")
        .await
        .expect("delete ada's sessions");
    let stored = adapter.stored_sessions();
    assert_eq!(stored.len(), 1, "bob's session must survive: {stored:?}");
    assert_eq!(stored[0].user_id, "bob");
}

#[tokio::test]
async fn expired_sessions_leave_listing() {
    let adapter = two_users().await;
    adapter
        .set_session(session("old", "ada", HOUR))
        .await
        .expect("old session");
    adapter
        .set_session(session("new", "ada", 10 * HOUR))
        .await
        .expect("new session");

    let removed = adapter
        .delete_expired_sessions(HOUR)
        .await
        .expect("delete expired");
    assert_eq!(removed, 1);

    let listed = adapter.get_sessions_by_user_id("ada").await.expect("list");
    let ids: Vec<&str> = listed.iter().map(|listed| listed.id.as_str()).collect();
    assert_eq!(ids, ["new"]);
}

#[tokio::test]
async fn unchecked_insert_replaces_owner_link() {
    let adapter = two_users().await;
    adapter.insert_session_unchecked(session("planted", "ada", 10 * HOUR));
    adapter.insert_session_unchecked(session("planted", "bob", 10 * HOUR));

    let of_ada = adapter
        .get_sessions_by_user_id("ada")
        .await
        .expect("list ada");
    let of_bob = adapter
        .get_sessions_by_user_id("bob")
        .await
        .expect("list bob");
    assert!(of_ada.is_empty(), "ada still lists {of_ada:?}");
    assert_eq!(of_bob.len(), 1);

    adapter.delete_user("bob").await.expect("delete bob");
    assert!(adapter.stored_sessions().is_empty());
}
