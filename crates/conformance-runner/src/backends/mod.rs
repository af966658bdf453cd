//! The workspace's backends as the conformance suite sees them: each builds
//! an isolated target per case and gives raw access to what it stores.

pub mod memory;
pub mod mongo;
pub mod sql;
