//! A SecantusDB server that a test starts, stops and restarts on its own
//! free 127.0.0.1 port and data directory, and checks of the errors the
//! adapter returns while it is down.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use adapter_api::Error;
use adapter_conformance::fault_load::ServerControl;
use mongodb::Client;
use mongodb::options::ClientOptions;

/// Server selection timeout of the test's client. Operations while the
/// server is down fail after about this long.
pub const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Bound on any one operation, so that a hang fails the test instead of
/// blocking it: far above the server selection timeout.
pub const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Bound on the server's start.
pub const START_LIMIT: Duration = Duration::from_secs(60);

/// Finds `secantusd-py`: the program named by `SECANTUSD_PY` (which
/// `scripts/with-secantusdb` sets), the one in the repository's `.venv`, or
/// one on `PATH`.
pub fn find_server() -> Option<PathBuf> {
    if let Some(program) = std::env::var_os("SECANTUSD_PY").map(PathBuf::from)
        && program.is_file()
    {
        return Some(program);
    }
    let repository = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let in_venv = repository.join(".venv/bin/secantusd-py");
    if in_venv.is_file() {
        return Some(in_venv);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|directory| directory.join("secantusd-py"))
        .find(|candidate| candidate.is_file())
}

pub fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a free port");
    listener.local_addr().unwrap().port()
}

/// A SecantusDB process on a fixed port and data directory.
pub struct Server {
    program: PathBuf,
    port: u16,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    pub fn new(program: PathBuf) -> Self {
        let port = free_port();
        let base = std::env::temp_dir().join(format!(
            "adapter-mongo-faults-{}-{port}",
            std::process::id()
        ));
        std::fs::create_dir_all(&base).unwrap();
        Server {
            program,
            port,
            data: base.join("data"),
            log: base.join("server.log"),
            child: None,
        }
    }

    pub fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/", self.port)
    }

    /// Starts the server and waits until its port accepts connections.
    pub fn start(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)
            .unwrap();
        let child = Command::new(&self.program)
            .args([
                "--host",
                "127.0.0.1",
                "--port",
                &self.port.to_string(),
                "--storage-path",
            ])
            .arg(&self.data)
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|err| panic!("failed to start {}: {err}", self.program.display()));
        self.child = Some(child);

        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let started = Instant::now();
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
            let exited = self.child.as_mut().unwrap().try_wait().unwrap();
            assert!(
                exited.is_none(),
                "SecantusDB exited at start: {}",
                self.log_tail()
            );
            assert!(
                started.elapsed() < START_LIMIT,
                "SecantusDB did not start: {}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Stops the server with SIGTERM, as an operator would, and waits for
    /// the process to exit; SIGKILL if it is still running after 20 s.
    pub fn stop(&mut self) {
        let Some(mut child) = self.child.take() else {
            return;
        };
        let _ = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status();
        let started = Instant::now();
        while child.try_wait().unwrap().is_none() {
            if started.elapsed() > Duration::from_secs(20) {
                let _ = child.kill();
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
        if let Some(base) = self.data.parent() {
            let _ = std::fs::remove_dir_all(base);
        }
    }
}

/// The stop sends SIGTERM and waits for the process to exit, so the server
/// is down when `stop` returns.
impl ServerControl for Server {
    fn stop(&mut self) {
        Server::stop(self);
    }

    fn start(&mut self) {
        Server::start(self);
    }
}

/// Starts a server of its own for `test` and connects a client with the
/// short [`SERVER_SELECTION_TIMEOUT`]. Returns `None`, after printing why,
/// when `secantusd-py` is not installed outside CI.
pub async fn start_server(test: &str) -> Option<(Server, Client)> {
    let Some(program) = find_server() else {
        super::skip(
            test,
            "secantusd-py is not installed; run scripts/with-secantusdb once to install it into .venv",
        );
        return None;
    };
    let mut server = Server::new(program);
    server.start();

    let mut options = ClientOptions::parse(server.uri()).await.unwrap();
    options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    let client = Client::with_options(options).unwrap();
    Some((server, client))
}

/// Runs an operation under [`HANG_LIMIT`] and returns its error, failing
/// the test if it hangs or succeeds.
pub async fn expect_error<T: std::fmt::Debug>(
    name: &str,
    operation: impl std::future::Future<Output = Result<T, Error>>,
) -> Error {
    match tokio::time::timeout(HANG_LIMIT, operation).await {
        Err(_) => panic!("{name} hung while the server was down"),
        Ok(Ok(value)) => panic!("{name} succeeded while the server was down: {value:?}"),
        Ok(Err(err)) => err,
    }
}

pub fn assert_retryable_backend(name: &str, operation: &str, err: &Error) {
    let Error::Backend(backend) = err else {
        panic!("{name}: expected a backend error, got {err:?}");
    };
    assert_eq!(backend.backend, "mongodb", "{name}");
    assert_eq!(backend.operation, operation, "{name}");
    assert!(backend.retryable, "{name}: {err:?}");
    assert!(err.is_retryable(), "{name}");
    let source = backend.source.downcast_ref::<mongodb::error::Error>();
    assert!(
        source.is_some(),
        "{name}: the driver error must be the source"
    );
}
