//! The records every backend is seeded with, derived from an index so that
//! each side of a comparison can name the same record without a lookup.

use adapter_api::{Attributes, Session, User, now_millis};
use serde_json::json;

/// Sessions each seeded user owns.
pub const SESSIONS_PER_USER: u64 = 4;

/// Id of user `index`.
pub fn user_id(index: u64) -> String {
    format!("user-{index:010}")
}

/// Provider id of user `index`.
pub fn provider_id(index: u64) -> String {
    format!("email:user-{index}@example.com")
}

/// Id of session `index`: 40 characters, the length of a Lucia session
/// token.
pub fn session_id(index: u64) -> String {
    format!("session-{index:032}")
}

/// A few attributes of typical size: a name, a number and a list.
pub fn attributes(index: u64) -> Attributes {
    let value = json!({
        "name": format!("User {index}"),
        "age": 20 + index % 60,
        "roles": ["reader", "writer"],
    });
    match value {
        serde_json::Value::Object(map) => map,
        _ => unreachable!("json! of an object literal is an object"),
    }
}

/// User `index` as seeded: with a password hash and attributes.
pub fn user(index: u64) -> User {
    User {
        id: user_id(index),
        provider_id: provider_id(index),
        hashed_password: Some(format!("$argon2id$v=19$m=19456,t=2,p=1$bench{index}")),
        attributes: attributes(index),
    }
}

/// Expiry times of seeded sessions, far enough ahead that no benchmark's
/// `delete_expired_sessions` reaches them.
#[derive(Debug, Clone, Copy)]
pub struct Expiry {
    /// `expires` of every seeded session.
    pub expires: i64,
    /// `idle_expires` of every seeded session.
    pub idle_expires: i64,
}

impl Expiry {
    /// Thirty days from now, idle period of thirty more days.
    pub fn ahead() -> Expiry {
        let now = now_millis();
        Expiry {
            expires: now + 30 * 86_400_000,
            idle_expires: now + 60 * 86_400_000,
        }
    }
}

/// Session `index` as seeded: owned by user `index / SESSIONS_PER_USER`.
pub fn session(index: u64, expiry: Expiry) -> Session {
    Session {
        id: session_id(index),
        user_id: user_id(index / SESSIONS_PER_USER),
        expires: expiry.expires,
        idle_expires: expiry.idle_expires,
    }
}

/// `idle_expires` of the sessions that `delete_expired_sessions` call
/// `index` is meant to remove. It lies in 1970, below every seeded session,
/// and grows with the index, so call `index` with `now = due_time(index)`
/// removes exactly the sessions planted for it.
pub fn due_time(index: u64) -> i64 {
    index as i64
}

/// Spreads consecutive indices over `0..count`, so that lookups do not walk
/// the store in insertion order.
pub fn scatter(index: u64, count: u64) -> u64 {
    index.wrapping_mul(0x9e37_79b9_7f4a_7c15) % count
}

/// Id of the `k`-th session planted for call `index`, in a namespace of its
/// own so that it never collides with seeded or freshly created sessions.
pub fn planted_session_id(index: u64, k: u64) -> String {
    format!("planted-{index:030}-{k}")
}

/// The range (lower bound inclusive, upper exclusive) of the user ids that
/// benchmark calls create. Seeded users sort below it because their
/// zero-padded indices start with a zero.
pub fn fresh_user_ids() -> (String, &'static str) {
    (user_id(crate::measure::FIRST_CALL_INDEX), "user.")
}

/// The range of session ids that benchmark calls created, as
/// [`fresh_user_ids`] does for users.
pub fn fresh_session_ids() -> (String, &'static str) {
    (session_id(crate::measure::FIRST_CALL_INDEX), "session.")
}

/// The range of every id that [`planted_session_id`] returns.
pub const PLANTED_SESSION_IDS: (&str, &str) = ("planted-", "planted.");

/// Returns whether a user id lies in [`fresh_user_ids`].
pub fn is_fresh_user(id: &str) -> bool {
    let (low, high) = fresh_user_ids();
    id >= low.as_str() && id < high
}

/// Returns whether a session id is fresh or planted, not seeded.
pub fn is_fresh_session(id: &str) -> bool {
    let (low, high) = fresh_session_ids();
    (id >= low.as_str() && id < high) || (id >= PLANTED_SESSION_IDS.0 && id < PLANTED_SESSION_IDS.1)
}
