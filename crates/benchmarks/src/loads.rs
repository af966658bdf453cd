//! The mixed session load through any adapter.

use std::sync::Arc;

use adapter_api::SessionAdapter;
use async_trait::async_trait;

use crate::measure::SessionLoad;

/// Any session adapter as a [`SessionLoad`].
pub struct AdapterLoad(pub Arc<dyn SessionAdapter>);

#[async_trait]
impl SessionLoad for AdapterLoad {
    async fn read(&self, session_id: &str) {
        self.0.get_session(session_id).await.expect("get_session");
    }

    async fn renew(&self, session_id: &str, expires: i64, idle_expires: i64) {
        self.0
            .update_session(session_id, expires, idle_expires)
            .await
            .expect("update_session");
    }
}
