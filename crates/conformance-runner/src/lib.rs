//! Backends for the conformance suite and the runner's report.
//!
//! [`backend_from_url`] turns a backend URL from the command line into a
//! [`Backend`] the suite can run against.

#![forbid(unsafe_code)]

pub mod backends;

use adapter_conformance::Backend;

use crate::backends::memory::MemoryBackend;
use crate::backends::mongo::MongoBackend;
use crate::backends::sql::SqlBackend;

/// Environment variable that supplies the connection string when the
/// backend URL is just `mongodb`.
pub const MONGODB_URI_ENV: &str = "MONGODB_URI";

/// The backend URL forms the runner accepts, for help and error messages.
pub const ACCEPTED_URLS: &str = "memory, mongodb (reads MONGODB_URI), mongodb://HOST[:PORT][/DATABASE], \
     mongodb+srv://HOST[/DATABASE], sqlite:PATH, sqlite::memory:, postgres://HOST[:PORT]/DATABASE, \
     postgresql://HOST[:PORT]/DATABASE, mysql://HOST[:PORT]/DATABASE";

/// A checked backend URL, by the kind of backend it selects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendUrl {
    /// A new in-process [`MemoryBackend`].
    Memory,
    /// A MongoDB connection string (`mongodb://` or `mongodb+srv://`).
    Mongo(String),
    /// A SQL database URL in the form sqlx reads: `sqlite:`, `postgres://`,
    /// `postgresql://` or `mysql://`.
    Sql(String),
}

impl BackendUrl {
    /// Parses a backend URL. The bare word `mongodb` reads its connection
    /// string from the `MONGODB_URI` environment variable.
    pub fn parse(url: &str) -> Result<BackendUrl, String> {
        let mongodb_uri = std::env::var(MONGODB_URI_ENV).ok();
        BackendUrl::parse_with_env(url, mongodb_uri.as_deref())
    }

    /// Parses a backend URL, with `mongodb_uri` as the value of
    /// `MONGODB_URI` (`None` when it is not set).
    pub fn parse_with_env(url: &str, mongodb_uri: Option<&str>) -> Result<BackendUrl, String> {
        let url = url.trim();
        if url == "memory" {
            return Ok(BackendUrl::Memory);
        }
        if url == "mongodb" {
            return match mongodb_uri.map(str::trim) {
                Some(uri) if !uri.is_empty() => {
                    BackendUrl::parse_with_env(uri, None).and_then(|parsed| match parsed {
                        BackendUrl::Mongo(_) => Ok(parsed),
                        _ => Err(format!(
                            "{MONGODB_URI_ENV} must start with mongodb:// or mongodb+srv://, \
                             but it is `{}`",
                            redact_password(uri)
                        )),
                    })
                }
                _ => Err(format!(
                    "the backend `mongodb` reads its connection string from {MONGODB_URI_ENV}, \
                     which is not set; set it or pass a full mongodb:// URL"
                )),
            };
        }

        let Some((scheme, rest)) = url.split_once(':') else {
            return Err(unknown_form(url));
        };
        match scheme {
            "mongodb" | "mongodb+srv" => {
                require_host(url, rest)?;
                Ok(BackendUrl::Mongo(url.to_owned()))
            }
            "postgres" | "postgresql" | "mysql" => {
                require_host(url, rest)?;
                Ok(BackendUrl::Sql(url.to_owned()))
            }
            "sqlite" if rest.is_empty() => Err(
                "invalid backend URL `sqlite:`: the database path is missing; \
                 use sqlite:PATH or sqlite::memory:"
                    .to_owned(),
            ),
            "sqlite" => Ok(BackendUrl::Sql(url.to_owned())),
            _ => Err(unknown_form(url)),
        }
    }

    /// Builds the backend this URL selects.
    pub fn build(&self) -> Result<Box<dyn Backend>, String> {
        match self {
            BackendUrl::Memory => Ok(Box::new(MemoryBackend::new())),
            BackendUrl::Mongo(uri) => Ok(Box::new(MongoBackend::from_uri(uri))),
            BackendUrl::Sql(url) => Ok(Box::new(SqlBackend::from_url(url)?)),
        }
    }
}

/// Parses a backend URL and builds its backend. See [`ACCEPTED_URLS`] for
/// the forms; the bare word `mongodb` reads `MONGODB_URI`.
pub fn backend_from_url(url: &str) -> Result<Box<dyn Backend>, String> {
    BackendUrl::parse(url)?.build()
}

fn unknown_form(url: &str) -> String {
    format!(
        "invalid backend URL `{}`: unknown form; expected one of: {ACCEPTED_URLS}",
        redact_password(url)
    )
}

/// Rejects a network URL without a host, such as `postgres://` or `mysql:db`.
fn require_host(url: &str, after_scheme: &str) -> Result<(), String> {
    let Some(authority_and_path) = after_scheme.strip_prefix("//") else {
        return Err(format!(
            "invalid backend URL `{}`: `//` is missing after the scheme; expected one of: \
             {ACCEPTED_URLS}",
            redact_password(url)
        ));
    };
    let authority = authority_and_path
        .split(['/', '?'])
        .next()
        .unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    if host.is_empty() {
        return Err(format!(
            "invalid backend URL `{}`: the host is missing",
            redact_password(url)
        ));
    }
    Ok(())
}

/// Replaces the password of a `scheme://user:password@host` URL with `***`
/// so that error messages never show it.
pub fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    // The last `@` ends the user info, so a password with a raw `@` is
    // hidden whole.
    let Some((user_info, host)) = authority.rsplit_once('@') else {
        return url.to_owned();
    };
    match user_info.split_once(':') {
        Some((user, _password)) => format!("{scheme}://{user}:***@{host}{path}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rstest::rstest;

    #[rstest]
    #[case::memory("memory", BackendUrl::Memory)]
    #[case::memory_with_spaces(" memory ", BackendUrl::Memory)]
    #[case::mongodb("mongodb://127.0.0.1:27017", BackendUrl::Mongo("mongodb://127.0.0.1:27017".into()))]
    #[case::mongodb_srv("mongodb+srv://cluster.local/auth", BackendUrl::Mongo("mongodb+srv://cluster.local/auth".into()))]
    #[case::sqlite_file("sqlite:auth.db", BackendUrl::Sql("sqlite:auth.db".into()))]
    #[case::sqlite_memory("sqlite::memory:", BackendUrl::Sql("sqlite::memory:".into()))]
    #[case::sqlite_slashes("sqlite:///tmp/auth.db", BackendUrl::Sql("sqlite:///tmp/auth.db".into()))]
    #[case::postgres("postgres://user:pw@127.0.0.1/auth", BackendUrl::Sql("postgres://user:pw@127.0.0.1/auth".into()))]
    #[case::postgresql("postgresql://127.0.0.1:5432/auth", BackendUrl::Sql("postgresql://127.0.0.1:5432/auth".into()))]
    #[case::mysql("mysql://root@127.0.0.1:3306/auth", BackendUrl::Sql("mysql://root@127.0.0.1:3306/auth".into()))]
    fn url_parse_accepts(#[case] url: &str, #[case] expected: BackendUrl) {
        assert_eq!(BackendUrl::parse_with_env(url, None), Ok(expected));
    }

    #[rstest]
    #[case::empty("", "unknown form")]
    #[case::unknown_word("redis", "unknown form")]
    #[case::unknown_scheme("redis://127.0.0.1", "unknown form")]
    #[case::memory_typo("memroy", "unknown form")]
    #[case::sqlite_without_path("sqlite:", "database path is missing")]
    #[case::postgres_without_host("postgres://", "host is missing")]
    #[case::postgres_without_slashes("postgres:auth", "`//` is missing")]
    #[case::mongo_user_without_host("mongodb://user:pw@/db", "host is missing")]
    #[case::mongodb_without_env("mongodb", "MONGODB_URI")]
    fn url_parse_rejects(#[case] url: &str, #[case] expected_part: &str) {
        let err = BackendUrl::parse_with_env(url, None).unwrap_err();
        assert!(err.contains(expected_part), "{err}");
    }

    #[test]
    fn url_unknown_lists_accepted_forms() {
        let err = BackendUrl::parse_with_env("redis://127.0.0.1", None).unwrap_err();
        assert!(err.contains(ACCEPTED_URLS), "{err}");
    }

    #[test]
    fn url_mongodb_reads_env() {
        let parsed = BackendUrl::parse_with_env("mongodb", Some("mongodb://127.0.0.1:27017/auth"));
        assert_eq!(
            parsed,
            Ok(BackendUrl::Mongo("mongodb://127.0.0.1:27017/auth".into()))
        );
    }

    #[test]
    fn url_mongodb_env_must_be_mongodb() {
        let err =
            BackendUrl::parse_with_env("mongodb", Some("postgres://127.0.0.1/auth")).unwrap_err();
        assert!(err.contains("must start with mongodb://"), "{err}");
    }

    #[test]
    fn url_mongodb_env_empty_is_missing() {
        let err = BackendUrl::parse_with_env("mongodb", Some("  ")).unwrap_err();
        assert!(err.contains("not set"), "{err}");
    }

    #[test]
    fn url_errors_hide_password() {
        let err = BackendUrl::parse_with_env("redis://admin:s3cret@127.0.0.1", None).unwrap_err();
        assert!(!err.contains("s3cret"), "{err}");
        assert!(err.contains("redis://admin:***@127.0.0.1"), "{err}");
    }

    #[rstest]
    #[case::with_password("postgres://u:p@127.0.0.1/db", "postgres://u:***@127.0.0.1/db")]
    #[case::without_password("mysql://root@127.0.0.1/db", "mysql://root@127.0.0.1/db")]
    #[case::without_user("mongodb://127.0.0.1", "mongodb://127.0.0.1")]
    #[case::raw_at_in_password("mongodb://u:p@ss@127.0.0.1/db", "mongodb://u:***@127.0.0.1/db")]
    #[case::not_a_url("sqlite:auth.db", "sqlite:auth.db")]
    fn redact_password_cases(#[case] url: &str, #[case] expected: &str) {
        assert_eq!(redact_password(url), expected);
    }

    #[test]
    fn sqlite_url_builds_sql_backend() {
        let backend = backend_from_url("sqlite::memory:").unwrap();
        assert!(backend.name().starts_with("sqlite"), "{}", backend.name());
    }

    #[test]
    fn sqlite_url_without_path_rejected() {
        let err = backend_from_url("sqlite://")
            .err()
            .expect("sqlite:// has no path");
        assert!(err.contains("sqlite:PATH"), "{err}");
    }

    #[test]
    fn mongodb_url_builds_mongo_backend() {
        let backend = backend_from_url("mongodb://127.0.0.1:27017").unwrap();
        assert!(backend.name().starts_with("mongo"), "{}", backend.name());
    }

    #[test]
    fn memory_url_builds_memory_backend() {
        let backend = backend_from_url("memory").unwrap();
        assert_eq!(backend.name(), "memory");
    }
}
