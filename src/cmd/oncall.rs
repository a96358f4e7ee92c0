//! `cabot oncall`: who is on duty now and for the next 7 days, per rota, and where each
//! answer came from; a warning where a rota yields nobody and its fallback stands in.

use std::fmt::Write as _;

use crate::cli::Global;
use crate::clock;
use crate::config::Rota;
use crate::core::oncall::{Source, on_duty, shifts};
use crate::exit_codes::ExitCode;

const WEEK: i64 = 7 * 86_400;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Option<Action>,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Put USER on duty for ROTA from now, whatever the rotation says (a swap, a sick day)
    Override(OverrideArgs),
}

#[derive(Debug, clap::Args)]
pub struct OverrideArgs {
    /// The rota, as named under oncall:
    pub rota: String,
    /// The user on duty instead, as named under users:
    pub user: String,
    /// How long
    #[arg(long = "for", value_name = "DURATION", value_parser = crate::cli::ack_duration)]
    pub duration: std::time::Duration,
    /// Who arranged it [default: $SUDO_USER, else $USER]
    #[arg(long, value_name = "NAME")]
    pub by: Option<String>,
}

/// Fills each rota's overrides in from the state, so that whoever an override puts on duty
/// is told. Nothing to do without rotas; a state that cannot be read (missing, another
/// schema) gives none, and the command that reads it for its own work says why.
pub fn load_overrides(cfg: &mut crate::config::Config, now: i64) {
    if cfg.oncall.is_empty() {
        return;
    }
    let Ok(Some(store)) = crate::store::Store::open_read_only(&cfg.state, None) else {
        return;
    };
    if let Ok(mut found) = store.overrides(now) {
        for (name, rota) in cfg.oncall.iter_mut() {
            rota.overrides = found.remove(name).unwrap_or_default();
        }
    }
}

/// `2026-11-30 09:00 GMT` in the rota's own time zone.
fn local(rota: &Rota, t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .map(|ts| {
            ts.to_zoned_datetime(rota.time_zone.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        })
        .unwrap_or_else(|_| clock::format_time(t))
}

/// The report for every rota at `now`.
pub fn report(rotas: &[&Rota], now: i64) -> String {
    let mut out = String::new();
    for rota in rotas {
        let (user, source) = on_duty(rota, now);
        let week = shifts(rota, now, now + WEEK);
        let until = week.first().map_or(now + WEEK, |s| s.end);
        let _ = writeln!(
            out,
            "{}: {user} on duty now ({}), until {}",
            rota.name,
            source.as_str(),
            local(rota, until)
        );
        for s in week.iter().skip(1) {
            let _ = writeln!(
                out,
                "  {} -> {}  {} ({})",
                local(rota, s.start),
                local(rota, s.end),
                s.user,
                s.source.as_str()
            );
        }
        for o in &rota.overrides {
            let _ = writeln!(
                out,
                "  override: {} from {} to {}{}",
                o.user,
                local(rota, o.start),
                local(rota, o.until),
                o.by.as_ref()
                    .map(|b| format!(" (by {b})"))
                    .unwrap_or_default()
            );
        }
        for s in week.iter().filter(|s| s.source == Source::Fallback) {
            let _ = writeln!(
                out,
                "  warning: {} yields nobody from {} to {}: its fallback {} is on duty",
                rota.name,
                local(rota, s.start),
                local(rota, s.end),
                s.user
            );
        }
    }
    out
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    if let Some(Action::Override(o)) = &args.action {
        return add_override(g, o);
    }
    let mut cfg = g.load_config()?;
    load_overrides(&mut cfg, clock::now());
    let rotas: Vec<&Rota> = cfg.oncall.values().collect();
    let text = if rotas.is_empty() {
        "no rotas: name them under oncall: in the config (see `man 5 cabot.yaml`)\n".to_string()
    } else {
        report(&rotas, clock::now())
    };
    crate::print_out(&text)?;
    Ok(ExitCode::Ok)
}

fn add_override(g: &Global, args: &OverrideArgs) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let usage = |why: String| crate::exit_codes::Exit::error(ExitCode::Usage, why);
    if !cfg.oncall.contains_key(&args.rota) {
        let names: Vec<&str> = cfg.oncall.keys().map(String::as_str).collect();
        return Err(usage(format!(
            "no rota named '{}' (rotas: {})",
            args.rota,
            if names.is_empty() {
                "none".to_string()
            } else {
                names.join(", ")
            }
        )));
    }
    if !cfg.users.contains_key(&args.user) {
        return Err(usage(format!("no user named '{}' under users:", args.user)));
    }
    let now = clock::now();
    let o = crate::config::Override {
        user: args.user.clone(),
        start: now,
        until: now.saturating_add(args.duration.as_secs() as i64),
        by: crate::cmd::operator(args.by.as_deref()),
    };
    let mut st = crate::store::Store::open_checked(&cfg.state, Some(&g.config))?;
    st.add_override(&args.rota, &o, now)
        .map_err(|e| crate::store::failure(&cfg.state, "saving the override", e))?;
    if !g.quiet {
        crate::print_out(&format!(
            "{} on duty for {} until {}\n",
            o.user,
            args.rota,
            local(&cfg.oncall[&args.rota], o.until)
        ))?;
    }
    Ok(ExitCode::Ok)
}
