//! The `teams` channel against a fake Power Automate Workflows trigger that answers as one
//! does: `POST .../triggers/manual/paths/invoke?api-version=1&sig=SIG` gives 202 with no
//! body; a wrong signature 401 `{"error":{"code":"DirectApiAuthorizationRequired",...}}`.
//! The "Post card in a chat or channel" step needs an Adaptive Card attachment, so the
//! fake refuses anything else with 400 as the flow would fail on it.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const PATH: &str = "/workflows/5a4e9d2c/triggers/manual/paths/invoke";
const SIG: &str = "sig=Zq9-cabot-test-signature";

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let error = |status: u16, code: &str, message: &str| {
            Reply::new(
                status,
                json!({"error": {"code": code, "message": message}}).to_string(),
            )
            .header("Content-Type", "application/json")
        };
        let Some(query) = req.url.strip_prefix(PATH) else {
            return error(
                404,
                "TriggerNotFound",
                "The workflow trigger was not found.",
            );
        };
        if !query.contains(SIG) {
            return error(
                401,
                "DirectApiAuthorizationRequired",
                "The request must be authenticated only by Shared Access scheme.",
            );
        }
        let m: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        let card = &m["attachments"][0];
        let ok = m["type"] == "message"
            && card["contentType"] == "application/vnd.microsoft.card.adaptive"
            && card["content"]["type"] == "AdaptiveCard"
            && card["content"]["body"].is_array();
        if !ok {
            return error(
                400,
                "InvalidTemplate",
                "The 'attachments' property must contain an Adaptive Card.",
            );
        }
        Reply::new(202, "")
    })
}

#[test]
fn an_incident_posts_adaptive_cards() {
    let teams = fake();
    let target = Target::new();
    let env = env_with("teams", "webhook_url_env: TEAMS_URL", &target, "");
    let url = teams.url(&format!("{PATH}?api-version=1&{SIG}"));
    incident(&env, &target, &[("TEAMS_URL", &url)]);
    let cards: Vec<Value> = teams
        .requests()
        .iter()
        .map(|r| {
            let m: Value = serde_json::from_str(&r.body).expect("JSON");
            m["attachments"][0]["content"].clone()
        })
        .collect();
    assert_eq!(cards.len(), 3);
    let first = &cards[0];
    assert_eq!(first["version"], "1.4");
    assert_eq!(first["body"][0]["text"], "CRITICAL status for service: web");
    assert_eq!(first["body"][0]["color"], "Attention");
    assert_eq!(first["body"][1]["type"], "RichTextBlock");
    assert_eq!(first["body"][1]["inlines"][0]["text"], "home [critical]: ");
    assert!(
        first["body"][1]["inlines"][1]["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("HTTP 500"),
        "{first}"
    );
    assert_eq!(first["actions"][0]["url"], "https://wiki.example.com/web");
    assert_eq!(cards[2]["body"][0]["color"], "Good");
}

#[test]
fn test_alert_shows_the_workflows_answer() {
    let teams = fake();
    let target = Target::new();
    let env = env_with("teams", "webhook_url_env: TEAMS_URL", &target, "");
    let url = teams.url(&format!("{PATH}?api-version=1&{SIG}"));
    let r = run_at(&env, T0, &["test-alert", "push"], &[("TEAMS_URL", &url)]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "push: teams: ok HTTP 202\n"),
        "{r:?}"
    );
    let wrong = teams.url(&format!("{PATH}?api-version=1&sig=wrong"));
    let r = run_at(&env, T0, &["test-alert", "push"], &[("TEAMS_URL", &wrong)]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains("FAILED HTTP 401: ")
            && r.stdout.contains("DirectApiAuthorizationRequired"),
        "{r:?}"
    );
}

#[test]
fn check_output_is_never_read_as_markdown() {
    let teams = fake();
    let target = Target::new();
    target.set_up(false);
    let env = env_with("teams", "webhook_url_env: TEAMS_URL", &target, "");
    let planted = "[Click to ack](https://evil.example/phish) **now**";
    let config = std::fs::read_to_string(env.config()).expect("config");
    // A Nagios plugin's output is the check's message, as the plugin wrote it.
    let check = format!(
        "type: command, command: [/bin/sh, -c, 'echo \"{planted}\"; exit 2'], importance: critical }}"
    );
    let http = config.find("type: http").expect("the http check");
    env.write_config(&format!("{}{check}\n", &config[..http]));
    let url = teams.url(&format!("{PATH}?api-version=1&{SIG}"));
    let r = run_at(&env, T0, &["run"], &[("TEAMS_URL", &url)]);
    assert_eq!(r.stderr, "", "{r:?}");
    let m: Value = serde_json::from_str(&teams.requests()[0].body).expect("JSON");
    let card = &m["attachments"][0]["content"];
    // Everywhere Teams reads Markdown (a TextBlock's text, a FactSet), the planted link
    // is absent; it is only in a TextRun, which Teams shows as typed.
    let mut runs = Vec::new();
    for element in card["body"].as_array().expect("body") {
        match element["type"].as_str() {
            Some("RichTextBlock") => {
                for inline in element["inlines"].as_array().expect("inlines") {
                    assert_eq!(inline["type"], "TextRun", "{element}");
                    runs.push(inline["text"].as_str().unwrap_or("").to_string());
                }
            }
            Some("TextBlock") => assert!(
                !element["text"]
                    .as_str()
                    .unwrap_or("")
                    .contains("evil.example"),
                "{element}"
            ),
            other => panic!("an element Teams may read Markdown in: {other:?} {element}"),
        }
    }
    assert!(runs.iter().any(|t| t.contains(planted)), "{runs:?}");
}
