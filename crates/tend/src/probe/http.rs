//! The `http` probe: `GET URL` answers with a 2xx status, through the crate's one HTTP client.

use std::time::Duration;

use super::tcp::check_host;
use super::{InvalidProbe, io_reason, timed_out};
use crate::http::{HttpError, Request};

/// The most of an answer's body read: health answers are a few bytes.
const MAX_ANSWER: usize = 64 * 1024;

/// Asks `GET URL` with [`tend::http`](crate::http); succeeds on a 2xx answer. Built by
/// [`Probe::http`](super::Probe::http) or [`HttpProbe::new`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpProbe {
    url: String,
    /// `host:port`, what the client connects to (and the `Host` header).
    address: String,
    /// The path and query, at least `/`.
    path: String,
}

impl HttpProbe {
    /// A probe of `url`: `http://HOST[:PORT][/PATH][?QUERY]`, the port 80 when not given, a
    /// `#fragment` ignored (it is never sent).
    ///
    /// # Errors
    ///
    /// [`InvalidProbe::Missing`] for an empty URL, [`InvalidProbe::InvalidUrl`] for `https://`
    /// (the client speaks plain HTTP only), another scheme, user info (`user@`), a missing or
    /// malformed host, or a bad port.
    pub fn new(url: &str) -> Result<HttpProbe, InvalidProbe> {
        let url = url.trim();
        if url.is_empty() {
            return Err(InvalidProbe::Missing { kind: "http", what: "URL" });
        }
        let (address, path) = parse_url(url)
            .map_err(|reason| InvalidProbe::InvalidUrl { url: url.to_owned(), reason })?;
        Ok(HttpProbe { url: url.to_owned(), address, path })
    }

    /// The URL, as given (trimmed).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// `host:port`: where the request goes.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The path and query asked, such as `/health`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Asks once within `timeout`: `Ok` for 2xx, the status (`503`) or the error otherwise.
    pub(crate) async fn check(&self, timeout: Duration) -> Result<(), String> {
        let request = Request::get(self.path.as_str()).timeout(timeout).max_answer(MAX_ANSWER);
        match request.send(&self.address).await {
            Ok(answer) if answer.is_success() => Ok(()),
            Ok(answer) => Err(answer.status().to_string()),
            // The probe names the address already: the error in a few words.
            Err(HttpError::Connect { error, .. }) => Err(io_reason(&error)),
            Err(HttpError::TimedOut { timeout, .. }) => Err(timed_out(timeout)),
            Err(error) => Err(error.to_string()),
        }
    }
}

/// `http://HOST[:PORT][/PATH]` → (`HOST:PORT`, `/PATH`), or what is wrong.
fn parse_url(url: &str) -> Result<(String, String), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err("expected http://HOST[:PORT][/PATH]".to_owned());
    };
    match scheme.to_ascii_lowercase().as_str() {
        "http" => {}
        "https" => {
            return Err("https is not supported: the probe speaks plain HTTP (use a tcp or \
                        exec probe, such as `curl -fsS URL`)"
                .to_owned());
        }
        _ => return Err(format!("the scheme `{scheme}` is not supported (only http://)")),
    }
    let rest = rest.split_once('#').map_or(rest, |(before, _)| before);
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(end);
    if authority.contains('@') {
        return Err("user info (`user@`) is not supported".to_owned());
    }
    if let Some(c) = path.chars().find(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("{c:?} cannot be in a URL path (percent-encode it)"));
    }
    // The port is what follows the last `:` outside an IPv6 address's brackets.
    let (host, port) = match authority.rfind(':') {
        Some(colon) if !authority[colon..].contains(']') => {
            (&authority[..colon], Some(&authority[colon + 1..]))
        }
        _ => (authority, None),
    };
    check_host(host).map_err(|reason| reason.replace("before the port", "after http://"))?;
    let port = match port {
        None => 80,
        Some(port) => match port.parse::<u16>() {
            Ok(0) | Err(_) => return Err(format!("`{port}` is not a port (1 to 65535)")),
            Ok(port) => port,
        },
    };
    let path = match path {
        "" => "/".to_owned(),
        path if path.starts_with('?') => format!("/{path}"),
        path => path.to_owned(),
    };
    Ok((format!("{host}:{port}"), path))
}

#[cfg(test)]
mod tests {
    use super::parse_url;

    #[test]
    fn urls_give_address_and_path() {
        let parsed = |url: &str| parse_url(url).unwrap();
        let pair = |a: &str, p: &str| (a.to_owned(), p.to_owned());
        assert_eq!(parsed("http://127.0.0.1:8080/health"), pair("127.0.0.1:8080", "/health"));
        assert_eq!(parsed("http://localhost"), pair("localhost:80", "/"));
        assert_eq!(parsed("HTTP://web:81?x=1#top"), pair("web:81", "/?x=1"));
        assert_eq!(parsed("http://[::1]:9000/a/b?c"), pair("[::1]:9000", "/a/b?c"));
        assert_eq!(parsed("http://[::1]/"), pair("[::1]:80", "/"));
    }

    #[test]
    fn bad_urls_say_why() {
        let reason = |url: &str| parse_url(url).unwrap_err();
        assert!(reason("https://example.com/").contains("https is not supported"));
        assert!(reason("ftp://example.com/").contains("`ftp` is not supported"));
        assert!(reason("127.0.0.1:8080/health").contains("expected http://"));
        assert!(reason("http://:8080/").contains("no host"));
        assert!(reason("http://web:99999/").contains("`99999` is not a port"));
        assert!(reason("http://web:0/").contains("`0` is not a port"));
        assert!(reason("http://web:/").contains("`` is not a port"));
        assert!(reason("http://u:p@web/").contains("user info"));
        assert!(reason("http://::1/").contains("in brackets"));
        assert!(reason("http://web/a b").contains("cannot be in a URL path"));
        assert!(reason("http://we b/").contains("cannot be in a host name"));
    }
}
