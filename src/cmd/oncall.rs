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
pub struct Args {}

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

pub fn run(g: &Global, _: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let rotas: Vec<&Rota> = cfg.oncall.values().collect();
    let text = if rotas.is_empty() {
        "no rotas: name them under oncall: in the config (see `man 5 cabot.yaml`)\n".to_string()
    } else {
        report(&rotas, clock::now())
    };
    crate::print_out(&text)?;
    Ok(ExitCode::Ok)
}
