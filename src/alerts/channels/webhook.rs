//! Webhook: the alert's JSON, POSTed.

use serde_json::Value;
use ureq::Agent;

use super::{attempt, secret};
use crate::config::Secret;
use crate::store::outbox::AttemptRecord;

pub fn send(
    api: &Agent,
    url: &Secret,
    headers: &[(String, String)],
    alert: &Value,
) -> AttemptRecord {
    let url = match secret("webhook", url) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let mut request = api.post(&url).header("Content-Type", "application/json");
    for (name, value) in headers {
        request = request.header(name, value);
    }
    match request.send(alert.to_string()) {
        Ok(r) if r.status().is_success() => {
            attempt("webhook", true, format!("HTTP {}", r.status().as_u16()))
        }
        Ok(r) => attempt("webhook", false, format!("HTTP {}", r.status().as_u16())),
        Err(e) => attempt("webhook", false, e.to_string()),
    }
}
