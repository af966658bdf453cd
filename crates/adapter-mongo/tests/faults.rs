//! Behaviour while the server is down and after it comes back.
//!
//! The test starts its own SecantusDB server on a free 127.0.0.1 port with
//! its own data directory, stops it, and starts it again on the same port
//! and directory, so it never disturbs the server at `MONGODB_URI`.

mod common;

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use adapter_api::{
    Error, ErrorHook, NewUser, Session, SessionAdapter, SessionAndUserAdapter, UserAdapter,
    UserPatch,
};
use adapter_mongo::{MongoAdapter, MongoOptions};
use mongodb::Client;
use mongodb::options::ClientOptions;

/// Server selection timeout of the test's client. Operations while the
/// server is down fail after about this long.
const SERVER_SELECTION_TIMEOUT: Duration = Duration::from_secs(2);

/// Bound on any one operation, so that a hang fails the test instead of
/// blocking it: far above the server selection timeout.
const HANG_LIMIT: Duration = Duration::from_secs(60);

/// Bound on the server's start.
const START_LIMIT: Duration = Duration::from_secs(60);

/// Finds `secantusd-py`: the program named by `SECANTUSD_PY` (which
/// `scripts/with-secantusdb` sets), the one in the repository's `.venv`, or
/// one on `PATH`.
fn find_server() -> Option<PathBuf> {
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

fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("failed to bind a free port");
    listener.local_addr().unwrap().port()
}

/// A SecantusDB process on a fixed port and data directory.
struct Server {
    program: PathBuf,
    port: u16,
    data: PathBuf,
    log: PathBuf,
    child: Option<Child>,
}

impl Server {
    fn new(program: PathBuf) -> Self {
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

    fn uri(&self) -> String {
        format!("mongodb://127.0.0.1:{}/", self.port)
    }

    /// Starts the server and waits until its port accepts connections.
    fn start(&mut self) {
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
    fn stop(&mut self) {
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

    fn log_tail(&self) -> String {
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

/// Runs an operation under [`HANG_LIMIT`] and returns its error, failing
/// the test if it hangs or succeeds.
async fn expect_error<T: std::fmt::Debug>(
    name: &str,
    operation: impl std::future::Future<Output = Result<T, Error>>,
) -> Error {
    match tokio::time::timeout(HANG_LIMIT, operation).await {
        Err(_) => panic!("{name} hung while the server was down"),
        Ok(Ok(value)) => panic!("{name} succeeded while the server was down: {value:?}"),
        Ok(Err(err)) => err,
    }
}

fn assert_retryable_backend(name: &str, operation: &str, err: &Error) {
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

#[tokio::test]
async fn server_down_then_back() {
    let Some(program) = find_server() else {
        common::skip(
            "server_down_then_back",
            "secantusd-py is not installed; run scripts/with-secantusdb once to install it into .venv",
        );
        return;
    };
    let mut server = Server::new(program);
    server.start();

    let mut options = ClientOptions::parse(server.uri()).await.unwrap();
    options.server_selection_timeout = Some(SERVER_SELECTION_TIMEOUT);
    let client = Client::with_options(options).unwrap();
    let hooked = Arc::new(AtomicUsize::new(0));
    let counter = hooked.clone();
    let hook = ErrorHook::new(move |_| {
        counter.fetch_add(1, Ordering::SeqCst);
        None
    });
    let adapter = MongoAdapter::new(
        &client.database("faults"),
        MongoOptions::new().error_hook(hook),
    );
    adapter.ensure_indexes().await.unwrap();
    adapter
        .set_user(NewUser::new("p1").into_user("u1".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s1", "u1", 10, 20))
        .await
        .unwrap();

    server.stop();

    let err = expect_error("get_user", adapter.get_user("u1")).await;
    assert_retryable_backend("get_user", "get_user", &err);
    let err = expect_error(
        "set_user",
        adapter.set_user(NewUser::new("p2").into_user("u2".into())),
    )
    .await;
    assert_retryable_backend("set_user", "set_user", &err);
    let err = expect_error(
        "update_user",
        adapter.update_user("u1", UserPatch::new().attribute("a", 1)),
    )
    .await;
    assert_retryable_backend("update_user", "update_user", &err);
    let err = expect_error(
        "set_session",
        adapter.set_session(Session::new("s2", "u1", 10, 20)),
    )
    .await;
    assert_retryable_backend("set_session", "set_session", &err);
    let err = expect_error("get_session_and_user", adapter.get_session_and_user("s1")).await;
    assert_retryable_backend("get_session_and_user", "get_session_and_user", &err);
    let err = expect_error(
        "delete_sessions",
        adapter.delete_sessions(&["s1".to_owned()]),
    )
    .await;
    assert_retryable_backend("delete_sessions", "delete_sessions", &err);
    let err = expect_error(
        "delete_expired_sessions",
        adapter.delete_expired_sessions(0),
    )
    .await;
    assert_retryable_backend("delete_expired_sessions", "delete_expired_sessions", &err);
    assert_eq!(
        hooked.load(Ordering::SeqCst),
        7,
        "every backend error goes through the hook"
    );

    server.start();

    // The driver's monitor may need a heartbeat to see the server again, so
    // the first read after the restart gets a bounded number of tries.
    let mut first = None;
    for _ in 0..10 {
        match tokio::time::timeout(HANG_LIMIT, adapter.get_user("u1")).await {
            Ok(Ok(user)) => {
                first = Some(user);
                break;
            }
            Ok(Err(err)) => assert!(err.is_retryable(), "after restart: {err:?}"),
            Err(_) => panic!("get_user hung after the restart"),
        }
    }
    let first = first.expect("the adapter did not recover after the server restarted");
    assert_eq!(first.map(|user| user.id), Some("u1".to_owned()));

    adapter
        .set_user(NewUser::new("p2").into_user("u2".into()))
        .await
        .unwrap();
    adapter
        .set_session(Session::new("s2", "u2", 10, 20))
        .await
        .unwrap();
    let joined = adapter.get_session_and_user("s2").await.unwrap();
    assert_eq!(joined.map(|(_, user)| user.id), Some("u2".to_owned()));

    client.shutdown().await;
}
