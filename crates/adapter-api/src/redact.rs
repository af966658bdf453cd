//! Rendering of secrets in `Debug` and `Display` output.

use std::fmt;

/// Shows at most the first four characters of a secret that is long enough
/// for them to reveal nothing useful, and its length. Session ids are bearer
/// tokens, so a full one must never reach a log.
pub(crate) struct Redacted<'a>(pub &'a str);

/// Ids shorter than this are shown with no prefix at all.
const MIN_LEN_FOR_PREFIX: usize = 16;

impl fmt::Display for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let len = self.0.chars().count();
        if len >= MIN_LEN_FOR_PREFIX {
            let prefix: String = self.0.chars().take(4).collect();
            write!(f, "\"{prefix}…\" ({len} chars)")
        } else {
            write!(f, "<redacted> ({len} chars)")
        }
    }
}

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Shows only the sign-in method of a provider id (`email:…`), because the
/// rest is often an email address.
pub(crate) struct RedactedProviderId<'a>(pub &'a str);

impl fmt::Debug for RedactedProviderId<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.split_once(':') {
            Some((method, _)) if method.chars().count() <= 16 => write!(f, "\"{method}:…\""),
            _ => f.write_str("<redacted>"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_id_shows_nothing() {
        assert_eq!(Redacted("abc").to_string(), "<redacted> (3 chars)");
    }

    #[test]
    fn long_id_shows_prefix_only() {
        let token = "abcdefghijklmnopqrstuvwxyz0123456789abcd";
        let shown = Redacted(token).to_string();
        assert_eq!(shown, "\"abcd…\" (40 chars)");
    }

    #[test]
    fn provider_id_keeps_method() {
        let shown = format!("{:?}", RedactedProviderId("email:ada@example.com"));
        assert_eq!(shown, "\"email:…\"");
        assert_eq!(
            format!("{:?}", RedactedProviderId("ada@example.com")),
            "<redacted>"
        );
    }
}
