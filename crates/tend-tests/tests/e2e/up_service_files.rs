//! `tend up` with services (issue 13), what the file gives a service: the environment (global
//! `env_file` < global `env` < the service's `env_file` < its `env`), and its log file: every
//! byte of both streams appended exactly, across runs, rotated at line boundaries
//! (`log_max_size`, `log_keep`) keeping the newest bytes exactly.

use std::path::Path;

use crate::up_support::{Project, service};

#[test]
fn services_get_global_env_files_then_global_env_then_their_env_files_then_their_env() {
    let project = Project::new();
    project.write("one.env", "export A=one\nB=one\nC=one\nD=one\nE=one\n");
    project.write("two.env", "B=two\nC=two\nD=two\nE=two\n");
    project.write("conf/web.env", "D='service file'\nE='service file'\n");
    let mut args: Vec<&str> =
        ["A", "B", "C", "D", "E"].iter().flat_map(|n| ["--print-env", *n]).collect();
    args.extend(["--exit-after", "0"]);
    let text = format!(
        "env_file = [\"one.env\", \"two.env\"]\nenv = {{ C = \"global env\", D = \"global env\", E = \"global env\" }}\n\n{}{}",
        project.service("web", &args, "env_file = \"conf/web.env\"\nenv = { E = \"service env\" }"),
        project.service("bare", &args, ""),
    );
    project.write("tend.toml", &text);
    let elsewhere = tempfile::tempdir().unwrap();
    let file = project.path().join("tend.toml");
    // Started from elsewhere, with A in tend's own environment: the files win over the
    // inherited environment, and their paths are the stack file's.
    let ran =
        project.up_in(elsewhere.path(), &[file.to_str().unwrap()], &[("A", "inherited")]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.both());
    let web = ran.lines_of("web");
    for wanted in ["A=one", "B=two", "C=global env", "D=service file", "E=service env"] {
        assert!(web.contains(&wanted), "web: no `{wanted}` in {web:?}");
    }
    let bare = ran.lines_of("bare");
    for wanted in ["A=one", "B=two", "C=global env", "D=global env", "E=global env"] {
        assert!(bare.contains(&wanted), "bare: no `{wanted}` in {bare:?}");
    }
}

#[test]
fn a_log_file_holds_every_byte_of_both_streams_across_runs() {
    let project = Project::new();
    let text = "[services.web]\n\
                run = 'echo \"run $RUN out\"; echo \"run $RUN err\" >&2; printf \"\\xff\\x00no newline\"; exit 1'\n\
                env = { RUN = \"x\" }\n\
                log = \"logs/web.log\"\n\
                max_restarts = 1\n\
                restart_delay = \"100ms\"\n";
    project.write("tend.toml", text);
    let ran = project.up(&[]).finish();
    assert_eq!(ran.code, Some(1), "{}", ran.both());
    let log = std::fs::read(project.path().join("logs/web.log")).expect("the log file");
    // Two runs, each: two whole lines (one per pipe, in either order) and a partial line.
    let run: &[&[u8]] = &[b"run x out\n", b"run x err\n", b"\xff\x00no newline"];
    let one_run: usize = run.iter().map(|piece| piece.len()).sum();
    assert_eq!(log.len(), 2 * one_run, "{:?}", String::from_utf8_lossy(&log));
    for piece in run {
        let found = log.windows(piece.len()).filter(|w| w == piece).count();
        assert_eq!(found, 2, "{piece:?} in {:?}", String::from_utf8_lossy(&log));
    }
}

/// 3 MiB of lines of 1 to 200 bytes, every byte value but the newline, from a fixed seed.
fn lines_of_noise() -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let mut data = Vec::with_capacity(3 << 20);
    while data.len() < 3 << 20 {
        let length = 1 + next() % 200;
        data.extend((0..length).map(|_| match (next() % 255) as u8 {
            b'\n' => 255,
            byte => byte,
        }));
        data.push(b'\n');
    }
    data.truncate(3 << 20);
    *data.last_mut().unwrap() = b'\n';
    data
}

#[test]
fn three_mib_with_a_one_mib_limit_and_keep_2_leave_the_newest_bytes_exactly_in_three_files() {
    let project = Project::new();
    let data = lines_of_noise();
    std::fs::write(project.path().join("data.bin"), &data).unwrap();
    let text = "[services.web]\ncommand = \"cat\"\nargs = [\"data.bin\"]\nrestart = \"never\"\n\
                log = \"logs/web.log\"\nlog_max_size = \"1MiB\"\nlog_keep = 2\n";
    project.write("tend.toml", text);
    let ran = project.up(&["--json"]).finish();
    assert_eq!(ran.code, Some(0), "{}", ran.stderr);
    assert_eq!(service(&ran.report(), "web")["status"], "exited");
    check_rotation(&project.path().join("logs"), "web.log", &data, 1 << 20, 2);
}

/// The files `name`, `name.1` … in `dir`: exactly `keep + 1` of them and nothing else; each
/// at most `max` bytes and ending at a line boundary; their concatenation (oldest first) the
/// newest bytes of `written` exactly, from a line start; and the rotated ones full up to a
/// line.
fn check_rotation(dir: &Path, name: &str, written: &[u8], max: usize, keep: usize) {
    let mut entries: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    entries.sort();
    let mut expected: Vec<String> = (1..=keep).map(|n| format!("{name}.{n}")).collect();
    expected.push(name.to_owned());
    expected.sort();
    assert_eq!(entries, expected, "nothing beyond {keep} rotated files");
    let mut kept = Vec::new();
    for file in (1..=keep).rev().map(|n| format!("{name}.{n}")).chain([name.to_owned()]) {
        let bytes = std::fs::read(dir.join(&file)).unwrap();
        assert!(bytes.len() <= max, "{file} has {} bytes, over {max}", bytes.len());
        assert_eq!(bytes.last(), Some(&b'\n'), "{file} ends mid-line");
        if file != name {
            // It was rotated because the next line would have passed the limit.
            assert!(bytes.len() > max - 201, "{file} rotated at {} bytes", bytes.len());
        }
        kept.extend_from_slice(&bytes);
    }
    if !written.ends_with(&kept) {
        // Where: the kept bytes against the newest bytes written (a lost chunk shows as a
        // difference from its first byte on, a short total as a longer tail kept below).
        let newest = &written[written.len().saturating_sub(kept.len())..];
        let at = kept.iter().zip(newest).position(|(a, b)| a != b).unwrap_or(kept.len());
        let found =
            written.windows(64.min(kept.len() - at)).position(|w| w == &kept[at..at + w.len()]);
        panic!(
            "the kept files ({} bytes of {} written) are not the newest bytes, exactly: they \
             differ from kept byte {at} on, which was written at offset {found:?}",
            kept.len(),
            written.len()
        );
    }
    let start = written.len() - kept.len();
    assert!(start == 0 || written[start - 1] == b'\n', "the oldest kept file starts mid-line");
}
