//! The only module that talks to the operating system directly.
//!
//! Everything that needs `rustix`, `libc`, `procfs` or `unsafe` lives here, behind small
//! crate-private functions whose types are the crate's own. The rest of the library stays
//! portable and safe. Linux is the primary target; other Unix systems get what is cheap to keep.
#![allow(unsafe_code)]

mod boot;
#[cfg(target_os = "linux")]
mod cgroup;
mod child;
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod clone_spawn;
mod code_pages;
mod contain;
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod exec_plan;
#[cfg(all(target_os = "linux", any(target_arch = "x86_64", target_arch = "aarch64")))]
mod fd_slots;
#[cfg(target_os = "linux")]
mod group_usage;
mod guardian;
mod limits;
mod nofollow;
mod notify;
mod procinfo;
#[cfg(target_os = "linux")]
mod proctable;
mod session;
mod signals;
mod spawn;
#[cfg(test)]
mod spawn_tests;
mod std_spawn;
mod subreaper;
#[cfg(target_os = "linux")]
mod sweep;
mod trim;

pub(crate) use boot::boot_id;
pub(crate) use child::Child;
pub use code_pages::release_code_pages;
pub(crate) use contain::{Tagging, enable as enable_containment};
#[cfg(target_os = "linux")]
pub(crate) use group_usage::{group_totals, ticks_per_second};
pub(crate) use guardian::Guardian;
pub(crate) use limits::{open_file_limit, raise_open_file_limit, set_thread_nice};
pub(crate) use nofollow::{effective_uid, is_symlink_refusal, state_file_flags};
pub(crate) use notify::send_notification;
pub(crate) use procinfo::{Liveness, liveness, start_time};
#[cfg(target_os = "linux")]
pub(crate) use proctable::{count_pids, entry as process_entry, scan as scan_processes};
pub(crate) use session::new_session_on_spawn;
pub(crate) use signals::{Delivery, SIGNAL_NAMES, group_exists, signal_group, signal_process};
#[cfg(test)]
pub(crate) use spawn::{FORCE_STD, fast_spawns};
pub(crate) use spawn::{Protection, Redirect, SpawnRequest, Spawned, enlarge_pipe, spawn};
pub(crate) use std_spawn::configure_group;
pub(crate) use subreaper::{
    register as register_child, spawn_lock, unregister as unregister_child,
};
pub use trim::release_free_memory;
