//! `cabot run`: run the due checks, record results, update statuses, record the run.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::alerts::{decide, deliver};
use crate::checks::{CheckKind, CheckResult, Job, heartbeat, runner};
use crate::cli::Global;
use crate::clock;
use crate::config::{Check, Config};
use crate::core::status::{CheckView, service_status};
use crate::core::{Importance, Status, debounce, schedule};
use crate::exit_codes::{Exit, ExitCode};
use crate::lock;
use crate::store::outbox::DeliveryResult;
use crate::store::{self, CheckRow, LastResult, NewResult, RunRow, ServiceRow, Store};

/// Results older than `retention` are deleted this many at a time...
const PRUNE_BATCH: usize = 5_000;
/// ...in at most this many transactions per run; a backlog shrinks over later runs.
const PRUNE_MAX_BATCHES: usize = 20;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Run every check, due or not
    #[arg(long)]
    pub all: bool,
    /// Only this service's checks (repeatable)
    #[arg(long = "service", value_name = "NAME")]
    pub services: Vec<String>,
    /// Only this check (repeatable)
    #[arg(long = "check", value_name = "SERVICE/CHECK")]
    pub checks: Vec<String>,
    /// How many checks run at once
    #[arg(long, default_value_t = 64, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub jobs: u32,
    /// Exit 1 (warning) or 2 (error, critical) when a check run now failed at this importance or above
    #[arg(long, value_enum, value_name = "IMPORTANCE")]
    pub fail_on: Option<FailOn>,
    /// Decide and record nothing about alerts
    #[arg(long)]
    pub no_alerts: bool,
    /// Wait this long for another run's lock instead of exiting 75 at once
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pub wait: Option<Duration>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    Warning,
    Error,
    Critical,
}

impl FailOn {
    fn importance(self) -> Importance {
        match self {
            FailOn::Warning => Importance::Warning,
            FailOn::Error => Importance::Error,
            FailOn::Critical => Importance::Critical,
        }
    }
}

/// Which checks `--service` and `--check` leave in play.
struct Scope<'a> {
    services: Vec<&'a str>,
    checks: Vec<(&'a str, &'a str)>,
}

impl<'a> Scope<'a> {
    fn new(cfg: &Config, args: &'a Args) -> anyhow::Result<Scope<'a>> {
        for name in &args.services {
            cfg.service_named(name)?;
        }
        let mut checks = Vec::new();
        for id in &args.checks {
            let Some((service, check)) = id.split_once('/') else {
                return Err(Exit::error(
                    ExitCode::Usage,
                    format!("--check takes SERVICE/CHECK, not '{id}'"),
                ));
            };
            let s = cfg.service_named(service)?;
            if !s.checks.iter().any(|c| c.name == check) {
                let names: Vec<&str> = s.checks.iter().map(|c| c.name.as_str()).collect();
                return Err(Exit::error(
                    ExitCode::Usage,
                    format!(
                        "service '{service}' has no check '{check}' (its checks: {})",
                        names.join(", ")
                    ),
                ));
            }
            checks.push((service, check));
        }
        Ok(Scope {
            services: args.services.iter().map(String::as_str).collect(),
            checks,
        })
    }

    fn includes(&self, service: &str, check: &str) -> bool {
        if self.services.is_empty() && self.checks.is_empty() {
            return true;
        }
        self.services.contains(&service) || self.checks.contains(&(service, check))
    }
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let scope = Scope::new(&cfg, args)?;
    let _lock = lock::acquire(&cfg.state, args.wait.unwrap_or(Duration::ZERO))?;
    let mut store = Store::open(&cfg.state, Some(&g.config))?;
    let clock_started = Instant::now();
    let started_at = clock::now();

    let mut rows = store
        .checks()
        .map_err(|e| store::failure(&cfg.state, "reading check states", e))?;
    let due: Vec<(String, Job)> = cfg
        .services
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(s, c)| c.active && scope.includes(&s.name, &c.name))
        .map(|(s, c)| {
            let last_run = rows
                .get(&(s.name.clone(), c.name.clone()))
                .and_then(|r| r.last_run_at);
            (s, c, last_run)
        })
        .filter(|(_, c, last_run)| args.all || schedule::is_due(*last_run, c.frequency, started_at))
        .map(|(s, c, last_run)| {
            (
                s.name.clone(),
                Job {
                    check: c.clone(),
                    last_run,
                },
            )
        })
        .collect();

    let progress = progress_bar(g, due.len());
    let verbose = g.verbose;
    // Heartbeats are passive: judged from their pings here, the rest run on threads.
    let (passive, active): (Vec<usize>, Vec<usize>) =
        (0..due.len()).partition(|&i| matches!(due[i].1.check.kind, CheckKind::Heartbeat(_)));
    let mut ran = runner::run_all(
        active.iter().map(|&i| due[i].1.clone()).collect(),
        args.jobs as usize,
        started_at,
        |check, outcome| {
            if let Some(bar) = &progress {
                bar.inc(1);
                bar.set_message(check.name.clone());
            }
            if verbose {
                let line = format!(
                    "{} {} ({} ms): {}",
                    if outcome.ok { "ok  " } else { "FAIL" },
                    check.name,
                    outcome.duration.as_millis(),
                    outcome.message
                );
                match &progress {
                    Some(bar) => bar.println(line),
                    None => eprintln!("{line}"),
                }
            }
        },
    );
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    let mut outcomes: Vec<Option<CheckResult>> = vec![None; due.len()];
    for (i, outcome) in active.into_iter().zip(ran.drain(..)) {
        outcomes[i] = Some(outcome);
    }
    for i in passive {
        let (service, job) = &due[i];
        let CheckKind::Heartbeat(hb) = &job.check.kind else {
            continue;
        };
        let last = store
            .last_ping(service, &job.check.name)
            .map_err(|e| store::failure(&cfg.state, "reading pings", e))?;
        let first_seen = rows
            .get(&(service.clone(), job.check.name.clone()))
            .and_then(|r| r.status_since)
            .unwrap_or(started_at);
        outcomes[i] = Some(heartbeat::judge(
            hb,
            last.as_ref(),
            first_seen,
            clock::now(),
        ));
    }
    let outcomes: Vec<CheckResult> = outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| CheckResult::fail("the check did not run", Duration::ZERO)))
        .collect();

    let finished_checks_at = clock::now();
    let mut results = Vec::with_capacity(outcomes.len());
    for ((service, job), outcome) in due.iter().zip(&outcomes) {
        let check = &job.check;
        let key = (service.clone(), check.name.clone());
        let row = rows.entry(key).or_insert_with(|| new_row(service, check));
        apply_result(row, outcome, finished_checks_at);
        results.push(NewResult {
            service: service.clone(),
            check: check.name.clone(),
            at: finished_checks_at,
            ok: outcome.ok,
            duration_ms: outcome.duration.as_millis() as i64,
            message: outcome.message.clone(),
            importance: outcome.importance,
            perfdata: outcome.perfdata.clone(),
        });
    }

    let now = finished_checks_at;
    let (check_rows, mut service_rows, previous) = current_states(&cfg, &mut rows, &store, now)?;
    let alerts = if args.no_alerts {
        Vec::new()
    } else {
        let acks = store
            .acks()
            .map_err(|e| store::failure(&cfg.state, "reading acks", e))?;
        let silences = store
            .silences()
            .map_err(|e| store::failure(&cfg.state, "reading silences", e))?;
        let quiet = decide::Quiet {
            acks: &acks,
            silences: &silences,
            maintenance: &|service| cfg.in_maintenance(service, now),
        };
        decide::decide_all(&cfg, &mut service_rows, &previous, &check_rows, &quiet, now)
    };
    store
        .save(&check_rows, &results, &service_rows, &alerts)
        .map_err(|e| store::failure(&cfg.state, "saving results", e))?;

    // Delivery happens after the commit: a crash from here on can repeat a delivery, never lose one.
    if !args.no_alerts {
        let delivered = deliver::deliver_pending(&mut store, &cfg, clock::now())
            .map_err(|e| store::failure(&cfg.state, "recording deliveries", e))?;
        if !g.quiet {
            report_deliveries(&delivered);
        }
    }

    let failures = outcomes.iter().filter(|o| !o.ok).count();
    let finished_at = clock::now();
    store
        .record_run(RunRow {
            started_at,
            finished_at,
            checks_run: outcomes.len() as i64,
            failures: failures as i64,
        })
        .map_err(|e| store::failure(&cfg.state, "recording the run", e))?;
    if let Some(url) = &cfg.heartbeat_url
        && let Err(why) = heartbeat(url)
        && !g.quiet
    {
        eprintln!("cabot: heartbeat_url did not answer: {why}");
    }
    let cutoff = finished_at - cfg.retention.as_secs() as i64;
    store
        .prune(cutoff, PRUNE_BATCH, PRUNE_MAX_BATCHES)
        .map_err(|e| store::failure(&cfg.state, "pruning old results", e))?;

    if !g.quiet && (std::io::stderr().is_terminal() || g.verbose) {
        eprintln!(
            "{}",
            summary(&due, &outcomes, &service_rows, clock_started.elapsed())
        );
    }

    Ok(match args.fail_on {
        None => ExitCode::Ok,
        Some(threshold) => fail_on_code(&due, &outcomes, threshold.importance()),
    })
}

fn new_row(service: &str, check: &Check) -> CheckRow {
    CheckRow {
        service: service.to_string(),
        name: check.name.clone(),
        kind: check.kind.type_name().to_string(),
        importance: check.importance,
        consecutive_failures: 0,
        failing: false,
        status_since: None,
        last_run_at: None,
        last: None,
        active: true,
        failing_importance: None,
    }
}

/// Records one result on its check: the run of failures and the latest result. Whether the
/// check is failing is decided once, for every check, in `current_states`.
fn apply_result(row: &mut CheckRow, outcome: &CheckResult, now: i64) {
    row.consecutive_failures = debounce::after_result(row.consecutive_failures, outcome.ok);
    row.failing_importance = if outcome.ok { None } else { outcome.importance };
    row.last_run_at = Some(now);
    row.last = Some(LastResult {
        ok: outcome.ok,
        message: outcome.message.clone(),
        duration_ms: outcome.duration.as_millis() as i64,
        perfdata: outcome.perfdata.clone(),
    });
}

/// Check rows, service rows, and each service's status before this run.
type States = (Vec<CheckRow>, Vec<ServiceRow>, HashMap<String, Status>);

/// Every configured check's row, every configured service's status, and the statuses before.
fn current_states(
    cfg: &Config,
    rows: &mut HashMap<(String, String), CheckRow>,
    store: &Store,
    now: i64,
) -> anyhow::Result<States> {
    let previous = store
        .services()
        .map_err(|e| store::failure(&cfg.state, "reading service states", e))?;
    let mut check_rows = Vec::new();
    let mut service_rows = Vec::new();
    for service in &cfg.services {
        let mut views = Vec::new();
        for check in &service.checks {
            let row = rows
                .entry((service.name.clone(), check.name.clone()))
                .or_insert_with(|| new_row(&service.name, check));
            row.importance = check.importance;
            row.kind = check.kind.type_name().to_string();
            row.active = check.active;
            // Decided for every check, not only those run now, so that a debounce changed in
            // the config applies at once.
            let failing = row.last.is_some()
                && debounce::is_failing(row.consecutive_failures, check.result_debounce());
            if row.last.is_some() && (failing != row.failing || row.status_since.is_none()) {
                row.status_since = Some(now);
            }
            row.failing = failing;
            views.push(CheckView {
                importance: row.effective_importance(),
                active: check.active,
                failing: row.failing,
            });
            check_rows.push(row.clone());
        }
        let status = service_status(views);
        let since = match previous.get(&service.name) {
            Some(prev) if prev.status == status => prev.since,
            _ => now,
        };
        service_rows.push(ServiceRow {
            name: service.name.clone(),
            status,
            since,
            active: true,
            memory: previous
                .get(&service.name)
                .map(|p| p.memory)
                .unwrap_or_default(),
        });
    }
    let before = previous
        .into_iter()
        .map(|(name, row)| (name, row.status))
        .collect();
    Ok((check_rows, service_rows, before))
}

fn fail_on_code(
    due: &[(String, Job)],
    outcomes: &[CheckResult],
    threshold: Importance,
) -> ExitCode {
    let worst = due
        .iter()
        .zip(outcomes)
        .filter(|(_, o)| !o.ok)
        .map(|((_, j), o)| {
            o.importance
                .map_or(j.check.importance, |i| i.min(j.check.importance))
        })
        .max();
    match worst {
        Some(i) if i >= threshold => ExitCode::from(Status::from_importance(i)),
        _ => ExitCode::Ok,
    }
}

/// How long the dead man's switch gets; it must never hold up the next run.
const HEARTBEAT_TIMEOUT: Duration = Duration::from_secs(10);

/// Tells a dead man's switch (healthchecks.io and the like) that a run completed.
fn heartbeat(url: &str) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(HEARTBEAT_TIMEOUT))
        .build()
        .into();
    match agent.get(url).call() {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Err(e.to_string()),
    }
}

/// Under cron, a delivery that failed is news: print one line each, so cron's mail carries it.
fn report_deliveries(outcomes: &[deliver::DeliveryReport]) {
    for o in outcomes {
        let d = &o.delivery;
        let to = if d.recipient.is_empty() {
            d.channel.clone()
        } else {
            format!("{} ({})", d.channel, d.recipient)
        };
        match &o.result {
            DeliveryResult::Delivered { .. } => {}
            DeliveryResult::Failed { error, .. } => eprintln!(
                "cabot: alert {} for {} not delivered to {to}, will retry: {error}",
                d.alert_id,
                d.alert.as_ref().map_or("?", |a| a.service.as_str()),
            ),
            DeliveryResult::GivenUp { error } => eprintln!(
                "cabot: gave up on alert {} for {} to {to}: {error}",
                d.alert_id,
                d.alert.as_ref().map_or("?", |a| a.service.as_str()),
            ),
        }
    }
}

fn progress_bar(g: &Global, len: usize) -> Option<ProgressBar> {
    if g.quiet || !std::io::stderr().is_terminal() || len == 0 {
        return None;
    }
    let bar = ProgressBar::new(len as u64);
    if let Ok(style) =
        ProgressStyle::with_template("{bar:30} {pos}/{len} checks {elapsed} {wide_msg}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(Duration::from_millis(200));
    Some(bar)
}

fn summary(
    due: &[(String, Job)],
    outcomes: &[CheckResult],
    services: &[ServiceRow],
    took: Duration,
) -> String {
    let failed = outcomes.iter().filter(|o| !o.ok).count();
    let mut line = format!(
        "{} check{} run in {:.1}s, {failed} failed",
        due.len(),
        crate::text::plural(due.len()),
        took.as_secs_f64()
    );
    let unhappy: Vec<String> = services
        .iter()
        .filter(|s| s.status != Status::Passing)
        .map(|s| format!("{} {}", s.name, s.status))
        .collect();
    if unhappy.is_empty() {
        line.push_str(&format!("; all {} services PASSING", services.len()));
    } else {
        line.push_str(&format!("; {}", unhappy.join(", ")));
    }
    line
}
