//! Mapping between records and stored documents.
//!
//! Users are stored as `{_id, provider_id, hashed_password, ...attributes}`
//! with the attributes flattened into the document, sessions as
//! `{_id, user_id, expires, idle_expires}`. Reading accepts what the Node.js
//! Mongoose adapter writes: numbers as double, int32 or int64, and a `__v`
//! version field, which is never an attribute.

use adapter_api::{Attributes, Error, Result, Session, User};
use bson::{Bson, DateTime, Document, doc};

use crate::json::{bson_to_json, json_to_bson};

/// Field of the document id.
pub(crate) const ID: &str = "_id";
/// Version field that Mongoose adds to every document it writes.
pub(crate) const MONGOOSE_VERSION: &str = "__v";
pub(crate) const PROVIDER_ID: &str = "provider_id";
pub(crate) const HASHED_PASSWORD: &str = "hashed_password";
pub(crate) const USER_ID: &str = "user_id";
pub(crate) const EXPIRES: &str = "expires";
pub(crate) const IDLE_EXPIRES: &str = "idle_expires";
/// Date copy of `idle_expires` that a TTL index needs, written only when
/// the TTL option is on.
pub(crate) const IDLE_EXPIRES_AT: &str = "idle_expires_at";

/// Largest double that converts to an `i64` without overflow is just below
/// 2^63, which is exactly representable as a double.
const I64_BOUND: f64 = 9_223_372_036_854_775_808.0;

/// Builds the document stored for a new user. A missing password hash is
/// stored as null, as the Mongoose adapter does.
pub(crate) fn user_to_document(user: &User) -> Document {
    let mut document = doc! {
        ID: &user.id,
        PROVIDER_ID: &user.provider_id,
        HASHED_PASSWORD: user.hashed_password.as_deref().map_or(Bson::Null, |hash| Bson::String(hash.to_owned())),
    };
    for (key, value) in &user.attributes {
        document.insert(key.clone(), json_to_bson(value));
    }
    document
}

/// Builds the document stored for a new session, with the TTL date field
/// when `with_date` is set.
pub(crate) fn session_to_document(session: &Session, with_date: bool) -> Document {
    let mut document = doc! {
        ID: &session.id,
        USER_ID: &session.user_id,
        EXPIRES: session.expires,
        IDLE_EXPIRES: session.idle_expires,
    };
    if with_date {
        document.insert(IDLE_EXPIRES_AT, DateTime::from_millis(session.idle_expires));
    }
    document
}

/// Reads a stored user document.
///
/// # Errors
/// [`Error::CorruptRecord`] naming `collection`, the record id and the
/// field, when the id is not a string, `provider_id` is missing or not a
/// string, or `hashed_password` is neither a string nor null.
pub(crate) fn user_from_document(collection: &str, mut document: Document) -> Result<User> {
    let id = document_id(collection, &document)?;
    let corrupt =
        |field: &str, reason: String| Error::corrupt_record(collection, id.clone(), field, reason);

    let provider_id = match document.remove(PROVIDER_ID) {
        Some(Bson::String(provider_id)) => provider_id,
        Some(other) => {
            return Err(corrupt(
                PROVIDER_ID,
                format!("is {}, expected a string", type_name(&other)),
            ));
        }
        None => return Err(corrupt(PROVIDER_ID, "is missing".to_owned())),
    };
    let hashed_password = match document.remove(HASHED_PASSWORD) {
        Some(Bson::String(hash)) => Some(hash),
        Some(Bson::Null) | None => None,
        Some(other) => {
            return Err(corrupt(
                HASHED_PASSWORD,
                format!("is {}, expected a string or null", type_name(&other)),
            ));
        }
    };

    let mut attributes = Attributes::new();
    for (key, value) in document {
        if key != ID && key != MONGOOSE_VERSION {
            attributes.insert(key, bson_to_json(&value));
        }
    }
    Ok(User {
        id,
        provider_id,
        hashed_password,
        attributes,
    })
}

/// Reads a stored session document. Fields other than the four of a
/// session (such as `__v` or the TTL date) are ignored.
///
/// # Errors
/// [`Error::CorruptRecord`] naming `collection`, the record id and the
/// field, when the id or `user_id` is not a string, or an expiry is missing
/// or not a whole number of milliseconds in the `i64` range.
pub(crate) fn session_from_document(collection: &str, document: &Document) -> Result<Session> {
    let id = document_id(collection, document)?;
    let corrupt =
        |field: &str, reason: String| Error::corrupt_record(collection, id.clone(), field, reason);

    let user_id = match document.get(USER_ID) {
        Some(Bson::String(user_id)) => user_id.clone(),
        Some(other) => {
            return Err(corrupt(
                USER_ID,
                format!("is {}, expected a string", type_name(other)),
            ));
        }
        None => return Err(corrupt(USER_ID, "is missing".to_owned())),
    };
    let expires = millis(document.get(EXPIRES)).map_err(|reason| corrupt(EXPIRES, reason))?;
    let idle_expires =
        millis(document.get(IDLE_EXPIRES)).map_err(|reason| corrupt(IDLE_EXPIRES, reason))?;
    Ok(Session {
        id,
        user_id,
        expires,
        idle_expires,
    })
}

/// Reads the string `_id` of a document. A corrupt record error needs an id
/// to name, so a non-string id is named by its relaxed Extended JSON form.
fn document_id(collection: &str, document: &Document) -> Result<String> {
    match document.get(ID) {
        Some(Bson::String(id)) => Ok(id.clone()),
        Some(other) => Err(Error::corrupt_record(
            collection,
            other.clone().into_relaxed_extjson().to_string(),
            ID,
            format!("is {}, expected a string", type_name(other)),
        )),
        None => Err(Error::corrupt_record(
            collection,
            "<none>",
            ID,
            "is missing",
        )),
    }
}

/// Reads a time in milliseconds stored as int32, int64 or a double that
/// is a whole number (the Node.js driver stores numbers beyond the int32
/// range as doubles).
fn millis(value: Option<&Bson>) -> Result<i64, String> {
    match value {
        Some(Bson::Int64(millis)) => Ok(*millis),
        Some(Bson::Int32(millis)) => Ok(i64::from(*millis)),
        Some(Bson::Double(millis)) => {
            if millis.fract() != 0.0 || !millis.is_finite() {
                Err(format!(
                    "is the double {millis}, expected a whole number of milliseconds"
                ))
            } else if *millis < -I64_BOUND || *millis >= I64_BOUND {
                Err(format!(
                    "is the double {millis}, outside the 64-bit integer range"
                ))
            } else {
                // Whole and in range, so the cast is exact.
                Ok(*millis as i64)
            }
        }
        Some(other) => Err(format!("is {}, expected a number", type_name(other))),
        None => Err("is missing".to_owned()),
    }
}

/// Names a BSON type as MongoDB's `$type` operator does.
fn type_name(value: &Bson) -> &'static str {
    match value {
        Bson::Double(_) => "a double",
        Bson::String(_) => "a string",
        Bson::Array(_) => "an array",
        Bson::Document(_) => "an object",
        Bson::Boolean(_) => "a bool",
        Bson::Null => "null",
        Bson::RegularExpression(_) => "a regex",
        Bson::JavaScriptCode(_) | Bson::JavaScriptCodeWithScope(_) => "javascript",
        Bson::Int32(_) => "an int",
        Bson::Int64(_) => "a long",
        Bson::Timestamp(_) => "a timestamp",
        Bson::Binary(_) => "binary data",
        Bson::ObjectId(_) => "an objectId",
        Bson::DateTime(_) => "a date",
        Bson::Symbol(_) => "a symbol",
        Bson::Decimal128(_) => "a decimal",
        Bson::Undefined => "undefined",
        Bson::MaxKey => "maxKey",
        Bson::MinKey => "minKey",
        Bson::DbPointer(_) => "a dbPointer",
    }
}

#[cfg(test)]
mod tests {
    use bson::oid::ObjectId;
    use serde_json::{Value, json};

    use super::*;

    fn corrupt_field(result: Result<impl std::fmt::Debug>) -> (String, String) {
        match result {
            Err(Error::CorruptRecord {
                record_id, field, ..
            }) => (record_id, field),
            other => panic!("expected CorruptRecord, got {other:?}"),
        }
    }

    #[test]
    fn user_round_trips() {
        let user = User {
            id: "u1".into(),
            provider_id: "email:ada@example.com".into(),
            hashed_password: None,
            attributes: json!({"n": 1, "f": 1.5, "list": [1, {"x": null}]})
                .as_object()
                .unwrap()
                .clone(),
        };
        let document = user_to_document(&user);
        assert_eq!(document.get("hashed_password"), Some(&Bson::Null));
        assert_eq!(document.get("n"), Some(&Bson::Int64(1)));
        assert_eq!(user_from_document("users", document).unwrap(), user);
    }

    #[test]
    fn mongoose_version_is_not_an_attribute() {
        let document = doc! {"_id": "u1", "provider_id": "p", "__v": 0, "age": 30};
        let user = user_from_document("users", document).unwrap();
        assert_eq!(user.hashed_password, None);
        assert_eq!(Value::Object(user.attributes), json!({"age": 30}));
    }

    #[test]
    fn session_accepts_every_number_type() {
        let document = doc! {"_id": "s", "user_id": "u", "expires": 1_700_000_000_000.0, "idle_expires": 5_i32};
        let session = session_from_document("sessions", &document).unwrap();
        assert_eq!(session.expires, 1_700_000_000_000);
        assert_eq!(session.idle_expires, 5);
    }

    #[test]
    fn session_rejects_bad_doubles() {
        for bad in [1.5, f64::NAN, f64::INFINITY, 1e19, -1e19] {
            let document = doc! {"_id": "s", "user_id": "u", "expires": bad, "idle_expires": 1_i64};
            let (id, field) = corrupt_field(session_from_document("sessions", &document));
            assert_eq!(id, "s");
            assert_eq!(field, "expires", "for {bad}");
        }
        let smallest =
            doc! {"_id": "s", "user_id": "u", "expires": -I64_BOUND, "idle_expires": 1_i64};
        assert_eq!(
            session_from_document("sessions", &smallest)
                .unwrap()
                .expires,
            i64::MIN
        );
    }

    #[test]
    fn non_string_id_is_named() {
        let oid = ObjectId::parse_str("65a1b2c3d4e5f60718293a4b").unwrap();
        let (id, field) = corrupt_field(user_from_document(
            "users",
            doc! {"_id": oid, "provider_id": "p"},
        ));
        assert_eq!(id, r#"{"$oid":"65a1b2c3d4e5f60718293a4b"}"#);
        assert_eq!(field, "_id");
    }

    #[test]
    fn missing_fields_are_named() {
        let (_, field) = corrupt_field(user_from_document("users", doc! {"_id": "u"}));
        assert_eq!(field, "provider_id");
        let (_, field) = corrupt_field(user_from_document(
            "users",
            doc! {"_id": "u", "provider_id": "p", "hashed_password": 1},
        ));
        assert_eq!(field, "hashed_password");
        let (_, field) = corrupt_field(session_from_document(
            "sessions",
            &doc! {"_id": "s", "expires": 1, "idle_expires": 1},
        ));
        assert_eq!(field, "user_id");
        let (_, field) = corrupt_field(session_from_document(
            "sessions",
            &doc! {"_id": "s", "user_id": "u", "expires": 1},
        ));
        assert_eq!(field, "idle_expires");
        let (_, field) = corrupt_field(session_from_document(
            "sessions",
            &doc! {"_id": "s", "user_id": "u", "expires": "1", "idle_expires": 1},
        ));
        assert_eq!(field, "expires");
    }
}
