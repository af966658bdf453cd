//! Adapter options: collection names, error hook and the TTL date field.

use adapter_api::ErrorHook;

/// Default user collection: what Mongoose creates for a model named `user`.
pub const DEFAULT_USERS_COLLECTION: &str = "users";
/// Default session collection: what Mongoose creates for a model named
/// `session`.
pub const DEFAULT_SESSIONS_COLLECTION: &str = "sessions";

/// Options of every adapter type in this crate.
///
/// ```
/// use adapter_mongo::MongoOptions;
///
/// let options = MongoOptions::new()
///     .users_collection("auth_users")
///     .sessions_collection("auth_sessions")
///     .ttl_index(true);
/// assert_eq!(options.users_collection_name(), "auth_users");
/// ```
#[derive(Clone, Debug)]
pub struct MongoOptions {
    pub(crate) users_collection: String,
    pub(crate) sessions_collection: String,
    pub(crate) error_hook: Option<ErrorHook>,
    pub(crate) ttl_index: bool,
}

impl Default for MongoOptions {
    fn default() -> Self {
        MongoOptions {
            users_collection: DEFAULT_USERS_COLLECTION.to_owned(),
            sessions_collection: DEFAULT_SESSIONS_COLLECTION.to_owned(),
            error_hook: None,
            ttl_index: false,
        }
    }
}

impl MongoOptions {
    /// Default options: collections `users` and `sessions`, no error hook,
    /// no TTL index.
    pub fn new() -> Self {
        MongoOptions::default()
    }

    /// Sets the name of the user collection.
    pub fn users_collection(mut self, name: impl Into<String>) -> Self {
        self.users_collection = name.into();
        self
    }

    /// Sets the name of the session collection.
    pub fn sessions_collection(mut self, name: impl Into<String>) -> Self {
        self.sessions_collection = name.into();
        self
    }

    /// Sets the hook that receives every backend error before it is
    /// returned.
    pub fn error_hook(mut self, hook: ErrorHook) -> Self {
        self.error_hook = Some(hook);
        self
    }

    /// Turns the TTL index on or off.
    ///
    /// When on, every session write and renewal also stores
    /// `idle_expires_at`, a BSON date equal to `idle_expires`, and
    /// `ensure_indexes` creates a TTL index on it, so that MongoDB deletes
    /// dead sessions itself. When off, renewals remove that field, so a TTL
    /// index left from an earlier configuration never deletes a renewed
    /// session early.
    pub fn ttl_index(mut self, enabled: bool) -> Self {
        self.ttl_index = enabled;
        self
    }

    /// Returns the name of the user collection.
    pub fn users_collection_name(&self) -> &str {
        &self.users_collection
    }

    /// Returns the name of the session collection.
    pub fn sessions_collection_name(&self) -> &str {
        &self.sessions_collection
    }
}
