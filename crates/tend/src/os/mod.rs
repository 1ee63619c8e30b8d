//! The only module that talks to the operating system directly.
//!
//! Everything that needs `rustix`, `libc`, `procfs` or `unsafe` lives here, behind small
//! crate-private functions whose types are the crate's own. The rest of the library stays
//! portable and safe. Linux is the primary target; other Unix systems get what is cheap to keep.
#![allow(unsafe_code)]

mod boot;
mod guardian;
mod limits;
mod notify;
mod procinfo;
#[cfg(target_os = "linux")]
mod proctable;
mod signals;
mod spawn;
mod trim;

pub(crate) use boot::boot_id;
pub(crate) use guardian::Guardian;
pub(crate) use limits::{raise_open_file_limit, set_thread_nice};
pub(crate) use notify::send_notification;
pub(crate) use procinfo::{Liveness, liveness, start_time};
#[cfg(target_os = "linux")]
pub(crate) use proctable::{count_pids, entry as process_entry, scan as scan_processes};
pub(crate) use signals::{Delivery, SIGNAL_NAMES, group_exists, signal_group, signal_process};
pub(crate) use spawn::{configure_group, enlarge_pipe};
pub use trim::release_free_memory;
