//! `cabot test-alert CHANNEL [--to USER]`: send a test alert now and show each provider's answer.

use crate::alerts::alert::Alert;
use crate::alerts::channels::{self, Reach};
use crate::alerts::decide::recipients;
use crate::cli::Global;
use crate::clock;
use crate::config::Config;
use crate::exit_codes::{Exit, ExitCode};
use crate::text::plural;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// The channel to test
    pub channel: String,
    /// Send to this user only [default: the channel's `to:` and every user of the services that use it]
    #[arg(long, value_name = "USER")]
    pub to: Option<String>,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let Some(channel) = cfg.channels.get(&args.channel) else {
        let names: Vec<&str> = cfg.channels.keys().map(String::as_str).collect();
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "no channel named '{}' (channels: {})",
                args.channel,
                names.join(", ")
            ),
        ));
    };
    let targets = targets(&cfg, &args.channel, args.to.as_deref())?;
    let alert = Alert::test(clock::now());
    let mut delivered = 0;
    let mut lines = String::new();
    for recipient in &targets {
        let label = match (recipient.as_str(), channel.kind.reach()) {
            ("", _) => args.channel.clone(),
            (r, Reach::Mentions(_)) => format!("{} (mentioning {r})", args.channel),
            (r, _) => format!("{} to {r}", args.channel),
        };
        let attempts = channels::send(channel, &alert, recipient);
        if attempts.iter().any(|a| a.ok) {
            delivered += 1;
        }
        for a in &attempts {
            lines.push_str(&format!(
                "{label}: {}: {} {}\n",
                a.provider,
                if a.ok { "ok" } else { "FAILED" },
                a.detail
            ));
        }
    }
    crate::print_out(&lines)?;
    if delivered == targets.len() {
        return Ok(ExitCode::Ok);
    }
    eprintln!(
        "cabot: the test alert reached {delivered} of {} recipient{}; see the answers above",
        targets.len(),
        plural(targets.len())
    );
    Ok(if delivered == 0 {
        ExitCode::Critical
    } else {
        ExitCode::Warning
    })
}

/// The recipients of a test: one user, or everyone the channel would reach.
fn targets(cfg: &Config, channel_name: &str, to: Option<&str>) -> anyhow::Result<Vec<String>> {
    let channel = &cfg.channels[channel_name];
    let mut out: Vec<String> = Vec::new();
    match to {
        Some(user) => {
            let Some(u) = cfg.users.get(user) else {
                return Err(Exit::error(
                    ExitCode::Usage,
                    format!("no user named '{user}'"),
                ));
            };
            let contact = match channel.kind.reach().contact() {
                Some(c) => u.contact(c.key).map(str::to_string),
                None => Some(String::new()),
            };
            match contact {
                Some(c) => out.push(c),
                None => {
                    return Err(Exit::error(
                        ExitCode::Usage,
                        format!(
                            "user '{user}' has no contact for a {} channel",
                            channel.kind.type_name()
                        ),
                    ));
                }
            }
        }
        None => {
            for service in cfg
                .services
                .iter()
                .filter(|s| s.channels.iter().any(|c| c == channel_name))
            {
                for r in recipients(cfg, &service.people(cfg, clock::now()), channel) {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
            if out.is_empty() {
                out = match channel.kind.reach() {
                    Reach::EachUser(_) => channel.to.clone(),
                    Reach::Mentions(_) => vec![channel.to.join(" ")],
                    Reach::Destination => vec![String::new()],
                };
            }
        }
    }
    if out.is_empty() {
        return Err(Exit::error(
            ExitCode::Usage,
            format!(
                "channel '{channel_name}' has nobody to send to: pass --to USER, or give it to:"
            ),
        ));
    }
    Ok(out)
}
