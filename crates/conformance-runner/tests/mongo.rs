//! The conformance suite on MongoDB: both sides in one database, and split
//! with the memory backend on either side.
//!
//! The server comes from `MONGODB_URI`; run through
//! `scripts/with-secantusdb` to start a local one. Without it every case is
//! skipped with the reason, and fails under `CI=true`.

mod both {
    use conformance_runner::backends::mongo::MongoBackend;

    adapter_conformance::conformance_tests!(MongoBackend::from_env());
}

mod users_in_mongodb {
    use adapter_conformance::Split;
    use conformance_runner::backends::memory::MemoryBackend;
    use conformance_runner::backends::mongo::MongoBackend;

    adapter_conformance::conformance_tests!(Split::new(
        MongoBackend::from_env(),
        MemoryBackend::new()
    ));
}

mod sessions_in_mongodb {
    use adapter_conformance::Split;
    use conformance_runner::backends::memory::MemoryBackend;
    use conformance_runner::backends::mongo::MongoBackend;

    adapter_conformance::conformance_tests!(Split::new(
        MemoryBackend::new(),
        MongoBackend::from_env()
    ));
}
