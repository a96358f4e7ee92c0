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

#[test]
fn a_heartbeat_never_pinged_fails_once_and_stays_failing() {
    // Added before its cron job, the usual order: period 2m, grace 30s, never pinged, with
    // a webhook that records every alert, under minutely runs.
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{}' }}
services:
  - name: s
    channels: [hook]
    checks:
      - {{ name: backup, type: heartbeat, period: 2m, grace: 30s }}
",
        hook.url("/hook")
    ));
    let mut states = Vec::new();
    for minute in 0..=10 {
        let r = env.cabot_at(T0 + minute * MIN, &["run"]);
        assert_eq!(r.code, 0, "{r:?}");
        states.push(
            check(&env, "backup")["status"]
                .as_str()
                .unwrap_or("")
                .to_string(),
        );
    }
    let failing_from = states
        .iter()
        .position(|s| s == "failing")
        .expect("it fails");
    assert_eq!(
        failing_from, 3,
        "period + grace after it was added: {states:?}"
    );
    assert!(
        states[failing_from..].iter().all(|s| s == "failing"),
        "and stays failing: {states:?}"
    );
    let c = check(&env, "backup");
    assert_eq!(
        c["message"],
        "no ping received since the check was added 10m ago (period + grace is 2m 30s)",
        "{c}"
    );
    let kinds: Vec<String> = hook
        .requests()
        .iter()
        .map(|r| {
            let a: serde_json::Value = serde_json::from_str(&r.body).unwrap_or_default();
            a["kind"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(kinds[0], "alert", "{kinds:?}");
    assert!(
        !kinds.iter().any(|k| k == "recovery"),
        "no flapping: {kinds:?}"
    );
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

/// A connection to `to` from the loopback address `from` (all of 127/8 is loopback).
fn connect_from(from: [u8; 4], to: u16) -> std::net::TcpStream {
    use std::os::fd::FromRawFd;
    let sockaddr = |ip: [u8; 4], port: u16| libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: port.to_be(),
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(ip),
        },
        sin_zero: [0; 8],
    };
    let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
    // SAFETY: a new socket, bound and connected with sockaddr_in values that live through
    // each call; on success the descriptor is handed to the TcpStream that owns it.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM, 0);
        assert!(fd >= 0, "socket");
        let src = sockaddr(from, 0);
        assert_eq!(
            libc::bind(fd, (&raw const src).cast(), len),
            0,
            "bind {from:?}"
        );
        let dst = sockaddr([127, 0, 0, 1], to);
        assert_eq!(
            libc::connect(fd, (&raw const dst).cast(), len),
            0,
            "connect"
        );
        std::net::TcpStream::from_raw_fd(fd)
    }
}

/// A ping's status code, sent over `conn`.
fn ping_over(mut conn: std::net::TcpStream, token: &str) -> u16 {
    use std::io::{Read, Write};
    conn.set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    write!(
        conn,
        "POST /ping/backup HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .expect("write");
    let mut answer = String::new();
    let _ = conn.read_to_string(&mut answer);
    answer
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0)
}

#[test]
fn token_guessing_is_held_back_and_the_right_token_from_elsewhere_is_not() {
    let env = env(HB);
    env.cabot(&["run"]);
    // The clock starts at a minute's start (T0 is a multiple of 60), so that the test, a
    // fraction of a second, stays in one window of the limit.
    assert_eq!(T0 % 60, 0);
    let now = T0.to_string();
    let server = StatusServer::start_with_vars(
        &env,
        &[("HB_TOKEN", "s3cret-token"), ("CABOT_NOW", now.as_str())],
    );
    let guesser = [127, 0, 0, 2];
    let codes: Vec<u16> = (0..25)
        .map(|i| ping_over(connect_from(guesser, server.port), &format!("guess-{i}")))
        .collect();
    assert_eq!(codes[..10], [404; 10], "{codes:?}");
    assert_eq!(codes[10..], [429; 15], "{codes:?}");
    // A token short enough to be guessed: the guesser learns nothing more, not even from
    // the right one.
    assert_eq!(
        ping_over(connect_from(guesser, server.port), "s3cret-token"),
        429
    );
    // The job that pings from its own address is not slowed.
    let started = std::time::Instant::now();
    assert_eq!(
        ping_over(connect_from([127, 0, 0, 3], server.port), "s3cret-token"),
        200
    );
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(env.count("SELECT count(*) FROM pings"), 1);
}

#[test]
fn a_long_right_token_is_accepted_from_an_address_held_back_for_guessing() {
    // One local user guessing must not silence the heartbeats of every cron job on the
    // same machine: they ping from 127.0.0.1 too.
    let env = env(HB);
    env.cabot(&["run"]);
    assert_eq!(T0 % 60, 0);
    let now = T0.to_string();
    let token = "b7f3c9e1a2d84f60b5c7e9a1d3f5b7c9";
    let server =
        StatusServer::start_with_vars(&env, &[("HB_TOKEN", token), ("CABOT_NOW", now.as_str())]);
    let shared = [127, 0, 0, 1];
    let codes: Vec<u16> = (0..12)
        .map(|i| ping_over(connect_from(shared, server.port), &format!("guess-{i}")))
        .collect();
    assert_eq!(codes[10..], [429; 2], "held back: {codes:?}");
    assert_eq!(ping_over(connect_from(shared, server.port), token), 200);
    // Wrong guesses from it are still held back, a near miss too.
    assert_eq!(
        ping_over(connect_from(shared, server.port), &token[..31]),
        429
    );
    assert_eq!(env.count("SELECT count(*) FROM pings"), 1);
}
