//! `cabot status`: where things stand, for humans, scripts (`--json`) and Nagios (`--nagios`).

use std::fmt::Write as _;

use serde::Serialize;

use crate::cli::Global;
use crate::clock::{self, format_age, format_time};
use crate::core::Status;
use crate::core::quiet::in_force;
use crate::core::running::checks_running;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::outbox::{DeliveryLine, OutboxCounts, Which};
use crate::store::{self, CheckRow, RunRow, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Only this service (repeatable)
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Print JSON
    #[arg(long, conflicts_with = "nagios")]
    pub json: bool,
    /// Print one Nagios plugin line with perfdata
    #[arg(long)]
    pub nagios: bool,
}

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// The worst status of the services shown, or UNKNOWN when runs are not happening.
    pub status: String,
    /// Whether the last completed run finished within `stale_after`.
    pub running: bool,
    /// When the state holds times ahead of this clock: the clock went back.
    pub clock_went_back: Option<ClockStep>,
    pub stale_after_seconds: u64,
    pub last_run: Option<RunReport>,
    pub services: Vec<ServiceReport<'a>>,
    /// The other node of the pair, when this one is half of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peer: Option<crate::peer::View>,
    /// With `network_checks`: since when every one of them has failed, and how many
    /// results were inconclusive since; absent while the network works.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub network_down: Option<NetworkDown>,
    /// Alert deliveries still being retried, and those given up on.
    pub alerts: OutboxCounts,
    /// Each delivery still owed, and each given up on in the last day, newest first (at
    /// most `UNDELIVERED_SHOWN`): where it goes, its tries and what the provider said.
    pub undelivered_alerts: Vec<DeliveryLine>,
}

#[derive(Debug, Serialize)]
pub struct NetworkDown {
    pub since: Time,
    pub inconclusive_results: i64,
}

/// The most undelivered alerts `status` lists one by one.
const UNDELIVERED_SHOWN: usize = 20;

/// Times in the state ahead of this clock: how far ahead the newest is, and what it is.
#[derive(Debug, Serialize)]
pub struct ClockStep {
    pub ahead_seconds: i64,
    pub newest_stamp: Time,
}

impl ClockStep {
    fn words(&self) -> String {
        format!(
            "the clock went back: the state has times up to {} ahead of it ({}); check the system clock (NTP, the RTC)",
            format_age(self.ahead_seconds),
            self.newest_stamp
        )
    }
}

#[derive(Debug, Serialize)]
pub struct RunReport {
    pub started_at: String,
    pub finished_at: String,
    pub age_seconds: i64,
    pub checks_run: i64,
    pub failures: i64,
}

#[derive(Debug, Serialize)]
pub struct ServiceReport<'a> {
    pub name: &'a str,
    pub status: Status,
    pub since: Time,
    /// Seconds in this status, for the human view.
    #[serde(skip)]
    pub age_seconds: i64,
    pub acknowledged: Option<AckReport>,
    pub silenced_until: Option<String>,
    pub in_maintenance: bool,
    /// Who the service's rota has on duty now, if it names one.
    pub on_call: Option<String>,
    /// Where that answer comes from, when not from the rota or its calendar as read: the
    /// kept copy of a calendar that could not be read, or the fallback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub on_call_from: Option<String>,
    /// While failing, with escalation steps: how many of them the incident has reached.
    pub escalation: Option<EscalationReport>,
    /// The services it depends on that fail now: its alerts wait for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub blocked_by: Vec<String>,
    pub checks: Checks<'a>,
}

/// A service's check rows, each made a `CheckReport` as it is written: no list of copies
/// for each of thousands of services.
#[derive(Debug)]
pub struct Checks<'a>(&'a [&'a CheckRow]);

impl<'a> Checks<'a> {
    fn iter(&self) -> impl Iterator<Item = CheckReport<'a>> + 'a {
        self.0.iter().map(|c| check_report(c))
    }

    /// The checks' names alone, without making their reports.
    fn names(&self) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().map(|c| c.name.as_str())
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl Serialize for Checks<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.iter())
    }
}

#[derive(Debug, Serialize)]
pub struct EscalationReport {
    pub steps_reached: u32,
    pub steps: usize,
}

#[derive(Debug, Serialize)]
pub struct AckReport {
    pub until: String,
    pub by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct CheckReport<'a> {
    pub name: &'a str,
    #[serde(rename = "type")]
    pub kind: &'a str,
    pub importance: &'static str,
    /// While failing: the importance it fails at (a Nagios WARNING fails below `importance`).
    pub fails_at: Option<&'static str>,
    /// `passing`, `failing`, or `pending` before its first result.
    pub status: &'static str,
    pub since: Option<Time>,
    pub last_run_at: Option<Time>,
    pub consecutive_failures: u64,
    pub message: Option<&'a str>,
    pub duration_ms: Option<i64>,
}

/// A time, written as RFC 3339 only when it is printed: the Nagios form prints none, the
/// human form no check's, and formatting 20,000 of them costs.
#[derive(Debug, Clone, Copy)]
pub struct Time(i64);

impl Serialize for Time {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::fmt::Display for Time {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        clock::rfc3339(self.0).fmt(f)
    }
}

/// Nagios keeps 8 KiB of a plugin's output.
const NAGIOS_MAX: usize = 8 * 1024;

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    if !args.nagios {
        return report(g, args);
    }
    // A plugin speaks only in its exit codes 0-3 and one line: whatever keeps cabot from
    // answering is UNKNOWN, with the reason where Nagios shows it.
    match report(g, args) {
        Ok(code) => Ok(code),
        Err(e) => {
            let why = match e
                .chain()
                .find_map(|c| c.downcast_ref::<crate::config::ConfigError>())
            {
                Some(config) => config.lines().join("; "),
                None => format!("{e:#}"),
            };
            crate::print_out(&format!(
                "{}\n",
                fit_nagios(&format!(
                    "CABOT UNKNOWN - {}",
                    crate::text::one_line(&why, NAGIOS_MAX)
                ))
            ))?;
            Ok(ExitCode::Unknown)
        }
    }
}

/// A plugin line of at most `NAGIOS_MAX` bytes: the text before ` | ` is cut, so that the
/// perfdata after it survives whole.
fn fit_nagios(line: &str) -> String {
    if line.len() <= NAGIOS_MAX {
        return line.to_string();
    }
    match line.rsplit_once(" | ") {
        Some((text, perf)) if perf.len() + 64 < NAGIOS_MAX => {
            let room = NAGIOS_MAX - perf.len() - 3;
            format!("{} | {perf}", crate::text::truncate(text, room))
        }
        _ => crate::text::truncate(line, NAGIOS_MAX),
    }
}

fn report(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let mut cfg = g.load_config()?;
    let now = clock::now();
    let stale_after = cfg.stale_after.as_secs();
    let store = Store::open_read_only(&cfg.state, Some(&g.config))?;
    crate::cmd::oncall::load_from(
        &mut cfg,
        store.as_ref(),
        now,
        crate::cmd::oncall::Read::Kept,
    )
    .finish();
    // The dated maintenance of `cabot maintenance add` holds like the config's.
    if let Some(windows) = store.as_ref().and_then(|s| s.maintenance_windows(now).ok()) {
        cfg.scheduled.extend(windows);
    }
    let network_down = store
        .as_ref()
        .filter(|_| !cfg.network_checks.is_empty())
        .and_then(|s| {
            crate::store::run::network_down(s.connection())
                .ok()
                .flatten()
        })
        .map(|(since, inconclusive)| NetworkDown {
            since: Time(since),
            inconclusive_results: inconclusive,
        });
    let peer = cfg.peer.as_ref().map(|p| {
        let pull = store
            .as_ref()
            .and_then(|s| s.peer_pull().ok().flatten())
            .unwrap_or_else(|| crate::store::peer::PeerPull::not_yet(now));
        let own = crate::peer::config_digest(&cfg, &p.key);
        crate::peer::View::of_node(p, &pull, &own, now)
    });
    let (last_run, checks, services, acks, silences, (alerts, undelivered), ahead) = match &store {
        None => Default::default(),
        Some(s) => {
            let fail = |e| store::failure(&cfg.state, "reading the state", e);
            let alerts = s.outbox_counts().map_err(fail)?;
            let undelivered = if alerts.undelivered + alerts.given_up > 0 {
                s.deliveries(Which::Owed(now - 86_400), UNDELIVERED_SHOWN)
                    .map_err(fail)?
            } else {
                Vec::new()
            };
            (
                s.last_run().map_err(fail)?,
                s.checks().map_err(fail)?,
                s.services().map_err(fail)?,
                s.acks().map_err(fail)?,
                s.silences().map_err(fail)?,
                (alerts, undelivered),
                s.stamped_ahead(now).map_err(fail)?,
            )
        }
    };
    for name in &args.services {
        if !services.get(name).is_some_and(|s| s.active) {
            return Err(Exit::error(
                ExitCode::Usage,
                format!(
                    "no service named '{name}' has been checked; see `cabot status` for the list"
                ),
            ));
        }
    }
    // Each service's active checks, failing first and then by name: sorted once by service
    // too, so that each service's are one run of the list, taken as the services (in name
    // order) are walked.
    let mut active: Vec<&CheckRow> = checks.iter().filter(|c| c.active).collect();
    active.sort_unstable_by_key(|c| (c.service.as_str(), !c.failing, c.name.as_str()));
    let mut rest = active.as_slice();
    let mut shown: Vec<(&store::ServiceRow, &[&CheckRow])> =
        Vec::with_capacity(services.iter().len());
    for s in services.iter() {
        // Walked, not searched: a run is a check or two at thousands of services.
        let skip = rest.iter().take_while(|c| c.service < s.name).count();
        let take = rest[skip..]
            .iter()
            .take_while(|c| c.service == s.name)
            .count();
        let (rows, after) = rest[skip..].split_at(take);
        rest = after;
        if s.active && (args.services.is_empty() || args.services.contains(&s.name)) {
            shown.push((s, rows));
        }
    }
    // Worst first, then by name: a stable sort keeps the name order.
    shown.sort_by_key(|(s, _)| std::cmp::Reverse(s.status));

    let running = checks_running(last_run.map(|r| r.finished_at), cfg.stale_after, now);
    let worst = shown
        .iter()
        .map(|(s, _)| s.status)
        .max()
        .unwrap_or(Status::Passing);
    let report = Report {
        status: if running {
            worst.as_str().to_string()
        } else {
            "UNKNOWN".into()
        },
        running,
        clock_went_back: ahead.map(|t| ClockStep {
            ahead_seconds: t - now,
            newest_stamp: Time(t),
        }),
        stale_after_seconds: stale_after,
        peer,
        network_down,
        last_run: last_run.map(|r| run_report(r, now)),
        alerts,
        undelivered_alerts: undelivered,
        services: shown
            .iter()
            .map(|&(s, rows)| {
                let configured = cfg.service(&s.name);
                let on_call = configured
                    .and_then(|svc| svc.oncall.as_deref())
                    .and_then(|rota| cfg.on_duty_said(rota, now));
                ServiceReport {
                    name: &s.name,
                    status: s.status,
                    since: Time(s.since),
                    age_seconds: now.saturating_sub(s.since),
                    acknowledged: acks
                        .get(&s.name)
                        .filter(|a| in_force(a.until, now))
                        .map(|a| AckReport {
                            until: format_time(a.until),
                            by: a.by.clone(),
                            note: a.note.clone(),
                        }),
                    silenced_until: silences
                        .get(&s.name)
                        .filter(|x| in_force(x.until, now))
                        .map(|x| format_time(x.until)),
                    in_maintenance: cfg.in_maintenance(&s.name, now),
                    on_call: on_call.as_ref().map(|(user, _)| user.clone()),
                    on_call_from: on_call.and_then(|(_, from)| from),
                    escalation: configured
                        .filter(|svc| !svc.escalation.is_empty() && s.status != Status::Passing)
                        .map(|svc| EscalationReport {
                            steps_reached: s.memory.steps_fired,
                            steps: svc.escalation.len(),
                        }),
                    blocked_by: cfg
                        .failing_dependencies(&s.name, |d| {
                            services
                                .get(d)
                                .is_some_and(|r| r.active && r.status != Status::Passing)
                        })
                        .into_iter()
                        .map(str::to_string)
                        .collect(),
                    checks: Checks(rows),
                }
            })
            .collect(),
    };

    // A clock that went back is at least a WARNING: every time the state holds is in doubt.
    let code = match (running, &report.clock_went_back) {
        (false, _) => ExitCode::Unknown,
        (true, Some(_)) => ExitCode::from(worst.max(Status::Warning)),
        (true, None) => ExitCode::from(worst),
    };
    if args.json {
        // Megabytes at thousands of services: written as it is made, not built first.
        crate::write_out(|out| {
            serde_json::to_writer_pretty(&mut *out, &report)?;
            std::io::Write::write_all(out, b"\n")
        })?;
    } else if args.nagios {
        crate::print_out(&(fit_nagios(&nagios_line(&report, &cfg.stale_after)) + "\n"))?;
    } else {
        // A megabyte at thousands of services: written as it is made, not built first.
        crate::write_out(|out| human(&report, g.color(), out))?;
    }
    if !args.nagios && code != ExitCode::Ok {
        eprintln!("cabot: {}", verdict(&report, &cfg.stale_after));
    }
    // The process ends now: freeing the config and the report row by row is work for
    // nothing.
    std::mem::forget(report);
    std::mem::forget((cfg, checks));
    Ok(code)
}

fn run_report(r: RunRow, now: i64) -> RunReport {
    RunReport {
        started_at: format_time(r.started_at),
        finished_at: format_time(r.finished_at),
        // Negative for a run stamped ahead of this clock: never "0s ago".
        age_seconds: now.saturating_sub(r.finished_at),
        checks_run: r.checks_run,
        failures: r.failures,
    }
}

fn check_report(c: &CheckRow) -> CheckReport<'_> {
    CheckReport {
        name: &c.name,
        kind: &c.kind,
        importance: c.importance.as_str(),
        fails_at: c.failing.then(|| c.effective_importance().as_str()),
        status: match (&c.last, c.failing) {
            (None, _) => "pending",
            (Some(_), true) => "failing",
            (Some(_), false) => "passing",
        },
        since: c.status_since.map(Time),
        last_run_at: c.last_run_at.map(Time),
        consecutive_failures: c.consecutive_failures,
        message: c.last.as_ref().map(|l| l.message.as_str()),
        duration_ms: c.last.as_ref().map(|l| l.duration_ms),
    }
}

/// The one line that says what is wrong and what to do.
/// Each service that is not passing, as `NAME STATUS`.
fn failing_services(report: &Report) -> Vec<String> {
    report
        .services
        .iter()
        .filter(|s| s.status != Status::Passing)
        .map(|s| format!("{} {}", s.name, s.status))
        .collect()
}

fn verdict(report: &Report, stale_after: &std::time::Duration) -> String {
    match &report.last_run {
        None => "no run has completed yet: run `cabot run` (cron or a systemd timer should, every minute)".into(),
        Some(r) if !report.running && r.age_seconds < 0 => format!(
            "the last run is stamped {} ahead of this clock: the clock went back, and no run has finished since; is cron running `cabot run`?",
            format_age(-r.age_seconds)
        ),
        Some(_) if report.running && report.clock_went_back.is_some() => {
            let step = report.clock_went_back.as_ref().map(ClockStep::words).unwrap_or_default();
            let failing = failing_services(report);
            match failing.is_empty() {
                true => step,
                false => format!("{step}; failing: {}", failing.join(", ")),
            }
        }
        Some(r) if !report.running => format!(
            "the last run finished {} ago, longer than stale_after ({}): is cron running `cabot run`?",
            format_age(r.age_seconds),
            crate::text::duration(*stale_after)
        ),
        Some(_) => format!("failing: {}", failing_services(report).join(", ")),
    }
}

fn nagios_line(report: &Report, stale_after: &std::time::Duration) -> String {
    let count = |st: Status| report.services.iter().filter(|s| s.status == st).count();
    let total = report.services.len();
    let summary = match &report.last_run {
        _ if !report.running => verdict(report, stale_after),
        _ => {
            let failing: Vec<String> = report
                .services
                .iter()
                .filter(|s| s.status != Status::Passing)
                .map(|s| {
                    let why = s
                        .checks
                        .iter()
                        .find(|c| c.status == "failing")
                        .map(|c| format!(" ({}: {})", c.name, c.message.unwrap_or("")))
                        .unwrap_or_default();
                    format!("{} {}{why}", s.name, s.status)
                })
                .collect();
            let services = if failing.is_empty() {
                format!("{} passing", crate::text::count(total, "service"))
            } else {
                format!(
                    "{} of {} failing: {}",
                    failing.len(),
                    crate::text::count(total, "service"),
                    failing.join(", ")
                )
            };
            match &report.clock_went_back {
                Some(step) => format!("{}; {services}", step.words()),
                None => services,
            }
        }
    };
    // Perfdata must not contain the characters that end or split it.
    let summary = summary.replace('|', "/");
    let mut line = format!(
        "CABOT {} - {summary} | services={total};;;0 passing={};;;0 warning={};;;0 error={};;;0 critical={};;;0",
        match (report.running, &report.clock_went_back) {
            (false, _) => "UNKNOWN",
            (true, Some(_)) if report.status == "PASSING" => "WARNING",
            (true, _) => nagios_word(&report.status),
        },
        count(Status::Passing),
        count(Status::Warning),
        count(Status::Error),
        count(Status::Critical),
    );
    if let Some(r) = &report.last_run {
        let _ = write!(
            line,
            " last_run_age={}s;;{};0",
            r.age_seconds,
            stale_after.as_secs()
        );
    }
    line
}

fn nagios_word(status: &str) -> &'static str {
    match status {
        "PASSING" => "OK",
        "WARNING" => "WARNING",
        _ => "CRITICAL",
    }
}

/// A status word (`ERROR`, `failing`, ...) padded to `width`, in its colour when `color`:
/// written in place, as `status` writes a line for every check.
struct Paint<'a> {
    status: &'a str,
    width: usize,
    color: bool,
}

impl std::fmt::Display for Paint<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Paint {
            status,
            width,
            color,
        } = *self;
        if !color {
            return Pad(status, width).fmt(f);
        }
        let code = match status {
            "PASSING" | "passing" => "32",
            "WARNING" | "pending" => "33",
            "ERROR" | "failing" => "31",
            _ => "1;31",
        };
        write!(f, "\x1b[{code}m{}\x1b[0m", Pad(status, width))
    }
}

/// `text` and spaces after it to `width` characters: what `{:width$}` writes, without its
/// character-at-a-time fill (15,000 lines at 5,000 services).
struct Pad<'a>(&'a str, usize);

impl std::fmt::Display for Pad<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        const SPACES: &str = "                                ";
        let Pad(text, width) = *self;
        f.write_str(text)?;
        let mut left = width.saturating_sub(text.chars().count());
        while left > 0 {
            let n = left.min(SPACES.len());
            f.write_str(&SPACES[..n])?;
            left -= n;
        }
        Ok(())
    }
}

/// A check's duration as `123 ms`, right-aligned in six columns; nothing before its first
/// result.
struct Millis(Option<i64>);

impl std::fmt::Display for Millis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            Some(ms) => write!(f, "{ms:>3} ms"),
            None => f.write_str("      "),
        }
    }
}

/// The human form, written to `out` as it is made.
fn human(report: &Report, color: bool, out: &mut impl std::io::Write) -> std::io::Result<()> {
    if report.services.is_empty() && report.last_run.is_none() {
        return Ok(());
    }
    let name_width = report
        .services
        .iter()
        .flat_map(|s| {
            s.checks
                .names()
                .map(|name| name.len() + 2)
                .chain([s.name.len()])
        })
        .max()
        .unwrap_or(0);
    for s in &report.services {
        let status = s.status.as_str();
        writeln!(
            out,
            "{}  {}  since {} ({})",
            Pad(s.name, name_width),
            Paint {
                status,
                width: 8,
                color
            },
            s.since,
            clock::Ago(s.age_seconds),
        )?;
        if let Some(a) = &s.acknowledged {
            writeln!(
                out,
                "  acknowledged{} until {}{}",
                a.by.as_ref()
                    .map(|b| format!(" by {b}"))
                    .unwrap_or_default(),
                a.until,
                a.note
                    .as_ref()
                    .map(|n| format!(": {n}"))
                    .unwrap_or_default()
            )?;
        }
        if let Some(until) = &s.silenced_until {
            writeln!(out, "  silenced until {until}")?;
        }
        if let Some(user) = &s.on_call {
            match &s.on_call_from {
                Some(from) => writeln!(out, "  on call: {user} ({from})")?,
                None => writeln!(out, "  on call: {user}")?,
            }
        }
        if let Some(e) = &s.escalation {
            writeln!(
                out,
                "  escalation: step {} of {} reached",
                e.steps_reached, e.steps
            )?;
        }
        if !s.blocked_by.is_empty() {
            writeln!(
                out,
                "  blocked by {}: its alerts wait until that passes",
                s.blocked_by.join(", ")
            )?;
        }
        if s.in_maintenance {
            writeln!(out, "  in a maintenance window: alerts muted")?;
        }
        if s.checks.is_empty() {
            writeln!(out, "  (no active checks)")?;
        }
        for c in s.checks.iter() {
            writeln!(
                out,
                "  {}  {}  {}  {}  {}",
                Pad(c.name, name_width - 2),
                Paint {
                    status: c.status,
                    width: 7,
                    color
                },
                Pad(c.fails_at.unwrap_or(c.importance), 8),
                Millis(c.duration_ms),
                c.message.unwrap_or("(no result yet)"),
            )?;
        }
    }
    match &report.last_run {
        Some(r) => {
            writeln!(
                out,
                "last run: {} ({}, {} failed){}",
                clock::Ago(r.age_seconds),
                crate::text::count(r.checks_run.max(0) as usize, "check"),
                r.failures,
                if report.running { "" } else { " - STALE" }
            )?;
        }
        None => out.write_all(b"last run: none yet\n")?,
    }
    if let Some(step) = &report.clock_went_back {
        writeln!(out, "clock: {}", step.words())?;
    }
    if let Some(n) = &report.network_down {
        writeln!(
            out,
            "cabot's network: down since {} (every network check fails); {} results inconclusive, no alert from them",
            n.since, n.inconclusive_results
        )?;
    }
    if let Some(view) = &report.peer {
        for line in view.lines() {
            writeln!(out, "{line}")?;
        }
    }
    if report.alerts.undelivered > 0 || report.alerts.given_up > 0 {
        writeln!(
            out,
            "alerts: {} undelivered (retried by the next runs), {} given up",
            report.alerts.undelivered, report.alerts.given_up
        )?;
        for u in &report.undelivered_alerts {
            let to = if u.recipient.is_empty() {
                u.channel.clone()
            } else {
                format!("{} ({})", u.channel, u.recipient)
            };
            let when = match u.next_try {
                Some(t) => format!("next try {}", crate::clock::rfc3339(t)),
                None => "given up".to_string(),
            };
            writeln!(
                out,
                "  alert {} for {} ({}) to {to}: {}, {when}: {}",
                u.alert,
                u.service,
                u.kind,
                crate::text::count(u.tries.max(0) as usize, "attempt"),
                crate::text::one_line(u.last_error.as_deref().unwrap_or("not tried yet"), 300)
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_and_names_fill_their_columns() {
        let ms = |v| Millis(v).to_string();
        assert_eq!(ms(None), "      ");
        assert_eq!(ms(Some(0)), "  0 ms");
        assert_eq!(ms(Some(42)), " 42 ms");
        assert_eq!(ms(Some(-5)), " -5 ms");
        assert_eq!(ms(Some(12345)), "12345 ms");
        assert_eq!(Pad("é", 3).to_string(), "é  ");
        assert_eq!(Pad("too long", 3).to_string(), "too long");
        assert_eq!(Pad("a", 40).to_string(), format!("a{}", " ".repeat(39)));
    }
}
