//! Helpers shared by the comparison benchmarks: where criterion writes, and the ratio table.

use std::path::PathBuf;

/// Where criterion keeps its results: `target/criterion` of the workspace.
pub fn criterion_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target"));
    target.join("criterion")
}

/// The typical time of one criterion benchmark, in nanoseconds, from its saved estimates: the
/// slope for linear sampling, else the mean — the figure criterion itself prints.
pub fn typical_ns(group: &str, function: &str) -> Option<f64> {
    let path = criterion_dir().join(group).join(function).join("new/estimates.json");
    let text = std::fs::read_to_string(path).ok()?;
    let json: serde_json::Value = serde_json::from_str(&text).ok()?;
    let estimate = |name: &str| json[name]["point_estimate"].as_f64();
    estimate("slope").or_else(|| estimate("mean"))
}

/// Prints `label: managed / baseline = ratio` for two benchmarks of one group.
pub fn print_ratio(label: &str, group: &str, managed: &str, baseline: &str) {
    match (typical_ns(group, managed), typical_ns(group, baseline)) {
        (Some(m), Some(b)) => println!(
            "RATIO {label}: {managed} {:.3} ms / {baseline} {:.3} ms = {:.3}",
            m / 1e6,
            b / 1e6,
            m / b
        ),
        _ => println!("RATIO {label}: no results for {group}/{managed} or {group}/{baseline}"),
    }
}

pub mod stack;
pub mod timeline;
