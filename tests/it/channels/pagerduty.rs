//! The `pagerduty` channel against a fake of PagerDuty's Events API v2 that answers as
//! PagerDuty documents (developer-docs `events-API-v2`, and go-pagerduty's `event_v2.go`):
//! `POST /v2/enqueue`; 202 `{"status":"success","message":"Event processed","dedup_key":..}`;
//! 400 `{"status":"invalid event","message":"Event object is invalid","errors":[..]}`.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

/// An integration key: 32 characters, as PagerDuty makes them.
const KEY: &str = "e93facc04764012d7bfb002500d5d1a6";

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let invalid = |why: &str| {
            Reply::new(
                400,
                json!({"status": "invalid event", "message": "Event object is invalid", "errors": [why]})
                    .to_string(),
            )
            .header("Content-Type", "application/json")
        };
        if req.method != "POST" || req.url != "/v2/enqueue" {
            return Reply::new(404, "Not Found");
        }
        let Ok(e) = serde_json::from_str::<Value>(&req.body) else {
            return invalid("JSON parse error");
        };
        if e["routing_key"] != KEY {
            return invalid("Length of 'routing_key' is incorrect (should be 32 characters)");
        }
        let action = e["event_action"].as_str().unwrap_or("");
        if !["trigger", "acknowledge", "resolve"].contains(&action) {
            return invalid("'event_action' is invalid");
        }
        let dedup = e["dedup_key"].as_str().unwrap_or("");
        if dedup.len() > 255 {
            return invalid("'dedup_key' is too long");
        }
        if action == "trigger" {
            let p = &e["payload"];
            for field in ["summary", "source", "severity"] {
                if !p[field].is_string() {
                    return invalid(&format!("'payload.{field}' is missing or blank"));
                }
            }
            if !["critical", "error", "warning", "info"]
                .contains(&p["severity"].as_str().unwrap_or(""))
            {
                return invalid("'payload.severity' is invalid");
            }
            if p["summary"].as_str().unwrap_or("").chars().count() > 1024 {
                return invalid("'payload.summary' is too long");
            }
        } else if dedup.is_empty() {
            return invalid("'dedup_key' is required for resolve and acknowledge");
        }
        Reply::new(
            202,
            json!({"status": "success", "message": "Event processed", "dedup_key": dedup})
                .to_string(),
        )
        .header("Content-Type", "application/json")
    })
}

fn events(pd: &HttpServer) -> Vec<Value> {
    pd.requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("event JSON"))
        .collect()
}

#[test]
fn an_incident_triggers_repeats_and_resolves_under_one_dedup_key() {
    let pd = fake();
    let target = Target::new();
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    incident(&env, &target, &[("PD_KEY", KEY)]);
    let events = events(&pd);
    let actions: Vec<&str> = events
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(actions, ["trigger", "trigger", "resolve"]);
    let key = format!("cabot/web/{}", T0 + MIN);
    for e in &events {
        assert_eq!(e["dedup_key"], key.as_str(), "{e}");
    }
    let p = &events[0]["payload"];
    assert_eq!(p["severity"], "critical");
    assert_eq!(p["source"], "web");
    assert!(
        p["summary"]
            .as_str()
            .unwrap_or("")
            .starts_with("CRITICAL: web — home: HTTP 500"),
        "{p}"
    );
    assert_eq!(
        events[0]["links"][1]["href"],
        "https://wiki.example.com/web"
    );
    assert!(
        events[2]["payload"].is_null(),
        "a resolve needs only the key"
    );
}

#[test]
fn a_rejected_event_keeps_the_alert_pending_with_pagerdutys_answer() {
    let pd = fake();
    let target = Target::new();
    target.set_up(false);
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    let r = run_at(&env, T0, &["run"], &[("PD_KEY", "not-a-key")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("pagerduty: HTTP 400: ")
            && r.stderr.contains("Length of 'routing_key' is incorrect"),
        "PagerDuty's answer is in the line cron mails: {r:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        1
    );
}

#[test]
fn test_alert_triggers_at_info_and_resolves_at_once() {
    let pd = fake();
    let target = Target::new();
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    let r = run_at(&env, T0, &["test-alert", "push"], &[("PD_KEY", KEY)]);
    assert_eq!(r.code, 0, "{r:?}");
    let key = format!("cabot/cabot-test/{T0}");
    assert_eq!(
        r.stdout,
        format!(
            "push: pagerduty: ok accepted (trigger, dedup_key {key})\n\
             push: pagerduty: ok accepted (resolve, dedup_key {key})\n"
        )
    );
    let events = events(&pd);
    assert_eq!(events[0]["payload"]["severity"], "info");
    assert_eq!(events[1]["event_action"], "resolve");
}

#[test]
fn a_critical_only_channel_still_resolves_after_the_incident_calms_down_to_error() {
    let pd = fake();
    let (critical, error) = (Target::new(), Target::new());
    let env = Env::new(&format!(
        "channels:
  pd: {{ type: pagerduty, routing_key_env: PD_KEY, base_url: '{}', min_importance: critical }}
services:
  - name: web
    channels: [pd]
    checks:
      - {{ name: home, type: http, url: '{}', importance: critical }}
      - {{ name: api, type: http, url: '{}', importance: error }}
",
        pd.url(""),
        critical.url(),
        error.url()
    ));
    let vars = [("PD_KEY", KEY)];
    let step = |at: i64, home_up: bool, api_up: bool| {
        critical.set_up(home_up);
        error.set_up(api_up);
        let r = run_at(&env, at, &["run"], &vars);
        assert_eq!(r.code, 0, "{r:?}");
    };
    step(T0, true, true);
    step(T0 + MIN, false, false); // CRITICAL: PagerDuty is told
    step(T0 + 2 * MIN, true, false); // ERROR now: below this channel
    step(T0 + 15 * MIN, true, false); // ERROR's repeat: not for this channel either
    step(T0 + 16 * MIN, true, true); // recovered: PagerDuty must close what it opened
    let actions: Vec<String> = events(&pd)
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or("").to_string())
        .collect();
    assert_eq!(actions, ["trigger", "resolve"]);
}
