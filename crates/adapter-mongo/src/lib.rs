#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod adapter;
mod document;
#[cfg(test)]
mod document_props;
mod error;
mod indexes;
mod insert;
mod joined;
pub mod json;
mod options;
mod redact;
mod sessions;
mod users;

pub use adapter::{MongoAdapter, MongoSessionAdapter, MongoUserAdapter};
pub use options::{DEFAULT_SESSIONS_COLLECTION, DEFAULT_USERS_COLLECTION, MongoOptions};
