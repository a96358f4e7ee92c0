//! Pages that are right: no page for what is not a new fault of the service itself
//! (issue 27). Each scenario runs the real binary with `CABOT_NOW`, and counts what a
//! webhook got.

use crate::support::*;

/// What the webhook got: (service, kind, status), in order.
fn got(hook: &HttpServer) -> Vec<(String, String, String)> {
    hook.requests()
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
            (s("service"), s("kind"), s("status"))
        })
        .collect()
}

/// The webhook's bodies, in order.
fn bodies(hook: &HttpServer) -> Vec<serde_json::Value> {
    hook.requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).unwrap())
        .collect()
}

/// Each body as `kind status how-it-flaps` (`-` when not the flapping alert).
fn flapping_story(bodies: &[serde_json::Value]) -> Vec<String> {
    bodies
        .iter()
        .map(|b| {
            format!(
                "{} {} {}",
                b["kind"].as_str().unwrap_or(""),
                b["status"].as_str().unwrap_or(""),
                b["flapping"].as_str().unwrap_or("-")
            )
        })
        .collect()
}

fn run(env: &Env, now: i64) -> Run {
    let r = env.cabot_at(now, &["run"]);
    assert!(r.code == 0 || r.code == 1, "{r:?}");
    r
}

#[test]
fn recover_after_keeps_a_check_failing_until_enough_passes_in_a_row() {
    let target = Target::new();
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "{}services:
  - name: web
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}', recover_after: 2 }}
",
        hook_channel(&hook),
        target.url()
    ));
    run(&env, T0);
    target.set_up(false);
    run(&env, T0 + MIN);
    assert_eq!(got(&hook), [("web".into(), "alert".into(), "ERROR".into())]);
    // One good answer, then a bad one: still the same incident, no recovery, no alert.
    target.set_up(true);
    run(&env, T0 + 2 * MIN);
    target.set_up(false);
    run(&env, T0 + 3 * MIN);
    target.set_up(true);
    run(&env, T0 + 4 * MIN);
    run(&env, T0 + 5 * MIN);
    assert_eq!(got(&hook).len(), 1, "{:#?}", got(&hook));
    let status = env.status_json();
    assert_eq!(check_json(&status, "web", "home")["status"], "failing");
    // The third pass in a row: it recovers.
    run(&env, T0 + 6 * MIN);
    let kinds: Vec<String> = got(&hook).into_iter().map(|g| g.1).collect();
    assert_eq!(kinds, ["alert", "recovery"]);
}

#[test]
fn a_blip_cleared_by_a_retry_within_the_run_is_no_failure_and_no_alert() {
    let script = Script::default();
    let answers = script.clone();
    let target = HttpServer::start(move |_| answers.next().unwrap_or(Reply::new(200, "ok")));
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "{}services:
  - name: web
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}', timeout: 2s, retry: {{ count: 2, after: 1s }} }}
",
        hook_channel(&hook),
        target.url("/")
    ));
    // One 503, then fine: the retry a second later passes, and that is the result.
    script.then(Reply::new(503, "busy"));
    let started = std::time::Instant::now();
    run(&env, T0);
    assert!(started.elapsed() >= std::time::Duration::from_secs(1));
    assert_eq!(target.requests().len(), 2);
    assert!(got(&hook).is_empty(), "{:#?}", got(&hook));
    assert_eq!(env.count("SELECT count(*) FROM results"), 1);
    assert_eq!(env.count("SELECT count(*) FROM results WHERE ok = 0"), 0);
    let status = env.status_json();
    let home = check_json(&status, "web", "home");
    assert_eq!(home["status"], "passing");
    assert!(
        home["message"]
            .as_str()
            .unwrap_or("")
            .contains("(passed on try 2 of 3; the first failed: HTTP 503"),
        "{home}"
    );
    // Three failures in a row: one failing result, and the alert.
    for _ in 0..3 {
        script.then(Reply::new(503, "busy"));
    }
    run(&env, T0 + MIN);
    assert_eq!(target.requests().len(), 5);
    assert_eq!(got(&hook), [("web".into(), "alert".into(), "ERROR".into())]);
    assert_eq!(env.count("SELECT count(*) FROM results WHERE ok = 0"), 1);
}

#[test]
fn validate_refuses_retries_that_do_not_fit_in_the_frequency() {
    let env = Env::new(
        "services:
  - name: web
    checks:
      - { name: home, type: http, url: 'http://127.0.0.1:9/', frequency: 30s, timeout: 10s, retry: { count: 2, after: 5s } }
      - { name: api, type: http, url: 'http://127.0.0.1:9/', retry: { count: 9, after: 1ms } }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    for said in [
        ":5:100: services[web].checks[home].retry: its tries take up to 40s (the first, then 2 x (timeout 10s + after 5s)), not below the frequency (30s)",
        ":6:78: services[web].checks[api].retry.count: 9 is too large (at most 5)",
        ":6:88: services[web].checks[api].retry.after: '1ms' is out of range: 1s to 5m",
    ] {
        assert!(r.stderr.contains(said), "{said}: {r:?}");
    }
}

#[test]
fn a_failing_dependency_pages_once_and_its_dependents_only_if_they_fail_after_it() {
    // The database answers slowly: its dependents' results come first in each run, and
    // their decisions wait for it.
    let db = Target::slow(std::time::Duration::from_millis(400));
    let (web, api, worker) = (Target::new(), Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let service = |name: &str, target: &Target| {
        format!(
            "  - name: {name}\n    public: true\n    channels: [hook]\n    depends_on: [db]\n    checks:\n      - {{ name: up, type: http, url: '{}' }}\n",
            target.url()
        )
    };
    let env = Env::new(&format!(
        "{}status: {{ metrics: true }}\nservices:
  - name: db
    public: true
    channels: [hook]
    checks:
      - {{ name: up, type: http, url: '{}' }}
{}{}{}",
        hook_channel(&hook),
        db.url(),
        service("web", &web),
        service("api", &api),
        service("worker", &worker)
    ));
    run(&env, T0);
    for t in [&db, &web, &api, &worker] {
        t.set_up(false);
    }
    run(&env, T0 + MIN);
    run(&env, T0 + 2 * MIN);
    // One page: the database's, naming what waits on it.
    let pages = got(&hook);
    assert_eq!(pages, [("db".into(), "alert".into(), "ERROR".into())]);
    let text = hook.requests()[0].body.clone();
    assert!(
        text.contains("(blocks web, api, worker: their alerts wait)"),
        "{text}"
    );
    let status = env.cabot_at(T0 + 2 * MIN, &["status"]);
    assert_eq!(
        status
            .stdout
            .matches("  blocked by db: its alerts wait until that passes\n")
            .count(),
        3,
        "{status:?}"
    );
    let json = env.status_json();
    let web_json = json["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "web")
        .unwrap()
        .clone();
    assert_eq!(web_json["blocked_by"], serde_json::json!(["db"]));
    let server = StatusServer::start(&env, Some(T0 + 2 * MIN));
    let page = server.get("/").body;
    assert!(page.contains(" · blocked by db"), "{page}");
    let served: serde_json::Value = serde_json::from_str(&server.get("/status.json").body).unwrap();
    let api_json = served["services"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["name"] == "api")
        .unwrap()
        .clone();
    assert_eq!(api_json["blocked_by"], serde_json::json!(["db"]));
    // The database comes back; web and api still fail, worker is fine: they page now.
    db.set_up(true);
    worker.set_up(true);
    run(&env, T0 + 3 * MIN);
    let mut pages = got(&hook)[1..].to_vec();
    pages.sort();
    assert_eq!(
        pages,
        [
            ("api".into(), "alert".into(), "ERROR".into()),
            ("db".into(), "recovery".into(), "PASSING".into()),
            ("web".into(), "alert".into(), "ERROR".into()),
        ]
    );
}

#[test]
fn a_dependent_that_alerted_before_still_recovers_while_its_dependency_fails() {
    let (db, web) = (Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "{}services:
  - name: db
    channels: [hook]
    checks:
      - {{ name: up, type: http, url: '{}' }}
  - name: web
    channels: [hook]
    depends_on: db
    checks:
      - {{ name: up, type: http, url: '{}' }}
",
        hook_channel(&hook),
        db.url(),
        web.url()
    ));
    web.set_up(false);
    run(&env, T0);
    db.set_up(false);
    run(&env, T0 + MIN);
    // web's repeat waits while db fails; its recovery does not.
    run(&env, T0 + 12 * MIN);
    web.set_up(true);
    run(&env, T0 + 13 * MIN);
    let web_pages: Vec<String> = got(&hook)
        .into_iter()
        .filter(|g| g.0 == "web")
        .map(|g| g.1)
        .collect();
    assert_eq!(web_pages, ["alert", "recovery"]);
}

#[test]
fn validate_names_unknown_and_circular_dependencies() {
    let env = Env::new(
        "services:
  - name: web
    depends_on: [api, dbb]
    checks: [{ name: up, type: tcp, host: '127.0.0.1:9' }]
  - name: api
    depends_on: [web]
    checks: [{ name: up, type: tcp, host: '127.0.0.1:9' }]
  - name: db
    depends_on: db
    checks: [{ name: up, type: tcp, host: '127.0.0.1:9' }]
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    for said in [
        ":4:23: services[web].depends_on[1]: no service named 'dbb'; did you mean 'db'?",
        ":4:17: services[web].depends_on: the dependencies go round in a circle: web -> api -> web",
        ":10:17: services[db].depends_on[0]: a service cannot depend on itself",
    ] {
        assert!(r.stderr.contains(said), "{said}: {r:?}");
    }
    assert!(!r.stderr.contains("api -> web -> api"), "once: {r:?}");
}

/// A service `web` with `flap: { changes, within: 10m }`, a WARNING check and a CRITICAL
/// one, each on its own target, alerting through a webhook.
struct Flappy {
    warning: Target,
    critical: Target,
    hook: HttpServer,
    env: Env,
}

fn flappy(changes: u32) -> Flappy {
    let (warning, critical) = (Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "{}services:
  - name: web
    channels: [hook]
    flap: {{ changes: {changes}, within: 10m }}
    checks:
      - {{ name: slow, type: http, url: '{}', importance: warning }}
      - {{ name: home, type: http, url: '{}', importance: critical }}
",
        hook_channel(&hook),
        warning.url(),
        critical.url()
    ));
    Flappy {
        warning,
        critical,
        hook,
        env,
    }
}

#[test]
fn a_flapping_service_says_so_once_keeps_its_first_critical_and_sends_where_it_settles() {
    let Flappy {
        warning: steady,
        critical: flaky,
        hook,
        env,
    } = flappy(4);
    // WARNING throughout; CRITICAL every other minute for half an hour, then for good.
    steady.set_up(false);
    for minute in 0..=40 {
        flaky.set_up(minute < 30 && minute % 2 == 0);
        run(&env, T0 + minute * MIN);
    }
    let bodies = bodies(&hook);
    let said = flapping_story(&bodies);
    // Cabot's rules alone would send every step up: sixteen alerts. Here: each step up
    // until it flaps (the first WARNING, CRITICAL at minutes 1 and 3), the alert that it
    // flaps (its fifth change in 10 minutes, at minute 4), and the status it settled at,
    // CRITICAL, once it changed no more than 4 times in 10 minutes.
    assert_eq!(
        said,
        [
            "alert WARNING -",
            "alert CRITICAL -",
            "alert CRITICAL -",
            "alert WARNING changed status 5 times in 10m",
            "alert CRITICAL -",
        ],
        "{bodies:#?}"
    );
    assert_eq!(
        bodies[3]["text"],
        "FLAPPING: web changed status 5 times in 10m (now WARNING); its alerts wait until it settles"
    );
    // The last, sent when it settled: at minute 35 the last 10 minutes hold four changes
    // (minutes 26 to 29).
    assert_eq!(bodies[4]["time"], rfc3339(T0 + 35 * MIN));
}

#[test]
fn while_it_flaps_a_first_critical_pages_and_it_settles_with_a_recovery() {
    let Flappy {
        warning: warn,
        critical: crit,
        hook,
        env,
    } = flappy(3);
    // WARNING and PASSING by turns; at minute 6, CRITICAL; from minute 8, fine.
    for minute in 0..=25 {
        warn.set_up(minute >= 8 || minute % 2 == 1);
        crit.set_up(minute != 6);
        run(&env, T0 + minute * MIN);
    }
    assert_eq!(
        flapping_story(&bodies(&hook)),
        [
            "alert WARNING -",
            "recovery PASSING -",
            "alert WARNING -",
            "alert WARNING changed status 4 times in 10m",
            "alert CRITICAL -",
            "recovery PASSING -",
        ]
    );
}

#[test]
fn while_cabots_own_network_is_down_failures_are_inconclusive_and_one_alert_follows() {
    let (gateway, resolver, site) = (Target::new(), Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "{}network_checks:
  - {{ name: gateway, type: http, url: '{}', timeout: 2s }}
  - {{ name: resolver, type: http, url: '{}', timeout: 2s }}
services:
  - name: web
    public: true
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        hook_channel(&hook),
        gateway.url(),
        resolver.url(),
        site.url()
    ));
    assert_eq!(env.cabot(&["validate"]).code, 0);
    run(&env, T0);
    // Everything cabot reaches out to fails: its own uplink, not the site.
    for t in [&gateway, &resolver, &site] {
        t.set_up(false);
    }
    for minute in 1..=3 {
        run(&env, T0 + minute * MIN);
    }
    assert!(got(&hook).is_empty(), "{:#?}", got(&hook));
    let status = env.cabot_at(T0 + 3 * MIN, &["status"]);
    assert!(status.stdout.starts_with("web     PASSING"), "{status:?}");
    assert!(
        status.stdout.contains(&format!(
            "cabot's network: down since {} (every network check fails); 3 results inconclusive",
            rfc3339(T0 + MIN)
        )),
        "{status:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM results WHERE inconclusive = 1 AND ok = 0"),
        3
    );
    let server = StatusServer::start(&env, Some(T0 + 3 * MIN));
    let page = server.get("/").body;
    assert!(
        page.contains(
            " · the monitor's own network is down since 2027-01-15 08:01 UTC: statuses may not be current"
        ),
        "{page}"
    );
    let served: serde_json::Value = serde_json::from_str(&server.get("/status.json").body).unwrap();
    assert_eq!(served["network_down_since"], rfc3339(T0 + MIN));
    let json = env.status_json();
    assert_eq!(json["network_down"]["since"], rfc3339(T0 + MIN));
    assert_eq!(json["network_down"]["inconclusive_results"], 3);
    // One network check answers again: the network is back, and one alert says how
    // long it was down. The site works again too: nothing else was ever sent.
    gateway.set_up(true);
    site.set_up(true);
    run(&env, T0 + 4 * MIN);
    let bodies = bodies(&hook);
    assert_eq!(bodies.len(), 1, "{bodies:#?}");
    assert_eq!(bodies[0]["service"], "cabot network");
    assert_eq!(
        bodies[0]["text"],
        format!(
            "WARNING: cabot network — network_checks: cabot's network was down since {} (3m): \
             every network check failed, and 3 results were inconclusive; it is back",
            rfc3339(T0 + MIN)
        )
    );
    let status = env.cabot_at(T0 + 4 * MIN, &["status"]);
    assert!(!status.stdout.contains("cabot's network"), "{status:?}");
}

#[test]
fn validate_warns_of_confirm_peer_without_a_peer() {
    let env = Env::new(
        "services:
  - name: web
    confirm: peer
    checks: [{ name: up, type: tcp, host: '127.0.0.1:9' }]
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(
            ":4:14: services[web].confirm: warning: no `peer:` to confirm with: every failure pages as if this were not set"
        ),
        "{r:?}"
    );
}
