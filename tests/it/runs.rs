//! Every check on its own clock: a slow check delays no other check's result, alert or
//! schedule; overlapping runs share the work through leases in the state and never run a
//! check twice at once; a killed run's leases lapse by themselves. Servers and the alert
//! receiver run on 127.0.0.1; time is CABOT_NOW where it can be, and real seconds only
//! where a process must really be slow.

use std::path::Path;
use std::process::Child;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::support::*;

/// Waits until `cond` holds, for at most `limit`; whether it did.
fn wait_for(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if cond() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    cond()
}

/// A shell command that waits until `release` exists: a check as slow as the test says.
fn blocked_until(release: &Path) -> String {
    sh(&format!(
        "while [ ! -e '{}' ]; do sleep 0.05; done; echo 'OK - released'",
        release.display()
    ))
}

/// Results stored for `service/check` (none while the state is being made).
fn results(env: &Env, service: &str, check: &str) -> i64 {
    env.try_count(&format!(
        "SELECT count(*) FROM results r JOIN checks c ON c.id = r.check_id
         WHERE c.service = '{service}' AND c.name = '{check}'"
    ))
    .unwrap_or(0)
}

fn kill(mut child: Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn a_slow_check_holds_back_no_other_services_result_alert_or_next_run() {
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let closed = closed_port();
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{hook}' }}
services:
  - name: a
    channels: [hook]
    checks:
      - {{ name: slow, type: command, command: {slow}, timeout: 30s, frequency: 5m }}
  - name: b
    channels: [hook]
    checks:
      - {{ name: fast, type: tcp, host: '127.0.0.1:{closed}', frequency: 10s, importance: critical }}
",
        hook = hook.url("/hook"),
        slow = sh("sleep 20"),
    ));
    let wall = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64)
    };
    let started_at = wall();
    let started = Instant::now();
    let first = env.command(&["run"]).spawn().expect("spawn the first run");
    let alerted = wait_for(Duration::from_secs(10), || !hook.requests().is_empty());
    let latency = started.elapsed();
    assert!(alerted, "no alert for b while a's check is slow");
    assert!(
        latency < Duration::from_secs(2),
        "b's alert took {latency:?} from the run's start"
    );
    let alert: serde_json::Value =
        serde_json::from_str(&hook.requests()[0].body).expect("alert JSON");
    assert_eq!(
        (alert["service"].as_str(), alert["status"].as_str()),
        (Some("b"), Some("CRITICAL"))
    );
    // b's check is stamped with its own start, and recorded while a's still runs.
    let b_started: i64 = env.count("SELECT last_run_at FROM checks WHERE name = 'fast'");
    assert!(
        (started_at..=started_at + 2).contains(&b_started),
        "b ran at {b_started}, the run started at {started_at}"
    );
    assert_eq!(results(&env, "a", "slow"), 0, "a's check is still running");

    // Five seconds on, cron's next run: b's check is due again (10 s frequency, 5 s of
    // cron jitter: due from its start + 5 s, counted in the state's whole seconds), a's is
    // not its to run. The first run, still waiting on a's, may start b's itself: b runs
    // again once, in one run or the other.
    while wall() < b_started + 5 {
        std::thread::sleep(Duration::from_millis(50));
    }
    let second_started = Instant::now();
    let second = env.cabot(&["run"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert!(
        second_started.elapsed() < Duration::from_secs(10),
        "the second run waited for the first"
    );
    assert!(
        wait_for(Duration::from_secs(5), || results(&env, "b", "fast") == 2),
        "b ran again"
    );
    std::thread::sleep(Duration::from_millis(300));
    assert_eq!(results(&env, "b", "fast"), 2, "b ran once more, not twice");
    assert_eq!(
        results(&env, "a", "slow"),
        0,
        "a's check ran once, in the first run"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM runs"),
        1,
        "the second run completed"
    );
    kill(first);
}

#[test]
fn a_1m_check_runs_every_minute_beside_a_check_that_takes_longer() {
    let env = Env::new("");
    let release = env.path("release");
    env.write_config(&format!(
        "services:
  - name: site
    checks:
      - {{ name: home, type: tcp, host: '127.0.0.1:{port}', frequency: 1m }}
  - name: backups
    checks:
      - {{ name: slow, type: command, command: {slow}, timeout: 90s, frequency: 10m }}
",
        port = closed_port(),
        slow = blocked_until(&release),
    ));
    // Cron's minute by minute, the clock given to each run: the slow check started in the
    // first run is still running through the second, and ends (it "took 75 s") then.
    let first = env
        .command(&["run"])
        .env("CABOT_NOW", T0.to_string())
        .spawn()
        .expect("spawn");
    assert!(
        wait_for(Duration::from_secs(10), || results(&env, "site", "home")
            == 1),
        "the 1m check's result is recorded before the slow check ends"
    );
    let mut first = first;
    for minute in 1..=5 {
        let run = env.cabot_at(T0 + minute * MIN, &["run"]);
        assert_eq!(run.code, 0, "minute {minute}: {run:?}");
        if minute == 1 {
            // Its 75 s are up before the next minute: the first run ends.
            std::fs::write(&release, "").expect("release the slow check");
            assert!(first.wait().expect("first run").success());
        }
    }
    assert_eq!(
        results(&env, "site", "home"),
        6,
        "once a minute, minutes 0 to 5"
    );
    assert_eq!(
        results(&env, "backups", "slow"),
        1,
        "the slow check ran once"
    );
    let starts: Vec<i64> = {
        let db = env.db();
        let mut stmt = db
            .prepare(
                "SELECT r.at FROM results r JOIN checks c ON c.id = r.check_id
                 WHERE c.name = 'home' ORDER BY r.id",
            )
            .expect("query");
        stmt.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("results")
    };
    for (minute, at) in starts.iter().enumerate() {
        let expected = T0 + minute as i64 * MIN;
        assert!(
            (expected..expected + 5).contains(at),
            "minute {minute}'s result at {at}, not in its own minute ({expected})"
        );
    }
    assert_eq!(
        env.count("SELECT last_run_at FROM checks WHERE name = 'slow'"),
        T0,
        "the slow check's schedule follows its own start"
    );
}

#[test]
fn under_a_systemd_timer_a_run_waiting_on_a_slow_check_starts_what_comes_due() {
    // systemd starts no second cabot.service while one runs: the one run alive must start
    // the checks that come due while its slow check holds it, and no check that could
    // not finish before that slow check's deadline (which would keep the run alive longer).
    let env = Env::new("");
    let release = env.path("release");
    let closed = closed_port();
    env.write_config(&format!(
        "services:
  - name: backups
    checks:
      - {{ name: slow, type: command, command: {slow}, timeout: 30s, frequency: 10m }}
  - name: site
    checks:
      - {{ name: fast, type: tcp, host: '127.0.0.1:{closed}', timeout: 5s, frequency: 10s }}
      - {{ name: patient, type: tcp, host: '127.0.0.1:{closed}', timeout: 60s, frequency: 10s }}
",
        slow = blocked_until(&release),
    ));
    let started = Instant::now();
    let mut run = env
        .command(&["run", "-v"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn the run");
    // Due again 5 s after its first start (10 s, less cron's 5 s of jitter).
    assert!(
        wait_for(Duration::from_secs(12), || results(&env, "site", "fast")
            == 2),
        "the 10s check ran again within the run that waits on the slow one"
    );
    let again = started.elapsed();
    assert!(
        again >= Duration::from_secs(4) && again < Duration::from_secs(9),
        "ran again after {again:?}"
    );
    assert_eq!(
        run.try_wait().expect("the run").map(|s| s.code()),
        None,
        "the run is still alive, waiting on the slow check"
    );
    assert_eq!(results(&env, "backups", "slow"), 0);
    std::fs::write(&release, "").expect("release the slow check");
    let released = Instant::now();
    let status = run.wait().expect("the run");
    assert!(status.success());
    assert!(
        released.elapsed() < Duration::from_secs(3),
        "the run ended {:?} after its slow check",
        released.elapsed()
    );
    let mut err = String::new();
    std::io::Read::read_to_string(&mut run.stderr.take().expect("stderr"), &mut err)
        .expect("stderr");
    assert!(
        err.contains("came due while slow checks still run; starting"),
        "{err}"
    );
    assert_eq!(results(&env, "backups", "slow"), 1);
    assert_eq!(
        results(&env, "site", "patient"),
        1,
        "a 60s timeout does not fit before the slow check's 30s deadline"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM runs"),
        1,
        "one run, completed"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM checks WHERE claimed_by IS NOT NULL"),
        0,
        "no lease is left behind"
    );
}

#[test]
fn two_runs_started_together_run_each_check_exactly_once() {
    // Every request is held 300 ms; each path is one check.
    let seen: Arc<Mutex<Vec<String>>> = Arc::default();
    let log = Arc::clone(&seen);
    let server = RawServer::start(move |mut conn| {
        let head = read_request_head(&mut conn);
        let path = head.split(' ').nth(1).unwrap_or("").to_string();
        log.lock().expect("log").push(path);
        std::thread::sleep(Duration::from_millis(300));
        respond_raw(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            b"ok",
        );
    });
    let checks: String = (0..30)
        .map(|i| {
            format!(
                "      - {{ name: c{i}, type: http, url: '{}' }}\n",
                server.url(&format!("/c{i}"))
            )
        })
        .collect();
    let env = Env::new(&format!("services:\n  - name: s\n    checks:\n{checks}"));
    let a = env
        .command(&["run", "--jobs", "4"])
        .env("CABOT_NOW", T0.to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("a");
    let b = env
        .command(&["run", "--jobs", "4"])
        .env("CABOT_NOW", T0.to_string())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("b");
    for child in [a, b] {
        let out = child.wait_with_output().expect("run");
        assert!(out.status.success(), "{out:?}");
    }
    let mut paths = seen.lock().expect("log").clone();
    paths.sort();
    let mut unique = paths.clone();
    unique.dedup();
    assert_eq!(paths.len(), 30, "each check ran once: {paths:?}");
    assert_eq!(unique.len(), 30);
    assert_eq!(env.count("SELECT count(*) FROM results"), 30);
    assert_eq!(env.count("SELECT count(*) FROM runs"), 2);
    assert_eq!(
        env.count("SELECT count(*) FROM checks WHERE claimed_by IS NOT NULL"),
        0,
        "no lease is left behind"
    );
}

#[test]
fn a_killed_runs_lease_lapses_and_the_check_runs_again_after_its_deadline() {
    let started = Arc::new(AtomicUsize::new(0));
    let count = Arc::clone(&started);
    // The first request never gets an answer; later ones do.
    let server = RawServer::start(move |mut conn| {
        read_request_head(&mut conn);
        if count.fetch_add(1, Ordering::SeqCst) == 0 {
            std::thread::sleep(Duration::from_secs(60));
        }
        respond_raw(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            b"ok",
        );
    });
    let env = Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: hung, type: http, url: '{}', timeout: 10s }}\n",
        server.url("/")
    ));
    let first = env
        .command(&["run"])
        .env("CABOT_NOW", T0.to_string())
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || started
        .load(Ordering::SeqCst)
        == 1));
    kill(first);
    // The lease runs to the check's deadline (10 s and the runner's 2 s) plus a 10 s margin.
    let lease: i64 = env.count("SELECT claim_until FROM checks WHERE name = 'hung'");
    assert_eq!(lease, T0 + 22);
    let inside = env.cabot_at(T0 + 21, &["run"]);
    assert_eq!(inside.code, 0, "{inside:?}");
    assert_eq!(
        started.load(Ordering::SeqCst),
        1,
        "the lease still holds at T0+21"
    );
    let after = env.cabot_at(T0 + 22, &["run"]);
    assert_eq!(after.code, 0, "{after:?}");
    assert_eq!(
        started.load(Ordering::SeqCst),
        2,
        "it ran again once the lease lapsed"
    );
    assert_eq!(results(&env, "s", "hung"), 1);
    let c = check_json(&env.status_json(), "s", "hung").clone();
    assert_eq!(c["status"], "passing", "{c}");
}

/// Sends `signal` to a child, as `kill -SIGNAL` would.
fn signal(child: &Child, signal: libc::c_int) {
    // SAFETY: kill only sends a signal; the pid is our own child, not yet reaped.
    let r = unsafe { libc::kill(child.id() as libc::pid_t, signal) };
    assert_eq!(r, 0, "kill({}, {signal})", child.id());
}

#[test]
fn a_run_suspended_past_its_lease_leaves_the_newer_result_and_lease_alone() {
    let requests = Arc::new(AtomicUsize::new(0));
    let answer_first = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let (count, release) = (Arc::clone(&requests), Arc::clone(&answer_first));
    // The first request waits until the test lets it go, then fails; later ones pass.
    let server = RawServer::start(move |mut conn| {
        read_request_head(&mut conn);
        let status = if count.fetch_add(1, Ordering::SeqCst) == 0 {
            while !release.load(Ordering::SeqCst) {
                std::thread::sleep(Duration::from_millis(10));
            }
            "500 Internal Server Error"
        } else {
            "200 OK"
        };
        respond_raw(
            conn,
            &format!("HTTP/1.1 {status}\r\nContent-Length: 2\r\nConnection: close\r\n\r\n"),
            b"ok",
        );
    });
    let env = Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: web, type: http, url: '{}', timeout: 10s }}\n",
        server.url("/")
    ));
    let mut first = env
        .command(&["run"])
        .env("CABOT_NOW", T0.to_string())
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || requests
        .load(Ordering::SeqCst)
        == 1));
    // The machine suspends the first run past its lease (T0 + 22) ...
    signal(&first, libc::SIGSTOP);
    let second = env.cabot_at(T0 + 22, &["run"]);
    assert_eq!(second.code, 0, "{second:?}");
    assert_eq!(requests.load(Ordering::SeqCst), 2, "the second run ran it");
    // ... and while a third run holds the check, the first wakes up with its old answer.
    env.db()
        .execute(
            "UPDATE checks SET claimed_by = 'third', claim_until = 9999999999",
            [],
        )
        .expect("lease to a third run");
    answer_first.store(true, Ordering::SeqCst);
    signal(&first, libc::SIGCONT);
    let status = first.wait().expect("wait");
    assert!(
        status.code().is_some(),
        "the first run finished: {status:?}"
    );
    assert_eq!(
        env.count("SELECT last_run_at FROM checks WHERE name = 'web'"),
        T0 + 22,
        "the newer start stands"
    );
    assert_eq!(results(&env, "s", "web"), 1, "the stale result was dropped");
    let c = check_json(&env.status_json(), "s", "web").clone();
    assert_eq!(c["status"], "passing", "{c}");
    assert_eq!(
        env.count("SELECT count(*) FROM checks WHERE claimed_by = 'third'"),
        1,
        "the third run's lease is still its own"
    );
}

#[test]
fn run_all_waits_for_the_checks_another_run_is_running_and_says_so() {
    let env = Env::new("");
    let release = env.path("release");
    env.write_config(&format!(
        "services:
  - name: s
    checks:
      - {{ name: slow, type: command, command: {slow}, timeout: 30s }}
      - {{ name: quick, type: tcp, host: '127.0.0.1:{port}' }}
",
        slow = blocked_until(&release),
        port = closed_port(),
    ));
    let first = env
        .command(&["run", "--check", "s/slow"])
        .spawn()
        .expect("spawn");
    assert!(wait_for(Duration::from_secs(10), || {
        env.try_count("SELECT count(*) FROM checks WHERE claimed_by IS NOT NULL") == Some(1)
    }));
    let all = env
        .command(&["run", "--all"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn --all");
    // --all runs what is free at once, and waits for the slow check.
    assert!(wait_for(Duration::from_secs(10), || results(
        &env, "s", "quick"
    ) == 1));
    assert_eq!(results(&env, "s", "slow"), 0);
    std::fs::write(&release, "").expect("release");
    let out = all.wait_with_output().expect("--all");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "another run is running s/slow; waiting for it to finish, then running it here"
        ),
        "{stderr}"
    );
    let mut first = first;
    assert!(first.wait().expect("first").success());
    assert_eq!(
        results(&env, "s", "slow"),
        2,
        "once in each run, one after the other"
    );
}

/// Every row of every table but `runs`, as text: what a run wrote shows as a difference.
fn snapshot(env: &Env) -> Vec<String> {
    let db = env.db();
    let tables: Vec<String> = {
        let mut stmt = db
            .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name != 'runs' ORDER BY name")
            .expect("tables");
        stmt.query_map([], |r| r.get(0))
            .expect("rows")
            .collect::<Result<_, _>>()
            .expect("names")
    };
    let mut rows = Vec::new();
    for table in tables {
        let mut stmt = db
            .prepare(&format!("SELECT * FROM {table}"))
            .expect("select");
        let columns = stmt.column_count();
        let mut query = stmt.query([]).expect("query");
        while let Some(row) = query.next().expect("row") {
            let values: Vec<rusqlite::types::Value> =
                (0..columns).map(|i| row.get(i).expect("value")).collect();
            rows.push(format!("{table}: {values:?}"));
        }
    }
    rows
}

#[test]
fn a_run_with_nothing_due_writes_nothing_but_its_run_record() {
    let target = Target::new();
    let env = Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: home, type: http, url: '{}', frequency: 5m }}\n",
        target.url()
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let before = snapshot(&env);
    let run = env.cabot_at(T0 + MIN, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(snapshot(&env), before, "nothing but the run record changed");
    assert_eq!(
        env.count("SELECT count(*) FROM runs"),
        2,
        "the run is recorded"
    );
}

/// A config of one check every 5 minutes against `target`.
fn every_five_minutes(target: &Target) -> Env {
    Env::new(&format!(
        "stale_after: 10m
services:
  - name: web
    checks:
      - {{ name: home, type: http, url: '{}', frequency: 5m }}
",
        target.url()
    ))
}

#[test]
fn after_the_clock_steps_back_the_checks_run_and_every_signal_says_so() {
    const AHEAD: i64 = 3600;
    let target = Target::new();
    let env = every_five_minutes(&target);
    // A run on a clock an hour ahead (a wrong clock at boot, a resumed VM)...
    assert_eq!(env.cabot_at(T0 + AHEAD, &["run", "-q"]).code, 0);
    assert_eq!(target.server.requests().len(), 1);
    // ...and one killed on it, whose lease on the check ends on that clock.
    env.db()
        .execute(
            "UPDATE checks SET claimed_by = ?1, claim_until = ?2",
            rusqlite::params![format!("1-{}-0", T0 + AHEAD), T0 + AHEAD + 100],
        )
        .expect("lease");
    // Then NTP steps the clock back. Before a run on it: not running, never "0s ago".
    let now = T0 + 60;
    let status = env.cabot_at(now, &["status"]);
    assert_eq!(status.code, 3, "{status:?}");
    assert!(
        status.stdout.contains("last run: 59m ahead of this clock"),
        "{status:?}"
    );
    assert!(
        status
            .stderr
            .contains("the last run is stamped 59m ahead of this clock: the clock went back"),
        "{status:?}"
    );
    let server = StatusServer::start_with_vars(&env, &[("CABOT_NOW", &now.to_string())]);
    assert_eq!(server.status().1, "Checks not running");
    let json = server.json();
    assert_eq!(
        json["clock_went_back"]["ahead_seconds"],
        AHEAD - 60,
        "{json:#}"
    );
    assert!(json["last_run"]["age_seconds"].as_i64().expect("age") < -3000);
    drop(server);

    // The run on the present clock runs the check, and says why once.
    let run = env.cabot_at(now, &["run", "-q"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(target.server.requests().len(), 2, "the check ran: {run:?}");
    assert_eq!(
        run.stderr.matches("the clock went back").count(),
        1,
        "{run:?}"
    );
    assert!(
        run.stderr
            .contains("the state has times up to 59m ahead of it"),
        "{run:?}"
    );
    // From here its schedule is this clock's: not due a minute later, due 5 minutes later.
    let run = env.cabot_at(now + 60, &["run", "-q"]);
    assert_eq!((run.code, run.stderr.as_str()), (0, ""));
    assert_eq!(target.server.requests().len(), 2);
    assert_eq!(env.cabot_at(now + 300, &["run", "-q"]).code, 0);
    assert_eq!(target.server.requests().len(), 3);

    // Runs happen again, and the step is still told: WARNING, at all three.
    let later = now + 300;
    let status = env.cabot_at(later, &["status"]);
    assert_eq!(status.code, 1, "{status:?}");
    assert!(
        status
            .stdout
            .contains("clock: the clock went back: the state has times up to 54m ahead of it"),
        "{status:?}"
    );
    let nagios = env.cabot_at(later, &["status", "--nagios"]);
    assert_eq!(nagios.code, 1, "{nagios:?}");
    assert!(
        nagios
            .stdout
            .starts_with("CABOT WARNING - the clock went back"),
        "{nagios:?}"
    );
    let server = StatusServer::start_with_vars(&env, &[("CABOT_NOW", &later.to_string())]);
    assert_eq!(server.status().1, "Checks running");
    assert_eq!(
        server.json()["clock_went_back"]["ahead_seconds"],
        AHEAD - 360
    );
}

#[test]
fn a_clock_that_leaps_ahead_prunes_nothing_until_a_second_run_agrees() {
    let target = Target::new();
    let env = every_five_minutes(&target);
    assert_eq!(env.cabot_at(T0, &["run", "-q"]).code, 0);
    let results = "SELECT count(*) FROM results";
    assert_eq!(env.count(results), 1);
    // Ten years ahead for one run: retention (30 days) would take everything.
    let leap = T0 + 10 * 365 * 86_400;
    assert_eq!(env.cabot_at(leap, &["run", "-q"]).code, 0);
    assert_eq!(env.count(results), 2, "the history before the leap is kept");
    assert_eq!(env.count("SELECT count(*) FROM runs"), 2);
    // A second run on that clock agrees with it: now old results go.
    assert_eq!(env.cabot_at(leap + 300, &["run", "-q"]).code, 0);
    assert_eq!(
        env.count(&format!("SELECT count(*) FROM results WHERE at < {leap}")),
        0
    );
}

#[test]
fn a_fast_check_runs_before_checks_that_took_long_last_time_when_the_pool_is_full() {
    let slow = HttpServer::start(|_| Reply::new(200, "ok").after(Duration::from_millis(700)));
    let fast = Target::new();
    fast.set_up(false);
    let slow_checks: String = (0..4)
        .map(|i| {
            format!(
                "      - {{ name: s{i}, type: http, url: '{}' }}\n",
                slow.url("/")
            )
        })
        .collect();
    let env = Env::new(&format!(
        "services:
  - name: slow
    checks:
{slow_checks}  - name: fast
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        fast.url()
    ));
    let order = |run: &Run| -> Vec<String> {
        run.stderr
            .lines()
            .filter(|l| l.starts_with("ok ") || l.starts_with("FAIL "))
            .map(|l| l.split(" (").next().unwrap_or("").to_string())
            .collect()
    };
    // The first run knows nothing of how long each takes: config order, two at a time, so
    // the fast check waits for a round of slow ones and a slot in the second (it may end
    // before the second round's other check, which started with the first of it).
    let first = env.cabot(&["run", "--jobs", "2", "-v"]);
    assert_eq!(first.code, 0, "{first:?}");
    let at = order(&first).iter().position(|l| l == "FAIL fast/home");
    assert!(at >= Some(3), "{first:?}");
    // Next time the checks that took 0.7 s go after the one that took none.
    let second = env.cabot(&["run", "--all", "--jobs", "2", "-v"]);
    assert_eq!(second.code, 0, "{second:?}");
    let second = order(&second);
    assert_eq!(second.len(), 5, "{second:?}");
    assert_eq!(second[0], "FAIL fast/home", "{second:?}");
}
