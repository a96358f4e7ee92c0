//! `cabot`: a second cabot watching the first one's `/status/`.

use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::support::*;

#[test]
fn a_second_cabot_alerts_when_the_first_stops_running() {
    // A: its own config and state, one passing check, serve-status on port PA.
    let target = Target::new();
    let a = one_service(&target, "");
    assert_eq!(a.cabot(&["run"]).code, 0);
    let a_server = StatusServer::start(&a, None);
    let pa = a_server.port;

    // B: a `cabot` check of A's /status/, alerting through a webhook.
    let received: Arc<Mutex<Vec<Value>>> = Arc::default();
    let r = Arc::clone(&received);
    let receiver = HttpServer::start(move |req| {
        if let Ok(v) = serde_json::from_str(&req.body) {
            r.lock().expect("received").push(v);
        }
        Reply::new(200, "thanks")
    });
    let b = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{hook}' }}
services:
  - name: monitor-a
    channels: [hook]
    checks:
      - {{ name: cabot-a, type: cabot, url: 'http://127.0.0.1:{pa}/status/' }}
",
        hook = receiver.url("/hook"),
    ));
    let run = b.cabot_at(T0, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    let status = b.status_json();
    let check = check_json(&status, "monitor-a", "cabot-a");
    assert_eq!(check["status"], "passing", "{status:#}");
    assert!(received.lock().expect("received").is_empty());

    // A's runs stop being fresh: its server's clock is 20 minutes past its last run.
    let finished = last_finished(&a);
    drop(a_server);
    let a_stale = StatusServer::start_on(&a, pa, Some(finished + 20 * MIN));
    assert_eq!(a_stale.status(), (503, NOT_RUNNING.into()));
    let run = b.cabot_at(T0 + MIN, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    let got = received.lock().expect("received").clone();
    assert_eq!(got.len(), 1, "{got:#?}");
    assert_eq!(got[0]["kind"], "alert", "{got:#?}");
    assert_eq!(got[0]["service"], "monitor-a");
    assert_eq!(got[0]["checks"][0]["name"], "cabot-a");
    let message = got[0]["checks"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("the other cabot says: Checks not running"),
        "{message}"
    );

    // A runs again: B's next run passes and sends the recovery.
    drop(a_stale);
    assert_eq!(a.cabot(&["run", "--all"]).code, 0);
    let _a_again = StatusServer::start_on(&a, pa, None);
    assert_eq!(b.cabot_at(T0 + 2 * MIN, &["run"]).code, 0);
    let got = received.lock().expect("received").clone();
    let kinds: Vec<&str> = got.iter().filter_map(|v| v["kind"].as_str()).collect();
    assert_eq!(kinds, ["alert", "recovery"], "{got:#?}");
}

#[test]
fn a_cabot_check_fails_on_anything_but_checks_running() {
    let weird = HttpServer::start(|req| match req.url.as_str() {
        "/running-but-500" => Reply::new(500, RUNNING),
        "/other-text" => Reply::new(200, "OK"),
        _ => Reply::new(200, format!("{RUNNING}\n")),
    });
    let closed = closed_port();
    let env = Env::new(&format!(
        "services:
  - name: s
    checks:
      - {{ name: fine, type: cabot, url: '{fine}' }}
      - {{ name: five-hundred, type: cabot, url: '{five}' }}
      - {{ name: other-text, type: cabot, url: '{other}' }}
      - {{ name: refused, type: cabot, url: 'http://127.0.0.1:{closed}/status/', timeout: 2s }}
",
        fine = weird.url("/status/"),
        five = weird.url("/running-but-500"),
        other = weird.url("/other-text"),
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let status = env.status_json();
    let state = |name| check_json(&status, "s", name)["status"].clone();
    assert_eq!(state("fine"), "passing", "{status:#}");
    for name in ["five-hundred", "other-text", "refused"] {
        assert_eq!(state(name), "failing", "{name}: {status:#}");
    }
}
