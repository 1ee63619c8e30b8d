//! The web UI's files, compiled into the binary from `crates/tend-server/ui/`: no CDN, no
//! network, no JavaScript toolchain. A new file there is served once it is listed in
//! [`ASSETS`] (a test fails while one is missing).

use axum::extract::Path;
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};

use crate::error::ApiError;

/// Every file of the UI as (path under `/ui/`, contents), one line each.
macro_rules! assets {
    ($($path:literal),* $(,)?) => {
        &[$(($path, include_bytes!(concat!(env!("CARGO_MANIFEST_DIR"), "/ui/", $path)))),*]
    };
}

/// The embedded files: a file under `ui/` is served only when listed here.
#[rustfmt::skip]
pub(crate) static ASSETS: &[(&str, &[u8])] = assets![
    "index.html",
    "app.js",
    "app.css",
    "actions.js",
    "ansi.js",
    "api.js",
    "dialog.js",
    "dom.js",
    "format.js",
    "logview.js",
    "output.js",
    "overview.js",
    "pipeline.js",
    "process.js",
    "rows.js",
    "start.js",
    "store.js",
    "stream.js",
];

/// The Content-Security-Policy of every page: nothing from elsewhere, nothing inline.
pub(crate) const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; connect-src 'self'; \
     img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'";

/// The headers every UI answer carries: no caching without asking, the CSP, no sniffing, no
/// framing, no referrer (a login link holds a code).
pub(crate) fn page_headers(content_type: &'static str) -> HeaderMap {
    let mut headers = HeaderMap::new();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        HeaderName::from_static("content-security-policy"),
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        HeaderName::from_static("x-content-type-options"),
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        HeaderName::from_static("referrer-policy"),
        HeaderValue::from_static("no-referrer"),
    );
    headers
}

/// `GET /ui/` → `index.html`.
pub(crate) async fn index() -> Response {
    serve("index.html")
}

/// `GET /ui/{path}` → the embedded file; 404 for any other.
pub(crate) async fn asset(Path(path): Path<String>) -> Response {
    serve(&path)
}

fn serve(path: &str) -> Response {
    match ASSETS.iter().find(|(name, _)| *name == path) {
        Some((name, bytes)) => {
            (StatusCode::OK, page_headers(content_type(name)), *bytes).into_response()
        }
        None => ApiError::not_found(format!("no file `/ui/{path}`")).into_response(),
    }
}

/// The media type of a file, by its extension.
fn content_type(path: &str) -> &'static str {
    match path.rsplit_once('.').map(|(_, extension)| extension) {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        Some("ico") => "image/x-icon",
        Some("woff2") => "font/woff2",
        Some("txt") => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::path::{Path, PathBuf};
    use std::process::{Command, Stdio};

    use super::*;

    /// Total size the UI may take, gzip-compressed (the bound).
    const MAX_COMPRESSED: usize = 300 * 1024;

    fn ui_dir() -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("ui")
    }

    /// Every file under `dir`, as paths relative to `ui/`.
    fn files_under(dir: &Path, found: &mut Vec<String>) {
        for entry in std::fs::read_dir(dir).expect("read ui/") {
            let path = entry.expect("ui/ entry").path();
            if path.is_dir() {
                files_under(&path, found);
            } else {
                let relative = path.strip_prefix(ui_dir()).expect("under ui/");
                found.push(relative.to_str().expect("UTF-8 name").to_owned());
            }
        }
    }

    #[test]
    fn every_file_under_ui_is_embedded_with_a_known_type() {
        let mut found = Vec::new();
        files_under(&ui_dir(), &mut found);
        for file in &found {
            assert!(
                ASSETS.iter().any(|(name, _)| name == file),
                "ui/{file} is not served: add it to ASSETS in src/ui/assets.rs"
            );
            assert_ne!(content_type(file), "application/octet-stream", "ui/{file}: add its type");
        }
        assert!(found.iter().any(|file| file == "index.html"));
    }

    /// The bound, measured with the system's `gzip -9` (as a server or proxy would
    /// compress them), file by file.
    #[test]
    fn the_assets_take_under_300_kb_compressed() {
        let mut total = 0;
        for (name, bytes) in ASSETS {
            let mut gzip = Command::new("gzip")
                .args(["-9", "-c"])
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .spawn()
                .expect("run gzip");
            let mut stdin = gzip.stdin.take().expect("gzip stdin");
            let bytes = bytes.to_vec();
            let writer = std::thread::spawn(move || stdin.write_all(&bytes));
            let output = gzip.wait_with_output().expect("gzip output");
            writer.join().expect("writer").expect("write to gzip");
            assert!(output.status.success(), "gzip {name}");
            total += output.stdout.len();
        }
        let raw: usize = ASSETS.iter().map(|(_, bytes)| bytes.len()).sum();
        println!("UI assets: {} files, {raw} bytes, {total} bytes gzip -9", ASSETS.len());
        assert!(total < MAX_COMPRESSED, "UI assets take {total} bytes compressed (bound 300 KB)");
    }
}
