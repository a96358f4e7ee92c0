//! The `pushover` channel against a fake of Pushover's Message API that answers as
//! pushover.net/api documents: `POST /1/messages.json` with form fields; 200
//! `{"status":1,"request":"<uuid>"}` (and a `receipt` for an emergency); 4xx
//! `{"<field>":"invalid","errors":[...],"status":0,"request":"<uuid>"}`; and its Receipts
//! API's `POST /1/receipts/cancel_by_tag/TAG.json` (form `token`), which stops every
//! emergency sent with that tag: `{"status":1,"canceled":N,"request":"<uuid>"}`.

use serde_json::json;

use super::form;
use super::kit::*;
use crate::support::*;

const TOKEN: &str = "azGDORePK8gMaC0QOYAMyEEuzJnyUi";
const USER: &str = "uQiRzpo4DXghDmr9QzzfQu27cmVRsG";
const REQUEST: &str = "5042853c-402d-4a18-abcb-168734a801de";

fn fake() -> HttpServer {
    fake_with(Live::default())
}

/// The tags of the emergencies still ringing (sent, not cancelled).
type Live = std::sync::Arc<std::sync::Mutex<Vec<String>>>;

fn fake_with(live: Live) -> HttpServer {
    HttpServer::start(move |req| {
        let invalid = |field: &str, why: &str| {
            Reply::new(
                400,
                json!({field: "invalid", "errors": [why], "status": 0, "request": REQUEST})
                    .to_string(),
            )
            .header("Content-Type", "application/json")
        };
        let f = form(&req.body);
        let get = |k: &str| f.get(k).map(String::as_str).unwrap_or("");
        if let Some(tag) = req
            .url
            .strip_prefix("/1/receipts/cancel_by_tag/")
            .and_then(|t| t.strip_suffix(".json"))
            && req.method == "POST"
        {
            if get("token") != TOKEN {
                return invalid("token", "application token is invalid");
            }
            let mut live = live.lock().expect("live");
            let before = live.len();
            live.retain(|t| t != tag);
            let answer = json!({"status": 1, "canceled": before - live.len(), "request": REQUEST});
            return Reply::new(200, answer.to_string()).header("Content-Type", "application/json");
        }
        if req.method != "POST" || req.url != "/1/messages.json" {
            return Reply::new(404, "Not Found");
        }
        if get("token") != TOKEN {
            return invalid("token", "application token is invalid");
        }
        if get("user") != USER {
            return invalid(
                "user",
                "user identifier is not a valid user, group, or subscribed user key",
            );
        }
        if get("message").is_empty() {
            return invalid("message", "message cannot be blank");
        }
        if get("message").chars().count() > 1024 || get("title").chars().count() > 250 {
            return invalid("message", "message is too long");
        }
        let priority: i64 = get("priority").parse().unwrap_or(0);
        if !(-2..=2).contains(&priority) {
            return invalid("priority", "priority is invalid");
        }
        let mut answer = json!({"status": 1, "request": REQUEST});
        if priority == 2 {
            let retry: i64 = get("retry").parse().unwrap_or(0);
            let expire: i64 = get("expire").parse().unwrap_or(0);
            if retry < 30 {
                return invalid("retry", "retry is invalid");
            }
            if !(1..=10800).contains(&expire) {
                return invalid("expire", "expire is invalid");
            }
            answer["receipt"] = json!("rLqVuqTRh62UzxtmqiaLzQmVcPgiCy");
            live.lock().expect("live").push(get("tags").to_string());
        }
        Reply::new(200, answer.to_string()).header("Content-Type", "application/json")
    })
}

fn keys(po: &HttpServer) -> String {
    format!(
        "token_env: PUSHOVER_TOKEN, base_url: '{}', retry: 45s, expire: 2h",
        po.url("")
    )
}

#[test]
fn a_critical_incident_is_an_emergency_until_it_recovers_quietly() {
    let po = fake();
    let target = Target::new();
    let env = env_with(
        "pushover",
        &keys(&po),
        &target,
        &format!("pushover: {USER}"),
    );
    incident(&env, &target, &[("PUSHOVER_TOKEN", TOKEN)]);
    let urls: Vec<String> = po.requests().iter().map(|r| r.url.clone()).collect();
    let cancel = format!("/1/receipts/cancel_by_tag/cabot-web-{}.json", T0 + MIN);
    assert_eq!(
        urls,
        [
            cancel.as_str(),
            "/1/messages.json",
            "/1/messages.json",
            cancel.as_str(),
            "/1/messages.json"
        ],
        "an emergency cancels any other of its incident first; the recovery cancels it"
    );
    let sent: Vec<_> = po
        .requests()
        .iter()
        .filter(|r| r.url == "/1/messages.json")
        .map(|r| form(&r.body))
        .collect();
    assert_eq!(sent.len(), 3);
    let alert = &sent[0];
    assert_eq!(alert["user"], USER);
    assert_eq!(alert["priority"], "2");
    assert_eq!(alert["retry"], "45");
    assert_eq!(alert["expire"], "7200");
    assert_eq!(alert["title"], "CRITICAL status for service: web");
    assert!(
        alert["message"].starts_with("home [critical]: HTTP 500"),
        "{alert:?}"
    );
    assert_eq!(alert["url"], "https://wiki.example.com/web");
    assert_eq!(alert["url_title"], "Runbook");
    assert_eq!(alert["timestamp"], (T0 + MIN).to_string());
    assert_eq!(alert["tags"], format!("cabot-web-{}", T0 + MIN));
    assert_eq!(
        sent[1]["priority"], "1",
        "the repeat is loud, but not a second emergency"
    );
    assert_eq!(sent[2]["priority"], "-1", "a quiet recovery");
    assert!(!sent[2].contains_key("retry"));
}

#[test]
fn a_wrong_token_keeps_the_alert_pending_with_pushovers_answer() {
    let po = fake();
    let target = Target::new();
    target.set_up(false);
    let env = env_with(
        "pushover",
        &keys(&po),
        &target,
        &format!("pushover: {USER}"),
    );
    let r = run_at(&env, T0, &["run"], &[("PUSHOVER_TOKEN", "wrong")]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("pushover: HTTP 400: ")
            && r.stderr.contains("application token is invalid"),
        "{r:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        1
    );
}

#[test]
fn test_alert_reaches_each_user_key() {
    let po = fake();
    let target = Target::new();
    let env = env_with(
        "pushover",
        &keys(&po),
        &target,
        &format!("pushover: {USER}"),
    );
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push", "--to", "alice"],
        &[("PUSHOVER_TOKEN", TOKEN)],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        format!("push to {USER}: pushover: ok accepted (request {REQUEST})\n")
    );
    assert_eq!(form(&po.requests()[0].body)["priority"], "0");
}

#[test]
fn validate_wants_user_keys_and_pushovers_bounds() {
    let po = fake();
    let target = Target::new();
    let env = env_with(
        "pushover",
        &format!(
            "token: x, base_url: '{}', retry: 10s, expire: 4h",
            po.url("")
        ),
        &target,
        "pushover: alice@example.com",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    // The columns on line 5 count the fake's port as 5 digits: Linux's ephemeral range.
    let file = env.config();
    let file = file.display();
    assert_eq!(
        r.stderr.lines().take(3).collect::<Vec<_>>(),
        [
            format!(
                "{file}:3:22: users.alice.pushover: 'alice@example.com' is not a Pushover user key (30 letters and digits, shown on your Pushover dashboard)"
            ),
            format!("{file}:5:80: channels.push.retry: '10s' is out of range: 30s to 3h"),
            format!("{file}:5:93: channels.push.expire: '4h' is out of range: 30s to 3h"),
        ],
        "{r:?}"
    );
}

#[test]
fn cabot_ack_cancels_the_emergency_at_once() {
    let live = Live::default();
    let po = fake_with(live.clone());
    let target = Target::new();
    target.set_up(false);
    let env = env_with(
        "pushover",
        &keys(&po),
        &target,
        &format!("pushover: {USER}"),
    );
    let vars = [("PUSHOVER_TOKEN", TOKEN)];
    run_at(&env, T0, &["run"], &vars);
    assert_eq!(live.lock().expect("live").len(), 1, "one emergency rings");
    let r = run_at(&env, T0 + 2 * MIN, &["ack", "web", "--by", "alice"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        live.lock().expect("live").is_empty(),
        "cancelled by the ack itself, not the next run: {:?}",
        po.requests()
    );
    // The repeats that the ack silences send nothing; the recovery cancels (nothing) and
    // says so quietly.
    run_at(&env, T0 + 12 * MIN, &["run"], &vars);
    target.set_up(true);
    run_at(&env, T0 + 13 * MIN, &["run"], &vars);
    let urls: Vec<String> = po.requests().iter().map(|r| r.url.clone()).collect();
    assert_eq!(urls.len(), 5, "{urls:?}");
    assert!(urls[2].contains("cancel_by_tag"), "{urls:?}");
    assert!(urls[3].contains("cancel_by_tag"), "{urls:?}");
    assert_eq!(urls[4], "/1/messages.json");
}
