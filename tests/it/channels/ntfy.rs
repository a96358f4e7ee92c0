//! The `ntfy` channel against a fake ntfy server that answers as ntfy's own server code does
//! (binwiederhier/ntfy `server/server.go`, `errors.go`, `types.go`): JSON published to the
//! root URL, a topic of `[-_A-Za-z0-9]{1,64}`, 401 `{"code":40101,...}` for a wrong token,
//! and the message JSON with its id on success.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use serde_json::{Value, json};

use crate::support::*;

/// What the fake requires as `Authorization`.
const TOKEN: &str = "tk_cabot0test0token0000000000";

/// A fake ntfy server on 127.0.0.1; `accepting` false makes it answer every publish 429
/// the way ntfy does when a daily quota is used up.
struct FakeNtfy {
    server: HttpServer,
    accepting: Arc<AtomicBool>,
}

impl FakeNtfy {
    fn start(authorization: &'static str) -> FakeNtfy {
        let accepting = Arc::new(AtomicBool::new(true));
        let open = Arc::clone(&accepting);
        // ntfy's errHTTP, its fields in the order Go writes them.
        let error = |http: u16, code: u32, message: &str| {
            let body = format!(
                r#"{{"code":{code},"http":{http},"error":"{message}","link":"https://ntfy.sh/docs/publish/"}}"#
            );
            Reply::new(http, body).header("Content-Type", "application/json")
        };
        let server = HttpServer::start(move |req| {
            let (path, query) = req.url.split_once('?').unwrap_or((&req.url, ""));
            if req.method != "POST" && req.method != "PUT" || path != "/" {
                return error(404, 40401, "page not found");
            }
            // ntfy reads the Authorization header, or the same value in the `auth` query
            // parameter, base64 in the URL alphabet without padding (server.go).
            let from_query = query
                .split('&')
                .find_map(|p| p.strip_prefix("auth="))
                .and_then(|v| {
                    use base64::Engine;
                    base64::engine::general_purpose::URL_SAFE_NO_PAD
                        .decode(v)
                        .ok()
                })
                .and_then(|v| String::from_utf8(v).ok());
            let given = from_query.as_deref().or(req.header("Authorization"));
            if given != Some(authorization) {
                return error(401, 40101, "unauthorized");
            }
            if !open.load(Ordering::SeqCst) {
                return error(429, 42908, "limit reached: daily message quota reached");
            }
            let Ok(m) = serde_json::from_str::<Value>(&req.body) else {
                return error(
                    400,
                    40017,
                    "invalid request: request body must be message JSON",
                );
            };
            let topic = m["topic"].as_str().unwrap_or("");
            let topic_ok = (1..=64).contains(&topic.len())
                && topic
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if !topic_ok {
                return error(400, 40009, "invalid request: topic invalid");
            }
            if !(0..=5).contains(&m["priority"].as_i64().unwrap_or(0)) {
                return error(400, 40007, "invalid priority parameter");
            }
            Reply::new(
                200,
                json!({
                    "id": "hwQ2YpKdmg6W", "time": 1_800_000_000, "expires": 1_800_043_200,
                    "event": "message", "topic": topic, "title": m["title"],
                    "message": m["message"], "priority": m["priority"], "tags": m["tags"],
                })
                .to_string(),
            )
            .header("Content-Type", "application/json")
        });
        FakeNtfy { server, accepting }
    }

    /// The JSON bodies published so far, accepted or not.
    fn published(&self) -> Vec<Value> {
        self.server
            .requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).expect("published JSON"))
            .collect()
    }
}

fn env(ntfy: &FakeNtfy, target: &Target, auth: &str) -> Env {
    Env::new(&format!(
        "channels:
  push: {{ type: ntfy, url: '{topic_url}', {auth}, timeout: 2s }}
services:
  - name: web
    url: https://web.example.com
    runbook: https://wiki.example.com/web
    channels: [push]
    checks:
      - {{ name: home, type: http, url: '{target}', importance: critical }}
",
        topic_url = ntfy.server.url("/cabot-alerts"),
        target = target.url(),
    ))
}

fn run(env: &Env, at: i64, token: &str) -> Run {
    let out = env
        .command(&["run"])
        .env("CABOT_NOW", at.to_string())
        .env("NTFY_TOKEN", token)
        .output()
        .expect("run cabot");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

#[test]
fn an_incident_is_pushed_repeated_and_recovered_at_lower_priority() {
    let ntfy = FakeNtfy::start("Bearer tk_cabot0test0token0000000000");
    let target = Target::new();
    let env = env(&ntfy, &target, "token_env: NTFY_TOKEN");
    assert_eq!(run(&env, T0, TOKEN).code, 0);
    assert!(ntfy.published().is_empty(), "passing: nothing to say");

    target.set_up(false);
    assert_eq!(run(&env, T0 + MIN, TOKEN).code, 0);
    assert_eq!(
        run(&env, T0 + 11 * MIN, TOKEN).code,
        0,
        "CRITICAL repeats after 10m"
    );
    target.set_up(true);
    assert_eq!(run(&env, T0 + 12 * MIN, TOKEN).code, 0);

    let published = ntfy.published();
    assert_eq!(published.len(), 3, "{published:#?}");
    let alert = &published[0];
    assert_eq!(alert["topic"], "cabot-alerts");
    assert_eq!(alert["title"], "CRITICAL status for service: web");
    assert_eq!(alert["priority"], 5);
    assert_eq!(alert["tags"], json!(["rotating_light"]));
    assert_eq!(alert["click"], "https://wiki.example.com/web");
    let message = alert["message"].as_str().unwrap_or("");
    assert!(
        message.starts_with("home [critical]: HTTP 500"),
        "{message}"
    );
    assert!(
        message.ends_with("Runbook: https://wiki.example.com/web"),
        "{message}"
    );
    assert_eq!(
        published[1]["title"], "Still CRITICAL after 10m for service: web",
        "the repeat says it is one, and for how long"
    );
    let recovery = &published[2];
    assert_eq!(recovery["title"], "Service back to normal: web");
    assert_eq!(recovery["priority"], 2);
    assert_eq!(recovery["tags"], json!(["white_check_mark"]));
    assert_eq!(
        env.count(
            "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND provider = 'ntfy'"
        ),
        3
    );
}

#[test]
fn a_refused_token_or_a_quota_keeps_the_alert_pending_with_ntfys_answer() {
    // base64 of "cabot:s3cret", by coreutils' base64
    let ntfy = FakeNtfy::start("Basic Y2Fib3Q6czNjcmV0");
    let target = Target::new();
    target.set_up(false);
    let env = env(&ntfy, &target, "username: cabot, password_env: NTFY_TOKEN");
    let refused = run(&env, T0, "wrong");
    assert_eq!(refused.code, 0, "{refused:?}");
    assert!(
        refused
            .stderr
            .contains(r#"HTTP 401: {"code":40101,"http":401,"error":"unauthorized""#),
        "ntfy's answer is in the line cron mails: {refused:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        1
    );
    assert!(
        refused
            .stderr
            .contains("permanent: ntfy: HTTP 401: {\"code\":40101"),
        "labelled as needing a fix: {refused:?}"
    );
    assert!(
        refused.stderr.contains("check url, and token"),
        "{refused:?}"
    );
    ntfy.accepting.store(false, Ordering::SeqCst);
    // A refused password is tried again on the slow schedule, an hour on.
    let quota = run(&env, T0 + 61 * MIN, "s3cret");
    assert!(quota.stderr.contains("HTTP 429"), "{quota:?}");
    assert!(quota.stderr.contains("rate limited"), "{quota:?}");
    ntfy.accepting.store(true, Ordering::SeqCst);
    assert_eq!(run(&env, T0 + 65 * MIN, "s3cret").code, 0);
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        2,
        "delivered once the password is right and the quota is back, and the hour's repeat"
    );
}

#[test]
fn test_alert_shows_ntfys_answer() {
    let ntfy = FakeNtfy::start("Bearer tk_cabot0test0token0000000000");
    let target = Target::new();
    let env = env(&ntfy, &target, "token_env: NTFY_TOKEN");
    let out = env
        .command(&["test-alert", "push"])
        .env("NTFY_TOKEN", TOKEN)
        .output()
        .expect("test-alert");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert_eq!(text, "push: ntfy: ok accepted (id hwQ2YpKdmg6W)\n");
    let published = ntfy.published();
    assert_eq!(
        published[0]["title"],
        "Test alert from cabot for service: cabot-test"
    );
    assert_eq!(published[0]["priority"], 3);
}

#[test]
fn validate_wants_a_topic_url_and_one_kind_of_auth() {
    let env = Env::new(
        "channels:
  a: { type: ntfy, url: 'https://ntfy.sh/' }
  b: { type: ntfy, url: 'https://ntfy.sh/alerts', token: tk_x, username: me, password: pw }
services:
  - name: web
    channels: [a, b]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:9' }
",
    );
    let out = env.cabot(&["validate"]);
    assert_eq!(out.code, 78, "{out:?}");
    let config = env.config();
    let file = config.display();
    assert_eq!(
        out.stderr.lines().take(2).collect::<Vec<_>>(),
        [
            format!(
                "{file}:3:25: channels.a.url: 'https://ntfy.sh/' is not an ntfy topic URL: end it with the topic, like https://ntfy.sh/my-alerts"
            ),
            format!("{file}:4:6: channels.b.token: give either token, or username and password"),
        ],
        "{out:?}"
    );
}

#[test]
fn a_credential_in_the_topic_urls_query_is_sent() {
    let ntfy = FakeNtfy::start("Bearer tk_cabot0test0token0000000000");
    let target = Target::new();
    target.set_up(false);
    // base64url("Bearer tk_cabot0test0token0000000000") without padding, by Python's
    // base64.urlsafe_b64encode with the '=' taken off.
    let auth = "QmVhcmVyIHRrX2NhYm90MHRlc3QwdG9rZW4wMDAwMDAwMDAw";
    let env = Env::new(&format!(
        "channels:
  push: {{ type: ntfy, url_env: NTFY_URL }}
services:
  - name: web
    channels: [push]
    checks:
      - {{ name: home, type: http, url: '{}', importance: critical }}
",
        target.url()
    ));
    let url = format!("{}?auth={auth}", ntfy.server.url("/alerts"));
    let r = Run::from(
        env.command(&["run"])
            .env("CABOT_NOW", T0.to_string())
            .env("NTFY_URL", &url)
            .output()
            .expect("run"),
    );
    assert_eq!(r.stderr, "", "{r:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        1
    );
    assert_eq!(ntfy.server.requests()[0].url, format!("/?auth={auth}"));
}
