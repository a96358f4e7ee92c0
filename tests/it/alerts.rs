//! The alert policy end to end through the binary, and the outbox: what alerts when (new,
//! escalation, repeat, recovery), acks, silences, maintenance windows, `--no-alerts`,
//! retries and giving up. Tests of one channel's wire format go in `channels/`; the fake
//! provider APIs and the setup they share live here.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

use serde_json::Value;

use crate::support::*;

pub(crate) const OK: u8 = 0;

pub(crate) const FAIL: u8 = 1;

pub(crate) const HANG: u8 = 2;

pub(crate) const GARBAGE: u8 = 3;

/// A fake provider API: answers per `mode`, rejects requests with the wrong path or auth.
pub(crate) struct FakeApi {
    pub(crate) server: HttpServer,
    pub(crate) mode: Arc<AtomicU8>,
}

impl FakeApi {
    pub(crate) fn twilio() -> FakeApi {
        Self::start(|req| {
            // base64 of "AC1:twilio-token", by coreutils' base64
            let auth = "Basic QUMxOnR3aWxpby10b2tlbg==";
            let form = form(&req.body);
            let path_ok = req.url == "/2010-04-01/Accounts/AC1/Messages.json"
                || req.url == "/2010-04-01/Accounts/AC1/Calls.json";
            let fields_ok = form.get("From").map(String::as_str) == Some("+15550000001")
                && form.contains_key("To")
                && (form.contains_key("Body") || form.contains_key("Twiml"));
            if req.method != "POST"
                || !path_ok
                || req.header("Authorization") != Some(auth)
                || !fields_ok
            {
                return Reply::new(
                    400,
                    format!("bad request: {} {} {:?}", req.method, req.url, form),
                );
            }
            Reply::new(201, r#"{"sid": "SM123", "status": "queued"}"#)
        })
    }

    pub(crate) fn plivo() -> FakeApi {
        Self::start(|req| {
            // base64 of "MA1:plivo-token", by coreutils' base64
            let auth = "Basic TUExOnBsaXZvLXRva2Vu";
            let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            let ok = req.method == "POST"
                && (req.url == "/v1/Account/MA1/Message/" || req.url == "/v1/Account/MA1/Call/")
                && req.header("Authorization") == Some(auth)
                && (body["src"] == "+15550000002" || body["from"] == "+15550000002");
            if !ok {
                return Reply::new(400, "bad request");
            }
            Reply::new(
                202,
                r#"{"message_uuid": ["db3ce55a-7f1d-11e1-8ea7-1231380bc196"], "api_id": "x"}"#,
            )
        })
    }

    pub(crate) fn slack() -> FakeApi {
        Self::start(|req| {
            let body: Value = serde_json::from_str(&req.body).unwrap_or(Value::Null);
            if req.url != "/services/T0/B0/secret" || !body["text"].is_string() {
                return Reply::new(400, "invalid_payload");
            }
            Reply::new(200, "ok")
        })
    }

    pub(crate) fn receiver() -> FakeApi {
        Self::start(|_| Reply::new(200, "thanks"))
    }

    pub(crate) fn start(check: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> FakeApi {
        let mode = Arc::new(AtomicU8::new(OK));
        let m = Arc::clone(&mode);
        let server = HttpServer::start(move |req| match m.load(Ordering::SeqCst) {
            FAIL => Reply::new(500, "internal error"),
            HANG => Reply::new(200, "{}").after(Duration::from_secs(30)),
            GARBAGE => Reply::new(200, "<html>this is not the API you are looking for"),
            _ => check(req),
        });
        FakeApi { server, mode }
    }

    pub(crate) fn set(&self, mode: u8) {
        self.mode.store(mode, Ordering::SeqCst);
    }

    pub(crate) fn url(&self) -> String {
        self.server.url("")
    }

    /// Requests that were answered as accepted (mode OK at the time and valid).
    pub(crate) fn requests(&self) -> Vec<Seen> {
        self.server.requests()
    }
}

/// `application/x-www-form-urlencoded`, decoded.
pub(crate) fn form(body: &str) -> std::collections::HashMap<String, String> {
    fn decode(s: &str) -> String {
        let bytes = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < bytes.len() {
            match bytes[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < bytes.len() => {
                    let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                    out.push(u8::from_str_radix(hex, 16).unwrap_or(b'?'));
                    i += 2;
                }
                b => out.push(b),
            }
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }
    body.split('&')
        .filter_map(|kv| kv.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

pub(crate) struct Setup {
    pub(crate) env: Env,
    pub(crate) target: Target,
    pub(crate) twilio: FakeApi,
    pub(crate) plivo: FakeApi,
    pub(crate) slack: FakeApi,
    pub(crate) hook: FakeApi,
}

/// One service `web` (one check of `importance`) alerting through `channels`.
pub(crate) fn setup(importance: &str, channels: &str, extra: &str) -> Setup {
    let target = Target::new();
    let (twilio, plivo, slack, hook) = (
        FakeApi::twilio(),
        FakeApi::plivo(),
        FakeApi::slack(),
        FakeApi::receiver(),
    );
    let env = Env::new(&format!(
        "users:
  alice: {{ email: alice@example.com, phone: '+15551230001', slack: U024BE7LH }}
channels:
  sms:
    type: sms
    timeout: 1s
    providers:
      - twilio: {{ account_sid: AC1, auth_token_env: TWILIO_TOKEN, from: '+15550000001', base_url: '{twilio}' }}
      - plivo: {{ auth_id: MA1, auth_token_env: PLIVO_TOKEN, from: '+15550000002', base_url: '{plivo}' }}
  phone:
    type: phone
    timeout: 1s
    providers:
      - twilio: {{ account_sid: AC1, auth_token_env: TWILIO_TOKEN, from: '+15550000001', base_url: '{twilio}' }}
  chat: {{ type: slack, webhook_url_env: SLACK_URL }}
  hook: {{ type: webhook, url: '{hook}/hook' }}
{extra}
services:
  - name: web
    url: https://web.example.com
    runbook: https://wiki.example.com/web
    users: [alice]
    channels: [{channels}]
    checks:
      - {{ name: home, type: http, url: '{target}', importance: {importance} }}
",
        twilio = twilio.url(),
        plivo = plivo.url(),
        hook = hook.url(),
        target = target.server.url("/"),
    ));
    Setup {
        env,
        target,
        twilio,
        plivo,
        slack,
        hook,
    }
}

impl Setup {
    pub(crate) fn run(&self, at: i64) -> Run {
        self.run_args(at, &["run"])
    }

    pub(crate) fn run_args(&self, at: i64, args: &[&str]) -> Run {
        let out = self
            .env
            .command(args)
            .env("CABOT_NOW", at.to_string())
            .env("TWILIO_TOKEN", "twilio-token")
            .env("PLIVO_TOKEN", "plivo-token")
            .env("SLACK_URL", self.slack.server.url("/services/T0/B0/secret"))
            .output()
            .expect("run cabot");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// The webhook payloads received so far.
    pub(crate) fn hooks(&self) -> Vec<Value> {
        self.hook
            .requests()
            .iter()
            .map(|r| serde_json::from_str(&r.body).expect("webhook JSON"))
            .collect()
    }

    pub(crate) fn hook_kinds(&self) -> Vec<String> {
        self.hooks()
            .iter()
            .map(|h| {
                format!(
                    "{} {}",
                    h["kind"].as_str().unwrap_or(""),
                    h["status"].as_str().unwrap_or("")
                )
            })
            .collect()
    }
}

#[test]
fn the_policy_end_to_end_through_a_webhook() {
    let s = setup("error", "hook", "");
    assert_eq!(s.run(T0).code, 0);
    assert!(s.hooks().is_empty(), "passing: nothing");
    s.target.set_up(false);
    s.run(T0 + MIN);
    assert_eq!(s.hook_kinds(), ["alert ERROR"]);
    s.run(T0 + 5 * MIN);
    assert_eq!(s.hook_kinds().len(), 1, "no repeat before 10m");
    s.run(T0 + 11 * MIN);
    assert_eq!(s.hook_kinds(), ["alert ERROR", "repeat ERROR"]);
    s.target.set_up(true);
    s.run(T0 + 12 * MIN);
    s.run(T0 + 13 * MIN);
    assert_eq!(
        s.hook_kinds(),
        ["alert ERROR", "repeat ERROR", "recovery PASSING"]
    );

    let h = &s.hooks()[0];
    assert_eq!(h["service"], "web");
    assert_eq!(h["previous_status"], "PASSING");
    assert_eq!(h["url"], "https://web.example.com");
    assert_eq!(h["runbook"], "https://wiki.example.com/web");
    assert!(h["id"].is_number());
    assert_eq!(h["checks"][0]["name"], "home");
    assert_eq!(h["checks"][0]["importance"], "error");
    assert_eq!(h["checks"][0]["status"], "failing");
    assert!(
        h["checks"][0]["message"]
            .as_str()
            .unwrap_or("")
            .contains("HTTP 500")
    );
    assert!(h["time"].as_str().unwrap_or("").ends_with('Z'));
    assert_eq!(h["text"], "ERROR: web — home: HTTP 500 (expected 2xx)");
    let recovery = &s.hooks()[2];
    assert_eq!(recovery["previous_status"], "ERROR");
    assert_eq!(recovery["checks"], serde_json::json!([]));
    assert_eq!(
        recovery["text"],
        "PASSING: web is back to normal (was ERROR)"
    );
    // One incident, one id: its alert, repeat and recovery; it started with the first alert.
    let ids: Vec<Value> = s.hooks().iter().map(|h| h["incident"].clone()).collect();
    let first = format!("cabot/web/{}", T0 + MIN);
    assert_eq!(ids, [first.as_str(), first.as_str(), first.as_str()]);
    // The next incident has its own.
    s.target.set_up(false);
    s.run(T0 + 20 * MIN);
    assert_eq!(
        s.hooks()[3]["incident"],
        format!("cabot/web/{}", T0 + 20 * MIN)
    );
}

#[test]
fn no_alerts_decides_and_records_nothing() {
    let s = setup("error", "hook", "");
    s.target.set_up(false);
    assert_eq!(s.run_args(T0, &["run", "--no-alerts"]).code, 0);
    assert!(s.hooks().is_empty());
    assert_eq!(s.env.count("SELECT count(*) FROM alerts"), 0);
    s.run(T0 + MIN);
    assert_eq!(
        s.hook_kinds(),
        ["alert ERROR"],
        "the incident alerts once alerts are on"
    );
}

#[test]
fn ack_silences_repeats_until_it_expires_and_escalations_still_alert() {
    let s = setup("error", "hook", "");
    s.target.set_up(false);
    s.run(T0);
    let r = s.run_args(
        T0 + MIN,
        &[
            "ack", "web", "--for", "30m", "--by", "bob", "--note", "on it",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("acknowledged web (ERROR) until") && r.stdout.contains("by bob"),
        "{r:?}"
    );
    let st = s.run_args(T0 + 2 * MIN, &["status", "--json"]);
    let j: Value = serde_json::from_str(&st.stdout).expect("json");
    assert_eq!(j["services"][0]["acknowledged"]["by"], "bob");
    assert_eq!(j["services"][0]["acknowledged"]["note"], "on it");
    let human = s.run_args(T0 + 2 * MIN, &["status"]);
    assert!(
        human.stdout.contains("acknowledged by bob until"),
        "{human:?}"
    );

    s.run(T0 + 15 * MIN);
    s.run(T0 + 25 * MIN);
    assert_eq!(s.hook_kinds(), ["alert ERROR"], "acked: no repeats");
    s.run(T0 + 32 * MIN);
    assert_eq!(
        s.hook_kinds(),
        ["alert ERROR", "repeat ERROR"],
        "the ack expired"
    );

    // a new ack, then unack: alerts resume at once (the repeat interval has passed)
    assert_eq!(s.run_args(T0 + 33 * MIN, &["ack", "web"]).code, 0);
    s.run(T0 + 44 * MIN);
    assert_eq!(s.hook_kinds().len(), 2);
    let r = s.run_args(T0 + 45 * MIN, &["unack", "web"]);
    assert!(r.stdout.contains("acknowledgement removed"), "{r:?}");
    s.run(T0 + 46 * MIN);
    assert_eq!(s.hook_kinds().len(), 3);

    // recovery clears the ack
    assert_eq!(s.run_args(T0 + 47 * MIN, &["ack", "web"]).code, 0);
    s.target.set_up(true);
    s.run(T0 + 48 * MIN);
    assert_eq!(s.env.count("SELECT count(*) FROM acks"), 0);
    let r = s.run_args(T0 + 49 * MIN, &["ack", "web"]);
    assert_eq!(r.code, 64, "nothing to acknowledge: {r:?}");
    assert!(r.stderr.contains("web is PASSING"), "{r:?}");
    assert_eq!(s.run_args(T0, &["ack", "nope"]).code, 64);
}

#[test]
fn a_second_ack_is_refused_while_the_first_holds_unless_forced() {
    let s = setup("error", "hook", "");
    s.target.set_up(false);
    s.run(T0);
    let first = s.run_args(
        T0 + MIN,
        &[
            "ack",
            "web",
            "--for",
            "30m",
            "--by",
            "alice",
            "--note",
            "db restart",
        ],
    );
    assert_eq!(first.code, 0, "{first:?}");
    let second = s.run_args(T0 + 2 * MIN, &["ack", "web", "--by", "bob"]);
    assert_eq!(second.code, 64, "{second:?}");
    assert!(
        second
            .stderr
            .contains("web is already acknowledged by alice until ")
            && second.stderr.contains("(db restart)")
            && second.stderr.contains("--force"),
        "{second:?}"
    );
    let by = || -> String {
        s.env
            .db()
            .query_row("SELECT by FROM acks WHERE service = 'web'", [], |r| {
                r.get(0)
            })
            .expect("ack")
    };
    assert_eq!(by(), "alice", "the refused ack changed nothing");
    let forced = s.run_args(T0 + 3 * MIN, &["ack", "web", "--by", "bob", "--force"]);
    assert_eq!(forced.code, 0, "{forced:?}");
    assert_eq!(by(), "bob");
    // Once it expires, anyone may ack again.
    assert_eq!(
        s.run_args(T0 + 40 * MIN, &["ack", "web", "--by", "carol"])
            .code,
        0
    );
    assert_eq!(by(), "carol");
}

#[test]
fn an_ack_does_not_hide_an_escalation() {
    let s = setup("warning", "hook", "");
    s.target.set_up(false);
    s.run(T0);
    assert_eq!(s.run_args(T0 + MIN, &["ack", "web"]).code, 0);
    // the same check becomes critical: an escalation
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    s.env
        .write_config(&text.replace("importance: warning", "importance: critical"));
    s.run(T0 + 2 * MIN);
    assert_eq!(s.hook_kinds(), ["alert WARNING", "alert CRITICAL"]);
}

#[test]
fn silence_and_maintenance_mute_everything_while_checks_keep_running() {
    let s = setup("error", "hook", "");
    let r = s.run_args(T0, &["silence", "web", "--for", "1h"]);
    assert_eq!(r.code, 0, "{r:?}");
    s.target.set_up(false);
    s.run(T0 + MIN);
    s.run(T0 + 20 * MIN);
    assert!(s.hooks().is_empty(), "silenced");
    assert_eq!(
        s.env.count("SELECT count(*) FROM results"),
        2,
        "checks kept running"
    );
    let st = s.run_args(T0 + 21 * MIN, &["status"]);
    assert!(st.stdout.contains("silenced until"), "{st:?}");
    s.run(T0 + 61 * MIN);
    assert_eq!(
        s.hook_kinds(),
        ["alert ERROR"],
        "the silence is over and the incident is news"
    );
    assert_eq!(
        s.hooks()[0]["previous_status"],
        "PASSING",
        "the status before the incident, not the ERROR it had when the silence ended"
    );
    assert_eq!(
        s.run_args(T0 + 62 * MIN, &["silence", "web", "--for", "1h"])
            .code,
        0
    );
    assert!(
        s.run_args(T0 + 63 * MIN, &["unsilence", "web"])
            .stdout
            .contains("silence removed")
    );

    // A weekly window: Sundays from 23:00 for 2 hours, UTC. T0 is a Friday.
    let m = setup(
        "error",
        "hook",
        "maintenance:\n  - { services: [web], days: [sun], start: '23:00', duration: 2h, time_zone: UTC }\n",
    );
    let sunday_2330 = 1_800_228_600;
    let weekday = time_weekday(sunday_2330);
    assert_eq!(weekday, "Sun 23:30", "test clock");
    m.target.set_up(false);
    m.run(sunday_2330);
    assert!(m.hooks().is_empty(), "inside the window");
    let st = m.run_args(sunday_2330 + MIN, &["status", "--json"]);
    let j: Value = serde_json::from_str(&st.stdout).expect("json");
    assert_eq!(j["services"][0]["in_maintenance"], true);
    m.run(sunday_2330 + 95 * MIN);
    assert_eq!(
        m.hook_kinds(),
        ["alert ERROR"],
        "after the window (01:05 Monday)"
    );
}

/// "Sun 23:30" for a Unix time, in UTC, via the date command.
fn time_weekday(t: i64) -> String {
    let out = std::process::Command::new("date")
        .args(["-u", "-d", &format!("@{t}"), "+%a %H:%M"])
        .output()
        .expect("date");
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

#[test]
fn both_providers_down_keeps_the_alert_and_delivers_it_once_when_they_are_back() {
    let s = setup("error", "sms", "");
    s.twilio.set(FAIL);
    s.plivo.set(FAIL);
    s.target.set_up(false);
    let r = s.run(T0);
    assert_eq!(r.code, 0, "the run completed: {r:?}");
    assert!(
        r.stderr
            .contains("not delivered to sms (+15551230001), will retry"),
        "{r:?}"
    );
    let j: Value =
        serde_json::from_str(&s.run_args(T0 + 1, &["status", "--json"]).stdout).expect("json");
    assert_eq!(j["alerts"]["undelivered"], 1);
    // before the backoff (1m) nothing is retried
    s.run(T0 + 30);
    assert_eq!(s.env.count("SELECT count(*) FROM attempts"), 2);
    s.twilio.set(OK);
    s.plivo.set(OK);
    let before = s.twilio.requests().len();
    s.run(T0 + 2 * MIN);
    s.run(T0 + 3 * MIN);
    s.run(T0 + 4 * MIN);
    let sent: Vec<Seen> = s.twilio.requests()[before..].to_vec();
    assert_eq!(sent.len(), 1, "delivered exactly once");
    assert!(form(&sent[0].body)["Body"].starts_with("cabot: web ERROR"));
    let j: Value = serde_json::from_str(&s.run_args(T0 + 5 * MIN, &["status", "--json"]).stdout)
        .expect("json");
    assert_eq!(j["alerts"]["undelivered"], 0);
}

#[test]
fn an_alert_whose_next_try_was_set_on_a_clock_ahead_is_tried_when_the_clock_goes_back() {
    const AHEAD: i64 = 3600;
    let s = setup("error", "sms", "");
    s.twilio.set(FAIL);
    s.plivo.set(FAIL);
    s.target.set_up(false);
    // On a clock an hour ahead: the alert fails, its next try is set on that clock.
    let r = s.run(T0 + AHEAD);
    assert!(r.stderr.contains("will retry"), "{r:?}");
    // NTP steps the clock back, the providers are back: it goes out now, not in an hour.
    s.twilio.set(OK);
    s.plivo.set(OK);
    let before = s.twilio.requests().len();
    let r = s.run(T0 + MIN);
    assert!(r.stderr.contains("the clock went back"), "{r:?}");
    let sent: Vec<Seen> = s.twilio.requests()[before..].to_vec();
    assert_eq!(sent.len(), 1, "delivered once: {r:?}");
    assert!(form(&sent[0].body)["Body"].starts_with("cabot: web ERROR"));
    s.run(T0 + 2 * MIN);
    assert_eq!(s.twilio.requests().len(), before + 1, "and only once");
}

#[test]
fn undelivered_alerts_are_given_up_after_give_up_after() {
    let s = setup("error", "sms", "alerting: { give_up_after: 1h }\n");
    s.twilio.set(FAIL);
    s.plivo.set(FAIL);
    s.target.set_up(false);
    s.run(T0);
    s.run(T0 + 2 * MIN);
    let r = s.run(T0 + 61 * MIN);
    assert!(r.stderr.contains("gave up on alert"), "{r:?}");
    let st = s.run_args(T0 + 62 * MIN, &["status"]);
    assert!(st.stdout.contains("1 given up"), "{st:?}");
    let j: Value = serde_json::from_str(&s.run_args(T0 + 62 * MIN, &["status", "--json"]).stdout)
        .expect("json");
    assert_eq!(j["alerts"]["given_up"], 1);
}

/// Service `web` (one http check of `target`) with no channel yet, a webhook channel
/// `hook` beside it; and the config, to which a test adds `channels: [hook]`.
fn web_without_a_channel() -> (HttpServer, Target, Env, String) {
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let target = Target::new();
    let without = format!(
        "channels:
  hook: {{ type: webhook, url: '{}' }}
services:
  - name: web
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        hook.url("/hook"),
        target.url()
    );
    let env = Env::new(&without);
    (hook, target, env, without)
}

#[test]
fn no_recovery_for_an_incident_that_alerted_nobody() {
    let (hook, target, env, without) = web_without_a_channel();
    // Failing before the service has a channel: nobody is told.
    target.set_up(false);
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    assert_eq!(env.cabot_at(T0 + MIN, &["run"]).code, 0);
    // Given a channel while it recovers: no "back to normal" for news nobody had.
    env.write_config(&without.replace("  - name: web\n", "  - name: web\n    channels: [hook]\n"));
    target.set_up(true);
    assert_eq!(env.cabot_at(T0 + 2 * MIN, &["run"]).code, 0);
    assert!(hook.requests().is_empty(), "{:?}", hook.requests());
    // Failing again with the channel: told at once, and then of the recovery.
    target.set_up(false);
    env.cabot_at(T0 + 3 * MIN, &["run"]);
    target.set_up(true);
    env.cabot_at(T0 + 4 * MIN, &["run"]);
    let kinds: Vec<String> = hook
        .requests()
        .iter()
        .map(|r| {
            let a: Value = serde_json::from_str(&r.body).unwrap_or_default();
            a["kind"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(kinds, ["alert", "recovery"]);
}

#[test]
fn a_channel_added_to_a_failing_service_is_told_at_once() {
    let (hook, target, env, without) = web_without_a_channel();
    target.set_up(false);
    env.cabot_at(T0, &["run"]);
    env.write_config(&without.replace("  - name: web\n", "  - name: web\n    channels: [hook]\n"));
    env.cabot_at(T0 + MIN, &["run"]);
    assert_eq!(
        hook.requests().len(),
        1,
        "the failure, not ten minutes later"
    );
}
