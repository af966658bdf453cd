//! The one place where driver errors become [`adapter_api::Error`].

use crate::insert::InsertFailure;
use adapter_api::{BackendError, Error, ErrorHook, apply_hook};
use bson::{Document, RawDocument};
use mongodb::error::{ErrorKind, RETRYABLE_WRITE_ERROR, TRANSIENT_TRANSACTION_ERROR, WriteFailure};

/// Name of this backend in [`BackendError::backend`].
pub(crate) const BACKEND: &str = "mongodb";

/// Server error code of a unique index violation.
pub(crate) const DUPLICATE_KEY: i32 = 11000;

/// Label that driver 3.9 adds to errors it may retry after server overload.
const RETRYABLE_ERROR: &str = "RetryableError";

/// Errors to return for a duplicate key, one per key that a write can
/// collide on. A key left at `None` makes its duplicate a backend error.
#[derive(Default)]
pub(crate) struct Duplicates {
    pub(crate) id: Option<Error>,
    pub(crate) provider_id: Option<Error>,
}

/// Turns driver errors into adapter errors, passing unknown ones through the
/// application's error hook.
#[derive(Clone, Debug, Default)]
pub(crate) struct ErrorMapper {
    pub(crate) hook: Option<ErrorHook>,
}

impl ErrorMapper {
    /// Converts an error whose duplicates, if any, are backend errors: the
    /// error of a read, or of a write on no unique key of the contract.
    pub(crate) fn backend(&self, operation: &'static str, err: mongodb::error::Error) -> Error {
        let retryable = is_retryable(&err);
        // The driver's message can quote stored values (a duplicate key on an
        // application's own index shows the key), so only the kind is logged.
        tracing::debug!(operation, retryable, "mongodb operation failed");
        apply_hook(
            self.hook.as_ref(),
            BackendError::new(BACKEND, operation, retryable, err),
        )
    }

    /// Converts an error of a write: a duplicate key on a field named in
    /// `duplicates` becomes that field's error, anything else a backend
    /// error.
    pub(crate) fn write(
        &self,
        operation: &'static str,
        err: mongodb::error::Error,
        duplicates: Duplicates,
    ) -> Error {
        let failure = InsertFailure {
            error: err,
            key_pattern: None,
        };
        self.insert(operation, failure, duplicates)
    }

    /// Converts a failed insert as [`write`](Self::write) does, using the key
    /// pattern that [`insert_one`](crate::insert::insert_one) found when the
    /// driver's error lacks it.
    pub(crate) fn insert(
        &self,
        operation: &'static str,
        failure: InsertFailure,
        duplicates: Duplicates,
    ) -> Error {
        let InsertFailure { error, key_pattern } = failure;
        let collided = match key_pattern {
            Some(pattern) if is_duplicate_key(&error) => Some(classify_key_pattern(&pattern)),
            _ => collided_key(&error),
        };
        let known = match collided {
            Some(Key::Id) => duplicates.id,
            Some(Key::ProviderId) => duplicates.provider_id,
            Some(Key::Other) | None => None,
        };
        known.unwrap_or_else(|| self.backend(operation, error))
    }
}

/// The key of a unique index that a write collided on.
#[derive(Debug, PartialEq, Eq)]
enum Key {
    Id,
    ProviderId,
    Other,
}

/// Returns which key a duplicate key error collided on, or `None` for any
/// other error.
///
/// The key comes from the `keyPattern` that the server sends with the
/// error, or from its `keyValue` when the pattern is missing. So the index
/// name does not matter, and an application may have created its own unique
/// index on `provider_id` under any name.
fn collided_key(err: &mongodb::error::Error) -> Option<Key> {
    if !is_duplicate_key(err) {
        return None;
    }
    let pattern = err
        .server_response()
        .and_then(|response| key_document(response));
    Some(match pattern {
        Some(pattern) => classify_key_pattern(&pattern),
        None => Key::Other,
    })
}

/// Returns whether the server rejected a write with a duplicate key error.
pub(crate) fn is_duplicate_key(err: &mongodb::error::Error) -> bool {
    let code = match err.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(write_error)) => Some(write_error.code),
        ErrorKind::Command(command_error) => Some(command_error.code),
        ErrorKind::InsertMany(insert_error) => insert_error
            .write_errors
            .as_ref()
            .and_then(|errors| errors.iter().find(|error| error.code == DUPLICATE_KEY))
            .map(|error| error.code),
        _ => None,
    };
    code == Some(DUPLICATE_KEY)
}

/// Finds the `keyPattern` or `keyValue` of a duplicate key error in a server
/// response: at the top level for `findAndModify`, inside `writeErrors` for
/// `insert` and `update`.
fn key_document(response: &RawDocument) -> Option<Document> {
    let direct = ["keyPattern", "keyValue"]
        .iter()
        .find_map(|field| response.get_document(field).ok());
    if let Some(found) = direct {
        return Document::try_from(found).ok();
    }
    let write_errors = response.get_array("writeErrors").ok()?;
    for item in write_errors.into_iter().flatten() {
        let Some(error) = item.as_document() else {
            continue;
        };
        if error.get_i32("code").ok() != Some(DUPLICATE_KEY) {
            continue;
        }
        let found = ["keyPattern", "keyValue"]
            .iter()
            .find_map(|field| error.get_document(field).ok());
        if let Some(found) = found {
            return Document::try_from(found).ok();
        }
    }
    None
}

/// Classifies a key pattern by its fields. A compound unique index that
/// includes `provider_id` next to other fields is not the uniqueness the
/// contract speaks of, so only a single-field pattern counts.
fn classify_key_pattern(pattern: &Document) -> Key {
    let mut fields = pattern.keys();
    match (fields.next().map(String::as_str), fields.next()) {
        (Some("_id"), None) => Key::Id,
        (Some("provider_id"), None) => Key::ProviderId,
        _ => Key::Other,
    }
}

/// Returns whether retrying may succeed: the driver or server labelled the
/// error as retryable or transient, the network failed, or no server could
/// be selected in time.
pub(crate) fn is_retryable(err: &mongodb::error::Error) -> bool {
    let labelled = [
        RETRYABLE_WRITE_ERROR,
        TRANSIENT_TRANSACTION_ERROR,
        RETRYABLE_ERROR,
    ]
    .iter()
    .any(|label| err.contains_label(label));
    labelled
        || matches!(
            err.kind.as_ref(),
            ErrorKind::Io(_)
                | ErrorKind::ConnectionPoolCleared { .. }
                | ErrorKind::ServerSelection { .. }
        )
}

#[cfg(test)]
mod tests {
    use bson::doc;

    use super::*;

    #[test]
    fn key_pattern_classification() {
        assert_eq!(classify_key_pattern(&doc! {"_id": 1}), Key::Id);
        assert_eq!(
            classify_key_pattern(&doc! {"provider_id": 1}),
            Key::ProviderId
        );
        assert_eq!(
            classify_key_pattern(&doc! {"provider_id": -1}),
            Key::ProviderId
        );
        assert_eq!(
            classify_key_pattern(&doc! {"provider_id": 1, "tenant": 1}),
            Key::Other
        );
        assert_eq!(classify_key_pattern(&doc! {"email": 1}), Key::Other);
        assert_eq!(classify_key_pattern(&doc! {}), Key::Other);
    }

    #[test]
    fn key_found_in_write_errors() {
        let response = bson::rawdoc! {
            "ok": 1,
            "writeErrors": [{"index": 0, "code": 11000, "keyPattern": {"provider_id": 1}, "keyValue": {"provider_id": "p"}}],
        };
        assert_eq!(key_document(&response), Some(doc! {"provider_id": 1}));
    }

    #[test]
    fn key_value_used_without_key_pattern() {
        let response = bson::rawdoc! {"ok": 0, "code": 11000, "keyValue": {"_id": "u1"}};
        assert_eq!(
            key_document(&response).map(|key| classify_key_pattern(&key)),
            Some(Key::Id)
        );
    }

    #[test]
    fn network_error_is_retryable() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        assert!(is_retryable(&mongodb::error::Error::from(io)));
        assert!(!is_retryable(&mongodb::error::Error::custom(
            "application error"
        )));
    }
}
