//! The `discord` channel against a fake of Discord's Execute Webhook that answers as
//! Discord's API reference documents: `POST /api/webhooks/ID/TOKEN?wait=true` gives 200
//! and the saved message; a wrong token 401 `{"message": "Invalid Webhook Token", "code":
//! 50027}`; a body over the limits 400 `{"message": "Invalid Form Body", "code": 50035}`.

use std::time::{Duration, Instant};

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

/// Discord's webhook limit as its API reference describes rate limits: a bucket of 5
/// requests that resets 2 s after its first; every answer says so in `X-RateLimit-*`, and
/// a request over it gets 429 with `retry_after` (seconds) in the body and `Retry-After`.
struct Limited {
    server: HttpServer,
    /// (when, the wait it was told) of each 429.
    told: std::sync::Arc<std::sync::Mutex<Vec<(Instant, Duration)>>>,
    /// The plain fake, which judges each message let through.
    _plain: HttpServer,
}

fn limited() -> Limited {
    use std::sync::{Arc, Mutex};
    const WINDOW: Duration = Duration::from_secs(2);
    // Someone else used up the bucket just now: the first post is told to wait.
    let window = Arc::new(Mutex::new((Some(Instant::now()), 5)));
    let told: Arc<Mutex<Vec<(Instant, Duration)>>> = Arc::default();
    let told_by = Arc::clone(&told);
    let inner = fake();
    let ok_url = inner.url("");
    let server = HttpServer::start(move |req| {
        let mut w = window.lock().expect("window");
        let now = req.at;
        if w.0.is_none_or(|start| now.duration_since(start) >= WINDOW) {
            *w = (Some(now), 0);
        }
        let reset_after = WINDOW.saturating_sub(now.duration_since(w.0.unwrap_or(now)));
        let limits = |reply: Reply, remaining: u32| {
            reply
                .header("X-RateLimit-Limit", "5")
                .header("X-RateLimit-Remaining", &remaining.to_string())
                .header(
                    "X-RateLimit-Reset-After",
                    &format!("{:.3}", reset_after.as_secs_f64()),
                )
                .header("X-RateLimit-Bucket", "abcd1234")
        };
        if w.1 >= 5 {
            told_by.lock().expect("told").push((now, reset_after));
            let body = json!({"message": "You are being rate limited.",
                              "retry_after": reset_after.as_secs_f64(), "global": false});
            return limits(
                Reply::new(429, body.to_string())
                    .header("Content-Type", "application/json")
                    .header("Retry-After", &reset_after.as_secs_f64().ceil().to_string())
                    .header("X-RateLimit-Scope", "shared"),
                0,
            );
        }
        w.1 += 1;
        let remaining = 5 - w.1;
        drop(w);
        // The message itself is judged by the plain fake.
        let answer = ureq::post(&format!("{ok_url}{}", req.url))
            .config()
            .http_status_as_error(false)
            .build()
            .header("Content-Type", "application/json")
            .send(req.body.as_str())
            .expect("the plain fake answers");
        let status = answer.status().as_u16();
        let body = answer.into_body().read_to_string().unwrap_or_default();
        limits(
            Reply::new(status, body).header("Content-Type", "application/json"),
            remaining,
        )
    });
    Limited {
        server,
        told,
        _plain: inner,
    }
}

#[test]
fn thirty_services_failing_at_once_reach_one_webhook_within_the_run_at_its_pace() {
    let discord = limited();
    let target = Target::new();
    target.set_up(false);
    let services: String = (0..30)
        .map(|i| {
            format!(
                "  - name: web{i:02}
    channels: [push]
    checks:
      - {{ name: home, type: http, url: '{}', importance: critical }}
",
                target.url()
            )
        })
        .collect();
    let env = Env::new(&format!(
        "channels:
  push: {{ type: discord, webhook_url_env: DISCORD_URL, timeout: 2s }}
services:
{services}"
    ));
    let url = discord.server.url(PATH);
    let started = Instant::now();
    let r = run_at(&env, T0, &["run"], &[("DISCORD_URL", &url)]);
    let took = started.elapsed();
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stderr, "", "every alert delivered within the run: {r:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        30
    );
    let seen = discord.server.requests();
    let told = discord.told.lock().expect("told").len();
    assert!(told >= 1, "the first post met a used-up bucket");
    assert_eq!(seen.len() - told, 30, "each alert posted once");
    // Never a request before the time a 429 gave.
    for (at, wait) in discord.told.lock().expect("told").iter() {
        assert!(
            seen.iter().all(|s| s.at <= *at || s.at >= *at + *wait),
            "a request came before the Retry-After of the 429 at {at:?}"
        );
    }
    // Five posts a window of two seconds: 30 take at least five windows after the first.
    assert!(took >= Duration::from_secs(10), "{took:?}");
    eprintln!(
        "30 alerts through one webhook at 5 per 2 s: {took:?}, {} 429s",
        seen.len() - 30
    );
}

#[test]
fn check_output_cannot_plant_a_link_in_the_embed() {
    let discord = fake();
    let target = Target::new();
    target.set_up(false);
    let env = env_with("discord", "webhook_url_env: DISCORD_URL", &target, "");
    let planted = "[Click to ack](https://evil.example/phish) # **now** <@80351110224678912>";
    let config = std::fs::read_to_string(env.config()).expect("config");
    // A Nagios plugin's output is the check's message, as the plugin wrote it.
    let check = format!(
        "type: command, command: [/bin/sh, -c, 'echo \"{planted}\"; exit 2'], importance: critical }}"
    );
    let http = config.find("type: http").expect("the http check");
    env.write_config(&format!("{}{check}\n", &config[..http]));
    let r = run_at(&env, T0, &["run"], &[("DISCORD_URL", &discord.url(PATH))]);
    assert_eq!(r.stderr, "", "{r:?}");
    let post = &posts(&discord)[0];
    let embed = &post["embeds"][0];
    let description = embed["description"].as_str().unwrap_or("");
    assert!(
        description.contains(
            r"\[Click to ack\]\(https://evil.example/phish\) \# \*\*now\*\* \<@80351110224678912\>"
        ),
        "escaped, so Discord shows it as typed: {description}"
    );
    assert!(!description.contains("[Click to ack]("), "{description}");
    assert!(
        !embed["title"].as_str().unwrap_or("").contains("evil"),
        "{embed}"
    );
    assert!(
        !post["content"].as_str().unwrap_or("").contains("evil"),
        "{post}"
    );
}
