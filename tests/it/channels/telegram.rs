//! The `telegram` channel against a fake Bot API that answers as core.telegram.org/bots/api
//! documents: `POST /bot<token>/sendMessage` gives `{"ok":true,"result":{"message_id":..}}`;
//! errors are `{"ok":false,"error_code":N,"description":"..."}` with that HTTP status.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const TOKEN: &str = "7034117421:AAHcabot-test-token-0000000000000";
const CHAT: i64 = -1001234567890;

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let error = |code: u16, description: &str| {
            Reply::new(
                code,
                json!({"ok": false, "error_code": code, "description": description}).to_string(),
            )
            .header("Content-Type", "application/json")
        };
        if req.url != format!("/bot{TOKEN}/sendMessage") {
            return error(401, "Unauthorized");
        }
        let m: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
        if m["chat_id"] != CHAT {
            return error(400, "Bad Request: chat not found");
        }
        let text = m["text"].as_str().unwrap_or("");
        if text.is_empty() {
            return error(400, "Bad Request: message text is empty");
        }
        if text.chars().count() > 4096 {
            return error(400, "Bad Request: message is too long");
        }
        Reply::new(
            200,
            json!({"ok": true, "result": {"message_id": 4242, "date": 1_800_000_000,
                   "chat": {"id": CHAT, "type": "supergroup"}, "text": text}})
            .to_string(),
        )
        .header("Content-Type", "application/json")
    })
}

fn keys(tg: &HttpServer) -> String {
    format!(
        "bot_token_env: TG_TOKEN, chat_id: '{CHAT}', base_url: '{}'",
        tg.url("")
    )
}

#[test]
fn an_incident_goes_to_the_chat_as_plain_text() {
    let tg = fake();
    let target = Target::new();
    let env = env_with("telegram", &keys(&tg), &target, "");
    incident(&env, &target, &[("TG_TOKEN", TOKEN)]);
    let sent: Vec<Value> = tg
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect();
    assert_eq!(sent.len(), 3);
    let text = sent[0]["text"].as_str().unwrap_or("");
    assert!(
        text.starts_with("CRITICAL status for service: web\n• home [critical]: HTTP 500"),
        "{text}"
    );
    assert!(
        text.ends_with("Runbook: https://wiki.example.com/web"),
        "{text}"
    );
    assert!(
        sent[0].get("parse_mode").is_none(),
        "plain text: nothing is markup"
    );
    assert_eq!(
        sent[2]["text"],
        "Service back to normal: web\nPASSING: web is back to normal (was CRITICAL)"
    );
}

#[test]
fn test_alert_and_a_wrong_token() {
    let tg = fake();
    let target = Target::new();
    let env = env_with("telegram", &keys(&tg), &target, "");
    let r = run_at(&env, T0, &["test-alert", "push"], &[("TG_TOKEN", TOKEN)]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "push: telegram: ok accepted (message 4242)\n"),
        "{r:?}"
    );
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("TG_TOKEN", "1:wrong")],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout.contains(
            r#"FAILED HTTP 401: {"description":"Unauthorized","error_code":401,"ok":false}"#
        ),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("1:wrong"),
        "the token is in the URL: never shown: {r:?}"
    );
}
