//! `tend export nomad`: one job in Nomad's JSON job specification (`nomad job run -json`):
//! a group per service with its task (driver `raw_exec`), `ready`/`alive` as service checks,
//! the steps a service needs and waits for the services it runs after as `prestart` tasks,
//! restart and reschedule policies from the restart keys.
//!
//! Durations are nanoseconds, as in Nomad's API.

use std::time::Duration;

use serde_json::{Value, json};
use tend::{MaxRestarts, RestartPolicy};

use super::model::{BASH, ProbeKeys, Stack, Target, Unit, dns_label};
use super::unmapped::Notes;
use super::{ExportFile, Exported};
use crate::UsageError;

/// Nomad's shortest check interval and timeout.
const MIN_CHECK: Duration = Duration::from_secs(1);
/// The restart interval when restarts are counted in total: a day.
const COUNTING_INTERVAL: Duration = Duration::from_secs(24 * 3600);
/// The `raw_exec` task runs this shell line to start in the unit's directory with its exact
/// argv: `sh -c LINE tend-cd DIR PROGRAM ARGS…`.
const CD_THEN_EXEC: &str = "cd -- \"$1\" && shift && exec \"$@\"";

/// How the job is written.
pub(super) struct NomadOptions<'a> {
    /// The `tend` the wait tasks run.
    pub(super) tend: &'a str,
    pub(super) namespace: Option<&'a str>,
}

/// The job of `stack`, as `PROJECT.nomad.json`.
pub(super) fn export(stack: &Stack, options: &NomadOptions<'_>) -> Result<Exported, UsageError> {
    let mut notes = Notes::new("nomad");
    if stack.top_env_file {
        notes.file_key("env_file", "its variables are written into each task's Env now; export again after changing the file");
    }
    let needed = stack.steps_services_need();
    let mut groups = Vec::new();
    for unit in &stack.units {
        if unit.service().is_some() {
            groups.push(group(stack, unit, options, &mut notes));
        } else if !needed.contains(unit.name.as_str()) {
            notes.key(unit, "steps", "no service runs after it, and a service job has no place for a task that ends; run it with `tend up` or as a batch job");
        }
    }
    let mut job = json!({
        "ID": stack.project,
        "Name": stack.project,
        "Type": "service",
        "Datacenters": ["*"],
        "TaskGroups": groups,
    });
    if let Some(namespace) = options.namespace {
        job["Namespace"] = json!(namespace);
    }
    let mut text = serde_json::to_string_pretty(&json!({"Job": job}))
        .map_err(|e| UsageError(e.to_string()))?;
    text.push('\n');
    let name = format!("{}.nomad.json", stack.project);
    Ok(Exported { files: vec![ExportFile { name, text }], notes })
}

/// The group of service `unit`: its prestart tasks, its task, its checks and policies.
fn group(stack: &Stack, unit: &Unit, options: &NomadOptions<'_>, notes: &mut Notes) -> Value {
    let keys = unit.service().expect("a service");
    let mut tasks = Vec::new();
    let mut ordered = false;
    for dep in stack.closure(unit) {
        match dep.service() {
            None => {
                let mut step_task = task(dep, notes);
                step_task["Lifecycle"] = json!({"Hook": "prestart", "Sidecar": false});
                let step = dep.step().expect("a step");
                step_task["RestartPolicy"] = json!({
                    "Attempts": step.retries,
                    "Interval": nanos(COUNTING_INTERVAL.max(step.retry_delay * (step.retries + 1))),
                    "Delay": nanos(step.retry_delay),
                    "Mode": "fail",
                });
                ordered |= !dep.after.is_empty();
                if step.allow_failure {
                    notes.key(dep, "allow_failure", "a failed prestart task fails its allocation in Nomad; make the command end with 0 (`… || true`) to keep going");
                }
                if step.timeout.is_some() {
                    notes.key(dep, "timeout", "Nomad tasks have no run time limit; wrap the command in `timeout DURATION`");
                }
                tasks.push(step_task);
            }
            Some(dep_keys) => {
                let wait = dep_keys.ready.as_ref().filter(|ready| ready.target.port().is_some());
                match wait.and_then(|ready| ready.probe_command(options.tend, None)) {
                    Some(argv) => tasks.push(json!({
                        "Name": format!("wait-{}", dep.name),
                        "Driver": "raw_exec",
                        "Config": {"command": argv[0], "args": argv[1..]},
                        "Lifecycle": {"Hook": "prestart", "Sidecar": false},
                    })),
                    None => notes.key(unit, "after", format!("`{}` has no tcp or http `ready` probe to wait for, so `{}` starts without waiting for it", dep.name, unit.name)),
                }
            }
        }
    }
    if ordered && tasks.len() > 1 {
        let names: Vec<&str> = tasks.iter().filter_map(|task| task["Name"].as_str()).collect();
        notes.key(unit, "after", format!("Nomad starts prestart tasks together: {} do not wait for each other as they do in tend; make the steps wait (a loop, or `tend probe` in front of them)", names.join(", ")));
    }
    let mut main = task(unit, notes);
    main["KillSignal"] = json!(keys.stop_signal.to_string());
    if let Some(log) = &keys.log {
        let mib = (log.max_size.bytes() >> 20).max(1);
        main["LogConfig"] = json!({"MaxFiles": log.keep.max(1), "MaxFileSizeMB": mib});
        notes.key(unit, "log", format!("Nomad keeps the output in the allocation's logs (nomad alloc logs), rotated as `log_max_size`/`log_keep` say, not in {}", log.path.display()));
    }
    tasks.push(main);
    let mut group = json!({"Name": unit.name, "Count": 1, "Tasks": tasks});
    restart_policies(unit, &mut group, notes);
    let ports = unit.probe_ports();
    if !ports.is_empty() {
        let reserved: Vec<Value> =
            ports.iter().map(|port| json!({"Label": port_label(*port), "Value": port})).collect();
        group["Networks"] = json!([{"ReservedPorts": reserved}]);
    }
    let mut checks = Vec::new();
    if let Some(ready) = &keys.ready {
        match check(unit, "ready", ready, notes) {
            Some(check) => {
                checks.push(check);
                if !ready.waits_for_ever() {
                    notes.key(unit, "ready.timeout", format!("tend gives up after {}; in Nomad the job's `update` block's healthy_deadline (default 5m) does", super::model::span(ready.timeout)));
                }
                if !ready.initial_delay.is_zero() {
                    notes.key(unit, "ready.initial_delay", "Nomad checks from the task's start; the first failures only delay the allocation's health");
                }
            }
            None => notes.key(
                unit,
                "ready",
                "a `log` probe has no Nomad check; probe a port or command instead",
            ),
        }
    }
    if let Some(alive) = &keys.alive
        && let Some(mut check) = check(unit, "alive", alive, notes)
    {
        check["CheckRestart"] = json!({"Limit": alive.failures, "Grace": nanos(alive.interval)});
        checks.push(check);
    }
    if !checks.is_empty() {
        let mut service = json!({"Name": format!("{}-{}", dns_label(&stack.project), dns_label(&unit.name)), "Checks": checks});
        if let Some(port) = ports.first() {
            service["PortLabel"] = json!(port_label(*port));
        }
        group["Services"] = json!([service]);
    }
    group
}

/// The task that runs `unit`: `sh -c 'cd DIR && exec ARGV'`, its environment, its grace.
fn task(unit: &Unit, notes: &mut Notes) -> Value {
    let dir = unit.dir.to_string_lossy().into_owned();
    let mut args = vec!["-c".to_owned(), CD_THEN_EXEC.to_owned(), "tend-cd".to_owned(), dir];
    args.extend(unit.argv.iter().cloned());
    if unit.argv.iter().chain(unit.env.values()).any(|word| word.contains("${")) {
        notes.key(unit, "command", "Nomad replaces `${…}` in task arguments and variables with its own values; check the words holding it");
    }
    if unit.env_file {
        notes.key(unit, "env_file", "its variables are written into the task's Env now; export again after changing the file");
    }
    let mut task = json!({
        "Name": unit.name,
        "Driver": "raw_exec",
        "Config": {"command": "/bin/sh", "args": args},
        "KillTimeout": nanos(unit.grace.min(tend::FOREVER)),
    });
    if !unit.env.is_empty() {
        task["Env"] = json!(unit.env);
    }
    task
}

/// The group's `RestartPolicy` and `ReschedulePolicy` from the restart keys.
fn restart_policies(unit: &Unit, group: &mut Value, notes: &mut Notes) {
    let keys = unit.service().expect("a service");
    let no_reschedule = json!({"Attempts": 0, "Unlimited": false});
    let delay = nanos(keys.restart_delay);
    match (keys.restart, keys.max_restarts) {
        (RestartPolicy::Never, _) => {
            group["RestartPolicy"] = json!({"Attempts": 0, "Interval": nanos(COUNTING_INTERVAL), "Delay": delay, "Mode": "fail"});
            group["ReschedulePolicy"] = no_reschedule;
        }
        (_, MaxRestarts::Limited(max)) => {
            let interval = COUNTING_INTERVAL.max(keys.restart_max_delay * (max + 1));
            group["RestartPolicy"] = json!({"Attempts": max, "Interval": nanos(interval), "Delay": delay, "Mode": "fail"});
            group["ReschedulePolicy"] = no_reschedule;
            if unit.wrote(&["restart_max_delay"]).is_some() {
                notes.key(unit, "restart_max_delay", "with `max_restarts`, Nomad restarts after a constant `Delay` (`restart_delay`); the backoff up to `restart_max_delay` is not kept");
            }
        }
        (_, MaxRestarts::Unlimited) => {
            // One restart per interval, the next once the interval is over: the delay
            // grows from `restart_delay` to about `restart_max_delay`, without end.
            let interval = keys.restart_max_delay.max(keys.restart_delay).max(MIN_CHECK);
            group["RestartPolicy"] = json!({"Attempts": 1, "Interval": nanos(interval), "Delay": delay, "Mode": "delay"});
        }
    }
    if keys.restart == RestartPolicy::OnFailure && unit.wrote(&["restart"]).is_some() {
        notes.key(
            unit,
            "restart",
            "Nomad restarts a service task after every end, a success too (restart = always)",
        );
    }
}

/// A service check for a `ready` or `alive` probe (`None` for `log`).
fn check(unit: &Unit, name: &str, keys: &ProbeKeys, notes: &mut Notes) -> Option<Value> {
    let mut check = match &keys.target {
        Target::Tcp { port, .. } => json!({"Type": "tcp", "PortLabel": port_label(*port)}),
        Target::Http { port, path, .. } => {
            json!({"Type": "http", "PortLabel": port_label(*port), "Path": path})
        }
        Target::Exec(command) => {
            json!({"Type": "script", "Command": BASH, "Args": ["-c", command], "Task": unit.name})
        }
        Target::Log => return None,
    };
    if keys.interval < MIN_CHECK {
        notes.key(
            unit,
            &format!("{name}.interval"),
            "Nomad checks at most once a second: the interval is 1s",
        );
    }
    check["Name"] = json!(name);
    check["Interval"] = json!(nanos(keys.interval.max(MIN_CHECK)));
    check["Timeout"] = json!(nanos(tend::probe::DEFAULT_CHECK_TIMEOUT));
    Some(check)
}

fn port_label(port: u16) -> String {
    format!("port_{port}")
}

/// A duration as Nomad's API writes it: nanoseconds.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}
