//! Shared by the `server_*` tests: the API router served in-process on `127.0.0.1:0` with a
//! temp state dir, and requests through `tend::http` with any headers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tend::Service;
use tend::http::Request;
use tend_server::{ServerConfig, ServerState};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

/// The fixture child.
pub(crate) const FIXTURE: &str = env!("CARGO_BIN_EXE_tend-fixture");

/// A response: status, headers (lower-case names) and body.
#[derive(Debug)]
pub(crate) struct Reply {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Reply {
    /// The body as JSON, failing the test if it is not.
    pub(crate) fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "status {}: body is not JSON ({e}): {}",
                self.status,
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The error code of an error body.
    pub(crate) fn code(&self) -> String {
        let body = self.json();
        body["error"]["code"]
            .as_str()
            .unwrap_or_else(|| panic!("not an error body: {body}"))
            .to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A server running in this test.
pub(crate) struct TestServer {
    pub(crate) addr: SocketAddr,
    pub(crate) token: String,
    pub(crate) state: ServerState,
    pub(crate) service: Service,
    _dir: tempfile::TempDir,
    task: JoinHandle<()>,
}

impl Drop for TestServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl TestServer {
    pub(crate) async fn start() -> Self {
        Self::start_with(|config| config).await
    }

    pub(crate) async fn start_with(configure: impl FnOnce(ServerConfig) -> ServerConfig) -> Self {
        let dir = tempfile::tempdir().expect("temp state dir");
        let token = tend_server::load_or_create_token(dir.path()).expect("token");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let service = Service::new();
        let state =
            ServerState::with_config(service.clone(), configure(ServerConfig::new(&token, addr)));
        let app = tend_server::router(state.clone());
        // Served as `tend daemon` serves it: with its connection bounds and timeouts.
        let options = tend_server::ServeOptions::default();
        let task = tokio::spawn(async move {
            let _ = tend_server::serve(listener, app, options, std::future::pending()).await;
        });
        Self { addr, token, state, service, _dir: dir, task }
    }

    /// An authorised request with an optional JSON body.
    pub(crate) async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let auth = format!("Bearer {}", self.token);
        let body = body.map(|b| b.to_string());
        let mut headers = vec![("Authorization", auth.as_str())];
        if body.is_some() {
            headers.push(("Content-Type", "application/json"));
        }
        self.raw(method, path, &headers, body.as_deref().unwrap_or("").as_bytes()).await
    }

    /// A request with these headers (and the client's `Host`, `User-Agent`, `Accept` and
    /// `Connection: close`).
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> Reply {
        send(self.addr, method, path, &self.addr.to_string(), headers, body).await
    }

    /// Polls `GET path` until `done` holds for its JSON, failing after `timeout`.
    pub(crate) async fn poll(
        &self,
        path: &str,
        timeout: Duration,
        done: impl Fn(&Value) -> bool,
    ) -> Value {
        let deadline = Instant::now() + timeout;
        loop {
            let reply = self.call("GET", path, None).await;
            let body = reply.json();
            if done(&body) {
                return body;
            }
            assert!(Instant::now() < deadline, "timed out polling {path}: last {body}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

/// Sends one request with `Host: host` on a fresh connection and reads the whole answer,
/// failing the test if there is none within 30 s.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let mut request =
        Request::new(method, path).header("Host", host).body(body.to_vec()).max_answer(64 << 20);
    for (name, value) in headers {
        request = request.header(name, value);
    }
    let answer = request
        .timeout(Duration::from_secs(30))
        .send(&addr.to_string())
        .await
        .unwrap_or_else(|e| panic!("{method} {path}: {e}"));
    Reply {
        status: answer.status(),
        headers: answer
            .headers()
            .map(|(name, value)| (name.to_owned(), String::from_utf8_lossy(value).into_owned()))
            .collect(),
        body: answer.into_body().to_vec(),
    }
}

/// The JSON of a fixture start request.
pub(crate) fn fixture(args: &[&str]) -> Value {
    serde_json::json!({ "command": FIXTURE, "args": args })
}
