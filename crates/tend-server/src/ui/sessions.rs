//! Login codes and browser sessions of the web UI, in memory only: a daemon restart ends
//! every session.
//!
//! `tend ui` asks for a code with the API token; the browser exchanges it once, within
//! [`LOGIN_CODE_LIFETIME`], for a session whose secret lives only in an `HttpOnly` cookie.
//! Codes and session secrets are 256 random bits; only their SHA-256 digests are kept, so a
//! lookup in the table reveals nothing about a secret, and a memory dump holds none.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

/// How long a login code stays good after `tend ui` asked for it.
pub const LOGIN_CODE_LIFETIME: Duration = Duration::from_secs(60);
/// Outstanding (unused, unexpired) login codes kept; a new one beyond drops the oldest.
pub const MAX_LOGIN_CODES: usize = 64;
/// A session unused this long has ended.
pub const SESSION_IDLE: Duration = Duration::from_secs(12 * 60 * 60);
/// Sessions kept; a new login beyond ends the one idle longest.
pub const MAX_SESSIONS: usize = 256;

type Hash = [u8; 32];

/// The login codes handed out and the sessions they became.
#[derive(Debug)]
pub(crate) struct Sessions {
    code_lifetime: Duration,
    inner: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    /// Outstanding codes, oldest first, with when each was issued.
    codes: VecDeque<(Hash, Instant)>,
    /// Live sessions, with when each was last used.
    sessions: HashMap<Hash, Instant>,
}

impl Sessions {
    /// No codes, no sessions; codes good for `code_lifetime`.
    pub(crate) fn new(code_lifetime: Duration) -> Self {
        Self { code_lifetime, inner: Mutex::default() }
    }

    /// How long a code stays good.
    pub(crate) fn code_lifetime(&self) -> Duration {
        self.code_lifetime
    }

    fn tables(&self) -> std::sync::MutexGuard<'_, Tables> {
        // The tables hold no invariant a panic could break half-way.
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A new login code, issued at `now`.
    pub(crate) fn issue_code(&self, now: Instant) -> String {
        let code = crate::token::generate_token();
        let mut tables = self.tables();
        let lifetime = self.code_lifetime;
        tables.codes.retain(|(_, issued)| now.saturating_duration_since(*issued) <= lifetime);
        if tables.codes.len() >= MAX_LOGIN_CODES {
            tables.codes.pop_front();
        }
        tables.codes.push_back((digest(&code), now));
        code
    }

    /// Exchanges `code` for a new session's secret; `None` when the code is unknown, was
    /// used already or has expired. A code is gone after its first exchange, good or not.
    pub(crate) fn redeem(&self, code: &str, now: Instant) -> Option<String> {
        let wanted = digest(code);
        let mut tables = self.tables();
        let at = tables.codes.iter().position(|(hash, _)| *hash == wanted)?;
        let (_, issued) = tables.codes.remove(at)?;
        if now.saturating_duration_since(issued) > self.code_lifetime {
            return None;
        }
        let secret = crate::token::generate_token();
        tables.sessions.retain(|_, used| now.saturating_duration_since(*used) < SESSION_IDLE);
        if tables.sessions.len() >= MAX_SESSIONS
            && let Some(idlest) =
                tables.sessions.iter().min_by_key(|(_, used)| **used).map(|(hash, _)| *hash)
        {
            tables.sessions.remove(&idlest);
        }
        tables.sessions.insert(digest(&secret), now);
        Some(secret)
    }

    /// Whether `secret` is a live session's; if so its idle time starts again at `now`.
    pub(crate) fn touch(&self, secret: &str, now: Instant) -> bool {
        let hash = digest(secret);
        let mut tables = self.tables();
        match tables.sessions.get_mut(&hash) {
            Some(used) if now.saturating_duration_since(*used) < SESSION_IDLE => {
                *used = now;
                true
            }
            Some(_) => {
                tables.sessions.remove(&hash);
                false
            }
            None => false,
        }
    }

    /// Ends the session of `secret` (nothing if there is none).
    pub(crate) fn end(&self, secret: &str) {
        self.tables().sessions.remove(&digest(secret));
    }
}

fn digest(secret: &str) -> Hash {
    Sha256::digest(secret.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_good_once_and_within_its_lifetime() {
        let sessions = Sessions::new(LOGIN_CODE_LIFETIME);
        let start = Instant::now();
        let code = sessions.issue_code(start);
        assert_eq!(code.len(), 64);
        let secret = sessions.redeem(&code, start + Duration::from_secs(59)).expect("fresh code");
        assert!(sessions.touch(&secret, start + Duration::from_secs(60)));
        assert_eq!(sessions.redeem(&code, start + Duration::from_secs(60)), None, "used twice");
        let late = sessions.issue_code(start);
        assert_eq!(sessions.redeem(&late, start + Duration::from_secs(61)), None, "expired");
        assert_eq!(sessions.redeem("not-a-code", start), None);
    }

    #[test]
    fn a_session_ends_after_twelve_hours_idle_or_when_ended() {
        let sessions = Sessions::new(LOGIN_CODE_LIFETIME);
        let start = Instant::now();
        let login = |at| sessions.redeem(&sessions.issue_code(at), at).unwrap();
        let kept = login(start);
        // Each use restarts the idle time.
        assert!(sessions.touch(&kept, start + SESSION_IDLE - Duration::from_secs(1)));
        assert!(sessions.touch(&kept, start + SESSION_IDLE + Duration::from_secs(1)));
        let idle = login(start);
        assert!(!sessions.touch(&idle, start + SESSION_IDLE));
        let ended = login(start);
        sessions.end(&ended);
        assert!(!sessions.touch(&ended, start));
    }

    #[test]
    fn codes_and_sessions_are_bounded_dropping_the_oldest() {
        let sessions = Sessions::new(LOGIN_CODE_LIFETIME);
        let now = Instant::now();
        let codes: Vec<String> = (0..=MAX_LOGIN_CODES).map(|_| sessions.issue_code(now)).collect();
        assert_eq!(sessions.redeem(&codes[0], now), None, "the oldest code was dropped");
        let first = sessions.redeem(&codes[1], now).expect("the newer codes were kept");
        let secrets: Vec<String> = (1..=MAX_SESSIONS as u64)
            .map(|i| {
                let at = now + Duration::from_millis(i);
                sessions.redeem(&sessions.issue_code(at), at).unwrap()
            })
            .collect();
        // The first session is the one idle longest: the 257th login ended it.
        let later = now + Duration::from_secs(1);
        assert!(!sessions.touch(&first, later));
        assert!(secrets.iter().all(|secret| sessions.touch(secret, later)));
    }
}
