//! Pages that are right: no page for what is not a new fault of the service itself
//! (issue 27). Each scenario runs the real binary with `CABOT_NOW`, and counts what a
//! webhook got.

use crate::support::*;

/// A config's `channels:` with one webhook `hook` into `hook`.
fn hook_channel(hook: &HttpServer) -> String {
    format!(
        "channels:\n  hook: {{ type: webhook, url: '{}' }}\n",
        hook.url("/hook")
    )
}

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
