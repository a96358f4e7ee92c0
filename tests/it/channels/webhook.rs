//! The `webhook` channel's body templates against a receiver on 127.0.0.1: any service
//! that takes an HTTP request, reached with its own method, headers and body.

use serde_json::Value;

use super::kit::*;
use crate::support::*;

#[test]
fn a_json_template_gets_escaped_values_and_its_own_method_and_headers() {
    let receiver = HttpServer::start(|_| Reply::new(200, "thanks"));
    let target = Target::new();
    let keys = format!(
        r#"url: '{}', method: put, headers: {{ X-Token: abc }},
         body: '{{"title": "{{{{service}}}} is {{{{status}}}}", "detail": "{{{{checks}}}}", "incident": "{{{{incident}}}}"}}'"#,
        receiver.url("/hook")
    );
    let env = env_with("webhook", &keys, &target, "");
    let text = std::fs::read_to_string(env.config()).expect("config");
    // A check whose output has quotes, a backslash and a newline.
    env.write_config(&text.replace(
        &format!("type: http, url: '{}'", target.url()),
        &format!(
            "type: command, command: {}",
            sh(r#"printf 'CRITICAL - "db" said \\ no\nsecond line'; exit 2"#)
        ),
    ));
    let r = run_at(&env, T0, &["run"], &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let reqs = receiver.requests();
    assert_eq!(reqs.len(), 1, "{r:?}");
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].header("X-Token"), Some("abc"));
    assert_eq!(reqs[0].header("Content-Type"), Some("application/json"));
    let body: Value = serde_json::from_str(&reqs[0].body).expect("the body is valid JSON");
    assert_eq!(body["title"], "web is CRITICAL");
    assert_eq!(body["incident"], format!("cabot/web/{T0}"));
    let detail = body["detail"].as_str().unwrap_or("");
    assert!(
        detail.starts_with(r#"home: CRITICAL - "db" said \ no"#),
        "{detail}"
    );
}

#[test]
fn a_text_template_and_an_unknown_placeholder() {
    let receiver = HttpServer::start(|_| Reply::new(204, ""));
    let target = Target::new();
    let keys = format!(
        "url: '{}', body: '{{{{status}}}}: {{{{text}}}}'",
        receiver.url("/hook")
    );
    let env = env_with("webhook", &keys, &target, "");
    let r = run_at(&env, T0, &["test-alert", "push"], &[]);
    assert_eq!(
        (r.code, r.stdout.as_str()),
        (0, "push: webhook: ok HTTP 204\n"),
        "{r:?}"
    );
    let reqs = receiver.requests();
    assert_eq!(reqs[0].method, "POST");
    assert_eq!(
        reqs[0].header("Content-Type"),
        Some("text/plain; charset=utf-8")
    );
    assert_eq!(
        reqs[0].body,
        "PASSING: TEST: a test alert from cabot for cabot-test"
    );

    let bad = env_with(
        "webhook",
        "url: 'http://127.0.0.1:9/', body: '{{sevrice}}'",
        &target,
        "",
    );
    let v = bad.cabot(&["validate"]);
    assert_eq!(v.code, 78, "{v:?}");
    assert!(
        v.stderr.contains(":3:60: channels.push.body: unknown placeholder '{{sevrice}}' (one of: kind, service, status"),
        "{v:?}"
    );
}
