//! The part of Nomad's JSON job specification `tend export nomad` writes: every field it
//! may use, with its type, as documented in Nomad's API docs ("JSON Job Specification",
//! `api-docs/json-jobs`: `Job`, `TaskGroup`, `Task`, `RestartPolicy`, `ReschedulePolicy`,
//! `Networks`/`ReservedPorts`, `Service`/`Check`/`CheckRestart`, `Lifecycle`, `LogConfig`).
//! Durations are integers of nanoseconds there; the `raw_exec` driver's `Config` takes
//! `command` and `args`. A `!` marks a field Nomad requires.

use serde_json::{Value, json};

/// `{"Job": …}` as `nomad job run -json` reads it.
pub(crate) fn job() -> Value {
    let restart = json!({"Attempts": "int", "Interval": "int", "Delay": "int", "Mode": "string"});
    let check = json!({
        "!Name": "string", "!Type": "string", "PortLabel": "string", "Path": "string",
        "Command": "string", "Args": ["string"], "Task": "string",
        "!Interval": "int", "!Timeout": "int",
        "CheckRestart": {"Limit": "int", "Grace": "int"},
    });
    let task = json!({
        "!Name": "string",
        "!Driver": "string",
        "Config": {"command": "string", "args": ["string"]},
        "Env": {"*": "string"},
        "KillTimeout": "int",
        "KillSignal": "string",
        "Lifecycle": {"!Hook": "string", "Sidecar": "bool"},
        "LogConfig": {"MaxFiles": "int", "MaxFileSizeMB": "int"},
        "RestartPolicy": restart,
    });
    json!({"!Job": {
        "!ID": "string",
        "Name": "string",
        "!Type": "string",
        "Namespace": "string",
        "Datacenters": ["string"],
        "!TaskGroups": [{
            "!Name": "string",
            "Count": "int",
            "RestartPolicy": restart,
            "ReschedulePolicy": {
                "Attempts": "int", "Interval": "int", "Delay": "int", "DelayFunction": "string",
                "MaxDelay": "int", "Unlimited": "bool",
            },
            "Networks": [{"ReservedPorts": [{"!Label": "string", "!Value": "int"}]}],
            "Services": [{"!Name": "string", "PortLabel": "string", "Checks": [check]}],
            "!Tasks": [task],
        }],
    }})
}
