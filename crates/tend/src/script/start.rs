//! Starting a [`Script`]: writing its file or feeding it inline, and cleaning up after it.

use std::io;
use std::path::Path;

use super::error::ScriptError;
use super::file::ScriptFile;
use super::render::split_pattern;
use super::spec::{Script, ScriptMode};
use crate::process::check_no_nul;
use crate::{Process, Service};

impl Script {
    /// Starts the script as a managed process of `service` and returns its handle at once.
    /// Must be called from within a Tokio runtime.
    ///
    /// In file mode the file is written before bash starts and removed when the process has
    /// ended (or at once when bash cannot be started). In inline mode the script is written
    /// to bash's stdin, which is then closed; with a restart policy every run gets it again.
    ///
    /// ```no_run
    /// # async fn demo() -> Result<(), tend::script::ScriptError> {
    /// use tend::Service;
    /// use tend::script::Script;
    ///
    /// let service = Service::new();
    /// let job = Script::new("make -j4 && make install").inline().dir("/src/app").start(&service)?;
    /// let info = job.wait().await;
    /// assert_eq!(info.command, "bash");
    /// # Ok(()) }
    /// ```
    pub fn start(&self, service: &Service) -> Result<Process, ScriptError> {
        let mut options = self.options.clone();
        let text = self.render()?;
        check_no_nul(&text)
            .map_err(|message| crate::Error::InvalidOption { option: "run", message })?;
        options.check()?;
        match &self.mode {
            ScriptMode::File { dir, pattern } => {
                let file = write_file(dir.as_deref(), pattern, &text)?;
                options.args.push(path_arg(&file, dir.as_deref())?);
                // On failure `file` is dropped here, which removes it.
                let process = service.start(options)?;
                let waiter = process.clone();
                tokio::spawn(async move {
                    waiter.wait().await;
                    // Removing the file is what dropping it does. Should the runtime stop
                    // first, the task is dropped and the file goes with it all the same.
                    drop(file);
                });
                Ok(process)
            }
            ScriptMode::Inline => {
                options.args.push("-s".to_owned());
                // Fed afresh to every run, so a restarted script runs again.
                options.stdin_data = Some(text.into());
                Ok(service.start(options)?)
            }
        }
    }
}

/// Creates the script file (new, mode 0600, never an existing one) and writes `text` to it.
fn write_file(dir: Option<&Path>, pattern: &str, text: &str) -> Result<ScriptFile, ScriptError> {
    let (prefix, suffix) = split_pattern(pattern)?;
    let dir = dir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    // Absolute, because bash runs in the script's own working directory.
    let dir = match std::path::absolute(&dir) {
        Ok(absolute) => absolute,
        Err(source) => return Err(ScriptError::WriteFile { dir, source }),
    };
    ScriptFile::create(&dir, prefix, suffix, text)
        .map_err(|source| ScriptError::WriteFile { dir, source })
}

/// The file's path as bash's argument (start options hold arguments as UTF-8 strings).
fn path_arg(file: &ScriptFile, dir: Option<&Path>) -> Result<String, ScriptError> {
    file.path().to_str().map(str::to_owned).ok_or_else(|| ScriptError::WriteFile {
        dir: dir.map_or_else(std::env::temp_dir, Path::to_path_buf),
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path is not valid UTF-8"),
    })
}
