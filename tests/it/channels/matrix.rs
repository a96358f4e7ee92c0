//! The `matrix` channel against a fake homeserver that answers as the Matrix
//! Client-Server API specifies: `PUT /_matrix/client/v3/rooms/ROOM/send/m.room.message/TXN`
//! with a Bearer token gives `{"event_id":".."}`, the same event again for a transaction id
//! it has seen; errors are `{"errcode":"M_...","error":".."}`.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const TOKEN: &str = "syt_Y2Fib3Q_cabotTestToken_0a1b2c";
const ROOM: &str = "!ops:example.org";

/// The fake, and the transactions it has seen.
fn fake() -> (HttpServer, Arc<Mutex<HashMap<String, String>>>) {
    fake_with(Script::default())
}

/// The fake, answering with `script`'s replies first while it has any.
fn fake_with(script: Script) -> (HttpServer, Arc<Mutex<HashMap<String, String>>>) {
    let seen: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let txns = Arc::clone(&seen);
    let server = HttpServer::start(move |req| {
        if let Some(reply) = script.next() {
            return reply;
        }
        let error = |code: u16, errcode: &str, error: &str| {
            Reply::new(
                code,
                json!({"errcode": errcode, "error": error}).to_string(),
            )
            .header("Content-Type", "application/json")
        };
        if req.header("Authorization") != Some(&format!("Bearer {TOKEN}")) {
            return error(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
        }
        let prefix = "/_matrix/client/v3/rooms/%21ops%3Aexample.org/send/m.room.message/";
        let Some(txn) = req.url.strip_prefix(prefix) else {
            return error(403, "M_FORBIDDEN", "User @cabot:example.org not in room");
        };
        if req.method != "PUT" {
            return error(405, "M_UNRECOGNIZED", "Unrecognized request");
        }
        let m: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if m["msgtype"] != "m.text" || !m["body"].is_string() {
            return error(400, "M_BAD_JSON", "Content must have msgtype and body");
        }
        let mut txns = txns.lock().expect("txns");
        let n = txns.len();
        let event = txns
            .entry(txn.to_string())
            .or_insert_with(|| format!("$event{n}:example.org"))
            .clone();
        Reply::new(200, json!({"event_id": event}).to_string())
            .header("Content-Type", "application/json")
    });
    (server, seen)
}

fn keys(hs: &HttpServer) -> String {
    format!(
        "homeserver: '{}', access_token_env: MATRIX_TOKEN, room_id: '{ROOM}'",
        hs.url("")
    )
}

#[test]
fn an_incident_is_three_events_with_escaped_html() {
    let (hs, txns) = fake();
    let target = Target::new();
    let env = env_with("matrix", &keys(&hs), &target, "");
    incident(&env, &target, &[("MATRIX_TOKEN", TOKEN)]);
    assert_eq!(txns.lock().expect("txns").len(), 3, "a transaction each");
    let events: Vec<Value> = hs
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect();
    assert_eq!(events[0]["format"], "org.matrix.custom.html");
    assert!(
        events[0]["formatted_body"]
            .as_str()
            .unwrap_or("")
            .starts_with(
                "<b>CRITICAL status for service: web</b><br>• <b>home</b> [critical]: HTTP 500"
            ),
        "{}",
        events[0]
    );
    assert!(
        events[0]["body"]
            .as_str()
            .unwrap_or("")
            .contains("- home [critical]: HTTP 500")
    );
}

#[test]
fn a_retried_delivery_reuses_its_transaction_id() {
    let (hs, txns) = fake();
    let target = Target::new();
    target.set_up(false);
    let env = env_with("matrix", &keys(&hs), &target, "");
    let r = run_at(&env, T0, &["run"], &[("MATRIX_TOKEN", "wrong")]);
    assert!(r.stderr.contains("M_UNKNOWN_TOKEN"), "{r:?}");
    assert!(r.stderr.contains("permanent: "), "{r:?}");
    // A refused token is tried again on the slow schedule, an hour on.
    let r = run_at(&env, T0 + 61 * MIN, &["run"], &[("MATRIX_TOKEN", TOKEN)]);
    assert_eq!(r.code, 0, "{r:?}");
    let urls: Vec<String> = hs.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(
        urls.len(),
        3,
        "the alert twice, then the hour's repeat: {urls:?}"
    );
    assert_eq!(urls[0], urls[1], "the same transaction, tried twice");
    assert_ne!(urls[1], urls[2], "the repeat is a delivery of its own");
    let txn = urls[0].rsplit('/').next().unwrap_or("");
    let key = txn.strip_prefix("cabot-").unwrap_or("");
    assert!(
        key.len() == 32 && key.chars().all(|c| c.is_ascii_hexdigit()),
        "a random key of its own: {urls:?}"
    );
    assert_eq!(txns.lock().expect("txns").len(), 2);
}

#[test]
fn a_new_state_never_reuses_a_transaction_id_the_room_has_seen() {
    let (hs, txns) = fake();
    let target = Target::new();
    target.set_up(false);
    let env = env_with("matrix", &keys(&hs), &target, "");
    let vars = [("MATRIX_TOKEN", TOKEN)];
    assert_eq!(run_at(&env, T0, &["run"], &vars).code, 0);
    // The state is lost (or an old backup restored): the next alert is outbox row 1 again.
    for suffix in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", env.state().display()));
    }
    let r = run_at(&env, T0 + MIN, &["run"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        1
    );
    let urls: Vec<String> = hs.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(urls.len(), 2, "{urls:?}");
    assert_ne!(urls[0], urls[1], "each alert its own transaction");
    assert_eq!(
        txns.lock().expect("txns").len(),
        2,
        "the homeserver posted both alerts (a repeated id it would have dropped)"
    );
}

#[test]
fn test_alert_and_validate() {
    let (hs, _) = fake();
    let target = Target::new();
    let env = env_with("matrix", &keys(&hs), &target, "");
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("MATRIX_TOKEN", TOKEN)],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "push: matrix: ok accepted (event $event0:example.org)\n"),
        "{r:?}"
    );
    let bad = env_with(
        "matrix",
        &format!(
            "homeserver: '{}', access_token: x, room_id: '#ops:example.org'",
            hs.url("")
        ),
        &target,
        "",
    );
    let v = bad.cabot(&["validate"]);
    assert_eq!(v.code, 78, "{v:?}");
    assert!(
        v.stderr
            .contains("channels.push.room_id: '#ops:example.org' is not a Matrix room id"),
        "{v:?}"
    );
}

#[test]
fn a_rate_limited_homeserver_is_waited_for_as_it_says() {
    let script = Script::default();
    let (hs, txns) = fake_with(script.clone());
    let target = Target::new();
    target.set_up(false);
    let env = env_with("matrix", &keys(&hs), &target, "");
    // Synapse's answer to a client over its rate limit.
    script.then(
        Reply::new(
            429,
            json!({"errcode": "M_LIMIT_EXCEEDED", "error": "Too Many Requests", "retry_after_ms": 1500})
                .to_string(),
        )
        .header("Content-Type", "application/json"),
    );
    let r = run_at(&env, T0, &["run"], &[("MATRIX_TOKEN", TOKEN)]);
    assert_eq!(r.stderr, "", "waited in the run, then sent: {r:?}");
    let seen = hs.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at.duration_since(seen[0].at) >= std::time::Duration::from_millis(1500));
    assert_eq!(seen[0].url, seen[1].url, "the same transaction");
    assert_eq!(txns.lock().expect("txns").len(), 1);
}
