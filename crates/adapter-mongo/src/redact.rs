//! Session ids and errors as they may appear in traces.

use std::fmt;

use adapter_api::{Error, Result};

/// Ids shorter than this are shown with no prefix at all.
const MIN_CHARS_FOR_PREFIX: usize = 16;

/// A session id shown as its first four characters and its length, and as
/// its length alone when it is shorter than 16 characters. A session id is
/// a bearer token, so a full one must never reach a log.
pub(crate) struct SessionIdPrefix<'a>(pub(crate) &'a str);

impl fmt::Display for SessionIdPrefix<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars = self.0.chars().count();
        if chars >= MIN_CHARS_FOR_PREFIX {
            let prefix: String = self.0.chars().take(4).collect();
            write!(f, "{prefix}… ({chars} chars)")
        } else {
            write!(f, "<redacted> ({chars} chars)")
        }
    }
}

/// An error as session operations log it. A corrupt record is shown
/// without its record id, because in the session collection that id is
/// the session's bearer token.
struct LoggedError<'a>(&'a Error);

impl fmt::Display for LoggedError<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Error::CorruptRecord {
                collection,
                field,
                reason,
                ..
            } => write!(
                f,
                "corrupt record in {collection}: field {field:?} {reason}"
            ),
            other => fmt::Display::fmt(other, f),
        }
    }
}

/// Logs a failed session operation in the current span, as `err` of
/// `#[instrument]` does for the other operations, and returns the result
/// unchanged.
pub(crate) fn log_failure<T>(result: Result<T>) -> Result<T> {
    if let Err(err) = &result {
        tracing::debug!(error = %LoggedError(err));
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_a_whole_id() {
        assert_eq!(SessionIdPrefix("short").to_string(), "<redacted> (5 chars)");
        let token = "abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(SessionIdPrefix(token).to_string(), "abcd… (32 chars)");
    }

    #[test]
    fn corrupt_record_logged_without_id() {
        let token = "abcdefghijklmnopqrstuvwxyz012345";
        let err = Error::corrupt_record("sessions", token, "expires", "is missing");
        let logged = LoggedError(&err).to_string();
        assert_eq!(
            logged,
            "corrupt record in sessions: field \"expires\" is missing"
        );
    }
}
