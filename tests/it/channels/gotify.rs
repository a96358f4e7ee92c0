//! The `gotify` channel against a fake Gotify server that answers as gotify.net/api-docs
//! documents: `POST /message` with `X-Gotify-Key` gives the stored message; errors are
//! `{"error":"...","errorCode":N,"errorDescription":"..."}`.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const TOKEN: &str = "AvKcabotTestTok";

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let error = |code: u16, error: &str, description: &str| {
            Reply::new(
                code,
                json!({"error": error, "errorCode": code, "errorDescription": description})
                    .to_string(),
            )
            .header("Content-Type", "application/json")
        };
        if req.method != "POST" || req.url != "/gotify/message" {
            return error(404, "Not Found", "page not found");
        }
        if req.header("X-Gotify-Key") != Some(TOKEN) {
            return error(
                401,
                "Unauthorized",
                "you need to provide a valid access token or user credentials to access this api",
            );
        }
        let m: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if m["message"].as_str().unwrap_or("").is_empty() {
            return error(400, "Bad Request", "Field 'message' is required");
        }
        Reply::new(
            200,
            json!({"id": 25, "appid": 5, "message": m["message"], "title": m["title"],
                   "priority": m["priority"], "date": "2026-11-27T10:00:00Z"})
            .to_string(),
        )
        .header("Content-Type", "application/json")
    })
}

#[test]
fn an_incident_rings_at_gotifys_high_priorities() {
    let gotify = fake();
    let target = Target::new();
    let keys = format!("url: '{}', token_env: GOTIFY_TOKEN", gotify.url("/gotify"));
    let env = env_with("gotify", &keys, &target, "");
    incident(&env, &target, &[("GOTIFY_TOKEN", TOKEN)]);
    let sent: Vec<Value> = gotify
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect();
    let priorities: Vec<&Value> = sent.iter().map(|m| &m["priority"]).collect();
    assert_eq!(priorities, [&json!(10), &json!(10), &json!(2)]);
    assert_eq!(sent[0]["title"], "CRITICAL status for service: web");
    assert_eq!(
        sent[0]["extras"]["client::notification"]["click"]["url"],
        "https://wiki.example.com/web"
    );
}

#[test]
fn test_alert_and_a_wrong_token() {
    let gotify = fake();
    let target = Target::new();
    let keys = format!("url: '{}', token_env: GOTIFY_TOKEN", gotify.url("/gotify"));
    let env = env_with("gotify", &keys, &target, "");
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("GOTIFY_TOKEN", TOKEN)],
    );
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "push: gotify: ok accepted (id 25)\n"),
        "{r:?}"
    );
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("GOTIFY_TOKEN", "wrong")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("FAILED HTTP 401: ") && r.stdout.contains("valid access token"),
        "{r:?}"
    );
}
