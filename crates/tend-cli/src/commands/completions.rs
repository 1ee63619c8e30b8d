//! `tend completions SHELL`: the shell completion script, on stdout.

use clap::{Args, CommandFactory};
use clap_complete::Shell;

use crate::cli::Cli;

/// Arguments of `tend completions`.
#[derive(Debug, Args)]
#[command(after_help = "Install, e.g. for bash:\n  \
    tend completions bash > ~/.local/share/bash-completion/completions/tend\n\
    for zsh (a directory on $fpath):\n  tend completions zsh > ~/.zfunc/_tend\n\
    for fish:\n  tend completions fish > ~/.config/fish/completions/tend.fish")]
pub(crate) struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    shell: Shell,
}

pub(crate) fn run(args: CompletionsArgs) -> anyhow::Result<i32> {
    clap_complete::generate(args.shell, &mut Cli::command(), "tend", &mut std::io::stdout());
    Ok(0)
}
