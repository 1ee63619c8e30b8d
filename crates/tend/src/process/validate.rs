//! What can reach a program at all: the one check, and the one wording, for every input path
//! (the library, pipeline files, the API, the command line).
//!
//! A program, its arguments, its directory and its environment travel to `execve` as C
//! strings, so none of them may hold a NUL byte; an environment variable's name may not be
//! empty or hold `=` either (`A=B=c` is the variable `A`, whatever was meant). Such input is
//! refused before anything starts, with the messages below.

use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;

use super::options::StartOptions;
use crate::Error;

/// Checks an environment variable's name: not empty, no `=`, no NUL. The error says so,
/// naming it.
///
/// ```
/// assert!(tend::process::check_env_name("RUST_LOG").is_ok());
/// let error = tend::process::check_env_name("A=B").unwrap_err();
/// assert_eq!(error, "`A=B` is not an environment variable name (empty, or holds `=` or NUL)");
/// ```
pub fn check_env_name(name: impl AsRef<OsStr>) -> Result<(), String> {
    let bytes = name.as_ref().as_bytes();
    if bytes.is_empty() || bytes.contains(&b'=') || bytes.contains(&0) {
        return Err(format!(
            "`{}` is not an environment variable name (empty, or holds `=` or NUL)",
            shown(name.as_ref())
        ));
    }
    Ok(())
}

/// Checks text passed to a program (a program name, an argument, an environment value, a
/// directory, a script): no NUL byte. The error says so, naming it.
///
/// ```
/// assert!(tend::process::check_no_nul("hello world").is_ok());
/// let error = tend::process::check_no_nul("a\0b").unwrap_err();
/// assert_eq!(error, "`a\\0b` holds a NUL byte, which no program can be given");
/// ```
pub fn check_no_nul(text: impl AsRef<OsStr>) -> Result<(), String> {
    if text.as_ref().as_bytes().contains(&0) {
        return Err(format!(
            "`{}` holds a NUL byte, which no program can be given",
            shown(text.as_ref())
        ));
    }
    Ok(())
}

/// The text for a message: control characters escaped, cut after 60 characters.
fn shown(text: &OsStr) -> String {
    const LONGEST: usize = 60;
    let text = text.to_string_lossy();
    let mut out: String = text.chars().take(LONGEST).flat_map(char::escape_debug).collect();
    if text.chars().nth(LONGEST).is_some() {
        out.push('…');
    }
    out
}

impl StartOptions {
    /// Checks everything that goes to the program before it starts: the program is not empty,
    /// and it, the arguments, the directory and the environment can be passed at all (see
    /// [`check_env_name`] and [`check_no_nul`]). [`Service::start`](crate::Service::start)
    /// calls this; the error is [`Error::InvalidOption`] naming the option.
    pub fn check(&self) -> Result<(), Error> {
        let invalid =
            |option: &'static str| move |message| Error::InvalidOption { option, message };
        if self.command.is_empty() {
            return Err(invalid("command")("must not be empty".to_owned()));
        }
        check_no_nul(&self.command).map_err(invalid("command"))?;
        self.args.iter().try_for_each(check_no_nul).map_err(invalid("args"))?;
        if let Some(dir) = &self.dir {
            check_no_nul(dir).map_err(invalid("dir"))?;
        }
        for (name, value) in &self.env {
            check_env_name(name).map_err(invalid("env"))?;
            check_no_nul(value).map_err(invalid("env"))?;
        }
        if let Some((key, 0)) = &self.queue_group {
            // It would wait for ever.
            return Err(invalid("queue_group")(format!(
                "group `{key}`: the limit must be 1 or more"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_field_is_checked_and_named() {
        let option = |options: StartOptions| match options.check() {
            Err(Error::InvalidOption { option, message }) => (option, message),
            other => panic!("not refused: {other:?}"),
        };
        assert_eq!(option(StartOptions::new("")).0, "command");
        assert_eq!(option(StartOptions::new("a\0b")).0, "command");
        assert_eq!(option(StartOptions::new("echo").arg("x\0")).0, "args");
        assert_eq!(option(StartOptions::new("echo").dir("/tmp\0")).0, "dir");
        for (name, value) in [("", "v"), ("A=B", "v"), ("A\0", "v"), ("A", "v\0")] {
            let (named, message) = option(StartOptions::new("echo").env(name, value));
            assert_eq!(named, "env");
            assert!(message.contains("NUL"), "{message}");
        }
        StartOptions::new("echo").arg("").env("A", "").env("B", "x=y").check().unwrap();
    }

    #[test]
    fn messages_escape_and_cut_what_they_show() {
        let long = format!("\u{1b}[2J{}\0", "x".repeat(100));
        let message = check_no_nul(&long).unwrap_err();
        assert!(message.starts_with("`\\u{1b}[2Jxxx"), "{message}");
        assert!(message.contains("…`"), "{message}");
        assert!(!message.contains('\u{1b}'));
    }
}
