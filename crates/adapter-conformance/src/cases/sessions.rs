//! Session-side cases: each runs on a target in the sessions-only role, so
//! the adapter must not check users. `Ctx::create_session` creates the user
//! too where a target has a user side.

use std::collections::BTreeSet;

use adapter_api::{Error, Session, validate::MAX_ID_CHARS};
use serde_json::json;

use super::support::{assert_corrupt, assert_invalid_input, mixed_script, plant_session};
use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(session_create_and_get, Role::Sessions, Needs::Sessions),
    case!(session_get_missing_is_none, Role::Sessions, Needs::Sessions),
    case!(
        session_duplicate_id_rejected,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(session_dead_still_returned, Role::Sessions, Needs::Sessions),
    case!(session_list_by_user, Role::Sessions, Needs::Sessions),
    case!(
        session_update_returns_renewed,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_update_missing_rejected,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_update_idle_before_active_rejected,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_invalid_input_rejected,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_long_unicode_ids_round_trip,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_extreme_times_round_trip,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(session_delete_several, Role::Sessions, Needs::Sessions),
    case!(session_delete_none, Role::Sessions, Needs::Sessions),
    case!(session_delete_by_user, Role::Sessions, Needs::Sessions),
    case!(
        session_delete_expired_boundary,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_delete_expired_none_due,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_concurrent_id_one_wins,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_corrupt_missing_field_reported,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_corrupt_wrong_type_reported,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(
        session_corrupt_non_string_id_reported,
        Role::Sessions,
        Needs::Sessions
    ),
];

/// A fixed instant, in milliseconds since the Unix epoch, so cases do not
/// depend on the clock.
const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

async fn session_create_and_get(ctx: Ctx) -> CaseResult {
    let session = ctx
        .create_session("s1", "u1", NOW + HOUR, NOW + 2 * HOUR)
        .await?;
    assert_eq!(ctx.sessions().get_session("s1").await?, Some(session));

    let raw = ctx
        .raw_sessions()?
        .read_session("s1")
        .await?
        .expect("no raw record s1");
    assert_eq!(raw["user_id"], json!("u1"));
    assert_eq!(raw["expires"], json!(NOW + HOUR));
    assert_eq!(raw["idle_expires"], json!(NOW + 2 * HOUR));
    Ok(())
}

async fn session_get_missing_is_none(ctx: Ctx) -> CaseResult {
    ctx.create_session("s1", "u1", NOW, NOW).await?;
    assert_eq!(ctx.sessions().get_session("s2").await?, None);
    assert_eq!(
        ctx.sessions().get_session("S1").await?,
        None,
        "ids are case-sensitive"
    );
    Ok(())
}

async fn session_duplicate_id_rejected(ctx: Ctx) -> CaseResult {
    let first = ctx.create_session("s1", "u1", NOW, NOW + HOUR).await?;
    ctx.ensure_user("u2").await?;

    let err = ctx
        .sessions()
        .set_session(Session::new("s1", "u2", NOW + 5, NOW + 6))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::DuplicateSessionId { session_id } if session_id == "s1"),
        "{err:?}"
    );

    assert_eq!(ctx.sessions().get_session("s1").await?, Some(first));
    assert!(
        ctx.sessions()
            .get_sessions_by_user_id("u2")
            .await?
            .is_empty()
    );
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn session_dead_still_returned(ctx: Ctx) -> CaseResult {
    let dead = ctx
        .create_session("s1", "u1", NOW - 2 * HOUR, NOW - HOUR)
        .await?;
    let found = ctx.sessions().get_session("s1").await?;
    assert_eq!(found.as_ref(), Some(&dead));
    assert_eq!(found.unwrap().state(NOW), adapter_api::SessionState::Dead);
    Ok(())
}

fn ids(sessions: &[Session]) -> BTreeSet<String> {
    sessions.iter().map(|session| session.id.clone()).collect()
}

fn set(items: &[&str]) -> BTreeSet<String> {
    items.iter().map(|item| (*item).to_owned()).collect()
}

async fn session_list_by_user(ctx: Ctx) -> CaseResult {
    for (id, user_id) in [
        ("a1", "u1"),
        ("a2", "u1"),
        ("a3", "u1"),
        ("b1", "u2"),
        ("b2", "u2"),
    ] {
        ctx.create_session(id, user_id, NOW, NOW + HOUR).await?;
    }
    let sessions = ctx.sessions();
    let listed = sessions.get_sessions_by_user_id("u1").await?;
    assert_eq!(ids(&listed), set(&["a1", "a2", "a3"]));
    assert!(listed.iter().all(|session| session.user_id == "u1"));
    assert_eq!(
        ids(&sessions.get_sessions_by_user_id("u2").await?),
        set(&["b1", "b2"])
    );
    assert!(sessions.get_sessions_by_user_id("ghost").await?.is_empty());
    assert!(
        sessions.get_sessions_by_user_id("U1").await?.is_empty(),
        "user ids are case-sensitive"
    );
    Ok(())
}

async fn session_update_returns_renewed(ctx: Ctx) -> CaseResult {
    ctx.create_session("s1", "u1", NOW, NOW + HOUR).await?;
    let renewed = ctx
        .sessions()
        .update_session("s1", NOW + 2 * HOUR, NOW + 3 * HOUR)
        .await?;
    assert_eq!(
        renewed,
        Session::new("s1", "u1", NOW + 2 * HOUR, NOW + 3 * HOUR)
    );
    assert_eq!(ctx.sessions().get_session("s1").await?, Some(renewed));

    let raw = ctx.raw_sessions()?.read_session("s1").await?.unwrap();
    assert_eq!(raw["expires"], json!(NOW + 2 * HOUR));
    assert_eq!(raw["idle_expires"], json!(NOW + 3 * HOUR));
    Ok(())
}

async fn session_update_missing_rejected(ctx: Ctx) -> CaseResult {
    let err = ctx
        .sessions()
        .update_session("ghost", NOW, NOW + HOUR)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidSessionId { session_id } if session_id == "ghost"),
        "{err:?}"
    );
    assert_eq!(
        ctx.raw_sessions()?.count_sessions().await?,
        0,
        "renewal must not create a session"
    );
    Ok(())
}

async fn session_update_idle_before_active_rejected(ctx: Ctx) -> CaseResult {
    let stored = ctx.create_session("s1", "u1", NOW, NOW + HOUR).await?;
    assert_invalid_input(
        ctx.sessions().update_session("s1", NOW + HOUR, NOW).await,
        "idle_expires",
    );
    assert_eq!(ctx.sessions().get_session("s1").await?, Some(stored));
    Ok(())
}

async fn session_invalid_input_rejected(ctx: Ctx) -> CaseResult {
    ctx.ensure_user("u1").await?;
    let sessions = ctx.sessions();
    let too_long = "s".repeat(MAX_ID_CHARS + 1);
    let cases = [
        (Session::new("", "u1", NOW, NOW), "id"),
        (Session::new("s1", "", NOW, NOW), "user_id"),
        (Session::new(&too_long, "u1", NOW, NOW), "id"),
        (Session::new("s1", &too_long, NOW, NOW), "user_id"),
        (Session::new("s\u{0}1", "u1", NOW, NOW), "id"),
        (Session::new("s1", "u1", NOW, NOW - 1), "idle_expires"),
    ];
    for (session, field) in cases {
        assert_invalid_input(sessions.set_session(session).await, field);
    }
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 0);
    Ok(())
}

async fn session_long_unicode_ids_round_trip(ctx: Ctx) -> CaseResult {
    let id = mixed_script(MAX_ID_CHARS);
    let user_id = mixed_script(MAX_ID_CHARS - 1) + "u";
    let session = ctx.create_session(&id, &user_id, NOW, NOW + HOUR).await?;
    assert_eq!(
        ctx.sessions().get_session(&id).await?,
        Some(session.clone())
    );
    assert_eq!(
        ctx.sessions().get_sessions_by_user_id(&user_id).await?,
        vec![session]
    );
    Ok(())
}

async fn session_extreme_times_round_trip(ctx: Ctx) -> CaseResult {
    let session = ctx.create_session("s1", "u1", i64::MIN, i64::MAX).await?;
    assert_eq!(ctx.sessions().get_session("s1").await?, Some(session));
    let zero = ctx.create_session("s2", "u1", 0, 0).await?;
    assert_eq!(ctx.sessions().get_session("s2").await?, Some(zero));
    Ok(())
}

async fn session_delete_several(ctx: Ctx) -> CaseResult {
    for id in ["a", "b", "c", "d"] {
        ctx.create_session(id, "u1", NOW, NOW + HOUR).await?;
    }
    let listed = ["a".to_owned(), "c".to_owned(), "ghost".to_owned()];
    ctx.sessions().delete_sessions(&listed).await?;

    assert_eq!(
        ids(&ctx.sessions().get_sessions_by_user_id("u1").await?),
        set(&["b", "d"])
    );
    assert_eq!(ctx.raw_sessions()?.read_session("a").await?, None);
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 2);
    Ok(())
}

async fn session_delete_none(ctx: Ctx) -> CaseResult {
    ctx.create_session("a", "u1", NOW, NOW + HOUR).await?;
    ctx.sessions().delete_sessions(&[]).await?;
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn session_delete_by_user(ctx: Ctx) -> CaseResult {
    for (id, user_id) in [("a1", "u1"), ("a2", "u1"), ("b1", "u2")] {
        ctx.create_session(id, user_id, NOW, NOW + HOUR).await?;
    }
    ctx.sessions().delete_sessions_by_user_id("u1").await?;
    ctx.sessions().delete_sessions_by_user_id("ghost").await?;

    assert!(
        ctx.sessions()
            .get_sessions_by_user_id("u1")
            .await?
            .is_empty()
    );
    assert_eq!(
        ids(&ctx.sessions().get_sessions_by_user_id("u2").await?),
        set(&["b1"])
    );
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn session_delete_expired_boundary(ctx: Ctx) -> CaseResult {
    // (id, expires, idle_expires): only idle_expires decides.
    let layout = [
        ("long_dead", NOW - 2 * HOUR, NOW - HOUR),
        ("dead_by_1ms", NOW - HOUR, NOW - 1),
        ("dies_now", NOW - HOUR, NOW),
        ("idle", NOW - HOUR, NOW + 1),
        ("active", NOW + HOUR, NOW + 2 * HOUR),
    ];
    for (id, expires, idle_expires) in layout {
        ctx.create_session(id, "u1", expires, idle_expires).await?;
    }

    let deleted = ctx.sessions().delete_expired_sessions(NOW).await?;
    assert_eq!(deleted, 3);
    let left = ids(&ctx.sessions().get_sessions_by_user_id("u1").await?);
    assert_eq!(left, set(&["idle", "active"]));
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 2);
    Ok(())
}

async fn session_delete_expired_none_due(ctx: Ctx) -> CaseResult {
    ctx.create_session("s1", "u1", NOW, NOW + 1).await?;
    assert_eq!(ctx.sessions().delete_expired_sessions(NOW).await?, 0);
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn session_concurrent_id_one_wins(ctx: Ctx) -> CaseResult {
    const CONTENDERS: usize = 16;
    for i in 0..CONTENDERS {
        ctx.ensure_user(&format!("u{i}")).await?;
    }
    let tasks: Vec<_> = (0..CONTENDERS)
        .map(|i| {
            let sessions = ctx.sessions().clone();
            tokio::spawn(async move {
                sessions
                    .set_session(Session::new("same", format!("u{i}"), NOW, NOW + HOUR))
                    .await
            })
        })
        .collect();
    let mut winners = 0;
    for task in tasks {
        match task.await.expect("create task panicked") {
            Ok(()) => winners += 1,
            Err(Error::DuplicateSessionId { session_id }) => assert_eq!(session_id, "same"),
            Err(other) => panic!("loser got {other:?}"),
        }
    }
    assert_eq!(winners, 1);
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn session_corrupt_missing_field_reported(ctx: Ctx) -> CaseResult {
    ctx.ensure_user("u1").await?;
    plant_session(&ctx, json!({"id": "s1", "user_id": "u1", "expires": NOW})).await?;
    assert_corrupt(
        ctx.sessions().get_session("s1").await,
        "s1",
        &["idle_expires"],
    );
    assert_corrupt(
        ctx.sessions().get_sessions_by_user_id("u1").await,
        "s1",
        &["idle_expires"],
    );
    Ok(())
}

async fn session_corrupt_wrong_type_reported(ctx: Ctx) -> CaseResult {
    ctx.ensure_user("u1").await?;
    plant_session(
        &ctx,
        json!({"id": "s1", "user_id": "u1", "expires": "soon", "idle_expires": NOW}),
    )
    .await?;
    assert_corrupt(ctx.sessions().get_session("s1").await, "s1", &["expires"]);
    Ok(())
}

async fn session_corrupt_non_string_id_reported(ctx: Ctx) -> CaseResult {
    ctx.ensure_user("u1").await?;
    plant_session(
        &ctx,
        json!({"id": 7, "user_id": "u1", "expires": NOW, "idle_expires": NOW}),
    )
    .await?;
    assert_corrupt(
        ctx.sessions().get_sessions_by_user_id("u1").await,
        "7",
        &["id", "_id"],
    );
    Ok(())
}
