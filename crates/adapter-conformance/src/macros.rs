/// Expands to one named `#[test]` per conformance case, run against the
/// backend that `$backend` builds.
///
/// ```ignore
/// adapter_conformance::conformance_tests!(my_backend::TestBackend::new());
/// ```
///
/// The tests are named `conformance::case_<n>_<case name>` by `rstest`, so
/// `cargo test` reports every case on its own and a filter such as
/// `cargo test user_duplicate` runs a few. The calling crate needs `rstest`
/// as a dev-dependency, because its attribute resolves the crate by name.
///
/// `$backend` is evaluated once per test and must implement
/// [`Backend`](crate::Backend).
#[macro_export]
macro_rules! conformance_tests {
    (@names) => {
        $crate::conformance_tests!(@list (@names_out))
    };
    (@names_out $($name:ident)*) => {
        &[$(stringify!($name)),*]
    };
    (@tests_out ($backend:expr) $($name:ident)*) => {
        #[rstest::rstest]
        $( #[case::$name(stringify!($name))] )*
        fn conformance(#[case] case_name: &str) {
            let backend = $backend;
            $crate::run_case_test(&backend, case_name);
        }
    };
    (@list ($($callback:tt)*)) => {
        $crate::conformance_tests! {
            $($callback)*
            user_create_and_get
            user_get_missing_is_none
            user_duplicate_id_rejected
        }
    };
    ($backend:expr) => {
        $crate::conformance_tests!(@list (@tests_out ($backend)));
    };
}
