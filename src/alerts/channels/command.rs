//! Command: runs a program with the alert's JSON on stdin and its key fields in the
//! environment. Exit 0 is delivered. No shell; killed with its children on timeout.

use std::time::Duration;

use serde_json::Value;

use super::attempt;
use crate::alerts::message::Alert;
use crate::process::{self, Failure};
use crate::store::outbox::AttemptRecord;

const OUTPUT_MAX: u64 = 4096;

pub fn send(argv: &[String], timeout: Duration, alert: &Value) -> AttemptRecord {
    let a = Alert(alert);
    let env = [
        ("CABOT_ALERT_KIND", a.kind().to_string()),
        ("CABOT_SERVICE", a.service().to_string()),
        ("CABOT_STATUS", a.status().to_string()),
        (
            "CABOT_PREVIOUS_STATUS",
            a.str("previous_status").to_string(),
        ),
        (
            "CABOT_ALERT_ID",
            alert.get("id").map(Value::to_string).unwrap_or_default(),
        ),
    ];
    let stdin = Some(alert.to_string().into_bytes());
    match process::run(argv, &env, stdin, timeout, OUTPUT_MAX) {
        Ok(done) => {
            let said = if done.stderr.trim().is_empty() {
                done.stdout
            } else {
                done.stderr
            };
            let status = process::describe(&done.status);
            attempt(
                "command",
                done.status.success(),
                format!("{status} {}", said.trim()),
            )
        }
        Err(Failure::Spawn(e)) => attempt(
            "command",
            false,
            format!(
                "cannot run {}: {e}",
                argv.first().map_or("", String::as_str)
            ),
        ),
        Err(Failure::Timeout { .. }) => attempt(
            "command",
            false,
            format!("timed out after {}", humantime::format_duration(timeout)),
        ),
    }
}
