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
            user_duplicate_provider_id_rejected
            user_provider_id_matches_exactly
            user_without_password_reads_none
            user_attributes_round_trip
            user_large_attributes_round_trip
            user_reserved_keys_rejected
            user_unsafe_keys_rejected
            user_invalid_ids_rejected
            user_long_unicode_ids_round_trip
            user_update_returns_new_record
            user_update_keeps_unnamed_keys
            user_update_null_stored_as_null
            user_update_clears_password
            user_update_own_provider_id_allowed
            user_update_taken_provider_id_rejected
            user_update_frees_old_provider_id
            user_update_missing_user_rejected
            user_update_empty_patch_unchanged
            user_update_invalid_patch_rejected
            user_delete_removes_user
            user_delete_unknown_is_ok
            user_concurrent_provider_id_one_wins
            user_concurrent_id_one_wins
            user_corrupt_missing_field_reported
            user_corrupt_wrong_type_reported
            user_corrupt_non_string_id_reported
            user_corrupt_attributes_reported
            session_create_and_get
            session_get_missing_is_none
            session_duplicate_id_rejected
            session_dead_still_returned
            session_list_by_user
            session_update_returns_renewed
            session_update_missing_rejected
            session_update_idle_before_active_rejected
            session_invalid_input_rejected
            session_long_unicode_ids_round_trip
            session_extreme_times_round_trip
            session_delete_several
            session_delete_none
            session_delete_by_user
            session_delete_expired_boundary
            session_delete_expired_none_due
            session_concurrent_id_one_wins
            session_corrupt_missing_field_reported
            session_corrupt_wrong_type_reported
            session_corrupt_non_string_id_reported
            joined_session_and_user_found
            joined_missing_session_is_none
            joined_orphan_session_is_none
            joined_delete_user_deletes_sessions
            joined_session_for_missing_user_rejected
            joined_racing_delete_leaves_no_orphan
            storage_generates_user_id
            storage_custom_id_generator
            storage_generated_collision_retried
            storage_caller_id_collision_reported
            storage_session_for_missing_user_rejected
            storage_invalid_session_checked_first
            storage_delete_user_deletes_sessions
            storage_session_and_user_found
            storage_session_and_user_gone_user
            storage_split_sides_separate
            race_renew_while_deleted
            race_same_provider_id_updates
            race_user_and_provider_updates
            hostile_user_inputs_rejected
            hostile_patches_rejected
            hostile_session_inputs_rejected
            hostile_lookalike_ids_distinct
            hostile_planted_extra_fields_read
            hostile_planted_large_record_read
            hostile_non_finite_floats_null
            secrets_absent_from_debug_and_traces
            load_mixed_workload_matches_model
        }
    };
    ($backend:expr) => {
        $crate::conformance_tests!(@list (@tests_out ($backend)));
    };
}
