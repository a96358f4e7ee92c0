//! `cabot migrate`: create the state, or upgrade it one step at a time after a backup.

use std::time::Duration;

use crate::cli::Global;
use crate::exit_codes::ExitCode;
use crate::lock;
use crate::store::{Schema, Store, migrations, schema_problem};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Say what would be done, change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Wait this long for the runs that are using the state instead of exiting 75 at once
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<Duration>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let path = &cfg.state;
    let latest = migrations::latest();
    let say = |text: String| -> anyhow::Result<()> {
        if !g.quiet {
            crate::print_out(&format!("{text}\n"))?;
        }
        Ok(())
    };
    let schema = Store::schema_of(path)?;
    if let Schema::At(v) = schema {
        if v > latest {
            return Err(schema_problem(path, v, Some(&g.config)));
        }
        if v == latest {
            say(format!("up to date (schema {latest})"))?;
            return Ok(ExitCode::Ok);
        }
    }
    if args.dry_run {
        match schema {
            Schema::Missing => say(format!(
                "would create {} at schema {latest}",
                path.display()
            ))?,
            Schema::At(v) => {
                let steps: Vec<String> = migrations::MIGRATIONS
                    .iter()
                    .filter(|m| m.version > v)
                    .map(|m| format!("  {}: {}", m.version, m.name))
                    .collect();
                say(format!(
                    "would migrate schema {v} -> {latest}, after a backup next to {}:\n{}",
                    path.display(),
                    steps.join("\n")
                ))?;
            }
        }
        return Ok(ExitCode::Ok);
    }
    let _lock = lock::exclusive(path, args.wait.unwrap_or(Duration::ZERO))?;
    // Look again under the lock: a run may have created the file meanwhile.
    match Store::schema_of(path)? {
        Schema::Missing => {
            Store::open(path, Some(&g.config))?;
            say(format!("created {} at schema {latest}", path.display()))?;
        }
        Schema::At(v) if v == latest => say(format!("up to date (schema {latest})"))?,
        Schema::At(v) if v > latest => return Err(schema_problem(path, v, Some(&g.config))),
        Schema::At(v) => {
            let backup = Store::migrate(path, v)?;
            say(format!(
                "schema {v} -> {latest} (backup: {})",
                backup.display()
            ))?;
        }
    }
    Ok(ExitCode::Ok)
}
