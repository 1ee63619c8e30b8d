//! Starting a program in a session of its own, for a daemon that outlives its starter.

/// Makes `command`'s child call setsid(2) before it executes: it leads a new session and a
/// new process group, with no controlling terminal, so the starter's terminal closing
/// (SIGHUP) or its Ctrl-C never reaches it.
pub(crate) fn new_session_on_spawn(command: &mut std::process::Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: the closure runs in the forked child before exec; it only calls setsid(2),
    // which is async-signal-safe, and neither allocates nor takes locks. A fresh child leads
    // no group (the command sets no `process_group`), so setsid cannot fail with EPERM; if it
    // failed anyway, the spawn fails rather than run the child attached.
    unsafe {
        command.pre_exec(|| {
            rustix::process::setsid()?;
            Ok(())
        });
    }
}
