//! Input rules shared by every backend.
//!
//! Each backend calls these before it writes, so the same bad input gets the
//! same [`Error::InvalidInput`] everywhere and nothing is stored.

use serde_json::Value;

use crate::error::{Error, Result};
use crate::record::{Attributes, Session, User, UserPatch};

/// Maximum length of a user id, session id or provider id, in characters
/// (Unicode scalar values). Every backend stores ids up to this length;
/// longer ones are rejected everywhere, so that an id valid on one backend is
/// valid on all (MySQL indexes `VARCHAR(255)` columns, for one).
pub const MAX_ID_CHARS: usize = 255;

/// Maximum nesting of objects and arrays inside attributes. MongoDB rejects
/// documents nested deeper than 100 levels, so the limit stays well below it
/// and applies on every backend.
pub const MAX_ATTRIBUTE_DEPTH: usize = 64;

/// Attribute keys that name a record field in some backend.
///
/// `__v` is the version key that Mongoose writes and the MongoDB adapter
/// skips on read, so it could not round-trip as an attribute.
pub const RESERVED_ATTRIBUTE_KEYS: [&str; 5] =
    ["id", "_id", "provider_id", "hashed_password", "__v"];

/// Checks an id or provider id: non-empty, at most [`MAX_ID_CHARS`]
/// characters, no NUL character.
pub fn id(field: &str, value: &str) -> Result<()> {
    if value.is_empty() {
        return Err(Error::invalid_input(field, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > MAX_ID_CHARS {
        return Err(Error::invalid_input(
            field,
            format!("is {chars} characters long, the maximum is {MAX_ID_CHARS}"),
        ));
    }
    if value.contains('\0') {
        return Err(Error::invalid_input(
            field,
            "must not contain a NUL character",
        ));
    }
    Ok(())
}

/// Checks a password hash: any string without a NUL character, because
/// PostgreSQL text cannot store NUL.
pub fn hashed_password(value: Option<&str>) -> Result<()> {
    match value {
        Some(hash) if hash.contains('\0') => Err(Error::invalid_input(
            "hashed_password",
            "must not contain a NUL character",
        )),
        _ => Ok(()),
    }
}

/// Checks attributes: no reserved top-level key, and at every depth no key
/// that is empty, starts with `$` or contains `.` or NUL; no string with a NUL
/// character; no integer outside the `i64` range; nesting at most
/// [`MAX_ATTRIBUTE_DEPTH`].
///
/// MongoDB treats `$` and `.` in field names as operators and paths, so the
/// rule holds on every backend to keep data portable between them.
pub fn attributes(attributes: &Attributes) -> Result<()> {
    for (key, value) in attributes {
        if RESERVED_ATTRIBUTE_KEYS.contains(&key.as_str()) {
            return Err(Error::invalid_input(
                format!("attributes.{key}"),
                "is a reserved key",
            ));
        }
        attribute_key(key, "attributes")?;
        attribute_value(&format!("attributes.{key}"), value, 1)?;
    }
    Ok(())
}

fn attribute_key(key: &str, parent: &str) -> Result<()> {
    let reason = if key.is_empty() {
        "key must not be empty"
    } else if key.starts_with('$') {
        "key must not start with '$'"
    } else if key.contains('.') {
        "key must not contain '.'"
    } else if key.contains('\0') {
        "key must not contain a NUL character"
    } else {
        return Ok(());
    };
    Err(Error::invalid_input(format!("{parent}.{key}"), reason))
}

fn attribute_value(path: &str, value: &Value, depth: usize) -> Result<()> {
    match value {
        Value::Null | Value::Bool(_) => Ok(()),
        Value::Number(number) => {
            if number.is_u64() && number.as_i64().is_none() {
                return Err(Error::invalid_input(
                    path,
                    format!("integer {number} is outside the 64-bit signed range"),
                ));
            }
            Ok(())
        }
        Value::String(text) if text.contains('\0') => Err(Error::invalid_input(
            path,
            "string must not contain a NUL character",
        )),
        Value::String(_) => Ok(()),
        Value::Array(items) => {
            check_depth(path, depth)?;
            for (index, item) in items.iter().enumerate() {
                attribute_value(&format!("{path}[{index}]"), item, depth + 1)?;
            }
            Ok(())
        }
        Value::Object(fields) => {
            check_depth(path, depth)?;
            for (key, item) in fields {
                attribute_key(key, path)?;
                attribute_value(&format!("{path}.{key}"), item, depth + 1)?;
            }
            Ok(())
        }
    }
}

fn check_depth(path: &str, depth: usize) -> Result<()> {
    if depth > MAX_ATTRIBUTE_DEPTH {
        return Err(Error::invalid_input(
            path,
            format!("nesting is deeper than {MAX_ATTRIBUTE_DEPTH} levels"),
        ));
    }
    Ok(())
}

/// Checks a whole user before it is created.
pub fn user(user: &User) -> Result<()> {
    id("id", &user.id)?;
    id("provider_id", &user.provider_id)?;
    hashed_password(user.hashed_password.as_deref())?;
    attributes(&user.attributes)
}

/// Checks a patch before it is applied.
pub fn user_patch(patch: &UserPatch) -> Result<()> {
    if let Some(provider_id) = &patch.provider_id {
        id("provider_id", provider_id)?;
    }
    if let Some(hash) = &patch.hashed_password {
        hashed_password(hash.as_deref())?;
    }
    attributes(&patch.attributes)
}

/// Checks a session before it is created.
pub fn session(session: &Session) -> Result<()> {
    id("id", &session.id)?;
    id("user_id", &session.user_id)?;
    expiry(session.expires, session.idle_expires)
}

/// Checks that the idle period does not end before the active one.
pub fn expiry(expires: i64, idle_expires: i64) -> Result<()> {
    if idle_expires < expires {
        return Err(Error::invalid_input(
            "idle_expires",
            format!("{idle_expires} is earlier than expires {expires}"),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn field_of(result: Result<()>) -> String {
        match result {
            Err(Error::InvalidInput { field, .. }) => field,
            other => panic!("expected InvalidInput, got {other:?}"),
        }
    }

    #[test]
    fn id_limits() {
        assert!(id("id", &"é".repeat(MAX_ID_CHARS)).is_ok());
        assert_eq!(field_of(id("id", &"a".repeat(MAX_ID_CHARS + 1))), "id");
        assert_eq!(field_of(id("id", "")), "id");
        assert_eq!(field_of(id("id", "a\0b")), "id");
    }

    #[test]
    fn nested_unsafe_key_names_path() {
        let attrs = json!({"profile": {"links": [{"$ref": 1}]}});
        let attrs = attrs.as_object().unwrap();
        assert_eq!(
            field_of(attributes(attrs)),
            "attributes.profile.links[0].$ref"
        );
    }

    #[test]
    fn reserved_key_only_at_top_level() {
        let nested = json!({"profile": {"id": 7}});
        assert!(attributes(nested.as_object().unwrap()).is_ok());
        let top = json!({"_id": 7});
        assert_eq!(
            field_of(attributes(top.as_object().unwrap())),
            "attributes._id"
        );
    }

    #[test]
    fn large_unsigned_rejected() {
        let attrs = json!({"n": u64::MAX});
        assert_eq!(
            field_of(attributes(attrs.as_object().unwrap())),
            "attributes.n"
        );
        let ok = json!({"n": i64::MIN, "m": i64::MAX, "f": 1.5});
        assert!(attributes(ok.as_object().unwrap()).is_ok());
    }

    #[test]
    fn depth_limit() {
        let mut value = json!(1);
        for _ in 0..MAX_ATTRIBUTE_DEPTH {
            value = json!([value]);
        }
        let ok = json!({ "deep": value.clone() });
        assert!(attributes(ok.as_object().unwrap()).is_ok());
        let too_deep = json!({ "deep": [value] });
        assert!(attributes(too_deep.as_object().unwrap()).is_err());
    }

    #[test]
    fn idle_before_active_rejected() {
        assert_eq!(field_of(expiry(10, 9)), "idle_expires");
        assert!(expiry(10, 10).is_ok());
    }
}
