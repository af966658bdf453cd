//! A case that runs every operation with secret values and checks that
//! neither `Debug` output nor `tracing` events reveal them.

use std::fmt::{self, Write as _};
use std::sync::{Arc, Mutex};

use adapter_api::{NewUser, Session, UserPatch};
use tracing::field::{Field, Visit};
use tracing::instrument::WithSubscriber;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};

use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[case!(
    secrets_absent_from_debug_and_traces,
    Role::Both,
    Needs::Storage
)];

const NOW: i64 = 1_700_000_000_000;
const HOUR: i64 = 3_600_000;

const PROVIDER_SECRET: &str = "secret-ada@example.com";
const NEW_PROVIDER_SECRET: &str = "secret-lovelace@example.com";
const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$SECRETHASHVALUE";
const NEW_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$OTHERSECRETHASH";
const SESSION_ID: &str = "tok_9f8e7d6c5b4a39281706f5e4d3c2b1a0";
const OTHER_SESSION_ID: &str = "tok_0a1b2c3d4e5f60718293a4b5c6d7e8f9";

/// Records every span field and event field as text.
#[derive(Clone, Default)]
struct CapturedTraces(Arc<Mutex<String>>);

struct TextVisitor<'a>(&'a mut String);

impl Visit for TextVisitor<'_> {
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", field.name(), value);
    }
}

impl<S: Subscriber> Layer<S> for CapturedTraces {
    fn on_new_span(&self, attrs: &Attributes<'_>, _id: &Id, _ctx: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nspan {} ", attrs.metadata().name());
        attrs.record(&mut TextVisitor(&mut text));
    }

    fn on_record(&self, _id: &Id, values: &Record<'_>, _ctx: Context<'_, S>) {
        values.record(&mut TextVisitor(&mut self.0.lock().unwrap()));
    }

    fn on_event(&self, event: &Event<'_>, _ctx: Context<'_, S>) {
        let mut text = self.0.lock().unwrap();
        let _ = write!(text, "\nevent {} ", event.metadata().target());
        event.record(&mut TextVisitor(&mut text));
    }
}

/// Runs every operation, both through `Storage` and on the adapters, and
/// returns the `Debug` text of every result.
async fn exercise(ctx: &Ctx) -> String {
    let mut debug = String::new();
    let storage = ctx.storage();
    let provider_id = format!("email:{PROVIDER_SECRET}");
    let new_provider_id = format!("email:{NEW_PROVIDER_SECRET}");
    let new_user = NewUser::new(&provider_id)
        .id("u1")
        .hashed_password(HASH)
        .attribute("plan", "pro");

    let _ = writeln!(debug, "{new_user:?}");
    let _ = writeln!(debug, "{:?}", storage.set_user(new_user.clone()).await);
    let _ = writeln!(debug, "{:?}", storage.set_user(new_user.id("u2")).await);
    let _ = writeln!(debug, "{:?}", storage.get_user("u1").await);
    let _ = writeln!(
        debug,
        "{:?}",
        storage.get_user_by_provider_id(&provider_id).await
    );
    let patch = UserPatch::new()
        .provider_id(&new_provider_id)
        .hashed_password(NEW_HASH);
    let _ = writeln!(debug, "{patch:?}");
    let _ = writeln!(debug, "{:?}", storage.update_user("u1", patch).await);

    let session = Session::new(SESSION_ID, "u1", NOW, NOW + HOUR);
    let _ = writeln!(debug, "{session:?}");
    let _ = writeln!(debug, "{:?}", storage.set_session(session.clone()).await);
    let _ = writeln!(debug, "{:?}", storage.set_session(session).await);
    let _ = writeln!(debug, "{:?}", storage.get_session(SESSION_ID).await);
    let _ = writeln!(debug, "{:?}", storage.get_sessions_by_user_id("u1").await);
    let _ = writeln!(
        debug,
        "{:?}",
        storage
            .update_session(SESSION_ID, NOW + HOUR, NOW + 2 * HOUR)
            .await
    );
    let _ = writeln!(
        debug,
        "{:?}",
        storage.update_session(OTHER_SESSION_ID, NOW, NOW).await
    );
    let _ = writeln!(
        debug,
        "{:?}",
        storage.get_session_and_user(SESSION_ID).await
    );
    let _ = writeln!(debug, "{:?}", ctx.sessions().get_session(SESSION_ID).await);
    let _ = writeln!(
        debug,
        "{:?}",
        ctx.users().get_user_by_provider_id(&new_provider_id).await
    );
    let ids = [SESSION_ID.to_owned(), OTHER_SESSION_ID.to_owned()];
    let _ = writeln!(debug, "{:?}", storage.delete_sessions(&ids).await);
    let _ = writeln!(
        debug,
        "{:?}",
        storage.delete_expired_sessions(NOW + 3 * HOUR).await
    );
    let _ = writeln!(
        debug,
        "{:?}",
        storage.delete_sessions_by_user_id("u1").await
    );
    let _ = writeln!(debug, "{:?}", storage.delete_user("u1").await);
    debug
}

async fn secrets_absent_from_debug_and_traces(ctx: Ctx) -> CaseResult {
    let traces = CapturedTraces::default();
    let subscriber = tracing_subscriber::registry().with(traces.clone());
    let debug = exercise(&ctx).with_subscriber(subscriber).await;
    let traces = traces.0.lock().unwrap().clone();

    // The storage layer opens a span per operation, so an empty capture
    // would mean the check saw nothing.
    assert!(
        traces.contains("span set_user"),
        "no spans were captured:\n{traces}"
    );

    for secret in [HASH, NEW_HASH, SESSION_ID, OTHER_SESSION_ID] {
        assert!(
            !debug.contains(secret),
            "Debug output reveals {secret:?}:\n{debug}"
        );
        assert!(
            !traces.contains(secret),
            "tracing reveals {secret:?}:\n{traces}"
        );
    }
    for secret in [PROVIDER_SECRET, NEW_PROVIDER_SECRET] {
        assert!(
            !traces.contains(secret),
            "tracing reveals the provider id {secret:?}:\n{traces}"
        );
        assert!(
            !debug.contains(secret),
            "Debug output reveals the provider id {secret:?}:\n{debug}"
        );
    }
    Ok(())
}
