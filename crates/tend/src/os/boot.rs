//! The identity of the current boot, so records made before a reboot can be told apart.

/// The kernel's random boot ID (`/proc/sys/kernel/random/boot_id`), new at every boot. `None`
/// where the system does not provide one. Read once: it cannot change while we run.
#[cfg(target_os = "linux")]
pub(crate) fn boot_id() -> Option<String> {
    static BOOT_ID: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();
    BOOT_ID
        .get_or_init(|| {
            let id = std::fs::read_to_string("/proc/sys/kernel/random/boot_id").ok()?;
            let id = id.trim();
            (!id.is_empty()).then(|| id.to_owned())
        })
        .clone()
}

/// Boot IDs are a Linux feature.
#[cfg(not(target_os = "linux"))]
pub(crate) fn boot_id() -> Option<String> {
    None
}
