//! # tend — supervise operating-system processes
//!
//! `tend` spawns, watches, streams, captures and controls child processes. It is the library
//! behind the `tend` command-line tool and its supervisor daemon.
#![cfg_attr(docsrs, feature(doc_cfg))]

pub mod daemon;
mod os;
pub mod signal;

pub use signal::Signal;
