//! The API token: 256 random bits, hex, kept in `STATE_DIR/token` with mode 0600.

use std::fs::{self, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Reads the token in `dir/token`, or creates it (mode 0600, and `dir` with 0700) on first
/// start. An existing file readable by others is narrowed to 0600.
///
/// # Errors
///
/// The I/O error, with the path in its message.
pub fn load_or_create_token(dir: &Path) -> io::Result<String> {
    let path = dir.join("token");
    let with_path = |e: io::Error| io::Error::new(e.kind(), format!("{}: {e}", path.display()));
    match fs::read_to_string(&path) {
        Ok(text) if !text.trim().is_empty() => {
            let mode = fs::metadata(&path).map_err(with_path)?.permissions().mode();
            if mode & 0o077 != 0 {
                fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).map_err(with_path)?;
            }
            return Ok(text.trim().to_owned());
        }
        Ok(_) => fs::remove_file(&path).map_err(with_path)?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(with_path(e)),
    }
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", dir.display())))?;
    let token = generate_token();
    // Write a temporary file and rename it, so a concurrent reader never sees half a token.
    let temp = dir.join(format!(".token.{}", std::process::id()));
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&temp)
        .map_err(with_path)?;
    file.write_all(format!("{token}\n").as_bytes()).map_err(with_path)?;
    file.sync_all().map_err(with_path)?;
    fs::rename(&temp, &path).map_err(with_path)?;
    Ok(token)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_is_created_private_and_reused() {
        let dir = std::env::temp_dir().join(format!("tend-token-test-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let first = load_or_create_token(&dir).unwrap();
        assert_eq!(first.len(), 64);
        let mode = fs::metadata(dir.join("token")).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(load_or_create_token(&dir).unwrap(), first);
        assert_ne!(generate_token(), first);
        fs::remove_dir_all(&dir).unwrap();
    }
}
