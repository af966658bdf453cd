//! The one error type every adapter returns, and the hook that lets an
//! application replace backend errors with its own.

use std::error::Error as StdError;
use std::fmt;
use std::sync::Arc;

use crate::redact::{Redacted, RedactedProviderId};

/// A boxed error that can cross threads, used for backend causes and for
/// errors an application substitutes through an [`ErrorHook`].
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Result alias used by every adapter operation.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Every failure an adapter can report.
///
/// The known variants mean the same situation on every backend, so callers
/// can match on them without knowing which database is behind the adapter.
/// Anything else is [`Error::Backend`], which keeps the driver's error as its
/// source.
///
/// Neither `Display` nor `Debug` prints a provider id past its sign-in
/// method or a session id of 16 characters or more past its first four, so
/// an error can be logged as it is. The values stay available in the fields
/// for callers that need them.
#[derive(thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Creating or updating a user to a provider id that another user has.
    #[error("provider id is already used by another user")]
    DuplicateProviderId {
        /// The provider id that collided.
        provider_id: String,
    },

    /// Creating a user with an id that already exists.
    #[error("user id {user_id:?} already exists")]
    DuplicateUserId {
        /// The user id that collided.
        user_id: String,
    },

    /// Creating a session with an id that already exists.
    #[error("session id {} already exists", Redacted(session_id))]
    DuplicateSessionId {
        /// The session id that collided.
        session_id: String,
    },

    /// Updating a user that does not exist, or creating a session for a user
    /// that does not exist where users are visible.
    #[error("user {user_id:?} does not exist")]
    InvalidUserId {
        /// The user id that was not found.
        user_id: String,
    },

    /// Renewing a session that does not exist.
    #[error("session {} does not exist", Redacted(session_id))]
    InvalidSessionId {
        /// The session id that was not found.
        session_id: String,
    },

    /// A write whose input breaks a rule of the contract. Nothing was stored.
    #[error("invalid {field}: {reason}")]
    InvalidInput {
        /// The input field at fault, such as `attributes.$where` or `idle_expires`.
        field: String,
        /// Why the value was rejected.
        reason: String,
    },

    /// A stored record that cannot be read as a user or a session.
    #[error(
        "corrupt record {} in {collection}: field {field:?} {reason}",
        Redacted(record_id)
    )]
    CorruptRecord {
        /// The collection or table the record was read from.
        collection: String,
        /// The record's id as stored, rendered as text (a non-string id is
        /// shown in its JSON form). `Display` and `Debug` show only the first
        /// four characters of an id of 16 characters or more, because a
        /// session id is a bearer token; this field keeps it whole.
        record_id: String,
        /// The field that could not be read.
        field: String,
        /// What is wrong with the field.
        reason: String,
    },

    /// Any other failure of the database or driver.
    #[error(transparent)]
    Backend(#[from] BackendError),

    /// An error the application's [`ErrorHook`] returned in place of a
    /// backend error.
    #[error(transparent)]
    Application(BoxError),
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::DuplicateProviderId { provider_id } => f
                .debug_struct("DuplicateProviderId")
                .field("provider_id", &RedactedProviderId(provider_id))
                .finish(),
            Error::DuplicateUserId { user_id } => f
                .debug_struct("DuplicateUserId")
                .field("user_id", user_id)
                .finish(),
            Error::DuplicateSessionId { session_id } => f
                .debug_struct("DuplicateSessionId")
                .field("session_id", &Redacted(session_id))
                .finish(),
            Error::InvalidUserId { user_id } => f
                .debug_struct("InvalidUserId")
                .field("user_id", user_id)
                .finish(),
            Error::InvalidSessionId { session_id } => f
                .debug_struct("InvalidSessionId")
                .field("session_id", &Redacted(session_id))
                .finish(),
            Error::InvalidInput { field, reason } => f
                .debug_struct("InvalidInput")
                .field("field", field)
                .field("reason", reason)
                .finish(),
            Error::CorruptRecord {
                collection,
                record_id,
                field,
                reason,
            } => f
                .debug_struct("CorruptRecord")
                .field("collection", collection)
                .field("record_id", &Redacted(record_id))
                .field("field", field)
                .field("reason", reason)
                .finish(),
            Error::Backend(err) => f.debug_tuple("Backend").field(err).finish(),
            Error::Application(err) => f.debug_tuple("Application").field(err).finish(),
        }
    }
}

impl Error {
    /// Builds [`Error::InvalidInput`].
    pub fn invalid_input(field: impl Into<String>, reason: impl Into<String>) -> Self {
        Error::InvalidInput {
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Builds [`Error::CorruptRecord`].
    pub fn corrupt_record(
        collection: impl Into<String>,
        record_id: impl Into<String>,
        field: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Error::CorruptRecord {
            collection: collection.into(),
            record_id: record_id.into(),
            field: field.into(),
            reason: reason.into(),
        }
    }

    /// Returns whether retrying the same operation may succeed: true only for
    /// backend errors that the backend marked as transient (timeouts, lost
    /// connections, primary step-downs).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::Backend(backend) if backend.retryable)
    }
}

/// A database or driver failure that is none of the contract's known
/// situations.
///
/// The original error stays available through [`std::error::Error::source`],
/// so callers can downcast it to the driver's own type.
#[derive(Debug, thiserror::Error)]
#[error("{backend} backend error during {operation} (retryable: {retryable})")]
pub struct BackendError {
    /// Short name of the backend, such as `mongodb`, `postgres` or `sqlite`.
    pub backend: &'static str,
    /// The adapter operation that failed, such as `get_user`.
    pub operation: &'static str,
    /// Whether retrying may help: the backend saw a timeout, a lost
    /// connection or a transient server state.
    pub retryable: bool,
    /// The driver's error, unchanged.
    #[source]
    pub source: BoxError,
}

impl BackendError {
    /// Wraps a driver error.
    pub fn new(
        backend: &'static str,
        operation: &'static str,
        retryable: bool,
        source: impl Into<BoxError>,
    ) -> Self {
        BackendError {
            backend,
            operation,
            retryable,
            source: source.into(),
        }
    }
}

type HookFn = dyn Fn(&BackendError) -> Option<BoxError> + Send + Sync;

/// Callback that every backend constructor accepts, called with each backend
/// error before the adapter returns it.
///
/// Returning `Some(error)` replaces the backend error: the caller then gets
/// [`Error::Application`] holding it. Returning `None` keeps the
/// [`Error::Backend`]. Known errors (duplicates, invalid ids, invalid input,
/// corrupt records) never reach the hook.
///
/// ```
/// use adapter_api::{BackendError, Error, ErrorHook};
///
/// #[derive(Debug, thiserror::Error)]
/// #[error("storage unavailable, retry later")]
/// struct Unavailable;
///
/// let hook = ErrorHook::new(|err: &BackendError| {
///     err.retryable.then(|| Box::new(Unavailable) as _)
/// });
/// let err = hook.apply(BackendError::new("memory", "get_user", true, "timed out"));
/// assert!(matches!(err, Error::Application(_)));
/// ```
#[derive(Clone)]
pub struct ErrorHook(Arc<HookFn>);

impl ErrorHook {
    /// Wraps a callback.
    pub fn new(hook: impl Fn(&BackendError) -> Option<BoxError> + Send + Sync + 'static) -> Self {
        ErrorHook(Arc::new(hook))
    }

    /// Runs the callback on `err` and returns what the caller should get.
    pub fn apply(&self, err: BackendError) -> Error {
        match (self.0)(&err) {
            Some(replacement) => Error::Application(replacement),
            None => Error::Backend(err),
        }
    }
}

impl fmt::Debug for ErrorHook {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ErrorHook(..)")
    }
}

/// Converts a backend error through an optional hook. Backends call this at
/// the one place where they turn driver errors into [`Error`].
pub fn apply_hook(hook: Option<&ErrorHook>, err: BackendError) -> Error {
    match hook {
        Some(hook) => hook.apply(err),
        None => Error::Backend(err),
    }
}
