//! The conformance suite on SQLite: in memory, in a file, and as the
//! session side next to users in another backend.

use conformance_runner::backends::sql::SqlBackend;

mod memory {
    use super::SqlBackend;

    adapter_conformance::conformance_tests!(SqlBackend::sqlite_memory());
}

mod file {
    use super::SqlBackend;

    adapter_conformance::conformance_tests!(SqlBackend::sqlite_temp_file());
}
