//! The API token: 256 random bits, hex, kept in `STATE_DIR/token` with mode 0600, and the
//! challenge by which a daemon proves it holds the token without sending it.
//!
//! A client must not send its token to whatever listens on an address: after the daemon
//! stopped, any local program may bind its port. So before the first authenticated request
//! the client sends a random nonce to `GET /api/v1/hello?nonce=…` (no token needed) and the
//! server answers its bound address and HMAC-SHA256(token, `tend-hello-v1` ‖ nonce ‖ address).
//! Only a holder of the token can compute it; covering the address means a listener that
//! relays the nonce to the real daemon on another port gets a proof for that other address,
//! which the client refuses.

use std::fs;
use std::io::{self, Read};
use std::path::Path;

use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use tend::daemon::{StateFileError, read_private_file, secure_state_dir, write_state_file};

/// The unauthenticated route of the challenge.
pub const HELLO_PATH: &str = "/api/v1/hello";
/// Shortest and longest nonce a server accepts, in hex digits.
pub const HELLO_NONCE_HEX: std::ops::RangeInclusive<usize> = 32..=128;

/// The answer to `GET /api/v1/hello?nonce=…`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// The address the server is bound to, as it writes it (`127.0.0.1:7420`).
    pub addr: String,
    /// Hex HMAC-SHA256 over the nonce and `addr`, keyed with the token: see [`hello_proof`].
    pub proof: String,
}

/// A fresh random token (64 hex digits) from the kernel's random source.
///
/// # Panics
///
/// If `/dev/urandom` cannot be read, which leaves no safe way to make a secret.
pub fn generate_token() -> String {
    let mut bytes = [0u8; 32];
    fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut bytes))
        .expect("read /dev/urandom for the API token");
    hex(&bytes)
}

/// Reads the token in `dir/token`, or creates it (mode 0600, and `dir` with 0700) on first
/// start.
///
/// The file is read only if it is a regular file (not a symbolic link, which is never
/// followed), owned by this user, with mode 0600: a token others could read may be known to
/// them, so it is refused rather than narrowed. Remove it and a new one is made.
///
/// # Errors
///
/// The refusal or I/O error, naming the path.
pub fn load_or_create_token(dir: &Path) -> Result<String, StateFileError> {
    secure_state_dir(dir, true)?;
    match read_token(dir) {
        Ok(token) if !token.is_empty() => return Ok(token),
        Ok(_) => {}
        Err(e) if e.is_not_found() => {}
        Err(e) => return Err(e),
    }
    let token = generate_token();
    write_state_file(dir, "token", format!("{token}\n").as_bytes(), 0o600)?;
    Ok(token)
}

/// Reads the token in `dir/token` with the checks of [`load_or_create_token`], creating
/// nothing. An empty file gives an empty token.
///
/// # Errors
///
/// The refusal or I/O error, naming the path ([`StateFileError::is_not_found`] when there is
/// no token yet).
pub fn read_token(dir: &Path) -> Result<String, StateFileError> {
    let path = dir.join("token");
    let bytes = read_private_file(&path)?;
    let text = String::from_utf8(bytes).map_err(|_| StateFileError::Io {
        path,
        op: "read",
        source: io::Error::new(io::ErrorKind::InvalidData, "the token is not text"),
    })?;
    Ok(text.trim().to_owned())
}

/// The proof a server holding `token` gives for `nonce` at `addr`: hex
/// HMAC-SHA256(token, `tend-hello-v1\0` ‖ nonce ‖ `\0` ‖ addr).
pub fn hello_proof(token: &str, nonce: &str, addr: &str) -> String {
    hex(&hello_mac(token, nonce, addr).finalize().into_bytes())
}

/// Whether `proof` is what a holder of `token` answers for `nonce` at `addr`, compared in
/// constant time.
pub fn verify_hello(token: &str, nonce: &str, addr: &str, proof: &str) -> bool {
    let Some(bytes) = unhex(proof) else { return false };
    hello_mac(token, nonce, addr).verify_slice(&bytes).is_ok()
}

fn hello_mac(token: &str, nonce: &str, addr: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(token.as_bytes()).expect("HMAC takes any key");
    for part in [&b"tend-hello-v1\0"[..], nonce.as_bytes(), b"\0", addr.as_bytes()] {
        mac.update(part);
    }
    mac
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) || !text.is_ascii() {
        return None;
    }
    (0..text.len()).step_by(2).map(|i| u8::from_str_radix(&text[i..i + 2], 16).ok()).collect()
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn token_is_created_private_and_reused() {
        let dir = tempfile::tempdir().unwrap();
        let dir = dir.path().join("state");
        let first = load_or_create_token(&dir).unwrap();
        assert_eq!(first.len(), 64);
        let mode = fs::metadata(dir.join("token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_token(&dir).unwrap(), first);
        assert_eq!(read_token(&dir).unwrap(), first);
        assert_ne!(generate_token(), first);
    }

    #[test]
    fn proof_depends_on_token_nonce_and_address() {
        let proof = hello_proof("secret", "00ff", "127.0.0.1:7420");
        assert_eq!(proof.len(), 64);
        assert!(verify_hello("secret", "00ff", "127.0.0.1:7420", &proof));
        assert!(!verify_hello("other", "00ff", "127.0.0.1:7420", &proof));
        assert!(!verify_hello("secret", "00fe", "127.0.0.1:7420", &proof));
        assert!(!verify_hello("secret", "00ff", "127.0.0.1:7421", &proof));
        assert!(!verify_hello("secret", "00ff", "127.0.0.1:7420", "zz"));
        assert!(!verify_hello("secret", "00ff", "127.0.0.1:7420", &proof[..62]));
    }
}
