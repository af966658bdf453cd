//! The table layouts every database creates, by [`Sides`].

use crate::Sides;

/// One database's `CREATE` statements for every layout.
pub(crate) struct Schema<'a> {
    /// Creates `users`.
    pub users: &'a str,
    /// Creates `sessions` with the foreign key to `users`.
    pub sessions_with_users: &'a str,
    /// Creates `sessions` without a foreign key, for users kept elsewhere.
    pub sessions_alone: &'a str,
    /// Creates the indexes of `sessions`, where the table statements do not
    /// declare them inline.
    pub session_indexes: &'a [&'a str],
}

impl<'a> Schema<'a> {
    /// Returns the statements that create the tables of `sides`, in order.
    pub(crate) fn statements(&self, sides: Sides) -> Vec<&'a str> {
        let mut statements = Vec::new();
        if sides.has_users() {
            statements.push(self.users);
        }
        match sides {
            Sides::Both => statements.push(self.sessions_with_users),
            Sides::Sessions => statements.push(self.sessions_alone),
            Sides::Users => {}
        }
        if sides.has_sessions() {
            statements.extend(self.session_indexes);
        }
        statements
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA: Schema<'static> = Schema {
        users: "users",
        sessions_with_users: "sessions+fk",
        sessions_alone: "sessions",
        session_indexes: &["index"],
    };

    #[test]
    fn layouts() {
        assert_eq!(
            SCHEMA.statements(Sides::Both),
            ["users", "sessions+fk", "index"]
        );
        assert_eq!(SCHEMA.statements(Sides::Users), ["users"]);
        assert_eq!(SCHEMA.statements(Sides::Sessions), ["sessions", "index"]);
    }
}
