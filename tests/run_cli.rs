//! `cabot run` and `cabot status` end to end: due checks, scope flags, debounce, the lock,
//! retention, and the exit codes of `status`. Time is set with CABOT_NOW, never waited for.

mod support;

use std::time::{Duration, Instant};

use support::*;

const T0: i64 = 1_800_000_000;

/// Two services against one loopback server whose answers the test can flip.
struct World {
    env: Env,
    server: HttpServer,
    healthy: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

fn world(extra_check: &str) -> World {
    use std::sync::atomic::{AtomicBool, Ordering};
    let healthy = std::sync::Arc::new(AtomicBool::new(true));
    let flag = healthy.clone();
    let server = HttpServer::start(move |_| {
        if flag.load(Ordering::SeqCst) {
            Reply::new(200, "ok")
        } else {
            Reply::new(503, "down")
        }
    });
    let env = Env::new(&format!(
        "stale_after: 10m
retention: 1d
services:
  - name: web
    checks:
      - {{ name: home, type: http, url: '{home}', importance: critical }}
      - {{ name: slow-poll, type: http, url: '{home}', frequency: 5m, importance: warning }}
{extra_check}
  - name: api
    checks:
      - {{ name: health, type: http, url: '{home}', debounce: 2 }}
",
        home = server.url("/"),
    ));
    World {
        env,
        server,
        healthy,
    }
}

impl World {
    fn set_healthy(&self, up: bool) {
        self.healthy.store(up, std::sync::atomic::Ordering::SeqCst);
    }
}

fn requests(w: &World) -> usize {
    w.server.requests().len()
}

#[test]
fn only_due_checks_run_with_five_seconds_of_tolerance() {
    let w = world("");
    let env = &w.env;
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!(requests(&w), 3, "a new check is due at once");
    assert_eq!(env.cabot_at(T0 + 30, &["run"]).code, 0);
    assert_eq!(requests(&w), 3, "nothing due 30 s later");
    assert_eq!(env.cabot_at(T0 + 55, &["run"]).code, 0);
    assert_eq!(
        requests(&w),
        5,
        "1m checks are due 5 s early; the 5m one is not"
    );
    assert_eq!(env.cabot_at(T0 + 296, &["run"]).code, 0);
    assert_eq!(requests(&w), 8, "all three due at ~5m");
    assert_eq!(env.cabot_at(T0 + 300, &["run", "--all"]).code, 0);
    assert_eq!(requests(&w), 11, "--all runs everything");
    assert_eq!(env.count("SELECT count(*) FROM results"), 11);
    assert_eq!(
        env.count("SELECT count(*) FROM runs"),
        5,
        "every run is recorded, even one with nothing due"
    );
}

#[test]
fn service_and_check_restrict_the_run() {
    let w = world("");
    let env = &w.env;
    assert_eq!(env.cabot_at(T0, &["run", "--service", "api"]).code, 0);
    assert_eq!(requests(&w), 1);
    assert_eq!(
        env.cabot_at(T0, &["run", "--check", "web/slow-poll"]).code,
        0
    );
    assert_eq!(requests(&w), 2);
    assert_eq!(
        env.cabot_at(T0, &["run", "--check", "web/slow-poll", "--service", "api"])
            .code,
        0
    );
    assert_eq!(requests(&w), 2, "both already ran and are not due");
    assert_eq!(
        env.cabot_at(
            T0,
            &[
                "run",
                "--all",
                "--check",
                "web/slow-poll",
                "--service",
                "api"
            ]
        )
        .code,
        0
    );
    assert_eq!(requests(&w), 4);
    let bad = env.cabot_at(T0, &["run", "--service", "nope"]);
    assert_eq!(bad.code, 64, "{bad:?}");
    assert!(
        bad.stderr.contains("no service named 'nope'") && bad.stderr.contains("web, api"),
        "{bad:?}"
    );
    let bad = env.cabot_at(T0, &["run", "--check", "web/nope"]);
    assert_eq!(bad.code, 64);
    assert!(
        bad.stderr.contains("service 'web' has no check 'nope'"),
        "{bad:?}"
    );
    let bad = env.cabot_at(T0, &["run", "--check", "web"]);
    assert_eq!(bad.code, 64);
    let bad = env.cabot_at(T0, &["run", "--jobs", "0"]);
    assert_eq!(bad.code, 64);
}

#[test]
fn debounce_and_service_status_end_to_end() {
    let w = world("");
    let env = &w.env;
    w.set_healthy(false);
    env.cabot_at(T0, &["run"]);
    let s = env.status_json();
    let svc = |s: &serde_json::Value, name: &str| {
        s["services"]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .map(|x| x["status"].as_str().unwrap_or("").to_string())
            .unwrap_or_default()
    };
    assert_eq!(svc(&s, "web"), "CRITICAL");
    assert_eq!(
        svc(&s, "api"),
        "PASSING",
        "debounce 2: one failure is not failing"
    );
    assert_eq!(check_json(&s, "api", "health")["consecutive_failures"], 1);
    env.cabot_at(T0 + 60, &["run"]);
    assert_eq!(svc(&env.status_json(), "api"), "PASSING");
    env.cabot_at(T0 + 120, &["run"]);
    let s = env.status_json();
    assert_eq!(
        svc(&s, "api"),
        "ERROR",
        "three failures in a row with debounce 2"
    );
    assert_eq!(check_json(&s, "api", "health")["status"], "failing");
    w.set_healthy(true);
    env.cabot_at(T0 + 180, &["run"]);
    let s = env.status_json();
    assert_eq!(
        svc(&s, "api"),
        "PASSING",
        "passes again on the first passing result"
    );
    assert_eq!(
        svc(&s, "web"),
        "WARNING",
        "the 5m warning check has not run again yet"
    );
}

#[test]
fn fail_on_turns_this_runs_failures_into_an_exit_code() {
    let w = world("");
    let env = &w.env;
    assert_eq!(
        env.cabot_at(T0, &["run", "--fail-on", "warning"]).code,
        0,
        "all passing"
    );
    w.set_healthy(false);
    let r = env.cabot_at(
        T0 + 600,
        &["run", "--all", "--service", "api", "--fail-on", "error"],
    );
    assert_eq!(
        r.code, 2,
        "an error check failed now, even though debounce keeps the service passing: {r:?}"
    );
    let r = env.cabot_at(
        T0 + 600,
        &["run", "--all", "--service", "api", "--fail-on", "critical"],
    );
    assert_eq!(r.code, 0, "an error check does not reach critical");
    let r = env.cabot_at(
        T0 + 600,
        &[
            "run",
            "--all",
            "--check",
            "web/slow-poll",
            "--fail-on",
            "warning",
        ],
    );
    assert_eq!(r.code, 1);
    let r = env.cabot_at(T0 + 600, &["run", "--all", "--fail-on", "warning"]);
    assert_eq!(r.code, 2);
    let r = env.cabot_at(T0 + 600, &["run", "--all"]);
    assert_eq!(
        r.code, 0,
        "without --fail-on a completed run is 0 whatever it found"
    );
}

#[test]
fn under_cron_a_run_prints_nothing() {
    let w = world("");
    w.set_healthy(false);
    let r = w.env.cabot(&["run"]);
    assert_eq!(r.code, 0);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr, "",
        "no terminal, nothing wrong with cabot itself: silence"
    );
    let r = w.env.cabot(&["run", "--all", "-v"]);
    assert!(r.stderr.contains("FAIL home"), "{r:?}");
}

#[test]
fn status_exit_codes() {
    let w = world("");
    let env = &w.env;
    let r = env.cabot_at(T0, &["status"]);
    assert_eq!(r.code, 3, "no state file yet: {r:?}");
    assert!(r.stderr.contains("no run has completed yet"), "{r:?}");
    assert!(!env.state().exists(), "status never creates the state");
    let r = env.cabot_at(T0, &["status", "--nagios"]);
    assert_eq!(r.code, 3);
    assert!(
        r.stdout
            .starts_with("CABOT UNKNOWN - no run has completed yet"),
        "{r:?}"
    );

    env.cabot_at(T0, &["run"]);
    let r = env.cabot_at(T0 + 1, &["status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("web") && r.stdout.contains("PASSING"),
        "{r:?}"
    );
    let r = env.cabot_at(T0 + 1, &["status", "--nagios"]);
    assert_eq!(r.code, 0);
    assert!(
        r.stdout
            .starts_with("CABOT OK - 2 services passing | services=2;;;0 passing=2;;;0"),
        "{r:?}"
    );
    assert!(
        r.stdout.trim_end().ends_with("last_run_age=1s;;600;0"),
        "{r:?}"
    );

    // warning only: the 5m check fails, the others pass
    w.set_healthy(false);
    env.cabot_at(T0 + 300, &["run", "--check", "web/slow-poll"]);
    let r = env.cabot_at(T0 + 301, &["status"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stderr.contains("web WARNING"), "{r:?}");
    let r = env.cabot_at(T0 + 301, &["status", "--nagios"]);
    assert!(
        r.stdout.starts_with(
            "CABOT WARNING - 1 of 2 services failing: web WARNING (slow-poll: HTTP 503"
        ),
        "{r:?}"
    );

    env.cabot_at(T0 + 360, &["run"]);
    let r = env.cabot_at(T0 + 361, &["status"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = env.cabot_at(T0 + 361, &["status", "--service", "api"]);
    assert_eq!(r.code, 0, "api alone is still passing (debounce): {r:?}");
    let r = env.cabot_at(T0 + 361, &["status", "--service", "nope"]);
    assert_eq!(r.code, 64);

    // stale: the last run finished more than stale_after (10m) ago
    let r = env.cabot_at(T0 + 360 + 601, &["status"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(r.stderr.contains("longer than stale_after (10m)"), "{r:?}");
    let j: serde_json::Value =
        serde_json::from_str(&env.cabot_at(T0 + 961, &["status", "--json"]).stdout).expect("json");
    assert_eq!(j["running"], false);
    assert_eq!(j["status"], "UNKNOWN");
    let r = env.cabot_at(T0 + 961, &["status", "--nagios"]);
    assert!(
        r.stdout
            .starts_with("CABOT UNKNOWN - the last run finished 10m ago"),
        "{r:?}"
    );
}

#[test]
fn status_json_shape() {
    let w = world("");
    w.env.cabot_at(T0, &["run"]);
    let r = w.env.cabot_at(T0 + 5, &["status", "--json"]);
    let j: serde_json::Value = serde_json::from_str(&r.stdout).expect("json");
    assert_eq!(j["running"], true);
    assert_eq!(j["status"], "PASSING");
    assert_eq!(j["stale_after_seconds"], 600);
    assert_eq!(j["last_run"]["age_seconds"], 5);
    assert_eq!(j["last_run"]["checks_run"], 3);
    let home = check_json(&j, "web", "home");
    assert_eq!(home["type"], "http");
    assert_eq!(home["importance"], "critical");
    assert_eq!(home["status"], "passing");
    assert!(
        home["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("HTTP 200 in")
    );
    assert!(home["duration_ms"].is_number());
}

#[test]
fn a_second_run_exits_75_at_once_and_changes_nothing() {
    let slow = HttpServer::start(|_| Reply::new(200, "slow").after(Duration::from_secs(2)));
    let env = Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: slow, type: http, url: '{}' }}\n",
        slow.url("/")
    ));
    let mut first = env.command(&["run"]).spawn().expect("spawn");
    // The first run holds the lock once its request reaches the server.
    let waited = Instant::now();
    while slow.requests().is_empty() && waited.elapsed() < Duration::from_secs(10) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(
        !slow.requests().is_empty(),
        "the first run never reached the server"
    );
    let started = Instant::now();
    let second = env.cabot(&["run", "--all"]);
    let took = started.elapsed();
    assert_eq!(second.code, 75, "{second:?}");
    assert!(
        took < Duration::from_millis(100),
        "the second run took {took:?}"
    );
    assert!(
        second.stderr.contains("another cabot run holds"),
        "{second:?}"
    );
    // --wait outlasts the first run
    let third = env.cabot(&["run", "--all", "--wait", "10s"]);
    assert_eq!(third.code, 0, "{third:?}");
    assert!(first.wait().expect("wait").success());
    assert_eq!(slow.requests().len(), 2, "the refused run sent nothing");
    assert_eq!(env.count("SELECT count(*) FROM runs"), 2);
}

#[test]
fn retention_prunes_old_results_in_bounded_batches() {
    let w = world("");
    let env = &w.env;
    env.cabot_at(T0, &["run"]);
    // 30,000 results from 2 days ago, older than `retention: 1d`
    {
        let db = env.db();
        db.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 30000)
             INSERT INTO results (check_id, at, ok, duration_ms, message)
             SELECT (SELECT min(id) FROM checks), 1800000000 - 172800 + i, 1, 1, 'old' FROM n;",
        )
        .expect("insert");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM results WHERE message = 'old'"),
        30_000
    );
    env.cabot_at(T0 + 60, &["run"]);
    // 30,000 rows are 6 batches of 5,000: one run clears them
    assert_eq!(
        env.count("SELECT count(*) FROM results WHERE message = 'old'"),
        0
    );
    assert!(
        env.count("SELECT count(*) FROM results") > 0,
        "fresh results stay"
    );

    {
        let db = env.db();
        db.execute_batch(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 120000)
             INSERT INTO results (check_id, at, ok, duration_ms, message)
             SELECT (SELECT min(id) FROM checks), 1800000000 - 172800 + (i % 1000), 1, 1, 'old' FROM n;",
        )
        .expect("insert");
    }
    env.cabot_at(T0 + 120, &["run"]);
    assert_eq!(
        env.count("SELECT count(*) FROM results WHERE message = 'old'"),
        20_000,
        "one run prunes at most 100,000 rows; the rest waits for the next"
    );
    env.cabot_at(T0 + 180, &["run"]);
    assert_eq!(
        env.count("SELECT count(*) FROM results WHERE message = 'old'"),
        0
    );
}

#[test]
fn checks_removed_from_the_config_keep_their_history_but_leave_status() {
    let w = world("      - { name: extra, type: tcp, host: '127.0.0.1:1' }");
    let env = &w.env;
    env.cabot_at(T0, &["run"]);
    let s = env.status_json();
    assert_eq!(check_json(&s, "web", "extra")["status"], "failing");
    // the same config without the extra check
    let text = std::fs::read_to_string(env.config()).expect("read");
    env.write_config(&text.replace(
        "      - { name: extra, type: tcp, host: '127.0.0.1:1' }\n",
        "",
    ));
    env.cabot_at(T0 + 60, &["run"]);
    let s = env.status_json();
    let web = s["services"]
        .as_array()
        .and_then(|a| a.iter().find(|x| x["name"] == "web"))
        .expect("web");
    assert!(
        web["checks"]
            .as_array()
            .expect("checks")
            .iter()
            .all(|c| c["name"] != "extra")
    );
    assert_eq!(web["status"], "PASSING");
    assert_eq!(
        env.count("SELECT count(*) FROM results r JOIN checks c ON c.id = r.check_id WHERE c.name = 'extra'"),
        1,
        "its history is kept"
    );
}

#[test]
fn on_a_terminal_a_run_shows_a_summary() {
    // `script` gives cabot a pseudo-terminal, as a person at a shell would.
    let w = world("");
    w.set_healthy(false);
    let command = format!("{} -c {} run --all", cabot_bin(), w.env.config().display());
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("CABOT_NOW")
        .output();
    let Ok(out) = out else {
        assert!(
            std::env::var_os("CI").is_none(),
            "script (bsdutils) is missing"
        );
        eprintln!("\n*** NOT TESTED: the terminal summary needs `script` ***\n");
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("3 checks run in"), "{text}");
    // api has debounce 2: one failure does not make it fail, so only web is named
    assert!(text.contains("3 failed; web CRITICAL"), "{text}");
}

#[test]
fn a_debounce_raised_in_the_config_applies_at_once() {
    let w = world("");
    let env = &w.env;
    w.set_healthy(false);
    env.cabot_at(T0, &["run", "--check", "web/home"]);
    let home = |s: &serde_json::Value| check_json(s, "web", "home").clone();
    let before = home(&env.status_json());
    assert_eq!(before["status"], "failing");
    // debounce 1 on home, then a run that does not run home at all
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replace(
        "importance: critical }",
        "importance: critical, debounce: 1 }",
    ));
    env.cabot_at(T0 + 120, &["run", "--check", "api/health"]);
    let after = home(&env.status_json());
    assert_eq!(
        after["status"], "passing",
        "one failure is within debounce 1 now"
    );
    assert_ne!(
        after["since"], before["since"],
        "and it is passing since this run"
    );
    assert_eq!(after["consecutive_failures"], 1, "its history is unchanged");
}

#[test]
fn jobs_bounds_how_many_checks_run_at_once() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    // A server that counts the requests it is holding at once, each for 150 ms.
    let now = std::sync::Arc::new(AtomicUsize::new(0));
    let most = std::sync::Arc::new(AtomicUsize::new(0));
    let (n, m) = (now.clone(), most.clone());
    let server = RawServer::start(move |mut conn| {
        read_request_head(&mut conn);
        let held = n.fetch_add(1, Ordering::SeqCst) + 1;
        m.fetch_max(held, Ordering::SeqCst);
        std::thread::sleep(Duration::from_millis(150));
        n.fetch_sub(1, Ordering::SeqCst);
        respond_raw(
            conn,
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n",
            b"ok",
        );
    });
    let checks: String = (0..8)
        .map(|i| {
            format!(
                "      - {{ name: c{i}, type: http, url: '{}' }}\n",
                server.url("/")
            )
        })
        .collect();
    let env = Env::new(&format!("services:\n  - name: s\n    checks:\n{checks}"));
    let started = Instant::now();
    assert_eq!(env.cabot(&["run", "--jobs", "3"]).code, 0);
    assert_eq!(
        most.load(Ordering::SeqCst),
        3,
        "at most 3 at once, and 3 did run together"
    );
    assert!(
        started.elapsed() >= Duration::from_millis(450),
        "8 checks in 3 lanes take 3 rounds"
    );
    most.store(0, Ordering::SeqCst);
    assert_eq!(env.cabot(&["run", "--all", "--jobs", "8"]).code, 0);
    assert!(
        most.load(Ordering::SeqCst) > 3,
        "--jobs 8 runs more at once"
    );
}
