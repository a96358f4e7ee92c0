//! Check types end to end, one file per type: `cabot run --all`, then `cabot status --json`,
//! against servers (or programs) the test starts on 127.0.0.1. A new check type gets its
//! own file here; what several share is below.

mod cabot;
mod command;
mod dns;
mod domain;
mod graphite;
mod heartbeat;
mod http;
mod icmp;
mod jenkins;
mod tcp;
mod tls;

use crate::support::*;

/// The time cabot is told it is (2026-01-01T00:00:00Z), where a test needs to know it.
pub(crate) const NOW: i64 = 1_767_225_600;

/// One service `svc` with the given checks (YAML list items, indented 6).
pub(crate) fn config(checks: &str) -> String {
    format!("services:\n  - name: svc\n    checks:\n{checks}")
}

/// Runs every check once at `now` (or on the real clock) and returns the status JSON.
pub(crate) fn run_all(env: &Env, now: Option<i64>) -> serde_json::Value {
    let run = match now {
        Some(now) => env.cabot_at(now, &["run", "--all"]),
        None => env.cabot(&["run", "--all"]),
    };
    assert_eq!(run.code, 0, "{run:?}");
    env.status_json()
}

/// (status, message) of one check in a status JSON.
pub(crate) fn result(status: &serde_json::Value, check: &str) -> (String, String) {
    let c = check_json(status, "svc", check);
    (
        c["status"].as_str().unwrap_or("").to_string(),
        c["message"].as_str().unwrap_or("").to_string(),
    )
}

/// Asserts each (check, status, text in the message).
pub(crate) fn expect(status: &serde_json::Value, cases: &[(&str, &str, &str)]) {
    for (check, want_status, want_text) in cases {
        let (got_status, message) = result(status, check);
        assert_eq!(&got_status, want_status, "{check}: {message}");
        assert!(
            message.contains(want_text),
            "{check}: {message:?} lacks {want_text:?}"
        );
    }
}
