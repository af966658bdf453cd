//! Hostile input, table by table: every row must fail with the typed error
//! naming its field and leave the store exactly as it was. Planted records
//! that are odd but readable must read back without loss.

use adapter_api::{
    Attributes, Error, NewUser, Session, User, UserPatch, validate::MAX_ATTRIBUTE_DEPTH,
};
use serde_json::{Value, json};

use super::support::{mixed_script, plant_user, user};
use crate::case::{Case, CaseResult, Ctx, Needs};
use crate::target::Role;

pub(crate) static CASES: &[Case] = &[
    case!(hostile_user_inputs_rejected, Role::Users, Needs::Users),
    case!(hostile_patches_rejected, Role::Users, Needs::Users),
    case!(
        hostile_session_inputs_rejected,
        Role::Sessions,
        Needs::Sessions
    ),
    case!(hostile_lookalike_ids_distinct, Role::Users, Needs::Users),
    case!(hostile_planted_extra_fields_read, Role::Users, Needs::Users),
    case!(hostile_planted_large_record_read, Role::Users, Needs::Users),
    case!(hostile_non_finite_floats_null, Role::Users, Needs::Users),
];

const NOW: i64 = 1_700_000_000_000;

fn attributes(value: Value) -> Attributes {
    value
        .as_object()
        .expect("attribute rows are JSON objects")
        .clone()
}

fn with_attributes(value: Value) -> User {
    let mut new = user("victim-2", "provider-2");
    new.attributes = attributes(value);
    new
}

fn deep(levels: usize) -> Value {
    let mut value = json!(1);
    for _ in 0..levels {
        value = json!([value]);
    }
    value
}

/// Rows of (what the row tries, the user to create, the field the error must
/// name).
fn user_rows() -> Vec<(&'static str, User, String)> {
    let long = "x".repeat(256);
    let huge = "x".repeat(10_000);
    let mut rows = vec![
        ("empty id", user("", "p"), "id".to_owned()),
        ("256-character id", user(&long, "p"), "id".to_owned()),
        ("10 000-character id", user(&huge, "p"), "id".to_owned()),
        ("NUL in id", user("a\u{0}b", "p"), "id".to_owned()),
        ("NUL alone as id", user("\u{0}", "p"), "id".to_owned()),
        (
            "256 mixed-script characters as id",
            user(&mixed_script(256), "p"),
            "id".to_owned(),
        ),
        (
            "empty provider id",
            user("victim-2", ""),
            "provider_id".to_owned(),
        ),
        (
            "256-character provider id",
            user("victim-2", &long),
            "provider_id".to_owned(),
        ),
        (
            "NUL in provider id",
            user("victim-2", "email:a\u{0}@b"),
            "provider_id".to_owned(),
        ),
        (
            "NUL in password hash",
            NewUser::new("provider-2")
                .hashed_password("$2b$\u{0}")
                .into_user("victim-2".into()),
            "hashed_password".to_owned(),
        ),
    ];
    for key in ["id", "_id", "provider_id", "hashed_password", "__v"] {
        rows.push((
            "reserved key",
            with_attributes(json!({ key: 1 })),
            format!("attributes.{key}"),
        ));
    }
    let unsafe_keys = [
        (
            "operator key",
            json!({"$where": "sleep(1000)"}),
            "attributes.$where",
        ),
        ("lone dollar key", json!({"$": 1}), "attributes.$"),
        (
            "dollar-prefixed id key",
            json!({"$id": 1}),
            "attributes.$id",
        ),
        (
            "dotted key",
            json!({"profile.name": "x"}),
            "attributes.profile.name",
        ),
        ("lone dot key", json!({".": 1}), "attributes.."),
        ("empty key", json!({"": 1}), "attributes."),
        ("NUL in key", json!({"a\u{0}": 1}), "attributes.a\u{0}"),
        (
            "nested operator key",
            json!({"q": {"$ne": null}}),
            "attributes.q.$ne",
        ),
        (
            "operator key in array",
            json!({"q": [1, {"$gt": 0}]}),
            "attributes.q[1].$gt",
        ),
        (
            "dotted key deep down",
            json!({"a": {"b": {"c.d": 1}}}),
            "attributes.a.b.c.d",
        ),
        (
            "NUL in string value",
            json!({"bio": "a\u{0}b"}),
            "attributes.bio",
        ),
        (
            "NUL in nested string",
            json!({"tags": ["ok", "b\u{0}d"]}),
            "attributes.tags[1]",
        ),
        ("integer above i64", json!({"n": u64::MAX}), "attributes.n"),
        (
            "integer just above i64",
            json!({"n": (i64::MAX as u64) + 1}),
            "attributes.n",
        ),
    ];
    for (label, value, field) in unsafe_keys {
        rows.push((label, with_attributes(value), field.to_owned()));
    }
    let mut too_deep = with_attributes(json!({}));
    too_deep
        .attributes
        .insert("deep".into(), deep(MAX_ATTRIBUTE_DEPTH + 1));
    rows.push((
        "nesting past the limit",
        too_deep,
        "attributes.deep".to_owned(),
    ));
    rows
}

/// Asserts that `result` is `InvalidInput` naming `field` or a path inside
/// it, because a nesting error names the array where the limit was passed.
#[track_caller]
fn assert_rejected(label: &str, result: adapter_api::Result<impl std::fmt::Debug>, field: &str) {
    match result {
        Err(Error::InvalidInput { field: actual, .. }) => {
            assert!(
                actual.starts_with(field),
                "{label}: error names {actual:?}, expected {field:?}"
            )
        }
        other => panic!("{label}: expected InvalidInput for {field:?}, got {other:?}"),
    }
}

async fn hostile_user_inputs_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let bystander = users
        .set_user(
            NewUser::new("provider-1")
                .hashed_password("h")
                .attribute("a", 1)
                .into_user("victim-1".into()),
        )
        .await?;
    let rows = user_rows();
    assert!(rows.len() >= 30, "the table lost rows: {}", rows.len());

    for (label, candidate, field) in rows {
        let id = candidate.id.clone();
        assert_rejected(label, users.set_user(candidate).await, &field);
        if !id.is_empty() && !id.contains('\0') && id.chars().count() <= 255 {
            assert_eq!(
                users.get_user(&id).await?,
                None,
                "{label}: the user was stored"
            );
        }
    }

    assert_eq!(
        users.get_user("victim-1").await?,
        Some(bystander),
        "a rejected write changed another user"
    );
    assert_eq!(users.get_user_by_provider_id("provider-2").await?, None);
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    Ok(())
}

async fn hostile_patches_rejected(ctx: Ctx) -> CaseResult {
    let users = ctx.users();
    let stored = users
        .set_user(
            NewUser::new("provider-1")
                .hashed_password("h")
                .attribute("a", 1)
                .into_user("victim-1".into()),
        )
        .await?;
    let rows = [
        (
            "empty provider id",
            UserPatch::new().provider_id(""),
            "provider_id",
        ),
        (
            "NUL in provider id",
            UserPatch::new().provider_id("p\u{0}"),
            "provider_id",
        ),
        (
            "256-character provider id",
            UserPatch::new().provider_id("p".repeat(256)),
            "provider_id",
        ),
        (
            "NUL in password hash",
            UserPatch::new().hashed_password("\u{0}"),
            "hashed_password",
        ),
        (
            "reserved key",
            UserPatch::new().attribute("_id", "victim-2"),
            "attributes._id",
        ),
        (
            "reserved version key",
            UserPatch::new().attribute("__v", 0),
            "attributes.__v",
        ),
        (
            "operator key beside a valid one",
            UserPatch::new().attribute("a", 2).attribute("$inc", 1),
            "attributes.$inc",
        ),
        (
            "dotted key",
            UserPatch::new().attribute("a.b", 1),
            "attributes.a.b",
        ),
        (
            "nested operator key",
            UserPatch::new().attribute("a", json!({"$set": 1})),
            "attributes.a.$set",
        ),
        (
            "integer above i64",
            UserPatch::new().attribute("a", u64::MAX),
            "attributes.a",
        ),
    ];
    for (label, patch, field) in rows {
        assert_rejected(label, users.update_user("victim-1", patch).await, field);
        assert_eq!(
            users.get_user("victim-1").await?.as_ref(),
            Some(&stored),
            "{label}: the user changed"
        );
    }
    assert_eq!(ctx.raw_users()?.count_users().await?, 1);
    Ok(())
}

async fn hostile_session_inputs_rejected(ctx: Ctx) -> CaseResult {
    let bystander = ctx.create_session("victim-s", "u1", NOW, NOW + 10).await?;
    let sessions = ctx.sessions();
    let rows = [
        ("empty id", Session::new("", "u1", NOW, NOW), "id"),
        (
            "256-character id",
            Session::new("s".repeat(256), "u1", NOW, NOW),
            "id",
        ),
        ("NUL in id", Session::new("s\u{0}", "u1", NOW, NOW), "id"),
        ("empty user id", Session::new("s1", "", NOW, NOW), "user_id"),
        (
            "NUL in user id",
            Session::new("s1", "u\u{0}", NOW, NOW),
            "user_id",
        ),
        (
            "idle end before active end",
            Session::new("s1", "u1", NOW, NOW - 1),
            "idle_expires",
        ),
        (
            "idle end at i64::MIN",
            Session::new("s1", "u1", i64::MIN + 1, i64::MIN),
            "idle_expires",
        ),
        (
            "same id as a stored session but invalid",
            Session::new("victim-s", "u1", NOW, NOW - 1),
            "idle_expires",
        ),
    ];
    for (label, session, field) in rows {
        assert_rejected(label, sessions.set_session(session).await, field);
    }
    assert_rejected(
        "renewal ending idle before active",
        sessions.update_session("victim-s", NOW + 5, NOW + 4).await,
        "idle_expires",
    );

    assert_eq!(sessions.get_session("victim-s").await?, Some(bystander));
    assert_eq!(ctx.raw_sessions()?.count_sessions().await?, 1);
    Ok(())
}

async fn hostile_lookalike_ids_distinct(ctx: Ctx) -> CaseResult {
    // Each pair looks alike to a person (or to a case-insensitive, padded or
    // normalising collation) but is a different id.
    let pairs = [
        ("admin", "аdmin"), // Latin a, then Cyrillic а
        ("straße", "STRASSE"),
        ("e\u{301}", "\u{e9}"), // decomposed and composed é
        ("user", "user "),
        ("member", "Member"),
        ("a\u{200d}b", "ab"),     // zero-width joiner
        ("שלום", "שלום\u{200f}"), // right-to-left mark
    ];
    let users = ctx.users();
    for (index, (first, second)) in pairs.iter().enumerate() {
        users
            .set_user(user(first, &format!("email:{first}")))
            .await?;
        users
            .set_user(user(second, &format!("email:{second}")))
            .await?;
        let read_first = users.get_user(first).await?.expect("first of the pair");
        let read_second = users.get_user(second).await?.expect("second of the pair");
        assert_eq!(read_first.id, *first, "pair {index}");
        assert_eq!(read_second.id, *second, "pair {index}");
        let by_provider = users
            .get_user_by_provider_id(&format!("email:{second}"))
            .await?;
        assert_eq!(
            by_provider.map(|user| user.id),
            Some((*second).to_owned()),
            "pair {index}"
        );
    }
    assert_eq!(
        ctx.raw_users()?.count_users().await?,
        2 * pairs.len() as u64
    );
    Ok(())
}

async fn hostile_planted_extra_fields_read(ctx: Ctx) -> CaseResult {
    // Attributes written by another application or an older version, with
    // keys this version never writes itself, still read back whole.
    let attributes =
        json!({"legacy_flag": true, "nested": {"deep": [1, 2.5, "x"]}, "created_by": "import"});
    plant_user(
        &ctx,
        json!({"id": "u1", "provider_id": "p1", "hashed_password": null, "attributes": attributes}),
    )
    .await?;

    let read = ctx.users().get_user("u1").await?.expect("planted user");
    assert_eq!(Value::Object(read.attributes), attributes);
    Ok(())
}

async fn hostile_planted_large_record_read(ctx: Ctx) -> CaseResult {
    // About 4 MiB of attributes: under MongoDB's 16 MiB document limit, and
    // large enough that SQL databases store the value out of line (TOAST in
    // PostgreSQL, off-page columns in InnoDB).
    let blob = "y".repeat(4 * 1024 * 1024);
    let record = json!({"id": "u1", "provider_id": "p1", "hashed_password": "h", "attributes": {"blob": blob}});
    plant_user(&ctx, record).await?;

    let read = ctx.users().get_user("u1").await?.expect("planted user");
    assert_eq!(
        read.attributes["blob"].as_str().map(str::len),
        Some(blob.len())
    );
    Ok(())
}

async fn hostile_non_finite_floats_null(ctx: Ctx) -> CaseResult {
    // serde_json turns NaN and the infinities into null on conversion, so
    // that is what every backend must store and return: never an error, a
    // string such as "NaN", or a lost neighbouring value.
    let users = ctx.users();
    let created = users
        .set_user(
            NewUser::new("provider-1")
                .attribute("nan", f64::NAN)
                .attribute("infinity", f64::INFINITY)
                .attribute("negative_infinity", f64::NEG_INFINITY)
                .attribute("list", vec![1.5, f64::NAN])
                .attribute("max", f64::MAX)
                .attribute("smallest", f64::MIN_POSITIVE)
                .into_user("u1".into()),
        )
        .await?;
    let expected = json!({
        "nan": null,
        "infinity": null,
        "negative_infinity": null,
        "list": [1.5, null],
        "max": f64::MAX,
        "smallest": f64::MIN_POSITIVE,
    });
    assert_eq!(Value::Object(created.attributes.clone()), expected);

    let read = users.get_user("u1").await?.expect("created user");
    assert_eq!(Value::Object(read.attributes), expected);

    let patched = users
        .update_user("u1", UserPatch::new().attribute("max", -f64::INFINITY))
        .await?;
    assert_eq!(patched.attributes["max"], Value::Null);
    assert_eq!(patched.attributes["smallest"], json!(f64::MIN_POSITIVE));

    let stored = ctx.raw_users()?.read_user("u1").await?.expect("raw user");
    assert_eq!(stored["attributes"]["nan"], Value::Null);
    assert_eq!(stored["attributes"]["max"], Value::Null);
    assert_eq!(stored["attributes"]["list"], json!([1.5, null]));
    Ok(())
}
