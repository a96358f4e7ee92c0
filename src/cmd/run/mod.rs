//! `cabot run`: run the checks that are due, each on its own clock. The run leases what it
//! runs (so that overlapping runs never run a check twice at once), records each result as
//! it arrives, decides a service's alerts as soon as its checks in this run are done, and
//! delivers them beside the checks still running. See `plan.rs` for the start and
//! `record.rs` for the results.

mod heartbeat_url;
mod plan;
mod record;

use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::alerts::deliver::{Deliverer, DeliveryReport};
use crate::alerts::policy::RepeatIntervals;
use crate::checks::CheckMemory;
use crate::checks::runner::{Finished, Runner};
use crate::checks::{CheckKind, CheckResult, Job, heartbeat};
use crate::cli::Global;
use crate::clock;
use crate::cmd::oncall::CalendarReads;
use crate::config::{Check, Config};
use crate::core::{Importance, Status, schedule};
use crate::exit_codes::{Exit, ExitCode};
use crate::lock;
use crate::store::oncall::CalendarCopy;
use crate::store::outbox::DeliveryResult;
use crate::store::run as state;
use crate::store::{self, RunRow, ServiceRow, Store};
use heartbeat_url::Heartbeat;
use plan::Due;

/// Results older than `retention` are deleted this many at a time...
const PRUNE_BATCH: usize = 5_000;
/// ...in at most this many transactions per run; a backlog shrinks over later runs.
const PRUNE_MAX_BATCHES: usize = 20;
/// How far past the newest run a clock may be before pruning waits for a second run.
const PRUNE_LEAP: i64 = 86_400;
/// Results are written as they arrive, a write at most this often (a batch in each).
const BATCH_WINDOW: Duration = Duration::from_millis(100);
/// How long a run waits while `migrate` has the state, unless `--wait` says.
const MIGRATE_WAIT: Duration = Duration::from_secs(30);
/// How often `--all` looks again at checks another run holds.
const HELD_POLL: Duration = Duration::from_millis(250);
/// While a run waits on slow checks, it looks for checks that came due at least this often
/// (and when the next one comes due): a lease another run gave back frees a check too.
const LOOK_AGAIN: i64 = 15;

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
    /// Wait this long while `cabot migrate` has the state to itself [default: 30s]
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

/// One check's result in this run, for `--fail-on` and the summary.
struct Ran {
    ok: bool,
    /// The importance its failure counts at.
    importance: Importance,
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    few_malloc_arenas();
    let mut cfg = g.load_config()?;
    let calendars =
        crate::cmd::oncall::load(&mut cfg, clock::now(), crate::cmd::oncall::Read::WhenDue);
    // The peer's word decides what this run does with its alerts: waited for (at most
    // its timeout) before the checks.
    let pulled = PeerPull::start(&cfg, clock::now()).finish();
    if let Some(peer) = &cfg.peer {
        cfg.pair = pair_now(&cfg, peer, pulled.as_ref(), clock::now());
    }
    let cfg = Arc::new(cfg);
    let scope = Scope::new(&cfg, args)?;
    // Said even with --quiet: each stops a channel or a rota, and needs a person.
    say_unset_secrets(&cfg);
    let heartbeat = Heartbeat::begin(&cfg, g.quiet);
    let done = run_scoped(g, args, &cfg, &scope, (calendars, pulled));
    heartbeat.end(match &done {
        Ok(done) if !done.owed_undelivered => heartbeat_url::Outcome::Success,
        _ => heartbeat_url::Outcome::Fail,
    });
    // The process ends now: freeing a large config check by check is work for nothing.
    std::mem::forget(cfg);
    done.map(|done| done.code)
}

/// One line per environment variable that a `*_env` secret names and this run lacks (cron
/// gives a small environment): the checks and alerts that need it will fail.
fn say_unset_secrets(cfg: &Config) {
    let mut said: Vec<&str> = Vec::new();
    for secret in cfg
        .env_secrets
        .iter()
        .filter(|s| s.is_unset() && cfg.secret_in_use(&s.key))
    {
        if !said.contains(&secret.var.as_str()) {
            said.push(&secret.var);
            eprintln!("cabot: {}: {}", secret.key, secret.unset_message());
        }
    }
}

/// One line per calendar this run could not read, and what stands in for it.
fn say_unread_calendars(cfg: &Config, tried: &[CalendarCopy]) {
    for attempt in tried {
        let (Some(problem), Some(rota)) = (&attempt.problem, cfg.oncall.get(&attempt.rota)) else {
            continue;
        };
        let (Some(source), Some(read)) = (&rota.calendar, &rota.from_calendar) else {
            continue;
        };
        let instead = match read.shifts().read_at {
            Some(at) => format!("using the copy read {}", clock::format_time(at)),
            None => format!("its fallback {} is on duty", rota.fallback),
        };
        eprintln!(
            "cabot: oncall.{}: {} could not be read: {problem}; {instead}",
            attempt.rota, source.location
        );
    }
}

/// Whether the state holds times ahead of this run's clock (a check's last run, or the
/// last run's end): the clock went back, and this run does not wait for those times. Says
/// so in one line.
fn went_back(store: &Store, stamped_ahead: Option<i64>, now: i64) -> rusqlite::Result<bool> {
    let last_run = store
        .last_run()?
        .map(|r| r.finished_at)
        .filter(|t| crate::core::schedule::ahead(*t, now));
    if let Some(newest) = stamped_ahead.max(last_run) {
        eprintln!(
            "cabot: the clock went back: the state has times up to {} ahead of it ({}); the checks those times held back are run now. Check the system clock (NTP, the RTC).",
            crate::text::duration(Duration::from_secs(newest.saturating_sub(now) as u64)),
            clock::rfc3339(newest)
        );
        return Ok(true);
    }
    Ok(false)
}

/// The peer's document, pulled once a run on a thread of its own beside the checks: a
/// dead peer costs the run one timeout, and holds up no check.
struct PeerPull(Option<std::thread::JoinHandle<Pulled>>);

/// When the peer was asked, what it said, and what the witness said (when there is one).
type Pulled = (
    i64,
    Result<crate::peer::Document, String>,
    Option<Result<bool, String>>,
);

/// What this run does as half of a pair: from what the peer said now, or when it could
/// not be reached, what it said last.
fn pair_now(
    cfg: &Config,
    peer: &crate::config::Peer,
    pulled: Option<&Pulled>,
    now: i64,
) -> crate::peer::Now {
    let kept = || {
        Store::open_read_only(&cfg.state, None)
            .ok()
            .flatten()
            .and_then(|s| s.peer_pull().ok().flatten())
    };
    let Some((at, said, witness)) = pulled else {
        return crate::peer::Now::default();
    };
    let kept = kept();
    let (witness_at, witness_running) = match witness {
        Some(Ok(running)) => (Some(*at), Some(*running)),
        _ => (
            kept.as_ref().and_then(|k| k.witness_at),
            kept.as_ref().and_then(|k| k.witness_running),
        ),
    };
    let pull = match said {
        Ok(doc) => crate::store::peer::PeerPull {
            tried_at: *at,
            pulled_at: Some(*at),
            document: Some(doc.clone()),
            problem: None,
            witness_at,
            witness_running,
        },
        Err(why) => crate::store::peer::PeerPull {
            tried_at: *at,
            pulled_at: kept.as_ref().and_then(|k| k.pulled_at),
            document: kept.and_then(|k| k.document),
            problem: Some(why.clone()),
            witness_at,
            witness_running,
        },
    };
    crate::peer::Now::of(peer, &pull, now)
}

impl PeerPull {
    fn start(cfg: &Config, now: i64) -> PeerPull {
        let Some(peer) = cfg.peer.clone() else {
            return PeerPull(None);
        };
        let spawned = std::thread::Builder::new()
            .name("peer".into())
            .spawn(move || {
                let said = crate::peer::pull(&peer, now);
                let witness = peer.witness.as_deref().map(crate::peer::ask_witness);
                (now, said, witness)
            });
        PeerPull(spawned.ok())
    }

    /// When it was tried, and what came of it.
    fn finish(self) -> Option<Pulled> {
        self.0.and_then(|h| h.join().ok())
    }
}

/// Runs the network checks at once, each within its timeout (a check that overruns it
/// counts as failed): whether every one failed; `None` without network checks.
fn network_is_down(cfg: &Arc<Config>) -> Option<bool> {
    if cfg.network_checks.is_empty() {
        return None;
    }
    let (sender, results) = std::sync::mpsc::channel();
    let now = clock::now();
    for i in 0..cfg.network_checks.len() {
        let (cfg, sender) = (Arc::clone(cfg), sender.clone());
        std::thread::spawn(move || {
            let context = crate::checks::Context {
                http: &crate::http_client::Client::new(),
                memory: &crate::checks::CheckMemory::default(),
                now,
            };
            let result = crate::checks::run(&cfg.network_checks[i], None, &context);
            let _ = sender.send(result.ok);
        });
    }
    drop(sender);
    let longest = cfg
        .network_checks
        .iter()
        .map(|c| c.timeout)
        .max()
        .unwrap_or_default();
    let deadline = Instant::now() + longest + crate::core::schedule::GRACE;
    let mut passed = false;
    for _ in 0..cfg.network_checks.len() {
        match results.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            Ok(ok) => passed |= ok,
            Err(_) => break,
        }
        if passed {
            break;
        }
    }
    Some(!passed)
}

/// How a run that got as far as its checks ended.
struct Done {
    code: ExitCode,
    /// An alert this run owed is still waiting after a failed try, or was given up.
    owed_undelivered: bool,
}

fn run_scoped(
    g: &Global,
    args: &Args,
    cfg: &Arc<Config>,
    scope: &Scope,
    (calendars, pulled): (CalendarReads, Option<Pulled>),
) -> anyhow::Result<Done> {
    let _hold = lock::shared(&cfg.state, args.wait.unwrap_or(MIGRATE_WAIT))?;
    let mut store = Store::open(&cfg.state, Some(&g.config))?;
    let clock_started = Instant::now();
    let started_at = clock::now();
    let id = run_id(started_at);
    let fail = |what: &'static str| {
        let path = cfg.state.clone();
        move |e| store::failure(&path, what, e)
    };
    // Acks, silences and overrides made on the peer hold here too.
    if let Some((_, Ok(doc), _)) = &pulled {
        store
            .merge_from_peer(doc)
            .map_err(fail("taking the peer's acks, silences and overrides"))?;
    }
    // Once that the peer is down, once that it is back.
    let peer_said = match &cfg.peer {
        Some(_) if !args.no_alerts => store
            .peer_down_or_back(
                cfg.pair.peer_down.as_ref().map(|(n, at)| (n.as_str(), *at)),
                |name, down, since| {
                    let kind = match down {
                        true => crate::alerts::alert::AlertKind::Alert,
                        false => crate::alerts::alert::AlertKind::Recovery,
                    };
                    crate::alerts::decide::peer_alert(cfg, name, kind, since, started_at)
                },
            )
            .map_err(fail("saying the peer is down or back"))?,
        _ => false,
    };
    // cabot's own network: when every network check fails, this run's failures say
    // nothing of the services. Once it is back, one alert says how long it was down.
    let network_down = network_is_down(cfg);
    let network_said = match network_down {
        None => false,
        Some(down) => store
            .immediate(|tx| {
                state::network_down_or_back(tx, down, started_at, |since, inconclusive| {
                    (!args.no_alerts).then(|| {
                        crate::alerts::decide::network_alert(cfg, since, inconclusive, started_at)
                    })
                })
            })
            .map_err(fail("noting whether cabot's network is down"))?,
    };
    let network_down = network_down == Some(true);
    // What the status page's readers are told by `status.announce`'s channels.
    let announced = match args.no_alerts || cfg.status.announce.is_empty() {
        true => false,
        false => store
            .immediate(|tx| crate::store::posts::announce(tx, cfg, started_at))
            .map_err(fail("announcing incident posts and maintenance"))?,
    };

    let plan = store
        .immediate(|tx| {
            plan::plan(
                tx,
                cfg,
                scope,
                &plan::Run {
                    id: &id,
                    all: args.all,
                    alerts: !args.no_alerts,
                    jobs: args.jobs as usize,
                    now: started_at,
                },
            )
        })
        .map_err(fail("planning the run"))?;
    if went_back(&store, plan.stamped_ahead, started_at).map_err(fail("reading the last run"))? {
        store
            .forget_pauses_ahead(started_at)
            .map_err(fail("forgetting pauses set on a clock ahead"))?;
    }
    // What the peer delivered is not delivered again (a standby's held alerts, or a
    // returning primary's owed ones).
    store
        .supersede_delivered_by_peer(
            &cfg.pair.delivered,
            &RepeatIntervals::of(&cfg.alerting),
            started_at,
        )
        .map_err(fail("marking what the peer delivered"))?;
    let mut delivery = Delivery {
        cfg,
        run: &id,
        // A standby holds its alerts while its primary is fresh.
        enabled: !args.no_alerts && !cfg.pair.hold,
        thread: None,
        failed: Arc::default(),
    };
    let due = store
        .has_due_deliveries(clock::now())
        .map_err(fail("reading the outbox"))?;
    if plan.alerted || due || peer_said || network_said || announced {
        delivery.wake()?;
    }
    let mut run = Running {
        g,
        id: &id,
        cfg,
        alerts: !args.no_alerts,
        jobs: args.jobs as usize,
        delivery,
        progress: progress_bar(g, plan.due.len() + plan.held.len()),
        left: HashMap::new(),
        ran: Vec::new(),
        previous: plan.previous.clone(),
        scope,
        look_again: plan.next_due,
        deferred: plan.deferred.clone(),
        network_down,
        memory: Arc::new(CheckMemory::new(
            store
                .check_memory()
                .map_err(fail("reading what the checks remember"))?,
        )),
    };
    let held = plan.held.clone();
    let leased = !plan.due.is_empty() || !held.is_empty();
    let outcome = run
        .run(&mut store, plan.due)
        .and_then(|()| run.wait_for_held(&mut store, held, &id));
    if let Some(bar) = &run.progress {
        bar.finish_and_clear();
    }
    // Whatever happened, the checks this run still holds go back...
    let released = match leased {
        true => store
            .immediate(|tx| state::release_checks(tx, &id))
            .map_err(fail("giving back the run's leases")),
        false => Ok(()),
    };
    let ran = std::mem::take(&mut run.ran);
    let delivery = run.delivery;
    let failed = Arc::clone(&delivery.failed);
    // ...and its deliveries once the delivering thread has stopped sending.
    let (delivered, sent) = delivery.finish(&store);
    let released_deliveries = match sent {
        true => store
            .immediate(|tx| state::release_deliveries(tx, &id))
            .map_err(fail("giving back the run's leases")),
        false => Ok(()),
    };
    // The calendars were read beside the checks (each within its timeout): keep what
    // was read, and say what could not be.
    let tried = calendars.finish();
    for attempt in &tried {
        store
            .save_calendar(attempt)
            .map_err(fail("keeping a copy of a calendar"))?;
    }
    say_unread_calendars(cfg, &tried);
    store
        .remember(&run.memory.changed(), started_at)
        .map_err(fail("keeping what the checks remember"))?;
    if let Some((at, pulled, witness)) = &pulled {
        store
            .save_peer_pull(*at, pulled, witness.as_ref())
            .map_err(fail("keeping what the peer said"))?;
        // The alerts this run decided and held, that the peer delivered already.
        store
            .supersede_delivered_by_peer(
                &cfg.pair.delivered,
                &RepeatIntervals::of(&cfg.alerting),
                started_at,
            )
            .map_err(fail("marking what the peer delivered"))?;
    }
    outcome?;
    released?;
    delivered?;
    released_deliveries?;
    let owed_undelivered = failed.load(Ordering::SeqCst)
        || (cfg.heartbeat_url.is_some()
            && store
                .has_failed_deliveries()
                .map_err(fail("reading the outbox"))?);
    finish(cfg, &mut store, started_at, &ran)?;
    if let Some(publish) = &cfg.status.publish {
        publish_site(cfg, publish, &mut store)?;
    }
    if !g.quiet && (std::io::stderr().is_terminal() || g.verbose) {
        let services = store.services().map_err(fail("reading services"))?;
        let services = services.into_vec();
        eprintln!("{}", summary(&ran, &services, clock_started.elapsed()));
    }
    let code = match args.fail_on {
        None => ExitCode::Ok,
        Some(threshold) => fail_on_code(&ran, threshold.importance()),
    };
    Ok(Done {
        code,
        owed_undelivered,
    })
}

/// Writes the static status site and runs its command, when there is news or the copy
/// is getting old; a failure is said on stderr (cron mails it) and tried again next run.
fn publish_site(
    cfg: &Config,
    publish: &crate::config::Publish,
    store: &mut Store,
) -> anyhow::Result<()> {
    use crate::server::publish::{self, MEMORY_KEY, Outcome};
    let fail = |e| crate::store::failure(&cfg.state, "keeping the publication", e);
    let last = store
        .check_memory()
        .map_err(fail)?
        .get(MEMORY_KEY)
        .and_then(|v| serde_json::from_str(v).ok());
    let now = clock::now();
    let (outcome, kept) = publish::after_run(cfg, publish, last, now);
    if let Some(kept) = kept {
        let value = serde_json::to_string(&kept).unwrap_or_default();
        store
            .remember(&[(MEMORY_KEY.to_string(), value)], now)
            .map_err(fail)?;
    }
    if let Outcome::Failed(why) = outcome {
        eprintln!("cabot: status.publish: {why}");
    }
    Ok(())
}

/// glibc gives threads up to eight malloc arenas per core, and a thousand workers spread
/// their buffers over all of them: two arenas hold the same for 3 MB less at `--jobs 1000`,
/// with no time lost that the benchmark can see.
fn few_malloc_arenas() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tunable of glibc's allocator, before any thread starts.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
    }
}

/// What the runner needs of each check to run.
fn jobs_of(due: &[Due]) -> Vec<Job> {
    due.iter()
        .map(|d| Job {
            service: d.service,
            check: d.check,
            last_run: d.last_run,
        })
        .collect()
}

/// The moment Unix time `at` comes, on the monotonic clock (now, when it has passed).
fn instant_of(at: i64) -> Instant {
    let wait = u64::try_from(at.saturating_sub(clock::now())).unwrap_or(0);
    Instant::now() + Duration::from_secs(wait)
}

/// A name for this run in the leases it takes: unique among the runs alive at once.
fn run_id(started_at: i64) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    crate::core::schedule::run_id(started_at, std::process::id(), nanos)
}

/// A run in progress: what it has left per service, and what it ran.
struct Running<'a> {
    g: &'a Global,
    /// This run's name in the leases it takes.
    id: &'a str,
    cfg: &'a Arc<Config>,
    alerts: bool,
    jobs: usize,
    delivery: Delivery<'a>,
    progress: Option<ProgressBar>,
    /// Per service (config index): checks of this run not finished yet.
    left: HashMap<usize, usize>,
    ran: Vec<Ran>,
    previous: HashMap<String, Status>,
    scope: &'a Scope<'a>,
    /// When to look for checks that came due while slow ones still run (Unix seconds).
    look_again: Option<i64>,
    /// Services whose alerts wait for a calendar being read, and are decided once it is
    /// (or its timeout passed): only they wait for it.
    deferred: Vec<usize>,
    /// Every network check failed at the run's start.
    network_down: bool,
    /// What the checks remember between runs; what they changed is kept as the run ends.
    memory: Arc<CheckMemory>,
}

impl Running<'_> {
    fn check(&self, d: &Due) -> &Check {
        &self.cfg.services[d.service].checks[d.check]
    }

    /// Runs `due` (leased to this run): heartbeats are judged from their pings at once,
    /// the others run on the workers; results are written as they arrive, at most
    /// `BATCH_WINDOW` apart, a batch in each write.
    fn run(&mut self, store: &mut Store, due: Vec<Due>) -> anyhow::Result<()> {
        for d in &due {
            *self.left.entry(d.service).or_default() += 1;
        }
        let (passive, active): (Vec<Due>, Vec<Due>) = due
            .into_iter()
            .partition(|d| self.check(d).kind.is_passive());
        let mut batch: Vec<(Due, Finished)> = Vec::new();
        for d in passive {
            let judged = self.judge_heartbeat(store, &d)?;
            batch.push((d, judged));
        }
        let mut active = active;
        let mut runner = Runner::start(
            Arc::clone(self.cfg),
            jobs_of(&active),
            self.jobs,
            Arc::clone(&self.memory),
        );
        // A result after a quiet spell is written at once; results that come thick and
        // fast wait for the next write, at most `BATCH_WINDOW` after the one before.
        let mut last_write: Option<Instant> = None;
        loop {
            let next_write = last_write.map_or_else(Instant::now, |t| t + BATCH_WINDOW);
            let look_again = self.look_again.map(instant_of);
            let wait_until = [
                (!batch.is_empty()).then_some(next_write),
                look_again,
                self.calendars_settle_at(),
            ]
            .into_iter()
            .flatten()
            .min();
            if let Some(f) = runner.next(wait_until) {
                self.show(&active[f.index], &f.result);
                let frequency = self.check(&active[f.index]).frequency;
                let again = schedule::comes_due(Some(f.started_at), frequency, f.started_at);
                self.look_again = plan::earliest(self.look_again, again);
                batch.push((active[f.index].clone(), f));
            }
            let due = Instant::now() >= next_write || runner.is_done();
            if !batch.is_empty() && due {
                self.write(store, std::mem::take(&mut batch))?;
                last_write = Some(Instant::now());
            }
            self.decide_deferred(store, runner.is_done() && batch.is_empty())?;
            let looking = self.look_again.is_some_and(|t| t <= clock::now());
            if looking && !runner.is_done() {
                for d in self.take_more(store, &runner)? {
                    if self.check(&d).kind.is_passive() {
                        let judged = self.judge_heartbeat(store, &d)?;
                        batch.push((d, judged));
                    } else {
                        runner.add(jobs_of(std::slice::from_ref(&d)));
                        active.push(d);
                    }
                }
            }
            if runner.is_done() && batch.is_empty() {
                return Ok(());
            }
        }
    }

    /// When the first calendar that a deferred service waits for is read or times out.
    /// Whether a service's decision waits for checks of a service it depends on that this
    /// run has not finished yet: a dependency failing in this run holds its alerts.
    fn waits_on_dependency(&self, si: usize) -> bool {
        let cfg = self.cfg;
        !cfg.services[si].depends_on.is_empty()
            && cfg.dependencies_of(&cfg.services[si].name).iter().any(|d| {
                cfg.position_of(d)
                    .and_then(|di| self.left.get(&di))
                    .is_some_and(|&left| left > 0)
            })
    }

    fn calendars_settle_at(&self) -> Option<Instant> {
        self.deferred
            .iter()
            .filter_map(|&si| self.cfg.services[si].calendars_settle_at(self.cfg))
            .min()
    }

    /// Decides the deferred services whose calendars are read (or timed out); with
    /// `all`, waits for the rest first (each at most its calendar's timeout).
    fn decide_deferred(&mut self, store: &mut Store, all: bool) -> anyhow::Result<()> {
        if self.deferred.is_empty() {
            return Ok(());
        }
        if all {
            for &si in &self.deferred {
                for read in self.cfg.services[si].calendars(self.cfg) {
                    read.shifts();
                }
            }
        }
        let (ready, waiting): (Vec<usize>, Vec<usize>) = std::mem::take(&mut self.deferred)
            .into_iter()
            .partition(|&si| {
                self.cfg.services[si]
                    .calendars_settle_at(self.cfg)
                    .is_none()
                    && (all || !self.waits_on_dependency(si))
            });
        self.deferred = waiting;
        if !ready.is_empty() {
            self.decide(store, Vec::new(), ready)?;
        }
        Ok(())
    }

    /// While slow checks still run: leases the checks that came due meanwhile and can
    /// finish before the slowest of them (see `plan::more`), and counts them in.
    fn take_more(&mut self, store: &mut Store, runner: &Runner) -> anyhow::Result<Vec<Due>> {
        let now = clock::now();
        self.look_again = Some(now + LOOK_AGAIN);
        let Some(deadline) = runner.last_deadline().filter(|_| !runner.has_queued()) else {
            return Ok(Vec::new());
        };
        let until = now + deadline.saturating_duration_since(Instant::now()).as_secs() as i64;
        let run = plan::Run {
            id: self.id,
            all: false,
            alerts: self.alerts,
            jobs: self.jobs,
            now,
        };
        let (due, next) = store
            .immediate(|tx| plan::more(tx, self.cfg, self.scope, &run, until))
            .map_err(|e| store::failure(&self.cfg.state, "leasing checks", e))?;
        self.look_again = plan::earliest(next, Some(now + LOOK_AGAIN));
        if due.is_empty() {
            return Ok(due);
        }
        if self.g.verbose {
            eprintln!(
                "cabot: {} came due while slow checks still run; starting {} in this run",
                crate::text::count(due.len(), "check"),
                if due.len() == 1 { "it" } else { "them" }
            );
        }
        for d in &due {
            *self.left.entry(d.service).or_default() += 1;
        }
        if let Some(bar) = &self.progress {
            bar.inc_length(due.len() as u64);
        }
        Ok(due)
    }

    /// With `--all`, the checks another live run holds: waits until it gives them back
    /// (or its leases lapse), then runs them here. Says so, since it can take a while.
    fn wait_for_held(&mut self, store: &mut Store, held: Vec<Due>, id: &str) -> anyhow::Result<()> {
        if held.is_empty() {
            return Ok(());
        }
        if !self.g.quiet {
            let names: Vec<String> = held
                .iter()
                .map(|d| {
                    format!(
                        "{}/{}",
                        self.cfg.services[d.service].name,
                        self.check(d).name
                    )
                })
                .collect();
            eprintln!(
                "cabot: another run is running {}; waiting for it to finish, then running {} here",
                names.join(", "),
                if held.len() == 1 { "it" } else { "them" }
            );
        }
        let mut waiting = held;
        while !waiting.is_empty() {
            let now = clock::now();
            let jobs = self.jobs;
            let taken = store
                .immediate(|tx| {
                    let mut taken = Vec::new();
                    let mut position = 0;
                    for d in &waiting {
                        let Some(clock) = state::clock(tx, d.id)? else {
                            continue;
                        };
                        if crate::core::schedule::is_free(
                            clock.claim_until,
                            clock.claimed_by.as_deref(),
                            now,
                        ) {
                            let check = &self.cfg.services[d.service].checks[d.check];
                            let until = crate::core::schedule::lease_until(
                                now,
                                position,
                                jobs,
                                check.worst_case(),
                                check.worst_case(),
                            );
                            state::lease(tx, d.id, id, until)?;
                            position += 1;
                            taken.push(Due {
                                last_run: clock.last_run_at,
                                added: clock.added_at,
                                ..d.clone()
                            });
                        }
                    }
                    Ok(taken)
                })
                .map_err(|e| store::failure(&self.cfg.state, "leasing checks", e))?;
            waiting.retain(|d| !taken.iter().any(|t| t.id == d.id));
            if !taken.is_empty() {
                self.run(store, taken)?;
            } else {
                std::thread::sleep(HELD_POLL);
            }
        }
        Ok(())
    }

    /// A heartbeat's result: judged from its last ping, now.
    fn judge_heartbeat(&self, store: &Store, d: &Due) -> anyhow::Result<Finished> {
        let service = &self.cfg.services[d.service].name;
        let check = self.check(d);
        let now = clock::now();
        let result = match &check.kind {
            CheckKind::Heartbeat(hb) => {
                let last = state::last_ping(store.connection(), service, &check.name)
                    .map_err(|e| store::failure(&self.cfg.state, "reading pings", e))?;
                heartbeat::judge(hb, last.as_ref(), d.added.unwrap_or(now), now)
            }
            _ => CheckResult::fail("not a passive check", Duration::ZERO),
        };
        self.show(d, &result);
        Ok(Finished {
            index: 0,
            started_at: now,
            result,
        })
    }

    /// Writes a batch of results in one transaction, with the alerts of the services whose
    /// checks in this run are now all done, and wakes the deliverer for them.
    fn write(&mut self, store: &mut Store, batch: Vec<(Due, Finished)>) -> anyhow::Result<()> {
        let mut done: Vec<usize> = Vec::new();
        for (d, f) in &batch {
            let check = self.check(d);
            self.ran.push(Ran {
                ok: f.result.ok,
                importance: f
                    .result
                    .importance
                    .map_or(check.importance, |i| i.min(check.importance)),
            });
            if let Some(left) = self.left.get_mut(&d.service) {
                *left -= 1;
                if *left == 0 {
                    done.push(d.service);
                }
            }
        }
        // A service whose alerts wait for a calendar being read is decided once it is, and
        // one that depends on a service whose checks still run, once they are done.
        let (done, waiting): (Vec<usize>, Vec<usize>) = done.into_iter().partition(|&si| {
            self.cfg.services[si]
                .calendars_settle_at(self.cfg)
                .is_none()
                && !self.waits_on_dependency(si)
        });
        self.deferred.extend(waiting);
        self.decide(store, batch, done)
    }

    /// Writes `batch` and decides the services in `done` in one transaction, and wakes the
    /// deliverer for their alerts.
    fn decide(
        &mut self,
        store: &mut Store,
        batch: Vec<(Due, Finished)>,
        done: Vec<usize>,
    ) -> anyhow::Result<()> {
        let now = clock::now();
        let (alerted, decided) = store
            .immediate(|tx| {
                let alerted = record::record(
                    tx,
                    &record::Recorder {
                        cfg: self.cfg,
                        run: self.id,
                        previous: &self.previous,
                        alerts: self.alerts,
                        network_down: self.network_down,
                    },
                    &batch,
                    &done,
                    now,
                )?;
                // A service decided again later in this run (a check that came due while
                // slow ones ran) is judged against where it stands now.
                let mut decided = Vec::new();
                for &si in &done {
                    if let Some(row) = state::service(tx, &self.cfg.services[si].name)? {
                        decided.push((row.name, row.status));
                    }
                }
                Ok((alerted, decided))
            })
            .map_err(|e| store::failure(&self.cfg.state, "saving results", e))?;
        self.previous.extend(decided);
        if alerted {
            self.delivery.wake()?;
        }
        Ok(())
    }

    /// The progress bar, and with `--verbose` a line per result.
    fn show(&self, d: &Due, result: &CheckResult) {
        let check = self.check(d);
        let service = &self.cfg.services[d.service].name;
        if let Some(bar) = &self.progress {
            bar.inc(1);
            bar.set_message(format!("{service}/{}", check.name));
        }
        if self.g.verbose {
            let line = format!(
                "{} {service}/{} ({} ms): {}",
                if result.ok { "ok  " } else { "FAIL" },
                check.name,
                result.duration.as_millis(),
                result.message
            );
            match &self.progress {
                Some(bar) => bar.println(line),
                None => eprintln!("{line}"),
            }
        }
    }
}

/// The delivering thread of a run, started when there is something to deliver.
struct Delivery<'a> {
    cfg: &'a Arc<Config>,
    run: &'a str,
    /// False with `--no-alerts`.
    enabled: bool,
    thread: Option<Deliverer>,
    /// Set when a delivery of this run failed or was given up.
    failed: Arc<AtomicBool>,
}

impl Delivery<'_> {
    /// Alerts are in the outbox: deliver them now.
    fn wake(&mut self) -> anyhow::Result<()> {
        if !self.enabled {
            return Ok(());
        }
        if self.thread.is_none() {
            self.thread = Some(self.start()?);
        }
        if let Some(d) = &self.thread {
            d.written();
        }
        Ok(())
    }

    fn start(&self) -> anyhow::Result<Deliverer> {
        let failed = Arc::clone(&self.failed);
        Deliverer::start(
            Arc::clone(self.cfg),
            &self.cfg.state,
            self.run.to_string(),
            move |reports| {
                if reports
                    .iter()
                    .any(|r| !matches!(r.result, DeliveryResult::Delivered { .. }))
                {
                    failed.store(true, Ordering::SeqCst);
                }
                // Even with --quiet (cron's and the timer's flag): an alert that did not
                // reach anyone needs a person.
                report_deliveries(reports);
            },
        )
    }

    /// Delivers what is due one last time (retries that fell due during the run too) and
    /// waits for it; also whether anything was delivered (and leased) at all.
    fn finish(mut self, store: &Store) -> (anyhow::Result<()>, bool) {
        if !self.enabled {
            return (Ok(()), false);
        }
        if self.thread.is_none() {
            let due = store
                .has_due_deliveries(clock::now())
                .map_err(|e| store::failure(&self.cfg.state, "reading the outbox", e));
            match due.and_then(|due| due.then(|| self.start()).transpose()) {
                Ok(thread) => self.thread = thread,
                Err(e) => return (Err(e), false),
            }
        }
        match self.thread.take() {
            Some(thread) => (thread.finish(), true),
            None => (Ok(()), false),
        }
    }
}

/// Records the run as completed and prunes old history.
fn finish(cfg: &Config, store: &mut Store, started_at: i64, ran: &[Ran]) -> anyhow::Result<()> {
    let finished_at = clock::now();
    // A clock that jumped more than a day past the newest run is not believed on its own
    // word: pruning waits for a second run to agree (the clock may be a resumed VM's or a
    // wrong one at boot, and what it would delete is history).
    let newest = store
        .last_run()
        .map_err(|e| store::failure(&cfg.state, "reading the last run", e))?;
    let believed = newest.is_none_or(|r| finished_at <= r.finished_at.saturating_add(PRUNE_LEAP));
    store
        .record_run(RunRow {
            started_at,
            finished_at,
            checks_run: ran.len() as i64,
            failures: ran.iter().filter(|r| !r.ok).count() as i64,
        })
        .map_err(|e| store::failure(&cfg.state, "recording the run", e))?;
    if believed {
        let cutoff = finished_at - cfg.retention.as_secs() as i64;
        store
            .prune(cutoff, PRUNE_BATCH, PRUNE_MAX_BATCHES)
            .map_err(|e| store::failure(&cfg.state, "pruning old results", e))?;
    }
    store
        .checkpoint()
        .map_err(|e| store::failure(&cfg.state, "checkpointing the write-ahead log", e))?;
    Ok(())
}

/// `--fail-on`: the worst importance at which a check run now failed, if at `threshold` or above.
fn fail_on_code(ran: &[Ran], threshold: Importance) -> ExitCode {
    let worst = ran.iter().filter(|r| !r.ok).map(|r| r.importance).max();
    match worst {
        Some(i) if i >= threshold => ExitCode::from(Status::from_importance(i)),
        _ => ExitCode::Ok,
    }
}

/// Under cron, a delivery that failed is news: print one line each, so cron's mail carries it.
pub(crate) fn report_deliveries(outcomes: &[DeliveryReport]) {
    for o in outcomes {
        let d = &o.delivery;
        let to = if d.recipient.is_empty() {
            d.channel.clone()
        } else {
            format!("{} ({})", d.channel, d.recipient)
        };
        let service = d.alert.as_ref().map_or("?", |a| a.service.as_str());
        match &o.result {
            DeliveryResult::Delivered { .. } => {}
            DeliveryResult::Failed {
                error,
                next_attempt_at,
                ..
            } => eprintln!(
                "cabot: alert {} for {service} not delivered to {to}, will retry at {}: {error}",
                d.alert_id,
                clock::rfc3339(*next_attempt_at),
            ),
            DeliveryResult::Waiting { error, until } => eprintln!(
                "cabot: alert {} for {service} not delivered to {to}: rate limited, \
                 nothing more goes there before {}: {error}",
                d.alert_id,
                clock::rfc3339(*until),
            ),
            DeliveryResult::GivenUp { error } => eprintln!(
                "cabot: gave up on alert {} for {service} to {to}: {error}",
                d.alert_id,
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

fn summary(ran: &[Ran], services: &[ServiceRow], took: Duration) -> String {
    let failed = ran.iter().filter(|r| !r.ok).count();
    let mut line = format!(
        "{} run in {:.1}s, {failed} failed",
        crate::text::count(ran.len(), "check"),
        took.as_secs_f64()
    );
    let unhappy: Vec<String> = services
        .iter()
        .filter(|s| s.active && s.status != Status::Passing)
        .map(|s| format!("{} {}", s.name, s.status))
        .collect();
    if unhappy.is_empty() {
        let active = services.iter().filter(|s| s.active).count();
        line.push_str(&match active {
            1 => "; the service is PASSING".to_string(),
            n => format!("; all {n} services PASSING"),
        });
    } else {
        line.push_str(&format!("; {}", unhappy.join(", ")));
    }
    line
}
