//! `cabot alerts`: the alerts decided lately and what became of each delivery: delivered
//! (and by whom), still owed (tries, next try, the last answer), given up or superseded.

use std::time::Duration;

use crate::cli::Global;
use crate::clock;
use crate::exit_codes::ExitCode;
use crate::store::outbox::Which;
use crate::store::{self, Store};

/// The most deliveries listed.
const SHOWN: usize = 500;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// How far back to look
    #[arg(long, value_name = "DURATION", default_value = "1d", value_parser = humantime::parse_duration)]
    pub since: Duration,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let since = clock::now().saturating_sub(args.since.as_secs() as i64);
    let deliveries = match Store::open_read_only(&cfg.state, Some(&g.config))? {
        Some(st) => st
            .deliveries(Which::Since(since), SHOWN)
            .map_err(|e| store::failure(&cfg.state, "reading the outbox", e))?,
        None => Vec::new(),
    };
    if args.json {
        crate::print_out(&(serde_json::to_string_pretty(&deliveries)? + "\n"))?;
        return Ok(ExitCode::Ok);
    }
    let mut out = String::new();
    if deliveries.is_empty() {
        out.push_str(&format!(
            "no alert in the last {}\n",
            crate::text::duration(args.since)
        ));
    }
    for d in &deliveries {
        let to = if d.recipient.is_empty() {
            d.channel.clone()
        } else {
            format!("{} ({})", d.channel, d.recipient)
        };
        let error = || crate::text::one_line(d.last_error.as_deref().unwrap_or(""), 300);
        let became = match d.state.as_str() {
            "delivered" => format!(
                "delivered by {}",
                d.provider.as_deref().unwrap_or(&d.channel)
            ),
            "pending" => format!(
                "not delivered yet, {}, next try {}: {}",
                crate::text::count(d.tries.max(0) as usize, "attempt"),
                d.next_try.map_or_else(String::new, clock::format_time),
                if d.last_error.is_some() {
                    error()
                } else {
                    "not tried yet".into()
                }
            ),
            "given_up" => format!("given up: {}", error()),
            other => format!("{other}: {}", error()),
        };
        out.push_str(&format!(
            "{}  alert {}  {} {} ({}) -> {to}: {became}\n",
            clock::rfc3339(d.time),
            d.alert,
            d.service,
            d.status,
            d.kind
        ));
    }
    crate::print_out(&out)?;
    Ok(ExitCode::Ok)
}
