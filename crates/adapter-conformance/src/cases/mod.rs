//! Every conformance case, grouped by the part of the contract it checks.

use std::sync::OnceLock;

use crate::case::Case;

/// Builds a [`Case`] from an async fn of the same name.
macro_rules! case {
    ($name:ident, $role:expr, $needs:expr) => {
        $crate::case::Case {
            name: stringify!($name),
            role: $role,
            needs: $needs,
            run: |ctx| Box::pin($name(ctx)),
        }
    };
}

mod hostile;
mod joined;
mod load;
mod races;
mod secrets;
mod sessions;
mod storage;
mod support;
mod users;

/// Returns every case, in report order.
pub fn all() -> &'static [Case] {
    static ALL: OnceLock<Vec<Case>> = OnceLock::new();
    ALL.get_or_init(|| {
        [
            users::CASES,
            sessions::CASES,
            joined::CASES,
            storage::CASES,
            races::CASES,
            hostile::CASES,
            secrets::CASES,
            load::CASES,
        ]
        .concat()
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    #[test]
    fn names_unique() {
        let names: Vec<_> = super::all().iter().map(|case| case.name).collect();
        let unique: BTreeSet<_> = names.iter().collect();
        assert_eq!(unique.len(), names.len());
    }

    #[test]
    fn macro_lists_every_case() {
        let registered: BTreeSet<&str> = super::all().iter().map(|case| case.name).collect();
        let listed: BTreeSet<&str> = crate::conformance_tests!(@names).iter().copied().collect();
        let missing_from_macro: Vec<_> = registered.difference(&listed).collect();
        let unknown_in_macro: Vec<_> = listed.difference(&registered).collect();
        assert!(
            missing_from_macro.is_empty(),
            "add to conformance_tests!: {missing_from_macro:?}"
        );
        assert!(
            unknown_in_macro.is_empty(),
            "not registered: {unknown_in_macro:?}"
        );
    }
}
