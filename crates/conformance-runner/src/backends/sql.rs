//! The SQL backends for the suite: SQLite in memory or in a file,
//! PostgreSQL and MySQL/MariaDB. Every target gets its own database
//! (SQLite), schema (PostgreSQL) or database (MySQL), removed when the case
//! ends, so cases run in parallel.

mod raw;
mod servers;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use adapter_api::SessionAndUserAdapter;
use adapter_conformance::{Backend, RawStore, Role, SetupError, Target};
use adapter_sql::sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions};
use adapter_sql::sqlx::{Database, Pool};
use adapter_sql::{AdapterOptions, Sides, SqlAdapter};
use async_trait::async_trait;

/// Environment variable naming the PostgreSQL server of
/// [`SqlBackend::postgres_from_env`].
pub const POSTGRES_URL_ENV: &str = "POSTGRES_URL";
/// Server used when `POSTGRES_URL` is not set.
pub const DEFAULT_POSTGRES_URL: &str = "postgres://postgres@127.0.0.1:5432/test";
/// Environment variable naming the MySQL or MariaDB server of
/// [`SqlBackend::mysql_from_env`].
pub const MYSQL_URL_ENV: &str = "MYSQL_URL";
/// Server used when `MYSQL_URL` is not set.
pub const DEFAULT_MYSQL_URL: &str = "mysql://root@127.0.0.1:3306/test";

/// Distinguishes the databases, schemas and files of the cases that one
/// process runs; the process id and start time separate processes.
static NEXT_CASE: AtomicU64 = AtomicU64::new(0);

/// Runs each case on a fresh SQL database.
#[derive(Debug, Clone)]
pub struct SqlBackend {
    kind: Kind,
}

#[derive(Debug, Clone)]
enum Kind {
    SqliteMemory,
    /// Each case gets a new file next to this path, named after it.
    SqliteFile(PathBuf),
    Postgres(Server),
    MySql(Server),
}

/// A server URL and the environment variable that can replace it, for
/// messages.
#[derive(Debug, Clone)]
struct Server {
    url: String,
    env: Option<&'static str>,
}

impl SqlBackend {
    /// Selects the backend by URL: `sqlite::memory:` (a new in-memory
    /// database per case), `sqlite:PATH` (a new file per case, next to
    /// `PATH` and named after it), `postgres://...` or `postgresql://...`
    /// (a new schema per case) and `mysql://...` (a new database per case).
    ///
    /// # Errors
    /// A message naming the accepted forms when the URL has none of them.
    pub fn from_url(url: &str) -> Result<Self, String> {
        let kind = if url == "sqlite::memory:" {
            Kind::SqliteMemory
        } else if let Some(path) = url.strip_prefix("sqlite:") {
            let path = path.trim_start_matches("//");
            if path.is_empty() {
                return Err(
                    "the SQLite URL has no path; use sqlite:PATH or sqlite::memory:".to_owned(),
                );
            }
            Kind::SqliteFile(PathBuf::from(path))
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Kind::Postgres(Server {
                url: url.to_owned(),
                env: None,
            })
        } else if url.starts_with("mysql://") {
            Kind::MySql(Server {
                url: url.to_owned(),
                env: None,
            })
        } else {
            return Err(format!(
                "`{}` is not a SQL backend URL; expected sqlite::memory:, sqlite:PATH, \
                 postgres://..., postgresql://... or mysql://...",
                crate::redact_password(url)
            ));
        };
        Ok(SqlBackend { kind })
    }

    /// Creates a backend that runs each case on a new in-memory SQLite
    /// database.
    pub fn sqlite_memory() -> Self {
        SqlBackend {
            kind: Kind::SqliteMemory,
        }
    }

    /// Creates a backend that runs each case on a new SQLite file in the
    /// system's temporary directory.
    pub fn sqlite_temp_file() -> Self {
        SqlBackend {
            kind: Kind::SqliteFile(std::env::temp_dir().join("adapter-sql-conformance.db")),
        }
    }

    /// Creates a backend on the PostgreSQL server that `POSTGRES_URL`
    /// names, or [`DEFAULT_POSTGRES_URL`] when it is unset.
    pub fn postgres_from_env() -> Self {
        SqlBackend {
            kind: Kind::Postgres(Server::from_env(POSTGRES_URL_ENV, DEFAULT_POSTGRES_URL)),
        }
    }

    /// Creates a backend on the MySQL or MariaDB server that `MYSQL_URL`
    /// names, or [`DEFAULT_MYSQL_URL`] when it is unset.
    pub fn mysql_from_env() -> Self {
        SqlBackend {
            kind: Kind::MySql(Server::from_env(MYSQL_URL_ENV, DEFAULT_MYSQL_URL)),
        }
    }
}

impl Server {
    fn from_env(env: &'static str, default: &str) -> Self {
        let url = std::env::var(env)
            .ok()
            .filter(|url| !url.trim().is_empty())
            .unwrap_or_else(|| default.to_owned());
        Server {
            url,
            env: Some(env),
        }
    }

    /// Describes the server for a message, without its password.
    fn describe(&self) -> String {
        let url = crate::redact_password(&self.url);
        match self.env {
            Some(env) => format!("{url} (from {env}, or its default when unset)"),
            None => url,
        }
    }
}

#[async_trait]
impl Backend for SqlBackend {
    fn name(&self) -> String {
        match &self.kind {
            Kind::SqliteMemory => "sqlite-memory",
            Kind::SqliteFile(_) => "sqlite-file",
            Kind::Postgres(_) => "postgres",
            Kind::MySql(_) => "mysql",
        }
        .to_owned()
    }

    async fn setup(&self, role: Role) -> Result<Target, SetupError> {
        let sides = match role {
            Role::Both => Sides::Both,
            Role::Users => Sides::Users,
            Role::Sessions => Sides::Sessions,
        };
        match &self.kind {
            Kind::SqliteMemory => setup_sqlite_memory(sides).await,
            Kind::SqliteFile(path) => setup_sqlite_file(path, sides).await,
            Kind::Postgres(server) => servers::setup_postgres(server, &unique_name(), sides).await,
            Kind::MySql(server) => servers::setup_mysql(server, &unique_name(), sides).await,
        }
    }
}

/// Returns a name no other case of any process uses: letters, digits and
/// underscores only, so it needs no quoting as a schema or database name.
fn unique_name() -> String {
    let case = NEXT_CASE.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.subsec_nanos())
        .unwrap_or_default();
    format!("conformance_{}_{case}_{nanos}", std::process::id())
}

async fn setup_sqlite_memory(sides: Sides) -> Result<Target, SetupError> {
    // Each connection to `:memory:` opens its own database, so the pool
    // keeps exactly one connection alive for the whole case.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .min_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .connect_with(SqliteConnectOptions::new().in_memory(true))
        .await
        .map_err(|err| SetupError::Failed(err.into()))?;
    target(pool.clone(), sides, Arc::new(raw::SqliteRaw(pool))).await
}

async fn setup_sqlite_file(base: &Path, sides: Sides) -> Result<Target, SetupError> {
    let path = case_file(base);
    let options = SqliteConnectOptions::new()
        .filename(&path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal);
    let pool = SqlitePoolOptions::new()
        .max_connections(4)
        .connect_with(options)
        .await
        .map_err(|err| {
            SetupError::Failed(format!("cannot create {}: {err}", path.display()).into())
        })?;
    let target = target(pool.clone(), sides, Arc::new(raw::SqliteRaw(pool.clone()))).await?;
    Ok(target.with_cleanup(move || {
        Box::pin(async move {
            pool.close().await;
            for suffix in ["", "-wal", "-shm"] {
                let mut file = path.clone().into_os_string();
                file.push(suffix);
                // A file that is already gone is what cleanup wants.
                let _ = std::fs::remove_file(file);
            }
        })
    }))
}

/// Returns `base` with a unique part before its extension:
/// `/tmp/auth.db` becomes `/tmp/auth-conformance_<pid>_<n>_<nanos>.db`.
fn case_file(base: &Path) -> PathBuf {
    let stem = base
        .file_stem()
        .map(|stem| stem.to_string_lossy().into_owned())
        .unwrap_or_else(|| "auth".to_owned());
    let mut name = format!("{stem}-{}", unique_name());
    if let Some(extension) = base.extension() {
        name.push('.');
        name.push_str(&extension.to_string_lossy());
    }
    base.with_file_name(name)
}

/// Builds an adapter of `sides` over `pool`, creates its tables and wraps
/// it with raw access as a target.
pub(super) async fn target<DB>(
    pool: Pool<DB>,
    sides: Sides,
    raw: Arc<dyn RawStore>,
) -> Result<Target, SetupError>
where
    DB: Database,
    SqlAdapter<DB>: SessionAndUserAdapter + Migrate,
{
    let adapter = SqlAdapter::new(pool.clone(), AdapterOptions::new().sides(sides));
    adapter
        .run_migrations()
        .await
        .map_err(|err| SetupError::Failed(format!("migrations failed: {err}").into()))?;
    let adapter = Arc::new(adapter);
    let target = match sides {
        Sides::Both => Target::both(adapter),
        Sides::Users => Target::users(adapter),
        Sides::Sessions => Target::sessions(adapter),
    };
    Ok(target.with_raw(raw))
}

/// The `migrate` method that each database's adapter has, as one trait so
/// that [`target`] serves all of them.
#[async_trait]
pub(super) trait Migrate {
    async fn run_migrations(&self) -> adapter_api::Result<()>;
}

macro_rules! impl_migrate {
    ($db:ty) => {
        #[async_trait]
        impl Migrate for SqlAdapter<$db> {
            async fn run_migrations(&self) -> adapter_api::Result<()> {
                self.migrate().await
            }
        }
    };
}

impl_migrate!(adapter_sql::sqlx::Sqlite);
impl_migrate!(adapter_sql::sqlx::Postgres);
impl_migrate!(adapter_sql::sqlx::MySql);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn from_url_accepts_forms() {
        let cases = [
            ("sqlite::memory:", "sqlite-memory"),
            ("sqlite:/tmp/auth.db", "sqlite-file"),
            ("sqlite:///tmp/auth.db", "sqlite-file"),
            ("postgres://postgres@127.0.0.1:5432/test", "postgres"),
            ("postgresql://127.0.0.1/test", "postgres"),
            ("mysql://root@127.0.0.1:3306/test", "mysql"),
        ];
        for (url, name) in cases {
            let backend = SqlBackend::from_url(url).unwrap_or_else(|err| panic!("{url}: {err}"));
            assert_eq!(backend.name(), name, "{url}");
        }
    }

    #[test]
    fn from_url_rejects_others() {
        for url in ["sqlite:", "mongodb://127.0.0.1", "memory", "postgres:test"] {
            let err = SqlBackend::from_url(url).unwrap_err();
            assert!(err.contains("sqlite"), "{url}: {err}");
        }
        let err = SqlBackend::from_url("redis://user:secret@127.0.0.1").unwrap_err();
        assert!(!err.contains("secret"), "{err}");
    }

    #[test]
    fn case_file_next_to_base() {
        let first = case_file(Path::new("/tmp/dir/auth.db"));
        let second = case_file(Path::new("/tmp/dir/auth.db"));
        assert_ne!(first, second);
        assert_eq!(first.parent(), Some(Path::new("/tmp/dir")));
        assert_eq!(first.extension().and_then(|ext| ext.to_str()), Some("db"));
        let name = first.file_name().and_then(|name| name.to_str()).unwrap();
        assert!(name.starts_with("auth-conformance_"), "{name}");
    }

    /// Sets up a target on a port where nothing listens (port 1 of the
    /// loopback address) and returns the error.
    fn setup_error(backend: SqlBackend) -> SetupError {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        match runtime.block_on(backend.setup(Role::Both)) {
            Ok(_) => panic!("setup succeeded without a server"),
            Err(err) => err,
        }
    }

    #[test]
    fn closed_port_is_unavailable() {
        for url in [
            "postgres://postgres@127.0.0.1:1/test",
            "mysql://root@127.0.0.1:1/test",
        ] {
            let backend = SqlBackend::from_url(url).unwrap();
            match setup_error(backend) {
                SetupError::Unavailable(reason) => {
                    assert!(reason.contains("127.0.0.1:1"), "{reason}");
                }
                other => panic!("{url}: expected Unavailable, got {other}"),
            }
        }
    }

    #[test]
    fn unavailable_names_env_var() {
        let backend = SqlBackend {
            kind: Kind::Postgres(Server {
                url: "postgres://postgres@127.0.0.1:1/test".to_owned(),
                env: Some(POSTGRES_URL_ENV),
            }),
        };
        match setup_error(backend) {
            SetupError::Unavailable(reason) => {
                assert!(reason.contains(POSTGRES_URL_ENV), "{reason}")
            }
            other => panic!("expected Unavailable, got {other}"),
        }
    }
}
