//! Sending one alert to one recipient through one channel, with failover between the
//! channel's providers or servers. Each file here is one way out.

mod command;
mod email;
mod plivo;
mod slack;
mod twilio;
mod webhook;

use std::time::Duration;

use serde_json::Value;

use crate::config::{Channel, ChannelKind, Provider};
use crate::store::outbox::AttemptRecord;

/// Tries the channel's providers in order until one accepts; returns every attempt.
pub fn send(channel: &Channel, alert: &Value, recipient: &str) -> Vec<AttemptRecord> {
    let mut attempts = Vec::new();
    match &channel.kind {
        ChannelKind::Email { from, servers } => {
            for server in servers {
                let a = email::send(server, from, recipient, alert, channel.timeout);
                let ok = a.ok;
                attempts.push(a);
                if ok {
                    break;
                }
            }
        }
        ChannelKind::Sms { providers } | ChannelKind::Phone { providers } => {
            let call = matches!(channel.kind, ChannelKind::Phone { .. });
            for provider in providers {
                let api = agent(channel.timeout);
                let a = match (provider, call) {
                    (Provider::Twilio { .. }, false) => {
                        twilio::sms(&api, provider, recipient, alert)
                    }
                    (Provider::Twilio { .. }, true) => {
                        twilio::call(&api, provider, recipient, alert)
                    }
                    (Provider::Plivo { .. }, false) => plivo::sms(&api, provider, recipient, alert),
                    (Provider::Plivo { .. }, true) => plivo::call(&api, provider, recipient, alert),
                };
                let ok = a.ok;
                attempts.push(a);
                if ok {
                    break;
                }
            }
        }
        ChannelKind::Slack { webhook_url } => attempts.push(slack::send(
            &agent(channel.timeout),
            webhook_url,
            alert,
            recipient,
        )),
        ChannelKind::Webhook { url, headers } => {
            attempts.push(webhook::send(&agent(channel.timeout), url, headers, alert))
        }
        ChannelKind::Command { command } => {
            attempts.push(command::send(command, channel.timeout, alert))
        }
    }
    attempts
}

/// An HTTP agent for provider APIs: bounded, and 4xx/5xx are answers, not errors.
fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("cabot/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

fn attempt(provider: &str, ok: bool, detail: impl Into<String>) -> AttemptRecord {
    AttemptRecord {
        provider: provider.to_string(),
        ok,
        detail: crate::alerts::message::one_line(&detail.into(), 300),
    }
}

/// Reads an API's answer: 2xx with a body that `accept` finds the proof in is delivered.
fn judge(
    provider: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    accept: impl Fn(&Value) -> Option<String>,
) -> AttemptRecord {
    let mut response = match result {
        Ok(r) => r,
        Err(e) => return attempt(provider, false, e.to_string()),
    };
    let code = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    if !(200..300).contains(&code) {
        return attempt(provider, false, format!("HTTP {code}: {body}"));
    }
    match serde_json::from_str::<Value>(&body)
        .ok()
        .as_ref()
        .and_then(&accept)
    {
        Some(id) => attempt(provider, true, format!("accepted ({id})")),
        None => attempt(
            provider,
            false,
            format!("HTTP {code} but not the answer expected: {body}"),
        ),
    }
}

/// A secret's value, or the attempt that failed for want of it.
fn secret(provider: &str, s: &crate::config::Secret) -> Result<String, AttemptRecord> {
    s.resolve()
        .map_err(|e| attempt(provider, false, e.to_string()))
}
