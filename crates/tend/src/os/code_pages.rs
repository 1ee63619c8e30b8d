//! Letting go of the pages of code that a long-running process ran once, at its start.
//!
//! A process's resident size counts every page of its mapped files (the executable, the C
//! library) that it has touched, plus the kernel's *fault-around*: each fault on a file
//! mapping also maps up to 16 neighbouring pages already in the page cache. A daemon runs a
//! lot of code once at start (argument parsing, configuration, building the router) and then
//! little: its resident size stays at what the start touched. `madvise(MADV_DONTNEED)` on the
//! read-only file mappings drops them from the process's page tables only: the pages stay in
//! the page cache (nothing is read from disk again), and a page used later faults back in,
//! the same bytes from the same file.
//!
//! Only mappings that cannot hold anything of the process's own are released: read-only,
//! backed by the executable or a shared library, and with no anonymous (copy-on-write) page
//! (`Anonymous: 0 kB` in `/proc/self/smaps`; the relocated, then write-protected RELRO
//! segments have such pages and are left alone). Those mappings live as long as the process:
//! the executable is never unmapped, and the C library never unloads the libraries it loads
//! for itself (NSS, iconv); tend loads no others.

use std::io;

/// Drops from this process's page tables the pages of its executable's and shared libraries'
/// read-only mappings, and returns how many bytes were resident in them. See the module
/// documentation. Linux only (reads `/proc/self/smaps`); elsewhere returns 0.
pub fn release_code_pages() -> io::Result<u64> {
    #[cfg(target_os = "linux")]
    {
        let smaps = std::fs::read_to_string("/proc/self/smaps")?;
        let exe = std::fs::read_link("/proc/self/exe")?;
        let mut released = 0;
        for mapping in releasable(&smaps, &exe.to_string_lossy()) {
            // SAFETY: the range is a whole mapping of this process, read-only, backed by a
            // file that stays mapped for the process's life, with no anonymous page: after
            // MADV_DONTNEED every page reads back the same bytes from the page cache, so no
            // reference into it (code, constants) sees a change.
            let status = unsafe {
                libc::madvise(mapping.start as *mut libc::c_void, mapping.len, libc::MADV_DONTNEED)
            };
            if status != 0 {
                return Err(io::Error::last_os_error());
            }
            released += mapping.resident;
        }
        Ok(released)
    }
    #[cfg(not(target_os = "linux"))]
    Ok(0)
}

/// One mapping that may be released.
#[derive(Debug, PartialEq)]
struct Mapping {
    start: usize,
    len: usize,
    /// Resident bytes (the `Rss:` line).
    resident: u64,
}

/// The mappings of `smaps` that [`release_code_pages`] may release (see the module docs).
fn releasable(smaps: &str, exe: &str) -> Vec<Mapping> {
    let mut found = Vec::new();
    let mut current: Option<(Mapping, bool)> = None;
    let mut anonymous = 0u64;
    let mut finish = |current: Option<(Mapping, bool)>, anonymous: u64| {
        if let Some((mapping, eligible)) = current
            && eligible
            && anonymous == 0
            && mapping.resident > 0
        {
            found.push(mapping);
        }
    };
    for line in smaps.lines() {
        if let Some(header) = parse_header(line) {
            finish(current.take(), anonymous);
            anonymous = 0;
            let (start, end, perms, path) = header;
            let read_only = perms.as_bytes().get(1) == Some(&b'-');
            let file_name = path.rsplit('/').next().unwrap_or("");
            let library = path == exe || file_name.contains(".so");
            let mapping = Mapping { start, len: end - start, resident: 0 };
            current = Some((mapping, read_only && path.starts_with('/') && library));
        } else if let Some((mapping, _)) = current.as_mut() {
            if let Some(kib) = field_kib(line, "Rss:") {
                mapping.resident = kib * 1024;
            } else if let Some(kib) = field_kib(line, "Anonymous:") {
                anonymous = kib;
            }
        }
    }
    finish(current, anonymous);
    found
}

/// A mapping's header line: `start-end perms offset dev inode [path]`.
fn parse_header(line: &str) -> Option<(usize, usize, &str, &str)> {
    let mut parts = line.splitn(6, ' ');
    let (start, end) = parts.next()?.split_once('-')?;
    let start = usize::from_str_radix(start, 16).ok()?;
    let end = usize::from_str_radix(end, 16).ok()?;
    let perms = parts.next()?;
    if perms.len() != 4 {
        return None;
    }
    let (_offset, _device, _inode) = (parts.next()?, parts.next()?, parts.next()?);
    let path = parts.next().unwrap_or("").trim_start();
    Some((start, end, perms, path))
}

/// The number of a `Name:   N kB` line.
fn field_kib(line: &str, name: &str) -> Option<u64> {
    line.strip_prefix(name)?.trim().strip_suffix("kB")?.trim().parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMAPS: &str = "\
55d0a0000000-55d0a0100000 r--p 00000000 08:01 42 /usr/bin/tend
Rss:                 512 kB
Anonymous:             0 kB
55d0a0100000-55d0a0600000 r-xp 00100000 08:01 42 /usr/bin/tend
Rss:                4096 kB
Anonymous:             0 kB
55d0a0600000-55d0a0700000 r--p 00600000 08:01 42 /usr/bin/tend
Rss:                 276 kB
Anonymous:           276 kB
55d0a0700000-55d0a0710000 rw-p 00700000 08:01 42 /usr/bin/tend
Rss:                  64 kB
Anonymous:            64 kB
7f0000000000-7f0000100000 r-xp 00028000 08:01 77 /usr/lib/x86_64-linux-gnu/libc.so.6
Rss:                1100 kB
Anonymous:             0 kB
7f0000200000-7f0000300000 r--p 00000000 08:01 99 /usr/share/locale/data
Rss:                  40 kB
Anonymous:             0 kB
7f0000400000-7f0000500000 rw-p 00000000 00:00 0 
Rss:                 900 kB
Anonymous:           900 kB
7f0000600000-7f0000601000 r-xp 00000000 00:00 0                          [vdso]
Rss:                   4 kB
Anonymous:             0 kB
7f0000700000-7f0000710000 r-xp 00000000 08:01 77 /usr/lib/x86_64-linux-gnu/libm.so.6
Rss:                   0 kB
Anonymous:             0 kB
";

    #[test]
    fn only_clean_read_only_mappings_of_the_executable_and_libraries() {
        let found = releasable(SMAPS, "/usr/bin/tend");
        let starts: Vec<usize> = found.iter().map(|m| m.start).collect();
        assert_eq!(starts, [0x55d0a0000000, 0x55d0a0100000, 0x7f0000000000]);
        assert_eq!(
            found[1],
            Mapping { start: 0x55d0a0100000, len: 0x500000, resident: 4096 << 10 }
        );
    }

    #[test]
    fn the_running_process_keeps_working_after_a_release() {
        let released = release_code_pages().expect("release");
        // This test binary is running: its code is resident.
        assert!(released > 0, "nothing released");
        // Code and constants fault back in from the page cache, unchanged.
        let text = format!("{}-{}", "after", released.min(1));
        assert_eq!(text, "after-1");
        assert_eq!(releasable(SMAPS, "/usr/bin/tend").len(), 3);
    }
}
