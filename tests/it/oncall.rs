//! Duty rotas: the user on duty is told (and the next week the next one), `cabot oncall`
//! says who is on duty and from where, an empty rota falls back, and `validate` refuses
//! rotas that cannot work.

use serde_json::Value;

use crate::alerts::FakeApi;
use crate::support::*;

/// Monday 2026-11-23 12:00 UTC: three hours into a week that began at the 09:00 handoff.
const MONDAY: i64 = 1_795_435_200;
const WEEK: i64 = 7 * 86_400;

fn config(slack: &str, target: &str, rota_users: &str) -> String {
    format!(
        "users:
  alice: {{ slack: U0ALICE01 }}
  bob: {{ slack: U0BOB0001 }}
  carol: {{ slack: U0CAROL01 }}
channels:
  chat: {{ type: slack, webhook_url: '{slack}/services/T0/B0/secret' }}
oncall:
  ops: {{ users: {rota_users}, handoff: 'mon 09:00', time_zone: Europe/London, fallback: carol }}
services:
  - name: web
    oncall: ops
    channels: [chat]
    checks:
      - {{ name: home, type: http, url: '{target}' }}
"
    )
}

/// The text of each message the fake Slack accepted.
pub(crate) fn mentioned(slack: &FakeApi) -> Vec<String> {
    slack
        .requests()
        .iter()
        .filter_map(|r| serde_json::from_str::<Value>(&r.body).ok())
        .map(|b| b["text"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn the_user_on_duty_is_told_and_next_week_the_next_one() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&config(&slack.url(), &target.url(), "[alice, bob]"));
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 60, &["run"]).code, 0);
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY + 120, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + WEEK, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 3, "alert, recovery, alert: {texts:#?}");
    let first = if texts[0].contains("<@U0ALICE01>") {
        "U0ALICE01"
    } else {
        "U0BOB0001"
    };
    let second = if first == "U0ALICE01" {
        "U0BOB0001"
    } else {
        "U0ALICE01"
    };
    assert!(texts[0].contains(&format!("<@{first}>")), "{texts:#?}");
    assert!(
        !texts[0].contains(&format!("<@{second}>")),
        "only who is on duty: {texts:#?}"
    );
    assert!(
        texts[2].contains(&format!("<@{second}>")),
        "a week on, the other: {texts:#?}"
    );
    assert!(
        !texts.iter().any(|t| t.contains("U0CAROL01")),
        "the fallback is not needed"
    );

    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert_eq!(r.code, 0, "{r:?}");
    let name = |id: &str| if id == "U0ALICE01" { "alice" } else { "bob" };
    assert!(
        r.stdout.starts_with(&format!(
            "ops: {} on duty now (rotation), until 2026-11-30 09:00 GMT\n",
            name(first)
        )),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(&format!(
            "  2026-11-30 09:00 GMT -> 2026-12-07 09:00 GMT  {} (rotation)\n",
            name(second)
        )),
        "the next 7 days, the last shift to its real end: {r:?}"
    );
    assert!(!r.stdout.contains("warning"), "{r:?}");
}

#[test]
fn an_empty_rota_falls_back_and_says_so() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&config(&slack.url(), &target.url(), "[]"));
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].contains("<@U0CAROL01>"),
        "the fallback is told: {texts:#?}"
    );
    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: carol on duty now (fallback)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("warning: ops yields nobody from "),
        "{r:?}"
    );
}

#[test]
fn validate_refuses_rotas_that_cannot_work() {
    let env = Env::new(
        "users:
  alice: { email: alice@example.com }
oncall:
  ops: { users: [alice, zed], handoff: 'someday', time_zone: Mars/Olympus }
  sre: { users: [alice], fallback: nobody }
services:
  - name: web
    oncall: opz
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    for want in [
        "oncall.ops.users: no user named 'zed'",
        "oncall.ops.fallback: a rota needs a fallback user",
        "oncall.ops.handoff: 'someday' is not a weekly handoff like \"mon 09:00\"",
        "oncall.ops.time_zone: unknown time zone 'Mars/Olympus'",
        "oncall.sre.fallback: no user named 'nobody'",
        "services[web].oncall: no rota named 'opz'; did you mean 'ops'?",
    ] {
        assert!(r.stderr.contains(want), "lacks {want:?}:\n{}", r.stderr);
    }
    assert!(
        r.stderr
            .lines()
            .filter(|l| l.contains("oncall"))
            .all(|l| l.contains(".yaml:")),
        "{}",
        r.stderr
    );
}

fn escalating(slack: &str, target: &str) -> String {
    format!(
        "users:
  alice: {{ slack: U0ALICE01 }}
  bob: {{ slack: U0BOB0001 }}
  carol: {{ slack: U0CAROL01 }}
channels:
  chat: {{ type: slack, webhook_url: '{slack}/services/T0/B0/secret' }}
oncall:
  ops: {{ users: [alice], fallback: alice }}
services:
  - name: web
    oncall: ops
    channels: [chat]
    escalation:
      - {{ after: 0m, notify: oncall }}
      - {{ after: 10m, notify: [bob] }}
      - {{ after: 20m, notify: [carol] }}
    checks:
      - {{ name: home, type: http, url: '{target}', importance: warning }}
"
    )
}

#[test]
fn unacknowledged_incidents_escalate_step_by_step_and_recovery_reaches_everyone_told() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&escalating(&slack.url(), &target.url()));
    target.set_up(false);
    for minute in [0, 5, 10, 15] {
        assert_eq!(
            env.cabot_at(MONDAY + minute * 60, &["run", "--all"]).code,
            0
        );
    }
    let status = env.cabot_at(MONDAY + 15 * 60, &["status"]);
    assert!(status.stdout.contains("  on call: alice\n"), "{status:?}");
    assert!(
        status
            .stdout
            .contains("  escalation: step 2 of 3 reached\n"),
        "{status:?}"
    );
    let payloads: Vec<Value> = {
        let db = env.db();
        let mut stmt = db
            .prepare("SELECT payload FROM alerts ORDER BY id")
            .expect("alerts");
        stmt.query_map([], |r| r.get::<_, String>(0))
            .expect("query")
            .filter_map(|p| p.ok().and_then(|p| serde_json::from_str(&p).ok()))
            .collect()
    };
    assert_eq!(payloads[0]["on_call"], "alice", "{payloads:#?}");
    assert_eq!(
        payloads[1]["escalation"],
        serde_json::json!({"reached": 2, "steps": 3})
    );
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY + 16 * 60, &["run", "--all"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 3, "alert, escalation, recovery: {texts:#?}");
    assert!(
        texts[0].contains("<@U0ALICE01>") && !texts[0].contains("U0BOB0001"),
        "{texts:#?}"
    );
    assert!(
        texts[1].contains("<@U0BOB0001>") && !texts[1].contains("U0ALICE01"),
        "step 2 tells bob alone: {texts:#?}"
    );
    assert!(
        texts[2].contains("<@U0ALICE01>")
            && texts[2].contains("<@U0BOB0001>")
            && !texts[2].contains("U0CAROL01"),
        "the recovery reaches everyone told, and not carol, whose step never came: {texts:#?}"
    );
}

#[test]
fn an_ack_stops_the_escalation() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&escalating(&slack.url(), &target.url()));
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run", "--all"]).code, 0);
    assert_eq!(
        env.cabot_at(
            MONDAY + 60,
            &["ack", "web", "--for", "30m", "--by", "alice"]
        )
        .code,
        0
    );
    for minute in [10, 20, 25] {
        assert_eq!(
            env.cabot_at(MONDAY + minute * 60, &["run", "--all"]).code,
            0
        );
    }
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "acked: no step fires: {texts:#?}");
    // The ack ends at 31m: the steps due fire together, to bob and carol.
    assert_eq!(env.cabot_at(MONDAY + 32 * 60, &["run", "--all"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[1].contains("<@U0BOB0001>") && texts[1].contains("<@U0CAROL01>"),
        "{texts:#?}"
    );
}

#[test]
fn a_silence_holds_the_escalation_and_the_step_due_fires_when_it_ends() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&escalating(&slack.url(), &target.url()));
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run", "--all"]).code, 0);
    let silenced = env.cabot_at(MONDAY + 60, &["silence", "web", "--for", "15m"]);
    assert_eq!(silenced.code, 0, "{silenced:?}");
    for minute in [10, 12, 15] {
        assert_eq!(
            env.cabot_at(MONDAY + minute * 60, &["run", "--all"]).code,
            0
        );
    }
    assert_eq!(mentioned(&slack).len(), 1, "muted: bob's step waits");
    // The silence ends at 16m, the incident still fails: bob's step (due at 10m) fires.
    assert_eq!(env.cabot_at(MONDAY + 17 * 60, &["run", "--all"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[1].contains("<@U0BOB0001>") && !texts[1].contains("U0CAROL01"),
        "{texts:#?}"
    );
}

#[test]
fn validate_refuses_escalations_that_cannot_work() {
    let env = Env::new(
        "users:
  alice: { email: alice@example.com }
channels:
  mail: { type: email, from: cabot@example.com, servers: [ { url: 'smtp://127.0.0.1:25' } ] }
services:
  - name: web
    channels: [mail]
    escalation:
      - { after: 10m, notify: oncall }
      - { after: 5m, notify: [alic], channels: [sms] }
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    for want in [
        "escalation[0].notify: 'oncall' needs the service to name a rota",
        "escalation[1].after: steps go in order",
        "escalation[1].notify: no user named 'alic'; did you mean 'alice'?",
        "escalation[1].channels: no channel named 'sms'",
    ] {
        assert!(r.stderr.contains(want), "lacks {want:?}:\n{}", r.stderr);
    }
}

#[test]
fn an_override_puts_someone_else_on_duty_for_a_while() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&config(&slack.url(), &target.url(), "[alice, bob]"));
    let r = env.cabot_at(
        MONDAY,
        &[
            "oncall", "override", "ops", "carol", "--for", "8h", "--by", "alice",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "carol on duty for ops until 2026-11-23 20:00 GMT\n"
    );
    let now = env.cabot_at(MONDAY + 60, &["oncall"]);
    assert!(
        now.stdout
            .starts_with("ops: carol on duty now (override), until 2026-11-23 20:00 GMT\n"),
        "the override's own end, not the week's: {now:?}"
    );
    assert!(
        now.stdout.contains(
            "  override: carol from 2026-11-23 12:00 GMT to 2026-11-23 20:00 GMT (by alice)"
        ),
        "{now:?}"
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 120, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].contains("<@U0CAROL01>") && !texts[0].contains("U0ALICE01"),
        "{texts:#?}"
    );
    // Eight hours on, the rotation again.
    let later = env.cabot_at(MONDAY + 8 * 3600, &["oncall"]);
    assert!(later.stdout.contains("on duty now (rotation)"), "{later:?}");
    assert!(!later.stdout.contains("override:"), "{later:?}");

    for (args, why) in [
        (
            &["oncall", "override", "sre", "carol", "--for", "1h"][..],
            "no rota named 'sre'",
        ),
        (
            &["oncall", "override", "ops", "zed", "--for", "1h"],
            "no user named 'zed'",
        ),
        (
            &["oncall", "override", "ops", "carol", "--for", "31d"],
            "at most 30d",
        ),
    ] {
        let r = env.cabot_at(MONDAY, args);
        assert_eq!(r.code, 64, "{args:?}: {r:?}");
        assert!(r.stderr.contains(why), "{args:?}: {r:?}");
    }
}

#[test]
fn a_recovery_after_a_handoff_reaches_who_was_on_duty_when_it_began_too() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&config(&slack.url(), &target.url(), "[alice, bob]"));
    // 08:00 on the Monday, an hour before the handoff; fixed at noon, after it.
    let before_handoff = MONDAY - 4 * 3600;
    target.set_up(false);
    assert_eq!(env.cabot_at(before_handoff, &["run"]).code, 0);
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    let alerted = if texts[0].contains("U0ALICE01") {
        "U0ALICE01"
    } else {
        "U0BOB0001"
    };
    let now_on = if alerted == "U0ALICE01" {
        "U0BOB0001"
    } else {
        "U0ALICE01"
    };
    assert!(
        !texts[0].contains(now_on),
        "one user on duty at 08:00: {texts:#?}"
    );
    assert!(
        texts[1].contains(&format!("<@{alerted}>")) && texts[1].contains(&format!("<@{now_on}>")),
        "the recovery reaches the one alerted and the one on duty now: {texts:#?}"
    );
}

/// A rota calendar as a calendar program exports it: alice and bob each on duty for a week
/// every other week from Monday 09:00 New York time (the clocks change on 1 November),
/// bob's week of 7 December taken out, and a line folded as RFC 5545 folds long ones.
const CALENDAR: &str = "BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//cabot tests//EN\r
BEGIN:VTIMEZONE\r
TZID:America/New_York\r
END:VTIMEZONE\r
BEGIN:VEVENT\r
UID:alice-weeks@test\r
DTSTAMP:20261001T000000Z\r
SUMMARY:Alice\r
DTSTART;TZID=America/New_York:20261019T090000\r
DTEND;TZID=America/New_York:20261026T090000\r
RRULE:FREQ=WEEKLY;INTERVAL=2\r
END:VEVENT\r
BEGIN:VEVENT\r
UID:bob-weeks@test\r
DTSTAMP:20261001T000000Z\r
SUMMARY:bob\r
DESCRIPTION:Primary on call. Escalations go to the team lead after twenty minu\r
 tes without an acknowledgement.\r
DTSTART;TZID=America/New_York:20261026T090000\r
DTEND;TZID=America/New_York:20261102T090000\r
RRULE:FREQ=WEEKLY;INTERVAL=2\r
EXDATE;TZID=America/New_York:20261207T090000\r
END:VEVENT\r
END:VCALENDAR\r
";

fn calendar_config(slack: &str, target: &str, source: &str) -> String {
    format!(
        "users:
  alice: {{ slack: U0ALICE01 }}
  bob: {{ slack: U0BOB0001 }}
  carol: {{ slack: U0CAROL01 }}
channels:
  chat: {{ type: slack, webhook_url: '{slack}/services/T0/B0/secret' }}
oncall:
  ops: {{ {source}, time_zone: America/New_York, fallback: carol }}
services:
  - name: web
    oncall: ops
    channels: [chat]
    checks:
      - {{ name: home, type: http, url: '{target}' }}
"
    )
}

/// 2026-12-08 12:00 UTC: in bob's week of 7 December, which the calendar takes out.
const DECEMBER_8: i64 = MONDAY + 15 * 86_400;

#[test]
fn a_calendar_over_https_names_who_is_on_duty_and_its_copy_outlives_it() {
    let ca = certs::ca();
    let leaf = certs::leaf(&["127.0.0.1"], Some(&ca), None);
    let up = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
    let serving = std::sync::Arc::clone(&up);
    let body = std::sync::Arc::new(std::sync::Mutex::new(CALENDAR.to_string()));
    let served = std::sync::Arc::clone(&body);
    let server = certs::https_serving(&leaf, move |head| {
        let right = head.starts_with("GET /private-s3cr3t/basic.ics ");
        match serving.load(std::sync::atomic::Ordering::SeqCst) && right {
            true => (200, served.lock().unwrap().as_bytes().to_vec()),
            false => (404, b"Not Found".to_vec()),
        }
    });
    let slack = FakeApi::slack();
    let target = Target::new();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
    let source = format!(
        "ical_url: 'https://{}/private-s3cr3t/basic.ics', ca_file: '{}'",
        server.addr,
        dir.path().join("ca.pem").display()
    );
    let env = Env::new(&calendar_config(&slack.url(), &target.url(), &source));

    // Monday 23 November 07:00 in New York: alice's week until 09:00, then bob's.
    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(
            "ops: alice on duty now (calendar), until 2026-11-23 09:00 EST\n\
             \x20 from the calendar at https://127.0.0.1:"
        ),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("  2026-11-23 09:00 EST -> 2026-11-30 09:00 EST  bob (calendar)\n"),
        "the shift to its real end, past the week: {r:?}"
    );
    assert!(!r.stdout.contains("s3cr3t"), "the address's secret: {r:?}");

    target.set_up(false);
    let run = env.cabot_at(MONDAY, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        env.count("SELECT count(*) FROM oncall_calendars WHERE body IS NOT NULL"),
        1
    );

    // The week taken out: nobody from the calendar, so the fallback.
    let r = env.cabot_at(DECEMBER_8, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: carol on duty now (fallback)"),
        "{r:?}"
    );

    // The calendar changes: within its `refresh` (10 minutes) `cabot run` uses the copy it
    // read, and so does `cabot oncall`, so the two never name different people.
    let changed = CALENDAR.replace("SUMMARY:Alice", "SUMMARY:carol");
    assert_ne!(changed, CALENDAR);
    *body.lock().unwrap() = changed;
    let r = env.cabot_at(MONDAY + 60, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: alice on duty now (calendar)"),
        "{r:?}"
    );
    *body.lock().unwrap() = CALENDAR.to_string();

    // The calendar goes away: the copy kept by the run still names who is on duty.
    up.store(false, std::sync::atomic::Ordering::SeqCst);
    let r = env.cabot_at(MONDAY + 11 * 60, &["oncall"]);
    assert!(
        r.stdout
            .starts_with("ops: alice on duty now (cached calendar)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "could not be read: it answered HTTP 404; the copy read 2026-11-23 07:00 EST is in use"
        ),
        "{r:?}"
    );
    drop(server);
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY + 3_600, &["run"]).code, 0);
    target.set_up(false);
    // 15:00 UTC is 10:00 in New York: bob's week, from the copy.
    let run = env.cabot_at(MONDAY + 3 * 3_600, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr
            .contains("cabot: oncall.ops: the calendar at https://127.0.0.1:")
            && run.stderr.contains("using the copy read"),
        "{run:?}"
    );
    assert!(!run.stderr.contains("s3cr3t"), "{run:?}");
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 3, "alert, recovery, alert: {texts:#?}");
    assert!(texts[0].contains("<@U0ALICE01>"), "{texts:#?}");
    assert!(
        texts[2].contains("<@U0BOB0001>") && !texts[2].contains("U0ALICE01"),
        "{texts:#?}"
    );
    assert!(!texts.iter().any(|t| t.contains("U0CAROL01")), "{texts:#?}");
    let status = env.cabot_at(MONDAY + 3 * 3_600, &["status"]);
    assert!(
        status.stdout.contains(
            "  on call: bob (from the kept copy of its calendar, read 2026-11-23T12:00:00Z: \
             the calendar could not be read since: cannot connect to 127.0.0.1:"
        ),
        "{status:?}"
    );
}

/// A rota read from a calendar file holding `text`: the fake Slack, the target, the
/// folder the file is in (kept alive), the file, and the env.
fn calendar_file(text: &str) -> (FakeApi, Target, tempfile::TempDir, std::path::PathBuf, Env) {
    calendar_file_with(text, |config| config)
}

/// `calendar_file`, with the config changed by `edit` first.
fn calendar_file_with(
    text: &str,
    edit: impl Fn(String) -> String,
) -> (FakeApi, Target, tempfile::TempDir, std::path::PathBuf, Env) {
    let slack = FakeApi::slack();
    let target = Target::new();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ops.ics");
    std::fs::write(&file, text).unwrap();
    let source = format!("ical_file: '{}'", file.display());
    let env = Env::new(&edit(calendar_config(&slack.url(), &target.url(), &source)));
    (slack, target, dir, file, env)
}

#[test]
fn a_calendar_file_is_read_and_a_broken_one_keeps_the_last_good_copy() {
    let (slack, target, _dir, file, env) = calendar_file(CALENDAR);
    assert_eq!(env.cabot(&["validate"]).code, 0);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let r = env.cabot_at(MONDAY + 3 * 3_600, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: bob on duty now (calendar)"),
        "{r:?}"
    );

    // Saved half-way by an editor: not a calendar. The copy the run kept stands in.
    std::fs::write(&file, "BEGIN:VCALENDAR\r\nBEGIN:VEVENT\r\nSUMMARY:al").unwrap();
    let r = env.cabot_at(MONDAY + 3 * 3_600, &["oncall"]);
    assert!(
        r.stdout
            .starts_with("ops: bob on duty now (cached calendar)"),
        "{r:?}"
    );
    assert!(r.stdout.contains("not an iCalendar"), "{r:?}");
    let v = env.cabot(&["validate"]);
    assert!(
        v.stderr.contains("oncall.ops.ical_file: warning: ")
            && v.stderr
                .contains("ops.ics cannot be used: not an iCalendar"),
        "{v:?}"
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 3 * 3_600, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(texts[0].contains("<@U0BOB0001>"), "{texts:#?}");

    // A calendar file that is gone: validate warns at its line; a run goes on with the copy.
    std::fs::remove_file(&file).unwrap();
    let v = env.cabot(&["validate"]);
    assert_eq!(v.code, 0, "{v:?}");
    assert!(
        v.stderr
            .contains(":9:21: oncall.ops.ical_file: warning: cannot read "),
        "{v:?}"
    );
    let run = env.cabot_at(MONDAY + 4 * 3_600, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    let r = env.cabot_at(MONDAY + 4 * 3_600, &["status"]);
    assert!(r.stdout.contains("on call: bob"), "{r:?}");
}

#[test]
fn a_calendar_file_that_is_a_fifo_holds_up_nothing() {
    let (slack, target, _dir, file, env) = calendar_file(CALENDAR);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    // Replaced by a FIFO nobody writes to: opening it would wait for ever.
    std::fs::remove_file(&file).unwrap();
    let made = std::process::Command::new("mkfifo")
        .arg(&file)
        .status()
        .unwrap();
    assert!(made.success());
    let started = std::time::Instant::now();
    let v = env.cabot(&["validate"]);
    assert!(
        v.stderr.contains("cannot read ") && v.stderr.contains("it is not a regular file"),
        "{v:?}"
    );
    target.set_up(false);
    let run = env.cabot_at(MONDAY + 3 * 3_600, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(run.stderr.contains("it is not a regular file"), "{run:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let texts = mentioned(&slack);
    assert!(
        texts[0].contains("<@U0BOB0001>"),
        "the kept copy: {texts:#?}"
    );
}

#[test]
fn a_calendar_that_names_nobody_falls_back_and_says_which_event() {
    let (slack, target, _dir, _, env) = calendar_file(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nSUMMARY:Team offsite\r\n\
         DTSTART;VALUE=DATE:20261123\r\nDTEND;VALUE=DATE:20261124\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert!(texts[0].contains("<@U0CAROL01>"), "{texts:#?}");
    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: carol on duty now (fallback)"),
        "{r:?}"
    );
    assert!(
        r.stdout.contains(
            "warning: none of its 1 events names a user (the first: 'Team offsite' of 2026-11-23)"
        ),
        "{r:?}"
    );
    assert!(
        r.stdout.contains("warning: ops yields nobody from"),
        "{r:?}"
    );
}

fn post(server: &StatusServer, path: &str) -> Answer {
    server.request(
        format!(
            "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .as_bytes(),
    )
}

/// The ack link in a Slack message: `<URL|Acknowledge>`, its path from `/ack/`.
fn ack_path(text: &str) -> String {
    let start = text
        .find("<https://status.example.com/ack/")
        .expect("an ack link")
        + 1;
    let url = &text[start..start + text[start..].find('|').expect("|")];
    url.trim_start_matches("https://status.example.com")
        .to_string()
}

/// A service on a rota of alice alone, with ack links on: the fake Slack, the target, env.
fn with_ack_links() -> (FakeApi, Target, Env) {
    let slack = FakeApi::slack();
    let target = Target::new();
    let config = config(&slack.url(), &target.url(), "[alice]").replace(
        "users:\n",
        "status: { public_url: 'https://status.example.com', ack_secret_file: ack.key }\nusers:\n",
    );
    let env = Env::new(&config);
    std::fs::write(
        env.path("ack.key"),
        "kX3v0c7Qm2Jd9sWqYp1LrT8uHa5NeBfZ6gCy4iVoKjM=\n",
    )
    .unwrap();
    (slack, target, env)
}

#[test]
fn an_ack_link_leaves_someone_elses_ack_alone_and_dies_with_its_incident() {
    let (slack, target, env) = with_ack_links();
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let path = ack_path(&mentioned(&slack)[0]);
    let acked = env.cabot_at(MONDAY + 30, &["ack", "web", "--by", "bob"]);
    assert_eq!(acked.code, 0, "{acked:?}");

    let server = StatusServer::start(&env, Some(MONDAY + 60));
    let held = post(&server, &path);
    assert_eq!(held.status, 200, "{held:?}");
    assert!(
        held.body.contains("web was already acknowledged") && held.body.contains("By bob"),
        "{held:?}"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM acks WHERE by = 'bob'"),
        1,
        "bob's ack stands"
    );
    assert_eq!(
        env.count("SELECT count(*) FROM ack_links_used"),
        0,
        "the link is not spent"
    );
    drop(server);

    // Recovered: the link, never used, now does nothing.
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY + 120, &["run"]).code, 0);
    let server = StatusServer::start(&env, Some(MONDAY + 180));
    let over = post(&server, &path);
    over.says(404, "This incident is over");
    let page = server.get(&path);
    page.says(404, "This incident is over"); // GET says so too
}

#[test]
fn an_ack_link_acknowledges_on_post_only_once_and_refuses_forged_and_expired_ones() {
    let (slack, target, env) = with_ack_links();
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    let path = ack_path(&texts[0]);
    let acks = || env.count("SELECT count(*) FROM acks");

    let server = StatusServer::start(&env, Some(MONDAY + 60));
    // A link preview (GET, HEAD) sees what it would do and does nothing.
    let page = server.get(&path);
    page.says(200, "<h1>Acknowledge web?</h1>");
    assert!(page.body.contains("<form method=\"post\">"), "{page:?}");
    assert!(
        page.headers
            .iter()
            .any(|(k, v)| k.eq_ignore_ascii_case("referrer-policy") && v == "no-referrer"),
        "the token is not passed on: {page:?}"
    );
    assert_eq!(server.request(&request("HEAD", &path)).status, 200);
    assert_eq!(acks(), 0, "GET does not acknowledge");

    // Forged: another service in the claim, the tag kept; or a tag changed.
    let token = path.trim_start_matches("/ack/");
    let (_, tag) = token.split_once('.').unwrap();
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let claim: Value =
        serde_json::from_slice(&b64.decode(token.split_once('.').unwrap().0).unwrap()).unwrap();
    assert_eq!(claim[0], "web", "{claim}");
    let mut other = claim.clone();
    other[0] = "db".into();
    let forged = format!("/ack/{}.{tag}", b64.encode(other.to_string()));
    assert_eq!(post(&server, &forged).status, 404);
    let mut longer = claim.clone();
    longer[3] = (claim[3].as_i64().unwrap() + 86_400 * 365).into();
    let extended = format!("/ack/{}.{tag}", b64.encode(longer.to_string()));
    assert_eq!(post(&server, &extended).status, 404);
    let flipped = format!(
        "{}{}",
        &path[..path.len() - 1],
        if path.ends_with('A') { "B" } else { "A" }
    );
    assert_eq!(post(&server, &flipped).status, 404);
    assert_eq!(acks(), 0);

    // POST acknowledges, once.
    let done = post(&server, &path);
    done.says(200, "web is acknowledged");
    assert_eq!(
        env.count("SELECT count(*) FROM acks WHERE service = 'web' AND by = 'alice'"),
        1
    );
    let again = post(&server, &path);
    again.says(404, "This link has been used");
    let shown = server.get(&path);
    shown.says(404, "This link has been used"); // no button for a used link
    let status = env.cabot_at(MONDAY + 120, &["status"]);
    assert!(
        status.stdout.contains("acknowledged by alice"),
        "{status:?}"
    );
    drop(server);

    // A day after its alert, the link is dead.
    let later = StatusServer::start(&env, Some(MONDAY + 86_400 + 1));
    let expired = later.get(&path);
    expired.says(404, "expired");

    // Guessing is held back: after ten wrong tokens in a minute, 429 before any check.
    let codes: Vec<u16> = (0..11)
        .map(|i| later.get(&format!("/ack/guess{i}.AAAA")).status)
        .collect();
    assert_eq!(codes[..10], [404; 10]);
    assert_eq!(codes[10], 429);
}

#[test]
fn validate_refuses_an_ack_key_that_is_short_or_missing() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let config = config(&slack.url(), &target.url(), "[alice]").replace(
        "users:\n",
        "status: { public_url: 'https://status.example.com', ack_secret_file: ack.key }\nusers:\n",
    );
    let env = Env::new(&config);
    let missing = env.cabot(&["validate"]);
    assert_eq!(missing.code, 78, "{missing:?}");
    assert!(
        missing
            .stderr
            .contains(":2:70: status.ack_secret_file: cannot read "),
        "{missing:?}"
    );
    std::fs::write(env.path("ack.key"), "short\n").unwrap();
    let short = env.cabot(&["validate"]);
    assert_eq!(short.code, 78, "{short:?}");
    assert!(
        short
            .stderr
            .contains("holds 5 bytes: an ack key needs at least 32"),
        "{short:?}"
    );
    assert!(!short.stderr.contains("short\n"), "the key is not shown");
}

#[test]
fn a_channel_naming_a_rota_always_reaches_who_is_on_duty() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let config = config(&slack.url(), &target.url(), "[alice, bob]")
        .replace("secret' }\n", "secret', oncall: ops }\n")
        .replace("    oncall: ops\n", "");
    assert!(config.contains("secret', oncall: ops }"), "{config}");
    let env = Env::new(&config);
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    let on_duty = env.cabot_at(MONDAY, &["oncall"]);
    let user = if on_duty.stdout.starts_with("ops: alice") {
        "U0ALICE01"
    } else {
        "U0BOB0001"
    };
    assert!(
        texts[0].contains(&format!("<@{user}>")),
        "the service names no one; the channel's rota does: {texts:#?} {on_duty:?}"
    );

    let broken = config.replace("secret', oncall: ops }", "secret', oncall: opz }");
    env.write_config(&broken);
    let v = env.cabot(&["validate"]);
    assert_eq!(v.code, 78, "{v:?}");
    assert!(
        v.stderr
            .contains("channels.chat.oncall: no rota named 'opz'; did you mean 'ops'?"),
        "{v:?}"
    );
}

#[test]
fn an_override_can_be_cancelled() {
    let slack = FakeApi::slack();
    let target = Target::new();
    let env = Env::new(&config(&slack.url(), &target.url(), "[alice, bob]"));
    let r = env.cabot_at(
        MONDAY,
        &["oncall", "override", "ops", "carol", "--for", "2h"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let r = env.cabot_at(MONDAY + 600, &["oncall", "override", "ops", "--cancel"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        r.stdout,
        "ops: 1 override ended; the rota's own schedule is in charge\n"
    );
    let now = env.cabot_at(MONDAY + 660, &["oncall"]);
    assert!(now.stdout.contains("on duty now (rotation)"), "{now:?}");
    assert!(!now.stdout.contains("carol"), "{now:?}");
    // A user and --cancel do not go together; without either it is a usage error.
    for args in [
        &["oncall", "override", "ops", "carol", "--cancel"][..],
        &["oncall", "override", "ops"][..],
    ] {
        assert_eq!(env.cabot_at(MONDAY, args).code, 64, "{args:?}");
    }
}

#[test]
fn an_ack_link_is_told_to_pagerduty_by_the_next_run() {
    let (slack, target, env) = with_ack_links();
    let pd = HttpServer::start(|_| {
        Reply::new(
            202,
            r#"{"status":"success","message":"Event processed","dedup_key":"k"}"#,
        )
    });
    let text = std::fs::read_to_string(env.config()).expect("config");
    env.write_config(
        &text
            .replace(
                "channels:\n",
                &format!(
                    "channels:\n  pd: {{ type: pagerduty, routing_key: e93facc04764012d7bfb002500d5d1a6, base_url: '{}' }}\n",
                    pd.url("")
                ),
            )
            .replace("channels: [chat]", "channels: [chat, pd]"),
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let path = ack_path(&mentioned(&slack)[0]);
    let server = StatusServer::start(&env, Some(MONDAY + 60));
    assert_eq!(post(&server, &path).status, 200);
    drop(server);
    let actions = |pd: &HttpServer| -> Vec<String> {
        pd.requests()
            .iter()
            .map(|r| {
                let e: Value = serde_json::from_str(&r.body).unwrap_or_default();
                e["event_action"].as_str().unwrap_or("").to_string()
            })
            .collect()
    };
    assert_eq!(
        actions(&pd),
        ["trigger"],
        "serve-status itself sends nothing"
    );
    assert_eq!(env.cabot_at(MONDAY + 120, &["run"]).code, 0);
    assert_eq!(actions(&pd), ["trigger", "acknowledge"]);
}

#[test]
fn a_calendar_that_does_not_answer_holds_only_its_own_rotas_alert_and_that_for_its_timeout() {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::{Arc, Mutex};
    let ca = certs::ca();
    let leaf = certs::leaf(&["127.0.0.1"], Some(&ca), None);
    let hang = Arc::new(AtomicBool::new(false));
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    let hanging = Arc::clone(&hang);
    let server = certs::https_serving(&leaf, move |_| {
        if hanging.load(Ordering::SeqCst) {
            // Answers nothing until the test is over.
            let _ = released
                .lock()
                .unwrap()
                .recv_timeout(std::time::Duration::from_secs(60));
            return (503, Vec::new());
        }
        (200, CALENDAR.as_bytes().to_vec())
    });
    let slack = FakeApi::slack();
    let (web, db) = (Target::new(), Target::new());
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("ca.pem"), &ca.pem).unwrap();
    let source = format!(
        "ical_url: 'https://{}/ops.ics', ca_file: '{}', timeout: 6s",
        server.addr,
        dir.path().join("ca.pem").display()
    );
    // `web` on the calendar rota, `db` on no rota; both alert into one chat.
    let db_service = format!(
        "  - name: db\n    channels: [chat]\n    checks:\n      - {{ name: port, type: http, url: '{}' }}\n",
        db.url()
    );
    let env = Env::new(&(calendar_config(&slack.url(), &web.url(), &source) + &db_service));
    // The first run keeps a copy of the calendar.
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);

    // Three hours on (its refresh long past) the calendar takes the request and never
    // answers; both services fail.
    hang.store(true, Ordering::SeqCst);
    web.set_up(false);
    db.set_up(false);
    let started = std::time::Instant::now();
    let run = env
        .command(&["run"])
        .env("CABOT_NOW", (MONDAY + 3 * 3_600).to_string())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let about = |service: &str| {
        mentioned(&slack)
            .into_iter()
            .filter(|t| t.contains(&format!("for service: {service}")))
            .collect::<Vec<_>>()
    };
    while about("db").is_empty() && started.elapsed() < std::time::Duration::from_secs(30) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    // db's alert, which no calendar decides, went before the calendar's 6 s were up.
    let db_alerted = started.elapsed();
    assert_eq!(about("db").len(), 1, "{:#?}", mentioned(&slack));
    assert!(
        db_alerted < std::time::Duration::from_secs(5),
        "db's alert waited {db_alerted:?} for a calendar that is not its own"
    );
    let out = run.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    // web's alert waited for its calendar, at most its timeout, then took the kept copy:
    // 15:00 UTC is 10:00 in New York, bob's week.
    let web_alerts = about("web");
    assert_eq!(web_alerts.len(), 1, "{:#?}", mentioned(&slack));
    assert!(web_alerts[0].contains("<@U0BOB0001>"), "{web_alerts:#?}");
    assert!(
        !about("db")[0].contains("<@U0"),
        "db has no rota: {:#?}",
        about("db")
    );
    assert!(
        stderr.contains("cabot: oncall.ops: the calendar at https://127.0.0.1:")
            && stderr.contains("using the copy read"),
        "{stderr}"
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(20));
    let _ = release.send(());
}

#[test]
fn an_unchanged_calendar_is_not_expanded_again_and_a_changed_one_is() {
    let (slack, target, _dir, file, env) = calendar_file(CALENDAR);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    assert_eq!(
        env.count("SELECT count(*) FROM oncall_calendars WHERE shifts LIKE '%\"bob\"%'"),
        1,
        "the expanded rota is kept"
    );
    // What is kept is what serves: with bob made carol in the kept shifts, and the file
    // as it was, a run uses the kept shifts (carol is told; bob would be if the calendar
    // were expanded again).
    env.db()
        .execute(
            "UPDATE oncall_calendars SET shifts = replace(shifts, '\"bob\"', '\"carol\"')",
            [],
        )
        .unwrap();
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 3 * 3_600, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 1, "{texts:#?}");
    assert!(
        texts[0].contains("<@U0CAROL01>") && !texts[0].contains("U0BOB0001"),
        "{texts:#?}"
    );
    // The file changes (bob's weeks now start an hour later): expanded again, bob again.
    std::fs::write(&file, CALENDAR.replace("T090000", "T100000")).unwrap();
    target.set_up(true);
    assert_eq!(env.cabot_at(MONDAY + 4 * 3_600, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 5 * 3_600, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 3, "alert, recovery, alert: {texts:#?}");
    assert!(texts[2].contains("<@U0BOB0001>"), "{texts:#?}");
    assert_eq!(
        env.count("SELECT count(*) FROM oncall_calendars WHERE shifts LIKE '%\"carol\"%'"),
        0
    );
}

/// PagerDuty's on-call feed as it publishes it: the person's name inside the summary, a
/// bare address as the attendee, and events of other people among them.
#[test]
fn pagerduty_s_on_call_feed_names_who_is_on_duty_without_editing() {
    let event = |uid: usize, day: u32, summary: &str, attendee: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:Q{uid}@pagerduty\r\nSUMMARY:{summary}\r\n\
             DTSTART:202611{day:02}T090000Z\r\nDTEND:202611{:02}T090000Z\r\n\
             ATTENDEE:{attendee}\r\nEND:VEVENT\r\n",
            day + 1
        )
    };
    let mut feed = String::from("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//PagerDuty//EN\r\n");
    feed.push_str(&event(
        1,
        23,
        "On Call - Alice Smith - Primary",
        "alice@example.com",
    ));
    feed.push_str(&event(
        2,
        24,
        "On Call - Robert Brown - Primary",
        "bob@example.com",
    ));
    // Someone cabot does not know, on the secondary layer: no warning for each of these.
    for day in 20..30 {
        feed.push_str(&event(
            10 + day as usize,
            day,
            "On Call - Dana Doe - Secondary",
            "dana@example.com",
        ));
    }
    feed.push_str("END:VCALENDAR\r\n");
    let (slack, target, _dir, _, env) = calendar_file_with(&feed, |config| {
        config
            .replace(
                "alice: { slack: U0ALICE01 }",
                "alice: { name: Alice Smith, slack: U0ALICE01 }",
            )
            .replace(
                "bob: { slack: U0BOB0001 }",
                "bob: { email: bob@example.com, slack: U0BOB0001 }",
            )
    });
    assert_eq!(env.cabot(&["validate"]).code, 0);
    let r = env.cabot_at(MONDAY + 3_600, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: alice on duty now (calendar)"),
        "{r:?}"
    );
    assert!(
        !r.stdout.contains("names"),
        "no warning about Dana's events: {r:?}"
    );
    let r = env.cabot_at(MONDAY + 86_400 + 3_600, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: bob on duty now (calendar)"),
        "{r:?}"
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY + 3_600, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert!(texts[0].contains("<@U0ALICE01>"), "{texts:#?}");
}

/// One event cabot cannot use (here Nextcloud's, ending before it starts, and a monthly
/// rule by position) leaves out only its own shifts: the rest of the calendar stays in
/// charge, and `validate` and `oncall` name the event.
#[test]
fn one_event_that_cannot_be_used_never_disables_the_rota() {
    let (slack, target, _dir, _, env) = calendar_file(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Nextcloud calendar//EN\r\n\
         BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:alice\r\nDTSTART:20261123T000000Z\r\n\
         DTEND:20261130T000000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:bob\r\nDTSTART:20261124T100000Z\r\n\
         DTEND:20261124T090000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:c\r\nSUMMARY:bob\r\nDTSTART:20261101T090000Z\r\n\
         DTEND:20261101T170000Z\r\nRRULE:FREQ=FORTNIGHTLY;BYDAY=FR\r\nEND:VEVENT\r\n\
         END:VCALENDAR\r\n",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr
            .contains("the event 'bob' is left out: it ends before it starts"),
        "{r:?}"
    );
    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: alice on duty now (calendar)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("warning: the event 'bob' is left out: RRULE: `FORTNIGHTLY` is not a valid frequency; the rest"),
        "{r:?}"
    );
    target.set_up(false);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    let texts = mentioned(&slack);
    assert!(texts[0].contains("<@U0ALICE01>"), "{texts:#?}");
}

#[test]
fn a_calendar_never_read_says_its_fallback_is_on_duty() {
    let (_slack, _target, _dir, _, env) = calendar_file("not a calendar at all");
    let r = env.cabot_at(MONDAY, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: carol on duty now (fallback)"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("; nobody is on duty from it: its fallback carol is on duty\n"),
        "{r:?}"
    );
}

/// Who `cabot oncall` has on duty for `ops` at each `(time, user)`.
fn assert_on_duty(env: &Env, expected: &[(&str, &str)]) {
    for (time, user) in expected {
        let t: jiff::Timestamp = time.parse().unwrap();
        let r = env.cabot_at(t.as_second(), &["oncall"]);
        assert_eq!(r.code, 0, "{r:?}");
        assert!(
            r.stdout.starts_with(&format!("ops: {user} on duty now (")),
            "at {time}, {user} expected: {r:?}"
        );
        assert!(!r.stdout.contains("left out"), "{r:?}");
    }
}

/// Exchange's publishing of a rota: the Windows zone defined in the file, weeks by turn, one
/// week cancelled and one moved (a `RECURRENCE-ID` in the Windows zone), across New York's
/// change of clocks on 1 November.
#[test]
fn an_exchange_calendar_with_windows_zones_a_moved_and_a_cancelled_week() {
    let week = |uid: &str, who: &str, start: &str, end: &str| {
        format!(
            "BEGIN:VEVENT\r\nDESCRIPTION:\\n\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO;WKST=SU\r\n\
             UID:{uid}\r\nSUMMARY;LANGUAGE=en-US:{who}\r\n\
             DTSTART;TZID=Eastern Standard Time:{start}\r\n\
             DTEND;TZID=Eastern Standard Time:{end}\r\nCLASS:PUBLIC\r\nPRIORITY:5\r\n\
             DTSTAMP:20261020T120000Z\r\nTRANSP:OPAQUE\r\nSTATUS:CONFIRMED\r\nSEQUENCE:0\r\n\
             X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nEND:VEVENT\r\n"
        )
    };
    let text = format!(
        "BEGIN:VCALENDAR\r\nMETHOD:PUBLISH\r\nPRODID:Microsoft Exchange Server 2010\r\n\
         VERSION:2.0\r\nX-WR-CALNAME:Ops\r\nBEGIN:VTIMEZONE\r\nTZID:Eastern Standard Time\r\n\
         BEGIN:STANDARD\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\n\
         RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=1SU;BYMONTH=11\r\nEND:STANDARD\r\n\
         BEGIN:DAYLIGHT\r\nDTSTART:16010101T020000\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n\
         RRULE:FREQ=YEARLY;INTERVAL=1;BYDAY=2SU;BYMONTH=3\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
         {}{}\
         BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E0080000000010A1\r\n\
         RECURRENCE-ID;TZID=Eastern Standard Time:20261123T090000\r\nSUMMARY:Alice Smith\r\n\
         DTSTART;TZID=Eastern Standard Time:20261124T090000\r\n\
         DTEND;TZID=Eastern Standard Time:20261130T090000\r\nSEQUENCE:1\r\n\
         DTSTAMP:20261101T120000Z\r\nEND:VEVENT\r\n\
         BEGIN:VEVENT\r\nUID:040000008200E00074C5B7101A82E0080000000010B2\r\n\
         RECURRENCE-ID;TZID=Eastern Standard Time:20261214T090000\r\nSUMMARY:Bob\r\n\
         DTSTART;TZID=Eastern Standard Time:20261214T090000\r\n\
         DTEND;TZID=Eastern Standard Time:20261221T090000\r\nSTATUS:CANCELLED\r\n\
         SEQUENCE:1\r\nDTSTAMP:20261101T120000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n",
        week(
            "040000008200E00074C5B7101A82E0080000000010A1",
            "Alice Smith",
            "20261012T090000",
            "20261019T090000"
        ),
        week(
            "040000008200E00074C5B7101A82E0080000000010B2",
            "Bob",
            "20261019T090000",
            "20261026T090000"
        ),
    );
    let (_slack, _target, _dir, _, env) = calendar_file_with(&text, |config| {
        config.replace(
            "alice: { slack: U0ALICE01 }",
            "alice: { name: Alice Smith, slack: U0ALICE01 }",
        )
    });
    let v = env.cabot(&["validate"]);
    assert_eq!(v.code, 0, "{v:?}");
    assert_on_duty(
        &env,
        &[
            // 09:00 in New York: 13:00 UTC in summer time, 14:00 from 1 November.
            ("2026-10-26T12:59:00Z", "bob"),
            ("2026-10-26T13:00:00Z", "alice"),
            ("2026-11-02T13:59:00Z", "alice"),
            ("2026-11-02T14:00:00Z", "bob"),
            // Alice's week of 23 November moved to Tuesday: a day of the fallback.
            ("2026-11-23T13:59:00Z", "bob"),
            ("2026-11-23T14:00:00Z", "carol"),
            ("2026-11-24T14:00:00Z", "alice"),
            ("2026-11-30T13:59:00Z", "alice"),
            ("2026-11-30T14:00:00Z", "bob"),
            // Bob's week of 14 December cancelled.
            ("2026-12-14T14:00:00Z", "carol"),
            ("2026-12-21T14:00:00Z", "alice"),
        ],
    );
}

/// Outlook desktop's export: the zone is its own VTIMEZONE, named as Windows shows it,
/// which is no IANA or Windows name; London changes its clocks on 25 October.
#[test]
fn an_outlook_desktop_calendar_with_its_own_time_zone() {
    const LONDON: &str = "(UTC+00:00) Dublin, Edinburgh, Lisbon, London";
    let week = |uid: &str, who: &str, start: &str, end: &str| {
        format!(
            "BEGIN:VEVENT\r\nCLASS:PUBLIC\r\nCREATED:20261001T100000Z\r\n\
             DTEND;TZID=\"{LONDON}\":{end}\r\nDTSTAMP:20261001T100000Z\r\n\
             DTSTART;TZID=\"{LONDON}\":{start}\r\nLAST-MODIFIED:20261001T100000Z\r\n\
             PRIORITY:5\r\nRRULE:FREQ=WEEKLY;INTERVAL=2;BYDAY=MO\r\nSEQUENCE:0\r\n\
             SUMMARY;LANGUAGE=en-gb:{who}\r\nTRANSP:OPAQUE\r\nUID:{uid}\r\n\
             X-MICROSOFT-CDO-BUSYSTATUS:BUSY\r\nX-MICROSOFT-CDO-IMPORTANCE:1\r\n\
             BEGIN:VALARM\r\nTRIGGER:-PT15M\r\nACTION:DISPLAY\r\nDESCRIPTION:Reminder\r\n\
             END:VALARM\r\nEND:VEVENT\r\n"
        )
    };
    let text = format!(
        "BEGIN:VCALENDAR\r\nPRODID:-//Microsoft Corporation//Outlook 16.0 MIMEDIR//EN\r\n\
         VERSION:2.0\r\nMETHOD:PUBLISH\r\nX-MS-OLK-FORCEINSPECTOROPEN:TRUE\r\n\
         BEGIN:VTIMEZONE\r\nTZID:{LONDON}\r\nBEGIN:STANDARD\r\nDTSTART:16011028T020000\r\n\
         RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0100\r\n\
         TZOFFSETTO:-0000\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010325T010000\r\n\
         RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:-0000\r\n\
         TZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n{}{}END:VCALENDAR\r\n",
        week(
            "040000008200E00074C5B7101A82E00800000000A1",
            "Alice",
            "20261019T090000",
            "20261026T090000"
        ),
        week(
            "040000008200E00074C5B7101A82E00800000000B2",
            "Bob",
            "20261026T090000",
            "20261102T090000"
        ),
    );
    let (_slack, _target, _dir, _, env) = calendar_file(&text);
    let v = env.cabot(&["validate"]);
    assert_eq!(v.code, 0, "{v:?}");
    assert!(!v.stderr.contains("left out"), "{v:?}");
    assert_on_duty(
        &env,
        &[
            ("2026-10-19T07:59:00Z", "carol"),
            // 09:00 in London: 08:00 UTC in summer time, 09:00 from 25 October.
            ("2026-10-19T08:00:00Z", "alice"),
            ("2026-10-26T08:59:00Z", "alice"),
            ("2026-10-26T09:00:00Z", "bob"),
            ("2026-11-02T08:59:00Z", "bob"),
            ("2026-11-02T09:00:00Z", "alice"),
        ],
    );
}

/// Google Calendar's export: a weekly rota in its zone, a monthly weekend shift on the
/// first Saturday (`BYDAY=1SA`, refused before), one week taken out by `EXDATE` and one
/// instance cancelled, on both sides of New York's change of clocks.
#[test]
fn a_google_calendar_with_monthly_rules_and_cancellations() {
    let text = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n\
VERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:Ops on call\r\n\
X-WR-TIMEZONE:America/New_York\r\nBEGIN:VTIMEZONE\r\nTZID:America/New_York\r\n\
X-LIC-LOCATION:America/New_York\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\n\
TZNAME:EDT\r\nDTSTART:19700308T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU\r\n\
END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nTZNAME:EST\r\n\
DTSTART:19701101T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20261005T090000\r\n\
DTEND;TZID=America/New_York:20261012T090000\r\nRRULE:FREQ=WEEKLY;WKST=SU;BYDAY=MO\r\n\
EXDATE;TZID=America/New_York:20261109T090000\r\nDTSTAMP:20261120T120000Z\r\n\
UID:7kukuqrfedlm2f9t0vdvrn6jrl@google.com\r\nCREATED:20261001T000000Z\r\nDESCRIPTION:\r\n\
LAST-MODIFIED:20261002T000000Z\r\nLOCATION:\r\nSEQUENCE:1\r\nSTATUS:CONFIRMED\r\n\
SUMMARY:alice\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20261003T000000\r\n\
DTEND;TZID=America/New_York:20261005T000000\r\nRRULE:FREQ=MONTHLY;BYDAY=1SA\r\n\
DTSTAMP:20261120T120000Z\r\nUID:3q0pbt5n6vbkd1e2pn1m4b5s0c@google.com\r\n\
CREATED:20261001T000000Z\r\nSEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:bob\r\n\
TRANSP:OPAQUE\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20261130T090000\r\n\
DTEND;TZID=America/New_York:20261207T090000\r\nDTSTAMP:20261120T120000Z\r\n\
UID:7kukuqrfedlm2f9t0vdvrn6jrl@google.com\r\n\
RECURRENCE-ID;TZID=America/New_York:20261130T090000\r\nCREATED:20261001T000000Z\r\n\
SEQUENCE:2\r\nSTATUS:CANCELLED\r\nSUMMARY:alice\r\nTRANSP:OPAQUE\r\nEND:VEVENT\r\n\
BEGIN:VEVENT\r\nDTSTART;TZID=America/New_York:20261028T120000\r\n\
DTEND;TZID=America/New_York:20261028T130000\r\nRRULE:FREQ=WEEKLY;BYDAY=WE\r\n\
DTSTAMP:20261120T120000Z\r\nUID:standup@google.com\r\nSUMMARY:Team standup\r\n\
END:VEVENT\r\nEND:VCALENDAR\r\n";
    let (_slack, _target, _dir, _, env) = calendar_file(text);
    let v = env.cabot(&["validate"]);
    assert_eq!(v.code, 0, "{v:?}");
    assert_on_duty(
        &env,
        &[
            // The first Saturday of October: bob from Saturday 00:00 to Monday 00:00 in
            // summer time (04:00 UTC), before alice's series begins.
            ("2026-10-03T03:59:00Z", "carol"),
            ("2026-10-03T04:00:00Z", "bob"),
            ("2026-10-05T03:59:00Z", "bob"),
            ("2026-10-05T04:00:00Z", "carol"),
            ("2026-10-05T13:00:00Z", "alice"),
            // After the change of clocks on 1 November, midnight is 05:00 UTC and 09:00 is
            // 14:00 UTC.
            ("2026-11-07T04:59:00Z", "alice"),
            ("2026-11-07T05:00:00Z", "bob"),
            ("2026-11-09T04:59:00Z", "bob"),
            // Alice's week of 2 November goes on until Monday 09:00; hers of 9 November is
            // taken out.
            ("2026-11-09T05:00:00Z", "alice"),
            ("2026-11-09T13:59:00Z", "alice"),
            ("2026-11-09T14:00:00Z", "carol"),
            ("2026-11-16T13:59:00Z", "carol"),
            ("2026-11-16T14:00:00Z", "alice"),
            // The week of 30 November cancelled; the first Saturday of December bob's.
            ("2026-11-30T14:00:00Z", "carol"),
            ("2026-12-05T05:00:00Z", "bob"),
            ("2026-12-07T05:00:00Z", "carol"),
            ("2026-12-07T14:00:00Z", "alice"),
            // The standup names nobody: alice stays on duty through it.
            ("2026-11-18T17:30:00Z", "alice"),
        ],
    );
}

/// A calendar that suddenly holds no events (an export gone wrong) does not put the
/// fallback on duty at once: the copy with events stays in use, with a warning, until it is
/// three days old.
#[test]
fn a_calendar_emptied_does_not_replace_a_good_copy_at_once() {
    let (slack, target, _dir, file, env) = calendar_file(CALENDAR);
    assert_eq!(env.cabot_at(MONDAY, &["run"]).code, 0);
    std::fs::write(
        &file,
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\nEND:VCALENDAR\r\n",
    )
    .unwrap();
    target.set_up(false);
    let run = env.cabot_at(MONDAY + 3_600, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stderr.contains(
            "could not be read: it now holds no events at all, which cabot takes only from \
             2026-11-26T12:00:00Z, when the copy with 2 events is 3d old; using the copy read"
        ),
        "{run:?}"
    );
    let texts = mentioned(&slack);
    assert!(texts[0].contains("<@U0ALICE01>"), "{texts:#?}");
    let r = env.cabot_at(MONDAY + 3_600, &["oncall"]);
    assert!(
        r.stdout
            .starts_with("ops: alice on duty now (cached calendar)"),
        "{r:?}"
    );
    let status = env.cabot_at(MONDAY + 3_600, &["status"]);
    assert!(
        status
            .stdout
            .contains("  on call: alice (from the kept copy of its calendar, read"),
        "{status:?}"
    );
    // Three days after the good copy was read, the empty calendar is taken at its word.
    let later = MONDAY + 3 * 86_400 + 60;
    assert_eq!(env.cabot_at(later, &["run"]).code, 0);
    let r = env.cabot_at(later, &["oncall"]);
    assert!(
        r.stdout.starts_with("ops: carol on duty now (fallback)"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("could not be read"), "{r:?}");
    let status = env.cabot_at(later, &["status"]);
    assert!(
        status
            .stdout
            .contains("  on call: carol (the fallback of ops)"),
        "{status:?}"
    );
}

/// An Opsgenie schedule export: each shift titled with the participant, by full name or by
/// username (an email address in Opsgenie), in UTC.
#[test]
fn an_opsgenie_schedule_export_names_participants_by_name_or_username() {
    let shift = |uid: u32, who: &str, start: &str, end: &str| {
        format!(
            "BEGIN:VEVENT\r\nUID:{uid}-ops_schedule@opsgenie\r\nDTSTAMP:20261120T000000Z\r\n\
             DTSTART:{start}\r\nDTEND:{end}\r\nSUMMARY:{who}\r\n\
             DESCRIPTION:Schedule: ops_schedule\\nRotation: Weekly\r\nEND:VEVENT\r\n"
        )
    };
    let text = format!(
        "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Opsgenie//Schedule//EN\r\n{}{}{}\
         END:VCALENDAR\r\n",
        shift(1, "Alice Smith", "20261116T140000Z", "20261123T140000Z"),
        shift(2, "BOB@example.com", "20261123T140000Z", "20261130T140000Z"),
        shift(3, "Dana Doe", "20261130T140000Z", "20261207T140000Z"),
    );
    let (_slack, _target, _dir, _, env) = calendar_file_with(&text, |config| {
        config
            .replace(
                "alice: { slack: U0ALICE01 }",
                "alice: { name: Alice Smith, slack: U0ALICE01 }",
            )
            .replace(
                "bob: { slack: U0BOB0001 }",
                "bob: { email: 'Bob Brown <bob@example.com>', slack: U0BOB0001 }",
            )
    });
    assert_eq!(env.cabot(&["validate"]).code, 0);
    assert_on_duty(
        &env,
        &[
            ("2026-11-23T13:59:00Z", "alice"),
            ("2026-11-23T14:00:00Z", "bob"),
            ("2026-11-30T13:59:00Z", "bob"),
            // Someone cabot does not know: the fallback.
            ("2026-11-30T14:00:00Z", "carol"),
        ],
    );
}
