//! Each channel's wire format and failover against fakes of its provider's API (SMS and
//! calls through Twilio and Plivo, Slack, webhooks, commands), hostile check output in
//! every channel, `test-alert`, and `validate`'s contact warnings. Email, against a real
//! SMTP server, is in `email.rs`; a new channel gets its own file here.

mod discord;
mod email;
mod gotify;
mod kit;
mod matrix;
mod ntfy;
mod opsgenie;
mod pagerduty;
mod pushover;
mod teams;
mod telegram;
mod webhook;

use std::time::{Duration, Instant};

use serde_json::Value;

use crate::alerts::*;
use crate::support::*;

#[test]
fn sms_and_calls_go_through_twilio_with_its_form_and_auth() {
    let s = setup("critical", "sms, phone", "");
    s.target.set_up(false);
    let r = s.run(T0);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stderr, "", "everything delivered: nothing to say");
    let reqs = s.twilio.requests();
    assert_eq!(reqs.len(), 2, "one SMS, one call");
    let sms = reqs
        .iter()
        .find(|r| r.url.ends_with("Messages.json"))
        .expect("sms");
    let f = form(&sms.body);
    assert_eq!(f["To"], "+15551230001");
    assert!(
        f["Body"].starts_with("cabot: web CRITICAL (was PASSING): home: HTTP 500"),
        "{f:?}"
    );
    assert!(f["Body"].chars().count() <= 160);
    let call = reqs
        .iter()
        .find(|r| r.url.ends_with("Calls.json"))
        .expect("call");
    let f = form(&call.body);
    assert!(
        f["Twiml"].starts_with("<Response><Say>Cabot alert. Service web is critical."),
        "{f:?}"
    );
    assert!(
        s.plivo.requests().is_empty(),
        "the first provider delivered"
    );
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND provider = 'twilio'"
        ),
        2
    );
    // recovery: an SMS, never a call
    s.target.set_up(true);
    s.run(T0 + MIN);
    let reqs = s.twilio.requests();
    assert_eq!(reqs.len(), 3);
    assert!(form(&reqs[2].body)["Body"].starts_with("cabot: web back to normal"));
}

#[test]
fn phone_calls_are_for_critical_only_unless_configured() {
    let s = setup("error", "sms, phone", "");
    s.target.set_up(false);
    s.run(T0);
    let reqs = s.twilio.requests();
    assert_eq!(reqs.len(), 1);
    assert!(
        reqs[0].url.ends_with("Messages.json"),
        "an ERROR sends an SMS but no call"
    );
}

#[test]
fn twilio_failing_hanging_or_talking_garbage_fails_over_to_plivo() {
    for (mode, name) in [(FAIL, "500"), (HANG, "hang"), (GARBAGE, "garbage")] {
        let s = setup("error", "sms", "");
        s.twilio.set(mode);
        s.target.set_up(false);
        let started = Instant::now();
        let r = s.run(T0);
        assert_eq!(r.code, 0, "{name}: {r:?}");
        assert!(
            started.elapsed() < Duration::from_secs(15),
            "{name}: bounded by the 1s provider timeout, not the 30s hang"
        );
        let p = s.plivo.requests();
        assert_eq!(p.len(), 1, "{name}: plivo got the SMS");
        let body: Value = serde_json::from_str(&p[0].body).expect("json");
        assert_eq!(body["dst"], "+15551230001");
        assert!(
            body["text"]
                .as_str()
                .unwrap_or("")
                .starts_with("cabot: web ERROR")
        );
        assert_eq!(
            s.env.count(
                "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND provider = 'plivo'"
            ),
            1,
            "{name}"
        );
        assert_eq!(
            s.env
                .count("SELECT count(*) FROM attempts WHERE provider = 'twilio' AND ok = 0"),
            1,
            "{name}: the failed attempt is recorded"
        );
    }
}

#[test]
fn slack_mentions_the_services_users_so_that_slack_notifies_them() {
    let s = setup("error", "chat", "");
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    s.env.write_config(&text.replace(
        "chat: { type: slack, webhook_url_env: SLACK_URL }",
        "chat: { type: slack, webhook_url_env: SLACK_URL, to: ['@here', S0614TZR7] }",
    ));
    s.target.set_up(false);
    assert_eq!(s.run(T0).code, 0);
    let reqs = s.slack.requests();
    assert_eq!(reqs.len(), 1);
    let body: Value = serde_json::from_str(&reqs[0].body).expect("json");
    let text = body["text"].as_str().unwrap_or("");
    assert!(text.contains("ERROR status for service: web"), "{text}");
    assert!(text.contains("home [error]: HTTP 500"), "{text}");
    // Slack's mention syntax: a member, @here, and a user group.
    assert!(text.contains("<@U024BE7LH>"), "{text}");
    assert!(text.contains("<!here>"), "{text}");
    assert!(text.contains("<!subteam^S0614TZR7>"), "{text}");
    assert!(!text.contains("@here"), "{text}");
}

#[test]
fn validate_warns_about_a_slack_display_name_and_rejects_unusable_addresses() {
    // The webhook's URL comes from PATH, set wherever the test runs, so that the only
    // warnings are about the names.
    let env = Env::new(
        "users:
  bob: { email: 'Doe, John <john@example.com>', slack: '@bob' }
channels:
  mail: { type: email, from: 'Cabot, Monitor <cabot@example.com>', servers: [ { url: 'smtp://127.0.0.1:25' } ] }
  chat: { type: slack, webhook_url_env: PATH, to: ['@ops-team'] }
services:
  - name: web
    users: [bob]
    channels: [mail, chat]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .find(|l| l.contains(prefix))
            .unwrap_or_else(|| panic!("no line with {prefix:?} in {r:?}"))
            .to_string()
    };
    // Errors first (warnings show once the errors are fixed).
    let email = at(":3:17: users.bob.email: ");
    assert!(
        email.contains("'Doe, John <john@example.com>' is not an email address"),
        "{email}"
    );
    assert!(
        email.contains("quote a display name with a comma"),
        "{email}"
    );
    let from = at(":5:30: channels.mail.from: ");
    assert!(
        from.contains("'Cabot, Monitor <cabot@example.com>' is not an email address"),
        "{from}"
    );
    // Quoted, the same names are fine; the Slack names are only warned about.
    let quoted = std::fs::read_to_string(env.config())
        .expect("config")
        .replace(
            "'Doe, John <john@example.com>'",
            "'\"Doe, John\" <john@example.com>'",
        )
        .replace(
            "'Cabot, Monitor <cabot@example.com>'",
            "'\"Cabot, Monitor\" <cabot@example.com>'",
        );
    env.write_config(&quoted);
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{r:?}");
    assert!(
        lines[0].contains(":3:58: users.bob.slack: warning: '@bob' is not a Slack member ID"),
        "{r:?}"
    );
    assert!(
        lines[1].contains(":6:52: channels.chat.to: warning: '@ops-team' is not a Slack member ID"),
        "{r:?}"
    );
    env.write_config(
        &quoted
            .replace("'@bob'", "U024BE7LH")
            .replace("'@ops-team'", "'@channel'"),
    );
    let r = env.cabot(&["validate"]);
    assert_eq!((r.code, r.stderr.as_str()), (0, ""), "{r:?}");
}

#[test]
fn a_command_gets_the_json_on_stdin_and_the_key_fields_in_its_environment() {
    let target = Target::new();
    let env = Env::new("");
    let out = env.path("out.json");
    env.write_config(&format!(
        "channels:
  page:
    type: command
    command: ['/bin/sh', '-c', 'cat > \"$0\"; echo \"$CABOT_ALERT_KIND $CABOT_SERVICE $CABOT_STATUS $CABOT_PREVIOUS_STATUS\" > \"$0.env\"', '{out}']
  slow:
    type: command
    timeout: 1s
    command: ['/bin/sh', '-c', 'sleep 30 & sleep 30']
services:
  - name: web
    channels: [page]
    checks:
      - {{ name: home, type: http, url: '{url}' }}
  - name: api
    channels: [slow]
    checks:
      - {{ name: home, type: http, url: '{url}' }}
",
        out = out.display(),
        url = target.server.url("/"),
    ));
    target.set_up(false);
    let started = Instant::now();
    let r = env.cabot_at(T0, &["run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the hung command was killed at its timeout, not after its 30s sleep"
    );
    let payload: Value =
        serde_json::from_str(&std::fs::read_to_string(&out).expect("out")).expect("json");
    assert_eq!(payload["kind"], "alert");
    assert_eq!(payload["service"], "web");
    assert_eq!(
        std::fs::read_to_string(format!("{}.env", out.display()))
            .expect("env")
            .trim(),
        "alert web ERROR PASSING"
    );
    assert!(
        r.stderr.contains("not delivered to slow") && r.stderr.contains("timed out after 1s"),
        "{r:?}"
    );
}

#[test]
fn hostile_check_output_stays_harmless_and_bounded_in_every_channel() {
    // A check's message repeats its text_match; this one carries markup, quotes, line
    // breaks and 10 kB, and the target fails it.
    let s = setup("critical", "sms, phone, chat, hook", "");
    let hostile = format!(
        "</Say><Dial>+15550009999</Dial><Say> \\\"quoted\\\" 'single'\\nSubject: injected\\r\\n{}",
        "A".repeat(10_000)
    );
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    s.env.write_config(&text.replace(
        "importance: critical }",
        &format!("importance: critical, text_match: \"{hostile}\" }}"),
    ));
    assert_eq!(s.run(T0).code, 0);
    let twilio = s.twilio.requests();
    let call = twilio
        .iter()
        .find(|r| r.url.ends_with("Calls.json"))
        .expect("call");
    let twiml = &form(&call.body)["Twiml"];
    assert_eq!(twiml.matches("<Say>").count(), 1, "{twiml}");
    assert!(!twiml.contains("<Dial>"), "{twiml}");
    let sms = twilio
        .iter()
        .find(|r| r.url.ends_with("Messages.json"))
        .expect("sms");
    assert!(form(&sms.body)["Body"].chars().count() <= 160);
    let slack: Value = serde_json::from_str(&s.slack.requests()[0].body).expect("slack json");
    assert!(slack["text"].as_str().unwrap_or("").len() < 10_000);
    let hook = &s.hooks()[0];
    let message = hook["checks"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("</Say><Dial>"),
        "the hostile text did reach the channels: {message}"
    );
    assert!(message.len() <= 500, "{}", message.len());
    assert!(!message.contains('\n'));
}

#[test]
fn test_alert_reports_each_providers_answer() {
    let s = setup("error", "sms", "");
    s.twilio.set(FAIL);
    let r = s.run_args(T0, &["test-alert", "sms", "--to", "alice"]);
    assert_eq!(r.code, 0, "plivo delivered: {r:?}");
    assert!(
        r.stdout
            .contains("sms to +15551230001: twilio: FAILED HTTP 500"),
        "{r:?}"
    );
    assert!(
        r.stdout
            .contains("sms to +15551230001: plivo: ok accepted (uuid db3ce55a"),
        "{r:?}"
    );
    let body: Value = serde_json::from_str(&s.plivo.requests()[0].body).expect("json");
    assert!(
        body["text"]
            .as_str()
            .unwrap_or("")
            .starts_with("cabot: test alert")
    );
    s.plivo.set(FAIL);
    let r = s.run_args(T0, &["test-alert", "sms"]);
    assert_eq!(r.code, 2, "nothing delivered: {r:?}");
    assert!(r.stderr.contains("reached 0 of 1"), "{r:?}");
    assert_eq!(s.run_args(T0, &["test-alert", "nope"]).code, 64);
    assert!(
        !s.env.state().exists(),
        "tests go straight out, not through the state"
    );
}

#[test]
fn validate_warns_about_users_a_channel_cannot_reach() {
    let env = Env::new(
        "users:
  bob: { email: bob@example.com }
channels:
  sms: { type: sms, providers: [ { twilio: { account_sid: AC1, auth_token_env: T, from: '+15550000001' } } ] }
services:
  - name: web
    users: [bob]
    channels: [sms]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("services[web].users: warning: user 'bob' has no phone, so channel 'sms' cannot reach them"),
        "{r:?}"
    );
}

#[test]
fn a_call_fails_over_to_plivos_call_api() {
    let s = setup("critical", "plivo-phone", "");
    // a phone channel whose first provider is down
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    let extra = format!(
        "  plivo-phone:
    type: phone
    timeout: 1s
    providers:
      - twilio: {{ account_sid: AC1, auth_token_env: TWILIO_TOKEN, from: '+15550000001', base_url: '{}' }}
      - plivo: {{ auth_id: MA1, auth_token_env: PLIVO_TOKEN, from: '+15550000002', base_url: '{}', answer_url: 'https://example.com/cabot-alert.xml' }}
services:",
        s.twilio.url(),
        s.plivo.url()
    );
    s.env.write_config(&text.replacen("services:", &extra, 1));
    s.twilio.set(FAIL);
    s.target.set_up(false);
    assert_eq!(s.run(T0).code, 0);
    let calls = s.plivo.requests();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].url, "/v1/Account/MA1/Call/");
    let body: Value = serde_json::from_str(&calls[0].body).expect("json");
    assert_eq!(body["to"], "+15551230001");
    assert_eq!(body["answer_url"], "https://example.com/cabot-alert.xml");
    assert_eq!(
        s.env.count(
            "SELECT count(*) FROM deliveries WHERE state = 'delivered' AND provider = 'plivo'"
        ),
        1
    );
}

/// `setup`, with its check replaced by `check` (the keys after the name).
fn setup_with_check(importance: &str, channels: &str, check: &str) -> Setup {
    let s = setup(importance, channels, "");
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    let (head, _) = text.split_once("      - { name: home").expect("the check");
    s.env.write_config(&format!(
        "{head}      - {{ name: home, {check}, importance: {importance} }}\n"
    ));
    s
}

#[test]
fn a_long_sms_is_cut_to_one_gsm7_segment() {
    // Braces are GSM-7 but take two septets each; an ellipsis "…" would make it UCS-2.
    let message = format!("CRITICAL - {}", "{\"error\": \"timeout\"} ".repeat(20));
    let s = setup_with_check(
        "critical",
        "sms",
        &format!(
            "type: command, command: {}",
            sh(&format!("echo '{message}'; exit 2"))
        ),
    );
    assert_eq!(s.run(T0).code, 0);
    let reqs = s.twilio.requests();
    assert_eq!(reqs.len(), 1, "{reqs:?}");
    let body = form(&reqs[0].body)["Body"].clone();
    assert!(
        body.starts_with("cabot: web CRITICAL (was PASSING): home: CRITICAL - {\"error\""),
        "{body}"
    );
    assert!(body.ends_with("..."), "{body}");
    assert!(!body.contains('…'), "{body}");
    // Counted by GSM 03.38: braces are escape + character.
    let septets: usize = body
        .chars()
        .map(|c| if "{}[]~|^\\€".contains(c) { 2 } else { 1 })
        .sum();
    assert!((157..=160).contains(&septets), "{septets} septets: {body}");
}

#[test]
fn a_plivo_202_that_queued_no_message_is_not_a_delivery() {
    let empty = FakeApi::start(|_| Reply::new(202, r#"{"message_uuid": [], "api_id": "x"}"#));
    let s = setup("critical", "sms", "");
    s.twilio.set(FAIL);
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    s.env
        .write_config(&text.replace(&s.plivo.url(), &empty.url()));
    s.target.set_up(false);
    let r = s.run(T0);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(empty.requests().len(), 1);
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        0,
        "nothing was queued"
    );
    let error: String = s
        .env
        .db()
        .query_row("SELECT last_error FROM deliveries", [], |r| r.get(0))
        .expect("last_error");
    assert!(
        error.contains("plivo: HTTP 202 but not the answer expected"),
        "{error}"
    );
}

#[test]
fn ipv6_literals_reach_webhooks_and_provider_apis() {
    let twilio6 = HttpServer::start_on("[::1]:0", |req| {
        if req.url == "/2010-04-01/Accounts/AC1/Messages.json" {
            Reply::new(201, r#"{"sid": "SM6", "status": "queued"}"#)
        } else {
            Reply::new(404, "not found")
        }
    });
    let hook6 = HttpServer::start_on("[::1]:0", |_| Reply::new(200, "thanks"));
    // The checked site is at an IPv6 literal too, and down.
    let site6 = HttpServer::start_on("[::1]:0", |_| Reply::new(500, "down"));
    assert!(twilio6.url("").starts_with("http://[::1]:"));
    let s = setup("critical", "sms, hook", "");
    let text = std::fs::read_to_string(s.env.config()).expect("config");
    s.env.write_config(
        &text
            .replace(&s.twilio.url(), &twilio6.url(""))
            .replace(&s.hook.url(), &hook6.url(""))
            .replace(&s.target.url(), &site6.url("/")),
    );
    let r = s.run(T0);
    assert_eq!(site6.requests().len(), 1, "the check reached [::1]");
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(twilio6.requests().len(), 1, "the SMS went to [::1]");
    assert_eq!(hook6.requests().len(), 1, "the webhook went to [::1]");
    assert!(s.twilio.requests().is_empty() && s.plivo.requests().is_empty());
    assert_eq!(
        s.env
            .count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        2
    );
}

#[test]
fn validate_refuses_plivo_calls_without_answer_url() {
    let env = Env::new(
        "channels:
  phone: { type: phone, providers: [ { plivo: { auth_id: MA1, auth_token_env: PATH, from: '+15550000002' } } ] }
  sms: { type: sms, providers: [ { plivo: { auth_id: MA1, auth_token_env: PATH, from: '+15550000002' } } ] }
services:
  - name: web
    channels: [phone, sms]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "one error: {r:?}");
    assert!(
        lines[0].ends_with(
            ":3:47: channels.phone.providers[0].plivo.answer_url: a plivo provider of a phone \
             channel needs answer_url: Plivo's Call API fetches what the call says from it"
        ),
        "{r:?}"
    );
}

#[test]
fn validate_warns_when_an_smtp_password_would_cross_the_network_in_clear_text() {
    let env = Env::new(
        "channels:
  mail:
    type: email
    from: cabot@example.com
    servers:
      - { url: 'smtp://mail.example.com:587', username: cabot, password_env: PATH }
      - { url: 'smtp://mail.example.com:587?tls=opportunistic', username: cabot, password_env: PATH }
      - { url: 'smtp://mail.example.com:587?tls=required', username: cabot, password_env: PATH }
      - { url: 'smtps://mail.example.com:465', username: cabot, password_env: PATH }
      - { url: 'smtp://127.0.0.1:25', username: cabot, password_env: PATH }
      - { url: 'smtp://mail.example.com:25' }
services:
  - name: web
    channels: [mail]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1' }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    let lines: Vec<&str> = r.stderr.lines().collect();
    let warning = "warning: this server is reached without TLS, so the password would cross \
                   the network in clear text: use smtps:// or ?tls=required";
    assert_eq!(lines.len(), 2, "{r:?}");
    assert!(
        lines[0].ends_with(&format!(
            ":7:57: channels.mail.servers[0].username: {warning}"
        )),
        "{r:?}"
    );
    assert!(
        lines[1].ends_with(&format!(
            ":8:75: channels.mail.servers[1].username: {warning}"
        )),
        "{r:?}"
    );
}

/// Six checks of `web` that fail with `output` (a Nagios plugin's line, as written).
fn six_failing(output: &str) -> String {
    (0..6)
        .map(|i| {
            format!(
                "      - {{ name: c{i}, type: command, command: [/bin/sh, -c, 'printf %s \"{output}\"; exit 2'], importance: critical }}\n"
            )
        })
        .collect()
}

#[test]
fn a_long_message_loses_check_lines_never_the_mentions_nor_an_entity() {
    let slack = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "users:
  alice: {{ slack: U024BE7LH }}
channels:
  chat: {{ type: slack, webhook_url_env: SLACK_URL }}
services:
  - name: web
    users: [alice]
    runbook: https://wiki.example.com/web
    channels: [chat]
    checks:
{}",
        six_failing(&"<".repeat(600))
    ));
    let r = env
        .command(&["run"])
        .env("CABOT_NOW", T0.to_string())
        .env("SLACK_URL", slack.url("/hook"))
        .output()
        .expect("run");
    let r = Run::from(r);
    assert_eq!(r.stderr, "", "{r:?}");
    let body: Value = serde_json::from_str(&slack.requests()[0].body).expect("json");
    let text = body["text"].as_str().unwrap_or("");
    assert!(text.len() <= 8_000, "{}", text.len());
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].contains("CRITICAL status for service: web"),
        "{text}"
    );
    assert_eq!(
        lines[lines.len() - 1],
        "<@U024BE7LH>",
        "the mention that notifies alice"
    );
    assert_eq!(
        lines[lines.len() - 2],
        "Runbook: https://wiki.example.com/web"
    );
    assert!(
        lines[lines.len() - 3].ends_with("more not shown)"),
        "the checks that did not fit are counted: {text}"
    );
    for line in lines.iter().filter(|l| l.starts_with("• ")) {
        assert!(line.ends_with("&lt;") || line.ends_with("..."), "{line}");
        assert!(
            !line.contains("&l.") && !line.ends_with("&l"),
            "an entity cut in half: {line}"
        );
    }
}

#[test]
fn pushover_counts_characters_and_keeps_the_runbook() {
    let po = HttpServer::start(|req| {
        let f = form(&req.body);
        let n = f.get("message").map_or(0, |m| m.chars().count());
        if n > 1024 {
            return Reply::new(
                400,
                r#"{"message":"invalid","errors":["message is too long"],"status":0,"request":"r"}"#,
            );
        }
        Reply::new(200, r#"{"status":1,"request":"r"}"#)
    });
    let env = Env::new(&format!(
        "users:
  alice: {{ pushover: uQiRzpo4DXghDmr9QzzfQu27cmVRsG }}
channels:
  push: {{ type: pushover, token_env: PO_TOKEN, base_url: '{}' }}
services:
  - name: web
    users: [alice]
    runbook: https://wiki.example.com/web
    channels: [push]
    checks:
{}",
        po.url(""),
        six_failing(&"é".repeat(240))
    ));
    let r = Run::from(
        env.command(&["run"])
            .env("CABOT_NOW", T0.to_string())
            .env("PO_TOKEN", "azGDORePK8gMaC0QOYAMyEEuzJnyUi")
            .output()
            .expect("run"),
    );
    assert_eq!(r.stderr, "", "{r:?}");
    let sent = po
        .requests()
        .iter()
        .map(|r| form(&r.body))
        .find(|f| f.contains_key("message"))
        .expect("a message");
    let message = &sent["message"];
    assert!(
        message.chars().count() <= 1024,
        "{}",
        message.chars().count()
    );
    assert!(
        message.ends_with("Runbook: https://wiki.example.com/web"),
        "{message}"
    );
}
