//! Cases for the configuration: they run through `Storage`, both with one
//! backend and with users and sessions in two backends.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use adapter_api::{Error, NewUser, Session, Storage};

use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(storage_generates_user_id, Role::Both, Needs::Storage),
    case!(storage_custom_id_generator, Role::Both, Needs::Storage),
    case!(
        storage_generated_collision_retried,
        Role::Both,
        Needs::Storage
    ),
    case!(
        storage_caller_id_collision_reported,
        Role::Both,
        Needs::Storage
    ),
    case!(
        storage_session_for_missing_user_rejected,
        Role::Both,
        Needs::Storage
    ),
    case!(
        storage_invalid_session_checked_first,
        Role::Both,
        Needs::Storage
    ),
    case!(
        storage_delete_user_deletes_sessions,
        Role::Both,
        Needs::Storage
    ),
    case!(storage_session_and_user_found, Role::Both, Needs::Storage),
    case!(
        storage_session_and_user_gone_user,
        Role::Both,
        Needs::Storage
    ),
    case!(storage_split_sides_separate, Role::Both, Needs::Split),
];

const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

async fn storage_generates_user_id(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    let first = storage.set_user(NewUser::new("p1")).await?;
    let second = storage.set_user(NewUser::new("p2")).await?;

    for stored in [&first, &second] {
        assert_eq!(stored.id.len(), 15, "{:?}", stored.id);
        assert!(
            stored
                .id
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()),
            "{:?}",
            stored.id
        );
        assert_eq!(storage.get_user(&stored.id).await?.as_ref(), Some(stored));
    }
    assert_ne!(first.id, second.id);
    Ok(())
}

async fn storage_custom_id_generator(ctx: Ctx) -> CaseResult {
    let counter = Arc::new(AtomicUsize::new(0));
    let next = counter.clone();
    let storage = ctx
        .storage()
        .clone()
        .with_id_generator(move || format!("user-{}", next.fetch_add(1, Ordering::SeqCst)));

    let stored = storage.set_user(NewUser::new("p1")).await?;
    assert_eq!(stored.id, "user-0");
    let explicit = storage.set_user(NewUser::new("p2").id("chosen")).await?;
    assert_eq!(explicit.id, "chosen");
    assert_eq!(
        counter.load(Ordering::SeqCst),
        1,
        "an explicit id must not call the generator"
    );
    Ok(())
}

async fn storage_generated_collision_retried(ctx: Ctx) -> CaseResult {
    ctx.storage()
        .set_user(NewUser::new("p0").id("taken"))
        .await?;
    let calls = Arc::new(AtomicUsize::new(0));
    let counter = calls.clone();
    let storage = ctx.storage().clone().with_id_generator(move || {
        if counter.fetch_add(1, Ordering::SeqCst) == 0 {
            "taken".to_owned()
        } else {
            "fresh".to_owned()
        }
    });

    let stored = storage.set_user(NewUser::new("p1")).await?;
    assert_eq!(stored.id, "fresh");
    assert_eq!(calls.load(Ordering::SeqCst), 2);
    assert_eq!(
        storage
            .get_user("taken")
            .await?
            .map(|user| user.provider_id),
        Some("p0".into())
    );
    Ok(())
}

async fn storage_caller_id_collision_reported(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    storage.set_user(NewUser::new("p0").id("taken")).await?;
    let err = storage
        .set_user(NewUser::new("p1").id("taken"))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateUserId { user_id } if user_id == "taken"),
        "{err:?}"
    );
    assert_eq!(storage.get_user_by_provider_id("p1").await?, None);
    Ok(())
}

async fn storage_session_for_missing_user_rejected(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    storage.set_user(NewUser::new("p1").id("u1")).await?;

    let err = storage
        .set_session(Session::new("s1", "ghost", NOW, NOW + HOUR))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == "ghost"),
        "{err:?}"
    );
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 0);

    storage
        .set_session(Session::new("s1", "u1", NOW, NOW + HOUR))
        .await?;
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn storage_invalid_session_checked_first(ctx: Ctx) -> CaseResult {
    // Invalid input is reported as such even when the user is also missing,
    // whichever layout checks the user.
    let err = ctx
        .storage()
        .set_session(Session::new("s1", "ghost", NOW + HOUR, NOW))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidInput { field, .. } if field == "idle_expires"),
        "{err:?}"
    );
    Ok(())
}

async fn storage_delete_user_deletes_sessions(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    storage.set_user(NewUser::new("p1").id("u1")).await?;
    storage.set_user(NewUser::new("p2").id("u2")).await?;
    for (id, user_id) in [("a1", "u1"), ("a2", "u1"), ("b1", "u2")] {
        storage
            .set_session(Session::new(id, user_id, NOW, NOW + HOUR))
            .await?;
    }

    storage.delete_user("u1").await?;
    assert_eq!(storage.get_user("u1").await?, None);
    assert!(storage.get_sessions_by_user_id("u1").await?.is_empty());
    assert_eq!(ctx.raw_sessions()?.read_session("a1").await?, None);
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);

    storage.delete_user("ghost").await?;
    Ok(())
}

async fn storage_session_and_user_found(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    let stored_user = storage
        .set_user(NewUser::new("p1").id("u1").hashed_password("h"))
        .await?;
    let session = Session::new("s1", "u1", NOW, NOW + HOUR);
    storage.set_session(session.clone()).await?;

    assert_eq!(
        storage.get_session_and_user("s1").await?,
        Some((session, stored_user))
    );
    assert_eq!(storage.get_session_and_user("s2").await?, None);
    Ok(())
}

async fn storage_session_and_user_gone_user(ctx: Ctx) -> CaseResult {
    let storage = ctx.storage();
    storage.set_user(NewUser::new("p1").id("u1")).await?;
    storage
        .set_session(Session::new("s1", "u1", NOW, NOW + HOUR))
        .await?;

    // Delete through the user adapter alone. With one backend the session
    // goes with the user. With two it stays behind, and the lookup must still
    // return nothing.
    storage.user_adapter().delete_user("u1").await?;
    assert_eq!(storage.get_session_and_user("s1").await?, None);
    Ok(())
}

async fn storage_split_sides_separate(ctx: Ctx) -> CaseResult {
    let storage: &Storage = ctx.storage();
    assert!(storage.is_split());
    storage.set_user(NewUser::new("p1").id("u1")).await?;
    storage
        .set_session(Session::new("s1", "u1", NOW, NOW + HOUR))
        .await?;

    assert!(ctx.raw_users()?.read_user("u1").await?.is_some());
    assert!(ctx.raw_sessions()?.read_session("s1").await?.is_some());
    assert!(
        !ctx.sessions().checks_user_existence(),
        "a session adapter in the sessions-only role must leave the user check to Storage"
    );
    Ok(())
}
