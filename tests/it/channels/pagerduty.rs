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
    fake_with(Script::default())
}

/// The fake, answering with `script`'s replies first while it has any.
fn fake_with(script: Script) -> HttpServer {
    HttpServer::start(move |req| {
        if let Some(reply) = script.next() {
            return reply;
        }
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

/// Service `web`, its target failing, alerting through the fake that answers with
/// `script` first: the fake, the target and the env.
fn failing(script: &Script) -> (HttpServer, Target, Env) {
    let pd = fake_with(script.clone());
    let target = Target::new();
    target.set_up(false);
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    (pd, target, env)
}

fn actions(pd: &HttpServer) -> Vec<String> {
    events(pd)
        .iter()
        .map(|e| e["event_action"].as_str().unwrap_or("").to_string())
        .collect()
}

/// PagerDuty down for a moment: its 5xx, as any server behind a balancer says it.
fn unavailable() -> Reply {
    Reply::new(503, "Service Unavailable")
}

#[test]
fn a_trigger_the_recovery_overtook_is_superseded_never_sent_after_the_resolve() {
    let script = Script::default();
    let (pd, target, env) = failing(&script);
    let vars = [("PD_KEY", KEY)];
    script.then(unavailable());
    let r = run_at(&env, T0, &["run"], &vars);
    assert!(r.stderr.contains("pagerduty: HTTP 503"), "{r:?}");
    // Recovered 30 s later, while the trigger waits for its retry: the trigger is not sent
    // again at all, and the resolve goes (a 503 may have been taken after all: the resolve
    // closes it; if not, PagerDuty ignores a resolve of a key it does not know).
    target.set_up(true);
    let r = run_at(&env, T0 + 30, &["run", "--all"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(actions(&pd), ["trigger", "resolve"]);
    run_at(&env, T0 + 2 * MIN, &["run"], &vars);
    assert_eq!(
        actions(&pd),
        ["trigger", "resolve"],
        "the trigger is never retried"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'superseded'"),
        1
    );
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        0
    );
    // Later runs send nothing more: PagerDuty holds nothing open.
    run_at(&env, T0 + 62 * MIN, &["run"], &vars);
    assert_eq!(actions(&pd), ["trigger", "resolve"]);
}

#[test]
fn a_trigger_retried_before_the_recovery_goes_first() {
    let script = Script::default();
    let (pd, target, env) = failing(&script);
    let vars = [("PD_KEY", KEY)];
    script.then(unavailable());
    run_at(&env, T0, &["run"], &vars);
    let r = run_at(&env, T0 + MIN + 5, &["run"], &vars);
    assert_eq!(r.stderr, "", "{r:?}");
    target.set_up(true);
    run_at(&env, T0 + 2 * MIN + 10, &["run"], &vars);
    assert_eq!(actions(&pd), ["trigger", "trigger", "resolve"]);
    let key = format!("cabot/web/{T0}");
    assert!(events(&pd).iter().all(|e| e["dedup_key"] == key.as_str()));
}

#[test]
fn pagerdutys_rate_limit_is_waited_out_and_does_not_count_as_a_failure() {
    let script = Script::default();
    let (pd, _target, env) = failing(&script);
    // PagerDuty's Events API answers 429 with no body to speak of when an integration
    // sends too much; the wait comes from Retry-After when it is there.
    script.then(Reply::new(429, "").header("Retry-After", "2"));
    let r = run_at(&env, T0, &["run"], &[("PD_KEY", KEY)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stderr, "", "waited inside the run, then delivered: {r:?}");
    let seen = pd.requests();
    assert_eq!(seen.len(), 2);
    assert!(seen[1].at.duration_since(seen[0].at) >= std::time::Duration::from_secs(2));
    assert_eq!(
        env.count("SELECT attempts FROM deliveries"),
        1,
        "the 429 is not a failed try: the backoff does not grow"
    );
    assert_eq!(env.count("SELECT count(*) FROM attempts"), 2);
}

#[test]
fn an_ack_in_cabot_acknowledges_at_pagerduty_and_the_incident_still_resolves() {
    let pd = fake();
    let target = Target::new();
    target.set_up(false);
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    let vars = [("PD_KEY", KEY)];
    run_at(&env, T0, &["run"], &vars);
    let r = run_at(&env, T0 + 2 * MIN, &["ack", "web"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        actions(&pd),
        ["trigger", "acknowledge"],
        "told by `cabot ack` itself, so PagerDuty's escalation stops now"
    );
    // Acked: the repeat is silenced; the recovery resolves.
    run_at(&env, T0 + 12 * MIN, &["run"], &vars);
    target.set_up(true);
    run_at(&env, T0 + 13 * MIN, &["run"], &vars);
    assert_eq!(actions(&pd), ["trigger", "acknowledge", "resolve"]);
    let key = format!("cabot/web/{T0}");
    assert!(events(&pd).iter().all(|e| e["dedup_key"] == key.as_str()));
    assert!(
        events(&pd)[1]["payload"].is_null(),
        "an acknowledge needs only the key"
    );
}

#[test]
fn an_ack_while_the_trigger_waits_goes_after_it() {
    let script = Script::default();
    let (pd, _target, env) = failing(&script);
    let vars = [("PD_KEY", KEY)];
    script.then(unavailable());
    run_at(&env, T0, &["run"], &vars);
    let r = run_at(&env, T0 + 30, &["ack", "web"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        actions(&pd),
        ["trigger"],
        "the acknowledge waits behind its trigger"
    );
    run_at(&env, T0 + 2 * MIN, &["run"], &vars);
    assert_eq!(actions(&pd), ["trigger", "trigger", "acknowledge"]);
}

#[test]
fn a_retry_after_of_zero_is_no_licence_to_hammer() {
    let pd = HttpServer::start(|_| Reply::new(429, "").header("Retry-After", "0"));
    let target = Target::new();
    target.set_up(false);
    let keys = format!("routing_key_env: PD_KEY, base_url: '{}'", pd.url(""));
    let env = env_with("pagerduty", &keys, &target, "");
    let r = run_at(&env, T0, &["run"], &[("PD_KEY", KEY)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stderr.contains("rate limited"), "{r:?}");
    let seen = pd.requests();
    // Five tries a round at least a second apart, in the run's two rounds at the most.
    assert!((5..=10).contains(&seen.len()), "{} requests", seen.len());
    for pair in seen.windows(2) {
        let gap = pair[1].at.duration_since(pair[0].at);
        assert!(gap >= std::time::Duration::from_millis(990), "{gap:?}");
    }
}
