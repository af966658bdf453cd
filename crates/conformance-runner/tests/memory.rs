//! The conformance suite on the memory backend, both sides in one instance
//! and split over two instances.

use adapter_conformance::Split;
use conformance_runner::backends::memory::MemoryBackend;

mod both {
    use super::*;
    adapter_conformance::conformance_tests!(MemoryBackend::new());
}

mod split {
    use super::*;
    adapter_conformance::conformance_tests!(Split::new(MemoryBackend::new(), MemoryBackend::new()));
}
