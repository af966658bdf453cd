//! Index setup and the TTL date field.

mod common;

use adapter_api::{Error, NewUser, Session, SessionAdapter, UserAdapter};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::bson::{Bson, DateTime, Document, doc};

async fn indexes(test: &TestDatabase, collection: &str) -> Vec<Document> {
    let output = test
        .database
        .run_command(doc! { "listIndexes": collection })
        .await
        .unwrap();
    let batch = output
        .get_document("cursor")
        .unwrap()
        .get_array("firstBatch")
        .unwrap();
    let mut indexes: Vec<Document> = batch
        .iter()
        .filter_map(Bson::as_document)
        .cloned()
        .collect();
    indexes.sort_by_key(|index| index.get_str("name").unwrap_or_default().to_owned());
    indexes
}

fn keys(indexes: &[Document]) -> Vec<Document> {
    indexes
        .iter()
        .map(|index| index.get_document("key").unwrap().clone())
        .collect()
}

async fn raw_session(test: &TestDatabase, id: &str) -> Document {
    test.database
        .collection::<Document>("sessions")
        .find_one(doc! { "_id": id })
        .await
        .unwrap()
        .unwrap()
}

#[tokio::test]
async fn ensure_indexes_idempotent() {
    let Some(test) = TestDatabase::connect("ensure_indexes_idempotent", None).await else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    let users_first = indexes(&test, "users").await;
    let sessions_first = indexes(&test, "sessions").await;
    adapter.ensure_indexes().await.unwrap();
    assert_eq!(indexes(&test, "users").await, users_first);
    assert_eq!(indexes(&test, "sessions").await, sessions_first);

    assert_eq!(
        keys(&users_first),
        vec![doc! {"_id": 1}, doc! {"provider_id": 1}]
    );
    assert_eq!(users_first[1].get_bool("unique"), Ok(true));
    assert_eq!(
        keys(&sessions_first),
        vec![
            doc! {"_id": 1},
            doc! {"idle_expires": 1},
            doc! {"user_id": 1}
        ]
    );
    test.drop().await;
}

#[tokio::test]
async fn ttl_index_and_date_field() {
    let Some(test) = TestDatabase::connect("ttl_index_and_date_field", None).await else {
        return;
    };
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new().ttl_index(true));
    adapter.ensure_indexes().await.unwrap();
    let sessions = indexes(&test, "sessions").await;
    let ttl = sessions
        .iter()
        .find(|index| index.get_document("key").unwrap() == &doc! {"idle_expires_at": 1})
        .expect("no TTL index on idle_expires_at");
    let expire_after = ttl
        .get("expireAfterSeconds")
        .and_then(|value| value.as_i64().or(value.as_i32().map(i64::from)));
    assert_eq!(expire_after, Some(0));

    adapter
        .set_user(NewUser::new("p1").into_user("u1".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 1_000, 2_000))
        .await
        .unwrap();
    assert_eq!(
        raw_session(&test, "s1").await.get("idle_expires_at"),
        Some(&Bson::DateTime(DateTime::from_millis(2_000)))
    );

    // Renewal keeps the date in step with idle_expires.
    adapter.update_session("s1", 5_000, 9_000).await.unwrap();
    assert_eq!(
        raw_session(&test, "s1").await.get("idle_expires_at"),
        Some(&Bson::DateTime(DateTime::from_millis(9_000)))
    );

    // Reads ignore the date field.
    assert_eq!(
        adapter.get_session("s1").await.unwrap(),
        Some(Session::new("s1", "u1", 5_000, 9_000))
    );

    // With the option off, renewal removes the date so that the TTL index
    // cannot delete the renewed session early.
    let without_ttl = MongoAdapter::new(&test.database, MongoOptions::new());
    without_ttl
        .update_session("s1", 10_000, 20_000)
        .await
        .unwrap();
    let stored = raw_session(&test, "s1").await;
    assert_eq!(
        stored,
        doc! {"_id": "s1", "user_id": "u1", "expires": 10_000_i64, "idle_expires": 20_000_i64}
    );
    test.drop().await;
}

#[tokio::test]
async fn unique_index_beside_plain_one() {
    let Some(test) = TestDatabase::connect("unique_index_beside_plain_one", None).await else {
        return;
    };
    let users = test.database.collection::<Document>("users");
    let plain = mongodb::IndexModel::builder()
        .keys(doc! {"provider_id": 1})
        .options(
            mongodb::options::IndexOptions::builder()
                .name("provider_lookup".to_owned())
                .build(),
        )
        .build();
    users.create_index(plain).await.unwrap();

    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    let found = indexes(&test, "users").await;
    let unique: Vec<&Document> = found
        .iter()
        .filter(|index| index.get_bool("unique") == Ok(true))
        .collect();
    assert_eq!(unique.len(), 1, "{found:?}");
    assert_eq!(
        unique[0].get_document("key").unwrap(),
        &doc! {"provider_id": 1}
    );

    adapter
        .set_user(NewUser::new("p1").into_user("u1".into()))
        .await
        .unwrap();
    let err = adapter
        .set_user(NewUser::new("p1").into_user("u2".into()))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "p1"),
        "{err:?}"
    );
    test.drop().await;
}

#[tokio::test]
async fn unique_index_over_duplicates_fails() {
    let Some(test) = TestDatabase::connect("unique_index_over_duplicates_fails", None).await else {
        return;
    };
    let users = test.database.collection::<Document>("users");
    users
        .insert_many([
            doc! {"_id": "u1", "provider_id": "same"},
            doc! {"_id": "u2", "provider_id": "same"},
        ])
        .await
        .unwrap();

    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    let err = adapter.ensure_indexes().await.unwrap_err();
    let Error::Backend(backend) = &err else {
        panic!("expected a backend error, got {err:?}");
    };
    assert_eq!(backend.operation, "ensure_indexes");
    assert!(!backend.retryable);
    let keys_left = keys(&indexes(&test, "users").await);
    assert_eq!(keys_left, vec![doc! {"_id": 1}]);
    test.drop().await;
}
