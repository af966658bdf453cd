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

/// Users in MongoDB (`MONGODB_URI`; run through `scripts/with-secantusdb`
/// to start a local server) and sessions in SQLite, whose sessions-only
/// tables have no foreign key to a users table.
mod users_in_mongodb {
    use adapter_conformance::Split;
    use conformance_runner::backends::mongo::MongoBackend;

    use super::SqlBackend;

    adapter_conformance::conformance_tests!(Split::new(
        MongoBackend::from_env(),
        SqlBackend::sqlite_memory()
    ));
}
