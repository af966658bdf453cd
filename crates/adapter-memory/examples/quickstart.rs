//! The README's first program: a user and a session stored in memory and
//! read back, then a sign-up that handles a taken address.

use adapter_api::{Error, NewUser, Session, Storage, now_millis};
use adapter_memory::MemoryAdapter;

#[tokio::main]
async fn main() -> Result<(), adapter_api::Error> {
    let storage = Storage::new(MemoryAdapter::new());

    let new_user = NewUser::new("email:ada@example.com").attribute("plan", "pro");
    let user = storage.set_user(new_user).await?;
    let now = now_millis();
    let session = Session::new("session-token", &user.id, now + 3_600_000, now + 7_200_000);
    storage.set_session(session).await?;

    let stored = storage
        .get_user(&user.id)
        .await?
        .expect("the user was stored");
    println!("{} is on plan {}", stored.id, stored.attributes["plan"]);

    let (session, owner) = storage
        .get_session_and_user("session-token")
        .await?
        .unwrap();
    println!("session of {} is {:?}", owner.id, session.state(now));

    sign_up(&storage, "ada@example.com").await?;
    Ok(())
}

async fn sign_up(storage: &Storage, email: &str) -> Result<(), Error> {
    match storage
        .set_user(NewUser::new(format!("email:{email}")))
        .await
    {
        Ok(user) => println!("created {}", user.id),
        Err(Error::DuplicateProviderId { .. }) => println!("that address is already registered"),
        Err(err) if err.is_retryable() => println!("database unavailable, try again"),
        Err(err) => return Err(err),
    }
    Ok(())
}
