//! User-side cases: each runs on a target in the users-only role.

use std::sync::Arc;

use adapter_api::{Error, NewUser, UserAdapter, UserPatch, validate::MAX_ID_CHARS};
use serde_json::{Value, json};

use super::support::{assert_corrupt, assert_invalid_input, mixed_script, plant_user, user};
use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(user_create_and_get, Role::Users, Needs::Users),
    case!(user_get_missing_is_none, Role::Users, Needs::Users),
    case!(user_duplicate_id_rejected, Role::Users, Needs::Users),
    case!(
        user_duplicate_provider_id_rejected,
        Role::Users,
        Needs::Users
    ),
    case!(user_provider_id_matches_exactly, Role::Users, Needs::Users),
    case!(user_without_password_reads_none, Role::Users, Needs::Users),
    case!(user_attributes_round_trip, Role::Users, Needs::Users),
    case!(user_large_attributes_round_trip, Role::Users, Needs::Users),
    case!(user_reserved_keys_rejected, Role::Users, Needs::Users),
    case!(user_unsafe_keys_rejected, Role::Users, Needs::Users),
    case!(user_invalid_ids_rejected, Role::Users, Needs::Users),
    case!(user_long_unicode_ids_round_trip, Role::Users, Needs::Users),
    case!(user_update_returns_new_record, Role::Users, Needs::Users),
    case!(user_update_keeps_unnamed_keys, Role::Users, Needs::Users),
    case!(user_update_null_stored_as_null, Role::Users, Needs::Users),
    case!(user_update_clears_password, Role::Users, Needs::Users),
    case!(
        user_update_own_provider_id_allowed,
        Role::Users,
        Needs::Users
    ),
    case!(
        user_update_taken_provider_id_rejected,
        Role::Users,
        Needs::Users
    ),
    case!(user_update_frees_old_provider_id, Role::Users, Needs::Users),
    case!(user_update_missing_user_rejected, Role::Users, Needs::Users),
    case!(user_update_empty_patch_unchanged, Role::Users, Needs::Users),
    case!(
        user_update_invalid_patch_rejected,
        Role::Users,
        Needs::Users
    ),
    case!(user_delete_removes_user, Role::Users, Needs::Users),
    case!(user_delete_unknown_is_ok, Role::Users, Needs::Users),
    case!(
        user_concurrent_provider_id_one_wins,
        Role::Users,
        Needs::Users
    ),
    case!(user_concurrent_id_one_wins, Role::Users, Needs::Users),
    case!(
        user_corrupt_missing_field_reported,
        Role::Users,
        Needs::Users
    ),
    case!(user_corrupt_wrong_type_reported, Role::Users, Needs::Users),
    case!(
        user_corrupt_non_string_id_reported,
        Role::Users,
        Needs::Users
    ),
    case!(user_corrupt_attributes_reported, Role::Users, Needs::Users),
];

async fn user_create_and_get(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let new = NewUser::new("email:ada@example.com")
        .hashed_password("$argon2id$v=19$hash")
        .attribute("name", "Ada")
        .into_user("u1".into());

    let stored = users.set_user(new.clone()).await?;
    assert_eq!(stored, new);

    let by_id = users.get_user("u1").await?;
    assert_eq!(by_id.as_ref(), Some(&new));
    let by_provider = users
        .get_user_by_provider_id("email:ada@example.com")
        .await?;
    assert_eq!(by_provider.as_ref(), Some(&new));

    let raw = ctx.raw_users()?.read_user("u1").await?;
    let raw = raw.expect("raw store has no record u1 after set_user");
    assert_eq!(raw["provider_id"], json!("email:ada@example.com"));
    assert_eq!(raw["hashed_password"], json!("$argon2id$v=19$hash"));
    assert_eq!(raw["attributes"], json!({"name": "Ada"}));
    Ok(())
}

async fn user_get_missing_is_none(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users.set_user(user("u1", "p1")).await?;
    assert_eq!(users.get_user("u2").await?, None);
    assert_eq!(users.get_user_by_provider_id("p2").await?, None);
    Ok(())
}

async fn user_duplicate_id_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let first = users.set_user(user("u1", "p1")).await?;

    let err = users.set_user(user("u1", "p2")).await.unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateUserId { user_id } if user_id == "u1"),
        "{err:?}"
    );

    assert_eq!(users.get_user_by_provider_id("p2").await?, None);
    assert_eq!(users.get_user("u1").await?, Some(first));
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    Ok(())
}

async fn user_duplicate_provider_id_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let first = users.set_user(user("u1", "email:ada@example.com")).await?;

    let err = users
        .set_user(user("u2", "email:ada@example.com"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "email:ada@example.com"),
        "{err:?}"
    );

    assert_eq!(users.get_user("u2").await?, None);
    assert_eq!(ctx.raw_users()?.read_user("u2").await?, None);
    assert_eq!(
        users
            .get_user_by_provider_id("email:ada@example.com")
            .await?,
        Some(first)
    );
    Ok(())
}

async fn user_provider_id_matches_exactly(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let composed = "email:jos\u{e9}@example.com";
    let decomposed = "email:jose\u{301}@example.com";
    users.set_user(user("u1", "email:Ada@example.com")).await?;
    users.set_user(user("u2", composed)).await?;

    // Case, surrounding spaces and Unicode form all make a different id.
    for other in [
        "email:ada@example.com",
        " email:Ada@example.com",
        "email:Ada@example.com ",
        decomposed,
    ] {
        assert_eq!(
            users.get_user_by_provider_id(other).await?,
            None,
            "{other:?} matched"
        );
    }

    // And so they can belong to other users.
    users.set_user(user("u3", "email:ada@example.com")).await?;
    users.set_user(user("u4", decomposed)).await?;
    let found = users.get_user_by_provider_id(decomposed).await?;
    assert_eq!(found.map(|user| user.id), Some("u4".to_owned()));
    let found = users
        .get_user_by_provider_id("email:Ada@example.com")
        .await?;
    assert_eq!(found.map(|user| user.id), Some("u1".to_owned()));
    Ok(())
}

async fn user_without_password_reads_none(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let stored = users.set_user(user("u1", "github:1")).await?;
    assert_eq!(stored.hashed_password, None);
    assert_eq!(users.get_user("u1").await?.unwrap().hashed_password, None);

    let raw = ctx.raw_users()?.read_user("u1").await?.unwrap();
    let hash = raw.get("hashed_password").cloned().unwrap_or(Value::Null);
    assert_eq!(hash, Value::Null);
    Ok(())
}

async fn user_attributes_round_trip(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let attributes = json!({
        "int": 1,
        "float_whole": 1.0,
        "float": 2.5,
        "negative": -7,
        "max": i64::MAX,
        "min": i64::MIN,
        "tiny": 5e-324,
        "big_float": 1.7976931348623157e308,
        "yes": true,
        "nothing": null,
        "text": "héllo wörld 漢字 😀",
        "empty_text": "",
        "list": [3, 1.5, "two", null, [1, [2, [3]]], {"k": "v"}],
        "empty_list": [],
        "empty_object": {},
        "nested": {"a": {"b": {"c": [1, 2, 3]}}, "id": "nested keys may reuse reserved names"}
    });
    let attributes = attributes.as_object().unwrap().clone();
    let mut new = user("u1", "p1");
    new.attributes = attributes.clone();
    users.set_user(new).await?;

    let read = users.get_user("u1").await?.unwrap().attributes;
    assert_eq!(
        Value::Object(read.clone()),
        Value::Object(attributes.clone())
    );
    // JSON equality treats 1 and 1.0 as different numbers only through
    // their kind, so check kinds directly as well.
    assert!(
        read["int"].is_i64(),
        "integer came back as {:?}",
        read["int"]
    );
    assert!(
        read["float_whole"].is_f64(),
        "float 1.0 came back as {:?}",
        read["float_whole"]
    );
    assert!(read["list"][1].is_f64());
    assert!(read["list"][0].is_i64());

    let raw = ctx.raw_users()?.read_user("u1").await?.unwrap();
    assert_eq!(raw["attributes"], Value::Object(attributes));
    assert!(
        raw["attributes"]["int"].is_i64(),
        "stored integer is {:?}",
        raw["attributes"]["int"]
    );
    assert!(raw["attributes"]["float_whole"].is_f64());
    Ok(())
}

async fn user_large_attributes_round_trip(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let long_text = mixed_script(200_000);
    let many: Vec<Value> = (0..10_000).map(|i| json!(i)).collect();
    let mut new = user("u1", "p1");
    new.attributes.insert("long_text".into(), json!(long_text));
    new.attributes
        .insert("many".into(), Value::Array(many.clone()));

    users.set_user(new.clone()).await?;
    let read = users.get_user("u1").await?.unwrap();
    assert_eq!(read.attributes["long_text"], json!(long_text));
    assert_eq!(read.attributes["many"], Value::Array(many));
    Ok(())
}

async fn user_reserved_keys_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    for key in ["id", "_id", "provider_id", "hashed_password", "__v"] {
        let new = NewUser::new("p1")
            .attribute(key, "x")
            .into_user("u1".into());
        assert_invalid_input(users.set_user(new).await, &format!("attributes.{key}"));
    }
    assert_eq!(users.get_user("u1").await?, None);
    assert_eq!(ctx.raw_users()?.count_users().await?, 0);
    Ok(())
}

async fn user_unsafe_keys_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let cases = [
        (json!({"": 1}), "attributes."),
        (json!({"$where": "1"}), "attributes.$where"),
        (json!({"a.b": 1}), "attributes.a.b"),
        (json!({"a\u{0}b": 1}), "attributes.a\u{0}b"),
        (json!({"profile": {"$gt": 1}}), "attributes.profile.$gt"),
        (
            json!({"profile": [{"x.y": 1}]}),
            "attributes.profile[0].x.y",
        ),
    ];
    for (attributes, field) in cases {
        let mut new = user("u1", "p1");
        new.attributes = attributes.as_object().unwrap().clone();
        assert_invalid_input(users.set_user(new).await, field);
    }
    assert_eq!(ctx.raw_users()?.count_users().await?, 0);
    Ok(())
}

async fn user_invalid_ids_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let too_long = "a".repeat(MAX_ID_CHARS + 1);
    assert_invalid_input(users.set_user(user("", "p1")).await, "id");
    assert_invalid_input(users.set_user(user("u1", "")).await, "provider_id");
    assert_invalid_input(users.set_user(user(&too_long, "p1")).await, "id");
    assert_invalid_input(users.set_user(user("u1", &too_long)).await, "provider_id");
    assert_invalid_input(users.set_user(user("u\u{0}1", "p1")).await, "id");
    assert_invalid_input(users.set_user(user("u1", "p\u{0}1")).await, "provider_id");
    let with_nul_hash = NewUser::new("p1")
        .hashed_password("a\0b")
        .into_user("u1".into());
    assert_invalid_input(users.set_user(with_nul_hash).await, "hashed_password");
    let with_nul_value = NewUser::new("p1")
        .attribute("bio", "a\0b")
        .into_user("u1".into());
    assert_invalid_input(users.set_user(with_nul_value).await, "attributes.bio");
    let unsigned = NewUser::new("p1")
        .attribute("n", u64::MAX)
        .into_user("u1".into());
    assert_invalid_input(users.set_user(unsigned).await, "attributes.n");
    assert_eq!(ctx.raw_users()?.count_users().await?, 0);
    Ok(())
}

async fn user_long_unicode_ids_round_trip(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let id = mixed_script(MAX_ID_CHARS);
    let provider_id = format!("email:{}", mixed_script(MAX_ID_CHARS - 6));
    assert_eq!(provider_id.chars().count(), MAX_ID_CHARS);

    let stored = users.set_user(user(&id, &provider_id)).await?;
    assert_eq!(stored.id, id);
    assert_eq!(
        users.get_user(&id).await?.map(|user| user.provider_id),
        Some(provider_id.clone())
    );
    assert_eq!(
        users
            .get_user_by_provider_id(&provider_id)
            .await?
            .map(|user| user.id),
        Some(id.clone())
    );
    // An id that differs only in its last character is another user.
    let mut sibling: String = id.chars().take(MAX_ID_CHARS - 1).collect();
    sibling.push('x');
    assert_eq!(users.get_user(&sibling).await?, None);
    Ok(())
}

async fn user_update_returns_new_record(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users
        .set_user(NewUser::new("p1").attribute("n", 1).into_user("u1".into()))
        .await?;

    let updated = users
        .update_user(
            "u1",
            UserPatch::new()
                .provider_id("p2")
                .hashed_password("h2")
                .attribute("n", 2),
        )
        .await?;
    assert_eq!(updated.provider_id, "p2");
    assert_eq!(updated.hashed_password.as_deref(), Some("h2"));
    assert_eq!(updated.attributes["n"], json!(2));
    assert_eq!(users.get_user("u1").await?, Some(updated));

    let raw = ctx.raw_users()?.read_user("u1").await?.unwrap();
    assert_eq!(raw["provider_id"], json!("p2"));
    assert_eq!(raw["attributes"]["n"], json!(2));
    Ok(())
}

async fn user_update_keeps_unnamed_keys(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let new = NewUser::new("p1")
        .hashed_password("h1")
        .attribute("a", 1)
        .attribute("b", json!({"deep": [1, 2]}))
        .into_user("u1".into());
    users.set_user(new).await?;

    let updated = users
        .update_user("u1", UserPatch::new().attribute("c", 3))
        .await?;
    assert_eq!(updated.provider_id, "p1");
    assert_eq!(updated.hashed_password.as_deref(), Some("h1"));
    assert_eq!(
        Value::Object(updated.attributes),
        json!({"a": 1, "b": {"deep": [1, 2]}, "c": 3})
    );
    Ok(())
}

async fn user_update_null_stored_as_null(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users
        .set_user(NewUser::new("p1").attribute("a", 1).into_user("u1".into()))
        .await?;

    let updated = users
        .update_user("u1", UserPatch::new().attribute("a", Value::Null))
        .await?;
    assert_eq!(updated.attributes.get("a"), Some(&Value::Null));

    let raw = ctx.raw_users()?.read_user("u1").await?.unwrap();
    assert_eq!(
        raw["attributes"].get("a"),
        Some(&Value::Null),
        "the key must stay, holding null"
    );
    Ok(())
}

async fn user_update_clears_password(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users
        .set_user(
            NewUser::new("p1")
                .hashed_password("h1")
                .into_user("u1".into()),
        )
        .await?;

    let updated = users
        .update_user("u1", UserPatch::new().clear_hashed_password())
        .await?;
    assert_eq!(updated.hashed_password, None);
    assert_eq!(users.get_user("u1").await?.unwrap().hashed_password, None);

    let raw = ctx.raw_users()?.read_user("u1").await?.unwrap();
    assert_eq!(
        raw.get("hashed_password").cloned().unwrap_or(Value::Null),
        Value::Null
    );
    Ok(())
}

async fn user_update_own_provider_id_allowed(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users.set_user(user("u1", "p1")).await?;
    let updated = users
        .update_user("u1", UserPatch::new().provider_id("p1"))
        .await?;
    assert_eq!(updated.provider_id, "p1");
    assert_eq!(
        users
            .get_user_by_provider_id("p1")
            .await?
            .map(|user| user.id),
        Some("u1".into())
    );
    Ok(())
}

async fn user_update_taken_provider_id_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let first = users.set_user(user("u1", "p1")).await?;
    let second = users
        .set_user(NewUser::new("p2").attribute("a", 1).into_user("u2".into()))
        .await?;

    let err = users
        .update_user("u2", UserPatch::new().provider_id("p1").attribute("a", 2))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateProviderId { provider_id } if provider_id == "p1"),
        "{err:?}"
    );

    // The failed update changed nothing, not even the attribute it named.
    assert_eq!(users.get_user("u1").await?, Some(first));
    assert_eq!(users.get_user("u2").await?, Some(second));
    Ok(())
}

async fn user_update_frees_old_provider_id(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users.set_user(user("u1", "p1")).await?;
    users
        .update_user("u1", UserPatch::new().provider_id("p2"))
        .await?;

    assert_eq!(users.get_user_by_provider_id("p1").await?, None);
    users.set_user(user("u2", "p1")).await?;
    assert_eq!(
        users
            .get_user_by_provider_id("p1")
            .await?
            .map(|user| user.id),
        Some("u2".into())
    );
    assert_eq!(
        users
            .get_user_by_provider_id("p2")
            .await?
            .map(|user| user.id),
        Some("u1".into())
    );
    Ok(())
}

async fn user_update_missing_user_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let err = users
        .update_user("ghost", UserPatch::new().provider_id("p1"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == "ghost"),
        "{err:?}"
    );
    assert_eq!(
        ctx.raw_users()?.count_users().await?,
        0,
        "update must not create a user"
    );
    Ok(())
}

async fn user_update_empty_patch_unchanged(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let stored = users
        .set_user(
            NewUser::new("p1")
                .hashed_password("h")
                .attribute("a", 1.5)
                .into_user("u1".into()),
        )
        .await?;
    let updated = users.update_user("u1", UserPatch::new()).await?;
    assert_eq!(updated, stored);
    assert_eq!(users.get_user("u1").await?, Some(stored));
    Ok(())
}

async fn user_update_invalid_patch_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let stored = users
        .set_user(NewUser::new("p1").attribute("a", 1).into_user("u1".into()))
        .await?;

    let patch = UserPatch::new().attribute("a", 2).attribute("$set", 1);
    assert_invalid_input(users.update_user("u1", patch).await, "attributes.$set");
    let patch = UserPatch::new().provider_id("");
    assert_invalid_input(users.update_user("u1", patch).await, "provider_id");
    let patch = UserPatch::new().attribute("_id", "other");
    assert_invalid_input(users.update_user("u1", patch).await, "attributes._id");

    assert_eq!(users.get_user("u1").await?, Some(stored));
    Ok(())
}

async fn user_delete_removes_user(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users.set_user(user("u1", "p1")).await?;
    let kept = users.set_user(user("u2", "p2")).await?;

    users.delete_user("u1").await?;
    assert_eq!(users.get_user("u1").await?, None);
    assert_eq!(users.get_user_by_provider_id("p1").await?, None);
    assert_eq!(ctx.raw_users()?.read_user("u1").await?, None);
    assert_eq!(users.get_user("u2").await?, Some(kept));

    // The provider id is free again.
    users.set_user(user("u3", "p1")).await?;
    Ok(())
}

async fn user_delete_unknown_is_ok(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    users.set_user(user("u1", "p1")).await?;
    users.delete_user("ghost").await?;
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    Ok(())
}

/// Concurrent tasks per contended create: enough to interleave on a
/// multi-threaded runtime and a connection pool.
const CONTENDERS: usize = 16;

async fn race_creates(
    users: &Arc<dyn UserAdapter>,
    ids: Vec<(String, String)>,
) -> Vec<adapter_api::Result<adapter_api::User>> {
    let tasks: Vec<_> = ids
        .into_iter()
        .map(|(id, provider_id)| {
            let users = users.clone();
            tokio::spawn(async move { users.set_user(user(&id, &provider_id)).await })
        })
        .collect();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.expect("create task panicked"));
    }
    results
}

async fn user_concurrent_provider_id_one_wins(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let ids = (0..CONTENDERS)
        .map(|i| (format!("u{i}"), "email:same@example.com".to_owned()))
        .collect();
    let results = race_creates(users, ids).await;

    let winners = results.iter().filter(|result| result.is_ok()).count();
    assert_eq!(winners, 1, "exactly one create may win: {results:?}");
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::DuplicateProviderId { .. }),
                "loser got {err:?}"
            );
        }
    }
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    Ok(())
}

async fn user_concurrent_id_one_wins(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let ids = (0..CONTENDERS)
        .map(|i| ("same".to_owned(), format!("p{i}")))
        .collect();
    let results = race_creates(users, ids).await;

    let winners: Vec<_> = results
        .iter()
        .filter_map(|result| result.as_ref().ok())
        .collect();
    assert_eq!(winners.len(), 1, "exactly one create may win: {results:?}");
    for result in &results {
        if let Err(err) = result {
            assert!(
                matches!(err, Error::DuplicateUserId { user_id } if user_id == "same"),
                "loser got {err:?}"
            );
        }
    }
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    // The losers' provider ids were not left behind.
    let winner_provider = winners[0].provider_id.clone();
    for i in 0..CONTENDERS {
        let provider_id = format!("p{i}");
        let found = users.get_user_by_provider_id(&provider_id).await?;
        assert_eq!(
            found.is_some(),
            provider_id == winner_provider,
            "{provider_id}"
        );
    }
    Ok(())
}

async fn user_corrupt_missing_field_reported(ctx: Ctx) -> CaseResult {
    plant_user(
        &ctx,
        json!({"id": "u1", "hashed_password": null, "attributes": {}}),
    )
    .await?;
    assert_corrupt(ctx.users().get_user("u1").await, "u1", &["provider_id"]);
    Ok(())
}

async fn user_corrupt_wrong_type_reported(ctx: Ctx) -> CaseResult {
    plant_user(
        &ctx,
        json!({"id": "u1", "provider_id": "p1", "hashed_password": 42, "attributes": {}}),
    )
    .await?;
    assert_corrupt(ctx.users().get_user("u1").await, "u1", &["hashed_password"]);
    assert_corrupt(
        ctx.users().get_user_by_provider_id("p1").await,
        "u1",
        &["hashed_password"],
    );
    Ok(())
}

async fn user_corrupt_non_string_id_reported(ctx: Ctx) -> CaseResult {
    plant_user(
        &ctx,
        json!({"id": 42, "provider_id": "p42", "hashed_password": null, "attributes": {}}),
    )
    .await?;
    assert_corrupt(
        ctx.users().get_user_by_provider_id("p42").await,
        "42",
        &["id", "_id"],
    );
    Ok(())
}

async fn user_corrupt_attributes_reported(ctx: Ctx) -> CaseResult {
    // Attributes that are not a JSON object, as a column of JSON text may
    // hold after a manual edit.
    plant_user(
        &ctx,
        json!({"id": "u1", "provider_id": "p1", "hashed_password": null, "attributes": [1, 2]}),
    )
    .await?;
    assert_corrupt(ctx.users().get_user("u1").await, "u1", &["attributes"]);
    Ok(())
}
