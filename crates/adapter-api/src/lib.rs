#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod adapter;
mod error;
mod record;
mod redact;
mod storage;
pub mod validate;

pub use adapter::{SessionAdapter, SessionAndUserAdapter, UserAdapter};
pub use error::{BackendError, BoxError, Error, ErrorHook, Result, apply_hook};
pub use record::{Attributes, NewUser, Session, SessionState, User, UserPatch, now_millis};
pub use storage::{Storage, generate_user_id};

/// Re-exported so that backends and applications use the same
/// `async_trait` attribute as the traits.
pub use async_trait::async_trait;
