//! Cases where two writes race: whichever order they land in, the contract
//! must hold afterwards.

use adapter_api::{Error, Session, UserPatch};

use super::support::user;
use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(race_renew_while_deleted, Role::Sessions, Needs::Sessions),
    case!(race_same_provider_id_updates, Role::Users, Needs::Users),
    case!(race_user_and_provider_updates, Role::Users, Needs::Users),
];

const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

/// Rounds per race: each round gives the scheduler another chance to
/// interleave the two writes differently.
const ROUNDS: usize = 20;

async fn race_renew_while_deleted(ctx: Ctx) -> CaseResult {
    for round in 0..ROUNDS {
        let id = format!("s{round}");
        ctx.create_session(&id, "u1", NOW, NOW + HOUR).await?;

        let sessions = ctx.sessions().clone();
        let renew_id = id.clone();
        let renew = tokio::spawn(async move {
            sessions
                .update_session(&renew_id, NOW + HOUR, NOW + 2 * HOUR)
                .await
        });
        let sessions = ctx.sessions().clone();
        let delete_ids = vec![id.clone()];
        let delete = tokio::spawn(async move { sessions.delete_sessions(&delete_ids).await });

        match renew.await.expect("renew task panicked") {
            Ok(renewed) => assert_eq!(renewed, Session::new(&id, "u1", NOW + HOUR, NOW + 2 * HOUR)),
            Err(Error::InvalidSessionId { session_id }) => assert_eq!(session_id, id),
            Err(other) => panic!("renewal got {other:?}"),
        }
        delete.await.expect("delete task panicked")?;

        // The delete finished last or won outright: a renewal must never
        // bring the session back.
        assert_eq!(
            ctx.sessions().get_session(&id).await?,
            None,
            "round {round}"
        );
        assert_eq!(
            ctx.raw_sessions()?.read_session(&id).await?,
            None,
            "round {round}"
        );
    }
    Ok(())
}

async fn race_same_provider_id_updates(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    for round in 0..ROUNDS {
        let (first, second) = (format!("a{round}"), format!("b{round}"));
        users
            .set_user(user(&first, &format!("old-a{round}")))
            .await?;
        users
            .set_user(user(&second, &format!("old-b{round}")))
            .await?;
        let target = format!("new{round}");

        let tasks: Vec<_> = [&first, &second]
            .into_iter()
            .map(|id| {
                let users = users.clone();
                let (id, patch) = (id.clone(), UserPatch::new().provider_id(&target));
                tokio::spawn(async move { users.update_user(&id, patch).await })
            })
            .collect();
        let mut winners = Vec::new();
        for task in tasks {
            match task.await.expect("update task panicked") {
                Ok(updated) => winners.push(updated.id),
                Err(Error::DuplicateProviderId { provider_id }) => assert_eq!(provider_id, target),
                Err(other) => panic!("update got {other:?}"),
            }
        }
        assert_eq!(
            winners.len(),
            1,
            "round {round}: exactly one update may win"
        );

        let owner = users
            .get_user_by_provider_id(&target)
            .await?
            .expect("the winner owns the provider id");
        assert_eq!(owner.id, winners[0]);
        let loser = if winners[0] == first { &second } else { &first };
        let loser_record = users
            .get_user(loser)
            .await?
            .expect("the loser still exists");
        assert!(
            loser_record.provider_id.starts_with("old-"),
            "the loser kept {:?}",
            loser_record.provider_id
        );
    }
    Ok(())
}

async fn race_user_and_provider_updates(ctx: Ctx) -> CaseResult {
    // One user changes its provider id while another user is created with
    // the old one: the old id is taken until the update lands, so the create
    // either fails as a duplicate or succeeds after the update.
    let users = ctx.users();
    for round in 0..ROUNDS {
        let (old, new) = (format!("old{round}"), format!("new{round}"));
        users.set_user(user(&format!("a{round}"), &old)).await?;

        let updater = users.clone();
        let (id, patch) = (format!("a{round}"), UserPatch::new().provider_id(&new));
        let update = tokio::spawn(async move { updater.update_user(&id, patch).await });
        let creator = users.clone();
        let candidate = user(&format!("b{round}"), &old);
        let create = tokio::spawn(async move { creator.set_user(candidate).await });

        update.await.expect("update task panicked")?;
        let created = match create.await.expect("create task panicked") {
            Ok(_) => true,
            Err(Error::DuplicateProviderId { provider_id }) => {
                assert_eq!(provider_id, old);
                false
            }
            Err(other) => panic!("create got {other:?}"),
        };

        let holder = users.get_user_by_provider_id(&old).await?;
        assert_eq!(
            holder.map(|user| user.id),
            created.then(|| format!("b{round}")),
            "round {round}"
        );
        let moved = users.get_user_by_provider_id(&new).await?;
        assert_eq!(
            moved.map(|user| user.id),
            Some(format!("a{round}")),
            "round {round}"
        );
    }
    Ok(())
}
