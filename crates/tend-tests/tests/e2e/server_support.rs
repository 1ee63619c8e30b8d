//! Shared by the `server_*` tests: the API router served in-process on `127.0.0.1:0` with a
//! temp state dir, and a plain HTTP/1.1 client that can send any header (or leave one out).

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::Value;
use tend::Service;
use tend_server::{ServerConfig, ServerState};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
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
        self.raw(method, path, &headers, body.as_deref().unwrap_or("").as_bytes(), true).await
    }

    /// A request with exactly these headers (plus `Host` when `host` is true).
    pub(crate) async fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
        host: bool,
    ) -> Reply {
        let host_line = if host { format!("Host: {}\r\n", self.addr) } else { String::new() };
        send(self.addr, method, path, &host_line, headers, body).await
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

/// Sends one request on a fresh connection and reads the whole response.
pub(crate) async fn send(
    addr: SocketAddr,
    method: &str,
    path: &str,
    host_line: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    let exchange = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut head = format!("{method} {path} HTTP/1.1\r\n{host_line}Connection: close\r\n");
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        head.push_str(&format!("Content-Length: {}\r\n\r\n", body.len()));
        stream.write_all(head.as_bytes()).await.expect("write head");
        // A server may answer (413) and close before reading a large body: ignore that.
        let _ = stream.write_all(body).await;
        let mut raw = Vec::new();
        let _ = stream.read_to_end(&mut raw).await;
        parse(&raw)
    };
    tokio::time::timeout(Duration::from_secs(30), exchange)
        .await
        .unwrap_or_else(|_| panic!("{method} {path} hung"))
}

fn parse(raw: &[u8]) -> Reply {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of headers");
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let mut rest = &raw[end + 4..];
    let chunked = headers.iter().any(|(n, v)| n == "transfer-encoding" && v.contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let line_end = rest.windows(2).position(|w| w == b"\r\n").expect("chunk size");
            let size =
                usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap().trim(), 16)
                    .unwrap();
            rest = &rest[line_end + 2..];
            if size == 0 {
                break body;
            }
            body.extend_from_slice(&rest[..size]);
            rest = &rest[size + 2..];
        }
    } else {
        rest.to_vec()
    };
    Reply { status, headers, body }
}

/// The JSON of a fixture start request.
pub(crate) fn fixture(args: &[&str]) -> Value {
    serde_json::json!({ "command": FIXTURE, "args": args })
}
