//! The conformance suite on the memory backend: both sides in one instance,
//! and users and sessions in two instances.

// The runner binary reports on the same backend factory, so both use this
// one file.
#[path = "../../conformance-runner/src/backends/memory.rs"]
mod memory_backend;

use adapter_conformance::Split;
use memory_backend::MemoryBackend;

mod both {
    use super::*;
    adapter_conformance::conformance_tests!(MemoryBackend::new());
}

mod split {
    use super::*;
    adapter_conformance::conformance_tests!(Split::new(MemoryBackend::new(), MemoryBackend::new()));
}
