//! The process limit (`tend daemon --max-processes`), checked before anything new starts: a
//! process or a pipeline.

use tend::Service;

use crate::actions::ActionError;

/// `LimitReached` when `limit` processes of `service` are running already.
pub(crate) fn check(service: &Service, limit: Option<usize>) -> Result<(), ActionError> {
    let Some(limit) = limit else { return Ok(()) };
    let running = service.running().len();
    if running >= limit {
        return Err(ActionError::LimitReached {
            message: format!("{running} processes are running; the limit is {limit}"),
        });
    }
    Ok(())
}
