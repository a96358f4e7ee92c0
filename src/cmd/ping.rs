//! `cabot ping NAME`: record a ping for a `heartbeat` check, from a cron job on this machine.

use crate::checks::heartbeat;
use crate::cli::Global;
use crate::clock;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The heartbeat check: SERVICE/CHECK, or CHECK when only one heartbeat has that name
    pub name: String,
    /// The job failed: the heartbeat fails at once
    #[arg(long)]
    pub fail: bool,
    /// A word about it, shown with the check
    #[arg(long, value_name = "TEXT")]
    pub message: Option<String>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let (service, check, _) =
        heartbeat::find(&cfg, &args.name).map_err(|e| Exit::error(ExitCode::Usage, e))?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let message = args.message.as_deref().map(crate::text::message);
    st.record_ping(
        service,
        &check.name,
        clock::now(),
        !args.fail,
        message.as_deref(),
        "cli",
    )
    .map_err(|e| store::failure(&cfg.state, "recording the ping", e))?;
    if !g.quiet {
        crate::print_out(&format!(
            "pinged {service}/{}{}\n",
            check.name,
            if args.fail { " (failure)" } else { "" }
        ))?;
    }
    Ok(ExitCode::Ok)
}
