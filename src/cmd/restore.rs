//! `cabot restore BACKUP`: puts a backup back as the state, safely while `serve-status`
//! runs. It waits for (or refuses while) runs are alive, as `migrate` does, keeps a copy
//! of the state it replaces, and restores through SQLite, so readers see the old state or
//! the restored one and never a file swapped under them.

use std::path::PathBuf;
use std::time::Duration;

use crate::cli::Global;
use crate::clock;
use crate::exit_codes::ExitCode;
use crate::lock;
use crate::store::{Schema, Store, backup, migrations};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The backup to restore (from `cabot backup` or `cabot migrate`)
    #[arg(value_name = "BACKUP")]
    pub backup: PathBuf,
    /// How long to wait for runs that are alive [default: do not wait]
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<Duration>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let state = &cfg.state;
    let _alone = lock::exclusive(state, args.wait.unwrap_or(Duration::ZERO))?;
    // The state being replaced is kept, so that a restore loses nothing either.
    let kept = match Store::schema_of(state)? {
        Schema::At(schema) => {
            let dest = backup::default_path(state, schema, clock::now());
            Store::backup(state, &dest)?;
            Some(dest)
        }
        Schema::Missing => None,
    };
    let schema = Store::restore(state, &args.backup)?;
    if !g.quiet {
        let mut said = format!(
            "restored {} into {} (schema {schema})",
            args.backup.display(),
            state.display()
        );
        if let Some(kept) = &kept {
            said.push_str(&format!(
                "; the state it replaced is kept as {}",
                kept.display()
            ));
        }
        said.push('\n');
        if schema < migrations::latest() {
            said.push_str(&format!(
                "it is at an older schema than this cabot's ({}): run `cabot migrate` before the next run\n",
                migrations::latest()
            ));
        }
        crate::print_out(&said)?;
    }
    Ok(ExitCode::Ok)
}
