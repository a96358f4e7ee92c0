//! `opsgenie`: Opsgenie's Alert API v2 (https://docs.opsgenie.com/docs/alert-api) with a
//! `GenieKey` API key. An alert or a repeat creates an alert whose `alias` is the
//! incident's id (Opsgenie folds a create with an open alias into that alert), an
//! acknowledgement in cabot acknowledges it by alias (so Opsgenie's escalation stops), and
//! a recovery closes it by alias, so Opsgenie opens and closes one alert per incident.
//! Opsgenie answers 202 and processes requests asynchronously.
//!
//! The other way: with `webhook_token`, `serve-status` takes the requests of an Opsgenie
//! Webhook integration at `POST /hooks/CHANNEL` when they carry the token in the header
//! `X-Cabot-Token` (a custom header of the integration), and an `Acknowledge` of one of
//! cabot's alerts (by its alias) acknowledges the incident in cabot too.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Attempt, ChannelType, Hook, Hooked, Reach, agent, incident_key, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::core::Status;
use crate::http_client::encode_component;
use crate::text::truncate;

const NAME: &str = "opsgenie";
const US: &str = "https://api.opsgenie.com";
const EU: &str = "https://api.eu.opsgenie.com";
/// Opsgenie's limits: `message` 130 characters, `alias` 512, `description` 15,000.
const MESSAGE_MAX: usize = 130;
const ALIAS_MAX: usize = 512;
const DESCRIPTION_MAX: usize = 15_000;

#[derive(Debug, Clone)]
pub struct Opsgenie {
    /// An API key of an API integration.
    pub api_key: Secret,
    /// `https://api.opsgenie.com`, or the EU's with `region: eu`, or `base_url`.
    pub base_url: String,
    /// What a Webhook integration sends in `X-Cabot-Token`, so that its requests are taken.
    pub webhook_token: Option<Secret>,
}

impl ChannelType for Opsgenie {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &[
        "api_key",
        "api_key_env",
        "api_key_file",
        "region",
        "base_url",
        "webhook_token",
        "webhook_token_env",
        "webhook_token_file",
    ];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "api_key and region";
    const INCIDENTS: bool = true;

    fn read(r: &mut Reader, f: &Fields) -> Option<Opsgenie> {
        let api_key = r.required_secret(f, "api_key");
        let region = match r.opt_string(f, "region").as_deref() {
            None | Some("us") => US,
            Some("eu") => EU,
            Some(other) => {
                if let Some(n) = f.get("region") {
                    r.error(
                        n.mark,
                        &f.path("region"),
                        format!("'{other}' is not an Opsgenie region: us or eu"),
                    );
                }
                US
            }
        };
        let base_url = super::base_url(r, f, region);
        let webhook_token = r.secret(f, "webhook_token");
        Some(Opsgenie {
            api_key: api_key?,
            base_url,
            webhook_token,
        })
    }

    fn hook(&self, request: &Hooked) -> Hook {
        let Some(token) = self.webhook_token.as_ref().and_then(|s| s.resolve().ok()) else {
            return Hook::NotHere;
        };
        let given = request.header("X-Cabot-Token").unwrap_or("");
        if !crate::text::same_secret(given.as_bytes(), token.as_bytes()) {
            return Hook::Refused;
        }
        let Ok(hooked) = serde_json::from_slice::<Webhook>(request.body) else {
            return Hook::Ignored("not an Opsgenie webhook".into());
        };
        if hooked.action != "Acknowledge" {
            return Hook::Ignored(format!("{} is not an acknowledgement", hooked.action));
        }
        let a = hooked.alert;
        let Some(incident) = a.alias else {
            return Hook::Ignored("the alert has no alias".into());
        };
        let who = a.username.unwrap_or_else(|| "someone".into());
        Hook::Acked {
            event: format!("{}/{}", a.alert_id, hooked.action),
            incident,
            by: format!("{who} (Opsgenie)"),
        }
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let key = match secret(NAME, &self.api_key) {
            Ok(k) => k,
            Err(a) => return vec![a],
        };
        let alias = incident_key(alert, ALIAS_MAX);
        let by_alias = |action: &str| {
            format!(
                "{}/v2/alerts/{}/{action}?identifierType=alias",
                self.base_url,
                encode_component(&alias)
            )
        };
        let (url, body) = match alert.kind {
            AlertKind::Recovery => (
                by_alias("close"),
                json!({ "source": "cabot", "note": alert.text() }),
            ),
            AlertKind::Ack => {
                let mut body = json!({ "source": "cabot", "note": alert.text() });
                if let Some(by) = &alert.acked_by {
                    body["note"] = json!(format!("{} by {by}", alert.text()));
                }
                (by_alias("acknowledge"), body)
            }
            AlertKind::Alert | AlertKind::Repeat | AlertKind::Test => {
                (format!("{}/v2/alerts", self.base_url), create(alert, &alias))
            }
        };
        let first = post(&url, &key, &body, timeout);
        if alert.kind != AlertKind::Test || !first.ok {
            return vec![first];
        }
        // A test leaves nothing open.
        let closed = post(&by_alias("close"), &key, &json!({ "source": "cabot" }), timeout);
        vec![first, closed]
    }
}

fn post(url: &str, key: &str, body: &serde_json::Value, timeout: Duration) -> Attempt {
    let result = agent(timeout)
        .post(url)
        .header("Authorization", &format!("GenieKey {key}"))
        .header("Content-Type", "application/json")
        .send(body.to_string());
    judge(NAME, result, |a: &Accepted| {
        Some(format!("{}, request {}", a.result, a.request_id))
    })
}

/// What a Webhook integration posts: the action and the alert it was done to.
#[derive(Deserialize)]
struct Webhook {
    action: String,
    alert: WebhookAlert,
}

#[derive(Deserialize)]
struct WebhookAlert {
    #[serde(rename = "alertId")]
    alert_id: String,
    alias: Option<String>,
    username: Option<String>,
}

/// What Opsgenie answers to a request it queued.
#[derive(Deserialize)]
struct Accepted {
    result: String,
    #[serde(rename = "requestId")]
    request_id: String,
}

fn create(alert: &Alert, alias: &str) -> serde_json::Value {
    let mut description: Vec<String> = alert
        .check_lines()
        .map(|(name, importance, message)| format!("{name} [{importance}]: {message}"))
        .collect();
    if let Some(runbook) = &alert.runbook {
        description.push(format!("Runbook: {runbook}"));
    }
    let mut details = json!({
        "status": alert.status,
        "previous_status": alert.previous_status,
    });
    if let Some(url) = &alert.url {
        details["url"] = json!(url);
    }
    if let Some(runbook) = &alert.runbook {
        details["runbook"] = json!(runbook);
    }
    json!({
        "message": truncate(&alert.text(), MESSAGE_MAX),
        "alias": alias,
        "description": truncate(&description.join("\n"), DESCRIPTION_MAX),
        "priority": priority(alert),
        "source": "cabot",
        "entity": alert.service,
        "tags": ["cabot", alert.status.as_str()],
        "details": details,
    })
}

/// Opsgenie's priorities: P1 critical ... P5 informational.
fn priority(alert: &Alert) -> &'static str {
    match (alert.kind, alert.status) {
        (AlertKind::Test, _) | (_, Status::Passing) => "P5",
        (_, Status::Warning) => "P3",
        (_, Status::Error) => "P2",
        (_, Status::Critical) => "P1",
    }
}
