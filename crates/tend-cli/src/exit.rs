//! Exit codes and how errors become them.

/// Exit code for usage and configuration errors.
pub(crate) const USAGE: i32 = 2;
/// Exit code for any other failure.
pub(crate) const FAILURE: i32 = 1;

/// A usage or configuration error: bad input the user can fix. Exits 2.
///
/// The message must name the bad input (flag, key, path or value).
#[derive(Debug)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// Prints an error chain on stderr, on one line with its control characters escaped (it may
/// quote a name, path or answer holding ESC or `\n`), and picks the exit code. A closed
/// output pipe is no failure: nothing is printed and the status is 0.
pub(crate) fn report(error: &anyhow::Error) -> i32 {
    if crate::closed_pipe::is_closed_pipe(error) {
        return 0;
    }
    eprintln!("tend: {}", crate::terminal_safe::escape(&format!("{error:#}")));
    if error.downcast_ref::<UsageError>().is_some() { USAGE } else { FAILURE }
}

/// Prints a command-line error from clap and returns [`USAGE`]. clap quotes the bad argument
/// as it was typed, and on a terminal prints it raw: when an argument holds a control
/// character, the message comes from parsing the arguments again with their control
/// characters escaped, so it names `\e[2J` rather than clearing the screen.
pub(crate) fn report_usage(error: clap::Error) -> i32 {
    use clap::Parser;
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    let escaped: Vec<std::ffi::OsString> = args
        .iter()
        .map(|arg| match arg.to_str() {
            Some(text) => crate::terminal_safe::escape(text).into_owned().into(),
            None => arg.clone(),
        })
        .collect();
    if escaped == args {
        let _ = error.print();
    } else {
        match crate::cli::Cli::try_parse_from(escaped) {
            Err(shown) if shown.kind() == error.kind() => drop(shown.print()),
            // Escaping changed the verdict: the plain text (clap strips escape sequences
            // from it), with any control character left shown.
            _ => eprint!(
                "{}",
                crate::terminal_safe::escape_keeping_lines(&error.render().to_string())
            ),
        }
    }
    USAGE
}
