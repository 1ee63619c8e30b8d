//! The web UI's login and session cookie against a real `tend daemon`: the one-time code
//! exchange, its single use and expiry, the cookie's flags, the CSRF and Origin rule for
//! cookie-authenticated writes and WebSockets, logout, a restart ending every session, the
//! session bound, bearer clients unchanged, and the pages themselves (redirect, headers).

use std::time::Duration;

use serde_json::Value;

use crate::real_daemon::RealDaemon;
use crate::server_support::{Reply, send};

/// What the refusal page says.
const REFUSED: &str = "This login link has expired or was already used.";

const UPGRADE: [(&str, &str); 4] = [
    ("Connection", "Upgrade"),
    ("Upgrade", "websocket"),
    ("Sec-WebSocket-Version", "13"),
    ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
];

/// A request to the daemon with exactly these headers (no token unless given).
async fn request(
    daemon: &RealDaemon,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Reply {
    send(daemon.addr, method, path, &daemon.addr.to_string(), headers, body).await
}

/// `POST /api/v1/ui/login-codes` with the token: the code's answer.
async fn login_code(daemon: &RealDaemon) -> Value {
    let reply = daemon.call("POST", "/ui/login-codes", None).await;
    assert_eq!(reply.status, 201, "{}", String::from_utf8_lossy(&reply.body));
    reply.json()
}

/// Follows the login link of `code`: the answer.
async fn redeem(daemon: &RealDaemon, code: &Value) -> Reply {
    let url = code["url"].as_str().expect("url");
    let path =
        url.strip_prefix(&daemon.url).unwrap_or_else(|| panic!("{url} is not on {}", daemon.url));
    request(daemon, "GET", path, &[], b"").await
}

/// A new session: its `Cookie` header value.
async fn log_in(daemon: &RealDaemon) -> String {
    let reply = redeem(daemon, &login_code(daemon).await).await;
    assert_eq!(reply.status, 303, "{reply:?}");
    cookie_of(&reply)
}

/// `tend_session=…` from a login answer's `Set-Cookie`.
fn cookie_of(reply: &Reply) -> String {
    let set = reply.header("set-cookie").unwrap_or_else(|| panic!("no Set-Cookie: {reply:?}"));
    set.split(';').next().expect("name=value").to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_code_is_exchanged_once_for_a_strict_http_only_cookie() {
    let daemon = RealDaemon::start();
    let code = login_code(&daemon).await;
    let secret = code["code"].as_str().expect("code");
    assert_eq!(code["url"], format!("{}/ui/login?code={secret}", daemon.url));
    assert_eq!(code["expires_in_ms"], 60_000);
    assert!(secret.len() == 64 && secret.bytes().all(|b| b.is_ascii_hexdigit()), "{secret}");
    assert!(!code["url"].as_str().unwrap().contains(&daemon.token));

    let login = redeem(&daemon, &code).await;
    assert_eq!((login.status, login.header("location")), (303, Some("/ui/")), "{login:?}");
    let set = login.header("set-cookie").expect("Set-Cookie");
    let attributes: Vec<&str> = set.split("; ").collect();
    assert_eq!(attributes[1..], ["HttpOnly", "SameSite=Strict", "Path=/"], "{set}");
    let cookie = cookie_of(&login);
    let value = cookie.strip_prefix("tend_session=").expect("the session cookie");
    assert!(value.len() == 64 && value != daemon.token && value != secret, "{value}");

    // The cookie reads the API as the token does.
    let listed = request(&daemon, "GET", "/api/v1/processes", &[("Cookie", &cookie)], b"").await;
    assert_eq!(listed.status, 200, "{listed:?}");
    assert!(listed.json().is_array());

    // Used once: the same link again gets the page saying to run `tend ui` again.
    let again = redeem(&daemon, &code).await;
    assert_eq!(again.status, 401);
    assert_eq!(again.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(again.header("set-cookie").is_none());
    let page = String::from_utf8_lossy(&again.body);
    assert!(page.contains(REFUSED) && page.contains("tend ui"), "{page}");
    for path in ["/ui/login?code=0123", "/ui/login", "/ui/login?code="] {
        let unknown = request(&daemon, "GET", path, &[], b"").await;
        assert_eq!(unknown.status, 401, "{path}");
    }
    // No cookie, or a made-up one: no data.
    let none = request(&daemon, "GET", "/api/v1/processes", &[], b"").await;
    assert_eq!((none.status, none.code().as_str()), (401, "unauthorized"));
    let forged = format!("tend_session={}", "ab".repeat(32));
    let forged = request(&daemon, "GET", "/api/v1/processes", &[("Cookie", &forged)], b"").await;
    assert_eq!(forged.status, 401);
    assert!(forged.json()["error"]["message"].as_str().unwrap().contains("tend ui"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_login_code_expires() {
    // The hidden test-only flag shortens the 60 s lifetime.
    let daemon = RealDaemon::start_with(None, &["--ui-code-lifetime", "300ms"]);
    let code = login_code(&daemon).await;
    assert_eq!(code["expires_in_ms"], 300);
    let in_time = login_code(&daemon).await;
    assert_eq!(redeem(&daemon, &in_time).await.status, 303);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let late = redeem(&daemon, &code).await;
    assert_eq!(late.status, 401);
    assert!(String::from_utf8_lossy(&late.body).contains(REFUSED));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cookie_writes_need_the_csrf_header_and_our_origin() {
    let daemon = RealDaemon::start();
    let cookie = log_in(&daemon).await;
    let id = daemon.start_sh("sleep 300").await;
    let own = daemon.url.clone();
    let stop = format!("/api/v1/processes/{id}/signal");
    let body = br#"{"signal": "SIGCONT"}"#;
    let json = ("Content-Type", "application/json");
    let refused: [(&[(&str, &str)], &str); 3] = [
        (&[("Cookie", &cookie), json], "X-Tend-Csrf"),
        (&[("Cookie", &cookie), json, ("X-Tend-Csrf", "0")], "X-Tend-Csrf"),
        (
            &[("Cookie", &cookie), json, ("X-Tend-Csrf", "1"), ("Origin", "http://127.0.0.1:9")],
            "Origin `http://127.0.0.1:9` refused",
        ),
    ];
    for (headers, named) in refused {
        let reply = request(&daemon, "POST", &stop, headers, body).await;
        assert_eq!((reply.status, reply.code().as_str()), (403, "forbidden"), "{headers:?}");
        let message = reply.json()["error"]["message"].as_str().unwrap().to_owned();
        assert!(message.contains(named), "{message}");
    }
    // With the header, from our own page or from no page at all.
    for headers in [
        &[("Cookie", cookie.as_str()), json, ("X-Tend-Csrf", "1"), ("Origin", own.as_str())][..],
        &[("Cookie", cookie.as_str()), json, ("X-Tend-Csrf", "1")][..],
    ] {
        let reply = request(&daemon, "POST", &stop, headers, body).await;
        assert_eq!(reply.status, 200, "{headers:?}: {reply:?}");
    }
    // A session cannot make login codes: only the token can.
    let headers = [("Cookie", cookie.as_str()), ("X-Tend-Csrf", "1")];
    let mint = request(&daemon, "POST", "/api/v1/ui/login-codes", &headers, b"").await;
    assert_eq!(mint.status, 403, "{mint:?}");
    // Reads need no header; the process is still the one started.
    let read =
        request(&daemon, "GET", &format!("/api/v1/processes/{id}"), &[("Cookie", &cookie)], b"")
            .await;
    assert_eq!(read.json()["status"], "running");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cookie_websocket_needs_our_origin() {
    let daemon = RealDaemon::start();
    let cookie = log_in(&daemon).await;
    let own = daemon.url.clone();
    let with = |extra: &[(&'static str, &str)]| {
        let mut headers: Vec<(&str, String)> =
            UPGRADE.iter().map(|(n, v)| (*n, (*v).to_owned())).collect();
        headers.extend(extra.iter().map(|(n, v)| (*n, (*v).to_owned())));
        headers
    };
    let cases = [
        (with(&[("Cookie", &cookie), ("Origin", &own)]), 101),
        (with(&[("Cookie", &cookie), ("Origin", "http://127.0.0.1:9")]), 403),
        (with(&[("Cookie", &cookie)]), 403),
        (with(&[("Origin", &own)]), 401),
    ];
    for (headers, expected) in cases {
        let headers: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
        let reply = request(&daemon, "GET", "/api/v1/events", &headers, b"").await;
        assert_eq!(reply.status, expected, "{headers:?}: {reply:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_and_a_restart_end_sessions() {
    let dir = tempfile::tempdir().expect("temp dir");
    let daemon = RealDaemon::start_in(dir.path(), &[], std::process::Stdio::null());
    let (ended, kept) = (log_in(&daemon).await, log_in(&daemon).await);
    let logout = |headers: Vec<(&'static str, String)>| {
        let daemon = &daemon;
        async move {
            let headers: Vec<(&str, &str)> =
                headers.iter().map(|(n, v)| (*n, v.as_str())).collect();
            request(daemon, "POST", "/ui/logout", &headers, b"").await
        }
    };
    // Logout is a write: the CSRF rule holds for it too.
    let refused = logout(vec![("Cookie", ended.clone())]).await;
    assert_eq!(refused.status, 403, "{refused:?}");
    let foreign = logout(vec![
        ("Cookie", ended.clone()),
        ("X-Tend-Csrf", "1".into()),
        ("Origin", "http://127.0.0.1:9".into()),
    ])
    .await;
    assert_eq!(foreign.status, 403, "{foreign:?}");
    let done = logout(vec![("Cookie", ended.clone()), ("X-Tend-Csrf", "1".into())]).await;
    assert_eq!(done.status, 204, "{done:?}");
    assert!(done.header("set-cookie").unwrap().contains("Max-Age=0"), "{done:?}");
    let read = |cookie: String| {
        let daemon = &daemon;
        async move {
            request(daemon, "GET", "/api/v1/processes", &[("Cookie", &cookie)], b"").await.status
        }
    };
    assert_eq!(read(ended).await, 401);
    assert_eq!(read(kept.clone()).await, 200);

    // Sessions live in memory: the daemon started again on the same state knows none.
    daemon.stop_with(rustix::process::Signal::TERM);
    let again = RealDaemon::start_in(dir.path(), &[], std::process::Stdio::null());
    let reply = request(&again, "GET", "/api/v1/processes", &[("Cookie", &kept)], b"").await;
    assert_eq!(reply.status, 401, "{reply:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_most_256_sessions_are_kept_the_idlest_ended_first() {
    let daemon = RealDaemon::start();
    let first = log_in(&daemon).await;
    let mut last = String::new();
    for _ in 0..tend_server::MAX_SESSIONS {
        last = log_in(&daemon).await;
    }
    let status = |cookie: String| {
        let daemon = &daemon;
        async move {
            request(daemon, "GET", "/api/v1/processes", &[("Cookie", &cookie)], b"").await.status
        }
    };
    assert_eq!(status(first).await, 401, "the 257th login ended the first session");
    assert_eq!(status(last).await, 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bearer_clients_are_unchanged() {
    let daemon = RealDaemon::start();
    let auth = format!("Bearer {}", daemon.token);
    // A write with the token needs neither the CSRF header nor an Origin check, and a cookie
    // beside the token changes nothing.
    let body = br#"{"command": "sleep", "args": ["300"]}"#;
    let headers = [
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/json"),
        ("Cookie", "tend_session=nonsense"),
    ];
    let started = request(&daemon, "POST", "/api/v1/processes", &headers, body).await;
    assert_eq!(started.status, 201, "{started:?}");
    let path = format!("/api/v1/events?token={}", daemon.token);
    let stream = request(&daemon, "GET", &path, &UPGRADE, b"").await;
    assert_eq!(stream.status, 101, "{stream:?}");
    // The CLI too.
    let ps = daemon.tend(&["ps", "--json"]).await;
    assert!(ps.status.success(), "{ps:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pages_are_served_with_their_headers_and_no_auth() {
    let daemon = RealDaemon::start();
    let root = request(&daemon, "GET", "/", &[], b"").await;
    assert_eq!((root.status, root.header("location")), (308, Some("/ui/")));
    let index = request(&daemon, "GET", "/ui/", &[], b"").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(index.header("cache-control"), Some("no-cache"));
    assert_eq!(index.header("x-content-type-options"), Some("nosniff"));
    let csp = index.header("content-security-policy").expect("CSP");
    assert!(csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"), "{csp}");
    let expected =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../tend-server/ui/index.html"))
            .expect("ui/index.html");
    assert_eq!(index.body, expected, "the embedded file is the source's");
    let script = request(&daemon, "GET", "/ui/app.js", &[], b"").await;
    assert_eq!(script.header("content-type"), Some("text/javascript; charset=utf-8"));
    for missing in ["/ui/nope.js", "/ui/../Cargo.toml", "/ui/%2e%2e/Cargo.toml"] {
        let reply = request(&daemon, "GET", missing, &[], b"").await;
        assert_eq!(reply.status, 404, "{missing}: {reply:?}");
    }
    // The Host check (DNS rebinding) covers the pages too.
    let rebound = send(daemon.addr, "GET", "/ui/", "evil.example:80", &[], b"").await;
    assert_eq!(rebound.status, 403);
}
