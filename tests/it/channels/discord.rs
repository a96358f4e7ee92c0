//! The `discord` channel against a fake of Discord's Execute Webhook that answers as
//! Discord's API reference documents: `POST /api/webhooks/ID/TOKEN?wait=true` gives 200
//! and the saved message; a wrong token 401 `{"message": "Invalid Webhook Token", "code":
//! 50027}`; a body over the limits 400 `{"message": "Invalid Form Body", "code": 50035}`.

use serde_json::{Value, json};

use super::kit::*;
use crate::support::*;

const PATH: &str = "/api/webhooks/1185285612873596928/Xq3-cabot-webhook-token";
const USER_ID: &str = "80351110224678912";

fn fake() -> HttpServer {
    HttpServer::start(|req| {
        let error = |status: u16, message: &str, code: u32| {
            Reply::new(
                status,
                json!({"message": message, "code": code}).to_string(),
            )
            .header("Content-Type", "application/json")
        };
        let Some(query) = req.url.strip_prefix(PATH) else {
            return error(401, "Invalid Webhook Token", 50027);
        };
        if req.method != "POST" {
            return error(405, "405: Method Not Allowed", 0);
        }
        let Ok(m) = serde_json::from_str::<Value>(&req.body) else {
            return error(400, "Cannot send an empty message", 50006);
        };
        let content = m["content"].as_str().unwrap_or("");
        let embeds = m["embeds"].as_array().cloned().unwrap_or_default();
        let too_long = content.chars().count() > 2000
            || embeds.len() > 10
            || embeds.iter().any(|e| {
                e["title"].as_str().unwrap_or("").chars().count() > 256
                    || e["description"].as_str().unwrap_or("").chars().count() > 4096
            });
        if too_long || !m["allowed_mentions"]["parse"].is_array() {
            return error(400, "Invalid Form Body", 50035);
        }
        if query != "?wait=true" {
            return Reply::new(204, "");
        }
        Reply::new(
            200,
            json!({"id": "1185290000000000001", "type": 0, "content": content,
                   "channel_id": "1185285500000000000", "webhook_id": "1185285612873596928",
                   "embeds": embeds})
            .to_string(),
        )
        .header("Content-Type", "application/json")
    })
}

fn posts(discord: &HttpServer) -> Vec<Value> {
    discord
        .requests()
        .iter()
        .map(|r| serde_json::from_str(&r.body).expect("JSON"))
        .collect()
}

#[test]
fn an_incident_mentions_the_users_and_recovers_in_green() {
    let discord = fake();
    let target = Target::new();
    let env = env_with(
        "discord",
        "webhook_url_env: DISCORD_URL",
        &target,
        &format!("discord: '{USER_ID}'"),
    );
    incident(&env, &target, &[("DISCORD_URL", &discord.url(PATH))]);
    let posts = posts(&discord);
    assert_eq!(posts.len(), 3);
    assert_eq!(
        posts[0]["content"],
        format!("CRITICAL status for service: web <@{USER_ID}>")
    );
    assert_eq!(
        posts[0]["allowed_mentions"],
        json!({"parse": [], "users": [USER_ID]})
    );
    let embed = &posts[0]["embeds"][0];
    assert_eq!(embed["color"], 0xe74c3c);
    assert_eq!(embed["url"], "https://wiki.example.com/web");
    assert!(
        embed["description"]
            .as_str()
            .unwrap_or("")
            .starts_with("**home** [critical]: HTTP 500"),
        "{embed}"
    );
    assert_eq!(posts[2]["embeds"][0]["color"], 0x2ecc71);
    assert_eq!(
        posts[2]["embeds"][0]["title"],
        "PASSING: web is back to normal (was CRITICAL)"
    );
}

#[test]
fn test_alert_shows_the_saved_message_and_a_wrong_token_fails() {
    let discord = fake();
    let target = Target::new();
    let env = env_with("discord", "webhook_url_env: DISCORD_URL", &target, "");
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("DISCORD_URL", &discord.url(PATH))],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "push: discord: ok accepted (message 1185290000000000001)\n"
    );
    let wrong = discord.url("/api/webhooks/1185285612873596928/wrong");
    let r = run_at(
        &env,
        T0,
        &["test-alert", "push"],
        &[("DISCORD_URL", &wrong)],
    );
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        r.stdout
            .contains(r#"FAILED HTTP 401: {"code":50027,"message":"Invalid Webhook Token"}"#),
        "{r:?}"
    );
}

#[test]
fn check_output_cannot_ping_everyone_or_break_the_limits() {
    let discord = fake();
    let target = Target::new();
    let env = env_with(
        "discord",
        "webhook_url_env: DISCORD_URL",
        &target,
        &format!("discord: '{USER_ID}'"),
    );
    let text = std::fs::read_to_string(env.config()).expect("config");
    let noisy = format!("@everyone {}", "x".repeat(9000));
    env.write_config(&text.replace(
        &format!("type: http, url: '{}'", target.url()),
        &format!(
            "type: command, command: {}",
            sh(&format!("echo '{noisy}'; exit 2"))
        ),
    ));
    let r = run_at(&env, T0, &["run"], &[("DISCORD_URL", &discord.url(PATH))]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        1,
        "within Discord's limits: {r:?}"
    );
    let post = &posts(&discord)[0];
    assert!(!post["content"].as_str().unwrap_or("").contains("@everyone"));
    assert_eq!(post["allowed_mentions"]["parse"], json!([]));
}
