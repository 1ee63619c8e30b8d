//! `tend start`: start a managed process in the daemon and print its id, or start services
//! and processes the daemon knows, by NAME.
//!
//! `tend start -- PROGRAM ARGS...` always starts a new process. Without `--` the words are
//! NAMEs (`tend start web api`: a stopped service is started, a finished ad-hoc process is
//! started again with the same options), unless an option that only a new process takes is
//! given (`--name`, `--label`, `-C`, `-e`, `--timeout`, `--grace`, `--restart…`,
//! `--no-stdin`): then they are the program as before (`tend start --name web python3 -m
//! http.server`).

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use std::collections::BTreeMap;

use tend::wire::{StartRequest, StdinChoice};
use tend::{ProcessInfo, RestartPolicy};

use crate::UsageError;
use crate::client::{ClientArgs, block_on};
use crate::durations::{millis, parse_duration};
use crate::key_value::{parse_env, parse_key_value};
use crate::restart_flag::RestartArgs;

/// Arguments of `tend start`.
#[derive(Debug, Args)]
pub(crate) struct StartArgs {
    #[command(flatten)]
    client: ClientArgs,
    /// A name to find the process by.
    #[arg(long)]
    name: Option<String>,
    /// Adds a KEY=VALUE label (repeatable).
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    labels: Vec<(String, String)>,
    /// Working directory of the program.
    #[arg(short = 'C', long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Adds KEY=VALUE to the program's environment (repeatable).
    #[arg(short = 'e', long = "env", value_name = "KEY=VALUE", value_parser = parse_env)]
    env: Vec<(String, String)>,
    /// Ends the program gracefully after this long; 0 means no timeout.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    timeout: Option<Duration>,
    /// Time between SIGTERM and SIGKILL when its --timeout ends the program (100 years or
    /// more: never SIGKILL). Default 5s. `tend stop` takes its own --grace.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    grace: Option<Duration>,
    #[command(flatten)]
    restart: RestartArgs,
    /// Print the process's info as JSON instead of its id.
    #[arg(long)]
    json: bool,
    /// Give the program /dev/null as stdin instead of a pipe fed by `tend input`.
    #[arg(long)]
    no_stdin: bool,
    /// Services or processes to start by name (a process id, a process name, a service name
    /// or PROJECT/NAME). With an option that only a new process takes, these words are the
    /// PROGRAM and its arguments instead, as after `--`.
    #[arg(required_unless_present = "command", allow_hyphen_values = true, value_name = "NAME")]
    names: Vec<String>,
    /// The program, then its arguments, after `--`. Everything from the program on is the
    /// program's (tend's options go before the `--`).
    #[arg(last = true, value_name = "PROGRAM")]
    command: Vec<String>,
}

impl StartArgs {
    /// Whether an option that only a new process takes was given.
    fn configures_a_process(&self) -> bool {
        self.name.is_some()
            || !self.labels.is_empty()
            || self.dir.is_some()
            || !self.env.is_empty()
            || self.timeout.is_some()
            || self.grace.is_some()
            || self.restart.restart.is_some()
            || self.no_stdin
    }
}

/// Parsed `KEY=VALUE` pairs as a map (a repeated key keeps its last value).
fn map(pairs: &[(String, String)]) -> BTreeMap<String, String> {
    pairs.iter().cloned().collect()
}

/// Starts a new process (see the module docs), or each NAME in turn.
pub(crate) fn run(mut args: StartArgs) -> anyhow::Result<i32> {
    if args.command.is_empty() {
        if !args.configures_a_process() {
            return super::start_names::run(&args.client, &args.names, args.json);
        }
        args.command = std::mem::take(&mut args.names);
    } else if !args.names.is_empty() {
        return Err(UsageError(format!(
            "`{}`: give NAMEs or `-- PROGRAM`, not both",
            args.names.join(" ")
        ))
        .into());
    }
    start_program(args)
}

/// Prints the new process's full id (its info with `--json`).
fn start_program(args: StartArgs) -> anyhow::Result<i32> {
    let (program, rest) = args.command.split_first().expect("clap requires a program");
    if program.is_empty() {
        return Err(UsageError("PROGRAM: the program name is empty".to_owned()).into());
    }
    let dir = args.dir.as_ref().map(std::path::absolute).transpose()?;
    let request = StartRequest {
        command: Some(program.clone()),
        args: Some(rest.to_vec()),
        labels: Some(map(&args.labels)),
        env: Some(map(&args.env)),
        stdin: Some(if args.no_stdin { StdinChoice::Null } else { StdinChoice::Piped }),
        dir: dir.map(|dir| dir.to_string_lossy().into_owned()),
        name: args.name.clone(),
        timeout_ms: args.timeout.map(millis),
        grace_ms: args.grace.map(millis),
        restart: args.restart.restart.map(RestartPolicy::from),
        max_restarts: args.restart.max_restarts,
        restart_delay_ms: args.restart.restart_delay.map(millis),
        ..StartRequest::default()
    };
    let client = crate::client::Client::new(&args.client)?;
    let info: ProcessInfo = block_on(client.call("POST", "/processes", Some(&request)))?;
    if args.json {
        crate::json_output::print(&info)?;
    } else {
        println!("{}", info.id);
    }
    Ok(0)
}
