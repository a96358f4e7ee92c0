//! `cabot ack SERVICE` and `cabot unack SERVICE`: acknowledge the current incident, which
//! silences its repeats and de-escalations (not escalations) until it expires or recovers.

use std::time::Duration;

use crate::cli::Global;
use crate::clock::{self, format_time};
use crate::cmd::operator;
use crate::core::Status;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::outbox::Ack;
use crate::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service whose incident to acknowledge
    pub service: String,
    /// How long the acknowledgement lasts [default: alerting.ack_expiry, 20m]
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::cli::ack_duration)]
    pub duration: Option<Duration>,
    /// Who is on it [default: $SUDO_USER, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
    /// A word for the others
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
    /// Replace an acknowledgement that someone else's is still in force
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, clap::Args)]
pub struct UnackArgs {
    /// The service whose acknowledgement to remove
    pub service: String,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    cfg.service_named(&args.service)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let services = st
        .services()
        .map_err(|e| store::failure(&cfg.state, "reading services", e))?;
    let status = services
        .get(&args.service)
        .map_or(Status::Passing, |s| s.status);
    if status == Status::Passing {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "{} is PASSING: there is no incident to acknowledge",
                args.service
            ),
        ));
    }
    let now = clock::now();
    let ack = Ack {
        until: now + args.duration.unwrap_or(cfg.alerting.ack_expiry).as_secs() as i64,
        by: operator(args.by.as_deref()),
        note: args.note.clone(),
        created_at: now,
    };
    let held = st
        .set_ack(&args.service, &ack, args.force, &cfg.incident_channels())
        .map_err(|e| store::failure(&cfg.state, "saving the ack", e))?;
    if let Some(held) = held {
        // Cabot: "don't allow users to jump on each other".
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "{} is already acknowledged{} until {}{}; nothing was changed (`cabot ack {} --force` takes it over)",
                args.service,
                held.by
                    .as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                format_time(held.until),
                held.note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
                args.service
            ),
        ));
    }
    // PagerDuty, Opsgenie and Pushover stop paging now, not at the next run.
    tell_providers(&cfg, &mut st)?;
    if !g.quiet {
        crate::print_out(&format!(
            "acknowledged {} ({status}) until {}{}\n",
            args.service,
            format_time(ack.until),
            ack.by
                .as_ref()
                .map(|b| format!(" by {b}"))
                .unwrap_or_default()
        ))?;
    }
    Ok(ExitCode::Ok)
}

pub fn unack(g: &Global, args: &UnackArgs) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    cfg.service_named(&args.service)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let removed = st
        .clear_ack(&args.service, crate::clock::now())
        .map_err(|e| store::failure(&cfg.state, "removing the ack", e))?;
    if !g.quiet {
        crate::print_out(&if removed {
            format!("{}: acknowledgement removed; alerts resume\n", args.service)
        } else {
            format!("{} was not acknowledged\n", args.service)
        })?;
    }
    Ok(ExitCode::Ok)
}

/// Delivers what is due now, the acknowledgement just written among it; what fails is
/// retried by the next runs, and said on stderr as `run` says it.
fn tell_providers(cfg: &crate::config::Config, st: &mut Store) -> anyhow::Result<()> {
    let run = format!("ack-{}", std::process::id());
    crate::alerts::deliver::deliver_all(st, cfg, &run, &crate::cmd::run::report_deliveries)
}
