//! `heartbeat`: `cabot ping`, and `POST /ping/NAME` to serve-status with its token.

use std::sync::Arc;
use std::time::Duration;

use super::command::{check, env};
use crate::support::*;

const HB: &str =
    "      - { name: backup, type: heartbeat, period: 1h, grace: 5m, token_env: HB_TOKEN }\n";

#[test]
fn heartbeat_pinged_on_time_late_and_failed() {
    let env = env(HB);
    // a new heartbeat waits for its first ping ...
    env.cabot_at(T0, &["run", "--all"]);
    assert_eq!(
        check(&env, "backup")["message"],
        "waiting for the first ping"
    );
    // ... until period + grace has passed
    env.cabot_at(T0 + 3600 + 301, &["run", "--all"]);
    assert_eq!(check(&env, "backup")["status"], "failing");
    let pinged = T0 + 4000;
    let r = env.cabot_at(pinged, &["ping", "backup", "--message", "3 GB"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "pinged s/backup");
    env.cabot_at(pinged + 60, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "passing", "{c}");
    assert_eq!(c["message"], "last ping 1m ago: 3 GB");
    env.cabot_at(pinged + 3600 + 299, &["run", "--all"]);
    assert_eq!(
        check(&env, "backup")["status"],
        "passing",
        "inside period + grace"
    );
    env.cabot_at(pinged + 3600 + 301, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "failing", "late");
    assert!(
        c["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("no ping for 1h 5m"),
        "{c}"
    );
    env.cabot_at(
        T0 + 9000,
        &["ping", "s/backup", "--fail", "--message", "disk full"],
    );
    env.cabot_at(T0 + 9060, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "failing");
    assert_eq!(
        c["message"],
        "the last ping (1m ago) reported a failure: disk full"
    );
    assert_eq!(env.cabot(&["ping", "nope"]).code, 64);
}

/// `serve-status` on a free loopback port, killed when dropped.
/// POSTs a ping to the server: its HTTP status, or 0 when it did not answer.
fn post(server: &StatusServer, path: &str, token: Option<&str>, body: &str) -> u16 {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(5)))
        .build()
        .into();
    let mut req = agent.post(&format!("http://127.0.0.1:{}{path}", server.port));
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    req.send(body.to_string())
        .map(|r| r.status().as_u16())
        .unwrap_or(0)
}

#[test]
fn heartbeat_pings_over_http_need_the_token() {
    let env = env(HB);
    env.cabot(&["run"]);
    let server = StatusServer::start_with_vars(&env, &[("HB_TOKEN", "s3cret-token")]);
    let pings = || env.count("SELECT count(*) FROM pings");
    assert_eq!(post(&server, "/ping/backup", Some("wrong-token"), ""), 404);
    assert_eq!(post(&server, "/ping/backup", None, ""), 404);
    assert_eq!(post(&server, "/ping/nope", Some("s3cret-token"), ""), 404);
    assert_eq!(pings(), 0, "refused pings are not recorded");
    assert_eq!(
        post(&server, "/ping/backup", Some("s3cret-token"), "nightly ok"),
        200
    );
    assert_eq!(pings(), 1);
    assert_eq!(
        post(
            &server,
            "/ping/s/backup/fail",
            Some("s3cret-token"),
            "tar failed"
        ),
        200
    );
    let (ok, message, source): (bool, String, String) = env
        .db()
        .query_row(
            "SELECT ok, message, source FROM pings ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("ping row");
    assert_eq!(
        (ok, message.as_str(), source.as_str()),
        (false, "tar failed", "127.0.0.1")
    );
    env.cabot(&["run", "--all"]);
    assert_eq!(check(&env, "backup")["status"], "failing");
}

#[test]
fn many_concurrent_pings_are_bounded_and_the_server_stays_up() {
    let env = env(HB);
    env.cabot(&["run"]);
    let server = Arc::new(StatusServer::start_with_vars(
        &env,
        &[("HB_TOKEN", "s3cret-token")],
    ));
    let threads: Vec<_> = (0..60)
        .map(|i| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                post(
                    &server,
                    "/ping/backup",
                    Some("s3cret-token"),
                    &format!("ping {i}"),
                )
            })
        })
        .collect();
    let codes: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let accepted = codes.iter().filter(|c| **c == 200).count() as i64;
    assert!(codes.iter().all(|c| *c == 200 || *c == 429), "{codes:?}");
    assert!(accepted >= 1, "{codes:?}");
    assert!(accepted <= 15, "rate-limited: {accepted} of 60 accepted");
    assert_eq!(
        env.count("SELECT count(*) FROM pings"),
        accepted,
        "every accepted ping is recorded, no more"
    );
    let r = ureq::get(&format!("http://127.0.0.1:{}/status/", server.port)).call();
    assert!(r.is_ok(), "the server still answers");
}
