//! `tend export kubernetes`: per service a Deployment (one replica), a ConfigMap with its
//! environment, and a Service for the ports its probes name; steps services need run as
//! their initContainers, other steps as Jobs; one multi-document YAML.
//!
//! A dependency on a service becomes an initContainer that waits for it with `tend probe`
//! (in `--probe-image`, else `--image`), through its Service: `tend probe tcp db:5432`.

use serde_json::{Map, Value, json};

use super::model::{BASH, ProbeKeys, Stack, Target, Unit, distinct_names, dns_label};
use super::unmapped::Notes;
use super::{ExportFile, Exported, yaml};
use crate::UsageError;

/// How the manifests are written.
pub(super) struct KubernetesOptions<'a> {
    /// The image holding the programs.
    pub(super) image: &'a str,
    /// The image the wait initContainers run `tend probe` in.
    pub(super) probe_image: &'a str,
    pub(super) namespace: Option<&'a str>,
}

/// The manifests of `stack`, as one file `PROJECT.yaml`.
pub(super) fn export(
    stack: &Stack,
    options: &KubernetesOptions<'_>,
) -> Result<Exported, UsageError> {
    let names = distinct_names(stack, "Kubernetes name", dns_label)?;
    let mut writer =
        Writer { stack, options, names, notes: Notes::new("kubernetes"), documents: Vec::new() };
    if stack.top_env_file {
        writer.notes.file_key("env_file", "its variables are written into each ConfigMap now; export again after changing the file");
    }
    let needed = stack.steps_services_need();
    for unit in &stack.units {
        match unit.service() {
            Some(_) => writer.service(unit),
            None if needed.contains(unit.name.as_str()) => writer.config_map(unit),
            None => writer.job(unit),
        }
    }
    let mut text = String::new();
    for document in &writer.documents {
        text.push_str("---\n");
        text.push_str(&yaml::document(document));
    }
    let name = format!("{}.yaml", stack.project);
    Ok(Exported { files: vec![ExportFile { name, text }], notes: writer.notes })
}

struct Writer<'a> {
    stack: &'a Stack,
    options: &'a KubernetesOptions<'a>,
    names: std::collections::HashMap<&'a str, String>,
    notes: Notes,
    documents: Vec<Value>,
}

impl Writer<'_> {
    /// Its ConfigMap, Deployment and Service.
    fn service(&mut self, unit: &Unit) {
        let keys = unit.service().expect("a service");
        let name = self.names[unit.name.as_str()].clone();
        self.config_map(unit);
        let mut container = self.container(unit);
        let ports: Vec<u16> = unit.probe_ports();
        if !ports.is_empty() {
            container["ports"] = ports.iter().map(|port| json!({"containerPort": port})).collect();
        }
        if let Some(ready) = &keys.ready {
            match probe(ready) {
                Some(mut probe) => {
                    if !ready.initial_delay.is_zero() {
                        probe["initialDelaySeconds"] = json!(ready.initial_delay.as_secs());
                    }
                    container["readinessProbe"] = probe;
                    if !ready.waits_for_ever() {
                        self.notes.key(unit, "ready.timeout", "a readinessProbe has no deadline; add a startupProbe whose failureThreshold × periodSeconds is the timeout if the pod should be restarted");
                    }
                }
                None => self.notes.key(unit, "ready", "a `log` probe has no Kubernetes equivalent (the pod is ready once started); probe a port or command instead"),
            }
        }
        if let Some(alive) = &keys.alive
            && let Some(mut probe) = probe(alive)
        {
            probe["failureThreshold"] = json!(alive.failures);
            container["livenessProbe"] = probe;
        }
        if keys.restart != tend::RestartPolicy::Always && unit.wrote(&["restart"]).is_some() {
            self.notes.key(unit, "restart", format!("a Deployment restarts its pod after every end (restart = always); `{}` is not kept: run it as a Job instead if it should end", keys.restart));
        }
        if let Some(key) = unit.wrote(&["max_restarts", "restart_delay", "restart_max_delay"]) {
            self.notes.key(unit, key, "Kubernetes restarts with its own back-off (10s doubling to 5m, without limit); `max_restarts`, `restart_delay` and `restart_max_delay` are not kept");
        }
        if keys.stop_signal != tend::Signal::TERM {
            self.notes.key(
                unit,
                "stop_signal",
                format!(
                    "Kubernetes sends SIGTERM; set STOPSIGNAL {} in the image, or a preStop hook",
                    keys.stop_signal
                ),
            );
        }
        if let Some(log) = &keys.log {
            self.notes.key(unit, "log", format!("the output goes to the container log (kubectl logs), not to {}; collect it with the cluster's log agent", log.path.display()));
        }
        let mut pod = json!({
            "terminationGracePeriodSeconds": grace_seconds(unit.grace),
            "containers": [container],
        });
        self.init_containers(unit, &mut pod);
        let labels = self.labels(&name);
        self.documents.push(json!({
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": self.metadata(&name),
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": labels},
                "strategy": {"type": "Recreate"},
                "template": {"metadata": {"labels": labels}, "spec": pod},
            },
        }));
        if !ports.is_empty() {
            let ports: Vec<Value> = ports
                .iter()
                .map(|port| json!({"name": format!("port-{port}"), "port": port, "targetPort": port}))
                .collect();
            self.documents.push(json!({
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": self.metadata(&name),
                "spec": {"selector": labels, "ports": ports},
            }));
        }
    }

    /// A step no service needs: a Job.
    fn job(&mut self, unit: &Unit) {
        let step = unit.step().expect("a step");
        let name = self.names[unit.name.as_str()].clone();
        self.config_map(unit);
        let mut pod = json!({
            "restartPolicy": "Never",
            "terminationGracePeriodSeconds": grace_seconds(unit.grace),
            "containers": [self.container(unit)],
        });
        self.init_containers(unit, &mut pod);
        let mut spec = json!({"backoffLimit": step.retries, "template": {"metadata": {"labels": self.labels(&name)}, "spec": pod}});
        if let Some(timeout) = step.timeout {
            // The Job's deadline is for all its attempts.
            let attempts = u64::from(step.retries) + 1;
            spec["activeDeadlineSeconds"] = json!(timeout.as_secs().max(1) * attempts);
        }
        if unit.wrote(&["retry_delay"]).is_some() {
            self.notes.key(
                unit,
                "retry_delay",
                "a Job retries with Kubernetes' own back-off (10s doubling to 6m)",
            );
        }
        if step.allow_failure {
            self.notes.key(unit, "allow_failure", "a failed Job is reported failed; nothing runs after it in Kubernetes, so this only matters to you");
        }
        self.documents.push(json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": self.metadata(&name), "spec": spec}));
    }

    /// The initContainers of `unit`: what it runs after, directly or not, in order — steps
    /// run there, services waited for with `tend probe`.
    fn init_containers(&mut self, unit: &Unit, pod: &mut Value) {
        let mut init = Vec::new();
        for dep in self.stack.closure(unit) {
            match dep.service() {
                None => {
                    if let Some(key) =
                        dep.wrote(&["retries", "retry_delay", "allow_failure", "timeout"])
                    {
                        self.notes.key(dep, key, "as an initContainer it is run again with the pod until it passes; `retries`, `retry_delay`, `allow_failure` and `timeout` are not kept");
                    }
                    init.push(self.container(dep));
                }
                Some(keys) => {
                    let host = &self.names[dep.name.as_str()];
                    let wait = keys.ready.as_ref().filter(|ready| ready.target.port().is_some());
                    match wait.and_then(|ready| ready.probe_command("tend", Some(host))) {
                        Some(command) => init.push(json!({
                            "name": format!("wait-{host}"),
                            "image": self.options.probe_image,
                            "command": command,
                        })),
                        None => self.notes.key(unit, "after", format!("`{}` has no tcp or http `ready` probe another pod can ask, so `{}` starts without waiting for it", dep.name, unit.name)),
                    }
                }
            }
        }
        if !init.is_empty() {
            pod["initContainers"] = Value::Array(init);
        }
    }

    /// The ConfigMap `NAME-env` with `unit`'s environment (none without one).
    fn config_map(&mut self, unit: &Unit) {
        if unit.env.is_empty() {
            return;
        }
        if unit.env_file {
            self.notes.key(unit, "env_file", "its variables are written into the ConfigMap now; export again after changing the file");
        }
        let name = format!("{}-env", self.names[unit.name.as_str()]);
        let data: Map<String, Value> =
            unit.env.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
        self.documents.push(json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": self.metadata(&name), "data": data}));
    }

    /// The container that runs `unit`: its argv, its directory, its ConfigMap.
    fn container(&mut self, unit: &Unit) -> Value {
        let name = &self.names[unit.name.as_str()];
        let mut container =
            json!({"name": name, "image": self.options.image, "command": unit.argv});
        match unit.dir_written.as_deref() {
            Some(dir) if dir.starts_with('/') => container["workingDir"] = json!(dir),
            Some(dir) => self.notes.key(unit, "dir", format!("`{dir}` is relative to the stack file, which is not in the image; the image's working directory is used: give an absolute `dir`")),
            None => {}
        }
        if !unit.env.is_empty() {
            container["envFrom"] = json!([{"configMapRef": {"name": format!("{name}-env")}}]);
        }
        container
    }

    fn labels(&self, name: &str) -> Value {
        json!({"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": self.stack.project})
    }

    fn metadata(&self, name: &str) -> Value {
        let base = name.strip_suffix("-env").unwrap_or(name);
        let mut metadata = json!({"name": name, "labels": self.labels(base)});
        if let Some(namespace) = self.options.namespace {
            metadata["namespace"] = json!(namespace);
        }
        metadata
    }
}

/// A readinessProbe or livenessProbe (`None` for `log`).
fn probe(keys: &ProbeKeys) -> Option<Value> {
    let mut probe = match &keys.target {
        Target::Tcp { port, .. } => json!({"tcpSocket": {"port": port}}),
        Target::Http { port, path, .. } => json!({"httpGet": {"path": path, "port": port}}),
        Target::Exec(command) => json!({"exec": {"command": [BASH, "-c", command]}}),
        Target::Log => return None,
    };
    probe["periodSeconds"] = json!(keys.interval.as_secs().max(1));
    probe["timeoutSeconds"] = json!(tend::probe::DEFAULT_CHECK_TIMEOUT.as_secs());
    Some(probe)
}

/// `terminationGracePeriodSeconds`: the grace, rounded up.
fn grace_seconds(grace: std::time::Duration) -> u64 {
    let grace = grace.min(tend::FOREVER);
    grace.as_secs() + u64::from(grace.subsec_nanos() > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grace_is_rounded_up_to_seconds() {
        let ms = std::time::Duration::from_millis;
        assert_eq!(grace_seconds(ms(1500)), 2);
        assert_eq!(grace_seconds(ms(10_000)), 10);
        assert_eq!(grace_seconds(ms(0)), 0);
    }
}
