//! Bash scripts as managed processes: gpud's script runs, without their faults.
//!
//! A [`Script`] is either a script text ([`Script::new`]) or a list of commands, each an
//! argument vector ([`Script::commands`]). Commands become one script, one line each, with
//! every word [quoted](quote) — an argument holding spaces, quotes, `$`, `;` or a newline
//! arrives as exactly that argument, and nothing in it runs. [`strict`](Script::strict) puts
//! [`STRICT_HEADER`] (`set -o errexit -o nounset -o pipefail`) in front.
//!
//! [`Script::start`] turns it into a managed [`Process`](crate::Process) of a
//! [`Service`](crate::Service) running `bash`, with everything that implies: events, output
//! ring, wait, kill, shutdown, timeout. The exit code is bash's: the last command's, `127` for
//! a command that was not found, `2` for a syntax error.
//!
//! ```no_run
//! # async fn demo() -> Result<(), tend::script::ScriptError> {
//! use tend::Service;
//! use tend::script::Script;
//!
//! let service = Service::new();
//! let backup = Script::new("tar czf \"$OUT\" /etc && echo done")
//!     .strict(true)
//!     .env("OUT", "/var/backups/etc.tgz")
//!     .file_dir("/var/tmp")
//!     .file_pattern("backup-*.sh")
//!     .start(&service)?;
//! let info = backup.wait().await;
//! println!("{:?}", info.exit_code);
//! # Ok(()) }
//! ```
//!
//! # File mode
//!
//! The default. The script is written to a new file — mode 0600, created exclusively, in
//! the system's temporary directory or a [directory of your choice](Script::file_dir), named
//! after a [pattern](Script::file_pattern) whose last `*` becomes a random part
//! ([`DEFAULT_PATTERN`] is `tend-script-*.sh`) — and bash runs it as `bash FILE`. The file
//! is removed when the process ends, or at once when bash cannot be started. The script's
//! stdin is what [`Script::stdin`] says (`/dev/null` by default).
//!
//! # Inline mode
//!
//! [`Script::inline`] feeds the script to `bash -s` on its standard input; nothing is written
//! to disk, so it works on a full or read-only disk. bash reads a script from a pipe a byte
//! at a time and runs each command as soon as it has parsed it, so a command that reads stdin
//! (`read`, `cat`, a program asking a question) would swallow the rest of the script. To
//! prevent that the script is wrapped in one `{ …; } </dev/null` group: bash parses the whole
//! group before running any of it, and **every command in an inline script reads end-of-file
//! from stdin**. You cannot feed an inline script input; use file mode and
//! [`StdinMode::Piped`](crate::StdinMode) for that.
//!
//! # Environment
//!
//! gpud replaced the whole environment with the one given. Here `KEY=VALUE` entries are added
//! to the inherited environment (overriding a variable of the same name), unless
//! [`clear_env`](Script::clear_env) asks for a clean start. An entry without `=`, with an empty
//! key, or repeating a key fails the start with an error naming it.
//!
//! # Background jobs
//!
//! By default a script and its process group live and die together: kill and shutdown reach
//! the whole group, and whatever the script left running in the background is killed when it
//! ends. With [`allow_detached`](Script::allow_detached) a `cmd &` job outlives the script.
//!
//! # Caveats
//!
//! * **Parsing the whole group.** Because an inline script is one compound command, bash
//!   parses all of it before it runs any of it: `shopt -s extglob` or an `alias` defined in
//!   the script does not affect the script's own later lines, and a syntax error anywhere
//!   means nothing runs (exit code 2). A file script runs line by line, as bash usually does.
//! * **Inline is slower to read.** bash reads a script from a pipe a byte at a time, about
//!   half a second per megabyte; file mode reads in blocks.
//! * **Detached jobs and pipes.** A job that outlives its script still holds the output pipes,
//!   which tend stops reading shortly after the script ends (the leak timeout); the job then
//!   gets `SIGPIPE` on its next write. Redirect a detached job's output (`cmd >log 2>&1 &`).
//!   A job outlives the script, not the supervisor: if the supervisor dies while the script is
//!   still running, the script's whole group is killed, jobs included (start the script
//!   [`detach`](Script::detach)ed to prevent that).
//! * **Kill with `allow_detached`.** Kill and shutdown then reach bash only, not the jobs.
//! * **Line numbers.** The strict header shares the script's first line, so bash's line
//!   numbers are those of the script as written; in inline mode bash's messages say `bash:`
//!   rather than a file name, and a syntax error on the first line shows the `{ :;` wrapper.

mod error;
mod file;
mod quote;
mod render;
mod spec;
mod start;

pub use error::ScriptError;
pub use quote::{quote, quote_command};
pub use spec::{DEFAULT_PATTERN, STRICT_HEADER, Script, ScriptMode, ScriptSource};
