//! The commands as a user runs them: `run` (due checks, scope flags, `--fail-on`, `--jobs`,
//! the lock, retention, what it prints, `heartbeat_url`), `status` and its exit codes,
//! `history`, and the committed completions and man page. Config errors go in `config.rs`,
//! the state file in `state.rs`, one check type's behaviour in `checks/`.

use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

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
    assert!(
        r.stderr.contains("FAIL web/home ("),
        "names the service: {r:?}"
    );
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

/// `cabot status | head`: the reader goes away after a few bytes of a long answer. status
/// still exits with the services' status code, and says nothing about the pipe.
#[test]
fn status_into_a_pipe_closed_early_exits_with_its_code() {
    use std::io::Read;
    // 2,000 failing checks: some 200 kB of human text and 600 kB of JSON, beyond the
    // pipe's and the output buffer's room, so that writing meets the closed pipe.
    let port = closed_port();
    let mut config =
        String::from("defaults: { timeout: 2s }\nservices:\n  - name: many\n    checks:\n");
    for i in 0..2_000 {
        config.push_str(&format!(
            "      - {{ name: check-{i:04}, type: tcp, host: '127.0.0.1:{port}' }}\n"
        ));
    }
    let env = Env::new(&config);
    let r = env.cabot_at(T0, &["run", "--all", "--jobs", "200"]);
    assert_eq!(r.code, 0, "{r:?}");
    for args in [&["status"][..], &["status", "--json"]] {
        let mut child = env
            .command(args)
            .env("CABOT_NOW", (T0 + 1).to_string())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start status");
        let mut first = [0u8; 10];
        child
            .stdout
            .take()
            .expect("stdout")
            .read_exact(&mut first)
            .expect("the first bytes");
        let out = child.wait_with_output().expect("status ends");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            !stderr.contains("pipe") && !stderr.contains("os error"),
            "{args:?}: {stderr}"
        );
    }
}

/// Services come worst first and then in name order (bytes: `Web` before `alpha`), each
/// with its own checks and no other's, failing first and then by name, whatever order the
/// config lists them in; names that share a beginning (`web`, `web-2`, `web_`) stay apart.
#[test]
fn status_orders_services_and_their_checks() {
    let up = Target::new();
    let host = up.server.url("").trim_start_matches("http://").to_string();
    let down = format!("127.0.0.1:{}", closed_port());
    let env = Env::new(&format!(
        "stale_after: 10m
services:
  - name: web-2
    checks:
      - {{ name: zz, type: tcp, host: '{host}' }}
      - {{ name: aa, type: tcp, host: '{down}', importance: warning }}
  - name: web
    checks:
      - {{ name: b, type: tcp, host: '{host}' }}
      - {{ name: c, type: tcp, host: '{down}', importance: critical }}
      - {{ name: a, type: tcp, host: '{host}' }}
  - name: alpha
    checks:
      - {{ name: y, type: tcp, host: '{host}' }}
      - {{ name: x, type: tcp, host: '{host}' }}
  - name: web_
    checks:
      - {{ name: m, type: tcp, host: '{down}', importance: error }}
  - name: Web
    checks:
      - {{ name: k, type: tcp, host: '{host}' }}
"
    ));
    env.cabot_at(T0, &["run"]);
    let r = env.cabot_at(T0 + 1, &["status", "--json"]);
    assert_eq!(r.code, 2, "{r:?}");
    let j: Value = serde_json::from_str(&r.stdout).expect("json");
    let shown: Vec<String> = j["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| {
            let checks: Vec<&str> = s["checks"]
                .as_array()
                .expect("checks")
                .iter()
                .map(|c| c["name"].as_str().expect("name"))
                .collect();
            format!("{} {}: {}", s["name"], s["status"], checks.join(" "))
        })
        .collect();
    assert_eq!(
        shown,
        [
            r#""web" "CRITICAL": c a b"#,
            r#""web_" "ERROR": m"#,
            r#""web-2" "WARNING": aa zz"#,
            r#""Web" "PASSING": k"#,
            r#""alpha" "PASSING": x y"#,
        ],
        "{r:?}"
    );
    // The human form in the same order, one line a service and one a check.
    let r = env.cabot_at(T0 + 1, &["status"]);
    let firsts: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .take(14)
        .collect();
    assert_eq!(
        firsts,
        [
            "web", "c", "a", "b", "web_", "m", "web-2", "aa", "zz", "Web", "k", "alpha", "x", "y"
        ],
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
    // `script` is in bsdutils, which every Debian system has.
    let out = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_remove("CABOT_NOW")
        .output()
        .expect("script (bsdutils) runs");
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

const REFRESH: &str = "cargo run -q -- completions bash > completions/cabot.bash && cargo run -q -- completions zsh > completions/_cabot && cargo run -q -- completions fish > completions/cabot.fish && rm -f completions/man/* && cargo run -q -- man --dir completions/man";

fn generated(args: &[&str]) -> Vec<u8> {
    let out = cabot_command().args(args).output().expect("run cabot");
    assert!(out.status.success(), "cabot {args:?} failed");
    assert!(!out.stdout.is_empty());
    out.stdout
}

#[test]
fn committed_completions_and_man_pages_are_fresh() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let cases: [(&[&str], &str); 3] = [
        (&["completions", "bash"], "completions/cabot.bash"),
        (&["completions", "zsh"], "completions/_cabot"),
        (&["completions", "fish"], "completions/cabot.fish"),
    ];
    let mut stale = Vec::new();
    for (args, file) in cases {
        let committed = std::fs::read(root.join(file)).unwrap_or_default();
        if committed != generated(args) {
            stale.push(file.to_string());
        }
    }
    let dir = tempfile::tempdir().expect("tempdir");
    generated_pages(dir.path());
    let names = |d: &Path| -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(d)
            .map(|r| {
                r.filter_map(|e| e.ok())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .collect()
            })
            .unwrap_or_default();
        v.sort();
        v
    };
    let committed_dir = root.join("completions/man");
    if names(dir.path()) != names(&committed_dir) {
        stale.push("completions/man (the list of pages)".to_string());
    }
    for name in names(dir.path()) {
        let fresh = std::fs::read(dir.path().join(&name)).expect("read page");
        if std::fs::read(committed_dir.join(&name)).unwrap_or_default() != fresh {
            stale.push(format!("completions/man/{name}"));
        }
    }
    assert!(
        stale.is_empty(),
        "stale: {stale:?}; refresh them with:\n  {}",
        REFRESH
    );
}

fn generated_pages(dir: &Path) {
    let out = cabot_command()
        .args(["man", "--dir"])
        .arg(dir)
        .output()
        .expect("run cabot");
    assert!(out.status.success(), "cabot man --dir: {out:?}");
}

#[test]
fn man_pages_cover_each_command_the_exit_codes_and_the_config() {
    let dir = tempfile::tempdir().expect("tempdir");
    generated_pages(dir.path());
    let page = |name: &str| std::fs::read_to_string(dir.path().join(name)).expect(name);
    let main = page("cabot.1");
    assert!(
        main.starts_with(".ie") && main.contains(".TH cabot 1"),
        "{main}"
    );
    assert!(main.contains(".SH \"EXIT STATUS\""));
    assert!(
        main.contains("the configuration has errors"),
        "exit 78 explained"
    );
    assert!(
        main.contains("\\fBcabot\\-run\\fR(1)"),
        "SEE ALSO names cabot-run(1)"
    );
    for command in [
        "run",
        "status",
        "serve-status",
        "migrate",
        "validate",
        "backup",
        "ping",
    ] {
        let sub = page(&format!("cabot-{command}.1"));
        assert!(
            sub.contains(&format!(".TH cabot-{command} 1")),
            "{command}: {sub}"
        );
    }
    assert!(page("cabot-run.1").contains("\\-\\-fail\\-on"));
    let config = page("cabot.yaml.5");
    assert!(config.starts_with(".TH cabot.yaml 5"));
    for key in [
        "stale_after",
        "retention",
        "give_up_after",
        "max_response_time",
        "routing_key",
    ] {
        assert!(config.contains(key), "cabot.yaml(5) lacks {key}");
    }
    assert!(!config.contains("```"), "code fences became roff");
    assert!(!config.contains("\n|"), "tables became roff");
}

#[test]
fn version_names_the_schema_and_the_commit() {
    let out = cabot_command()
        .arg("--version")
        .output()
        .expect("run cabot");
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    let schema = cabot::store::migrations::MIGRATIONS.len();
    assert!(
        text.starts_with(&format!(
            "cabot {} (schema {schema}, commit ",
            env!("CARGO_PKG_VERSION")
        )),
        "{text}"
    );
    let commit = text
        .trim()
        .trim_end_matches(')')
        .rsplit(' ')
        .next()
        .unwrap_or("");
    assert!(
        commit == "unknown"
            || (commit.len() == 12 && commit.chars().all(|c| c.is_ascii_hexdigit())),
        "{text}"
    );
}

#[test]
fn completions_know_the_subcommands_and_flags() {
    let bash = String::from_utf8(generated(&["completions", "bash"])).expect("utf8");
    for word in [
        "run",
        "status",
        "migrate",
        "validate",
        "--fail-on",
        "--nagios",
        "--dry-run",
    ] {
        assert!(bash.contains(word), "bash completion lacks {word}");
    }
    let man = String::from_utf8(generated(&["man"])).expect("utf8");
    assert!(man.contains(".TH cabot 1"), "cabot man prints cabot(1)");
}

// ---------------------------------------------------------------------------------------
// heartbeat_url
// ---------------------------------------------------------------------------------------

#[test]
fn heartbeat_url_gets_one_get_per_completed_run() {
    let pinger = HttpServer::start(|_| Reply::new(200, "OK"));
    let target = Target::new();
    let env = one_service(
        &target,
        &format!("heartbeat_url: '{}'", pinger.url("/ping/5f2b-uuid")),
    );
    for (i, at) in [T0, T0 + MIN, T0 + MIN + 10, T0 + 2 * MIN]
        .into_iter()
        .enumerate()
    {
        let r = env.cabot_at(at, &["run"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(r.stderr, "", "a heartbeat that answers is silent");
        assert_eq!(
            pinger.requests().len(),
            i + 1,
            "one per run (T0+{})",
            at - T0
        );
    }
    // A run that does not complete sends no heartbeat.
    assert_eq!(
        env.cabot_at(T0 + 3 * MIN, &["run", "--service", "nope"])
            .code,
        64
    );
    let seen = pinger.requests();
    assert_eq!(seen.len(), 4);
    assert_eq!(env.count("SELECT count(*) FROM runs"), 4);
    for s in &seen {
        assert_eq!(
            (s.method.as_str(), s.url.as_str()),
            ("GET", "/ping/5f2b-uuid")
        );
        assert_eq!(s.body, "");
    }
}

#[test]
fn a_heartbeat_url_that_fails_is_one_line_on_stderr_and_the_run_still_counts() {
    let five_hundred = HttpServer::start(|_| Reply::new(500, "hc is down"));
    let target = Target::new();
    for (what, url) in [
        (
            "refused",
            format!("http://127.0.0.1:{}/ping/x", closed_port()),
        ),
        ("HTTP 500", five_hundred.url("/ping/x")),
    ] {
        let env = one_service(&target, &format!("heartbeat_url: '{url}'"));
        let r = env.cabot_at(T0, &["run"]);
        assert_eq!(r.code, 0, "{what}: {r:?}");
        let lines: Vec<&str> = r.stderr.lines().collect();
        assert_eq!(lines.len(), 1, "{what}: {r:?}");
        assert!(lines[0].contains("heartbeat_url"), "{what}: {r:?}");
        if what == "HTTP 500" {
            assert!(lines[0].contains("500"), "{r:?}");
        }
        assert_eq!(env.count("SELECT count(*) FROM runs"), 1, "{what}");
        let server = StatusServer::start(&env, Some(T0 + 10));
        assert_eq!(server.status(), (200, RUNNING.into()), "{what}");
        // --quiet keeps even that line back.
        let q = env.cabot_at(T0 + MIN, &["-q", "run"]);
        assert_eq!((q.code, q.stderr.as_str()), (0, ""), "{what}: {q:?}");
    }
    assert_eq!(five_hundred.requests().len(), 2);
}

/// Service `web` alerting through a webhook at `hook`, telling `pinger` about each run.
fn heartbeat_env(target: &Target, hook: &str, pinger: &HttpServer, extra: &str) -> Env {
    Env::new(&format!(
        "heartbeat_url: '{}'
{extra}
channels:
  hook: {{ type: webhook, url: '{hook}', timeout: 2s }}
services:
  - name: web
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        pinger.url("/ping/5f2b-uuid"),
        target.url()
    ))
}

fn pinged(pinger: &HttpServer) -> Vec<String> {
    pinger.requests().into_iter().map(|s| s.url).collect()
}

#[test]
fn heartbeat_url_gets_fail_while_an_owed_alert_cannot_be_delivered() {
    let pinger = HttpServer::start(|_| Reply::new(200, "OK"));
    let receiver = HttpServer::start(|_| Reply::new(200, "thanks"));
    let target = Target::new();
    let down = format!("http://127.0.0.1:{}/hook", closed_port());
    let env = heartbeat_env(&target, &down, &pinger, "");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    target.set_up(false);
    // The alert cannot get out: the switch hears /fail, and again while it waits for a retry.
    let r = env.cabot_at(T0 + MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("not delivered"), "{r:?}");
    let r = env.cabot_at(T0 + 2 * MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        pinged(&pinger),
        [
            "/ping/5f2b-uuid",
            "/ping/5f2b-uuid/fail",
            "/ping/5f2b-uuid/fail"
        ]
    );
    // Once the receiver is reachable, the retry delivers it and all is well again.
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(&text.replace(&down, &receiver.url("/hook")));
    let r = env.cabot_at(T0 + 60 * MIN, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    let kinds: Vec<String> = receiver
        .requests()
        .iter()
        .map(|r| {
            let v: Value = serde_json::from_str(&r.body).expect("json");
            v["kind"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert!(
        kinds.contains(&"alert".to_string()),
        "the retry delivered the alert (beside the repeat now due): {kinds:?}"
    );
    assert_eq!(pinged(&pinger)[3], "/ping/5f2b-uuid");
}

#[test]
fn heartbeat_url_gets_fail_when_the_run_cannot_run_its_checks() {
    let pinger = HttpServer::start(|_| Reply::new(200, "OK"));
    let target = Target::new();
    let env = heartbeat_env(&target, "http://127.0.0.1:9/hook", &pinger, "");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    // A state from a newer cabot: the run refuses it, and says so to the switch too.
    env.db()
        .execute_batch("PRAGMA user_version = 999")
        .expect("set the schema version");
    let r = env.cabot_at(T0 + MIN, &["run"]);
    assert_eq!(r.code, 65, "{r:?}");
    assert_eq!(pinged(&pinger), ["/ping/5f2b-uuid", "/ping/5f2b-uuid/fail"]);
}

#[test]
fn heartbeat_start_is_sent_before_the_verdict() {
    let pinger = HttpServer::start(|_| Reply::new(200, "OK"));
    let target = Target::new();
    let env = heartbeat_env(
        &target,
        "http://127.0.0.1:9/hook",
        &pinger,
        "heartbeat_start: true",
    );
    for at in [T0, T0 + MIN] {
        let r = env.cabot_at(at, &["run"]);
        assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r:?}");
    }
    assert_eq!(
        pinged(&pinger),
        [
            "/ping/5f2b-uuid/start",
            "/ping/5f2b-uuid",
            "/ping/5f2b-uuid/start",
            "/ping/5f2b-uuid"
        ]
    );
}

// ---------------------------------------------------------------------------------------
// history
// ---------------------------------------------------------------------------------------

fn history(env: &Env, at: i64, args: &[&str]) -> Value {
    let mut all = vec!["history"];
    all.extend(args);
    all.push("--json");
    let r = env.cabot_at(at, &all);
    assert_eq!(r.code, 0, "{r:?}");
    serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("history json: {e}\n{r:?}"))
}

/// The times `web`'s status changed, from the state file.
fn changes(env: &Env) -> Vec<(i64, String)> {
    let db = env.db();
    let mut stmt = db
        .prepare("SELECT at, status FROM service_history WHERE service = 'web' ORDER BY at, id")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

#[test]
fn history_shows_the_incident_and_uptime_of_a_service_and_a_check() {
    let target = Target::new();
    let hook = HttpServer::start(|_| Reply::new(200, "thanks"));
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{}' }}
services:
  - name: web
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        hook.url("/hook"),
        target.url()
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(env.cabot_at(T0 + MIN, &["run"]).code, 0);
    target.set_up(true);
    assert_eq!(env.cabot_at(T0 + 2 * MIN, &["run"]).code, 0);
    assert_eq!(hook.requests().len(), 2, "alert and recovery delivered");

    // The status changes are stamped when the run's checks finished: T0+60 and T0+120,
    // unless a run took over a second; the report must agree with the state either way.
    let ch = changes(&env);
    assert_eq!(
        ch.iter().map(|c| c.1.as_str()).collect::<Vec<_>>(),
        ["PASSING", "ERROR", "PASSING"],
        "{ch:?}"
    );
    let (t_pass, t_fail, t_back) = (ch[0].0, ch[1].0, ch[2].0);
    assert!((T0..T0 + 2).contains(&t_pass), "{ch:?}");
    assert!((T0 + MIN..T0 + MIN + 2).contains(&t_fail), "{ch:?}");
    assert!((T0 + 2 * MIN..T0 + 2 * MIN + 2).contains(&t_back), "{ch:?}");

    let now = T0 + 3 * MIN;
    let h = history(&env, now, &["web"]);
    assert_eq!(h["service"], "web");
    assert_eq!(h["check"], Value::Null);
    assert_eq!(h["to"], rfc3339(now));
    assert_eq!(h["from"], rfc3339(now - 7 * 86_400));
    let incidents = h["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{h:#}");
    let i = &incidents[0];
    assert_eq!(i["start"], rfc3339(t_fail), "{h:#}");
    assert_eq!(i["end"], rfc3339(t_back), "{h:#}");
    assert_eq!(i["duration_seconds"], t_back - t_fail);
    assert_eq!(i["worst_status"], "ERROR");
    assert_eq!(i["alerts_sent"], true);
    // Counted from the first known status to now; PASSING before and after the incident.
    let counted = now - t_pass;
    let passing = counted - (t_back - t_fail);
    let want = (passing as f64 * 100.0 / counted as f64 * 100.0).round() / 100.0;
    assert_eq!(h["uptime_percent"].as_f64(), Some(want), "{h:#}");
    if (t_pass, t_fail, t_back) == (T0, T0 + MIN, T0 + 2 * MIN) {
        assert_eq!(want, 66.67, "120 s passing of 180 s");
    }

    // Cabot's check report: results, not time. [pass, fail, pass]: one problem, 2/3 passed.
    let c = history(&env, now, &["web/home"]);
    assert_eq!(c["check"], "home");
    let problems = c["incidents"].as_array().expect("incidents");
    assert_eq!(problems.len(), 1, "{c:#}");
    assert_eq!(problems[0]["start"], rfc3339(t_fail));
    assert_eq!(problems[0]["end"], rfc3339(t_back));
    assert_eq!(problems[0]["worst_status"], "FAILING");
    assert_eq!(problems[0]["alerts_sent"], true);
    assert_eq!(c["uptime_percent"], 66.67, "{c:#}");

    // --since 150s leaves one failing and one passing result: one problem, 50 %.
    let c = history(&env, now, &["web/home", "--since", "150s"]);
    assert_eq!(c["from"], rfc3339(now - 150));
    assert_eq!(c["incidents"].as_array().map(Vec::len), Some(1), "{c:#}");
    assert_eq!(c["uptime_percent"], 50.0, "{c:#}");

    // --since 1m (from T0+120): only the last, passing result and the PASSING status.
    let c = history(&env, now, &["web/home", "--since", "1m"]);
    assert_eq!(c["incidents"], serde_json::json!([]), "{c:#}");
    assert_eq!(c["uptime_percent"], 100.0, "{c:#}");
    let s = history(&env, t_back + MIN, &["web", "--since", "1m"]);
    assert_eq!(
        s["incidents"],
        serde_json::json!([]),
        "an incident that ended as the range starts is not in it: {s:#}"
    );
    assert_eq!(s["uptime_percent"], 100.0, "{s:#}");
    // ...and a range that starts inside the incident starts the incident there.
    let s = history(&env, t_back + 30, &["web", "--since", "1m"]);
    let incidents = s["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{s:#}");
    assert_eq!(incidents[0]["start"], rfc3339(t_back + 30 - MIN), "{s:#}");
    assert_eq!(incidents[0]["end"], rfc3339(t_back));
    assert_eq!(s["uptime_percent"], 50.0, "{s:#}");

    // Asked between the failure and the recovery, the incident is ongoing: what came after
    // that moment is not in the range.
    let mid = t_fail + 30;
    let s = history(&env, mid, &["web"]);
    let incidents = s["incidents"].as_array().expect("incidents");
    assert_eq!(incidents.len(), 1, "{s:#}");
    assert_eq!(incidents[0]["start"], rfc3339(t_fail));
    assert_eq!(incidents[0]["end"], Value::Null, "ongoing: {s:#}");
    assert_eq!(incidents[0]["duration_seconds"], 30);
    let want = ((t_fail - t_pass) as f64 * 100.0 / (mid - t_pass) as f64 * 100.0).round() / 100.0;
    assert_eq!(s["uptime_percent"].as_f64(), Some(want), "{s:#}");
    let c = history(&env, mid, &["web/home"]);
    assert_eq!(c["incidents"][0]["end"], Value::Null, "{c:#}");
    assert_eq!(c["uptime_percent"], 50.0, "[pass, fail]: {c:#}");

    // The human form says the same, and that the figure is over the 3 minutes watched,
    // not the 7 days asked for.
    let r = env.cabot_at(now, &["history", "web"]);
    assert_eq!(r.code, 0, "{r:?}");
    let h = history(&env, now, &["web"]);
    assert_eq!(h["monitored_seconds"], now - t_pass, "{h:#}");
    let headline = format!(
        "web: 1 incident in the last 7 days, uptime {:.2}% over the {} monitored\n",
        h["uptime_percent"].as_f64().unwrap_or(-1.0),
        if now - t_pass == 180 { "3m" } else { "2m 59s" }
    );
    assert!(r.stdout.starts_with(&headline), "{r:?}");
    assert!(r.stdout.contains("ERROR"), "{r:?}");
    assert!(r.stdout.contains("alerts sent"), "{r:?}");
    let whole = env.cabot_at(now, &["history", "web", "--since", "1m"]);
    assert!(
        whole
            .stdout
            .starts_with("web: 0 incidents in the last 1 minute, uptime 100.00%\n"),
        "a range fully watched needs no note: {whole:?}"
    );
}

#[test]
fn history_of_an_unknown_service_or_check_is_a_usage_error() {
    let target = Target::new();
    let env = one_service(&target, "");
    let before = env.cabot_at(T0, &["history", "web"]);
    assert_eq!(before.code, 64, "no run yet: {before:?}");
    assert_eq!(before.stderr.lines().count(), 1, "{before:?}");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    for target in ["nope", "nope/home", "web/nope"] {
        let r = env.cabot_at(T0 + MIN, &["history", target]);
        assert_eq!(r.code, 64, "{target}: {r:?}");
        assert_eq!(r.stdout, "", "{target}: {r:?}");
        assert!(r.stderr.contains("nope"), "{target}: {r:?}");
    }
    let r = env.cabot_at(T0 + MIN, &["history", "web", "--since", "soon"]);
    assert_eq!(r.code, 64, "{r:?}");
}

#[test]
fn silence_and_ack_durations_are_bounded_and_any_stored_expiry_is_survived() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    for (args, limit) in [
        (
            vec!["silence", "web", "--for", "100000000000y"],
            "at most 365d",
        ),
        (vec!["ack", "web", "--for", "31d"], "at most 30d"),
        (vec!["history", "web", "--since", "11000d"], "at most 3650d"),
    ] {
        let r = env.cabot_at(T0, &args);
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(r.stderr.contains(limit), "{args:?}: {r:?}");
    }
    assert_eq!(
        env.count("SELECT count(*) FROM silences"),
        0,
        "nothing was saved"
    );
    // Whatever an older or damaged state holds, every reader answers.
    let db = env.db();
    db.execute_batch(&format!(
        "INSERT INTO silences (service, until, by, created_at) VALUES ('web', {max}, 'x', 0);
         INSERT INTO acks (service, until, by, note, created_at) VALUES ('web', {min}, 'x', NULL, {min});",
        max = i64::MAX,
        min = i64::MIN
    ))
    .expect("store hostile expiries");
    // And times from before time began, where ages are worked out.
    db.execute_batch(&format!(
        "UPDATE services SET since = {min}; UPDATE checks SET status_since = {min};",
        min = i64::MIN
    ))
    .expect("store hostile times");
    drop(db);
    for args in [
        vec!["status"],
        vec!["status", "--json"],
        vec!["status", "--nagios"],
        vec!["run"],
        vec!["history", "web"],
    ] {
        let r = env.cabot_at(T0 + MIN, &args);
        assert!((0..=3).contains(&r.code), "{args:?}: {r:?}");
        assert!(!r.stderr.contains("panicked"), "{args:?}: {r:?}");
    }
    let status = env.status_json();
    assert!(
        status.to_string().contains("9999-12-31T23:59:59Z"),
        "{status}"
    );
}

#[test]
fn status_nagios_is_unknown_with_the_reason_on_stdout_whatever_fails() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let nagios = |env: &Env| {
        let r = env.cabot_at(T0 + MIN, &["status", "--nagios"]);
        assert_eq!(r.code, 3, "{r:?}");
        assert_eq!(r.stdout.lines().count(), 1, "{r:?}");
        assert!(r.stdout.starts_with("CABOT UNKNOWN - "), "{r:?}");
        r.stdout
    };
    // A schema from a newer cabot.
    env.db()
        .execute_batch("PRAGMA user_version = 999")
        .expect("schema");
    assert!(nagios(&env).contains("made by a newer cabot"));
    // A state that is a directory.
    std::fs::remove_file(env.state()).expect("remove");
    std::fs::create_dir(env.state()).expect("mkdir");
    assert!(nagios(&env).contains("is not a regular file"));
    // A broken config: its first error, with line and column.
    std::fs::write(env.config(), "state: cabot.db\nservices: 12\n").expect("config");
    let line = nagios(&env);
    assert!(line.contains(":2:11: services: "), "{line}");
}

#[test]
fn a_nagios_line_longer_than_8_kib_keeps_its_perfdata() {
    let checks: String = (0..30)
        .map(|i| {
            format!(
                "  - name: svc{i}\n    checks:\n      - {{ name: c, type: command, command: {} }}\n",
                sh(&format!("echo 'CRITICAL - {}'; exit 2", "x".repeat(480)))
            )
        })
        .collect();
    let env = Env::new(&format!("services:\n{checks}"));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let r = env.cabot_at(T0 + 10, &["status", "--nagios"]);
    assert_eq!(r.code, 2, "{r:?}");
    let line = r.stdout.trim_end_matches('\n');
    assert!(line.len() <= 8 * 1024, "{} bytes", line.len());
    assert!(
        line.starts_with("CABOT CRITICAL - 30 of 30 services failing: svc"),
        "{line}"
    );
    assert!(
        line.ends_with(" | services=30;;;0 passing=0;;;0 warning=0;;;0 error=30;;;0 critical=0;;;0 last_run_age=10s;;600;0"),
        "{line}"
    );
}

// ---------------------------------------------------------------------------------------
// the example config
// ---------------------------------------------------------------------------------------

#[test]
fn the_example_config_runs_for_days_and_alerts_nobody() {
    let dir = tempfile::tempdir().expect("tempdir");
    let config = dir.path().join("checks.yaml");
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("checks.example.yaml"),
        &config,
    )
    .expect("copy example");
    let t0 = 1_800_000_000;
    // A first run, then runs past the heartbeat's day and grace and the repeat intervals.
    for hours in [0, 2, 26, 30, 50] {
        let out = cabot_command()
            .arg("-c")
            .arg(&config)
            .args(["run", "--all"])
            .env("CABOT_NOW", (t0 + hours * 3600).to_string())
            .output()
            .expect("run");
        assert_eq!(out.status.code(), Some(0), "{out:?}");
        // The Quick start's first command: quiet (no warning about the example channels'
        // unset variables, none of which a service with an active check uses).
        assert_eq!(String::from_utf8_lossy(&out.stderr), "", "{out:?}");
    }
    // ...and green.
    let status = cabot_command()
        .arg("-c")
        .arg(&config)
        .arg("status")
        .env("CABOT_NOW", (t0 + 50 * 3600 + 10).to_string())
        .output()
        .expect("status");
    assert_eq!(status.status.code(), Some(0), "{status:?}");
    let db = rusqlite::Connection::open(dir.path().join("cabot.db")).expect("state");
    let (alerts, deliveries, runs): (i64, i64, i64) = db
        .query_row(
            "SELECT (SELECT count(*) FROM alerts), (SELECT count(*) FROM deliveries), (SELECT count(*) FROM runs)",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("counts");
    assert_eq!(runs, 5);
    assert_eq!((alerts, deliveries), (0, 0), "the example alerts nobody");
}

#[test]
fn counts_and_durations_read_like_english() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let human = env.cabot_at(T0 + 5, &["status"]);
    assert!(human.stdout.contains("(1 check, 0 failed)"), "{human:?}");
    let nagios = env.cabot_at(T0 + 5, &["status", "--nagios"]);
    assert!(
        nagios.stdout.starts_with("CABOT OK - 1 service passing |"),
        "{nagios:?}"
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(T0 + 60, &["run"]).code, 0);
    let nagios = env.cabot_at(T0 + 65, &["status", "--nagios"]);
    assert!(
        nagios.stdout.contains(" - 1 of 1 service failing: "),
        "{nagios:?}"
    );
    let history = env.cabot_at(T0 + 120, &["history", "web", "--since", "1d"]);
    assert!(
        history
            .stdout
            .starts_with("web: 1 incident in the last 1 day, uptime 50.00% over the 2m monitored"),
        "{history:?}"
    );
}

#[test]
fn overviews_history_of_every_service_the_alerts_and_silence_all() {
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let target = Target::new();
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{}' }}
  down: {{ type: webhook, url: 'http://127.0.0.1:{}/', timeout: 1s }}
services:
  - name: api
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}' }}
  - name: web
    channels: [down]
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        hook.url("/hook"),
        closed_port(),
        target.url(),
        target.url()
    ));
    target.set_up(false);
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);

    // Every service's history, in name order.
    let h = env.cabot_at(T0 + MIN, &["history", "--since", "1d"]);
    assert_eq!(h.code, 0, "{h:?}");
    let firsts: Vec<&str> = h.stdout.lines().filter(|l| !l.starts_with(' ')).collect();
    assert_eq!(firsts.len(), 2, "{h:?}");
    assert!(
        firsts[0].starts_with("api: 1 incident in the last 1 day"),
        "{h:?}"
    );
    assert!(
        firsts[1].starts_with("web: 1 incident in the last 1 day"),
        "{h:?}"
    );
    let j = env.cabot_at(T0 + MIN, &["history", "--json"]);
    let v: Value = serde_json::from_str(&j.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");

    // The alerts, and what became of each delivery.
    let a = env.cabot_at(T0 + MIN, &["alerts"]);
    assert_eq!(a.code, 0, "{a:?}");
    let api = a
        .stdout
        .lines()
        .find(|l| l.contains(" api "))
        .unwrap_or_else(|| panic!("{a:?}"));
    assert!(
        api.ends_with("  api ERROR (alert) -> hook: delivered by webhook"),
        "{api}"
    );
    let web = a
        .stdout
        .lines()
        .find(|l| l.contains(" web "))
        .unwrap_or_else(|| panic!("{a:?}"));
    assert!(
        web.contains("-> down: not delivered yet, 1 attempt, next try "),
        "{web}"
    );
    let j = env.cabot_at(T0 + MIN, &["alerts", "--json"]);
    let v: Value = serde_json::from_str(&j.stdout).expect("JSON");
    assert_eq!(v.as_array().map(Vec::len), Some(2), "{v}");

    // A planned outage of everything.
    let s = env.cabot_at(T0 + MIN, &["silence", "--all", "--for", "1h"]);
    assert_eq!(s.code, 0, "{s:?}");
    assert_eq!(s.stdout.lines().count(), 2, "{s:?}");
    assert_eq!(env.count("SELECT count(*) FROM silences"), 2);
    assert_eq!(
        env.cabot_at(T0 + MIN, &["silence", "--for", "1h"]).code,
        64,
        "a service or --all"
    );
    let u = env.cabot_at(T0 + MIN, &["unsilence", "--all"]);
    assert_eq!(u.code, 0, "{u:?}");
    // Ended, and kept dated (so a pair's other node takes the end too).
    assert_eq!(
        env.count(&format!(
            "SELECT count(*) FROM silences WHERE until > {}",
            T0 + MIN
        )),
        0
    );
}
