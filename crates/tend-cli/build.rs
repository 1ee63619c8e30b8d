//! Build facts for `tend --version`: the git commit the binary was built from and the cargo
//! features of tend-cli it was built with.
//!
//! * `TEND_BUILD_COMMIT`: `git rev-parse --short HEAD`, with `-dirty` when tracked files differ
//!   from it, or `unknown` outside a git checkout of tend (a crate tarball, no `git`).
//! * `TEND_BUILD_FEATURES`: the enabled features but `default`, comma-separated (`none` for
//!   none), from the `CARGO_FEATURE_*` variables Cargo sets for a build script.

use std::path::Path;
use std::process::Command;

fn main() {
    let manifest_dir = std::env::var("CARGO_MANIFEST_DIR").expect("set by cargo");
    let dir = Path::new(&manifest_dir);
    println!("cargo::rustc-env=TEND_BUILD_COMMIT={}", commit(dir));
    println!("cargo::rustc-env=TEND_BUILD_FEATURES={}", features());
    // Naming any file ends Cargo's default of rerunning on every change in the package, so
    // the sources are named too: an edit may make the checkout dirty.
    for path in ["build.rs", "Cargo.toml", "src"] {
        println!("cargo::rerun-if-changed={path}");
    }
    // A commit, a checkout or `git add` moves one of these.
    for name in ["HEAD", "index", "packed-refs"] {
        if let Some(path) = git(dir, &["rev-parse", "--git-path", name]) {
            println!("cargo::rerun-if-changed={}", dir.join(path).display());
        }
    }
    if let Some(branch) = git(dir, &["symbolic-ref", "-q", "HEAD"])
        && let Some(path) = git(dir, &["rev-parse", "--git-path", &branch])
    {
        println!("cargo::rerun-if-changed={}", dir.join(path).display());
    }
}

/// The short commit, `-dirty` when tracked files changed, or `unknown`.
fn commit(dir: &Path) -> String {
    // Only a checkout where this very manifest is tracked: a tarball unpacked inside some
    // other repository must not report that repository's commit.
    if git(dir, &["ls-files", "--error-unmatch", "Cargo.toml"]).is_none() {
        return "unknown".to_owned();
    }
    let Some(hash) = git(dir, &["rev-parse", "--short", "HEAD"]) else {
        return "unknown".to_owned();
    };
    match git(dir, &["status", "--porcelain", "--untracked-files=no"]) {
        Some(changes) if changes.is_empty() => hash,
        _ => format!("{hash}-dirty"),
    }
}

/// The enabled features of this package, sorted, comma-separated.
fn features() -> String {
    let mut names: Vec<String> = std::env::vars()
        .filter_map(|(key, _)| {
            let name = key.strip_prefix("CARGO_FEATURE_")?.to_lowercase().replace('_', "-");
            // `default` only names a set of the others.
            (name != "default").then_some(name)
        })
        .collect();
    names.sort();
    if names.is_empty() { "none".to_owned() } else { names.join(",") }
}

/// The trimmed stdout of `git ARGS` run in `dir`, or `None` when git is missing or fails.
fn git(dir: &Path, args: &[&str]) -> Option<String> {
    let output = Command::new("git").arg("-C").arg(dir).args(args).output().ok()?;
    output.status.success().then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
}
