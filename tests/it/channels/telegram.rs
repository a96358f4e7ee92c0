//! The `telegram` channel against a fake Bot API that answers as core.telegram.org/bots/api
//! documents: `POST /bot<token>/sendMessage` gives `{"ok":true,"result":{"message_id":..}}`;
//! errors are `{"ok":false,"error_code":N,"description":"..."}` with that HTTP status.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const TOKEN: &str = "7034117421:AAHcabot-test-token-0000000000000";
const CHAT: i64 = -1001234567890;

fn fake() -> HttpServer {
    fake_with(Script::default())
}

/// The fake, answering with `script`'s replies first while it has any.
fn fake_with(script: Script) -> HttpServer {
    HttpServer::start(move |req| {
        if let Some(reply) = script.next() {
            return reply;
        }
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

/// Service `web`, its target failing, alerting through the fake that answers with
/// `script` first: the fake, the target and the env.
fn failing(script: &Script) -> (HttpServer, Target, Env) {
    let tg = fake_with(script.clone());
    let target = Target::new();
    target.set_up(false);
    let env = env_with("telegram", &keys(&tg), &target, "");
    (tg, target, env)
}

/// Service `web`, its target failing, alerting to a chat the bot is not in (chat id
/// `-1009999999999`): the fake, the target and the env.
fn failing_into_a_chat_not_found() -> (HttpServer, Target, Env) {
    let tg = fake();
    let target = Target::new();
    target.set_up(false);
    let keys = keys(&tg).replace(&CHAT.to_string(), "-1009999999999");
    let env = env_with("telegram", &keys, &target, "");
    (tg, target, env)
}

/// The texts the chat got, in the order it got them.
fn texts(tg: &HttpServer) -> Vec<String> {
    tg.requests()
        .iter()
        .map(|r| {
            let m: Value = serde_json::from_str(&r.body).unwrap_or(Value::Null);
            m["text"].as_str().unwrap_or("").to_string()
        })
        .collect()
}

/// What the Bot API says to a bot that sends too much: 429 and when to come back.
fn too_many(seconds: u64) -> Reply {
    Reply::new(
        429,
        json!({"ok": false, "error_code": 429,
               "description": format!("Too Many Requests: retry after {seconds}"),
               "parameters": {"retry_after": seconds}})
        .to_string(),
    )
    .header("Content-Type", "application/json")
}

#[test]
fn after_an_outage_the_chat_reads_the_alert_then_the_recovery() {
    let script = Script::default();
    let (tg, target, env) = failing(&script);
    let vars = [("TG_TOKEN", TOKEN)];
    script.then(Reply::new(502, "Bad Gateway"));
    run_at(&env, T0, &["run"], &vars);
    // Recovered while the alert waits for its retry: the recovery waits behind it.
    target.set_up(true);
    let r = run_at(&env, T0 + 30, &["run", "--all"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        texts(&tg).len(),
        1,
        "nothing newer goes while the alert waits"
    );
    let r = run_at(&env, T0 + 2 * MIN, &["run"], &vars);
    assert_eq!(r.stderr, "", "{r:?}");
    let texts = texts(&tg);
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert!(
        texts[1].starts_with("CRITICAL status for service: web"),
        "{texts:?}"
    );
    assert!(
        texts[2].starts_with("Service back to normal: web"),
        "the last word is the true one: {texts:?}"
    );
}

#[test]
fn retry_after_is_obeyed_to_the_second_and_across_runs() {
    let script = Script::default();
    let (tg, _target, env) = failing(&script);
    let vars = [("TG_TOKEN", TOKEN)];
    script.then(too_many(3600));
    let r = run_at(&env, T0, &["run"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("rate limited, nothing more goes there before 2027-01-15T09:00:00Z"),
        "{r:?}"
    );
    // Repeats fall due; the chat is not asked again before the hour is up.
    for at in [T0 + 11 * MIN, T0 + 30 * MIN, T0 + 59 * MIN] {
        let r = run_at(&env, at, &["run"], &vars);
        assert_eq!(r.code, 0, "{r:?}");
        assert_eq!(tg.requests().len(), 1, "at T0+{}s", at - T0);
    }
    let r = run_at(&env, T0 + 61 * MIN, &["run"], &vars);
    assert_eq!(r.stderr, "", "{r:?}");
    let texts = texts(&tg);
    // The alert, then one repeat: the repeats that waited behind it were superseded by
    // the newest.
    assert_eq!(texts.len(), 3, "{texts:?}");
    assert_eq!(texts[0], texts[1], "the alert, tried again");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'superseded'"),
        env.count("SELECT count(*) FROM alerts WHERE kind = 'repeat'") - 1
    );
    assert_eq!(
        env.count("SELECT attempts FROM deliveries WHERE alert_id = 1"),
        1,
        "the 429 did not count towards the backoff"
    );
}

#[test]
fn a_chat_not_found_is_labelled_retried_slowly_and_sent_once_the_config_is_fixed() {
    let (tg, _target, env) = failing_into_a_chat_not_found();
    let vars = [("TG_TOKEN", TOKEN)];
    let r = run_at(&env, T0, &["run"], &vars);
    let line = r.stderr.trim_end();
    assert!(
        line.starts_with(
            "cabot: alert 1 for web not delivered to push, will retry at 2027-01-15T09:00:00Z: \
             permanent: telegram: HTTP 400: {"
        ) && line.contains(r#""description":"Bad Request: chat not found""#)
            && line.ends_with("; check bot_token and chat_id (is the bot still in the chat?)"),
        "{r:?}"
    );
    // Not asked again every minute...
    run_at(&env, T0 + 11 * MIN, &["run"], &vars);
    assert_eq!(tg.requests().len(), 1);
    // ...but at once when the settings change.
    let fixed = std::fs::read_to_string(env.config())
        .expect("config")
        .replace("-1009999999999", &CHAT.to_string());
    env.write_config(&fixed);
    let r = run_at(&env, T0 + 12 * MIN, &["run"], &vars);
    assert_eq!(r.stderr, "", "{r:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        2,
        "the alert and the repeat that waited behind it"
    );
}

#[test]
fn the_given_up_line_keeps_the_providers_last_answer() {
    let tg = fake();
    let target = Target::new();
    let env = env_with("telegram", &keys(&tg), &target, "");
    target.set_up(false);
    run_at(&env, T0, &["run"], &[("TG_TOKEN", "7034117421:AAHrevoked")]);
    let r = run_at(
        &env,
        T0 + 25 * 60 * MIN,
        &["run"],
        &[("TG_TOKEN", "7034117421:AAHrevoked")],
    );
    let line = r
        .stderr
        .lines()
        .find(|l| l.starts_with("cabot: gave up on alert 1 "))
        .unwrap_or_else(|| panic!("{r:?}"));
    assert!(
        line.contains("after 1 attempts; the last answer: permanent: telegram: HTTP 401: ")
            && line.contains("Unauthorized"),
        "{line}"
    );
}

#[test]
fn quiet_runs_still_say_what_was_not_delivered_and_status_says_why() {
    let (_tg, _target, env) = failing_into_a_chat_not_found();
    let vars = [("TG_TOKEN", TOKEN)];
    // -q is what cron's line and the systemd unit run: the failed alert still needs a person.
    let r = run_at(&env, T0, &["-q", "run"], &vars);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .starts_with("cabot: alert 1 for web not delivered to push, will retry at"),
        "{r:?}"
    );
    let s = run_at(&env, T0 + MIN, &["status"], &vars);
    assert!(
        s.stdout.contains(
            "  alert 1 for web (alert) to push: 1 attempt, next try 2027-01-15T09:00:00Z: \
             permanent: telegram: HTTP 400: "
        ),
        "{s:?}"
    );
    assert!(s.stdout.contains("chat not found"), "{s:?}");
    let j = run_at(&env, T0 + MIN, &["status", "--json"], &vars);
    let v: Value = serde_json::from_str(&j.stdout).expect("JSON");
    let u = &v["undelivered_alerts"][0];
    assert_eq!(u["channel"], "push");
    assert_eq!(u["tries"], 1);
    assert_eq!(u["next_try"], "2027-01-15T09:00:00Z");
    assert!(
        u["last_error"]
            .as_str()
            .unwrap_or("")
            .contains("chat not found"),
        "{u}"
    );
}
