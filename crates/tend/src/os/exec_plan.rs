//! The C strings a child started by [`clone_spawn`](super::clone_spawn) needs, built by the
//! parent before the call: the paths to try (the `PATH` search), `argv`, `envp` and the
//! working directory.
//!
//! The environment is only rebuilt when something changes it, and then as an array of
//! pointers into the process's own `environ` strings plus the few entries added: no copy of
//! the whole environment per spawn (what std does as soon as one variable is set).

use std::ffi::{CStr, CString, OsStr, c_char};
use std::io;
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::Path;

use super::clone_spawn::ChildPlan;
use super::spawn::SpawnRequest;

unsafe extern "C" {
    /// The C library's environment, as `execve` expects it.
    static environ: *const *const c_char;
}

/// `PATH` for a child whose environment has none: glibc's `execvp` default.
const DEFAULT_PATH: &[u8] = b"/bin:/usr/bin";

/// NUL-terminated strings in one buffer.
#[derive(Default)]
struct CStrings {
    bytes: Vec<u8>,
    starts: Vec<usize>,
}

impl CStrings {
    /// Adds the concatenation of `parts` as one string.
    fn push(&mut self, parts: &[&[u8]]) -> io::Result<()> {
        if parts.iter().any(|part| part.contains(&0)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "nul byte found in provided data",
            ));
        }
        self.starts.push(self.bytes.len());
        for part in parts {
            self.bytes.extend_from_slice(part);
        }
        self.bytes.push(0);
        Ok(())
    }

    fn pointers(&self) -> impl Iterator<Item = *const c_char> + '_ {
        self.starts.iter().map(|&start| self.bytes[start..].as_ptr().cast())
    }
}

/// Everything a [`ChildPlan`] points to; it must outlive the spawn.
pub(super) struct ExecPlan {
    _strings: [CStrings; 3],
    candidates: Vec<*const c_char>,
    argv: Vec<*const c_char>,
    /// `None`: the child gets our `environ` as it is.
    envp: Option<Vec<*const c_char>>,
    _marker: Option<std::sync::Arc<CString>>,
    cwd: Option<CString>,
}

impl ExecPlan {
    /// Prepares the strings of `request`. Fails like std on a NUL byte inside one.
    pub(super) fn new(request: &SpawnRequest<'_>) -> io::Result<Self> {
        let program = request.program.as_bytes();
        let mut args = CStrings::default();
        args.push(&[program])?;
        for arg in request.args {
            args.push(&[arg.as_bytes()])?;
        }
        let mut env = CStrings::default();
        let marker = request.protection.marker.clone();
        // Later settings of a variable win (as in std), and the guardian's marker over all.
        let is_set_later = |index: usize, key: &OsStr| {
            request.env[index + 1..].iter().any(|(later, _)| later == key)
                || (marker.is_some() && key == super::contain::MARKER)
        };
        for (index, (key, value)) in request.env.iter().enumerate() {
            if !is_set_later(index, key) {
                env.push(&[key.as_bytes(), b"=", value.as_bytes()])?;
            }
        }
        let changed = request.clear_env || !request.env.is_empty() || marker.is_some();
        let envp = changed.then(|| {
            let mut envp = Vec::new();
            if !request.clear_env {
                let overridden = |entry: &[u8]| {
                    let key = entry.split(|&b| b == b'=').next().unwrap_or_default();
                    request.env.iter().any(|(k, _)| k.as_bytes() == key)
                        || (marker.is_some() && key == super::contain::MARKER.as_bytes())
                };
                // SAFETY: `environ` is the C library's null-terminated array of
                // NUL-terminated strings; it is only changed through `std::env::set_var`,
                // which is `unsafe` precisely because it may not race with readers like this.
                unsafe {
                    let mut entry = environ;
                    while !entry.is_null() && !(*entry).is_null() {
                        if !overridden(CStr::from_ptr(*entry).to_bytes()) {
                            envp.push(*entry);
                        }
                        entry = entry.add(1);
                    }
                }
            }
            envp.extend(env.pointers());
            envp.extend(marker.as_ref().map(|marker| marker.as_ptr()));
            envp.push(std::ptr::null());
            envp
        });
        let mut paths = CStrings::default();
        if !program.is_empty() {
            if program.contains(&b'/') {
                paths.push(&[program])?;
            } else {
                for dir in search_path(request).split(|&b| b == b':') {
                    if dir.is_empty() {
                        paths.push(&[program])?;
                    } else {
                        paths.push(&[dir, b"/", program])?;
                    }
                }
            }
        }
        let cwd = request.dir.map(cstring).transpose()?;
        let with_null =
            |strings: &CStrings| strings.pointers().chain([std::ptr::null()]).collect::<Vec<_>>();
        Ok(Self {
            candidates: with_null(&paths),
            argv: with_null(&args),
            envp,
            cwd,
            _marker: marker,
            _strings: [args, env, paths],
        })
    }

    /// The plan for the child: these strings plus the descriptors and group settings.
    pub(super) fn child_plan(
        &self,
        stdio: [i32; 3],
        new_session: bool,
        leave_procs: i32,
        register: i32,
        slots_top: i32,
    ) -> ChildPlan {
        ChildPlan {
            candidates: self.candidates.as_ptr(),
            argv: self.argv.as_ptr(),
            // SAFETY: reading the pointer `environ` (see `new`).
            envp: self.envp.as_ref().map_or_else(|| unsafe { environ }, |envp| envp.as_ptr()),
            stdio,
            cwd: self.cwd.as_ref().map_or(std::ptr::null(), |cwd| cwd.as_ptr()),
            new_session,
            leave_procs,
            register,
            slots_top,
            error: std::sync::atomic::AtomicI32::new(0),
        }
    }
}

/// The directories searched for a program without a slash: the child's `PATH` (like
/// `execvp` after std sets the child's environment), else the default.
fn search_path(request: &SpawnRequest<'_>) -> Vec<u8> {
    let set = request.env.iter().rev().find(|(key, _)| key == "PATH").map(|(_, value)| value);
    match set {
        Some(path) => path.as_bytes().to_vec(),
        None if request.clear_env => DEFAULT_PATH.to_vec(),
        None => std::env::var_os("PATH").map_or(DEFAULT_PATH.to_vec(), |path| path.into_vec()),
    }
}

fn cstring(path: &Path) -> io::Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "nul byte found in provided data"))
}
