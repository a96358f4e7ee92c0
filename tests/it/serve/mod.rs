//! `serve-status` end to end: the real binary answering `/status/`, `/status.json`, the page
//! and `/metrics` from a real state file while `cabot run` writes it; no secret, check URL or
//! response body ever shown; hostile clients. Every server is a child process on a free
//! 127.0.0.1 port; time is moved with CABOT_NOW, never waited for. The page in a real
//! browser is in `browser.rs`.

mod browser;
mod hooks;
mod posts;
mod publish;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Stdio;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

// ---------------------------------------------------------------------------------------
// 1. "Checks running" and "Checks not running"
// ---------------------------------------------------------------------------------------

#[test]
fn status_says_not_running_before_any_run_running_after_one_and_not_running_when_stale() {
    let target = Target::new();
    let env = one_service(&target, "");
    let mut before = StatusServer::start(&env, None);
    assert!(!env.state().exists(), "serve-status creates nothing");
    assert_eq!(before.status(), (503, NOT_RUNNING.into()));
    assert!(
        before
            .get("/status/")
            .header("Content-Type")
            .is_some_and(|t| t.starts_with("text/plain")),
    );
    assert!(!env.state().exists(), "serve-status still created nothing");

    let r = env.cabot(&["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        before.status(),
        (200, RUNNING.into()),
        "the same server sees the run"
    );
    let slashless = before.get("/status");
    assert_eq!((slashless.status, slashless.body.as_str()), (200, RUNNING));
    let query = before.get("/status/?from=jenkins");
    assert_eq!((query.status, query.body.as_str()), (200, RUNNING));
    assert!(before.is_alive());

    let finished = last_finished(&env);
    let stale = StatusServer::start(&env, Some(finished + STALE_AFTER + 60));
    assert_eq!(stale.status(), (503, NOT_RUNNING.into()));
    assert_eq!(stale.get("/status").status, 503);
    let json = stale.json();
    assert_eq!(json["running"], false, "{json:#}");
    assert_eq!(json["status"], NOT_RUNNING);
    let almost = StatusServer::start(&env, Some(finished + STALE_AFTER - 60));
    assert_eq!(almost.status(), (200, RUNNING.into()), "within stale_after");
}

/// `/status/`'s codes over `n` requests: enough that every worker of the server answers some.
fn codes(server: &StatusServer, n: usize) -> Vec<u16> {
    let mut codes: Vec<u16> = (0..n).map(|_| server.status().0).collect();
    codes.dedup();
    codes
}

#[test]
fn a_state_at_the_wrong_schema_is_not_running_and_no_crash() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut live = StatusServer::start(&env, None);
    // Every worker opens the state and keeps it open.
    assert_eq!(codes(&live, 40), [200]);

    env.db()
        .pragma_update(None, "user_version", 99)
        .expect("set user_version");
    assert_eq!(
        codes(&live, 40),
        [503],
        "every worker that had the state open notices the new schema"
    );
    let mut fresh = StatusServer::start(&env, None);
    assert_eq!(codes(&fresh, 20), [503]);
    let json = fresh.json();
    assert_eq!(json["running"], false, "{json:#}");
    assert_eq!(json["services"], serde_json::json!([]), "{json:#}");
    assert_eq!(fresh.get("/").status, 200);
    assert!(live.is_alive() && fresh.is_alive());

    // Back at the right schema, the same servers say "Checks running" again.
    let latest = cabot::store::migrations::latest();
    env.db()
        .pragma_update(None, "user_version", latest)
        .expect("set user_version");
    assert_eq!(codes(&live, 40), [200]);
    assert_eq!(codes(&fresh, 40), [200]);
}

#[test]
fn a_state_file_replaced_under_the_server_is_read_afresh() {
    let target = Target::new();
    let env = one_service(&target, "");
    // The old file's last run is long stale; the server has it open in every worker.
    assert_eq!(env.cabot_at(T0 - 3_600, &["run"]).code, 0);
    let server = StatusServer::start(&env, Some(T0));
    assert_eq!(codes(&server, 40), [503]);
    // The operator starts afresh: the files go, and a run makes a new state.
    for suffix in ["", "-wal", "-shm"] {
        let mut name = env.state().into_os_string();
        name.push(suffix);
        let _ = std::fs::remove_file(name);
    }
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!(codes(&server, 40), [200], "every worker reads the new file");

    // A backup restored over it by rename is read too.
    let backup = env.path("restored.db");
    let stale = Env::new(&std::fs::read_to_string(env.config()).expect("config"));
    assert_eq!(stale.cabot_at(T0 - 3_600, &["run"]).code, 0);
    stale
        .db()
        .execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .expect("checkpoint");
    std::fs::copy(stale.state(), &backup).expect("copy");
    std::fs::rename(&backup, env.state()).expect("rename");
    assert_eq!(
        codes(&server, 40),
        [503],
        "every worker reads the restored file"
    );
}

#[test]
fn a_locked_state_is_not_running_and_no_crash() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    // A writer that holds the state exclusively: in WAL mode, only a connection in exclusive
    // locking mode that got there before any reader opened the file locks readers out.
    let lock = env.db();
    lock.execute_batch(
        "PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; UPDATE runs SET checks_run = checks_run;",
    )
    .expect("lock (no reader may have the state open yet)");
    let started = Instant::now();
    assert_eq!(server.status(), (503, NOT_RUNNING.into()), "locked");
    // The answer waits out the state's busy timeout (5 s, at open) first.
    let took = started.elapsed();
    assert!(took < Duration::from_secs(9), "took {took:?}");
    assert!(server.is_alive(), "{}", server.log());

    lock.execute_batch("COMMIT; PRAGMA locking_mode = NORMAL;")
        .expect("unlock");
    // Exclusive locking mode lets go at the next read after NORMAL.
    let _: i64 = lock
        .query_row("SELECT count(*) FROM runs", [], |r| r.get(0))
        .expect("read");
    drop(lock);
    assert_eq!(codes(&server, 20), [200]);
    assert!(server.is_alive());
}

#[test]
fn a_corrupt_or_empty_state_file_is_not_running_and_no_crash() {
    let target = Target::new();
    let env = one_service(&target, "");
    for (what, bytes) in [
        ("garbage", b"this is not an SQLite database\n".repeat(500)),
        ("an empty file", Vec::new()),
        (
            "a truncated header",
            b"SQLite format 3\0\x10\0\x02\x02\0@  ".to_vec(),
        ),
    ] {
        std::fs::write(env.state(), &bytes).expect("write state");
        let mut server = StatusServer::start(&env, None);
        assert_eq!(server.status(), (503, NOT_RUNNING.into()), "{what}");
        assert_eq!(server.json()["running"], false, "{what}");
        assert_eq!(server.get("/").status, 200, "{what}");
        assert_eq!(server.get("/metrics").status, 404, "{what}");
        assert!(server.is_alive(), "{what}: {}", server.log());
        assert_eq!(
            std::fs::read(env.state()).expect("state"),
            bytes,
            "{what}: serve-status wrote nothing"
        );
    }
}

#[test]
fn status_keeps_answering_while_runs_write() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    assert_eq!(server.status(), (200, RUNNING.into()));

    let done = AtomicBool::new(false);
    let answers = thread::scope(|s| {
        let writer = s.spawn(|| {
            let runs: Vec<Run> = (0..10).map(|_| env.cabot(&["run", "--all"])).collect();
            done.store(true, Ordering::SeqCst);
            runs
        });
        let mut answers = Vec::new();
        while !done.load(Ordering::SeqCst) {
            let started = Instant::now();
            let a = server.get("/status/");
            answers.push((a.status, a.body, started.elapsed()));
        }
        for r in writer.join().expect("runs") {
            assert_eq!(r.code, 0, "{r:?}");
        }
        answers
    });
    assert!(answers.len() >= 10, "only {} answers", answers.len());
    for (status, body, took) in &answers {
        assert_eq!((*status, body.as_str()), (200, RUNNING));
        assert!(*took < Duration::from_secs(5), "an answer took {took:?}");
    }
    assert_eq!(env.count("SELECT count(*) FROM runs"), 11);
    assert!(server.is_alive());
}

// ---------------------------------------------------------------------------------------
// 2. /status.json, HEAD, methods, 404, /metrics
// ---------------------------------------------------------------------------------------

/// Public `web` (passing) and `api` (failing, alerting to a closed port), private `internal`.
fn three_services(extra: &str) -> (Env, Target) {
    let target = Target::new();
    let env = Env::new(&format!(
        "stale_after: 10m
alerting: {{ give_up_after: 1m }}
channels:
  hook: {{ type: webhook, url: 'http://127.0.0.1:{closed}/hook', timeout: 1s }}
{extra}
services:
  - name: web
    public: true
    checks:
      - {{ name: home, type: http, url: '{url}' }}
  - name: api
    public: true
    channels: [hook]
    checks:
      - {{ name: db, type: tcp, host: '127.0.0.1:{closed}' }}
  - name: internal
    checks:
      - {{ name: home, type: http, url: '{url}' }}
",
        closed = closed_port(),
        url = target.url(),
    ));
    (env, target)
}

#[test]
fn status_json_has_the_run_the_public_services_and_the_outbox() {
    let (env, _target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let finished = last_finished(&env);
    let server = StatusServer::start(&env, Some(T0 + 30));
    let json = server.json();
    assert_eq!(
        server.get("/status.json").header("Content-Type"),
        Some("application/json")
    );
    assert_eq!(json["running"], true, "{json:#}");
    assert_eq!(json["status"], RUNNING);
    assert_eq!(json["last_run"]["started_at"], rfc3339(T0));
    assert_eq!(json["last_run"]["finished_at"], rfc3339(finished));
    let age = json["last_run"]["age_seconds"].as_i64().expect("age");
    let least = T0 + 30 - finished;
    assert!((least..=least + 3).contains(&age), "age {age}, {json:#}");
    assert_eq!(json["stale_after_seconds"], STALE_AFTER);
    let brief: Vec<Value> = json["services"]
        .as_array()
        .expect("services")
        .iter()
        .map(|s| serde_json::json!({ "name": s["name"], "status": s["status"], "since": s["since"] }))
        .collect();
    assert_eq!(
        brief,
        [
            serde_json::json!({ "name": "web", "status": "PASSING", "since": rfc3339(T0) }),
            serde_json::json!({ "name": "api", "status": "ERROR", "since": rfc3339(T0) }),
        ],
        "public services only, in config order"
    );
    // Watched for half a minute: each window's figure says it covers only that.
    let web = &json["services"][0]["uptime"];
    let api = &json["services"][1];
    for window in ["24h", "7d", "30d"] {
        let monitored = web[window]["monitored_seconds"]
            .as_i64()
            .expect("monitored");
        assert!((28..=30).contains(&monitored), "{window}: {web:#}");
        assert_eq!(web[window]["percent"], 100.0, "{web:#}");
        assert_eq!(api["uptime"][window]["percent"], 0.0, "{api:#}");
    }
    assert_eq!(web["30d"]["window_seconds"], 30 * 86_400);
    assert_eq!(
        api["recent_incidents"][0]["worst_status"], "ERROR",
        "{api:#}"
    );
    assert_eq!(api["recent_incidents"][0]["end"], Value::Null, "{api:#}");
    assert_eq!(
        json["services"][0]["recent_incidents"],
        serde_json::json!([])
    );
    assert_eq!(json["undelivered_alerts"], 1, "{json:#}");
    assert_eq!(json["given_up_alerts"], 0);

    // Two minutes on, the alert is past give_up_after (1m).
    assert_eq!(env.cabot_at(T0 + 2 * MIN, &["run"]).code, 0);
    let later = StatusServer::start(&env, Some(T0 + 2 * MIN + 5));
    let json = later.json();
    assert_eq!(json["undelivered_alerts"], 0, "{json:#}");
    assert_eq!(json["given_up_alerts"], 1, "{json:#}");
    assert_eq!(json["last_run"]["started_at"], rfc3339(T0 + 2 * MIN));

    // Before any run, last_run is null.
    let (empty, _t) = three_services("");
    let json = StatusServer::start(&empty, None).json();
    assert_eq!(json["running"], false);
    assert_eq!(json["last_run"], Value::Null, "{json:#}");
    assert_eq!(json["services"], serde_json::json!([]));
    assert_eq!(json["undelivered_alerts"], 0);
}

#[test]
fn the_page_lists_public_services_with_a_strip_and_no_script() {
    let (env, _target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let server = StatusServer::start(&env, Some(T0 + 30));
    let page = server.get("/");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.header("Content-Type"),
        Some("text/html; charset=utf-8")
    );
    assert!(page.body.starts_with("<!doctype html>"), "{page:?}");
    assert!(page.body.contains("id=\"service-web\""), "{page:?}");
    assert!(page.body.contains("id=\"service-api\""), "{page:?}");
    assert!(
        !page.body.contains("internal"),
        "private service shown: {page:?}"
    );
    assert_eq!(page.body.matches("<svg").count(), 2, "one strip each");
    assert!(page.body.contains("Some services are failing"), "{page:?}");
    assert!(!page.body.to_lowercase().contains("<script"));
}

/// A service's `<section>` of the page.
fn section<'a>(page: &'a str, service: &str) -> &'a str {
    page.split(&format!("id=\"service-{service}\""))
        .nth(1)
        .and_then(|s| s.split("</section>").next())
        .unwrap_or_else(|| panic!("no section for {service}:\n{page}"))
}

#[test]
fn a_stale_page_says_unknown_since_the_last_run_not_the_last_green() {
    let (env, _target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!(env.cabot_at(T0 + 5 * MIN, &["run", "--all"]).code, 0);
    let finished = last_finished(&env);
    // An hour on with no run: stale_after is 10m.
    let server = StatusServer::start(&env, Some(T0 + 60 * MIN));
    let page = server.get("/").body;
    let web = section(&page, "web");
    assert!(web.contains(">UNKNOWN</span>"), "{web}");
    assert!(
        !web.contains(">PASSING</span>"),
        "the last green badge is no news: {web}"
    );
    assert!(web.contains("unknown since "), "{web}");
    assert!(web.contains("it was PASSING then"), "{web}");
    // The strip's green ends at the last run; grey "unknown" from there to now.
    assert!(web.contains("<title>unknown from "), "{web}");
    let green_to = web
        .split("<title>PASSING from ")
        .nth(1)
        .and_then(|t| t.split(" to ").nth(1))
        .and_then(|t| t.split("</title>").next())
        .expect("a passing stretch");
    assert_ne!(green_to, "now", "{web}");
    let minute = |t: i64| {
        jiff::Timestamp::from_second(t)
            .expect("time")
            .strftime("%Y-%m-%d %H:%M UTC")
            .to_string()
    };
    assert_eq!(green_to, minute(finished), "{web}");
    assert!(page.contains("Status unknown"), "{page}");
}

#[test]
fn the_page_gives_uptimes_over_the_time_watched_and_the_latest_incidents() {
    let (env, target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(env.cabot_at(T0 + 10 * MIN, &["run", "--all"]).code, 0);
    target.set_up(true);
    assert_eq!(env.cabot_at(T0 + 12 * MIN, &["run", "--all"]).code, 0);
    let server = StatusServer::start(&env, Some(T0 + 15 * MIN));
    let page = server.get("/").body;
    let web = section(&page, "web");
    // 2 minutes down of 15 watched: 86.67%, over the 15m monitored, not over a week.
    assert!(
        web.contains("Uptime: 86.67% over the 15m monitored (24 hours)")
            || web.contains("over the 14m"),
        "{web}"
    );
    assert!(
        web.contains("(7 days)") && web.contains("(30 days)"),
        "{web}"
    );
    assert!(web.contains("<li>ERROR at "), "{web}");
    assert!(web.contains("lasted 2m"), "{web}");
}

#[test]
fn a_public_service_has_a_badge_and_a_private_one_does_not() {
    let (env, _target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let server = StatusServer::start(&env, Some(T0 + 30));
    let web = server.get("/badge/web.svg");
    assert_eq!(web.status, 200);
    assert_eq!(web.header("Content-Type"), Some("image/svg+xml"));
    assert!(
        web.body
            .starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""),
        "{web:?}"
    );
    assert!(
        web.body.contains(">passing</text>") && web.body.contains("#2e9d4f"),
        "{web:?}"
    );
    let api = server.get("/badge/api.svg");
    assert!(api.body.contains(">error</text>"), "{api:?}");
    for missing in [
        "/badge/internal.svg",
        "/badge/nope.svg",
        "/badge/web",
        "/badge/web.png",
    ] {
        assert_eq!(server.get(missing).status, 404, "{missing}");
    }
    // A stale monitor knows nothing now.
    let stale = StatusServer::start(&env, Some(T0 + 60 * MIN));
    assert!(stale.get("/badge/web.svg").body.contains(">unknown</text>"));
}

#[test]
fn head_gives_the_headers_without_a_body() {
    let target = Target::new();
    let env = one_service(&target, "");
    let server = StatusServer::start(&env, None);
    let head = server.request(&request("HEAD", "/status/"));
    assert_eq!(head.status, 503, "{head:?}");
    assert_eq!(head.body, "", "no body after HEAD: {head:?}");
    assert!(head.header("Content-Type").is_some(), "{head:?}");

    assert_eq!(env.cabot(&["run"]).code, 0);
    let get = server.get("/status/");
    let head = server.request(&request("HEAD", "/status/"));
    assert_eq!((head.status, head.body.as_str()), (200, ""), "{head:?}");
    assert_eq!(head.header("Content-Type"), get.header("Content-Type"));
    assert_eq!(
        head.header("Content-Length"),
        Some(RUNNING.len().to_string().as_str()),
        "{head:?}"
    );
    for path in ["/", "/status.json"] {
        let head = server.request(&request("HEAD", path));
        assert_eq!(
            (head.status, head.body.as_str()),
            (200, ""),
            "{path}: {head:?}"
        );
    }
}

#[test]
fn other_methods_are_405_with_allow_and_unknown_paths_404() {
    let target = Target::new();
    let env = one_service(&target, "");
    let server = StatusServer::start(&env, None);
    for method in ["POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
        for path in ["/status/", "/status", "/", "/status.json"] {
            let a = server.request(&request(method, path));
            assert_eq!(a.status, 405, "{method} {path}: {a:?}");
            assert_eq!(
                a.header("Allow"),
                Some("GET, HEAD"),
                "{method} {path}: {a:?}"
            );
        }
    }
    for path in [
        "/nope",
        "/status/x",
        "/statusx",
        "/metrics",
        "/index.html",
        "/status.json/",
    ] {
        let a = server.get(path);
        assert_eq!(a.status, 404, "{path}: {a:?}");
        assert_eq!(a.header("Allow"), None);
    }
    let a = server.request(&request("POST", "/nope"));
    assert_eq!(a.status, 404, "{a:?}");
}

/// A Prometheus sample line: name, labels as written, value.
fn samples(text: &str) -> Vec<(String, String, f64)> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .map(|l| {
            let (series, value) = l.rsplit_once(' ').unwrap_or_else(|| panic!("{l}"));
            let (name, labels) = match series.split_once('{') {
                Some((n, rest)) => (n, rest.strip_suffix('}').unwrap_or_else(|| panic!("{l}"))),
                None => (series, ""),
            };
            let value = value.parse().unwrap_or_else(|_| panic!("value in {l}"));
            (name.to_string(), labels.to_string(), value)
        })
        .collect()
}

#[test]
fn metrics_in_prometheus_text_format_when_switched_on() {
    let target = Target::new();
    let env = Env::new(&format!(
        r#"stale_after: 10m
status: {{ metrics: true }}
services:
  - name: 'we"b\x'
    public: true
    checks:
      - {{ name: home, type: http, url: '{url}' }}
  - name: api
    checks:
      - {{ name: db, type: tcp, host: '127.0.0.1:{closed}' }}
"#,
        url = target.url(),
        closed = closed_port(),
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!(env.cabot_at(T0 + MIN, &["run"]).code, 0);
    let server = StatusServer::start(&env, Some(T0 + MIN + 20));
    let m = server.get("/metrics");
    assert_eq!(m.status, 200, "{m:?}");
    assert!(
        m.header("Content-Type")
            .is_some_and(|t| t.starts_with("text/plain; version=0.0.4")),
        "{m:?}"
    );
    let text = &m.body;
    for family in [
        "cabot_check_up",
        "cabot_check_duration_seconds",
        "cabot_check_consecutive_failures",
        "cabot_service_status",
        "cabot_checks_running",
        "cabot_last_run_age_seconds",
    ] {
        let type_line = format!("# TYPE {family} gauge");
        let at = text
            .find(&type_line)
            .unwrap_or_else(|| panic!("no '{type_line}' in\n{text}"));
        let first = text
            .find(&format!("\n{family}"))
            .unwrap_or_else(|| panic!("no sample of {family} in\n{text}"));
        assert!(at < first, "# TYPE before the samples of {family}");
    }
    let web = r#"service="we\"b\\x",check="home""#;
    let api = r#"service="api",check="db""#;
    let all = samples(text);
    let value = |name: &str, labels: &str| {
        all.iter()
            .find(|(n, l, _)| n == name && l == labels)
            .map(|s| s.2)
            .unwrap_or_else(|| panic!("no {name}{{{labels}}} in\n{text}"))
    };
    assert_eq!(value("cabot_check_up", web), 1.0);
    assert_eq!(value("cabot_check_up", api), 0.0);
    assert!((0.0..10.0).contains(&value("cabot_check_duration_seconds", web)));
    assert_eq!(value("cabot_check_consecutive_failures", web), 0.0);
    assert_eq!(value("cabot_check_consecutive_failures", api), 2.0);
    assert_eq!(value("cabot_service_status", r#"service="we\"b\\x""#), 0.0);
    assert_eq!(value("cabot_service_status", r#"service="api""#), 2.0);
    assert_eq!(value("cabot_checks_running", ""), 1.0);
    let age = value("cabot_last_run_age_seconds", "");
    assert!((19.0..25.0).contains(&age), "age {age}");
    // Every line is a comment or a well-formed sample (samples() panics otherwise).
    assert_eq!(all.len(), 10, "{text}");

    // The page escapes the same name for HTML.
    let page = server.get("/").body;
    assert!(page.contains(r#"we&quot;b\x"#), "{page}");
    assert!(!page.contains(r#"we"b"#), "{page}");
}

// ---------------------------------------------------------------------------------------
// 3. No secret, check URL or response body, ever
// ---------------------------------------------------------------------------------------

#[test]
fn no_secret_check_url_or_response_body_is_ever_shown() {
    const BODY: &str = "ResponseBody-c0ffee-7b3e";
    let target = HttpServer::start(|req| {
        if req.url.starts_with("/down") {
            Reply::new(500, format!("{BODY} (the server is on fire)"))
        } else {
            Reply::new(200, format!("<h1>Welcome</h1>{BODY}"))
        }
    });
    let closed = closed_port();
    let port = target.addr.port();
    let secrets = [
        "SmtpInlinePassword-4f1a",
        "TwilioInlineAuthToken-9c2e",
        "S3cretUrlPass",
        "CheckPassword-e81d",
        "SlackHookToken-55aa",
        "WebhookPathToken-0d0d",
        "HeartbeatUuid-77f0",
        "PrivateServiceName-3131",
        BODY,
    ];
    let env = Env::new(&format!(
        "stale_after: 10m
status: {{ metrics: true }}
heartbeat_url: 'http://127.0.0.1:{closed}/ping/HeartbeatUuid-77f0'
users:
  alice: {{ email: alice@example.com, phone: '+15551230001', slack: U024BE7LH }}
channels:
  mail:
    type: email
    from: 'Cabot <cabot@example.com>'
    timeout: 1s
    servers:
      - {{ url: 'smtp://127.0.0.1:{closed}', username: cabot, password: SmtpInlinePassword-4f1a }}
  sms:
    type: sms
    timeout: 1s
    providers:
      - twilio: {{ account_sid: AC1, auth_token: TwilioInlineAuthToken-9c2e, from: '+15550000001', base_url: 'http://127.0.0.1:{closed}' }}
  chat: {{ type: slack, webhook_url: 'http://127.0.0.1:{closed}/services/T0/B0/SlackHookToken-55aa', timeout: 1s }}
  hook: {{ type: webhook, url: 'http://127.0.0.1:{closed}/hook/WebhookPathToken-0d0d', timeout: 1s }}
services:
  - name: web
    public: true
    url: https://web.example.com
    users: [alice]
    channels: [mail, sms, chat, hook]
    checks:
      - {{ name: home, type: http, url: 'http://user:S3cretUrlPass@127.0.0.1:{port}/', text_match: Welcome }}
      - {{ name: login, type: http, url: 'http://127.0.0.1:{port}/login', username: admin, password: CheckPassword-e81d }}
      - {{ name: broken, type: http, url: 'http://127.0.0.1:{port}/down?key=S3cretUrlPass' }}
      - {{ name: wrong-text, type: http, url: 'http://127.0.0.1:{port}/', text_match: 'not in {BODY}' }}
  - name: PrivateServiceName-3131
    checks:
      - {{ name: home, type: http, url: 'http://127.0.0.1:{port}/' }}
",
    ));
    let r = env.cabot(&["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        target
            .requests()
            .iter()
            .any(|q| q.header("Authorization").is_some()),
        "the checks did use their credentials"
    );
    let status = env.status_json();
    assert_eq!(status["services"][0]["status"], "ERROR", "{status:#}");
    assert!(
        env.count("SELECT count(*) FROM results WHERE message LIKE '%500%'") > 0,
        "a failure message is in the state for the server to (not) show"
    );

    let server = StatusServer::start(&env, None);
    let mut seen = Vec::new();
    for path in [
        "/",
        "/status/",
        "/status",
        "/status.json",
        "/metrics",
        "/nope",
        "/status.json?verbose=1",
        "/S3cretUrlPass",
    ] {
        let a = server.get(path);
        if path != "/nope" && path != "/S3cretUrlPass" {
            assert_eq!(a.status, 200, "{path}: {a:?}");
        }
        seen.push((format!("GET {path}"), a));
        let head = server.request(&request("HEAD", path));
        seen.push((format!("HEAD {path}"), head));
    }
    seen.push((
        "POST /status/".into(),
        server.request(&request("POST", "/status/")),
    ));
    let mut forbidden: Vec<String> = secrets.iter().map(|s| s.to_string()).collect();
    forbidden.extend([
        format!("127.0.0.1:{port}"),
        format!("127.0.0.1:{closed}"),
        "user:".into(),
        "/login".into(),
        "web.example.com".into(),
        "alice".into(),
        "on fire".into(),
    ]);
    for (what, a) in &seen {
        // A 404 for /S3cretUrlPass must not echo the path either.
        for secret in &forbidden {
            // /metrics is for the operator's Prometheus: every service, public or not, by name.
            if what.ends_with("/metrics") && secret.as_str() == "PrivateServiceName-3131" {
                continue;
            }
            assert!(
                !a.raw.contains(secret.as_str()),
                "{what} shows {secret}:\n{a:?}"
            );
        }
    }
    // The public service is there, by name only; the private one is not on the page or in JSON.
    let page = &seen[0].1;
    assert!(page.body.contains("web"), "{page:?}");
    let json: Value = serde_json::from_str(&seen[6].1.body).expect("json");
    assert_eq!(
        json["services"].as_array().map(Vec::len),
        Some(1),
        "{json:#}"
    );
    let log = server.log();
    for secret in &secrets {
        assert!(
            !log.contains(secret),
            "serve-status's stderr shows {secret}:\n{log}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// 4. Hostile clients
// ---------------------------------------------------------------------------------------

/// Sends `raw`, reads the one answer that comes back within 5 s (nothing, if the server
/// just closes).
fn send_raw(addr: SocketAddr, raw: &[u8]) -> Vec<u8> {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = conn.write_all(raw);
    read_answer(&mut conn, false).unwrap_or_default()
}

#[test]
fn malformed_requests_get_4xx_or_a_close_and_the_server_goes_on() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    let huge_path = format!(
        "GET /{} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        "a".repeat(100_000)
    );
    let huge_header = format!(
        "GET /status/ HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\nConnection: close\r\n\r\n",
        "b".repeat(100_000)
    );
    let many_headers = format!(
        "GET /status/ HTTP/1.1\r\nHost: x\r\n{}Connection: close\r\n\r\n",
        "X-Many: 1\r\n".repeat(10_000)
    );
    let bad: Vec<(&str, Vec<u8>)> = vec![
        ("garbage", b"GARBAGE\r\n\r\n".to_vec()),
        ("no path", b"GET\r\n\r\n".to_vec()),
        ("no version", b"GET /status/\r\n\r\n".to_vec()),
        ("unknown version", b"GET /status/ HTTP/9.9\r\n\r\n".to_vec()),
        ("binary", b"\x00\x01\x02\xff\xfe\xfd\r\n\r\n".to_vec()),
        ("non-ASCII path", "GET /stätus/ HTTP/1.1\r\n\r\n".as_bytes().to_vec()),
        ("header without colon", b"GET /status/ HTTP/1.1\r\nNoColon\r\n\r\n".to_vec()),
        ("bad Expect", b"GET /status/ HTTP/1.1\r\nExpect: tea\r\n\r\n".to_vec()),
        ("only blank lines", b"\r\n\r\n\r\n".to_vec()),
        (
            "absurd Content-Length",
            b"POST /status/ HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\nConnection: close\r\n\r\n"
                .to_vec(),
        ),
        ("100 kB path", huge_path.into_bytes()),
        ("100 kB header", huge_header.into_bytes()),
        ("10,000 headers", many_headers.into_bytes()),
    ];
    // An HTTP/2.0 request line over HTTP/1 framing gets a 505 (checked after the others).
    let mut http2 = TcpStream::connect(server.addr()).expect("connect");
    http2
        .write_all(b"GET /status/ HTTP/2.0\r\n\r\n")
        .expect("send");
    for (what, raw) in &bad {
        let started = Instant::now();
        let answer = send_raw(server.addr(), raw);
        assert!(
            started.elapsed() < Duration::from_secs(8),
            "{what}: the server kept it open"
        );
        if !answer.is_empty() {
            let a = Answer::parse(&answer).unwrap_or_else(|e| panic!("{what}: {e}"));
            let fine = match *what {
                // Well-formed enough to be answered.
                "100 kB header" | "10,000 headers" => a.status == 200 || a.status == 431,
                "100 kB path" => a.status == 404 || a.status == 414,
                "absurd Content-Length" => a.status == 405 || a.status == 400 || a.status == 413,
                _ => (400..600).contains(&a.status) && a.status != 500,
            };
            assert!(fine, "{what}: {a:?}");
            assert!(
                a.raw.len() < 10_000,
                "{what}: a {} byte answer",
                a.raw.len()
            );
        }
        assert_eq!(server.status(), (200, RUNNING.into()), "after {what}");
    }
    let mut answer = String::new();
    http2
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = std::io::Read::read_to_string(&mut http2, &mut answer);
    assert!(answer.starts_with("HTTP/1.1 505 "), "HTTP/2.0: {answer}");
    assert_eq!(server.status(), (200, RUNNING.into()));
    assert!(server.is_alive(), "{}", server.log());
}

/// Every answer on one connection, read until the server closes it.
fn answers_on_one_connection(addr: SocketAddr, raw: &[u8]) -> String {
    let mut conn = TcpStream::connect_timeout(&addr, Duration::from_secs(2)).expect("connect");
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = conn.write_all(raw);
    let mut out = Vec::new();
    let _ = std::io::Read::read_to_end(&mut conn, &mut out);
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
fn a_request_a_proxy_could_read_another_way_is_refused_and_nothing_after_it_answered() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    // Each carries a second request that a proxy reading the head differently would
    // forward as part of the first: it must never get its own answer.
    let smuggled = "GET /status.json HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let cases = [
        (
            "two Content-Lengths",
            "Host: x\r\nContent-Length: 0\r\nContent-Length: 58\r\n",
        ),
        (
            "a signed Content-Length",
            "Host: x\r\nContent-Length: +0\r\n",
        ),
        ("two Hosts", "Host: x\r\nHost: y\r\n"),
        ("no Host in HTTP/1.1", "X-Other: 1\r\n"),
        (
            "a bare CR in a value",
            "Host: x\r\nX-Split: a\rContent-Length: 58\r\n",
        ),
        ("a NUL in a value", "Host: x\r\nX-Nul: a\0b\r\n"),
    ];
    for (what, headers) in cases {
        let raw = format!("POST /status/ HTTP/1.1\r\n{headers}\r\n{smuggled}");
        let out = answers_on_one_connection(server.addr(), raw.as_bytes());
        assert!(out.starts_with("HTTP/1.1 400 "), "{what}: {out}");
        assert_eq!(out.matches("HTTP/1.1 ").count(), 1, "{what}: {out}");
    }
    // What is well formed still gets its answers: HTTP/1.0 needs no Host, a tab may
    // stand in a value, and the second request of a keep-alive connection is answered.
    let out = answers_on_one_connection(
        server.addr(),
        b"GET /status/ HTTP/1.0\r\nX-Tab: a\tb\r\n\r\n",
    );
    assert!(out.starts_with("HTTP/1.1 200 "), "{out}");
    let out = answers_on_one_connection(
        server.addr(),
        format!("GET /status/ HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n{smuggled}")
            .as_bytes(),
    );
    assert_eq!(out.matches("HTTP/1.1 200 ").count(), 2, "{out}");
    assert!(server.is_alive(), "{}", server.log());
}

#[test]
fn path_traversal_finds_nothing() {
    let target = Target::new();
    let env = one_service(&target, "");
    std::fs::write(env.path("secret.txt"), "TraversalTarget-1234").expect("write");
    let server = StatusServer::start(&env, None);
    let depth = "../".repeat(env.dir.path().components().count());
    for path in [
        "/../../etc/passwd".to_string(),
        "/%2e%2e/".into(),
        "/%2e%2e/%2e%2e/etc/passwd".into(),
        "/..%2f..%2fetc%2fpasswd".into(),
        "/status/../../etc/passwd".into(),
        "//etc/passwd".into(),
        "/./status.json/../checks.yaml".into(),
        "/checks.yaml".into(),
        "/cabot.db".into(),
        "/secret.txt".into(),
        format!("/{depth}etc/passwd"),
        format!("/{depth}{}", env.path("secret.txt").display()),
    ] {
        let a = server.get(&path);
        assert_eq!(a.status, 404, "{path}: {a:?}");
        for leak in ["root:", "TraversalTarget", "services:", "SQLite format"] {
            assert!(!a.raw.contains(leak), "{path} shows {leak}: {a:?}");
        }
    }
}

#[test]
fn five_hundred_idle_and_slow_connections_do_not_stop_the_answers() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    // Under systemd's default soft limit of 1024 open files: each connection costs the server
    // descriptors, so 520 of them take it past the limit unless it raises its own.
    let mut server = StatusServer::start_limited(&env, None, Some(1024));
    let test_started = Instant::now();

    let mut idle = Vec::new();
    for i in 0..500 {
        let conn = TcpStream::connect_timeout(&server.addr(), Duration::from_secs(2))
            .unwrap_or_else(|e| panic!("connection {i}: {e}"));
        idle.push(conn);
    }
    // Some send a request a byte at a time and never finish it.
    let partial = b"GET /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";
    let mut slow: Vec<TcpStream> = (0..20)
        .map(|_| TcpStream::connect_timeout(&server.addr(), Duration::from_secs(2)).expect("slow"))
        .collect();
    let mut worst = Duration::ZERO;
    for step in 0..partial.len() + 10 {
        for conn in &mut slow {
            let byte = partial.get(step).copied().unwrap_or(b'z');
            let _ = conn.write_all(&[byte]);
        }
        if step % 5 == 0 {
            let started = Instant::now();
            let a = server
                .try_request(&get("/status/"))
                .unwrap_or_else(|e| panic!("no answer with 520 connections held: {e}"));
            worst = worst.max(started.elapsed());
            assert_eq!((a.status, a.body.as_str()), (200, RUNNING));
        }
        thread::sleep(Duration::from_millis(50));
    }
    assert!(worst < Duration::from_secs(3), "an answer took {worst:?}");
    let json = server.json();
    assert_eq!(json["running"], true);
    assert!(server.is_alive());

    drop(idle);
    drop(slow);
    assert_eq!(server.status(), (200, RUNNING.into()));
    assert!(server.is_alive(), "{}", server.log());
    assert!(
        test_started.elapsed() < Duration::from_secs(60),
        "took {:?}",
        test_started.elapsed()
    );
}

/// The server's resident memory, from /proc (Linux).
fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A header line that never ends is cut off at the head limit, not read into memory until
/// its CRLF (tiny_http 0.12, which serve-status used before, did: tiny-http#56).
#[test]
fn a_header_that_never_ends_does_not_take_unbounded_memory() {
    let target = Target::new();
    let env = one_service(&target, "");
    let server = StatusServer::start(&env, None);
    let before = rss_kib(server.pid());
    let mut conn = TcpStream::connect(server.addr()).expect("connect");
    conn.set_write_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    let _ = conn.write_all(b"GET /status/ HTTP/1.1\r\nX-Endless: ");
    let chunk = vec![b'a'; 1 << 20];
    for _ in 0..128 {
        if conn.write_all(&chunk).is_err() {
            break;
        }
    }
    // The loop ends when the server stops reading (it answered 431 and closed) or when it
    // has read all 128 MiB; either way what it kept is in its RSS now.
    let after = rss_kib(server.pid());
    assert!(
        after < before + 16 * 1024,
        "128 MiB of one header line took the server from {before} KiB to {after} KiB"
    );
}

/// One client that pipelines requests and never reads its answers stalls only itself (under
/// tiny_http 0.12 it blocked every worker).
#[test]
fn a_client_that_pipelines_and_never_reads_does_not_stop_the_answers() {
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let server = StatusServer::start(&env, None);
    let mut hog = TcpStream::connect(server.addr()).expect("connect");
    hog.set_write_timeout(Some(Duration::from_secs(2)))
        .expect("timeout");
    let one = b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    for _ in 0..20_000 {
        if hog.write_all(one).is_err() {
            break;
        }
    }
    wait_until_unread_stops_growing(&hog);
    let started = Instant::now();
    let answer = server.try_request(&get("/status/"));
    assert!(
        answer.is_ok() && started.elapsed() < Duration::from_secs(3),
        "with one pipelining client that never reads: {:?} after {:?}",
        answer.map(|a| a.status),
        started.elapsed()
    );
}

/// Waits until the bytes a client has not read stop growing: the server has filled what the
/// connection holds and is blocked writing to it.
fn wait_until_unread_stops_growing(conn: &TcpStream) {
    use std::os::fd::AsRawFd as _;
    let unread = || {
        let mut n: libc::c_int = 0;
        // SAFETY: FIONREAD writes one int to the pointer it is given; the socket is open.
        unsafe { libc::ioctl(conn.as_raw_fd(), libc::FIONREAD, &mut n) };
        n
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut last = -1;
    loop {
        let now = unread();
        if (now > 0 && now == last) || Instant::now() > deadline {
            return;
        }
        last = now;
        thread::sleep(Duration::from_millis(100));
    }
}

/// Out of file descriptors, the server waits and accepts again once some are free (tiny_http
/// 0.12's accept thread panicked there and left a deaf process: tiny-http#195).
#[test]
fn running_out_of_file_descriptors_does_not_leave_a_deaf_server() {
    use std::os::unix::process::CommandExt as _;
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let port = free_port();
    let listen = format!("127.0.0.1:{port}");
    let mut cmd = env.command(&["serve-status", "--listen", &listen]);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    // SAFETY: setrlimit is async-signal-safe; the closure touches nothing else.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut child = cmd.spawn().expect("serve-status");
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let up = |addr| {
        TcpStream::connect_timeout(&addr, Duration::from_millis(500))
            .and_then(|mut c| {
                c.set_read_timeout(Some(Duration::from_secs(2)))?;
                c.write_all(&get("/status/"))?;
                let mut s = String::new();
                c.read_to_string(&mut s)?;
                Ok(s.contains(RUNNING))
            })
            .unwrap_or(false)
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while !up(addr) {
        assert!(Instant::now() < deadline, "serve-status did not come up");
        thread::sleep(Duration::from_millis(20));
    }
    let held: Vec<TcpStream> = (0..100)
        .filter_map(|_| TcpStream::connect_timeout(&addr, Duration::from_millis(500)).ok())
        .collect();
    // The server takes connections until it has no descriptor left (its limit is 64).
    let fds = format!("/proc/{}/fd", child.id());
    let open = || std::fs::read_dir(&fds).map_or(0, Iterator::count);
    let deadline = Instant::now() + Duration::from_secs(10);
    while open() < 60 && Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        thread::sleep(Duration::from_millis(20));
    }
    drop(held);
    // Once they are free again, a live server must answer.
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut answers = up(addr);
    while !answers && Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        thread::sleep(Duration::from_millis(50));
        answers = up(addr);
    }
    let alive = matches!(child.try_wait(), Ok(None));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        answers || !alive,
        "after running out of file descriptors the server is {} and answers: {answers}",
        if alive { "alive" } else { "gone" }
    );
}

#[test]
fn plugin_perfdata_is_exported_on_metrics() {
    let env = Env::new(&format!(
        "status: {{ metrics: true }}\nservices:\n  - name: s\n    checks:\n      - {{ name: disk, type: command, command: {} }}\n",
        sh("echo \"DISK OK | '/ used'=42.5%;80;90;0;100 inodes=1200;;;0\"; exit 0")
    ));
    assert_eq!(env.cabot(&["run"]).code, 0);
    let server = StatusServer::start(&env, None);
    let answer = server.get("/metrics");
    assert_eq!(answer.status, 200, "{answer:?}");
    let body = answer.body;
    assert!(body.contains("# TYPE cabot_check_perfdata gauge"), "{body}");
    assert!(
        body.contains(
            r#"cabot_check_perfdata{service="s",check="disk",label="/ used",uom="%"} 42.5"#
        ),
        "{body}"
    );
    assert!(
        body.contains(
            r#"cabot_check_perfdata{service="s",check="disk",label="inodes",uom=""} 1200"#
        ),
        "{body}"
    );
}

/// Takes every descriptor the hard limit allows, for a test that holds many sockets.
fn raise_own_open_files_limit() {
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

#[test]
fn fifteen_hundred_idle_connections_from_one_address_do_not_starve_a_watcher() {
    raise_own_open_files_limit();
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    let addr = server.addr();
    let connect = || TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok();
    let mut held: Vec<TcpStream> = (0..1500).filter_map(|_| connect()).collect();
    assert!(held.len() > 1400, "held {}", held.len());
    // The attacker keeps re-opening whatever the server closes, while a watcher probes.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let stop_churn = std::sync::Arc::clone(&stop);
    let churn = thread::spawn(move || {
        let mut reopened = 0usize;
        while !stop_churn.load(std::sync::atomic::Ordering::SeqCst) {
            for conn in held.iter_mut() {
                let _ = conn.set_nonblocking(true);
                let mut buf = [0u8; 1];
                // Closed by the server: open another in its place.
                if matches!(conn.read(&mut buf), Ok(0))
                    && let Some(fresh) =
                        TcpStream::connect_timeout(&addr, Duration::from_secs(2)).ok()
                {
                    *conn = fresh;
                    reopened += 1;
                }
            }
            thread::sleep(Duration::from_millis(20));
        }
        reopened
    });
    let mut worst = Duration::ZERO;
    for _ in 0..20 {
        let started = Instant::now();
        let a = server
            .try_request(&get("/status/"))
            .unwrap_or_else(|e| panic!("the watcher got no answer: {e}"));
        assert_eq!((a.status, a.body.as_str()), (200, RUNNING));
        worst = worst.max(started.elapsed());
        thread::sleep(Duration::from_millis(50));
    }
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    let reopened = churn.join().expect("churn");
    assert!(worst < Duration::from_secs(1), "an answer took {worst:?}");
    assert!(
        reopened > 0,
        "the server closed idle connections to make room"
    );
    assert!(server.is_alive());
}

#[test]
fn a_page_built_once_for_many_clients_changes_with_the_state_within_the_second() {
    let (env, target) = three_services("");
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    // The server's clock stands still: only the state can tell its answers apart.
    let server = StatusServer::start(&env, Some(T0 + 30));
    let before = server.get("/");
    let json_before = server.json();
    let passing = ">PASSING</span></h2>";
    assert!(section(&before.body, "web").contains(passing), "{before:?}");
    assert_eq!(json_before["services"][0]["status"], "PASSING");
    // Clients at once get the same bytes.
    let pages: Vec<String> = std::thread::scope(|s| {
        let asks: Vec<_> = (0..8).map(|_| s.spawn(|| server.get("/").body)).collect();
        asks.into_iter().map(|a| a.join().unwrap()).collect()
    });
    assert!(pages.iter().all(|p| *p == before.body));

    target.set_up(false);
    assert_eq!(env.cabot_at(T0 + 10, &["run", "--all"]).code, 0);
    let after = server.get("/");
    assert!(
        !section(&after.body, "web").contains(passing),
        "the page from before the run: {after:?}"
    );
    assert_ne!(server.json()["services"][0]["status"], "PASSING");
    assert_eq!(server.get("/").body, after.body);
}

/// Issue 24's attack: 20 addresses x 64 connections, each sending half a request head and
/// opening again every 5 s, took every place of a thread-per-connection server, and a
/// watcher got 23 of 179 answers within a second.
#[test]
fn half_sent_requests_from_many_addresses_do_not_shut_a_watcher_out() {
    raise_own_open_files_limit();
    let target = Target::new();
    let env = one_service(&target, "");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let mut server = StatusServer::start(&env, None);
    let attack =
        crate::support::half_open::Attack::start(server.addr(), 20, 64, Duration::from_secs(5));
    let held = attack.wait_for(20 * 64, Duration::from_secs(20));
    assert!(held >= 20 * 60, "the attack holds {held} connections");
    let probes = crate::support::half_open::watch(
        server.addr(),
        40,
        Duration::from_millis(100),
        Duration::from_secs(1),
    );
    let held_after = attack.held.load(std::sync::atomic::Ordering::Relaxed);
    drop(attack);
    let answered = probes.iter().flatten().count();
    assert!(
        answered * 100 >= probes.len() * 95,
        "{answered} of {} probes answered within 1 s: {probes:?}",
        probes.len()
    );
    assert!(held_after >= 20 * 60, "the attack still held {held_after}");
    assert!(server.is_alive(), "{}", server.log());
}
