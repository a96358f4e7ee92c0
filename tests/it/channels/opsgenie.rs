//! The `opsgenie` channel against a fake of Opsgenie's Alert API v2 that answers as
//! docs.opsgenie.com documents: `POST /v2/alerts`, `POST /v2/alerts/ALIAS/acknowledge?
//! identifierType=alias` and `POST /v2/alerts/ALIAS/close?identifierType=alias` with `Authorization: GenieKey KEY` give 202
//! `{"result":"Request will be processed","took":..,"requestId":".."}`; a bad key 401
//! `{"message":"Key format is not valid!",..}`; a bad body 422 with `errors`.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const KEY: &str = "eb243592-faa2-4ba2-a551-1afdf565c889";

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let answer = |code: u16, body: Value| {
            Reply::new(code, body.to_string()).header("Content-Type", "application/json")
        };
        let request_id = "43a29c5c-3dbf-4fa4-9c26-f4f71023e120";
        if req.header("Authorization") != Some(&format!("GenieKey {KEY}")) {
            return answer(
                401,
                json!({"message": "Key format is not valid!", "took": 0.0, "requestId": request_id}),
            );
        }
        let m: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        let creating = req.method == "POST" && req.url == "/v2/alerts";
        let closing = req.method == "POST"
            && req.url.starts_with("/v2/alerts/")
            && (req.url.ends_with("/close?identifierType=alias")
                || req.url.ends_with("/acknowledge?identifierType=alias"));
        if !creating && !closing {
            return answer(
                404,
                json!({"message": "Not Found", "took": 0.0, "requestId": request_id}),
            );
        }
        if creating {
            let message = m["message"].as_str().unwrap_or("");
            let problem = if message.is_empty() {
                Some("Message can not be empty.")
            } else if message.chars().count() > 130 {
                Some("Message can not be longer than 130 characters.")
            } else if m["alias"].as_str().unwrap_or("").len() > 512 {
                Some("Alias can not be longer than 512 characters.")
            } else if !["P1", "P2", "P3", "P4", "P5"]
                .contains(&m["priority"].as_str().unwrap_or("P3"))
            {
                Some("Priority should be one of [P1, P2, P3, P4, P5]")
            } else {
                None
            };
            if let Some(why) = problem {
                return answer(
                    422,
                    json!({"message": "Request body is not processable. Please check the errors.",
                           "errors": {"message": why}, "took": 0.0, "requestId": request_id}),
                );
            }
        }
        answer(
            202,
            json!({"result": "Request will be processed", "took": 0.302, "requestId": request_id}),
        )
    })
}

#[test]
fn an_incident_creates_one_alias_and_closes_it() {
    let og = fake();
    let target = Target::new();
    let keys = format!("api_key_env: OG_KEY, base_url: '{}'", og.url(""));
    let env = env_with("opsgenie", &keys, &target, "");
    incident(&env, &target, &[("OG_KEY", KEY)]);
    let reqs = og.requests();
    let alias = format!("cabot/web/{}", T0 + MIN);
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].url, "/v2/alerts");
    assert_eq!(reqs[1].url, "/v2/alerts");
    // The alias, percent-encoded in the path.
    assert_eq!(
        reqs[2].url,
        format!(
            "/v2/alerts/cabot%2Fweb%2F{}/close?identifierType=alias",
            T0 + MIN
        )
    );
    let created: Value = serde_json::from_str(&reqs[0].body).expect("JSON");
    assert_eq!(created["alias"], alias.as_str());
    assert_eq!(created["priority"], "P1");
    assert_eq!(created["entity"], "web");
    assert!(
        created["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("CRITICAL: web — home: HTTP 500"),
        "{created}"
    );
    let repeat: Value = serde_json::from_str(&reqs[1].body).expect("JSON");
    assert_eq!(
        repeat["alias"],
        alias.as_str(),
        "a repeat folds into the open alert"
    );
}

#[test]
fn eu_region_and_a_bad_key() {
    let og = fake();
    let target = Target::new();
    let keys = format!(
        "api_key_env: OG_KEY, region: eu, base_url: '{}'",
        og.url("")
    );
    let env = env_with("opsgenie", &keys, &target, "");
    let r = run_at(&env, T0, &["test-alert", "push"], &[("OG_KEY", KEY)]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "push: opsgenie: ok accepted (Request will be processed, request 43a29c5c-3dbf-4fa4-9c26-f4f71023e120)\n\
         push: opsgenie: ok accepted (Request will be processed, request 43a29c5c-3dbf-4fa4-9c26-f4f71023e120)\n"
    );
    let r = run_at(&env, T0, &["test-alert", "push"], &[("OG_KEY", "nope")]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("FAILED HTTP 401: ") && r.stdout.contains("Key format is not valid!"),
        "{r:?}"
    );

    let bad = env_with("opsgenie", "api_key: x, region: mars", &target, "");
    let v = bad.cabot(&["validate"]);
    assert_eq!(v.code, 78, "{v:?}");
    assert!(
        v.stderr
            .contains("channels.push.region: 'mars' is not an Opsgenie region: us or eu"),
        "{v:?}"
    );
}

#[test]
fn an_ack_in_cabot_acknowledges_the_alert_at_once() {
    let og = fake();
    let target = Target::new();
    target.set_up(false);
    let keys = format!("api_key_env: OG_KEY, base_url: '{}'", og.url(""));
    let env = env_with("opsgenie", &keys, &target, "");
    let vars = [("OG_KEY", KEY)];
    run_at(&env, T0, &["run"], &vars);
    let r = run_at(
        &env,
        T0 + 2 * MIN,
        &["ack", "web", "--by", "alice", "--note", "on it"],
        &vars,
    );
    assert_eq!(r.code, 0, "{r:?}");
    target.set_up(true);
    run_at(&env, T0 + 3 * MIN, &["run"], &vars);
    let reqs = og.requests();
    let alias = format!("cabot%2Fweb%2F{T0}");
    let urls: Vec<&str> = reqs.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(
        urls,
        [
            "/v2/alerts".to_string(),
            format!("/v2/alerts/{alias}/acknowledge?identifierType=alias"),
            format!("/v2/alerts/{alias}/close?identifierType=alias"),
        ]
    );
    let ack: Value = serde_json::from_str(&reqs[1].body).expect("JSON");
    assert_eq!(ack["source"], "cabot");
    assert_eq!(
        ack["note"],
        "ACKNOWLEDGED: web is acknowledged, still CRITICAL by alice: on it"
    );
}
