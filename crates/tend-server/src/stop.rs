//! `process.stop`: graceful stop (TERM the group, drain, wait the grace, KILL). The named
//! actions of the library have no such action, so the server registers it beside them.

use serde_json::Value;
use tend::Service;

use crate::actions::{ActionError, Actions, Options};

/// Registers `process.stop` (`id`, optional `grace`/`grace_ms`) → the final info.
pub(crate) fn register_stop(actions: &Actions, service: Service) {
    actions.register("process.stop", move |options: Value| {
        let service = service.clone();
        async move {
            let options = Options::parse(options, &["id", "grace", "grace_ms"])?;
            let id = options.required_string("id")?;
            let grace = options.duration("grace")?;
            let process = service.get(&id).map_err(ActionError::from)?;
            let grace = grace.unwrap_or(tend::process::DEFAULT_GRACE);
            let info = process.shutdown(grace).await.map_err(ActionError::from)?;
            Ok(serde_json::to_value(info).unwrap_or(Value::Null))
        }
    });
}
