#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]
// Without a database feature the shared core has no user.
#![cfg_attr(
    not(any(feature = "sqlite", feature = "postgres", feature = "mysql")),
    allow(dead_code, unused_macros)
)]

#[macro_use]
mod core;
mod error;
mod migrate;
mod options;
mod record;

#[cfg(feature = "mysql")]
pub mod mysql;
#[cfg(feature = "postgres")]
pub mod postgres;
#[cfg(feature = "sqlite")]
pub mod sqlite;

pub use options::{AdapterOptions, Sides};

/// Re-exported so that the application builds its pool with the same sqlx
/// version as the adapter.
pub use sqlx;

use adapter_api::ErrorHook;
use sqlx::{Database, Pool};

/// A user and session adapter over an sqlx pool.
///
/// The application builds the pool, and the adapter only runs queries on it
/// and never closes it. Use the alias of your database
/// ([`SqliteAdapter`](crate::sqlite::SqliteAdapter),
/// [`PgAdapter`](crate::postgres::PgAdapter),
/// [`MySqlAdapter`](crate::mysql::MySqlAdapter)) and call `migrate` once
/// before the first query.
pub struct SqlAdapter<DB: Database> {
    pool: Pool<DB>,
    sides: Sides,
    error_hook: Option<ErrorHook>,
}

impl<DB: Database> SqlAdapter<DB> {
    /// Wraps a pool. Nothing is sent to the database until the first call.
    pub fn new(pool: Pool<DB>, options: AdapterOptions) -> Self {
        SqlAdapter {
            pool,
            sides: options.sides,
            error_hook: options.error_hook,
        }
    }

    /// Returns the pool the adapter runs its queries on.
    pub fn pool(&self) -> &Pool<DB> {
        &self.pool
    }

    /// Returns the sides this adapter serves, which decide its tables.
    pub fn sides(&self) -> Sides {
        self.sides
    }
}

impl<DB: Database> Clone for SqlAdapter<DB> {
    fn clone(&self) -> Self {
        SqlAdapter {
            pool: self.pool.clone(),
            sides: self.sides,
            error_hook: self.error_hook.clone(),
        }
    }
}

impl<DB: Database> std::fmt::Debug for SqlAdapter<DB> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqlAdapter")
            .field("backend", &DB::NAME)
            .field("sides", &self.sides)
            .field("error_hook", &self.error_hook)
            .finish()
    }
}
