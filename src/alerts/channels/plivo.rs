//! Plivo: SMS through its Message API, calls through its Call API.

use serde_json::{Value, json};

use ureq::Agent;

use super::{attempt, judge, secret};
use crate::alerts::message::Alert;
use crate::config::Provider;
use crate::http_client::basic_auth;
use crate::store::outbox::AttemptRecord;

fn post(api: &Agent, provider: &Provider, resource: &str, body: Value) -> AttemptRecord {
    let Provider::Plivo {
        auth_id,
        auth_token,
        base_url,
        ..
    } = provider
    else {
        unreachable!("plivo::post is only called with a Plivo provider")
    };
    let token = match secret("plivo", auth_token) {
        Ok(t) => t,
        Err(a) => return a,
    };
    let url = format!(
        "{}/v1/Account/{auth_id}/{resource}/",
        base_url.trim_end_matches('/')
    );
    let result = api
        .post(&url)
        .header("Authorization", &basic_auth(auth_id, &token))
        .header("Content-Type", "application/json")
        .send(body.to_string());
    judge("plivo", result, |v| {
        let id = v.get("message_uuid").or_else(|| v.get("request_uuid"))?;
        Some(match id {
            Value::Array(ids) => {
                format!("uuid {}", ids.first().and_then(Value::as_str).unwrap_or(""))
            }
            other => format!("uuid {}", other.as_str().unwrap_or("")),
        })
    })
}

fn from(provider: &Provider) -> &str {
    match provider {
        Provider::Plivo { from, .. } | Provider::Twilio { from, .. } => from,
    }
}

pub fn sms(api: &Agent, provider: &Provider, to: &str, alert: &Value) -> AttemptRecord {
    post(
        api,
        provider,
        "Message",
        json!({ "src": from(provider), "dst": to, "text": Alert(alert).sms() }),
    )
}

pub fn call(api: &Agent, provider: &Provider, to: &str, alert: &Value) -> AttemptRecord {
    let Provider::Plivo { answer_url, .. } = provider else {
        unreachable!("plivo::call is only called with a Plivo provider")
    };
    let Some(answer_url) = answer_url else {
        return attempt(
            "plivo",
            false,
            "a Plivo call needs answer_url (an XML document for Plivo to speak)",
        );
    };
    let _ = Alert(alert);
    post(
        api,
        provider,
        "Call",
        json!({ "from": from(provider), "to": to, "answer_url": answer_url, "answer_method": "GET" }),
    )
}
