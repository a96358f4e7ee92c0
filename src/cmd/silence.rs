//! `cabot silence SERVICE --for 2h` and `cabot unsilence SERVICE` (or `--all` services):
//! mute every alert for a service for a while; its checks keep running and its history
//! is kept.

use std::time::Duration;

use crate::cli::Global;
use crate::clock::{self, format_time};
use crate::cmd::operator;
use crate::exit_codes::ExitCode;
use crate::store::outbox::Silence;
use crate::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The service to mute
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub service: Option<String>,
    /// Every service (a planned outage of everything)
    #[arg(long)]
    pub all: bool,
    /// How long
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::cli::silence_duration)]
    pub duration: Duration,
    /// Who asked [default: $SUDO_USER, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct UnsilenceArgs {
    /// The service to unmute
    #[arg(required_unless_present = "all", conflicts_with = "all")]
    pub service: Option<String>,
    /// Every service
    #[arg(long)]
    pub all: bool,
}

/// The services named: every one with `--all`, else the one given, which must exist.
fn services<'a>(
    cfg: &'a crate::config::Config,
    service: &'a Option<String>,
    all: bool,
) -> anyhow::Result<Vec<&'a str>> {
    match service {
        Some(name) if !all => {
            cfg.service_named(name)?;
            Ok(vec![name.as_str()])
        }
        _ => Ok(cfg.services.iter().map(|s| s.name.as_str()).collect()),
    }
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let names = services(&cfg, &args.service, args.all)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let now = clock::now();
    let silence = Silence {
        until: now + args.duration.as_secs() as i64,
        by: operator(args.by.as_deref()),
    };
    let mut said = String::new();
    for name in names {
        st.set_silence(name, &silence, now)
            .map_err(|e| store::failure(&cfg.state, "saving the silence", e))?;
        said.push_str(&format!(
            "silenced {name} until {}; its checks keep running\n",
            format_time(silence.until)
        ));
    }
    if !g.quiet {
        crate::print_out(&said)?;
    }
    Ok(ExitCode::Ok)
}

pub fn unsilence(g: &Global, args: &UnsilenceArgs) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let names = services(&cfg, &args.service, args.all)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let mut said = String::new();
    for name in names {
        let removed = st
            .clear_silence(name, crate::clock::now())
            .map_err(|e| store::failure(&cfg.state, "removing the silence", e))?;
        // With --all, only the services that were silenced are worth a line.
        if removed {
            said.push_str(&format!("{name}: silence removed\n"));
        } else if !args.all {
            said.push_str(&format!("{name} was not silenced\n"));
        }
    }
    if !g.quiet {
        crate::print_out(&said)?;
    }
    Ok(ExitCode::Ok)
}
