//! Users in MongoDB, sessions in SQLite: the README's split-storage example.
//!
//! Run it with a MongoDB server at `MONGODB_URI` (for instance the one that
//! `scripts/with-secantusdb` starts):
//! `scripts/with-secantusdb cargo run -p conformance-runner --example users_mongo_sessions_sqlite`

use adapter_api::{NewUser, Session, Storage, now_millis};
use adapter_mongo::{MongoOptions, MongoUserAdapter};
use adapter_sql::sqlite::SqliteAdapter;
use adapter_sql::sqlx::sqlite::SqlitePoolOptions;
use adapter_sql::{AdapterOptions, Sides};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let uri = std::env::var("MONGODB_URI")
        .map_err(|_| "set MONGODB_URI to a MongoDB connection string")?;
    let client = mongodb::Client::with_uri_str(&uri).await?;
    let users = MongoUserAdapter::new(&client.database("split_example"), MongoOptions::new());
    users.ensure_indexes().await?;

    let pool = SqlitePoolOptions::new().connect("sqlite::memory:").await?;
    let sessions = SqliteAdapter::new(pool, AdapterOptions::new().sides(Sides::Sessions));
    sessions.migrate().await?;

    let storage = Storage::split(users, sessions);

    let user = storage
        .set_user(NewUser::new("email:ada@example.com"))
        .await?;
    let now = now_millis();
    storage
        .set_session(Session::new(
            "split-example-session",
            &user.id,
            now + 3_600_000,
            now + 7_200_000,
        ))
        .await?;
    let (session, owner) = storage
        .get_session_and_user("split-example-session")
        .await?
        .ok_or("the session was just stored")?;
    println!(
        "user {} in MongoDB, session expiring at {} in SQLite",
        owner.id, session.expires
    );

    // Deleting the user deletes its sessions in SQLite first.
    storage.delete_user(&user.id).await?;
    assert!(
        storage
            .get_session("split-example-session")
            .await?
            .is_none()
    );
    client.database("split_example").drop().await?;
    Ok(())
}
