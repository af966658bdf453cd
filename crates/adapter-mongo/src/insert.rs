//! Inserting one document, with the key of a duplicate key error.

use bson::{Bson, Document, doc};
use mongodb::{Collection, Database};

use crate::error::is_duplicate_key;

/// A failed insert: the driver's error and, for a duplicate key, the key
/// pattern of the unique index that collided.
pub(crate) struct InsertFailure {
    pub(crate) error: mongodb::error::Error,
    pub(crate) key_pattern: Option<Document>,
}

/// Inserts `document` into `collection` with the driver's `insert_one`,
/// which retries as the client's retryable-writes setting allows.
///
/// The driver (3.9.1) drops the `keyPattern` of a write error raised by
/// `insert`, so after a duplicate key error the same insert is sent once
/// more as a raw command, whose reply keeps it. If the colliding document
/// was deleted in between, that second insert succeeds and so does the
/// call.
///
/// NOTE: an upserting `findAndModify` on `_id` would report the key in one
/// command, but SecantusDB 0.7.0b3 answers concurrent upserts of one `_id`
/// with `upserted: null` and no document, as if each of them had inserted,
/// where MongoDB retries the losing upserts as updates. Plain inserts
/// behave the same on both.
pub(crate) async fn insert_one(
    database: &Database,
    collection: &Collection<Document>,
    document: Document,
) -> Result<(), InsertFailure> {
    let error = match collection.insert_one(&document).await {
        Ok(_) => return Ok(()),
        Err(error) if is_duplicate_key(&error) => error,
        Err(error) => {
            return Err(InsertFailure {
                error,
                key_pattern: None,
            });
        }
    };

    let mut command = doc! { "insert": collection.name(), "documents": [document] };
    if let Some(write_concern) = collection.write_concern()
        && let Ok(write_concern) = bson::to_document(write_concern)
        && !write_concern.is_empty()
    {
        command.insert("writeConcern", write_concern);
    }
    match database.run_command(command).await {
        Ok(reply) => match duplicate_key_pattern(&reply) {
            Some(key_pattern) => Err(InsertFailure {
                error,
                key_pattern: Some(key_pattern),
            }),
            None if reply.get("writeErrors").is_none()
                && reply.get("writeConcernError").is_none() =>
            {
                Ok(())
            }
            // Another write error or a write concern error: report the
            // first error.
            None => Err(InsertFailure {
                error,
                key_pattern: None,
            }),
        },
        Err(error) => Err(InsertFailure {
            error,
            key_pattern: None,
        }),
    }
}

/// Returns the `keyPattern` (or `keyValue`) of the first duplicate key
/// error among the `writeErrors` of an `insert` reply.
fn duplicate_key_pattern(reply: &Document) -> Option<Document> {
    let write_errors = reply.get_array("writeErrors").ok()?;
    write_errors
        .iter()
        .filter_map(Bson::as_document)
        .filter(|error| error.get_i32("code") == Ok(crate::error::DUPLICATE_KEY))
        .find_map(|error| {
            error
                .get_document("keyPattern")
                .or_else(|_| error.get_document("keyValue"))
                .ok()
                .cloned()
        })
}
