//! End-to-end benchmarks of the real `cabot` binary, each against its target:
//!
//! 1. `run --all --jobs 100` of 1,000 http checks against a loopback server that answers
//!    every request after 200 ms: wall time against the ideal, CPU time, peak RSS.
//! 2. `run` with nothing due, at 100, 1,000 and 10,000 checks: what cron pays every
//!    minute when there is nothing to do.
//! 3. `status` with 1,000 stored results against 1,000,000: its cost must not grow with history.
//! 4. `serve-status` answering `/status/` under `wrk` while `cabot run` writes the same
//!    state every second: requests per second, p99 latency, the server's memory.
//! 5. Alert latency: from a fast failing check's answer to the webhook receiving its
//!    alert, while 100 slow (5 s) checks run in the same run.
//! 6. 10,000 http checks at `--jobs 1000`, each answered after 200 ms: wall time against
//!    the ideal, CPU against a minimal client making the same requests, peak RSS.
//!
//! 11. `serve-status` under 4,000 half-sent requests from 40 addresses: the share of a
//!     watcher's probes answered within 1 s (target 95 %).
//! 12. A pair of cabots over 100 rounds of a failure and a mishap of the primary's: alerts
//!     lost (target 0), sent twice outside partitions (target 0), and the failover time.
//!
//! `cargo bench --bench run`. Every scenario prints its numbers and PASS or FAIL; the
//! exit code does not depend on the targets. All traffic stays on 127.0.0.1 and all
//! files in a temp folder.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};

const HTTP_CHECKS: usize = 1_000;
const HTTP_JOBS: usize = 100;
const HTTP_DELAY: Duration = Duration::from_millis(200);
const HTTP_REPEATS: usize = 3;
/// Wall time may be this much above ceil(checks / jobs) * delay.
const WALL_FACTOR: f64 = 1.3;
const RSS_TARGET_MB: f64 = 64.0;

/// (checks, runs, CPU target in ms) of the nothing-due runs.
const IDLE_SIZES: [(usize, usize, f64); 3] = [
    (100, 30, f64::INFINITY),
    (1_000, 20, f64::INFINITY),
    (10_000, 40, 80.0),
];

const LATENCY_SLOW_CHECKS: usize = 100;
const LATENCY_SLOW_DELAY: Duration = Duration::from_secs(5);
const LATENCY_SAMPLES: usize = 5;
const LATENCY_TARGET_MS: f64 = 500.0;

/// How often a running child's peak memory is sampled.
const SAMPLE_MS: u64 = 5;
const BIG_CHECKS: usize = 10_000;
const BIG_JOBS: usize = 1_000;
const BIG_WALL_FACTOR: f64 = 1.5;
const BIG_CPU_FACTOR: f64 = 4.0;

const STATUS_CHECKS: usize = 20;
const STATUS_RUNS: usize = 30;
const STATUS_SMALL: i64 = 1_000;
const STATUS_LARGE: i64 = 1_000_000;
const STATUS_RATIO: f64 = 1.2;

const SCALE_CHECKS: usize = 10_000;
/// The same checks in few large services and in many small ones.
const SCALE_SERVICES: [usize; 3] = [100, 1_000, 5_000];
/// Each command this many times, interleaved (an odd number: the median is a run).
const SCALE_RUNS: usize = 21;
const SCALE_REQUESTS: usize = 20;
/// Issue 23's target with one YAML reader; the shape ratio (issue 15's 1.5x) is reported.
const SCALE_STATUS_CPU_MS: f64 = 150.0;
const SCALE_JSON_MS: f64 = 50.0;

const SERVE_THREADS: usize = 2;
const SERVE_CONNECTIONS: usize = 50;
const SERVE_SECONDS: u64 = 10;
/// The checks that `cabot run` does every second meanwhile, and how long each takes.
const SERVE_CHECKS: usize = 5;
const SERVE_CHECK_DELAY: Duration = Duration::from_millis(20);
const SERVE_TARGET_RPS: f64 = 5_000.0;
const SERVE_TARGET_P99_MS: f64 = 10.0;

fn main() -> anyhow::Result<()> {
    // A thousand connections at once on each side take more descriptors than the usual
    // soft limit of 1,024.
    raise_open_files_limit();
    // The bench runs itself as the minimal client of scenario 6.
    if let Ok(spec) = std::env::var(CLIENT_VAR) {
        return minimal_client(&spec);
    }
    // The pieces of scenario 1 on their own, to measure a run with public tools:
    // `slow-server PORT` serves until stopped; `http-config PORT STATE` prints the config.
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    match args.iter().map(String::as_str).collect::<Vec<_>>()[..] {
        ["slow-server", port] => return slow_server_alone(port.parse()?),
        ["http-config", port, state] => {
            print!(
                "{}",
                scenario_one_config(Path::new(state), |i| {
                    format!("http://127.0.0.1:{port}/{i}")
                })
            );
            return Ok(());
        }
        _ => {}
    }
    let dir = tempfile::tempdir().context("creating a temp folder")?;
    let bench = Bench {
        dir: dir.path().to_path_buf(),
    };
    let server = SlowServer::start(HTTP_DELAY)?;
    println!(
        "cabot benchmarks: {} ({} CPUs)",
        cabot_binary().display(),
        thread::available_parallelism().map_or(0, |n| n.get())
    );
    // Wall times are only comparable on a quiet machine; the children's CPU times are
    // printed beside them so that waiting for a busy CPU shows as wall >> cpu.
    println!("load average at start: {}", load_average());
    // `cargo bench --bench run -- idle status` runs only the scenarios named; cargo
    // itself passes `--bench`.
    let only: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    if wanted("http") {
        println!();
        many_http_checks(&bench, &server)?;
    }
    if wanted("idle") {
        println!();
        nothing_due(&bench, &server)?;
    }
    if wanted("status") {
        println!();
        status_with_history(&bench)?;
    }
    if wanted("serve") {
        println!();
        status_under_load(&bench)?;
    }
    if wanted("latency") {
        println!();
        alert_latency(&bench)?;
    }
    if wanted("http10k") {
        println!();
        ten_thousand_http_checks(&bench, &server)?;
    }
    if wanted("scale") {
        println!();
        reading_ten_thousand_checks(&bench)?;
    }
    if wanted("storm") {
        println!();
        alert_storm(&bench)?;
    }
    if wanted("calendar") {
        println!();
        hostile_calendar(&bench)?;
    }
    if wanted("page") {
        println!();
        big_page_clients(&bench)?;
    }
    if wanted("halfopen") {
        println!();
        half_open_attack(&bench)?;
    }
    if wanted("pair") {
        println!();
        pair_rounds(&bench)?;
    }
    if wanted("import") {
        println!();
        imports(&bench)?;
    }
    Ok(())
}

/// Scenario 13: a Cabot dump of 1,000 services and 10,000 checks with a million check
/// results, and a Kuma database of 10,000 monitors with a million heartbeats.
const IMPORT_SERVICES: usize = 1_000;
const IMPORT_CHECKS_EACH: usize = 10;
const IMPORT_HISTORY: usize = 1_000_000;

/// `cabot import ...` in the bench's folder, measured.
fn import_command(bench: &Bench, args: &[&str]) -> Command {
    let mut cmd = Command::new(cabot_binary());
    cmd.current_dir(&bench.dir)
        .arg("import")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

/// `cabot import ARGS` into `NAME-0.yaml`, `NAME-1.yaml` and `NAME-2.yaml`, measured.
fn import_three_times(bench: &Bench, name: &str, args: &[&str]) -> anyhow::Result<Vec<Measured>> {
    (0..3)
        .map(|i| {
            let out = format!("{name}-{i}.yaml");
            let mut all = args.to_vec();
            all.extend(["-o", &out, "--secrets-dir", "secrets"]);
            bench.measure(import_command(bench, &all), &[0])
        })
        .collect()
}

fn imports(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 13. cabot import: {IMPORT_SERVICES} services of {IMPORT_CHECKS_EACH} checks, \
         and {IMPORT_HISTORY} results (Cabot) or heartbeats (Kuma) that are not imported"
    );
    let dump = bench.dir.join("cabot.json");
    {
        let mut w = std::io::BufWriter::new(File::create(&dump)?);
        write!(w, "[")?;
        for u in 0..100 {
            write!(
                w,
                r#"{{"model": "auth.user", "pk": {u}, "fields": {{"username": "user{u}", "email": "user{u}@example.com", "is_active": true}}}},"#
            )?;
        }
        let checks = IMPORT_SERVICES * IMPORT_CHECKS_EACH;
        for c in 0..checks {
            write!(
                w,
                r#"{{"model": "cabotapp.statuscheck", "pk": {c}, "fields": {{"polymorphic_ctype": ["cabotapp", "httpstatuscheck"], "name": "check {c}", "active": true, "importance": "ERROR", "frequency": 5, "debounce": 1, "endpoint": "http://127.0.0.1:9/{c}", "status_code": "200", "timeout": 30, "verify_ssl_certificate": true}}}},"#
            )?;
        }
        for s in 0..IMPORT_SERVICES {
            let ids: Vec<String> = (0..IMPORT_CHECKS_EACH)
                .map(|i| (s * IMPORT_CHECKS_EACH + i).to_string())
                .collect();
            write!(
                w,
                r#"{{"model": "cabotapp.service", "pk": {s}, "fields": {{"name": "service {s}", "users_to_notify": [["user{}"]], "alerts_enabled": true, "status_checks": [{}], "alerts": [], "url": "", "runbook_link": "", "is_public": false}}}},"#,
                s % 100,
                ids.join(", ")
            )?;
        }
        for r in 0..IMPORT_HISTORY {
            if r > 0 {
                write!(w, ",")?;
            }
            write!(
                w,
                r#"{{"model": "cabotapp.statuscheckresult", "pk": {r}, "fields": {{"status_check": {}, "time": "2017-08-21T10:00:00Z", "time_complete": "2017-08-21T10:00:01Z", "raw_data": "<html>a page of some length, as Cabot kept 5,000 characters of it</html>", "succeeded": false, "error": "Wrong code: got 500 (expected 200)"}}}}"#,
                r % checks
            )?;
        }
        write!(w, "]")?;
        w.flush()?;
    }
    let dump_mb = std::fs::metadata(&dump)?.len() as f64 / 1e6;
    let cabot = import_three_times(bench, "cabot", &["cabot", "--dump", "cabot.json"])?;

    let kuma = bench.dir.join("kuma.db");
    {
        let schema =
            Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/import/kuma/kuma-2.0.2.sql");
        let db = rusqlite::Connection::open(&kuma)?;
        db.execute_batch(&std::fs::read_to_string(schema)?)?;
        db.execute_batch("BEGIN")?;
        let monitors = IMPORT_SERVICES * IMPORT_CHECKS_EACH;
        for m in 0..monitors {
            db.execute(
                "INSERT INTO monitor (id, name, interval, url, type, maxretries) VALUES (?1, ?2, 60, ?3, 'http', 1)",
                rusqlite::params![m as i64 + 1, format!("monitor {m}"), format!("http://127.0.0.1:9/{m}")],
            )?;
        }
        let mut insert = db.prepare(
            "INSERT INTO heartbeat (monitor_id, status, msg, time, ping, duration) VALUES (?1, 1, 'OK', '2025-01-01 00:00:00', 12, 60)",
        )?;
        for h in 0..IMPORT_HISTORY {
            insert.execute([(h % monitors) as i64 + 1])?;
        }
        drop(insert);
        db.execute_batch("COMMIT")?;
    }
    let kuma_mb = std::fs::metadata(&kuma)?.len() as f64 / 1e6;
    let kumas = import_three_times(bench, "kuma", &["uptime-kuma", "--db", "kuma.db"])?;
    let same = std::fs::read(bench.dir.join("cabot-0.yaml"))?
        == std::fs::read(bench.dir.join("cabot-2.yaml"))?
        && std::fs::read(bench.dir.join("kuma-0.yaml"))?
            == std::fs::read(bench.dir.join("kuma-2.yaml"))?;
    for (what, size, ms) in [
        ("Cabot dump", dump_mb, &cabot),
        ("Kuma database", kuma_mb, &kumas),
    ] {
        let wall = median(ms.iter().map(|m| m.wall.as_secs_f64()).collect());
        let cpu = median(ms.iter().map(|m| m.cpu.as_secs_f64()).collect());
        let rss = median(ms.iter().map(|m| m.max_rss_kb as f64 / 1024.0).collect());
        println!(
            "  RESULT {what} of {size:.0} MB: wall {wall:.2} s, cpu {cpu:.2} s, peak RSS {rss:.1} MB \
             (median of 3); the three outputs are the same: {}",
            verdict(same)
        );
    }
    Ok(())
}

/// Scenario 12's rounds, and the pair's timing: simulated seconds, a run of each node
/// every `PAIR_STEP`.
const PAIR_ROUNDS: usize = 100;
const PAIR_STEP: i64 = 30;
const PAIR_TAKEOVER: i64 = 60;
const PAIR_STEPS: i64 = 10;
const PAIR_KEY: &str = "kX3v0c7Qm2Jd9sWqYp1LrT8uHa5NeBfZ6gCy4iVoKjM=\n";

/// What happens to the primary in a round of scenario 12.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Mishap {
    /// Nothing: it alerts, the standby holds.
    None,
    /// It dies (its runs and its serve-status stop) at a random step.
    Killed,
    /// It decides the alert, its channel fails, then it dies: the alert is owed.
    KilledOwing,
    /// It runs but cannot deliver: its channel fails for the rest of the round.
    ChannelDown,
    /// The link between the two is cut for the rest of the round: both alive.
    Partition,
}

/// One webhook for both nodes (`/a`, `/b`), and the watched target (`/t`): what each
/// node delivered and at which simulated second, whether `/a` fails, whether `/t` fails.
struct PairHook {
    port: u16,
    a_fails: Arc<AtomicBool>,
    target_fails: Arc<AtomicBool>,
    clock: Arc<std::sync::atomic::AtomicI64>,
    got: Arc<std::sync::Mutex<Vec<Delivered>>>,
}

/// (path, body, the simulated second it came in).
type Delivered = (String, String, i64);

/// What a request to the pair's hook server finds.
struct HookState {
    a_fails: Arc<AtomicBool>,
    target_fails: Arc<AtomicBool>,
    clock: Arc<std::sync::atomic::AtomicI64>,
    got: Arc<std::sync::Mutex<Vec<Delivered>>>,
}

impl PairHook {
    fn start() -> anyhow::Result<PairHook> {
        let listener = TcpListener::bind("127.0.0.1:0")?;
        let port = listener.local_addr()?.port();
        let hook = PairHook {
            port,
            a_fails: Arc::default(),
            target_fails: Arc::default(),
            clock: Arc::default(),
            got: Arc::default(),
        };
        let state = Arc::new(HookState {
            a_fails: Arc::clone(&hook.a_fails),
            target_fails: Arc::clone(&hook.target_fails),
            clock: Arc::clone(&hook.clock),
            got: Arc::clone(&hook.got),
        });
        thread::spawn(move || {
            for conn in listener.incoming().flatten() {
                let state = Arc::clone(&state);
                thread::spawn(move || {
                    let _ = answer_hook(conn, &state);
                });
            }
        });
        Ok(hook)
    }
}

/// Reads one request and answers it: `/t` is the target, `/a` and `/b` the webhook.
fn answer_hook(mut conn: TcpStream, state: &HookState) -> anyhow::Result<()> {
    conn.set_read_timeout(Some(Duration::from_secs(5)))?;
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let (head_end, length) = loop {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            return Ok(());
        }
        buf.extend_from_slice(&chunk[..n]);
        if let Some(at) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..at]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0);
            break (at + 4, length);
        }
    };
    while buf.len() < head_end + length {
        let n = conn.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
    let path = String::from_utf8_lossy(&buf[..head_end])
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    let fail = match path.as_str() {
        "/t" => state.target_fails.load(Ordering::SeqCst),
        "/a" => state.a_fails.load(Ordering::SeqCst),
        _ => false,
    };
    if !fail && path != "/t" {
        let body = String::from_utf8_lossy(&buf[head_end..]).into_owned();
        let now = state.clock.load(Ordering::SeqCst);
        state
            .got
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .push((path, body, now));
    }
    let answer: &[u8] = if fail {
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    } else {
        b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    };
    conn.write_all(answer)?;
    Ok(())
}

/// A node of scenario 12's pair: its config, and its serve-status while it is up.
struct PairNode {
    config: PathBuf,
    port: u16,
    server: Server,
}

impl PairNode {
    /// Serves the node's state with its clock at `now`, or not at all (`up` false).
    fn serve(&mut self, now: i64, up: bool) -> anyhow::Result<()> {
        self.server = Server(None);
        if !up {
            return Ok(());
        }
        let listen = format!("127.0.0.1:{}", self.port);
        let mut cmd = cabot_command(&self.config, &["serve-status", "--listen", &listen]);
        cmd.env("CABOT_NOW", now.to_string()).stderr(Stdio::null());
        self.server = Server(Some(cmd.spawn().context("starting serve-status")?));
        let started = Instant::now();
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if started.elapsed() > Duration::from_secs(5) {
                bail!("serve-status did not listen");
            }
            thread::sleep(Duration::from_millis(5));
        }
        Ok(())
    }

    fn run(&self, now: i64) -> anyhow::Result<()> {
        let status = cabot_command(&self.config, &["run", "--all", "--quiet"])
            .env("CABOT_NOW", now.to_string())
            .stderr(Stdio::null())
            .status()
            .context("running cabot")?;
        if !status.success() {
            bail!("cabot run: {status}");
        }
        Ok(())
    }
}

/// Scenario 12: two cabots, one webhook, 100 rounds of one failure each and a random
/// mishap of the primary's. Counts what was lost (an incident nobody delivered), what was
/// sent twice (outside partitions, where a duplicate is allowed), and how long the
/// standby took to deliver after the primary stopped delivering.
fn pair_rounds(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 12. the pair: {PAIR_ROUNDS} rounds of a failure and a mishap of the primary's \
         (killed, killed owing an alert, channel down, link cut, none); a run of each node \
         every {PAIR_STEP} s of simulated time, takeover_after {PAIR_TAKEOVER} s"
    );
    let hook = PairHook::start()?;
    let (port_a, port_b) = (free_port()?, free_port()?);
    let key = bench.dir.join("pair.key");
    std::fs::write(&key, PAIR_KEY)?;
    let node = |name: &str, role: &str, peer: u16, port: u16| -> anyhow::Result<PairNode> {
        let state = bench.dir.join(format!("pair-{name}.db"));
        let text = format!(
            "state: {}\npeer:\n  name: {name}\n  url: 'http://127.0.0.1:{peer}'\n  \
             secret_file: {}\n  role: {role}\n  takeover_after: {PAIR_TAKEOVER}s\n\
             defaults: {{ frequency: {PAIR_STEP}s }}\n\
             channels:\n  hook: {{ type: webhook, url: 'http://127.0.0.1:{}/{name}', timeout: 2s }}\n\
             services:\n  - name: web\n    channels: [hook]\n    checks:\n      \
             - {{ name: home, type: http, url: 'http://127.0.0.1:{}/t' }}\n",
            state.display(),
            key.display(),
            hook.port,
            hook.port
        );
        Ok(PairNode {
            config: bench.write_config(&format!("pair-{name}.yaml"), &text)?,
            port,
            server: Server(None),
        })
    };
    let mut a = node("a", "primary", port_b, port_a)?;
    let mut b = node("b", "standby", port_a, port_b)?;
    let mishaps = [
        Mishap::None,
        Mishap::Killed,
        Mishap::KilledOwing,
        Mishap::ChannelDown,
        Mishap::Partition,
    ];
    // A fixed seed, so that two builds meet the same rounds.
    let mut seed: u64 = 0x5eed_cab0_7000_0001;
    let mut random = |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    let (mut lost, mut duplicates, mut partition_duplicates) = (0, 0, 0);
    let mut failovers: Vec<f64> = Vec::new();
    let mut counts = std::collections::BTreeMap::new();
    let started = Instant::now();
    // Each round starts a day after the last: nothing of one round is due in the next.
    let mut t = 1_800_000_000_i64;
    for _ in 0..PAIR_ROUNDS {
        let mishap = mishaps[random(mishaps.len() as u64) as usize];
        let at_step = 1 + random(3) as i64;
        *counts.entry(format!("{mishap:?}")).or_insert(0) += 1;
        hook.a_fails.store(false, Ordering::SeqCst);
        hook.target_fails.store(false, Ordering::SeqCst);
        let before = hook.got.lock().map(|g| g.len()).unwrap_or(0);
        let (mut a_alive, mut linked) = (true, true);
        let mut stopped_delivering: Option<i64> = None;
        for step in 0..PAIR_STEPS {
            let now = t + step * PAIR_STEP;
            if step == 1 {
                hook.target_fails.store(true, Ordering::SeqCst);
            }
            if step == at_step {
                match mishap {
                    Mishap::Killed => a_alive = false,
                    Mishap::KilledOwing | Mishap::ChannelDown => {
                        hook.a_fails.store(true, Ordering::SeqCst)
                    }
                    Mishap::Partition => linked = false,
                    Mishap::None => {}
                }
                if mishap != Mishap::None && mishap != Mishap::Partition {
                    stopped_delivering = Some(now);
                }
            }
            a.serve(now, a_alive && linked)?;
            b.serve(now, linked)?;
            if a_alive {
                hook.clock.store(now, Ordering::SeqCst);
                a.run(now)?;
            }
            if mishap == Mishap::KilledOwing && step == at_step {
                a_alive = false;
            }
            hook.clock.store(now + 1, Ordering::SeqCst);
            b.run(now + 1)?;
        }
        a.serve(t, false)?;
        b.serve(t, false)?;
        // What reached the webhook this round: the alerts (not repeats).
        let got: Vec<(String, serde_json::Value, i64)> = hook
            .got
            .lock()
            .map(|g| g[before..].to_vec())
            .unwrap_or_default()
            .into_iter()
            .filter_map(|(path, body, at)| Some((path, serde_json::from_str(&body).ok()?, at)))
            .collect();
        // The service's alerts (a node also says once that the other is down).
        let web = |v: &serde_json::Value| {
            v["incident"]
                .as_str()
                .is_some_and(|i| i.starts_with("cabot/web/"))
        };
        let alerts = got
            .iter()
            .filter(|(_, v, _)| v["kind"] == "alert" && web(v))
            .count();
        match alerts {
            0 => lost += 1,
            1 => {}
            n if mishap == Mishap::Partition => partition_duplicates += n - 1,
            n => duplicates += n - 1,
        }
        // After the primary stopped delivering, how long until the standby did.
        if let Some(stop) = stopped_delivering
            && let Some(first) = got
                .iter()
                .filter(|(path, v, at)| path == "/b" && web(v) && *at >= stop)
                .map(|(_, _, at)| *at)
                .min()
        {
            failovers.push((first - stop) as f64);
        }
        t += 86_400;
    }
    failovers.sort_by(f64::total_cmp);
    let worst = failovers.last().copied().unwrap_or(0.0);
    // The standby runs a second after the primary in each step.
    let bound = (PAIR_TAKEOVER + PAIR_STEP + 1) as f64;
    println!(
        "  RESULT {PAIR_ROUNDS} rounds ({counts:?}) in {:.0} s: {lost} lost, {duplicates} \
         duplicates outside partitions, {partition_duplicates} in partitions (allowed); \
         failover after the primary stopped delivering: median {:.0} s, worst {worst:.0} s \
         of simulated time (bound: takeover_after + one run + the standby's second = {bound:.0} s): {}",
        started.elapsed().as_secs_f64(),
        if failovers.is_empty() {
            0.0
        } else {
            median(failovers.clone())
        },
        verdict(lost == 0 && duplicates == 0 && worst <= bound)
    );
    Ok(())
}

fn free_port() -> anyhow::Result<u16> {
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// The attack of scenario 11, shared with the end-to-end test.
#[path = "../tests/it/support/half_open.rs"]
mod half_open;

/// Scenario 11's attack and watcher.
const ATTACK_ADDRESSES: usize = 40;
const ATTACK_PER_ADDRESS: usize = 100;
const ATTACK_REOPEN: Duration = Duration::from_secs(5);
const WATCHER_PROBES: usize = 200;
const WATCHER_EVERY: Duration = Duration::from_millis(100);
const WATCHER_TIMEOUT: Duration = Duration::from_secs(1);
const WATCHER_TARGET: f64 = 0.95;
/// Then 64 idle connections from each of this many addresses, held.
const MANY_ADDRESSES: usize = 150;

/// Scenario 11: 4,000 connections from 40 addresses, each sending half a request head and
/// opened again every 5 s, while a watcher on 127.0.0.1 asks `/status/` every 100 ms: the
/// share of its probes answered within 1 s, their latency, and the server's threads,
/// descriptors and memory meanwhile.
fn half_open_attack(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 11. serve-status under {} half-sent requests ({ATTACK_ADDRESSES} addresses x \
         {ATTACK_PER_ADDRESS}, reopened every {ATTACK_REOPEN:?}); a watcher asks /status/ \
         {WATCHER_PROBES} times, every {WATCHER_EVERY:?}, {WATCHER_TIMEOUT:?} each",
        ATTACK_ADDRESSES * ATTACK_PER_ADDRESS
    );
    let target = Stamped::start(true)?;
    let state = bench.dir.join("halfopen.db");
    let text = format!(
        "state: {}\nservices:\n  - name: site\n    checks:\n      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}\n",
        state.display(),
        target.port
    );
    let config = bench.write_config("halfopen.yaml", &text)?;
    bench.cabot(&config, &["run", "--all"], &[0])?;
    let (mut server, port) = serve_status(&config)?;
    let pid = server.pid();
    let idle = memory(pid)?;
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let attack =
        half_open::Attack::start(addr, ATTACK_ADDRESSES, ATTACK_PER_ADDRESS, ATTACK_REOPEN);
    let held = attack.wait_for(
        ATTACK_ADDRESSES * ATTACK_PER_ADDRESS,
        Duration::from_secs(10),
    );
    let stop = AtomicBool::new(false);
    let (probes, peak_kb, most_fds, most_threads) = thread::scope(|scope| {
        let sampler = scope.spawn(|| {
            let (mut fds, mut threads) = (0, 0);
            while !stop.load(Ordering::SeqCst) {
                fds = fds.max(open_descriptors(pid));
                threads = threads.max(thread_count(pid));
                thread::sleep(Duration::from_millis(100));
            }
            (fds, threads)
        });
        let rss = scope.spawn(|| peak_rss_kb(pid, &stop, Duration::from_millis(20)));
        let probes = half_open::watch(addr, WATCHER_PROBES, WATCHER_EVERY, WATCHER_TIMEOUT);
        stop.store(true, Ordering::SeqCst);
        let (fds, threads) = sampler.join().unwrap_or_default();
        (probes, rss.join().unwrap_or_default(), fds, threads)
    });
    let closed = attack.closed_by_server.load(Ordering::Relaxed);
    drop(attack);
    // Then what holding many costs: idle connections, never reopened, from enough
    // addresses that no one is over its share.
    let many = half_open::Attack::start(addr, MANY_ADDRESSES, 64, Duration::from_secs(3600));
    let many_held = many.wait_for(MANY_ADDRESSES * 64, Duration::from_secs(30));
    thread::sleep(Duration::from_secs(1));
    let holding = memory(pid)?;
    let many_fds = open_descriptors(pid);
    let many_probes = half_open::watch(addr, 20, WATCHER_EVERY, WATCHER_TIMEOUT);
    drop(many);
    server.stop()?;
    let answered: Vec<f64> = probes
        .iter()
        .flatten()
        .map(|d| d.as_secs_f64() * 1000.0)
        .collect();
    let share = answered.len() as f64 / probes.len() as f64;
    println!(
        "  RESULT attack: {held} connections open after 10 s; the server closed {closed} of \
         them meanwhile; server at most {most_fds} descriptors, {most_threads} threads"
    );
    println!(
        "  RESULT watcher: {} of {} probes answered within {WATCHER_TIMEOUT:?} ({:.1} %; target \
         {:.0} %: {}); answered p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
        answered.len(),
        probes.len(),
        share * 100.0,
        WATCHER_TARGET * 100.0,
        verdict(share >= WATCHER_TARGET),
        percentile(answered.clone(), 0.50),
        percentile(answered.clone(), 0.95),
        answered.iter().copied().fold(0.0, f64::max),
    );
    println!(
        "  RESULT server VmRSS idle {:.1} MB, peak under the attack {:.1} MB",
        mb(idle.rss_kb),
        mb(peak_kb)
    );
    println!(
        "  RESULT holding {many_held} connections from {MANY_ADDRESSES} addresses: server \
         {many_fds} descriptors, VmRSS {:.1} MB ({:.1} MB over idle); the watcher got {} of {} \
         answers within {WATCHER_TIMEOUT:?}",
        mb(holding.rss_kb),
        mb(holding.rss_kb - idle.rss_kb),
        many_probes.iter().flatten().count(),
        many_probes.len()
    );
    Ok(())
}

/// How many descriptors `pid` has open.
fn open_descriptors(pid: libc::pid_t) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, Iterator::count)
}

/// How many threads `pid` has.
fn thread_count(pid: libc::pid_t) -> usize {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("Threads:"))
                .and_then(|v| v.trim().parse().ok())
        })
        .unwrap_or(0)
}

/// Scenario 10: public services on the page, clients asking for it at once, and how long.
const PAGE_SERVICES: usize = 5_000;
const PAGE_CLIENTS: [usize; 3] = [1, 10, 64];
const PAGE_SECONDS: u64 = 5;

/// Scenario 10: `serve-status` with 5,000 public services (a page of about 4 MB), and 1, 10
/// and 64 clients each asking for `/` again and again (a new connection each time): the
/// server's memory while they ask and after, and the answers it gave. A fresh server per
/// client count, so that each peak is its own.
fn big_page_clients(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 10. serve-status with {PAGE_SERVICES} public services: 1, 10 and 64 clients asking \
         for / for {PAGE_SECONDS} s; server VmRSS peak (sampled every 20 ms) and after"
    );
    let target = Stamped::start(true)?;
    let state = bench.dir.join("page.db");
    let mut text = format!("state: {}\nservices:\n", state.display());
    for i in 0..PAGE_SERVICES {
        text.push_str(&format!(
            "  - name: service-{i}\n    public: true\n    checks:\n      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}\n",
            target.port
        ));
    }
    let config = bench.write_config("page.yaml", &text)?;
    bench.cabot(&config, &["run", "--all", "--jobs", "64"], &[0])?;
    for clients in PAGE_CLIENTS {
        let (mut server, port) = serve_status(&config)?;
        let pid = server.pid();
        let idle = memory(pid)?;
        let stop = AtomicBool::new(false);
        let (answers, bytes, peak_kb) = thread::scope(|scope| {
            let sampler = scope.spawn(|| peak_rss_kb(pid, &stop, Duration::from_millis(20)));
            let askers: Vec<_> = (0..clients)
                .map(|_| {
                    scope.spawn(|| {
                        let (mut answers, mut bytes) = (0usize, 0usize);
                        let until = Instant::now() + Duration::from_secs(PAGE_SECONDS);
                        while Instant::now() < until {
                            let Ok(mut s) = TcpStream::connect(("127.0.0.1", port)) else {
                                continue;
                            };
                            let _ = s.set_read_timeout(Some(Duration::from_secs(30)));
                            let asked = s.write_all(
                                b"GET / HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n",
                            );
                            let mut answer = Vec::new();
                            if asked.is_ok()
                                && s.read_to_end(&mut answer).is_ok()
                                && answer.starts_with(b"HTTP/1.1 200")
                            {
                                answers += 1;
                                bytes = answer.len();
                            }
                        }
                        (answers, bytes)
                    })
                })
                .collect();
            let results: Vec<(usize, usize)> =
                askers.into_iter().filter_map(|a| a.join().ok()).collect();
            stop.store(true, Ordering::SeqCst);
            let peak = sampler.join().unwrap_or_default();
            (
                results.iter().map(|r| r.0).sum::<usize>(),
                results.iter().map(|r| r.1).max().unwrap_or(0),
                peak,
            )
        });
        thread::sleep(Duration::from_secs(1));
        let after = memory(pid)?;
        server.stop()?;
        println!(
            "  RESULT {clients} clients: {answers} answers of {:.1} MB in {PAGE_SECONDS} s; \
             server VmRSS idle {:.1} MB, peak {:.1} MB, 1 s after {:.1} MB (VmHWM {:.1} MB)",
            bytes as f64 / 1e6,
            mb(idle.rss_kb),
            mb(peak_kb),
            mb(after.rss_kb),
            mb(after.hwm_kb)
        );
    }
    Ok(())
}

/// Scenario 9's sizes: exception dates on one daily event.
const EXDATE_SIZES: [usize; 2] = [20_000, 160_000];

/// A calendar with one daily shift (alice, 09:00 to 21:00 in London) and `n` exception
/// dates, one a day from its start, none within 60 days of now.
fn calendar_with_exdates(n: usize) -> String {
    let start = jiff::civil::date(2000, 1, 1);
    let today = jiff::Timestamp::now().as_second() / 86_400;
    let days_from_today = |d: jiff::civil::Date| {
        d.to_datetime(jiff::civil::Time::midnight())
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_or(0, |z| z.timestamp().as_second() / 86_400 - today)
    };
    let mut text = String::from(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//cabot bench//EN\r\nBEGIN:VEVENT\r\n\
         UID:daily@bench\r\nSUMMARY:alice\r\nDTSTART;TZID=Europe/London:20000101T090000\r\n\
         DTEND;TZID=Europe/London:20000101T210000\r\nRRULE:FREQ=DAILY\r\n",
    );
    // Four to a line, as calendar programs write them: about 24 bytes a date.
    let (mut day, mut written) = (start, 0);
    while written < n {
        if days_from_today(day).abs() > 60 {
            text.push_str(if written % 4 == 0 {
                "EXDATE;TZID=Europe/London:"
            } else {
                ","
            });
            text.push_str(&day.strftime("%Y%m%dT090000").to_string());
            written += 1;
            if written % 4 == 0 || written == n {
                text.push_str("\r\n");
            }
        }
        day = day.tomorrow().expect("a day before 9999");
    }
    text.push_str("END:VEVENT\r\nEND:VCALENDAR\r\n");
    text
}

/// Scenario 9: a rota's calendar with a great many exception dates (anyone who can edit a
/// shared calendar can add them). How long a run takes, how soon the alert of a service on
/// no rota goes, and the one on the rota; then a second run, the calendar unchanged.
fn hostile_calendar(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 9. hostile calendar: one daily event with N EXDATEs; service 'plain' on no rota and \
         'rota' on the calendar's rota both fail; cabot run --all twice"
    );
    let target = Stamped::start(false)?;
    for n in EXDATE_SIZES {
        let (plain, rota) = (Stamped::start(true)?, Stamped::start(true)?);
        let calendar = bench.dir.join(format!("exdates-{n}.ics"));
        let text = calendar_with_exdates(n);
        std::fs::write(&calendar, &text).context("writing the calendar")?;
        let state = bench.dir.join(format!("calendar-{n}.db"));
        let config = bench.write_config(
            &format!("calendar-{n}.yaml"),
            &format!(
                "state: {}
users:
  alice: {{ email: alice@example.com }}
  bob: {{ email: bob@example.com }}
oncall:
  ops: {{ ical_file: '{}', time_zone: Europe/London, fallback: bob }}
channels:
  plain: {{ type: webhook, url: 'http://127.0.0.1:{}/plain' }}
  rota: {{ type: webhook, url: 'http://127.0.0.1:{}/rota' }}
services:
  - name: plain
    channels: [plain]
    checks:
      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}
  - name: rota
    oncall: ops
    channels: [rota]
    checks:
      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}
",
                state.display(),
                calendar.display(),
                plain.port,
                rota.port,
                target.port,
                target.port
            ),
        )?;
        target.ok.store(false, Ordering::SeqCst);
        // Both fail (alerts), then both recover (recoveries, which reach whoever was on
        // duty too): the second run finds the calendar unchanged and its expansion kept.
        for (round, what) in ["expanded; alerts", "kept; recoveries"]
            .into_iter()
            .enumerate()
        {
            target.ok.store(round == 1, Ordering::SeqCst);
            let started = Instant::now();
            let m = bench.cabot(&config, &["run", "--all"], &[0])?;
            let first = |s: &Stamped| {
                s.stamps
                    .lock()
                    .ok()
                    .and_then(|s| s.get(round).map(|t| (*t - started).as_secs_f64() * 1000.0))
            };
            let (p, r) = (first(&plain), first(&rota));
            let shown = |t: Option<f64>| t.map_or("none".to_string(), |t| format!("{t:.0} ms"));
            println!(
                "  RESULT {n} EXDATEs ({:.1} MB), run {} ({what}): wall {:.0} ms, cpu {:.0} ms, \
                 max RSS {:.1} MB; alert of 'plain' after {}, of 'rota' after {}",
                text.len() as f64 / 1e6,
                round + 1,
                m.wall.as_secs_f64() * 1000.0,
                m.cpu.as_secs_f64() * 1000.0,
                m.max_rss_kb as f64 / 1024.0,
                shown(p),
                shown(r)
            );
        }
    }
    Ok(())
}

/// Scenario 8's sizes: services failing at once into one webhook.
const STORM_SIZES: [usize; 3] = [30, 1_000, 5_000];

/// Scenario 8: every service fails at once and alerts through one webhook, which a
/// destination takes one request at a time: how long the run takes to deliver them all,
/// and the CPU the outbox's rounds cost beside the sending.
fn alert_storm(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 8. alert storm: N services fail at once into one webhook (answered at once); \
         one cabot run --all delivers every alert"
    );
    let target = Stamped::start(false)?;
    for size in STORM_SIZES {
        let hook = Stamped::start(true)?;
        let state = bench.dir.join(format!("storm-{size}.db"));
        let mut text = format!(
            "state: {}\nchannels:\n  hook: {{ type: webhook, url: 'http://127.0.0.1:{}/hook' }}\nservices:\n",
            state.display(),
            hook.port
        );
        for i in 0..size {
            text.push_str(&format!(
                "  - name: s{i}\n    channels: [hook]\n    checks:\n      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}\n",
                target.port
            ));
        }
        let config = bench.write_config(&format!("storm-{size}.yaml"), &text)?;
        let m = bench.cabot(&config, &["run", "--all", "--jobs", "64"], &[0])?;
        let stamps = hook.stamps.lock().map(|s| s.clone()).unwrap_or_default();
        let spread = match (stamps.first(), stamps.last()) {
            (Some(a), Some(b)) => (*b - *a).as_secs_f64(),
            _ => 0.0,
        };
        println!(
            "  RESULT {size} services: {} alerts delivered in the run (wall {:.2} s, cpu {:.2} s, \
             max RSS {:.1} MB; first to last alert {spread:.2} s): {}",
            stamps.len(),
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            m.max_rss_kb as f64 / 1024.0,
            verdict(stamps.len() == size)
        );
    }
    Ok(())
}

/// Names another build to measure instead of this one, to compare two commits.
const BINARY_VAR: &str = "CABOT_BENCH_BIN";

/// The cabot binary to measure: this build's, or the one `CABOT_BENCH_BIN` names.
fn cabot_binary() -> PathBuf {
    std::env::var_os(BINARY_VAR)
        .map_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_cabot")), PathBuf::from)
}

/// The temp folder and how to run cabot in it.
struct Bench {
    dir: PathBuf,
}

/// What one child process cost, from `wait4`.
#[derive(Debug, Clone, Copy)]
struct Measured {
    wall: Duration,
    cpu: Duration,
    max_rss_kb: i64,
}

impl Bench {
    fn write_config(&self, name: &str, text: &str) -> anyhow::Result<PathBuf> {
        let path = self.dir.join(name);
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
        Ok(path)
    }

    /// Runs cabot with `args`, waits for it with `wait4`, and fails unless it exits with one of `codes`.
    fn cabot(&self, config: &Path, args: &[&str], codes: &[i32]) -> anyhow::Result<Measured> {
        self.measure(cabot_command(config, args), codes)
    }

    /// Runs `cmd`, waits for it with `wait4`, and fails unless it exits with one of `codes`.
    fn measure(&self, mut cmd: Command, codes: &[i32]) -> anyhow::Result<Measured> {
        let stderr_path = self.dir.join("stderr.txt");
        let stderr = File::create(&stderr_path).context("creating the stderr file")?;
        cmd.stderr(stderr);
        // A child's ru_maxrss counts this bench's memory when the bench is the larger (a
        // fork starts as a copy); then the child's own VmHWM, sampled while it runs, is
        // what is reported.
        let own_kb = memory(std::process::id() as libc::pid_t).map_or(0, |m| m.rss_kb);
        let started = Instant::now();
        let child = cmd.spawn().context("starting cabot")?;
        let pid = child.id() as libc::pid_t;
        let done = AtomicBool::new(false);
        let (status, hwm_kb) = thread::scope(|scope| {
            let sampler = scope.spawn(|| {
                let mut peak = 0;
                while !done.load(Ordering::SeqCst) {
                    if let Ok(m) = memory(pid) {
                        peak = peak.max(m.hwm_kb);
                    }
                    thread::sleep(Duration::from_millis(SAMPLE_MS));
                }
                peak
            });
            let status = wait4_keeping_zombie(pid);
            // Still a zombie: its /proc entry has the last VmHWM... which a zombie drops;
            // the samples are what there is.
            done.store(true, Ordering::SeqCst);
            (status, sampler.join().unwrap_or(0))
        });
        status?;
        let (code, usage) = wait4(pid)?;
        let wall = started.elapsed();
        if !codes.contains(&code) {
            let said = std::fs::read_to_string(&stderr_path).unwrap_or_default();
            bail!("{cmd:?} exited {code}: {said}");
        }
        Ok(Measured {
            wall,
            cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
            // Linux reports ru_maxrss in kilobytes.
            max_rss_kb: if usage.ru_maxrss > own_kb {
                usage.ru_maxrss
            } else {
                hwm_kb
            },
        })
    }
}

/// `cabot -c CONFIG ARGS` with no proxies, no colour and no clock from the caller.
fn cabot_command(config: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(cabot_binary());
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "CABOT_CONFIG",
        "CABOT_NOW",
    ] {
        cmd.env_remove(var);
    }
    cmd.env("NO_COLOR", "1")
        .arg("-c")
        .arg(config)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null());
    cmd
}

/// Reaps `pid` and returns its exit code (negative: the signal) and resource usage.
fn wait4(pid: libc::pid_t) -> anyhow::Result<(i32, libc::rusage)> {
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value for wait4 to overwrite.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    loop {
        // SAFETY: pid is our own child, not yet reaped; status and usage are valid out pointers.
        let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
        if r == pid {
            break;
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("waiting for cabot");
        }
    }
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -libc::WTERMSIG(status)
    };
    Ok((code, usage))
}

/// Waits until `pid` has exited, leaving it to be reaped (and its usage read) by `wait4`.
fn wait4_keeping_zombie(pid: libc::pid_t) -> anyhow::Result<()> {
    loop {
        // SAFETY: an all-zero siginfo_t is a valid value for waitid to overwrite.
        let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid is our own child; WNOWAIT leaves it to be reaped later.
        let r = unsafe {
            libc::waitid(
                libc::P_PID,
                pid as libc::id_t,
                &mut info,
                libc::WEXITED | libc::WNOWAIT,
            )
        };
        if r == 0 {
            return Ok(());
        }
        let e = std::io::Error::last_os_error();
        if e.kind() != std::io::ErrorKind::Interrupted {
            return Err(e).context("waiting for cabot");
        }
    }
}

fn timeval(t: libc::timeval) -> Duration {
    Duration::from_secs(t.tv_sec as u64) + Duration::from_micros(t.tv_usec as u64)
}

/// A loopback HTTP server that answers every request after a fixed delay and closes the
/// connection; it counts requests and peak concurrency. One thread does all the work
/// with poll(2), so that at a thousand connections it costs little beside the client.
struct SlowServer {
    port: u16,
    requests: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// A connection still sending its request: what it has sent so far.
struct Reading {
    stream: TcpStream,
    head: Vec<u8>,
}

impl SlowServer {
    fn start(delay: Duration) -> anyhow::Result<SlowServer> {
        let listener = listen_wide()?;
        listener
            .set_nonblocking(true)
            .context("making the listener nonblocking")?;
        let port = listener.local_addr()?.port();
        let server = SlowServer {
            port,
            requests: Arc::default(),
            in_flight: Arc::default(),
            peak: Arc::default(),
        };
        let counters = Counters {
            requests: server.requests.clone(),
            in_flight: server.in_flight.clone(),
            peak: server.peak.clone(),
        };
        thread::spawn(move || serve_slowly(&listener, delay, &counters));
        Ok(server)
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn requests(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }

    /// Waits until no request is in flight.
    fn wait_idle(&self) {
        while self.in_flight.load(Ordering::SeqCst) > 0 {
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The most connections open at once since the last call.
    fn take_peak(&self) -> usize {
        self.peak.swap(0, Ordering::SeqCst)
    }
}

struct Counters {
    requests: Arc<AtomicUsize>,
    in_flight: Arc<AtomicUsize>,
    peak: Arc<AtomicUsize>,
}

/// The server's one thread: accepts, reads heads, and answers each request `delay` after
/// its head arrived. The delay is the same for all, so answers fall due in arrival order.
fn serve_slowly(listener: &TcpListener, delay: Duration, counters: &Counters) {
    use std::os::fd::AsRawFd;
    const REPLY: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok";
    const HEAD_MAX: usize = 64 * 1024;
    let mut reading: Vec<Reading> = Vec::new();
    let mut waiting: std::collections::VecDeque<(Instant, TcpStream)> = Default::default();
    let mut fds: Vec<libc::pollfd> = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        let now = Instant::now();
        while waiting.front().is_some_and(|(due, _)| *due <= now) {
            let Some((_, mut stream)) = waiting.pop_front() else {
                break;
            };
            // The reply is far smaller than a socket's send buffer.
            if stream.write_all(REPLY).is_ok() {
                counters.requests.fetch_add(1, Ordering::SeqCst);
            }
            let _ = stream.shutdown(std::net::Shutdown::Write);
            counters.in_flight.fetch_sub(1, Ordering::SeqCst);
        }
        let timeout = waiting.front().map_or(100, |(due, _)| {
            due.saturating_duration_since(now).as_millis().clamp(1, 100) as i32
        });
        fds.clear();
        fds.push(libc::pollfd {
            fd: listener.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        fds.extend(reading.iter().map(|r| libc::pollfd {
            fd: r.stream.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        }));
        // SAFETY: fds is a live, initialised array of fds.len() pollfd structs.
        let ready = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, timeout) };
        if ready <= 0 {
            continue;
        }
        // Reads first, from the back so removing one leaves the others' indices alone.
        for i in (0..reading.len()).rev() {
            if fds[i + 1].revents == 0 {
                continue;
            }
            let r = &mut reading[i];
            let done = match r.stream.read(&mut chunk) {
                Ok(0) => Some(false),
                Ok(n) => {
                    r.head.extend_from_slice(&chunk[..n]);
                    if r.head.windows(4).any(|w| w == b"\r\n\r\n") {
                        Some(true)
                    } else if r.head.len() > HEAD_MAX {
                        Some(false)
                    } else {
                        None
                    }
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => None,
                Err(_) => Some(false),
            };
            match done {
                None => {}
                Some(true) => {
                    let r = reading.swap_remove(i);
                    waiting.push_back((Instant::now() + delay, r.stream));
                }
                Some(false) => {
                    reading.swap_remove(i);
                    counters.in_flight.fetch_sub(1, Ordering::SeqCst);
                }
            }
        }
        if fds[0].revents != 0 {
            while let Ok((stream, _)) = listener.accept() {
                if stream.set_nonblocking(true).is_err() {
                    continue;
                }
                let now = counters.in_flight.fetch_add(1, Ordering::SeqCst) + 1;
                counters.peak.fetch_max(now, Ordering::SeqCst);
                reading.push(Reading {
                    stream,
                    head: Vec::new(),
                });
            }
        }
    }
}

fn http_config(state: &Path, services: &[(String, Vec<String>)], frequency: &str) -> String {
    let mut text = format!(
        "state: '{}'\nstale_after: 10m\nretention: 90d\ndefaults: {{ frequency: {frequency}, timeout: 5s }}\nservices:\n",
        state.display()
    );
    for (name, checks) in services {
        text.push_str(&format!("  - name: {name}\n    checks:\n"));
        for check in checks {
            text.push_str(&format!("      - {check}\n"));
        }
    }
    text
}

/// Scenario 1's config: ten services of a hundred http checks (the shape of a real
/// config, not one giant service), check `i` asking for `url(i)`.
fn scenario_one_config(state: &Path, url: impl Fn(usize) -> String) -> String {
    let services: Vec<(String, Vec<String>)> = (0..10)
        .map(|s| {
            let checks = (0..HTTP_CHECKS / 10)
                .map(|c| {
                    let i = s * (HTTP_CHECKS / 10) + c;
                    format!(
                        "{{ name: c{i}, type: http, url: '{}', expect_status: 200 }}",
                        url(i)
                    )
                })
                .collect();
            (format!("svc{s}"), checks)
        })
        .collect();
    http_config(state, &services, "1m")
}

/// The scenarios' slow server on 127.0.0.1:`port` until the process is stopped.
fn slow_server_alone(port: u16) -> anyhow::Result<()> {
    let listener = listen_wide_on(port)?;
    listener.set_nonblocking(true)?;
    eprintln!(
        "answering every request on 127.0.0.1:{port} after {} ms",
        HTTP_DELAY.as_millis()
    );
    let counters = Counters {
        requests: Arc::default(),
        in_flight: Arc::default(),
        peak: Arc::default(),
    };
    serve_slowly(&listener, HTTP_DELAY, &counters);
    Ok(())
}

/// Scenario 1: 1,000 http checks, 100 at a time, each answered after 200 ms.
fn many_http_checks(bench: &Bench, server: &SlowServer) -> anyhow::Result<()> {
    println!(
        "== 1. run --all --jobs {HTTP_JOBS}: {HTTP_CHECKS} http checks, server answers after {} ms",
        HTTP_DELAY.as_millis()
    );
    let state = bench.dir.join("http.db");
    let config = bench.write_config(
        "http.yaml",
        &scenario_one_config(&state, |i| server.url(&format!("/{i}"))),
    )?;
    let jobs = HTTP_JOBS.to_string();
    let args = ["run", "--all", "--jobs", jobs.as_str()];

    // One untimed run first, so the timed runs find the state file at the newest schema,
    // holding every check, as cron's runs do.
    bench.cabot(&config, &args, &[0])?;
    let mut samples = Vec::new();
    for i in 0..HTTP_REPEATS {
        let before = server.requests();
        server.take_peak();
        let load = load_average();
        let m = bench.cabot(&config, &args, &[0])?;
        let served = server.requests() - before;
        let (checks_run, failures) = last_run(&state)?;
        println!(
            "  run {} (load {load}): wall {:.3} s, cpu {:.3} s, max RSS {:.1} MB; {served} requests served, \
             at most {} at once; {checks_run} checks run, {failures} failed",
            i + 1,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            mb(m.max_rss_kb),
            server.take_peak(),
        );
        if failures != 0 || checks_run != HTTP_CHECKS as i64 {
            println!("  WARNING: not every check passed; the numbers are not comparable");
        }
        samples.push(m);
    }
    let wall = median(samples.iter().map(|m| m.wall.as_secs_f64()).collect());
    let cpu = median(samples.iter().map(|m| m.cpu.as_secs_f64()).collect());
    let rss = median(samples.iter().map(|m| mb(m.max_rss_kb)).collect());
    let ideal = HTTP_CHECKS.div_ceil(HTTP_JOBS) as f64 * HTTP_DELAY.as_secs_f64();
    let per_1000 = cpu * 1000.0 / HTTP_CHECKS as f64;
    println!(
        "  RESULT wall time (median of {HTTP_REPEATS}): {wall:.3} s = {:.2}x the ideal {ideal:.1} s \
         (target <= {WALL_FACTOR}x = {:.1} s): {}",
        wall / ideal,
        ideal * WALL_FACTOR,
        verdict(wall <= ideal * WALL_FACTOR)
    );
    println!(
        "  RESULT cpu (user+sys of the child and all its threads, from wait4, as /usr/bin/time \
         and perf stat's task-clock count it; median): {per_1000:.3} s per 1,000 checks \
         (load average now {})",
        load_average()
    );
    println!(
        "  RESULT peak RSS (median): {rss:.1} MB (target < {RSS_TARGET_MB} MB): {}",
        verdict(rss < RSS_TARGET_MB)
    );
    Ok(())
}

/// Scenario 2: `cabot run` when every check ran recently, at three sizes.
fn nothing_due(bench: &Bench, server: &SlowServer) -> anyhow::Result<()> {
    println!("== 2. run with nothing due (every check ran, frequency 1h)");
    for (size, runs, target_ms) in IDLE_SIZES {
        let state = bench.dir.join(format!("idle-{size}.db"));
        // Services of 100 checks, as a large config would have them.
        let services: Vec<(String, Vec<String>)> = (0..size.div_ceil(100))
            .map(|s| {
                let checks = (0..100.min(size - s * 100))
                    .map(|c| {
                        format!(
                            "{{ name: c{c}, type: http, url: '{}' }}",
                            server.url(&format!("/idle/{s}/{c}"))
                        )
                    })
                    .collect();
                (format!("svc{s}"), checks)
            })
            .collect();
        let config = bench.write_config(
            &format!("idle-{size}.yaml"),
            &http_config(&state, &services, "1h"),
        )?;
        let jobs = BIG_JOBS.to_string();
        bench.cabot(&config, &["run", "--jobs", &jobs], &[0])?;
        // The first run's thousand connections leave the server's threads winding down
        // and the load average up: let them go before timing the idle runs.
        server.wait_idle();
        thread::sleep(Duration::from_secs(2));
        let before = server.requests();
        let mut walls = Vec::new();
        let mut cpus = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..runs {
            let m = bench.cabot(&config, &["run"], &[0])?;
            walls.push(m.wall.as_secs_f64() * 1000.0);
            cpus.push(m.cpu.as_secs_f64() * 1000.0);
            rss.push(mb(m.max_rss_kb));
        }
        let ran = server.requests() - before;
        let (checks_run, _) = last_run(&state)?;
        if ran != 0 || checks_run != 0 {
            println!("  WARNING: checks ran ({ran} requests); the runs were not idle");
        }
        let cpu = median(cpus);
        let target = if target_ms.is_finite() {
            format!(" (target < {target_ms} ms): {}", verdict(cpu < target_ms))
        } else {
            String::new()
        };
        println!(
            "  RESULT {size} checks, {runs} runs: cpu (user+sys) median {cpu:.1} ms{target}; \
             wall median {:.1} ms, p90 {:.1} ms; max RSS median {:.1} MB",
            median(walls.clone()),
            percentile(walls, 0.9),
            median(rss)
        );
    }
    Ok(())
}

/// Scenario 3: `cabot status` on a state with 1,000 results and on one with 1,000,000.
fn status_with_history(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 3. status with {STATUS_SMALL} vs {STATUS_LARGE} stored results ({STATUS_CHECKS} checks), {STATUS_RUNS} runs each"
    );
    // A port that was free a moment ago: every tcp check is refused at once.
    let closed = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut states = Vec::new();
    for (name, rows) in [("small", STATUS_SMALL), ("large", STATUS_LARGE)] {
        let state = bench.dir.join(format!("status-{name}.db"));
        let checks = (0..STATUS_CHECKS)
            .map(|i| format!("{{ name: c{i}, type: tcp, host: '127.0.0.1:{closed}' }}"))
            .collect();
        let config = bench.write_config(
            &format!("status-{name}.yaml"),
            &http_config(&state, &[("tcp".to_string(), checks)], "1m"),
        )?;
        bench.cabot(&config, &["run"], &[0])?;
        let built = Instant::now();
        fill_results(&state, rows)?;
        println!(
            "  {name}: {} results, {:.1} MB file (filled in {:.1} s)",
            count(&state, "SELECT count(*) FROM results")?,
            std::fs::metadata(&state)?.len() as f64 / 1e6,
            built.elapsed().as_secs_f64()
        );
        states.push(config);
    }
    // Alternate the two so that drift in the machine's load hits both alike.
    let mut samples: [Vec<Measured>; 2] = Default::default();
    // `status` exits 2 here: every check is failing. That is the answer, not an error.
    let codes = [0, 1, 2, 3];
    for _ in 0..STATUS_RUNS {
        for (config, runs) in states.iter().zip(&mut samples) {
            runs.push(bench.cabot(config, &["status"], &codes)?);
        }
    }
    let ms = |runs: &[Measured], f: fn(&Measured) -> Duration| -> Vec<f64> {
        runs.iter().map(|m| f(m).as_secs_f64() * 1000.0).collect()
    };
    for (rows, runs) in [STATUS_SMALL, STATUS_LARGE].iter().zip(&samples) {
        println!(
            "  {rows} results: median {:.1} ms, p90 {:.1} ms, cpu median {:.1} ms, max RSS {:.1} MB",
            median(ms(runs, |m| m.wall)),
            percentile(ms(runs, |m| m.wall), 0.9),
            median(ms(runs, |m| m.cpu)),
            median(runs.iter().map(|m| mb(m.max_rss_kb)).collect()),
        );
    }
    let s = median(ms(&samples[0], |m| m.wall));
    let l = median(ms(&samples[1], |m| m.wall));
    println!(
        "  RESULT status median {s:.1} ms vs {l:.1} ms: ratio {:.2} (target <= {STATUS_RATIO}): {}",
        l / s,
        verdict(l / s <= STATUS_RATIO)
    );
    Ok(())
}

/// Scenario 4: `GET /status/` under wrk, while `cabot run --all` writes the same state
/// every second from another thread.
fn status_under_load(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 4. serve-status: GET /status/ under wrk -t{SERVE_THREADS} -c{SERVE_CONNECTIONS} -d{SERVE_SECONDS}s, \
         while run --all of {SERVE_CHECKS} http checks ({} ms each) runs every second",
        SERVE_CHECK_DELAY.as_millis()
    );
    let Some(wrk) = find_program("wrk") else {
        println!("  SKIPPED: wrk is not installed (apt-get install wrk)");
        return Ok(());
    };
    let target = SlowServer::start(SERVE_CHECK_DELAY)?;
    let state = bench.dir.join("serve.db");
    let checks = (0..SERVE_CHECKS)
        .map(|i| {
            format!(
                "{{ name: c{i}, type: http, url: '{}' }}",
                target.url(&format!("/serve/{i}"))
            )
        })
        .collect();
    let config = bench.write_config(
        "serve.yaml",
        &http_config(&state, &[("serve".to_string(), checks)], "1m"),
    )?;
    bench.cabot(&config, &["run", "--all"], &[0])?;

    let (mut server, port) = serve_status(&config)?;
    let listen = format!("127.0.0.1:{port}");
    let pid = server.pid();
    let idle = memory(pid)?;
    println!(
        "  serve-status idle: VmRSS {:.1} MB, VmHWM {:.1} MB",
        mb(idle.rss_kb),
        mb(idle.hwm_kb)
    );

    let url = format!("http://{listen}/status/");
    let stop = AtomicBool::new(false);
    let (wrk_out, runs, peak_rss_kb) = thread::scope(|scope| {
        let runner = scope.spawn(|| {
            let mut walls = Vec::new();
            let mut failed = 0;
            while !stop.load(Ordering::SeqCst) {
                let started = Instant::now();
                match bench.cabot(&config, &["run", "--all"], &[0]) {
                    Ok(m) => walls.push(m.wall.as_secs_f64() * 1000.0),
                    Err(e) => {
                        failed += 1;
                        println!("  run failed: {e:#}");
                    }
                }
                if let Some(rest) = Duration::from_secs(1).checked_sub(started.elapsed()) {
                    thread::sleep(rest);
                }
            }
            (walls, failed)
        });
        let sampler = scope.spawn(|| peak_rss_kb(pid, &stop, Duration::from_millis(100)));
        let out = Command::new(&wrk)
            .args([
                format!("-t{SERVE_THREADS}"),
                format!("-c{SERVE_CONNECTIONS}"),
                format!("-d{SERVE_SECONDS}s"),
                "--latency".to_string(),
                url.clone(),
            ])
            .stdin(Stdio::null())
            .output();
        stop.store(true, Ordering::SeqCst);
        let runs = runner.join().unwrap_or_default();
        let peak = sampler.join().unwrap_or_default();
        (out, runs, peak)
    });
    let wrk_out = wrk_out.context("running wrk")?;
    thread::sleep(Duration::from_secs(1));
    let after = memory(pid)?;
    let cpu = server.stop()?;

    let text = String::from_utf8_lossy(&wrk_out.stdout);
    if !wrk_out.status.success() {
        bail!(
            "wrk failed ({}): {text}{}",
            wrk_out.status,
            String::from_utf8_lossy(&wrk_out.stderr)
        );
    }
    let (walls, failed) = runs;
    let rps = wrk_requests_per_second(&text).context("no Requests/sec in wrk's output")?;
    let p99 = wrk_percentile_ms(&text, "99%").context("no 99% latency in wrk's output")?;
    let p50 = wrk_percentile_ms(&text, "50%").unwrap_or(f64::NAN);
    for line in text.lines() {
        println!("  | {line}");
    }
    println!(
        "  {} runs during the load ({failed} failed), wall median {:.1} ms, max {:.1} ms",
        walls.len(),
        median(walls.clone()),
        walls.iter().copied().fold(0.0, f64::max),
    );
    println!(
        "  serve-status cpu (user+sys) over its life: {:.2} s; memory: VmRSS peak during \
         the load {:.1} MB, after it {:.1} MB, VmHWM {:.1} MB",
        cpu.as_secs_f64(),
        mb(peak_rss_kb),
        mb(after.rss_kb),
        mb(after.hwm_kb)
    );
    println!("  latency p50 {p50:.2} ms, p99 {p99:.2} ms; {rps:.0} requests/s");
    println!(
        "  RESULT {rps:.0} req/s, p99 {p99:.2} ms (target > {SERVE_TARGET_RPS:.0} req/s and \
         p99 < {SERVE_TARGET_P99_MS} ms): {}",
        verdict(rps > SERVE_TARGET_RPS && p99 < SERVE_TARGET_P99_MS)
    );
    Ok(())
}

/// Scenario 5: how soon a fast check's alert leaves while slow checks still run.
fn alert_latency(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 5. alert latency: a fast check fails beside {LATENCY_SLOW_CHECKS} checks answered after {} s; \
         from its answer to the webhook receiving the alert, {LATENCY_SAMPLES} incidents",
        LATENCY_SLOW_DELAY.as_secs()
    );
    let slow = SlowServer::start(LATENCY_SLOW_DELAY)?;
    let target = Stamped::start(true)?;
    let hook = Stamped::start(true)?;
    let state = bench.dir.join("latency.db");
    let slow_checks: Vec<String> = (0..LATENCY_SLOW_CHECKS)
        .map(|i| {
            format!(
                "{{ name: slow{i}, type: http, url: '{}', timeout: 10s }}",
                slow.url(&format!("/slow/{i}"))
            )
        })
        .collect();
    let mut text = http_config(&state, &[("slow".to_string(), slow_checks)], "1m");
    text = text.replace(
        "services:\n",
        &format!(
            "channels:\n  hook: {{ type: webhook, url: 'http://127.0.0.1:{}/hook' }}\nservices:\n",
            hook.port
        ),
    );
    text.push_str(&format!(
        "  - name: fast\n    channels: [hook]\n    checks:\n      - {{ name: home, type: http, url: 'http://127.0.0.1:{}/' }}\n",
        target.port
    ));
    let config = bench.write_config("latency.yaml", &text)?;
    // --jobs 128 runs every check at once; at the default 64 the slow ones fill the pool
    // and the fast one (last in the config) waits unless it is started first.
    for jobs in ["128", "64"] {
        println!("  --jobs {jobs}:");
        let mut latencies = Vec::new();
        let mut from_start = Vec::new();
        for i in 0..LATENCY_SAMPLES {
            // Passing first (only the fast check, at once), then failing beside the slow ones.
            target.set_ok(true);
            bench.cabot(&config, &["run", "--all", "--check", "fast/home"], &[0])?;
            target.set_ok(false);
            let answered = target.stamps.lock().map(|s| s.len()).unwrap_or(0);
            let alerts_before = hook.stamps.lock().map(|s| s.len()).unwrap_or(0);
            let started = Instant::now();
            let m = bench.cabot(&config, &["run", "--all", "--jobs", jobs], &[0])?;
            let answered_at = target
                .stamps
                .lock()
                .ok()
                .and_then(|s| s.get(answered).copied());
            let alerted_at = hook.stamps.lock().ok().and_then(|s| {
                s.iter()
                    .skip(alerts_before)
                    .copied()
                    .find(|t| answered_at.is_some_and(|a| *t >= a))
            });
            let (Some(answered_at), Some(alerted_at)) = (answered_at, alerted_at) else {
                bail!("incident {i}: no answer or no alert was seen");
            };
            let ms = (alerted_at - answered_at).as_secs_f64() * 1000.0;
            let since_start = (alerted_at - started).as_secs_f64() * 1000.0;
            println!(
                "  incident {}: alert {ms:.1} ms after the failing answer, {since_start:.0} ms after \
             the run started; the run took {:.2} s",
                i + 1,
                m.wall.as_secs_f64()
            );
            latencies.push(ms);
            from_start.push(since_start);
        }
        let p50 = median(latencies.clone());
        let max = latencies.iter().copied().fold(0.0, f64::max);
        let start_max = from_start.iter().copied().fold(0.0, f64::max);
        println!(
            "  RESULT --jobs {jobs}: alert latency p50 {p50:.1} ms, max {max:.1} ms (target < {LATENCY_TARGET_MS} ms): {}; \
         from the run's start p50 {:.0} ms, max {start_max:.0} ms (target < {LATENCY_TARGET_MS} ms): {}",
            verdict(max < LATENCY_TARGET_MS),
            median(from_start.clone()),
            verdict(start_max < LATENCY_TARGET_MS)
        );
    }
    Ok(())
}

/// A loopback HTTP server that answers at once, 200 or 500 as told, and notes when it
/// answered each request.
struct Stamped {
    port: u16,
    ok: Arc<AtomicBool>,
    stamps: Arc<std::sync::Mutex<Vec<Instant>>>,
}

impl Stamped {
    fn start(ok: bool) -> anyhow::Result<Stamped> {
        let listener = TcpListener::bind("127.0.0.1:0").context("binding")?;
        let port = listener.local_addr()?.port();
        let server = Stamped {
            port,
            ok: Arc::new(AtomicBool::new(ok)),
            stamps: Arc::default(),
        };
        let (ok, stamps) = (server.ok.clone(), server.stamps.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (ok, stamps) = (ok.clone(), stamps.clone());
                thread::spawn(move || {
                    let mut buf = Vec::new();
                    let mut chunk = [0u8; 4096];
                    let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                    // The head, then as much body as Content-Length says.
                    loop {
                        match stream.read(&mut chunk) {
                            Ok(0) | Err(_) => return,
                            Ok(n) => buf.extend_from_slice(&chunk[..n]),
                        }
                        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                            let length = head
                                .lines()
                                .find_map(|l| l.strip_prefix("content-length:"))
                                .and_then(|v| v.trim().parse::<usize>().ok())
                                .unwrap_or(0);
                            if buf.len() >= end + 4 + length {
                                break;
                            }
                        }
                    }
                    let reply: &[u8] = if ok.load(Ordering::SeqCst) {
                        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                    } else {
                        b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 4\r\nConnection: close\r\n\r\ndown"
                    };
                    if let Ok(mut s) = stamps.lock() {
                        s.push(Instant::now());
                    }
                    let _ = stream.write_all(reply);
                });
            }
        });
        Ok(server)
    }

    fn set_ok(&self, ok: bool) {
        self.ok.store(ok, Ordering::SeqCst);
    }
}

/// Scenario 6: 10,000 http checks at `--jobs 1000`, against a minimal client.
fn ten_thousand_http_checks(bench: &Bench, server: &SlowServer) -> anyhow::Result<()> {
    println!(
        "== 6. run --all --jobs {BIG_JOBS}: {BIG_CHECKS} http checks, server answers after {} ms",
        HTTP_DELAY.as_millis()
    );
    let state = bench.dir.join("big.db");
    let services: Vec<(String, Vec<String>)> = (0..BIG_CHECKS / 100)
        .map(|s| {
            let checks = (0..100)
                .map(|c| {
                    format!(
                        "{{ name: c{c}, type: http, url: '{}', expect_status: 200 }}",
                        server.url(&format!("/big/{s}/{c}"))
                    )
                })
                .collect();
            (format!("svc{s}"), checks)
        })
        .collect();
    let config = bench.write_config("big.yaml", &http_config(&state, &services, "1m"))?;
    let jobs = BIG_JOBS.to_string();
    let args = ["run", "--all", "--jobs", jobs.as_str()];
    bench.cabot(&config, &args, &[0])?;
    let mut samples = Vec::new();
    for i in 0..HTTP_REPEATS {
        let m = bench.cabot(&config, &args, &[0])?;
        let (checks_run, failures) = last_run(&state)?;
        println!(
            "  run {}: wall {:.3} s, cpu {:.3} s, max RSS {:.1} MB; {checks_run} checks run, {failures} failed",
            i + 1,
            m.wall.as_secs_f64(),
            m.cpu.as_secs_f64(),
            mb(m.max_rss_kb)
        );
        samples.push(m);
    }
    // The same requests from a minimal client: this bench binary again, `BIG_JOBS` threads
    // each making its share one after the other, one connection per request, as cabot does.
    let mut clients = Vec::new();
    for _ in 0..HTTP_REPEATS {
        let mut cmd = Command::new(std::env::current_exe()?);
        cmd.env(
            CLIENT_VAR,
            format!("{}:{BIG_CHECKS}:{BIG_JOBS}", server.port),
        )
        .stdin(Stdio::null())
        .stdout(Stdio::null());
        let started = Instant::now();
        let child = cmd.spawn().context("starting the minimal client")?;
        let (code, usage) = wait4(child.id() as libc::pid_t)?;
        if code != 0 {
            bail!("the minimal client exited {code}");
        }
        clients.push(Measured {
            wall: started.elapsed(),
            cpu: timeval(usage.ru_utime) + timeval(usage.ru_stime),
            max_rss_kb: usage.ru_maxrss,
        });
    }
    let wall = median(samples.iter().map(|m| m.wall.as_secs_f64()).collect());
    let cpu = median(samples.iter().map(|m| m.cpu.as_secs_f64()).collect());
    let rss = median(samples.iter().map(|m| mb(m.max_rss_kb)).collect());
    let client_cpu = median(clients.iter().map(|m| m.cpu.as_secs_f64()).collect());
    let client_wall = median(clients.iter().map(|m| m.wall.as_secs_f64()).collect());
    let ideal = BIG_CHECKS.div_ceil(BIG_JOBS) as f64 * HTTP_DELAY.as_secs_f64();
    println!(
        "  minimal client: wall {client_wall:.3} s, cpu {client_cpu:.3} s (medians of {HTTP_REPEATS})"
    );
    println!(
        "  RESULT wall time (median of {HTTP_REPEATS}): {wall:.3} s = {:.2}x the ideal {ideal:.1} s \
         (target <= {BIG_WALL_FACTOR}x): {}; {:.2}x the minimal client's wall ({client_wall:.3} s), \
         whose server shares these cores too",
        wall / ideal,
        verdict(wall <= ideal * BIG_WALL_FACTOR),
        wall / client_wall
    );
    println!(
        "  RESULT cpu (user+sys, median): {cpu:.3} s = {:.3} s per 1,000 checks = {:.2}x the \
         minimal client (target <= {BIG_CPU_FACTOR}x): {}",
        cpu * 1000.0 / BIG_CHECKS as f64,
        cpu / client_cpu,
        verdict(cpu <= client_cpu * BIG_CPU_FACTOR)
    );
    println!(
        "  RESULT peak RSS (median): {rss:.1} MB (target < {RSS_TARGET_MB} MB): {}",
        verdict(rss < RSS_TARGET_MB)
    );
    Ok(())
}

/// Tells the bench binary to be the minimal client: `PORT:REQUESTS:THREADS`.
const CLIENT_VAR: &str = "CABOT_BENCH_CLIENT";

/// The least a client can do for each request: connect, send a GET, read the answer to
/// its end, close; `threads` at once, each its share in turn.
fn minimal_client(spec: &str) -> anyhow::Result<()> {
    let mut parts = spec.split(':').map(str::parse::<usize>);
    let (Some(Ok(port)), Some(Ok(requests)), Some(Ok(threads))) =
        (parts.next(), parts.next(), parts.next())
    else {
        bail!("{CLIENT_VAR} must be PORT:REQUESTS:THREADS");
    };
    let failures = AtomicUsize::new(0);
    thread::scope(|scope| {
        for t in 0..threads {
            let failures = &failures;
            thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn_scoped(scope, move || {
                    for i in (t..requests).step_by(threads) {
                        let ok = TcpStream::connect(("127.0.0.1", port as u16)).and_then(|mut c| {
                            write!(c, "GET /client/{i} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")?;
                            let mut answer = Vec::new();
                            c.read_to_end(&mut answer)?;
                            Ok(answer.starts_with(b"HTTP/1.1 200"))
                        });
                        if !matches!(ok, Ok(true)) {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                })
                .map(|_| ())
                .unwrap_or_else(|_| {
                    failures.fetch_add(1, Ordering::SeqCst);
                });
        }
    });
    let failed = failures.load(Ordering::SeqCst);
    if failed > 0 {
        bail!("{failed} requests failed");
    }
    Ok(())
}

/// A `serve-status` child, killed when dropped.
struct Server(Option<Child>);

/// `serve-status` on a free loopback port, once it answers "Checks running".
fn serve_status(config: &Path) -> anyhow::Result<(Server, u16)> {
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let listen = format!("127.0.0.1:{port}");
    let server = Server(Some(
        cabot_command(config, &["serve-status", "--listen", &listen])
            .stderr(Stdio::null())
            .spawn()
            .context("starting serve-status")?,
    ));
    wait_until_running(port)?;
    Ok((server, port))
}

/// The highest VmRSS of `pid`, sampled every `every` until `stop` is set.
fn peak_rss_kb(pid: libc::pid_t, stop: &AtomicBool, every: Duration) -> i64 {
    let mut peak = 0;
    while !stop.load(Ordering::SeqCst) {
        if let Ok(m) = memory(pid) {
            peak = peak.max(m.rss_kb);
        }
        thread::sleep(every);
    }
    peak
}

impl Server {
    fn pid(&self) -> libc::pid_t {
        self.0.as_ref().map_or(0, |c| c.id() as libc::pid_t)
    }

    /// Kills and reaps the server; returns the CPU time it used.
    fn stop(&mut self) -> anyhow::Result<Duration> {
        let Some(mut child) = self.0.take() else {
            bail!("serve-status already stopped");
        };
        child.kill().context("stopping serve-status")?;
        let (_, usage) = wait4(child.id() as libc::pid_t)?;
        Ok(timeval(usage.ru_utime) + timeval(usage.ru_stime))
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// Polls `/status/` until it says "Checks running", for up to 10 s.
fn wait_until_running(port: u16) -> anyhow::Result<()> {
    let started = Instant::now();
    loop {
        let answer = TcpStream::connect(("127.0.0.1", port)).and_then(|mut conn| {
            conn.set_read_timeout(Some(Duration::from_secs(2)))?;
            conn.write_all(b"GET /status/ HTTP/1.0\r\n\r\n")?;
            let mut text = String::new();
            conn.read_to_string(&mut text)?;
            Ok(text)
        });
        match answer {
            Ok(text) if text.ends_with("Checks running") => return Ok(()),
            Ok(text) if started.elapsed() > Duration::from_secs(10) => {
                bail!("serve-status answered: {text}")
            }
            Err(e) if started.elapsed() > Duration::from_secs(10) => {
                return Err(e).context("serve-status does not answer");
            }
            _ => thread::sleep(Duration::from_millis(50)),
        }
    }
}

/// A process's resident memory now and its peak, from `/proc/PID/status`, in kB.
struct Memory {
    rss_kb: i64,
    hwm_kb: i64,
}

fn memory(pid: libc::pid_t) -> anyhow::Result<Memory> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status"))
        .with_context(|| format!("reading /proc/{pid}/status"))?;
    let field = |name: &str| -> anyhow::Result<i64> {
        status
            .lines()
            .find_map(|l| l.strip_prefix(name))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .with_context(|| format!("no {name} in /proc/{pid}/status"))
    };
    Ok(Memory {
        rss_kb: field("VmRSS:")?,
        hwm_kb: field("VmHWM:")?,
    })
}

/// The first `name` on `$PATH` that is a file.
fn find_program(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// `Requests/sec:  12345.67` from wrk's summary.
fn wrk_requests_per_second(text: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Requests/sec:"))
        .and_then(|v| v.trim().parse().ok())
}

/// A line of wrk's `--latency` distribution (`99%    2.10ms`), in milliseconds.
fn wrk_percentile_ms(text: &str, which: &str) -> Option<f64> {
    let value = text
        .lines()
        .find_map(|l| l.trim().strip_prefix(which))?
        .trim();
    let split = value.find(|c: char| c.is_ascii_alphabetic())?;
    let (number, unit) = value.split_at(split);
    let number: f64 = number.parse().ok()?;
    let factor = match unit {
        "us" => 0.001,
        "ms" => 1.0,
        "s" => 1_000.0,
        "m" => 60_000.0,
        _ => return None,
    };
    Some(number * factor)
}

/// Adds synthetic results, spread over the checks and the last days, until there are `total`.
fn fill_results(state: &Path, total: i64) -> anyhow::Result<()> {
    let mut conn = rusqlite::Connection::open(state)
        .with_context(|| format!("opening {}", state.display()))?;
    let have: i64 = conn.query_row("SELECT count(*) FROM results", [], |r| r.get(0))?;
    let add = total - have;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)?
        .as_secs() as i64;
    let tx = conn.transaction()?;
    tx.execute(
        "WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < ?1)
         INSERT INTO results (check_id, at, ok, duration_ms, message)
         SELECT (SELECT min(id) FROM checks) + i % ?2, ?3 - (?1 - i) * 2, i % 7 != 0, i % 50,
                'cannot connect to 127.0.0.1: connection refused'
         FROM n",
        rusqlite::params![add, STATUS_CHECKS as i64, now],
    )?;
    tx.commit()?;
    // Fold the WAL into the file, as a long-lived state would have, so `status` reads
    // the history from the database and not from a fresh log.
    conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    Ok(())
}

fn count(state: &Path, sql: &str) -> anyhow::Result<i64> {
    let conn = rusqlite::Connection::open(state)?;
    Ok(conn.query_row(sql, [], |r| r.get(0))?)
}

/// The last completed run's `(checks_run, failures)`.
fn last_run(state: &Path) -> anyhow::Result<(i64, i64)> {
    let conn = rusqlite::Connection::open(state)?;
    Ok(conn.query_row(
        "SELECT checks_run, failures FROM runs ORDER BY id DESC LIMIT 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?)
}

/// A listener on 127.0.0.1 with a backlog of 4,096 (std's is 128): a thousand connections
/// that arrive at once must not wait for a SYN retransmit, a second later.
fn listen_wide() -> anyhow::Result<TcpListener> {
    listen_wide_on(0)
}

fn listen_wide_on(port: u16) -> anyhow::Result<TcpListener> {
    let listener = TcpListener::bind(("127.0.0.1", port)).context("binding the HTTP server")?;
    // Listening again on a bound and listening socket only changes its backlog.
    // SAFETY: the descriptor is the listener's own, open for as long as it lives.
    let fd = std::os::fd::AsRawFd::as_raw_fd(&listener);
    if unsafe { libc::listen(fd, 4096) } != 0 {
        return Err(std::io::Error::last_os_error()).context("widening the backlog");
    }
    Ok(listener)
}

/// Takes every descriptor the hard limit allows.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read or write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

fn mb(kb: i64) -> f64 {
    kb as f64 / 1024.0
}

fn verdict(met: bool) -> &'static str {
    if met { "PASS" } else { "FAIL" }
}

fn median(samples: Vec<f64>) -> f64 {
    percentile(samples, 0.5)
}

/// Nearest-rank percentile: the smallest sample at or above fraction `p` of them.
fn percentile(mut samples: Vec<f64>, p: f64) -> f64 {
    if samples.is_empty() {
        return f64::NAN;
    }
    samples.sort_by(f64::total_cmp);
    let rank = (p * samples.len() as f64).ceil() as usize;
    samples[rank.clamp(1, samples.len()) - 1]
}

/// Scenario 7: what reading the state costs at 10,000 checks, in three shapes: `status` in
/// its three forms, `validate`, and serve-status's `/status.json` and `/`, every service
/// public. One check in every fifty services fails, so the answers have failures in them.
fn reading_ten_thousand_checks(bench: &Bench) -> anyhow::Result<()> {
    println!(
        "== 7. reading {SCALE_CHECKS} checks in {SCALE_SERVICES:?} services: status, validate, \
         /status.json, / ({SCALE_RUNS} runs, {SCALE_REQUESTS} requests each)"
    );
    // A listener that takes every connection and drops it: a tcp check passes.
    let open = TcpListener::bind("127.0.0.1:0")?;
    let open_port = open.local_addr()?.port();
    thread::spawn(move || {
        for conn in open.incoming() {
            drop(conn);
        }
    });
    let closed = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    let mut shapes = Vec::new();
    for services in SCALE_SERVICES {
        let per = SCALE_CHECKS / services;
        let state = bench.dir.join(format!("scale-{services}.db"));
        let mut text = format!(
            "state: '{}'\nstale_after: 1d\ndefaults: {{ frequency: 1h, timeout: 5s }}\nservices:\n",
            state.display()
        );
        for s in 0..services {
            text.push_str(&format!(
                "  - name: service-{s:05}\n    public: true\n    checks:\n"
            ));
            for c in 0..per {
                let port = if s % 50 == 7 && c == 0 {
                    closed
                } else {
                    open_port
                };
                text.push_str(&format!(
                    "      - {{ name: check-{c:03}, type: tcp, host: '127.0.0.1:{port}' }}\n"
                ));
            }
        }
        let config = bench.write_config(&format!("scale-{services}.yaml"), &text)?;
        bench.cabot(&config, &["run", "--all", "--jobs", "200"], &[0])?;
        let (checks_run, failures) = last_run(&state)?;
        println!("  {services} services: {checks_run} checks run, {failures} failed");
        shapes.push((services, config));
    }
    let codes = [0, 1, 2, 3];
    let forms: [(&str, &[&str]); 4] = [
        ("status", &["status"]),
        ("status --json", &["status", "--json"]),
        ("status --nagios", &["status", "--nagios"]),
        ("validate", &["validate"]),
    ];
    if let Some(nagios) = find_program("nagios4").or_else(|| {
        let sbin = PathBuf::from("/usr/sbin/nagios4");
        sbin.is_file().then_some(sbin)
    }) {
        for services in SCALE_SERVICES {
            let main = nagios_config(bench, services, open_port)?;
            let mut cmd = Command::new(&nagios);
            cmd.arg("-v").arg(&main).stdout(Stdio::null());
            let runs = (0..SCALE_RUNS)
                .map(|_| bench.measure(cmd_clone(&cmd), &[0]))
                .collect::<anyhow::Result<Vec<Measured>>>()?;
            println!(
                "  {services:>5} services, nagios4 -v ({} services on {} hosts): cpu median {:6.1} ms, wall median {:6.1} ms, max RSS {:.1} MB",
                SCALE_CHECKS,
                services,
                median(runs.iter().map(|m| m.cpu.as_secs_f64() * 1000.0).collect()),
                median(runs.iter().map(|m| m.wall.as_secs_f64() * 1000.0).collect()),
                median(runs.iter().map(|m| mb(m.max_rss_kb)).collect()),
            );
        }
    } else {
        println!("  nagios4 not installed (apt-get install nagios4-core): no comparison");
    }
    // Rounds of every shape and form in turn: what the VM's neighbours do to its CPU then
    // falls on all of them alike, not on whichever shape ran during a noisy second.
    let mut runs: Vec<Vec<Measured>> = vec![Vec::new(); shapes.len() * forms.len()];
    for _ in 0..SCALE_RUNS {
        for (i, (_, config)) in shapes.iter().enumerate() {
            for (j, (_, args)) in forms.iter().enumerate() {
                runs[i * forms.len() + j].push(bench.cabot(config, args, &codes)?);
            }
        }
    }
    println!("  (load {} after the runs)", load_average());
    let mut status_cpu = Vec::new();
    for (i, (services, config)) in shapes.iter().enumerate() {
        for (j, (name, _)) in forms.iter().enumerate() {
            let runs = &runs[i * forms.len() + j];
            let cpu = median(runs.iter().map(|m| m.cpu.as_secs_f64() * 1000.0).collect());
            let wall = median(runs.iter().map(|m| m.wall.as_secs_f64() * 1000.0).collect());
            let rss = median(runs.iter().map(|m| mb(m.max_rss_kb)).collect());
            println!(
                "  {services:>5} services, {name:<16} cpu median {cpu:6.1} ms, wall median {wall:6.1} ms, max RSS {rss:.1} MB"
            );
            if name.starts_with("status") {
                status_cpu.push((*services, *name, cpu));
            }
        }
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let mut server = Server(Some(
            cabot_command(config, &["serve-status", "--listen", &listen])
                .stderr(Stdio::null())
                .spawn()
                .context("starting serve-status")?,
        ));
        wait_until_running(port)?;
        for path in ["/status.json", "/"] {
            let cpu_before = process_cpu(server.pid())?;
            let mut walls = Vec::new();
            let mut size = 0;
            for _ in 0..SCALE_REQUESTS {
                let started = Instant::now();
                let answer = http_get(port, path)?;
                walls.push(started.elapsed().as_secs_f64() * 1000.0);
                size = answer.len();
            }
            let cpu = (process_cpu(server.pid())? - cpu_before).as_secs_f64() * 1000.0
                / SCALE_REQUESTS as f64;
            println!(
                "  {services:>5} services, GET {path:<12} median {:6.1} ms, max {:6.1} ms, server cpu {cpu:6.1} ms a request, {:.0} kB",
                median(walls.clone()),
                walls.iter().copied().fold(0.0, f64::max),
                size as f64 / 1000.0
            );
            if path == "/status.json" {
                let m = median(walls);
                println!(
                    "  RESULT {services} services: /status.json median {m:.1} ms (target < {SCALE_JSON_MS} ms): {}",
                    verdict(m < SCALE_JSON_MS)
                );
            }
        }
        server.stop()?;
    }
    for (j, form) in ["status", "status --json", "status --nagios"]
        .iter()
        .enumerate()
    {
        let of = |n: usize| {
            status_cpu
                .iter()
                .find(|(s, f, _)| *s == n && f == form)
                .map_or(f64::NAN, |(_, _, c)| *c)
        };
        let (few, many) = (of(SCALE_SERVICES[0]), of(SCALE_SERVICES[2]));
        let worst = SCALE_SERVICES.iter().map(|n| of(*n)).fold(0.0, f64::max);
        // Each round's run of the large shape against the same round's run of the small one,
        // a second apart: a slow spell of the VM, which lasts longer, falls on both.
        let (small, large) = (
            &runs[j],
            &runs[(SCALE_SERVICES.len() - 1) * forms.len() + j],
        );
        let paired = median(
            small
                .iter()
                .zip(large)
                .map(|(a, b)| b.cpu.as_secs_f64() / a.cpu.as_secs_f64())
                .collect(),
        );
        println!(
            "  RESULT {form}: cpu {few:.1} ms at {} services, {many:.1} ms at {} ({:.2}x of the medians, {paired:.2}x paired by round); worst {worst:.1} ms (target < {SCALE_STATUS_CPU_MS} ms): {}",
            SCALE_SERVICES[0],
            SCALE_SERVICES[2],
            many / few,
            verdict(worst < SCALE_STATUS_CPU_MS)
        );
    }
    Ok(())
}

/// A process's user+system CPU time so far, from `/proc/PID/stat`.
fn process_cpu(pid: libc::pid_t) -> anyhow::Result<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // The fields after the command name (which may hold spaces) in parentheses.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<u64>().ok())
            .unwrap_or(0)
    };
    // utime and stime are fields 14 and 15 of the line; what follows the name starts at 3.
    // SAFETY: sysconf has no preconditions.
    let per_second = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Ok(Duration::from_millis(
        (ticks(11) + ticks(12)) * 1000 / per_second,
    ))
}

/// One `GET` on a fresh connection; the whole answer.
fn http_get(port: u16, path: &str) -> anyhow::Result<Vec<u8>> {
    let mut conn = TcpStream::connect(("127.0.0.1", port))?;
    conn.set_read_timeout(Some(Duration::from_secs(10)))?;
    conn.write_all(format!("GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").as_bytes())?;
    let mut answer = Vec::new();
    conn.read_to_end(&mut answer)?;
    if !answer.starts_with(b"HTTP/1.1 200") {
        bail!(
            "GET {path}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(100)])
        );
    }
    Ok(answer)
}

/// A copy of `cmd`'s program and arguments (a `Command` cannot be cloned).
fn cmd_clone(cmd: &Command) -> Command {
    let mut copy = Command::new(cmd.get_program());
    copy.args(cmd.get_args()).stdout(Stdio::null());
    copy
}

/// A Nagios 4 configuration with the scale scenario's shape: `hosts` hosts (cabot's
/// services) sharing 10,000 `check_tcp` services, one contact, 24x7. What `nagios4 -v`
/// reads and verifies, as `cabot validate` does its config.
fn nagios_config(bench: &Bench, hosts: usize, port: u16) -> anyhow::Result<PathBuf> {
    let dir = bench.dir.join(format!("nagios-{hosts}"));
    std::fs::create_dir_all(dir.join("var"))?;
    let per = SCALE_CHECKS / hosts;
    let mut objects = String::from(
        "define timeperiod {\n timeperiod_name 24x7\n alias always\n sunday 00:00-24:00\n monday 00:00-24:00\n tuesday 00:00-24:00\n wednesday 00:00-24:00\n thursday 00:00-24:00\n friday 00:00-24:00\n saturday 00:00-24:00\n}\n\
         define command {\n command_name check_tcp\n command_line /usr/lib/nagios/plugins/check_tcp -H $HOSTADDRESS$ -p $ARG1$\n}\n\
         define command {\n command_name notify\n command_line /bin/true\n}\n\
         define contact {\n contact_name ops\n host_notifications_enabled 0\n service_notifications_enabled 1\n host_notification_period 24x7\n service_notification_period 24x7\n host_notification_options n\n service_notification_options w,c,r\n host_notification_commands notify\n service_notification_commands notify\n}\n",
    );
    for h in 0..hosts {
        objects.push_str(&format!(
            "define host {{\n host_name service-{h:05}\n address 127.0.0.1\n max_check_attempts 1\n check_period 24x7\n contacts ops\n notification_period 24x7\n}}\n"
        ));
        for c in 0..per {
            objects.push_str(&format!(
                "define service {{\n host_name service-{h:05}\n service_description check-{c:03}\n check_command check_tcp!{port}\n max_check_attempts 1\n check_interval 60\n retry_interval 1\n check_period 24x7\n notification_period 24x7\n contacts ops\n}}\n"
            ));
        }
    }
    std::fs::write(dir.join("objects.cfg"), objects)?;
    let var = dir.join("var");
    let main = dir.join("nagios.cfg");
    std::fs::write(
        &main,
        format!(
            "cfg_file={}\nlog_file={}/nagios.log\nstatus_file={}/status.dat\nobject_cache_file={}/objects.cache\nprecached_object_file={}/objects.precache\ntemp_file={}/nagios.tmp\ntemp_path={}\nlock_file={}/nagios.lock\ncommand_file={}/nagios.cmd\ncheck_result_path={}\nstate_retention_file={}/retention.dat\nnagios_user=root\nnagios_group=root\nillegal_macro_output_chars=`~$&|'\"<>\n",
            dir.join("objects.cfg").display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display(),
            var.display()
        ),
    )?;
    Ok(main)
}
