//! `cabot backup [PATH]`: a consistent copy of the state while runs go on.

use std::path::PathBuf;

use crate::cli::Global;
use crate::clock;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::{Schema, Store, backup};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Where to write it: a new file, or a folder to put a dated copy in
    /// [default: beside the state, as STATE.schemaN-TIME.bak]
    #[arg(value_name = "PATH")]
    pub path: Option<PathBuf>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let state = &cfg.state;
    let Schema::At(schema) = Store::schema_of(state)? else {
        return Err(Exit::error(
            ExitCode::StateIo,
            format!(
                "state database {} does not exist yet; there is nothing to back up",
                state.display()
            ),
        ));
    };
    let now = clock::now();
    let dest = match &args.path {
        None => backup::default_path(state, schema, now),
        Some(dir) if dir.is_dir() => backup::in_folder(dir, state, schema, now),
        Some(file) if file.exists() || file.is_symlink() => {
            return Err(Exit::error(
                ExitCode::StateIo,
                format!(
                    "{} already exists; nothing was overwritten: name a new file or a folder",
                    file.display()
                ),
            ));
        }
        Some(file) => file.clone(),
    };
    let schema = Store::backup(state, &dest)?;
    if !g.quiet {
        let size = std::fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        crate::print_out(&format!(
            "backup: {} (schema {schema}, {} KiB)\n",
            dest.display(),
            size.div_ceil(1024)
        ))?;
    }
    Ok(ExitCode::Ok)
}
