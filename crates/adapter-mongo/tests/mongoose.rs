//! Reading documents as the Node.js Mongoose adapter writes them, planted
//! raw, and what the adapter itself stores.

mod common;

use adapter_api::{
    Error, NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter, UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};
use common::TestDatabase;
use mongodb::bson::oid::ObjectId;
use mongodb::bson::spec::BinarySubtype;
use mongodb::bson::{Binary, Bson, DateTime, Decimal128, Document, doc};
use serde_json::json;

async fn setup(test: &str) -> Option<(TestDatabase, MongoAdapter)> {
    let test = TestDatabase::connect(test, None).await?;
    let adapter = MongoAdapter::new(&test.database, MongoOptions::new());
    adapter.ensure_indexes().await.unwrap();
    Some((test, adapter))
}

async fn plant(test: &TestDatabase, collection: &str, document: Document) {
    test.database
        .collection::<Document>(collection)
        .insert_one(document)
        .await
        .unwrap();
}

async fn raw(test: &TestDatabase, collection: &str, id: &str) -> Document {
    let found = test
        .database
        .collection::<Document>(collection)
        .find_one(doc! { "_id": id })
        .await
        .unwrap();
    found.unwrap_or_else(|| panic!("no document {id} in {collection}"))
}

fn corrupt(err: Error) -> (String, String, String) {
    match err {
        Error::CorruptRecord {
            collection,
            record_id,
            field,
            ..
        } => (collection, record_id, field),
        other => panic!("expected CorruptRecord, got {other:?}"),
    }
}

#[tokio::test]
async fn mongoose_user_read_unchanged() {
    let Some((test, adapter)) = setup("mongoose_user_read_unchanged").await else {
        return;
    };
    let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
    let decimal: Decimal128 = "12.50".parse().unwrap();
    plant(
        &test,
        "users",
        doc! {
            "_id": "u1",
            "provider_id": "email:ada@example.com",
            "hashed_password": "$argon2id$hash",
            "age": 36_i32,
            "logins": 5_000_000_000_i64,
            "score": 1.5,
            "whole_double": 2.0,
            "tags": ["a", 1_i32, {"deep": [null, true]}],
            "created": DateTime::from_millis(1_700_000_000_000),
            "ref": oid,
            "balance": decimal,
            "blob": Binary { subtype: BinarySubtype::Generic, bytes: vec![1, 2, 3] },
            "__v": 0_i32,
        },
    )
    .await;

    let user = adapter
        .get_user("u1")
        .await
        .unwrap()
        .expect("planted user not found");
    assert_eq!(user.provider_id, "email:ada@example.com");
    assert_eq!(user.hashed_password.as_deref(), Some("$argon2id$hash"));
    let attributes = serde_json::Value::Object(user.attributes.clone());
    assert_eq!(attributes["age"], json!(36));
    assert!(attributes["logins"].is_i64());
    assert_eq!(attributes["logins"], json!(5_000_000_000_i64));
    assert_eq!(attributes["score"], json!(1.5));
    assert!(attributes["whole_double"].is_f64());
    assert_eq!(attributes["tags"], json!(["a", 1, {"deep": [null, true]}]));
    assert_eq!(
        attributes["created"],
        json!({"$date": "2023-11-14T22:13:20Z"})
    );
    assert_eq!(
        attributes["ref"],
        json!({"$oid": "65a1b2c3d4e5f60718293a4b"})
    );
    assert_eq!(attributes["balance"], json!({"$numberDecimal": "12.50"}));
    assert_eq!(
        attributes["blob"],
        json!({"$binary": {"base64": "AQID", "subType": "00"}})
    );
    assert!(!user.attributes.contains_key("__v"));
    assert_eq!(user.attributes.len(), 9);

    let by_provider = adapter
        .get_user_by_provider_id("email:ada@example.com")
        .await
        .unwrap();
    assert_eq!(by_provider, Some(user));
    test.drop().await;
}

#[tokio::test]
async fn mongoose_user_without_password() {
    let Some((test, adapter)) = setup("mongoose_user_without_password").await else {
        return;
    };
    plant(
        &test,
        "users",
        doc! { "_id": "u1", "provider_id": "p1", "hashed_password": Bson::Null, "__v": 0_i32 },
    )
    .await;
    plant(&test, "users", doc! { "_id": "u2", "provider_id": "p2" }).await;
    assert_eq!(
        adapter
            .get_user("u1")
            .await
            .unwrap()
            .unwrap()
            .hashed_password,
        None
    );
    assert_eq!(
        adapter
            .get_user("u2")
            .await
            .unwrap()
            .unwrap()
            .hashed_password,
        None
    );
    test.drop().await;
}

#[tokio::test]
async fn mongoose_session_number_types() {
    let Some((test, adapter)) = setup("mongoose_session_number_types").await else {
        return;
    };
    plant(
        &test,
        "users",
        doc! { "_id": "u1", "provider_id": "p1", "__v": 0_i32 },
    )
    .await;
    // The Node.js driver stores integers beyond the int32 range as doubles.
    plant(&test, "sessions", doc! { "_id": "s_double", "user_id": "u1", "expires": 1_700_000_000_000.0, "idle_expires": 1_700_000_600_000.0, "__v": 0_i32 }).await;
    plant(
        &test,
        "sessions",
        doc! { "_id": "s_int32", "user_id": "u1", "expires": 100_i32, "idle_expires": 200_i32 },
    )
    .await;
    plant(&test, "sessions", doc! { "_id": "s_int64", "user_id": "u1", "expires": 1_700_000_000_000_i64, "idle_expires": 1_700_000_600_000_i64 }).await;

    let double = adapter.get_session("s_double").await.unwrap().unwrap();
    assert_eq!(
        double,
        Session::new("s_double", "u1", 1_700_000_000_000, 1_700_000_600_000)
    );
    let int32 = adapter.get_session("s_int32").await.unwrap().unwrap();
    assert_eq!(int32, Session::new("s_int32", "u1", 100, 200));
    let int64 = adapter.get_session("s_int64").await.unwrap().unwrap();
    assert_eq!(
        int64,
        Session::new("s_int64", "u1", 1_700_000_000_000, 1_700_000_600_000)
    );

    let (session, user) = adapter
        .get_session_and_user("s_double")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session, double);
    assert_eq!(user.id, "u1");
    assert!(user.attributes.is_empty());

    // Comparisons across number types: the double, int32 and int64
    // sessions are all dead at this time.
    let deleted = adapter
        .delete_expired_sessions(1_700_000_600_000)
        .await
        .unwrap();
    assert_eq!(deleted, 3);
    test.drop().await;
}

#[tokio::test]
async fn corrupt_sessions_named() {
    let Some((test, adapter)) = setup("corrupt_sessions_named").await else {
        return;
    };
    let cases = [
        (
            "fraction",
            doc! { "_id": "fraction", "user_id": "u", "expires": 1.5, "idle_expires": 2_i64 },
            "expires",
        ),
        (
            "too_big",
            doc! { "_id": "too_big", "user_id": "u", "expires": 1_i64, "idle_expires": 1e19 },
            "idle_expires",
        ),
        (
            "text",
            doc! { "_id": "text", "user_id": "u", "expires": "1", "idle_expires": 2_i64 },
            "expires",
        ),
        (
            "no_user",
            doc! { "_id": "no_user", "expires": 1_i64, "idle_expires": 2_i64 },
            "user_id",
        ),
        (
            "user_number",
            doc! { "_id": "user_number", "user_id": 7_i32, "expires": 1_i64, "idle_expires": 2_i64 },
            "user_id",
        ),
        (
            "no_idle",
            doc! { "_id": "no_idle", "user_id": "u", "expires": 1_i64 },
            "idle_expires",
        ),
    ];
    for (id, document, field) in cases {
        plant(&test, "sessions", document).await;
        let err = adapter.get_session(id).await.unwrap_err();
        assert_eq!(
            corrupt(err),
            ("sessions".to_owned(), id.to_owned(), field.to_owned()),
            "session {id}"
        );
    }

    let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
    plant(
        &test,
        "sessions",
        doc! { "_id": oid, "user_id": "owner", "expires": 1_i64, "idle_expires": 2_i64 },
    )
    .await;
    let err = adapter.get_sessions_by_user_id("owner").await.unwrap_err();
    let expected_id = r#"{"$oid":"65a1b2c3d4e5f60718293a4b"}"#.to_owned();
    assert_eq!(
        corrupt(err),
        ("sessions".to_owned(), expected_id, "_id".to_owned())
    );
    test.drop().await;
}

#[tokio::test]
async fn corrupt_users_named() {
    let Some((test, adapter)) = setup("corrupt_users_named").await else {
        return;
    };
    plant(&test, "users", doc! { "_id": "no_provider" }).await;
    plant(
        &test,
        "users",
        doc! { "_id": "bad_hash", "provider_id": "p1", "hashed_password": 5_i32 },
    )
    .await;
    plant(&test, "users", doc! { "_id": 42_i32, "provider_id": "p2" }).await;

    let err = adapter.get_user("no_provider").await.unwrap_err();
    assert_eq!(
        corrupt(err),
        (
            "users".to_owned(),
            "no_provider".to_owned(),
            "provider_id".to_owned()
        )
    );
    let err = adapter.get_user("bad_hash").await.unwrap_err();
    assert_eq!(
        corrupt(err),
        (
            "users".to_owned(),
            "bad_hash".to_owned(),
            "hashed_password".to_owned()
        )
    );
    let err = adapter.get_user_by_provider_id("p2").await.unwrap_err();
    assert_eq!(
        corrupt(err),
        ("users".to_owned(), "42".to_owned(), "_id".to_owned())
    );

    // A session whose user document is corrupt fails the joined read too.
    plant(
        &test,
        "sessions",
        doc! { "_id": "s1", "user_id": "no_provider", "expires": 1_i64, "idle_expires": 2_i64 },
    )
    .await;
    let err = adapter.get_session_and_user("s1").await.unwrap_err();
    assert_eq!(
        corrupt(err),
        (
            "users".to_owned(),
            "no_provider".to_owned(),
            "provider_id".to_owned()
        )
    );
    test.drop().await;
}

#[tokio::test]
async fn stored_types_exact() {
    let Some((test, adapter)) = setup("stored_types_exact").await else {
        return;
    };
    let user = NewUser::new("p1")
        .attribute("count", 3)
        .attribute("ratio", 3.0)
        .attribute(
            "nested",
            json!({"list": [1, 2.5, "x", null], "flag": false}),
        )
        .into_user("u1".into());
    adapter.set_user(user.clone()).await.unwrap();
    adapter
        .set_session(Session::new(
            "s1",
            "u1",
            1_700_000_000_000,
            1_700_000_600_000,
        ))
        .await
        .unwrap();

    let stored = raw(&test, "users", "u1").await;
    assert_eq!(stored.get("hashed_password"), Some(&Bson::Null));
    assert_eq!(stored.get("count"), Some(&Bson::Int64(3)));
    assert_eq!(stored.get("ratio"), Some(&Bson::Double(3.0)));
    let expected_nested = doc! { "list": [1_i64, 2.5, "x", Bson::Null], "flag": false };
    assert_eq!(stored.get_document("nested").unwrap(), &expected_nested);
    assert_eq!(adapter.get_user("u1").await.unwrap(), Some(user));

    let stored = raw(&test, "sessions", "s1").await;
    assert_eq!(
        stored,
        doc! { "_id": "s1", "user_id": "u1", "expires": 1_700_000_000_000_i64, "idle_expires": 1_700_000_600_000_i64 }
    );

    // A patch sets keys one by one and keeps the rest.
    let patched = adapter
        .update_user(
            "u1",
            UserPatch::new()
                .attribute("count", json!(null))
                .hashed_password("h"),
        )
        .await
        .unwrap();
    assert_eq!(patched.attributes["count"], json!(null));
    assert_eq!(patched.attributes["ratio"], json!(3.0));
    let stored = raw(&test, "users", "u1").await;
    assert_eq!(stored.get("count"), Some(&Bson::Null));
    assert_eq!(
        stored.get("hashed_password"),
        Some(&Bson::String("h".into()))
    );
    test.drop().await;
}
