//! A closed output pipe (`tend logs X | head`) ends the command quietly, with status 0, as
//! `head` asked for no more: no `Broken pipe` message.
//!
//! Rust ignores SIGPIPE, so a write to a closed pipe fails with `EPIPE` instead of killing
//! us. A command's write error that reaches [`crate::exit::report`] is recognised by
//! [`is_closed_pipe`]; a `println!` that meets one panics instead, and the panic hook
//! installed by [`quiet_on_closed_pipe`] turns that panic into the same quiet exit.

use std::io::ErrorKind;

/// Whether `error` (or anything in its chain) is a write to a closed pipe.
pub(crate) fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            return io.kind() == ErrorKind::BrokenPipe;
        }
        if let Some(json) = cause.downcast_ref::<serde_json::Error>() {
            return json.io_error_kind() == Some(ErrorKind::BrokenPipe);
        }
        false
    })
}

/// Makes a `println!` on a closed stdout exit 0 quietly; any other panic is reported as
/// before.
pub(crate) fn quiet_on_closed_pipe() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let message = info
            .payload()
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| info.payload().downcast_ref::<&str>().copied())
            .unwrap_or("");
        // std's wording for a failed `print!`: "failed printing to stdout: Broken pipe (os
        // error 32)".
        if message.starts_with("failed printing to stdout") && message.contains("os error 32") {
            std::process::exit(0);
        }
        previous(info);
    }));
}
