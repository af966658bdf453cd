//! Index setup.

use std::time::Duration;

use adapter_api::Result;
use bson::{Bson, Document, doc};
use futures::TryStreamExt;
use mongodb::error::ErrorKind;
use mongodb::options::IndexOptions;
use mongodb::{Collection, IndexModel};

use crate::document::{IDLE_EXPIRES, IDLE_EXPIRES_AT, PROVIDER_ID, USER_ID};
use crate::error::ErrorMapper;

/// Server error code for a command on a collection that does not exist.
const NAMESPACE_NOT_FOUND: i32 = 26;

/// Indexes of the user collection: the unique `provider_id`.
pub(crate) fn user_indexes() -> Vec<IndexModel> {
    let unique = IndexOptions::builder().unique(true).build();
    vec![
        IndexModel::builder()
            .keys(doc! { PROVIDER_ID: 1 })
            .options(unique)
            .build(),
    ]
}

/// Indexes of the session collection: `user_id` for lookups and deletion by
/// user, `idle_expires` for deleting expired sessions, and with `ttl_index`
/// a TTL index on the date copy of `idle_expires`.
pub(crate) fn session_indexes(ttl_index: bool) -> Vec<IndexModel> {
    let mut indexes = vec![
        IndexModel::builder().keys(doc! { USER_ID: 1 }).build(),
        IndexModel::builder().keys(doc! { IDLE_EXPIRES: 1 }).build(),
    ];
    if ttl_index {
        // expireAfterSeconds 0: a session is dead from the date stored in
        // the field, which is its idle_expires.
        let ttl = IndexOptions::builder().expire_after(Duration::ZERO).build();
        indexes.push(
            IndexModel::builder()
                .keys(doc! { IDLE_EXPIRES_AT: 1 })
                .options(ttl)
                .build(),
        );
    }
    indexes
}

/// Creates the indexes in `required` that the collection lacks, in one
/// `createIndexes` command.
///
/// An index that already exists with the same key pattern and the same
/// uniqueness and TTL counts, whatever its name, so an application's own
/// unique index on `provider_id` is kept and no second one is built. An
/// index with the same keys but other options (a non-unique `provider_id`
/// index, say) is left alone, and the adapter's index is built next to it:
/// since MongoDB 5.0 uniqueness is part of what tells two indexes apart,
/// and SecantusDB 0.7.0b3 does the same. Creating the
/// collection is left to the server, which does it on the first index or
/// insert.
pub(crate) async fn ensure(
    collection: &Collection<Document>,
    required: Vec<IndexModel>,
    errors: &ErrorMapper,
) -> Result<()> {
    let operation = "ensure_indexes";
    let existing: Vec<IndexModel> = match collection.list_indexes().await {
        Ok(cursor) => cursor
            .try_collect()
            .await
            .map_err(|err| errors.backend(operation, err))?,
        Err(err) if is_namespace_not_found(&err) => Vec::new(),
        Err(err) => return Err(errors.backend(operation, err)),
    };
    let missing: Vec<IndexModel> = required
        .into_iter()
        .filter(|index| !existing.iter().any(|present| serves(present, index)))
        .collect();
    if missing.is_empty() {
        return Ok(());
    }
    tracing::info!(
        collection = collection.name(),
        count = missing.len(),
        "creating indexes"
    );
    collection
        .create_indexes(missing)
        .await
        .map_err(|err| errors.backend(operation, err))?;
    Ok(())
}

/// Returns whether the index `present` does the work of `required`.
fn serves(present: &IndexModel, required: &IndexModel) -> bool {
    let unique = |index: &IndexModel| {
        index
            .options
            .as_ref()
            .and_then(|options| options.unique)
            .unwrap_or(false)
    };
    let ttl = |index: &IndexModel| {
        index
            .options
            .as_ref()
            .and_then(|options| options.expire_after)
    };
    same_keys(&present.keys, &required.keys)
        && unique(present) == unique(required)
        && ttl(present) == ttl(required)
}

/// Compares key patterns field by field. Directions compare by sign,
/// because a server or another driver may list `1` as an int32, an int64 or
/// a double.
fn same_keys(left: &Document, right: &Document) -> bool {
    left.len() == right.len()
        && left.iter().zip(right.iter()).all(
            |((left_field, left_kind), (right_field, right_kind))| {
                left_field == right_field && key_kind(left_kind) == key_kind(right_kind)
            },
        )
}

/// Returns the kind of one index key: ascending, descending, or a named
/// kind such as `"hashed"` or `"text"`.
fn key_kind(value: &Bson) -> Option<String> {
    let direction = match value {
        Bson::Int32(number) => Some(f64::from(*number)),
        Bson::Int64(number) => Some(*number as f64),
        Bson::Double(number) => Some(*number),
        _ => None,
    };
    match (direction, value) {
        (Some(number), _) if number > 0.0 => Some("ascending".to_owned()),
        (Some(number), _) if number < 0.0 => Some("descending".to_owned()),
        (_, Bson::String(kind)) => Some(kind.clone()),
        _ => None,
    }
}

fn is_namespace_not_found(err: &mongodb::error::Error) -> bool {
    matches!(err.kind.as_ref(), ErrorKind::Command(command) if command.code == NAMESPACE_NOT_FOUND)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_patterns_compare_by_direction() {
        assert!(same_keys(
            &doc! {"provider_id": 1},
            &doc! {"provider_id": 1.0}
        ));
        assert!(same_keys(
            &doc! {"provider_id": 1_i64},
            &doc! {"provider_id": 1}
        ));
        assert!(!same_keys(
            &doc! {"provider_id": -1},
            &doc! {"provider_id": 1}
        ));
        assert!(!same_keys(
            &doc! {"provider_id": 1, "a": 1},
            &doc! {"provider_id": 1}
        ));
        assert!(!same_keys(
            &doc! {"provider_id": "hashed"},
            &doc! {"provider_id": 1}
        ));
    }
}
