//! Cases for one backend holding both sides: the joined lookup, the cascade
//! on user deletion and the adapter's own user check.

use std::collections::BTreeSet;

use adapter_api::{Error, NewUser, Session};
use serde_json::json;

use super::support::user;
use crate::case::{Case, CaseError, CaseResult, Ctx, Needs};
use crate::target::{PlantError, Role};

pub(crate) static CASES: &[Case] = &[
    case!(joined_session_and_user_found, Role::Both, Needs::Joined),
    case!(joined_missing_session_is_none, Role::Both, Needs::Joined),
    case!(joined_orphan_session_is_none, Role::Both, Needs::Joined),
    case!(
        joined_delete_user_deletes_sessions,
        Role::Both,
        Needs::Joined
    ),
    case!(
        joined_session_for_missing_user_rejected,
        Role::Both,
        Needs::UserCheckingSessions
    ),
    case!(
        joined_racing_delete_leaves_no_orphan,
        Role::Both,
        Needs::UserCheckingSessions
    ),
];

const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

async fn joined_session_and_user_found(ctx: Ctx) -> CaseResult {
    let stored_user = ctx
        .users()
        .set_user(
            NewUser::new("email:ada@example.com")
                .attribute("n", 1.5)
                .into_user("u1".into()),
        )
        .await?;
    let session = ctx.create_session("s1", "u1", NOW, NOW + HOUR).await?;

    let found = ctx.joined().get_session_and_user("s1").await?;
    assert_eq!(found, Some((session, stored_user)));
    Ok(())
}

async fn joined_missing_session_is_none(ctx: Ctx) -> CaseResult {
    ctx.create_session("s1", "u1", NOW, NOW + HOUR).await?;
    assert_eq!(ctx.joined().get_session_and_user("s2").await?, None);
    Ok(())
}

async fn joined_orphan_session_is_none(ctx: Ctx) -> CaseResult {
    // A session whose user is gone can exist only if it was written behind
    // the adapter's back (or by an older version of an application).
    let planted = ctx
        .raw_sessions()?
        .plant_session(
            json!({"id": "s1", "user_id": "ghost", "expires": NOW, "idle_expires": NOW + HOUR}),
        )
        .await;
    match planted {
        Ok(()) => {}
        Err(PlantError::Unsupported(reason)) => return Err(CaseError::Skip(reason)),
        Err(PlantError::Failed(err)) => {
            return Err(CaseError::Skip(format!(
                "the store rejects a session without its user: {err}"
            )));
        }
    }
    assert_eq!(ctx.joined().get_session_and_user("s1").await?, None);
    Ok(())
}

async fn joined_delete_user_deletes_sessions(ctx: Ctx) -> CaseResult {
    ctx.create_session("a1", "u1", NOW, NOW + HOUR).await?;
    ctx.create_session("a2", "u1", NOW, NOW + HOUR).await?;
    let kept = ctx.create_session("b1", "u2", NOW, NOW + HOUR).await?;

    ctx.users().delete_user("u1").await?;
    assert_eq!(ctx.users().get_user("u1").await?, None);
    assert!(
        ctx.sessions()
            .get_sessions_by_user_id("u1")
            .await?
            .is_empty()
    );
    assert_eq!(ctx.raw_sessions()?.read_session("a1").await?, None);
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    assert_eq!(ctx.sessions().get_session("b1").await?, Some(kept));
    Ok(())
}

async fn joined_session_for_missing_user_rejected(ctx: Ctx) -> CaseResult {
    ctx.users().set_user(user("u1", "p1")).await?;
    let err = ctx
        .sessions()
        .set_session(Session::new("s1", "ghost", NOW, NOW + HOUR))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::InvalidUserId { user_id } if user_id == "ghost"),
        "{err:?}"
    );
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 0);
    Ok(())
}

async fn joined_racing_delete_leaves_no_orphan(ctx: Ctx) -> CaseResult {
    const CREATES: usize = 24;
    ctx.users().set_user(user("u1", "p1")).await?;

    let creates: Vec<_> = (0..CREATES)
        .map(|i| {
            let sessions = ctx.sessions().clone();
            tokio::spawn(async move {
                sessions
                    .set_session(Session::new(format!("s{i}"), "u1", NOW, NOW + HOUR))
                    .await
            })
        })
        .collect();
    let users = ctx.users().clone();
    let delete = tokio::spawn(async move { users.delete_user("u1").await });

    let mut created = BTreeSet::new();
    for (i, task) in creates.into_iter().enumerate() {
        match task.await.expect("create task panicked") {
            Ok(()) => {
                created.insert(format!("s{i}"));
            }
            Err(Error::InvalidUserId { user_id }) => assert_eq!(user_id, "u1"),
            Err(other) => panic!("create got {other:?}"),
        }
    }
    delete.await.expect("delete task panicked")?;

    // Whichever way each create raced the delete, no session outlives the
    // user: a create that won was removed by the delete, and a create that
    // lost was rejected.
    assert_eq!(ctx.users().get_user("u1").await?, None);
    let left = ctx.sessions().get_sessions_by_user_id("u1").await?;
    assert!(
        left.is_empty(),
        "{} orphan sessions after the user was deleted ({} creates succeeded)",
        left.len(),
        created.len()
    );
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 0);
    Ok(())
}
