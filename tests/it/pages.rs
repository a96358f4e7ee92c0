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
