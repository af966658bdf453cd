//! Property tests that decoding a BSON document as a user or a session
//! returns a record or `Error::CorruptRecord` and does not panic.
//!
//! The documents mix the field names the adapter reads with arbitrary ones,
//! and values of every BSON type, including NaN and infinite doubles,
//! dates far outside the years 0 to 9999, arbitrary decimal bit patterns and
//! nested documents and arrays. A failure prints the smallest document
//! that proptest found for it.

use adapter_api::Error;
use bson::oid::ObjectId;
use bson::spec::BinarySubtype;
use bson::{
    Binary, Bson, DateTime, Decimal128, Document, JavaScriptCodeWithScope, Regex, Timestamp,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use serde_json::json;

use crate::document::{
    EXPIRES, HASHED_PASSWORD, ID, IDLE_EXPIRES, IDLE_EXPIRES_AT, MONGOOSE_VERSION, PROVIDER_ID,
    USER_ID, session_from_document, user_from_document,
};

const USERS: &str = "users";
const SESSIONS: &str = "sessions";

/// Field names that the decoders read or skip, drawn often so that most
/// documents reach past the first check.
const KNOWN_FIELDS: [&str; 8] = [
    ID,
    PROVIDER_ID,
    HASHED_PASSWORD,
    USER_ID,
    EXPIRES,
    IDLE_EXPIRES,
    IDLE_EXPIRES_AT,
    MONGOOSE_VERSION,
];

/// Doubles at the edges of what a session time accepts, besides the
/// arbitrary ones.
fn edge_double() -> impl Strategy<Value = f64> {
    prop_oneof![
        Just(f64::NAN),
        Just(-f64::NAN),
        Just(f64::INFINITY),
        Just(f64::NEG_INFINITY),
        Just(-0.0),
        Just(f64::MIN_POSITIVE / 2.0),
        Just(f64::MAX),
        // 2^63 is one past i64::MAX, -2^63 is exactly i64::MIN.
        Just(9_223_372_036_854_775_808.0),
        Just(-9_223_372_036_854_775_808.0),
        Just(1.5),
        any::<f64>(),
    ]
}

fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => proptest::sample::select(&KNOWN_FIELDS[..]).prop_map(str::to_owned),
        1 => any::<String>(),
        1 => "[a-z$._]{0,6}",
    ]
}

/// Returns a strategy for BSON values of every type that holds no other
/// values.
fn leaf() -> impl Strategy<Value = Bson> {
    prop_oneof![
        edge_double().prop_map(Bson::Double),
        any::<i32>().prop_map(Bson::Int32),
        any::<i64>().prop_map(Bson::Int64),
        any::<String>().prop_map(Bson::String),
        any::<bool>().prop_map(Bson::Boolean),
        Just(Bson::Null),
        Just(Bson::Undefined),
        Just(Bson::MaxKey),
        Just(Bson::MinKey),
        any::<i64>().prop_map(|millis| Bson::DateTime(DateTime::from_millis(millis))),
        any::<[u8; 12]>().prop_map(|bytes| Bson::ObjectId(ObjectId::from_bytes(bytes))),
        any::<[u8; 16]>().prop_map(|bytes| Bson::Decimal128(Decimal128::from_bytes(bytes))),
        (any::<u8>(), proptest::collection::vec(any::<u8>(), 0..24)).prop_map(
            |(subtype, bytes)| Bson::Binary(Binary {
                subtype: BinarySubtype::from(subtype),
                bytes,
            })
        ),
        (any::<u32>(), any::<u32>())
            .prop_map(|(time, increment)| Bson::Timestamp(Timestamp { time, increment })),
        (any::<String>(), any::<String>())
            .prop_map(|(pattern, options)| Bson::RegularExpression(Regex { pattern, options })),
        any::<String>().prop_map(Bson::JavaScriptCode),
        any::<String>().prop_map(Bson::Symbol),
        (any::<String>(), any::<[u8; 12]>()).prop_map(|(namespace, id)| db_pointer(namespace, id)),
    ]
}

/// Builds a DBPointer, which bson 2.15 constructs only from Extended JSON.
fn db_pointer(namespace: String, id: [u8; 12]) -> Bson {
    let hex = ObjectId::from_bytes(id).to_hex();
    let extended = json!({"$dbPointer": {"$ref": namespace, "$id": {"$oid": hex}}});
    Bson::try_from(extended).expect("a DBPointer in canonical Extended JSON")
}

fn value() -> impl Strategy<Value = Bson> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..6).prop_map(Bson::Array),
            proptest::collection::vec((field_name(), inner.clone()), 0..6)
                .prop_map(|fields| Bson::Document(fields.into_iter().collect())),
            (
                any::<String>(),
                proptest::collection::vec((field_name(), inner), 0..4)
            )
                .prop_map(|(code, scope)| Bson::JavaScriptCodeWithScope(
                    JavaScriptCodeWithScope {
                        code,
                        scope: scope.into_iter().collect(),
                    }
                )),
        ]
    })
}

/// Returns a strategy for documents of arbitrary fields. Half of them start
/// from valid required fields, so that decoding also reaches the
/// attributes and times.
fn document() -> impl Strategy<Value = Document> {
    let fields = proptest::collection::vec((field_name(), value()), 0..10);
    (any::<bool>(), fields).prop_map(|(valid_start, fields)| {
        let mut document = Document::new();
        if valid_start {
            document.insert(ID, "id");
            document.insert(PROVIDER_ID, "provider");
            document.insert(USER_ID, "user");
            document.insert(EXPIRES, 1_i64);
            document.insert(IDLE_EXPIRES, 2_i64);
        }
        for (name, value) in fields {
            document.insert(name, value);
        }
        document
    })
}

/// Checks a corrupt-record error: it names the collection and one of the
/// fields the decoder reads, and it renders without panicking.
fn check_corrupt(err: &Error, collection: &str, fields: &[&str]) -> Result<(), TestCaseError> {
    let Error::CorruptRecord {
        collection: named,
        field,
        ..
    } = err
    else {
        return Err(TestCaseError::fail(format!(
            "expected Ok or CorruptRecord, got {err:?}"
        )));
    };
    prop_assert_eq!(named, collection);
    prop_assert!(fields.contains(&field.as_str()), "field {field:?}");
    let _ = err.to_string();
    let _ = format!("{err:?}");
    Ok(())
}

/// Returns the milliseconds a session time field stores, for the types the
/// decoder accepts.
fn stored_millis(value: Option<&Bson>) -> Option<f64> {
    match value? {
        Bson::Int32(millis) => Some(f64::from(*millis)),
        Bson::Int64(millis) => Some(*millis as f64),
        Bson::Double(millis) => Some(*millis),
        _ => None,
    }
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 256,
        ..ProptestConfig::default()
    })]

    #[test]
    fn any_document_decodes_as_user_or_corrupt(document in document()) {
        match user_from_document(USERS, document.clone()) {
            Ok(user) => {
                prop_assert_eq!(document.get(ID), Some(&Bson::String(user.id.clone())));
                prop_assert_eq!(
                    document.get(PROVIDER_ID),
                    Some(&Bson::String(user.provider_id.clone()))
                );
                for reserved in [ID, PROVIDER_ID, HASHED_PASSWORD, MONGOOSE_VERSION] {
                    prop_assert!(!user.attributes.contains_key(reserved), "{reserved}");
                }
                let attributes = document
                    .keys()
                    .filter(|key| ![ID, PROVIDER_ID, HASHED_PASSWORD, MONGOOSE_VERSION].contains(&key.as_str()))
                    .count();
                prop_assert_eq!(user.attributes.len(), attributes);
                // Attributes must be plain JSON: serializing them is what
                // an application does next.
                prop_assert!(serde_json::to_string(&user.attributes).is_ok());
                let _ = format!("{user:?}");
            }
            Err(err) => check_corrupt(&err, USERS, &[ID, PROVIDER_ID, HASHED_PASSWORD])?,
        }
    }

    #[test]
    fn any_document_decodes_as_session_or_corrupt(document in document()) {
        match session_from_document(SESSIONS, &document) {
            Ok(session) => {
                prop_assert_eq!(document.get(ID), Some(&Bson::String(session.id.clone())));
                prop_assert_eq!(
                    document.get(USER_ID),
                    Some(&Bson::String(session.user_id.clone()))
                );
                prop_assert_eq!(stored_millis(document.get(EXPIRES)), Some(session.expires as f64));
                prop_assert_eq!(
                    stored_millis(document.get(IDLE_EXPIRES)),
                    Some(session.idle_expires as f64)
                );
                let _ = format!("{session:?}");
            }
            Err(err) => check_corrupt(&err, SESSIONS, &[ID, USER_ID, EXPIRES, IDLE_EXPIRES])?,
        }
    }
}
