//! Crash safety end to end: `cabot run`s, two at a time and overlapping, killed with SIGKILL
//! at random moments while services flip between passing and failing and the alert
//! receiver is slow or refuses. Afterwards
//! every decided alert was delivered, none more often than the at-least-once window allows,
//! and the state database is intact. Time is set with CABOT_NOW; the randomness is a seeded
//! PRNG (override with CABOT_CRASH_SEED=N to replay or explore).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::process::{Child, Output, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cabot::testing::Rng;

use crate::support::*;
use std::os::unix::process::ExitStatusExt;

const SEED: u64 = 0x00ca_b07c_4a55_1234;

/// Rounds of two overlapping runs with random kills; the whole test stays well under a
/// minute in a debug build.
const ITERATIONS: usize = 120;

/// The second run of a round starts up to this long after the first.
const MAX_OVERLAP_DELAY_MS: u64 = 20;

/// Percent of runs that get a SIGKILL (the rest are left to finish).
const KILL_PERCENT: u64 = 80;

/// A kill lands at most this many milliseconds after the spawn until runs have been timed;
/// after that, at most as long as the quickest quarter of the runs that were left to finish
/// took, so that most kills land while cabot runs in a debug build and a release build alike.
const FIRST_MAX_KILL_DELAY_MS: u64 = 40;

/// The receiver takes up to this long to answer, so kills land mid-delivery too.
const MAX_RECEIVER_DELAY_MS: u64 = 50;

/// Percent of deliveries the receiver refuses (503) during the storm, to exercise retries.
const REFUSE_PERCENT: u64 = 10;

/// Runs after the storm, an hour apart, with a healthy receiver: backoff caps at 30 min,
/// so every pending delivery is due in each of them.
const FLUSH_RUNS: usize = 4;

/// How long after a receiver's answer cabot may still be writing it down.
const ANSWER_GRACE: Duration = Duration::from_millis(20);

/// Each service's one check, and its importance.
const SERVICES: [(&str, &str); 3] = [("web", "critical"), ("api", "error"), ("batch", "warning")];

/// The variable the webhook's URL is read from; each run gets its own path, `/hook/RUN`,
/// so the receiver knows which run sent what even when it reads a request late.
const HOOK_VAR: &str = "CRASH_HOOK_URL";

fn seed() -> u64 {
    std::env::var("CABOT_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(SEED)
}

/// One alert POST the receiver read in full.
#[derive(Debug, Clone, Copy)]
struct Receipt {
    /// The run that sent it (from the URL path).
    run: usize,
    /// The alert's row id (from the JSON).
    alert: i64,
    /// The receiver answered 200 (or would have, had the sender lived to read it).
    accepted: bool,
    /// When the receiver's answer went out.
    answered_at: Instant,
}

/// The webhook's far end: records every alert it reads, answers slowly, sometimes refuses.
struct Receiver {
    server: HttpServer,
    receipts: Arc<Mutex<Vec<Receipt>>>,
    /// Requests whose body was not an alert (a torn write would show up here).
    torn: Arc<Mutex<Vec<String>>>,
    refusing: Arc<AtomicBool>,
}

impl Receiver {
    fn start(seed: u64) -> Receiver {
        let receipts = Arc::new(Mutex::new(Vec::new()));
        let torn = Arc::new(Mutex::new(Vec::new()));
        let refusing = Arc::new(AtomicBool::new(true));
        let rng = Mutex::new(Rng(seed));
        let (r, t, f) = (receipts.clone(), torn.clone(), refusing.clone());
        let server = HttpServer::start(move |seen| {
            let run = seen
                .url
                .strip_prefix("/hook/")
                .and_then(|n| n.parse::<usize>().ok());
            let alert = serde_json::from_str::<serde_json::Value>(&seen.body)
                .ok()
                .and_then(|v| v["id"].as_i64());
            let (Some(run), Some(alert)) = (run, alert) else {
                t.lock()
                    .expect("torn")
                    .push(format!("{} {}", seen.url, seen.body));
                return Reply::new(400, "not an alert");
            };
            let (delay, refuse) = {
                let mut rng = rng.lock().expect("rng");
                (
                    rng.between(0, MAX_RECEIVER_DELAY_MS),
                    f.load(Ordering::SeqCst) && rng.percent(REFUSE_PERCENT),
                )
            };
            r.lock().expect("receipts").push(Receipt {
                run,
                alert,
                accepted: !refuse,
                answered_at: Instant::now() + Duration::from_millis(delay),
            });
            let reply = if refuse {
                Reply::new(503, "busy")
            } else {
                Reply::new(200, "ok")
            };
            reply.after(Duration::from_millis(delay))
        });
        Receiver {
            server,
            receipts,
            torn,
            refusing,
        }
    }

    fn url(&self, run: usize) -> String {
        self.server.url(&format!("/hook/{run}"))
    }

    fn receipts(&self) -> Vec<Receipt> {
        self.receipts.lock().expect("receipts").clone()
    }
}

/// The checks' target: `/NAME` answers 200 or 500 as the test says.
struct Targets {
    server: HttpServer,
    up: Arc<Vec<AtomicBool>>,
}

impl Targets {
    fn start() -> Targets {
        let up: Arc<Vec<AtomicBool>> =
            Arc::new(SERVICES.iter().map(|_| AtomicBool::new(true)).collect());
        let flags = up.clone();
        let server = HttpServer::start(move |seen| {
            let i = SERVICES
                .iter()
                .position(|(name, _)| seen.url == format!("/{name}"));
            match i {
                Some(i) if flags[i].load(Ordering::SeqCst) => Reply::new(200, "ok"),
                _ => Reply::new(500, "down"),
            }
        });
        Targets { server, up }
    }

    fn flip(&self, i: usize) {
        self.up[i].fetch_xor(true, Ordering::SeqCst);
    }

    fn set_all(&self, up: bool) {
        for flag in self.up.iter() {
            flag.store(up, Ordering::SeqCst);
        }
    }
}

fn config(targets: &Targets) -> String {
    let mut text = format!(
        "alerting: {{ give_up_after: 30d }}
channels:
  hook: {{ type: webhook, url_env: {HOOK_VAR} }}
services:
"
    );
    for (name, importance) in SERVICES {
        text.push_str(&format!(
            "  - name: {name}
    channels: [hook]
    checks:
      - {{ name: up, type: http, url: '{url}', importance: {importance}, timeout: 5s }}
",
            url = targets.server.url(&format!("/{name}")),
        ));
    }
    text
}

fn spawn_run(env: &Env, receiver: &Receiver, run: usize, now: i64) -> Child {
    env.command(&["run"])
        .env("CABOT_NOW", now.to_string())
        .env(HOOK_VAR, receiver.url(run))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn cabot run")
}

fn describe(out: &Output) -> String {
    format!(
        "{}\n--- stdout\n{}--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Runs to the end; it must complete (exit 0) whatever the runs before it left behind.
fn finish(env: &Env, receiver: &Receiver, run: usize, now: i64) {
    let out = spawn_run(env, receiver, run, now)
        .wait_with_output()
        .expect("wait for cabot");
    assert_eq!(
        out.status.code(),
        Some(0),
        "run {run} after the earlier kills did not complete: {}",
        describe(&out)
    );
}

#[test]
fn runs_killed_at_random_moments_lose_no_alert_and_duplicate_only_in_flight_ones() {
    let seed = seed();
    eprintln!("crash test seed: {seed} (replay with CABOT_CRASH_SEED={seed})");
    let started = Instant::now();
    let mut rng = Rng(seed);
    let receiver = Receiver::start(rng.next_u64());
    let targets = Targets::start();
    let env = Env::new(&config(&targets));

    // The first run creates the state; a kill during that is the next test's business.
    let mut now = T0;
    finish(&env, &receiver, 0, now);

    // Landed kills: run -> when the SIGKILL was sent.
    let mut killed: BTreeMap<usize, Instant> = BTreeMap::new();
    let mut kills_tried = 0;
    // How long each run that was left to finish took, from its spawn to its exit.
    let mut finished_ms: Vec<u64> = Vec::new();
    for round in 1..=ITERATIONS {
        let max_kill_delay = if finished_ms.is_empty() {
            FIRST_MAX_KILL_DELAY_MS
        } else {
            finished_ms.sort_unstable();
            finished_ms[finished_ms.len() / 4].max(1)
        };
        now += rng.between(61, 700) as i64;
        for i in 0..SERVICES.len() {
            if rng.percent(30) {
                targets.flip(i);
            }
        }
        // Two runs at once, as cron gives when one is slow: each may be killed, at its own moment.
        let runs = [2 * round - 1, 2 * round];
        let first = spawn_run(&env, &receiver, runs[0], now);
        let first_at = Instant::now();
        std::thread::sleep(Duration::from_millis(rng.between(0, MAX_OVERLAP_DELAY_MS)));
        let second = spawn_run(&env, &receiver, runs[1], now);
        let second_at = Instant::now();
        let mut children = [
            (runs[0], first, None, first_at),
            (runs[1], second, None, second_at),
        ];
        let delays: Vec<Option<u64>> = (0..2)
            .map(|_| {
                rng.percent(KILL_PERCENT)
                    .then(|| rng.between(0, max_kill_delay))
            })
            .collect();
        let spawned = Instant::now();
        let mut order: Vec<usize> = (0..2).filter(|&i| delays[i].is_some()).collect();
        order.sort_by_key(|&i| delays[i]);
        for i in order {
            kills_tried += 1;
            let wait = Duration::from_millis(delays[i].unwrap_or(0));
            std::thread::sleep(wait.saturating_sub(spawned.elapsed()));
            children[i].2 = Some(Instant::now());
            // SIGKILL; an error only means the child is already gone.
            let _ = children[i].1.kill();
        }
        for (run, child, kill_at, spawned_at) in children {
            let out = child.wait_with_output().expect("wait for cabot");
            match (out.status.signal(), kill_at) {
                (Some(libc::SIGKILL), Some(at)) => {
                    killed.insert(run, at);
                }
                _ => {
                    assert_eq!(
                        out.status.code(),
                        Some(0),
                        "run {run} (seed {seed}) did not complete after {} kills: {}",
                        killed.len(),
                        describe(&out)
                    );
                    if kill_at.is_none() {
                        finished_ms.push(spawned_at.elapsed().as_millis() as u64);
                    }
                }
            }
        }
    }

    // The storm is over: everything passes again and the receiver takes everything.
    targets.set_all(true);
    receiver.refusing.store(false, Ordering::SeqCst);
    for k in 1..=FLUSH_RUNS {
        now += 3600;
        finish(&env, &receiver, 2 * ITERATIONS + k, now);
    }

    let db = env.db();
    let integrity: String = db
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .expect("integrity_check");
    assert_eq!(integrity, "ok", "seed {seed}");
    let orphans: i64 = db
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("foreign_key_check");
    assert_eq!(orphans, 0, "rows pointing at nothing (seed {seed})");

    let alerts: BTreeSet<i64> = {
        let mut stmt = db.prepare("SELECT id FROM alerts").expect("alerts");
        stmt.query_map([], |r| r.get(0))
            .expect("alerts")
            .collect::<Result<_, _>>()
            .expect("alerts")
    };
    assert!(!alerts.is_empty(), "the storm decided no alert at all");
    // (alert, state, channel, kind) of every delivery.
    let deliveries: Vec<(i64, String, String, String)> = {
        let mut stmt = db
            .prepare(
                "SELECT d.alert_id, d.state, d.channel, a.kind FROM deliveries d
                 JOIN alerts a ON a.id = d.alert_id ORDER BY d.id",
            )
            .expect("deliveries");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
            .expect("deliveries")
            .collect::<Result<_, _>>()
            .expect("deliveries")
    };
    let mut per_alert: HashMap<i64, usize> = HashMap::new();
    // A repeat still waiting when a later alert of its incident was decided is not sent:
    // the later one says all it would.
    let mut superseded = BTreeSet::new();
    for (alert, state, channel, kind) in &deliveries {
        *per_alert.entry(*alert).or_default() += 1;
        assert_eq!(channel, "hook");
        if state == "superseded" {
            assert_eq!(kind, "repeat", "alert {alert} (seed {seed})");
            superseded.insert(*alert);
            continue;
        }
        assert_eq!(
            state, "delivered",
            "alert {alert} is still {state} after {FLUSH_RUNS} hourly runs with a healthy receiver (seed {seed})"
        );
    }
    for id in &alerts {
        assert_eq!(
            per_alert.get(id),
            Some(&1),
            "alert {id} must have its one delivery, written with it (seed {seed})"
        );
    }

    let receipts = receiver.receipts();
    let torn = receiver.torn.lock().expect("torn").clone();
    assert!(torn.is_empty(), "requests that were not alerts: {torn:?}");
    let mut by_alert: BTreeMap<i64, Vec<Receipt>> = BTreeMap::new();
    for r in &receipts {
        assert!(
            alerts.contains(&r.alert),
            "the receiver got alert {} that is not in the outbox: {r:?} (seed {seed})",
            r.alert
        );
        by_alert.entry(r.alert).or_default().push(*r);
    }
    let mut lost = Vec::new();
    let mut duplicates = 0;
    let mut most_copies = 0;
    // Duplicates each landed kill caused, by run.
    let mut caused: BTreeMap<usize, usize> = BTreeMap::new();
    // Duplicates whose answer had reached cabot well before the kill: cabot knew and had not
    // written it down yet. Recording each delivery as it completes keeps this near zero.
    let mut answered_long_before_kill = 0;
    for id in &alerts {
        let mut got = by_alert.remove(id).unwrap_or_default();
        got.sort_by_key(|r| r.run);
        if superseded.contains(id) {
            continue;
        }
        if !got.last().is_some_and(|r| r.accepted) {
            lost.push(*id);
            continue;
        }
        for pair in got.windows(2) {
            assert!(
                pair[0].run != pair[1].run,
                "run {} sent alert {id} twice (seed {seed}): {got:?}",
                pair[0].run
            );
        }
        // The window: a kill between the receiver's yes and cabot's record of it. A run that
        // completed recorded every yes it got, so nothing may follow a completed run's yes.
        for r in &got[..got.len() - 1] {
            if !r.accepted {
                continue;
            }
            let Some(kill_at) = killed.get(&r.run) else {
                panic!(
                    "alert {id} was accepted in run {}, which completed, and sent again later \
                     (seed {seed}): {got:?}",
                    r.run
                );
            };
            *caused.entry(r.run).or_default() += 1;
            duplicates += 1;
            if kill_at.saturating_duration_since(r.answered_at) > ANSWER_GRACE {
                answered_long_before_kill += 1;
            }
        }
        most_copies = most_copies.max(got.iter().filter(|r| r.accepted).count());
    }
    assert!(
        lost.is_empty(),
        "alerts marked delivered whose last POST the receiver did not accept (seed {seed}): {lost:?}"
    );
    let worst_kill = caused.values().copied().max().unwrap_or(0);
    let mid_delivery = killed
        .keys()
        .filter(|run| receipts.iter().any(|r| r.run == **run))
        .count();
    let refused = receipts.iter().filter(|r| !r.accepted).count();

    eprintln!(
        "crash test: {} runs, two at a time, {} kills landed, {duplicates} duplicate deliveries, {} lost",
        2 * ITERATIONS,
        killed.len(),
        lost.len()
    );
    eprintln!(
        "  seed {seed}; {kills_tried} kills tried, {mid_delivery} landed mid-delivery; \
         {} alerts, {} POSTs, {refused} refused (503) and retried; at most {most_copies} \
         copies of one alert, at most {worst_kill} duplicates from one kill, \
         {answered_long_before_kill} answered more than {} ms before their kill; {:.1}s",
        alerts.len(),
        receipts.len(),
        ANSWER_GRACE.as_millis(),
        started.elapsed().as_secs_f64()
    );
    assert!(
        killed.len() * 2 >= kills_tried,
        "most kills should land while cabot runs; only {} of {kills_tried} did",
        killed.len()
    );
}

/// Runs on an empty folder, each killed within the first milliseconds: while it creates
/// the state at the newest schema.
const CREATE_ATTEMPTS: usize = 100;

const MAX_CREATE_KILL_DELAY_US: u64 = 8_000;

#[test]
fn a_run_killed_while_creating_the_state_leaves_one_the_next_run_can_use() {
    let seed = seed();
    let mut rng = Rng(seed ^ 0xf4e5);
    let receiver = Receiver::start(rng.next_u64());
    let targets = Targets::start();
    let env = Env::new(&config(&targets));
    let mut now = T0;
    let mut killed = 0;
    for attempt in 0..CREATE_ATTEMPTS {
        for suffix in ["", "-wal", "-shm"] {
            let mut path = env.state().into_os_string();
            path.push(suffix);
            let _ = std::fs::remove_file(path);
        }
        now += 60;
        let mut child = spawn_run(&env, &receiver, 2 * attempt, now);
        std::thread::sleep(Duration::from_micros(
            rng.between(0, MAX_CREATE_KILL_DELAY_US),
        ));
        let _ = child.kill();
        let out = child.wait_with_output().expect("wait for cabot");
        if out.status.signal() == Some(libc::SIGKILL) {
            killed += 1;
        }
        finish(&env, &receiver, 2 * attempt + 1, now + 60);
    }
    eprintln!("state creation: {CREATE_ATTEMPTS} runs, {killed} kills landed, seed {seed}");
}
