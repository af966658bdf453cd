//! Private PostgreSQL and MariaDB servers for the fault tests. Each one
//! runs on a free 127.0.0.1 port with its data in a new temporary directory,
//! so a test may stop and restart it without touching the shared servers
//! that other tests use. Dropping a server stops it and deletes its
//! directory, also when the test fails.

#![allow(dead_code)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use adapter_conformance::fault_load::{OutagePlan, ServerControl};

/// Maximum wait for a server to accept connections after its start.
const START_LIMIT: Duration = Duration::from_secs(60);

/// Pool acquire timeout of the fault tests. While the server is down, the
/// pool keeps retrying refused connections until this timeout.
pub const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// Returns the outage plan of the SQL fault tests: two stops, each longer
/// than two acquire timeouts, so that operations started while the server
/// is down time out before it is back.
pub fn outage_plan(seed: u64) -> OutagePlan {
    OutagePlan {
        tasks: 4,
        seed,
        outages: 2,
        healthy: Duration::from_millis(1500),
        down: ACQUIRE_TIMEOUT * 2 + Duration::from_secs(1),
        recovery_limit: Duration::from_secs(30),
        // One acquire per operation, then queries on a connection whose
        // server is gone fail at once, so the margin is for a busy machine.
        operation_limit: ACQUIRE_TIMEOUT + Duration::from_secs(10),
    }
}

/// Prints why a test is skipped, or panics under CI, where missing server
/// programs are a failure.
pub fn skip(test: &str, reason: &str) {
    assert!(
        !adapter_conformance::in_ci(),
        "{test}: {reason}, and CI=true makes that a failure"
    );
    eprintln!("skipped {test}: {reason}");
}

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a free port");
    listener.local_addr().unwrap().port()
}

/// Creates an empty temporary directory named after `kind` and `port`.
fn temp_base(kind: &str, port: u16) -> PathBuf {
    let base =
        std::env::temp_dir().join(format!("adapter-sql-{kind}-{}-{port}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    std::fs::create_dir_all(&base).unwrap();
    base
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|output| output.stdout.trim_ascii() == b"0")
}

/// Returns the first of `names` that is a file in one of `directories` or
/// on `PATH`.
fn find_program(names: &[&str], directories: &[PathBuf]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let searched: Vec<PathBuf> = directories
        .iter()
        .cloned()
        .chain(std::env::split_paths(&path))
        .collect();
    names.iter().find_map(|name| {
        searched
            .iter()
            .map(|directory| directory.join(name))
            .find(|candidate| candidate.is_file())
    })
}

/// Runs a setup command and panics with its output when it fails.
fn run_checked(command: &mut Command, what: &str) -> Output {
    let output = command
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|err| panic!("failed to run {what}: {err}"));
    assert!(
        output.status.success(),
        "{what} failed with {}: {}{}",
        output.status,
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    output
}

/// Waits until `port` on 127.0.0.1 accepts a TCP connection, panicking
/// with `log_tail()` when `exited()` reports that the server died or
/// [`START_LIMIT`] passes.
fn wait_for_port(port: u16, mut exited: impl FnMut() -> bool, log_tail: impl Fn() -> String) {
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let started = Instant::now();
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(!exited(), "the server exited at start: {}", log_tail());
        assert!(
            started.elapsed() < START_LIMIT,
            "the server did not accept connections within {START_LIMIT:?}: {}",
            log_tail()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn tail(path: &Path) -> String {
    let log = std::fs::read_to_string(path).unwrap_or_default();
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(20)..].join("\n")
}

/// A PostgreSQL cluster of its own, managed with `initdb` and `pg_ctl`.
///
/// PostgreSQL refuses to run as root, so as root every command runs as the
/// `postgres` user through `runuser`, and that user owns the directory.
pub struct PgServer {
    bin: PathBuf,
    base: PathBuf,
    port: u16,
    as_postgres_user: bool,
    running: bool,
}

impl PgServer {
    /// Finds `initdb` and `pg_ctl` under `/usr/lib/postgresql/*/bin` (the
    /// newest version first) or on `PATH`, and returns their directory.
    ///
    /// # Errors
    /// Returns why no cluster can be made: the programs are missing, or the
    /// process is root and there is no `postgres` user.
    pub fn find() -> Result<PathBuf, String> {
        let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .map(|entries| {
                entries
                    .filter_map(|entry| entry.ok().map(|entry| entry.path().join("bin")))
                    .collect()
            })
            .unwrap_or_default();
        // Sort by major version as a number, so that 9 comes before 10.
        versions.sort_by_key(|bin| {
            bin.parent()
                .and_then(Path::file_name)
                .and_then(|name| name.to_str())
                .and_then(|name| name.parse::<u32>().ok())
                .unwrap_or(0)
        });
        versions.reverse();
        let pg_ctl = find_program(&["pg_ctl"], &versions)
            .ok_or("pg_ctl is not installed (looked in /usr/lib/postgresql/*/bin and PATH)")?;
        let bin = pg_ctl.parent().unwrap().to_path_buf();
        if !bin.join("initdb").is_file() {
            return Err(format!("initdb is missing beside {}", pg_ctl.display()));
        }
        if is_root()
            && !Command::new("id")
                .arg("postgres")
                .output()
                .is_ok_and(|output| output.status.success())
        {
            return Err(
                "running as root, and there is no postgres user to run PostgreSQL as".to_owned(),
            );
        }
        Ok(bin)
    }

    /// Creates a cluster with trust authentication for the user `postgres`
    /// in a new temporary directory, and starts it.
    pub fn start_new(bin: PathBuf) -> Self {
        let port = free_port();
        let base = temp_base("postgres", port);
        let as_postgres_user = is_root();
        if as_postgres_user {
            run_checked(
                Command::new("chown").arg("postgres").arg(&base),
                "chown of the cluster directory",
            );
        }
        let mut server = PgServer {
            bin,
            base,
            port,
            as_postgres_user,
            running: false,
        };
        // --no-sync skips only the flush of the new files at the end of
        // initdb. The server itself still flushes every commit.
        let mut initdb = server.command("initdb");
        initdb
            .arg("-D")
            .arg(server.data())
            .args(["-A", "trust", "-U", "postgres", "--no-sync"]);
        run_checked(&mut initdb, "initdb");
        server.start();
        server
    }

    /// Returns the URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> PathBuf {
        self.base.join("data")
    }

    fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", "postgres", "--"]).arg(path);
            command
        } else {
            Command::new(path)
        }
    }

    /// Starts the cluster and waits until it accepts connections.
    pub fn start(&mut self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.base.display()
        );
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data())
            .arg("-l")
            .arg(self.base.join("server.log"))
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        let output = pg_ctl
            .stdin(Stdio::null())
            .output()
            .expect("failed to run pg_ctl start");
        assert!(
            output.status.success(),
            "pg_ctl start failed: {}",
            tail(&self.base.join("server.log"))
        );
        self.running = true;
    }

    /// Stops the cluster in immediate mode, which ends every server process
    /// at once without a checkpoint, as a crash would. Committed work
    /// survives through the write-ahead log.
    pub fn stop(&mut self) {
        if !self.running {
            return;
        }
        let mut pg_ctl = self.command("pg_ctl");
        pg_ctl
            .arg("-D")
            .arg(self.data())
            .args(["-m", "immediate", "-w", "stop"]);
        run_checked(&mut pg_ctl, "pg_ctl stop");
        self.running = false;
    }
}

impl ServerControl for PgServer {
    fn stop(&mut self) {
        PgServer::stop(self);
    }

    fn start(&mut self) {
        PgServer::start(self);
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        if self.running {
            let _ = self
                .command("pg_ctl")
                .arg("-D")
                .arg(self.data())
                .args(["-m", "immediate", "-w", "stop"])
                .stdin(Stdio::null())
                .output();
        }
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// A MariaDB (or MySQL) server of its own, with its data directory made by
/// `mariadb-install-db` and no grant tables, so any local client connects
/// as root without a password.
pub struct MariaDbServer {
    server: PathBuf,
    base: PathBuf,
    port: u16,
    as_root: bool,
    child: Option<Child>,
}

impl MariaDbServer {
    /// Finds the server and the program that creates its data directory
    /// in `/usr/sbin`, `/usr/bin` or on `PATH`.
    ///
    /// # Errors
    /// Returns which program is missing.
    pub fn find() -> Result<(PathBuf, PathBuf), String> {
        let directories = [PathBuf::from("/usr/sbin"), PathBuf::from("/usr/bin")];
        let server = find_program(&["mariadbd", "mysqld"], &directories)
            .ok_or("mariadbd is not installed (looked in /usr/sbin, /usr/bin and PATH)")?;
        let install = find_program(&["mariadb-install-db", "mysql_install_db"], &directories)
            .ok_or(
                "mariadb-install-db is not installed (looked in /usr/sbin, /usr/bin and PATH)",
            )?;
        Ok((server, install))
    }

    /// Creates a data directory in a new temporary directory and starts
    /// the server on it.
    pub fn start_new(server: PathBuf, install: PathBuf) -> Self {
        let port = free_port();
        let base = temp_base("mariadb", port);
        let as_root = is_root();
        let mut install_db = Command::new(install);
        // --no-defaults keeps the machine's my.cnf (port, socket, data
        // directory of the shared server) out of the private server.
        install_db
            .arg("--no-defaults")
            .arg(format!("--datadir={}", base.join("data").display()))
            .args(["--auth-root-authentication-method=normal", "--skip-test-db"]);
        if as_root {
            install_db.arg("--user=root");
        }
        run_checked(&mut install_db, "mariadb-install-db");
        let mut server = MariaDbServer {
            server,
            base,
            port,
            as_root,
            child: None,
        };
        server.start();
        server
    }

    /// Returns the URL of the server, with no default database.
    pub fn url(&self) -> String {
        format!("mysql://root@127.0.0.1:{}", self.port)
    }

    fn log(&self) -> PathBuf {
        self.base.join("server.log")
    }

    /// Starts the server and waits until its port accepts connections.
    pub fn start(&mut self) {
        let mut command = Command::new(&self.server);
        command
            .arg("--no-defaults")
            .arg(format!("--datadir={}", self.base.join("data").display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg(format!("--socket={}", self.base.join("sock").display()))
            .arg(format!(
                "--pid-file={}",
                self.base.join("server.pid").display()
            ))
            .arg(format!("--log-error={}", self.log().display()))
            .args(["--skip-grant-tables", "--innodb-buffer-pool-size=32M"]);
        if self.as_root {
            command.arg("--user=root");
        }
        let child = command
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {}: {err}", self.server.display()));
        self.child = Some(child);
        let log = self.log();
        let child = self.child.as_mut().unwrap();
        wait_for_port(
            self.port,
            || child.try_wait().unwrap().is_some(),
            || tail(&log),
        );
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for the
    /// process to exit. InnoDB recovers committed work from its redo log at
    /// the next start.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl ServerControl for MariaDbServer {
    fn stop(&mut self) {
        MariaDbServer::stop(self);
    }

    fn start(&mut self) {
        MariaDbServer::start(self);
    }
}

impl Drop for MariaDbServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.base);
    }
}
