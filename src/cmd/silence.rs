//! `cabot silence SERVICE --for 2h` and `cabot unsilence SERVICE`: mute every alert for a
//! service for a while; its checks keep running and its history is kept.

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
    pub service: String,
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
    pub service: String,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    cfg.service_named(&args.service)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let now = clock::now();
    let silence = Silence {
        until: now + args.duration.as_secs() as i64,
        by: operator(args.by.as_deref()),
    };
    st.set_silence(&args.service, &silence, now)
        .map_err(|e| store::failure(&cfg.state, "saving the silence", e))?;
    if !g.quiet {
        crate::print_out(&format!(
            "silenced {} until {}; its checks keep running\n",
            args.service,
            format_time(silence.until)
        ))?;
    }
    Ok(ExitCode::Ok)
}

pub fn unsilence(g: &Global, args: &UnsilenceArgs) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    cfg.service_named(&args.service)?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let removed = st
        .clear_silence(&args.service)
        .map_err(|e| store::failure(&cfg.state, "removing the silence", e))?;
    if !g.quiet {
        crate::print_out(&if removed {
            format!("{}: silence removed\n", args.service)
        } else {
            format!("{} was not silenced\n", args.service)
        })?;
    }
    Ok(ExitCode::Ok)
}
