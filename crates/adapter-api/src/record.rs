//! User and session records, the inputs that create or change them, and the
//! session state at a given time.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::redact::{Redacted, RedactedProviderId};

/// Free attributes of a user: a JSON object whose keys are checked by
/// [`crate::validate::attributes`].
pub type Attributes = Map<String, Value>;

/// A stored user.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// Unique, non-empty id.
    pub id: String,
    /// How the user signs in, such as `email:ada@example.com` or
    /// `github:12345`. Unique across users and matched exactly.
    pub provider_id: String,
    /// Password hash, if the user signs in with a password.
    pub hashed_password: Option<String>,
    /// Every other field the application keeps on the user.
    pub attributes: Attributes,
}

impl fmt::Debug for User {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("User")
            .field("id", &self.id)
            .field("provider_id", &RedactedProviderId(&self.provider_id))
            .field(
                "hashed_password",
                &self.hashed_password.as_ref().map(|_| "<redacted>"),
            )
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// Input of [`crate::Storage::set_user`]: a user whose id may be left to the
/// configured id generator.
#[derive(Clone, Default, PartialEq)]
pub struct NewUser {
    /// Id to store, or `None` to generate one.
    pub id: Option<String>,
    /// See [`User::provider_id`].
    pub provider_id: String,
    /// See [`User::hashed_password`].
    pub hashed_password: Option<String>,
    /// See [`User::attributes`].
    pub attributes: Attributes,
}

impl NewUser {
    /// Starts a user with a provider id, no password and no attributes.
    pub fn new(provider_id: impl Into<String>) -> Self {
        NewUser {
            provider_id: provider_id.into(),
            ..NewUser::default()
        }
    }

    /// Sets the id instead of generating one.
    pub fn id(mut self, id: impl Into<String>) -> Self {
        self.id = Some(id.into());
        self
    }

    /// Sets the password hash.
    pub fn hashed_password(mut self, hash: impl Into<String>) -> Self {
        self.hashed_password = Some(hash.into());
        self
    }

    /// Sets one attribute.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Turns this input into the record to store, with `id` as its id.
    pub fn into_user(self, id: String) -> User {
        User {
            id,
            provider_id: self.provider_id,
            hashed_password: self.hashed_password,
            attributes: self.attributes,
        }
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("provider_id", &RedactedProviderId(&self.provider_id))
            .field(
                "hashed_password",
                &self.hashed_password.as_ref().map(|_| "<redacted>"),
            )
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// Changes to apply to a stored user. Fields left at their default keep
/// their stored value.
#[derive(Clone, Default, PartialEq)]
pub struct UserPatch {
    /// New provider id. Setting a user's own current provider id is allowed.
    pub provider_id: Option<String>,
    /// `Some(Some(hash))` sets the hash, `Some(None)` clears it, `None` keeps
    /// it.
    pub hashed_password: Option<Option<String>>,
    /// Attributes to set, key by key. A key set to `Value::Null` is stored as
    /// null; keys not named keep their stored value.
    pub attributes: Attributes,
}

impl UserPatch {
    /// An empty patch.
    pub fn new() -> Self {
        UserPatch::default()
    }

    /// Sets the provider id.
    pub fn provider_id(mut self, provider_id: impl Into<String>) -> Self {
        self.provider_id = Some(provider_id.into());
        self
    }

    /// Sets the password hash.
    pub fn hashed_password(mut self, hash: impl Into<String>) -> Self {
        self.hashed_password = Some(Some(hash.into()));
        self
    }

    /// Clears the password hash.
    pub fn clear_hashed_password(mut self) -> Self {
        self.hashed_password = Some(None);
        self
    }

    /// Sets one attribute.
    pub fn attribute(mut self, key: impl Into<String>, value: impl Into<Value>) -> Self {
        self.attributes.insert(key.into(), value.into());
        self
    }

    /// Returns whether the patch changes nothing.
    pub fn is_empty(&self) -> bool {
        self.provider_id.is_none() && self.hashed_password.is_none() && self.attributes.is_empty()
    }

    /// Applies the patch to a user in place. Backends that read, change and
    /// write back a whole record use this so that patch rules stay the same
    /// everywhere.
    pub fn apply_to(&self, user: &mut User) {
        if let Some(provider_id) = &self.provider_id {
            user.provider_id.clone_from(provider_id);
        }
        if let Some(hash) = &self.hashed_password {
            user.hashed_password.clone_from(hash);
        }
        for (key, value) in &self.attributes {
            user.attributes.insert(key.clone(), value.clone());
        }
    }
}

impl fmt::Debug for UserPatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserPatch")
            .field(
                "provider_id",
                &self.provider_id.as_deref().map(RedactedProviderId),
            )
            .field(
                "hashed_password",
                &self
                    .hashed_password
                    .as_ref()
                    .map(|hash| hash.as_ref().map(|_| "<redacted>")),
            )
            .field("attributes", &self.attributes)
            .finish()
    }
}

/// A stored session. Times are milliseconds since the Unix epoch.
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Session {
    /// Unique, non-empty id. It is the bearer token, so `Debug` shows only a
    /// prefix of long ids.
    pub id: String,
    /// Id of the user who owns the session.
    pub user_id: String,
    /// End of the active period, in milliseconds since the Unix epoch.
    pub expires: i64,
    /// End of the idle period, in milliseconds since the Unix epoch. Never
    /// earlier than `expires`.
    pub idle_expires: i64,
}

impl Session {
    /// Builds a session record.
    pub fn new(
        id: impl Into<String>,
        user_id: impl Into<String>,
        expires: i64,
        idle_expires: i64,
    ) -> Self {
        Session {
            id: id.into(),
            user_id: user_id.into(),
            expires,
            idle_expires,
        }
    }

    /// Returns the session's state at `now` (milliseconds since the Unix
    /// epoch).
    pub fn state(&self, now: i64) -> SessionState {
        if now < self.expires {
            SessionState::Active
        } else if now < self.idle_expires {
            SessionState::Idle
        } else {
            SessionState::Dead
        }
    }
}

impl fmt::Debug for Session {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Session")
            .field("id", &Redacted(&self.id))
            .field("user_id", &self.user_id)
            .field("expires", &self.expires)
            .field("idle_expires", &self.idle_expires)
            .finish()
    }
}

/// Where a session stands at a given time.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SessionState {
    /// `now < expires`: the session is valid.
    Active,
    /// `expires <= now < idle_expires`: the session may be renewed.
    Idle,
    /// `now >= idle_expires`: the session is over and may be deleted.
    Dead,
}

/// Returns the current time in milliseconds since the Unix epoch.
pub fn now_millis() -> i64 {
    let since_epoch = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_boundaries() {
        let session = Session::new("s", "u", 100, 200);
        assert_eq!(session.state(99), SessionState::Active);
        assert_eq!(session.state(100), SessionState::Idle);
        assert_eq!(session.state(199), SessionState::Idle);
        assert_eq!(session.state(200), SessionState::Dead);
    }

    #[test]
    fn debug_hides_secrets() {
        let user = NewUser::new("email:ada@example.com")
            .hashed_password("$argon2id$secret")
            .into_user("u1".into());
        let shown = format!("{user:?}");
        assert!(!shown.contains("ada@example.com"), "{shown}");
        assert!(!shown.contains("argon2id"), "{shown}");

        let session = Session::new("0123456789abcdefghijklmnop", "u1", 1, 2);
        let shown = format!("{session:?}");
        assert!(!shown.contains("0123456789abcdefghijklmnop"), "{shown}");
    }

    #[test]
    fn patch_apply_keeps_unnamed_keys() {
        let mut user = NewUser::new("p")
            .hashed_password("h")
            .attribute("a", 1)
            .attribute("b", 2)
            .into_user("u".into());
        UserPatch::new()
            .clear_hashed_password()
            .attribute("b", Value::Null)
            .apply_to(&mut user);
        assert_eq!(user.hashed_password, None);
        assert_eq!(user.attributes["a"], 1);
        assert_eq!(user.attributes["b"], Value::Null);
    }
}
