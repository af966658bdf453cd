//! User-side cases: each runs on a target in the users-only role.

use adapter_api::{Error, NewUser, User, UserPatch};
use serde_json::json;

use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(user_create_and_get, Role::Users, Needs::Users),
    case!(user_get_missing_is_none, Role::Users, Needs::Users),
    case!(user_duplicate_id_rejected, Role::Users, Needs::Users),
];

fn user(id: &str, provider_id: &str) -> User {
    NewUser::new(provider_id).into_user(id.to_owned())
}

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
    users.set_user(user("u1", "p1")).await?;

    let err = users.set_user(user("u1", "p2")).await.unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateUserId { user_id } if user_id == "u1"),
        "{err:?}"
    );

    assert_eq!(users.get_user_by_provider_id("p2").await?, None);
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    let _ = UserPatch::new();
    Ok(())
}
