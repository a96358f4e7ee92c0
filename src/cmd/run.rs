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
use crate::core::debounce::{self, Standing};
use crate::core::status::{CheckView, service_standing};
use crate::core::{Importance, Status, quiet, schedule};
use crate::exit_codes::{Exit, ExitCode};
use crate::lock;
use crate::store::outbox::DeliveryResult;
use crate::store::outbox::NewAlert;
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
    let due = due_checks(&cfg, &scope, &rows, args.all, started_at);
    let results = run_checks(g, args.jobs, &due, &store, &rows, started_at)
        .map_err(|e| store::failure(&cfg.state, "reading pings", e))?;
    let now = clock::now();
    let new_results = apply_results(&mut rows, &due, &results, now);
    let previous = store
        .services()
        .map_err(|e| store::failure(&cfg.state, "reading service states", e))?;
    let (check_rows, mut service_rows) = current_states(&cfg, &mut rows, &previous, now);
    let alerts = if args.no_alerts {
        Vec::new()
    } else {
        decide_alerts(&cfg, &store, &mut service_rows, &previous, &check_rows, now)?
    };
    let acks_ended: Vec<&str> = service_rows
        .iter()
        .filter(|s| quiet::ack_ends(s.status))
        .map(|s| s.name.as_str())
        .collect();
    store
        .save(
            &check_rows,
            &new_results,
            &service_rows,
            &alerts,
            &acks_ended,
        )
        .map_err(|e| store::failure(&cfg.state, "saving results", e))?;
    // Delivery happens after the commit: a crash from here on can repeat a delivery, never lose one.
    if !args.no_alerts {
        deliver_outbox(g, &cfg, &mut store)?;
    }
    finish(g, &cfg, &mut store, started_at, &results)?;

    if !g.quiet && (std::io::stderr().is_terminal() || g.verbose) {
        eprintln!(
            "{}",
            summary(&results, &service_rows, clock_started.elapsed())
        );
    }
    Ok(match args.fail_on {
        None => ExitCode::Ok,
        Some(threshold) => fail_on_code(&due, &results, threshold.importance()),
    })
}

/// The checks in scope that are due at `now` (or all of them, with `--all`), by service.
fn due_checks(
    cfg: &Config,
    scope: &Scope,
    rows: &HashMap<(String, String), CheckRow>,
    all: bool,
    now: i64,
) -> Vec<(String, Job)> {
    cfg.services
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s, c)))
        .filter(|(s, c)| c.active && scope.includes(&s.name, &c.name))
        .map(|(s, c)| {
            let last_run = rows
                .get(&(s.name.clone(), c.name.clone()))
                .and_then(|r| r.last_run_at);
            (s, c, last_run)
        })
        .filter(|(_, c, last_run)| all || schedule::is_due(*last_run, c.frequency, now))
        .map(|(s, c, last_run)| {
            (
                s.name.clone(),
                Job {
                    check: c.clone(),
                    last_run,
                },
            )
        })
        .collect()
}

/// Runs the due checks, at most `jobs` at once, and judges the passive ones (heartbeats)
/// from their pings; the results in the order of `due`.
fn run_checks(
    g: &Global,
    jobs: u32,
    due: &[(String, Job)],
    store: &Store,
    rows: &HashMap<(String, String), CheckRow>,
    started_at: i64,
) -> rusqlite::Result<Vec<CheckResult>> {
    let progress = progress_bar(g, due.len());
    let verbose = g.verbose;
    let (passive, active): (Vec<usize>, Vec<usize>) =
        (0..due.len()).partition(|&i| due[i].1.check.kind.is_passive());
    let ran = runner::run_all(
        active.iter().map(|&i| due[i].1.clone()).collect(),
        jobs as usize,
        started_at,
        |check, result| {
            if let Some(bar) = &progress {
                bar.inc(1);
                bar.set_message(check.name.clone());
            }
            if verbose {
                let line = format!(
                    "{} {} ({} ms): {}",
                    if result.ok { "ok  " } else { "FAIL" },
                    check.name,
                    result.duration.as_millis(),
                    result.message
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
    let mut results: Vec<Option<CheckResult>> = vec![None; due.len()];
    for (i, result) in active.into_iter().zip(ran) {
        results[i] = Some(result);
    }
    for i in passive {
        let (service, job) = &due[i];
        let CheckKind::Heartbeat(hb) = &job.check.kind else {
            continue;
        };
        let last = store.last_ping(service, &job.check.name)?;
        let first_seen = rows
            .get(&(service.clone(), job.check.name.clone()))
            .and_then(|r| r.status_since)
            .unwrap_or(started_at);
        results[i] = Some(heartbeat::judge(
            hb,
            last.as_ref(),
            first_seen,
            clock::now(),
        ));
    }
    Ok(results
        .into_iter()
        .map(|r| r.unwrap_or_else(|| CheckResult::fail("the check did not run", Duration::ZERO)))
        .collect())
}

/// Records each result on its check's row (the run of failures, the latest result) and
/// returns the results to store.
fn apply_results(
    rows: &mut HashMap<(String, String), CheckRow>,
    due: &[(String, Job)],
    results: &[CheckResult],
    now: i64,
) -> Vec<NewResult> {
    due.iter()
        .zip(results)
        .map(|((service, job), result)| {
            let check = &job.check;
            let key = (service.clone(), check.name.clone());
            let row = rows.entry(key).or_insert_with(|| new_row(service, check));
            row.consecutive_failures = debounce::after_result(row.consecutive_failures, result.ok);
            row.failing_importance = if result.ok { None } else { result.importance };
            row.last_run_at = Some(now);
            row.last = Some(LastResult {
                ok: result.ok,
                message: result.message.clone(),
                duration_ms: result.duration.as_millis() as i64,
                perfdata: result.perfdata.clone(),
            });
            NewResult {
                service: service.clone(),
                check: check.name.clone(),
                at: now,
                ok: result.ok,
                duration_ms: result.duration.as_millis() as i64,
                message: result.message.clone(),
                importance: result.importance,
                perfdata: result.perfdata.clone(),
            }
        })
        .collect()
}

/// The policy for every service, with what mutes or quiets it now; updates each service's
/// memory and returns the alerts.
fn decide_alerts(
    cfg: &Config,
    store: &Store,
    service_rows: &mut [ServiceRow],
    previous: &HashMap<String, ServiceRow>,
    check_rows: &[CheckRow],
    now: i64,
) -> anyhow::Result<Vec<NewAlert>> {
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
    let before: HashMap<String, Status> = previous
        .iter()
        .map(|(name, row)| (name.clone(), row.status))
        .collect();
    Ok(decide::decide_all(
        cfg,
        service_rows,
        &before,
        check_rows,
        &quiet,
        now,
    ))
}

/// Delivers what the outbox holds that is due, this run's alerts among them.
fn deliver_outbox(g: &Global, cfg: &Config, store: &mut Store) -> anyhow::Result<()> {
    let delivered = deliver::deliver_pending(store, cfg, clock::now())
        .map_err(|e| store::failure(&cfg.state, "recording deliveries", e))?;
    if !g.quiet {
        report_deliveries(&delivered);
    }
    Ok(())
}

/// Records the run as completed, tells `heartbeat_url`, and prunes old history.
fn finish(
    g: &Global,
    cfg: &Config,
    store: &mut Store,
    started_at: i64,
    results: &[CheckResult],
) -> anyhow::Result<()> {
    let finished_at = clock::now();
    store
        .record_run(RunRow {
            started_at,
            finished_at,
            checks_run: results.len() as i64,
            failures: results.iter().filter(|r| !r.ok).count() as i64,
        })
        .map_err(|e| store::failure(&cfg.state, "recording the run", e))?;
    if let Some(url) = &cfg.heartbeat_url
        && let Err(why) = ping_heartbeat_url(url)
        && !g.quiet
    {
        eprintln!("cabot: heartbeat_url did not answer: {why}");
    }
    let cutoff = finished_at - cfg.retention.as_secs() as i64;
    store
        .prune(cutoff, PRUNE_BATCH, PRUNE_MAX_BATCHES)
        .map_err(|e| store::failure(&cfg.state, "pruning old results", e))?;
    Ok(())
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

/// Every configured check's row and every configured service's row at `now`: where each
/// check stands after debounce, and each service's status and since when.
fn current_states(
    cfg: &Config,
    rows: &mut HashMap<(String, String), CheckRow>,
    previous: &HashMap<String, ServiceRow>,
    now: i64,
) -> (Vec<CheckRow>, Vec<ServiceRow>) {
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
            let before = Standing {
                failing: row.failing,
                since: row.status_since,
            };
            let failures = row.last.as_ref().map(|_| row.consecutive_failures);
            let now_standing = debounce::standing(failures, check.result_debounce(), before, now);
            row.failing = now_standing.failing;
            row.status_since = now_standing.since;
            views.push(CheckView {
                importance: row.effective_importance(),
                active: check.active,
                failing: row.failing,
            });
            check_rows.push(row.clone());
        }
        let before = previous.get(&service.name);
        let (status, since) = service_standing(views, before.map(|p| (p.status, p.since)), now);
        service_rows.push(ServiceRow {
            name: service.name.clone(),
            status,
            since,
            active: true,
            memory: before.map(|p| p.memory).unwrap_or_default(),
        });
    }
    (check_rows, service_rows)
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
fn ping_heartbeat_url(url: &str) -> Result<(), String> {
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

fn summary(results: &[CheckResult], services: &[ServiceRow], took: Duration) -> String {
    let failed = results.iter().filter(|r| !r.ok).count();
    let mut line = format!(
        "{} check{} run in {:.1}s, {failed} failed",
        results.len(),
        crate::text::plural(results.len()),
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
