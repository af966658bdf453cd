//! Session ids as they may appear in span fields.

use std::fmt;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn never_shows_a_whole_id() {
        assert_eq!(SessionIdPrefix("short").to_string(), "<redacted> (5 chars)");
        let token = "abcdefghijklmnopqrstuvwxyz012345";
        assert_eq!(SessionIdPrefix(token).to_string(), "abcd… (32 chars)");
    }
}
