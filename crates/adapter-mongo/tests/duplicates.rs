//! Duplicate key errors are classified by the key that collided, whatever
//! the unique index is called.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapter_api::{Error, ErrorHook, NewUser, Session, SessionAdapter, UserAdapter, UserPatch};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::IndexModel;
use mongodb::bson::{Document, doc};
use mongodb::options::IndexOptions;

/// Builds an adapter whose hook counts the errors it receives, over a user
/// collection with an application's own unique index on `provider_id`.
async fn setup(test: &str) -> Option<(TestDatabase, MongoAdapter, Arc<AtomicUsize>)> {
    let test = TestDatabase::connect(test, None).await?;
    let users = test.database.collection::<Document>("users");
    let unique = IndexOptions::builder()
        .unique(true)
        .name("login_must_be_unique".to_owned())
        .build();
    users
        .create_index(
            IndexModel::builder()
                .keys(doc! { "provider_id": 1 })
                .options(unique)
                .build(),
        )
        .await
        .unwrap();

    let hooked = Arc::new(AtomicUsize::new(0));
    let counter = hooked.clone();
    let hook = ErrorHook::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        None
    });
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new().error_hook(hook));
    Some((test, adapter, hooked))
}

async fn index_names(test: &TestDatabase) -> Vec<String> {
    let mut names = test
        .database
        .collection::<Document>("users")
        .list_index_names()
        .await
        .unwrap();
    names.sort();
    names
}

#[tokio::test]
async fn custom_index_provider_id_classified() {
    let Some((test, adapter, hooked)) = setup("custom_index_provider_id_classified").await else {
        return;
    };
    adapter
        .set_user(NewUser::new("email:ada@example.com").into_user("u1".into()))
        .await
        .unwrap();
    adapter
        .set_user(NewUser::new("email:bob@example.com").into_user("u2".into()))
        .await
        .unwrap();

    let err = adapter
        .set_user(NewUser::new("email:ada@example.com").into_user("u3".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "email:ada@example.com"),
        "{err:?}"
    );
    assert!(adapter.get_user("u3").await.unwrap().is_none());

    let err = adapter
        .update_user("u2", UserPatch::new().provider_id("email:ada@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "email:ada@example.com"),
        "{err:?}"
    );
    let unchanged = adapter.get_user("u2").await.unwrap().unwrap();
    assert_eq!(unchanged.provider_id, "email:bob@example.com");

    // Setting a user's own provider id is no conflict.
    let same = adapter
        .update_user("u1", UserPatch::new().provider_id("email:ada@example.com"))
        .await
        .unwrap();
    assert_eq!(same.provider_id, "email:ada@example.com");

    assert_eq!(
        hooked.load(Ordering::SeqCst),
        0,
        "known errors must not reach the hook"
    );
    test.drop().await;
}

#[tokio::test]
async fn id_collisions_classified() {
    let Some((test, adapter, hooked)) = setup("id_collisions_classified").await else {
        return;
    };
    adapter
        .set_user(NewUser::new("p1").into_user("u1".into()))
        .await
        .unwrap();
    // Both the id and the provider id collide: the server reports the
    // first index it checks, which is `_id`.
    let err = adapter
        .set_user(NewUser::new("p2").into_user("u1".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateUserId { user_id } if user_id == "u1"),
        "{err:?}"
    );
    assert!(
        adapter
            .get_user_by_provider_id("p2")
            .await
            .unwrap()
            .is_none()
    );

    adapter
        .set_session(Session::new("s1", "u1", 1, 2))
        .await
        .unwrap();
    let err = adapter
        .set_session(Session::new("s1", "u1", 3, 4))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateSessionId { session_id } if session_id == "s1"),
        "{err:?}"
    );
    assert_eq!(
        adapter.get_session("s1").await.unwrap(),
        Some(Session::new("s1", "u1", 1, 2))
    );

    assert_eq!(
        hooked.load(Ordering::SeqCst),
        0,
        "known errors must not reach the hook"
    );
    test.drop().await;
}

#[tokio::test]
async fn other_unique_index_is_backend_error() {
    let Some((test, adapter, hooked)) = setup("other_unique_index_is_backend_error").await else {
        return;
    };
    // An application's own unique index on an attribute is not one of the
    // contract's duplicates.
    let unique = IndexOptions::builder()
        .unique(true)
        .name("email_unique".to_owned())
        .build();
    test.database
        .collection::<Document>("users")
        .create_index(
            IndexModel::builder()
                .keys(doc! { "email": 1 })
                .options(unique)
                .build(),
        )
        .await
        .unwrap();
    adapter
        .set_user(
            NewUser::new("p1")
                .attribute("email", "a@example.com")
                .into_user("u1".into()),
        )
        .await
        .unwrap();

    let err = adapter
        .set_user(
            NewUser::new("p2")
                .attribute("email", "a@example.com")
                .into_user("u2".into()),
        )
        .await
        .unwrap_err();
    let Error::Backend(backend) = &err else {
        panic!("expected a backend error, got {err:?}");
    };
    assert_eq!(backend.backend, "mongodb");
    assert_eq!(backend.operation, "set_user");
    assert!(!backend.retryable);
    let source = backend.source.downcast_ref::<mongodb::error::Error>();
    assert!(
        source.is_some(),
        "the driver error must be kept as the source"
    );
    assert_eq!(hooked.load(Ordering::SeqCst), 1);
    test.drop().await;
}

#[tokio::test]
async fn ensure_indexes_keeps_custom_index() {
    let Some((test, adapter, _)) = setup("ensure_indexes_keeps_custom_index").await else {
        return;
    };
    adapter.ensure_indexes().await.unwrap();
    adapter.ensure_indexes().await.unwrap();
    assert_eq!(
        index_names(&test).await,
        vec!["_id_".to_owned(), "login_must_be_unique".to_owned()]
    );
    test.drop().await;
}
