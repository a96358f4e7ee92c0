//! `cabot test-alert CHANNEL [--to USER]`: send a test alert now and show each provider's answer.

use serde_json::json;

use crate::alerts::channels;
use crate::alerts::outbox::recipients;
use crate::cli::Global;
use crate::clock::{self, format_time};
use crate::config::{ChannelKind, Config};
use crate::exit_codes::{Exit, ExitCode};

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
    let payload = json!({
        "kind": "test", "service": "cabot-test", "status": "PASSING", "previous_status": "PASSING",
        "checks": [], "url": null, "runbook": null, "time": format_time(clock::now()), "id": 0,
    });
    let mut delivered = 0;
    let mut lines = String::new();
    for recipient in &targets {
        let label = match (recipient.as_str(), &channel.kind) {
            ("", _) => args.channel.clone(),
            (r, ChannelKind::Slack { .. }) => format!("{} (mentioning {r})", args.channel),
            (r, _) => format!("{} to {r}", args.channel),
        };
        let attempts = channels::send(channel, &payload, recipient);
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
        crate::cmd::validate::plural(targets.len())
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
            let contact = match channel.kind {
                ChannelKind::Email { .. } => u.email.clone(),
                ChannelKind::Sms { .. } | ChannelKind::Phone { .. } => u.phone.clone(),
                ChannelKind::Slack { .. } => u.slack.clone(),
                ChannelKind::Webhook { .. } | ChannelKind::Command { .. } => Some(String::new()),
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
                for r in recipients(cfg, service, channel) {
                    if !out.contains(&r) {
                        out.push(r);
                    }
                }
            }
            if out.is_empty() {
                out = match channel.kind {
                    ChannelKind::Email { .. }
                    | ChannelKind::Sms { .. }
                    | ChannelKind::Phone { .. } => channel.to.clone(),
                    ChannelKind::Slack { .. } => vec![channel.to.join(" ")],
                    ChannelKind::Webhook { .. } | ChannelKind::Command { .. } => {
                        vec![String::new()]
                    }
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
