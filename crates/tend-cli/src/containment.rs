//! The setup call of the commands that supervise (`run`, `up`, `daemon`): what their programs
//! start and that leaves the process group is still killed when they stop or die.

/// Turns on [`tend::process::contain_descendants`], with a cgroup v2 directory per service
/// unless `TEND_NO_CGROUP` is set to anything but `0` or the empty string.
pub(crate) fn contain_descendants() {
    let no_cgroup = std::env::var_os("TEND_NO_CGROUP").is_some_and(|v| !v.is_empty() && v != "0");
    // Failures are logged by the library; the program runs either way, with less protection.
    let _ = tend::process::contain_descendants(!no_cgroup);
}
