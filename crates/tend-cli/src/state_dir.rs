//! What `tend daemon` leaves in its state directory and the registry so that clients find it,
//! and only it: the directory itself (0700, this user's), `STATE_DIR/address` beside the
//! token, and a registry entry named after the state directory.
//!
//! Several daemons may share one registry (one `HOME`) with different state directories. Each
//! registers as `tend`/`supervisor.HASH`, HASH being the first 128 bits of the SHA-256 of the
//! canonical state directory, so entries never collide; a daemon never replaces another live
//! daemon's entry ([`Registry::claim`]) and removes only its own when it stops.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use sha2::{Digest, Sha256};
use tend::daemon::{DaemonEntry, Registry, read_private_file, secure_state_dir, write_state_file};

/// The registry entry's code.
pub(crate) const REGISTRY_CODE: &str = "tend";
/// The file, beside the token, that holds the daemon's bound address (`127.0.0.1:7420`).
pub(crate) const ADDRESS_FILE: &str = "address";

/// The daemon name of the registry entry of the daemon whose state directory is `dir`
/// (canonical): `supervisor.` and 32 hex digits.
pub(crate) fn registry_name(dir: &Path) -> String {
    let digest = Sha256::digest(dir.as_os_str().as_encoded_bytes());
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("supervisor.{hex}")
}

/// Checks a state directory before use (creating it with `create`): a symbolic link or a
/// directory of another user is refused; one open to group or others is narrowed to 0700,
/// with a warning on stderr. Returns its canonical path.
pub(crate) fn secure(dir: &Path, create: bool) -> anyhow::Result<PathBuf> {
    if let Some(mode) = secure_state_dir(dir, create)? {
        eprintln!(
            "tend: warning: the state directory {} had mode {mode:04o}; narrowed to 0700",
            dir.display()
        );
    }
    dir.canonicalize()
        .with_context(|| format!("cannot resolve the state directory {}", dir.display()))
}

/// The address `tend daemon` wrote in `dir`, if there is one.
///
/// # Errors
///
/// A refused file (a symbolic link, another user's, open to others) or unreadable content.
pub(crate) fn read_address(dir: &Path) -> anyhow::Result<Option<String>> {
    let path = dir.join(ADDRESS_FILE);
    match read_private_file(&path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes).ok();
            let addr = text.as_deref().map(str::trim).filter(|a| a.parse::<SocketAddr>().is_ok());
            let addr =
                addr.with_context(|| format!("{} does not hold an address", path.display()))?;
            Ok(Some(addr.to_owned()))
        }
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(e).context("cannot read the daemon's address"),
    }
}

/// The address in the registry entry of the daemon with state directory `dir`, if one runs.
pub(crate) fn registered_address(dir: &Path) -> Option<String> {
    let registry = Registry::from_env().ok()?;
    let dir = dir.canonicalize().ok()?;
    registry.get(REGISTRY_CODE, &registry_name(&dir)).ok()??.health
}

/// Where a running daemon told clients about itself; [`withdraw`](Self::withdraw) removes it.
#[derive(Debug)]
pub(crate) struct Published {
    address_file: PathBuf,
    registry: Registry,
    entry: DaemonEntry,
}

/// Writes `STATE_DIR/address` (atomically, 0600) and claims the registry entry of the daemon
/// of canonical state directory `dir` bound to `bound`.
///
/// # Errors
///
/// The write's error, or the registry's (another live daemon holds the entry); nothing is
/// left behind.
pub(crate) fn publish(
    dir: &Path,
    registry: &Registry,
    bound: SocketAddr,
) -> anyhow::Result<Published> {
    let address_file = write_state_file(dir, ADDRESS_FILE, format!("{bound}\n").as_bytes(), 0o600)
        .context("cannot write the daemon's address")?;
    let mut entry = DaemonEntry::for_current_process(REGISTRY_CODE, registry_name(dir));
    entry.health = Some(bound.to_string());
    entry.state_dir = Some(dir.to_string_lossy().into_owned());
    if let Err(error) = registry.claim(&entry) {
        let _ = std::fs::remove_file(&address_file);
        return Err(error).context("cannot register in the daemon registry");
    }
    Ok(Published { address_file, registry: registry.clone(), entry })
}

impl Published {
    /// Removes the address file and this daemon's registry entry (only if it is still ours).
    ///
    /// # Errors
    ///
    /// The first removal that failed; both are attempted.
    pub(crate) fn withdraw(self) -> anyhow::Result<()> {
        let address = match std::fs::remove_file(&self.address_file) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                Err(e).with_context(|| format!("cannot remove {}", self.address_file.display()))
            }
            _ => Ok(()),
        };
        let entry =
            self.registry.unregister_entry(&self.entry).context("cannot remove the registry entry");
        address.and(entry.map(drop))
    }
}
