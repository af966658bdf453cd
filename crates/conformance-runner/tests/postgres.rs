//! The conformance suite on PostgreSQL (`POSTGRES_URL`, by default
//! `postgres://postgres@127.0.0.1:5432/test`): both sides in one schema,
//! and users in PostgreSQL with sessions in memory.

use adapter_conformance::Split;
use conformance_runner::backends::memory::MemoryBackend;
use conformance_runner::backends::sql::SqlBackend;

mod both {
    use super::SqlBackend;

    adapter_conformance::conformance_tests!(SqlBackend::postgres_from_env());
}

mod users_with_memory_sessions {
    use super::{MemoryBackend, Split, SqlBackend};

    adapter_conformance::conformance_tests!(Split::new(
        SqlBackend::postgres_from_env(),
        MemoryBackend::new()
    ));
}
