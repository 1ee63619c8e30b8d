//! `tend export FORMAT [FILE]`: a stack file as systemd units, Kubernetes manifests or a
//! Nomad job, with readiness and dependencies kept: what waits for a service waits for its
//! `ready` probe, through `tend probe`.
//!
//! The file is read by the loader `tend up` uses ([`model`]): an invalid one exits 2 with
//! the same message. Every key a format has no equivalent for is named on stderr with what to
//! do instead ([`unmapped`]). The table of every key and what it becomes is in
//! `docs/export.md`.

mod kubernetes;
mod model;
mod nomad;
mod probe_keys;
mod systemd;
mod systemd_quote;
mod unmapped;
mod yaml;

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use self::model::Stack;
use self::unmapped::Notes;
use crate::UsageError;

/// Arguments of `tend export`.
#[derive(Debug, Args)]
#[command(after_help = "\
Without -o, the files are printed on stdout (systemd units one after the other, each \
starting with a comment naming it). Keys a format cannot express are listed on stderr with \
what to do instead.

Exit status: 0 when exported, 2 for an invalid file or usage (the message names it).")]
pub(crate) struct ExportArgs {
    /// The format: systemd units, Kubernetes manifests (multi-document YAML) or a Nomad job
    /// (JSON, for `nomad job run -json`).
    #[arg(value_enum, value_name = "FORMAT")]
    format: Format,
    /// The stack file (tend.toml, tend.yaml or a Procfile). Default: the first of tend.toml,
    /// tend.yaml, tend.yml, Procfile in the current directory.
    #[arg(value_name = "FILE")]
    file: Option<PathBuf>,
    /// The project name (unit names `tend-PROJECT-NAME.service`, the Nomad job, Kubernetes
    /// labels). Default: the file's directory's name.
    #[arg(short = 'p', long = "project", value_name = "NAME")]
    project: Option<String>,
    /// Write the files into DIR (created if missing) instead of printing them.
    #[arg(short = 'o', long = "output", value_name = "DIR")]
    output: Option<PathBuf>,
    /// systemd: user units (`systemctl --user`), the target wanted by default.target.
    #[arg(long)]
    user: bool,
    /// kubernetes: the image holding the programs (required for kubernetes).
    #[arg(long, value_name = "IMAGE")]
    image: Option<String>,
    /// kubernetes: the image whose `tend` waits for dependencies (default: --image).
    #[arg(long, value_name = "IMAGE")]
    probe_image: Option<String>,
    /// kubernetes, nomad: the namespace.
    #[arg(long, value_name = "NAMESPACE")]
    namespace: Option<String>,
    /// systemd, nomad: the `tend` that probes readiness (default: this one's absolute path).
    #[arg(long, value_name = "PATH")]
    tend_bin: Option<PathBuf>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Systemd,
    Kubernetes,
    Nomad,
}

/// One file an export writes.
#[derive(Debug)]
struct ExportFile {
    name: String,
    text: String,
}

/// What an export made: its files and its notes.
#[derive(Debug)]
struct Exported {
    files: Vec<ExportFile>,
    notes: Notes,
}

pub(crate) fn run(args: ExportArgs) -> anyhow::Result<i32> {
    check_options(&args)?;
    let path = match &args.file {
        Some(path) => path.clone(),
        None => {
            let cwd = std::env::current_dir()
                .map_err(|e| UsageError(format!("the current directory is unreadable: {e}")))?;
            crate::commands::up::file::look_up(&cwd)?
        }
    };
    let stack = Stack::read(&path, args.project.as_deref())?;
    let tend = tend_bin(args.tend_bin.as_deref())?;
    let exported = match args.format {
        Format::Systemd => {
            systemd::export(&stack, &systemd::SystemdOptions { user: args.user, tend: &tend })?
        }
        Format::Kubernetes => {
            let image = args.image.as_deref().unwrap_or_default();
            let options = kubernetes::KubernetesOptions {
                image,
                probe_image: args.probe_image.as_deref().unwrap_or(image),
                namespace: args.namespace.as_deref(),
            };
            kubernetes::export(&stack, &options)?
        }
        Format::Nomad => nomad::export(
            &stack,
            &nomad::NomadOptions { tend: &tend, namespace: args.namespace.as_deref() },
        )?,
    };
    exported.notes.print();
    match &args.output {
        Some(dir) => write_files(dir, &exported.files)?,
        None => {
            let texts: Vec<&str> = exported.files.iter().map(|file| file.text.as_str()).collect();
            print!("{}", texts.join("\n"));
        }
    }
    Ok(0)
}

/// Options given to a format they mean nothing to are usage errors.
fn check_options(args: &ExportArgs) -> Result<(), UsageError> {
    let misplaced = |given: bool, option: &str, formats: &[Format]| {
        if given && !formats.contains(&args.format) {
            return Err(UsageError(format!("{option} does not apply to this format")));
        }
        Ok(())
    };
    misplaced(args.user, "--user", &[Format::Systemd])?;
    misplaced(args.image.is_some(), "--image", &[Format::Kubernetes])?;
    misplaced(args.probe_image.is_some(), "--probe-image", &[Format::Kubernetes])?;
    misplaced(args.namespace.is_some(), "--namespace", &[Format::Kubernetes, Format::Nomad])?;
    misplaced(args.tend_bin.is_some(), "--tend-bin", &[Format::Systemd, Format::Nomad])?;
    if args.format == Format::Kubernetes && args.image.as_deref().is_none_or(str::is_empty) {
        return Err(UsageError(
            "kubernetes needs --image IMAGE: the image holding the programs".into(),
        ));
    }
    Ok(())
}

/// `--tend-bin`, else this binary's absolute path, as text.
fn tend_bin(given: Option<&Path>) -> Result<String, UsageError> {
    let path = match given {
        Some(path) => path.to_owned(),
        None => std::env::current_exe().map_err(|e| {
            UsageError(format!("cannot find this tend's path ({e}); give --tend-bin PATH"))
        })?,
    };
    path.to_str()
        .map(str::to_owned)
        .ok_or_else(|| UsageError(format!("the tend path `{}` is not valid UTF-8", path.display())))
}

fn write_files(dir: &Path, files: &[ExportFile]) -> Result<(), UsageError> {
    std::fs::create_dir_all(dir).map_err(|e| {
        UsageError(format!("-o `{}`: cannot create the directory: {e}", dir.display()))
    })?;
    for file in files {
        let path = dir.join(&file.name);
        std::fs::write(&path, &file.text)
            .map_err(|e| UsageError(format!("-o: cannot write `{}`: {e}", path.display())))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}
