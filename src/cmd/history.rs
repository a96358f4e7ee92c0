//! `cabot history [SERVICE[/CHECK]]`: incidents (problem intervals) and uptime over
//! `--since`, of one service or check, or of every service.

use std::fmt::Write as _;
use std::time::Duration;

use serde::Serialize;

use crate::cli::Global;
use crate::clock::{self, format_age, format_time};
use crate::core::history::{check_report, service_incidents};
use crate::exit_codes::{Exit, ExitCode};
use crate::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// A service, or one of its checks as SERVICE/CHECK [default: every service]
    #[arg(value_name = "SERVICE[/CHECK]")]
    pub target: Option<String>,
    /// How far back to look
    #[arg(long, value_name = "DURATION", default_value = "7d", value_parser = crate::cli::history_duration)]
    pub since: Duration,
    /// Print JSON
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Serialize)]
struct Report {
    service: String,
    check: Option<String>,
    from: String,
    to: String,
    /// Percent of time PASSING (a service) or of results passed (a check), if anything is known.
    uptime_percent: Option<f64>,
    /// The seconds of the range the figure covers: from the first record (the service's
    /// first status, the check's first result) in the range to now. Less than the range for
    /// something watched for less time than that.
    monitored_seconds: i64,
    incidents: Vec<IncidentReport>,
}

#[derive(Debug, Serialize)]
struct IncidentReport {
    start: String,
    end: Option<String>,
    duration_seconds: i64,
    /// A service's worst status in the incident; for a check, FAILING.
    worst_status: String,
    alerts_sent: bool,
    /// With `confirm: peer`: only this node saw it fail, while its peer saw it pass.
    unconfirmed: bool,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let now = clock::now();
    let from = now - args.since.as_secs() as i64;
    let Some(st) = Store::open_read_only(&cfg.state, Some(&g.config))? else {
        return Err(Exit::error(
            ExitCode::Usage,
            "no history yet: no run has completed (run `cabot run` first)",
        ));
    };
    let known = st
        .services()
        .map_err(|e| store::failure(&cfg.state, "reading history", e))?;
    let Some(target) = &args.target else {
        // Every service the state knows, in name order.
        let mut reports = Vec::new();
        for s in known.iter() {
            reports.push(report(&st, &cfg.state, &s.name, None, from, now)?);
        }
        let text = if args.json {
            serde_json::to_string_pretty(&reports)? + "\n"
        } else {
            reports.iter().map(|r| human(r, args.since)).collect()
        };
        crate::print_out(&text)?;
        return Ok(ExitCode::Ok);
    };
    let (service, check) = match target.split_once('/') {
        Some((s, c)) => (s, Some(c)),
        None => (target.as_str(), None),
    };
    if !known.contains_key(service) {
        return Err(Exit::error(
            ExitCode::Usage,
            format!("no history for a service named '{service}'"),
        ));
    }
    let report = report(&st, &cfg.state, service, check, from, now)?;
    let text = if args.json {
        serde_json::to_string_pretty(&report)? + "\n"
    } else {
        human(&report, args.since)
    };
    crate::print_out(&text)?;
    Ok(ExitCode::Ok)
}

/// The incidents and uptime of `service` (or its `check`) from `from` to `now`.
fn report(
    st: &Store,
    state: &std::path::Path,
    service: &str,
    check: Option<&str>,
    from: i64,
    now: i64,
) -> anyhow::Result<Report> {
    let fail = |e| store::failure(state, "reading history", e);
    let alerted = |start: i64, end: i64| {
        st.failure_alerts_between(service, start, end)
            .map(|n| n > 0)
    };
    let mut incidents = Vec::new();
    let monitored: i64;
    let uptime = match &check {
        None => {
            let changes = st.service_changes(service, from).map_err(fail)?;
            let (found, uptime, watched) = service_incidents(&changes, from, now);
            monitored = watched;
            for i in found {
                incidents.push(IncidentReport {
                    start: format_time(i.start),
                    end: i.end.map(format_time),
                    duration_seconds: i.end.unwrap_or(now) - i.start,
                    worst_status: i.worst.as_str().to_string(),
                    alerts_sent: alerted(i.start, i.end.unwrap_or(now)).map_err(fail)?,
                    unconfirmed: st
                        .unconfirmed_between(service, i.start, i.end.unwrap_or(now))
                        .map_err(fail)?,
                });
            }
            uptime
        }
        Some(name) => {
            let mut results = st.check_results(service, name, from).map_err(fail)?;
            // Results stamped after `now` (a clock set back since) are not in the range.
            results.retain(|r| r.0 <= now);
            if results.is_empty() && !st.has_check(service, name).map_err(fail)? {
                return Err(Exit::error(
                    ExitCode::Usage,
                    format!("no history for a check named '{service}/{name}'"),
                ));
            }
            let (problems, rate) = check_report(&results);
            monitored = results.first().map_or(0, |r| now - r.0.max(from));
            for p in problems {
                incidents.push(IncidentReport {
                    start: format_time(p.start),
                    end: p.end.map(format_time),
                    duration_seconds: p.end.unwrap_or(now) - p.start,
                    worst_status: "FAILING".into(),
                    alerts_sent: alerted(p.start, p.end.unwrap_or(now)).map_err(fail)?,
                    unconfirmed: false,
                });
            }
            rate
        }
    };
    Ok(Report {
        service: service.to_string(),
        check: check.map(str::to_string),
        from: format_time(from),
        to: format_time(now),
        uptime_percent: uptime.map(|u| (u * 100.0).round() / 100.0),
        monitored_seconds: monitored,
        incidents,
    })
}

fn human(r: &Report, since: Duration) -> String {
    let mut out = String::new();
    let what = match &r.check {
        Some(c) => format!("{}/{c}", r.service),
        None => r.service.clone(),
    };
    let uptime = r
        .uptime_percent
        .map_or("unknown".to_string(), |u| format!("{u:.2}%"));
    // Over less than the range asked for, the figure says what it covers.
    let over = if r.uptime_percent.is_some() && r.monitored_seconds < since.as_secs() as i64 {
        format!(
            " over the {} monitored",
            crate::text::duration(Duration::from_secs(r.monitored_seconds.max(0) as u64))
        )
    } else {
        String::new()
    };
    let _ = writeln!(
        out,
        "{what}: {} in the last {}, uptime {uptime}{}{over}",
        crate::text::count(r.incidents.len(), "incident"),
        span(since),
        if r.check.is_some() { " of results" } else { "" }
    );
    for i in &r.incidents {
        let _ = writeln!(
            out,
            "  {:8}  {:>7}  {} -> {}  ({})",
            i.worst_status,
            format_age(i.duration_seconds),
            i.start,
            i.end.as_deref().unwrap_or("ongoing"),
            match (i.alerts_sent, i.unconfirmed) {
                (true, _) => "alerts sent",
                (false, true) => "unconfirmed: the peer saw it pass; no alert sent",
                (false, false) => "no alert sent",
            },
        );
    }
    out
}

/// The range in words: `7 days`, `24 hours`, `90 minutes`, `150 seconds`.
fn span(since: Duration) -> String {
    let (n, unit) = match since.as_secs() {
        s if s >= 86_400 && s % 86_400 == 0 => (s / 86_400, "day"),
        s if s >= 3_600 && s % 3_600 == 0 => (s / 3_600, "hour"),
        s if s >= 60 && s % 60 == 0 => (s / 60, "minute"),
        s => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_range_in_words() {
        for (secs, words) in [
            (7 * 86_400, "7 days"),
            (86_400, "1 day"),
            (24 * 3_600, "1 day"),
            (36 * 3_600, "36 hours"),
            (90 * 60, "90 minutes"),
            (60, "1 minute"),
            (150, "150 seconds"),
            (0, "0 seconds"),
        ] {
            assert_eq!(span(Duration::from_secs(secs)), words);
        }
    }
}
