//! Adapter options besides the pool.

use adapter_api::ErrorHook;

/// The sides an adapter serves. They decide which tables `migrate` creates
/// and whether the database itself checks that a session's user exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Sides {
    /// Users and sessions in this database: `sessions.user_id` references
    /// `users.id` with `ON DELETE CASCADE`.
    #[default]
    Both,
    /// Users only. No `sessions` table is created or queried.
    Users,
    /// Sessions only, with users kept in another backend. The `sessions`
    /// table has no foreign key, so the database does not check that a
    /// session's user exists. `adapter_api::Storage` checks it through the
    /// user adapter instead.
    Sessions,
}

impl Sides {
    /// Returns whether this layout has a `users` table.
    pub fn has_users(self) -> bool {
        matches!(self, Sides::Both | Sides::Users)
    }

    /// Returns whether this layout has a `sessions` table.
    pub fn has_sessions(self) -> bool {
        matches!(self, Sides::Both | Sides::Sessions)
    }
}

/// Options of [`SqlAdapter::new`](crate::SqlAdapter::new).
#[derive(Debug, Clone, Default)]
pub struct AdapterOptions {
    /// The sides the adapter serves, [`Sides::Both`] by default.
    pub sides: Sides,
    /// Called with every backend error before it is returned.
    pub error_hook: Option<ErrorHook>,
}

impl AdapterOptions {
    /// Options for an adapter serving both sides, without an error hook.
    pub fn new() -> Self {
        AdapterOptions::default()
    }

    /// Sets the sides the adapter serves.
    pub fn sides(mut self, sides: Sides) -> Self {
        self.sides = sides;
        self
    }

    /// Sets the hook that receives every backend error first.
    pub fn error_hook(mut self, hook: ErrorHook) -> Self {
        self.error_hook = Some(hook);
        self
    }
}
