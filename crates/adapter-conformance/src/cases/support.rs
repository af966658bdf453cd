//! Assertions and fixtures shared by the cases.

use adapter_api::{Error, NewUser, User};

/// Builds a user with this id and provider id, no password and no attributes.
pub(crate) fn user(id: &str, provider_id: &str) -> User {
    NewUser::new(provider_id).into_user(id.to_owned())
}

/// Asserts that `result` is [`Error::InvalidInput`] naming `field`.
#[track_caller]
pub(crate) fn assert_invalid_input<T: std::fmt::Debug>(
    result: adapter_api::Result<T>,
    field: &str,
) {
    match result {
        Err(Error::InvalidInput { field: actual, .. }) => {
            assert_eq!(actual, field, "InvalidInput names the wrong field")
        }
        other => panic!("expected InvalidInput for {field}, got {other:?}"),
    }
}

/// Builds a string of `count` characters cycling through several scripts,
/// combining marks and characters outside the Basic Multilingual Plane.
pub(crate) fn mixed_script(count: usize) -> String {
    const PIECES: [char; 8] = ['a', 'é', 'ж', '漢', 'ع', '\u{0301}', '😀', 'Z'];
    (0..count).map(|i| PIECES[i % PIECES.len()]).collect()
}
