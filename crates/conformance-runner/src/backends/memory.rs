//! The memory backend for the suite. It stores typed records, so it can
//! plant only records that are well-formed; corrupt-record cases skip here.

use std::sync::Arc;

use adapter_api::{BoxError, Session, User};
use adapter_conformance::{Backend, PlantError, RawStore, Role, SetupError, Target};
use adapter_memory::MemoryAdapter;
use async_trait::async_trait;
use serde_json::Value;

/// Builds a new, empty [`MemoryAdapter`] for every case.
#[derive(Debug, Clone, Copy, Default)]
pub struct MemoryBackend;

impl MemoryBackend {
    /// Creates the backend factory.
    pub fn new() -> Self {
        MemoryBackend
    }
}

#[async_trait]
impl Backend for MemoryBackend {
    fn name(&self) -> String {
        "memory".to_owned()
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        let adapter = match role {
            Role::Sessions => MemoryAdapter::sessions_only(),
            Role::Both | Role::Users => MemoryAdapter::new(),
        };
        let raw = Arc::new(MemoryRaw(adapter.clone()));
        let target = match role {
            Role::Both => Target::both(Arc::new(adapter)),
            Role::Users => Target::users(Arc::new(adapter)),
            Role::Sessions => Target::sessions(Arc::new(adapter)),
        };
        Ok(target.with_raw(raw))
    }
}

struct MemoryRaw(MemoryAdapter);

fn unsupported(kind: &str, err: serde_json::Error) -> PlantError {
    PlantError::Unsupported(format!(
        "the memory backend stores typed records and cannot hold this {kind}: {err}"
    ))
}

#[async_trait]
impl RawStore for MemoryRaw {
    async fn read_user(&self, id: &str) -> Result<Option<Value>, BoxError> {
        let user = self.0.stored_users().into_iter().find(|user| user.id == id);
        Ok(user.map(serde_json::to_value).transpose()?)
    }

    async fn read_session(&self, id: &str) -> Result<Option<Value>, BoxError> {
        let session = self
            .0
            .stored_sessions()
            .into_iter()
            .find(|session| session.id == id);
        Ok(session.map(serde_json::to_value).transpose()?)
    }

    async fn count_users(&self) -> Result<u64, BoxError> {
        Ok(self.0.stored_users().len() as u64)
    }

    async fn count_sessions(&self) -> Result<u64, BoxError> {
        Ok(self.0.stored_sessions().len() as u64)
    }

    async fn plant_user(&self, record: Value) -> Result<(), PlantError> {
        let user: User = serde_json::from_value(record).map_err(|err| unsupported("user", err))?;
        self.0.insert_user_unchecked(user);
        Ok(())
    }

    async fn plant_session(&self, record: Value) -> Result<(), PlantError> {
        let session: Session =
            serde_json::from_value(record).map_err(|err| unsupported("session", err))?;
        self.0.insert_session_unchecked(session);
        Ok(())
    }
}
