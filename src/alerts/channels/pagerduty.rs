//! `pagerduty`: PagerDuty's Events API v2 (`POST /v2/enqueue`,
//! https://developer.pagerduty.com/docs/events-api-v2/trigger-events/). An alert or a
//! repeat is a `trigger` and a recovery a `resolve`, all with the incident's id as the
//! `dedup_key`, so PagerDuty keeps one alert per incident and closes it itself; `cabot ack`
//! (or an ack link) is an `acknowledge` of that key, which stops PagerDuty's escalation.
//! A test alert triggers at `info` severity and resolves at once.
//!
//! The other way: with `webhook_secret` (a V3 webhook subscription's signing secret),
//! `serve-status` takes PagerDuty's webhooks at `POST /hooks/CHANNEL`, each signed in
//! `X-PagerDuty-Signature: v1=HEX` (HMAC-SHA256 of the body; several during a secret's
//! rotation), and an `incident.acknowledged` of one of cabot's incidents (its
//! `incident_key` is cabot's `dedup_key`) acknowledges it in cabot too.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{
    Attempt, ChannelType, Hook, Hooked, Reach, agent, base_url, incident_key, judge, secret,
};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::core::Status;

const NAME: &str = "pagerduty";
const BASE_URL: &str = "https://events.pagerduty.com";
/// PagerDuty's limits on `dedup_key` and `payload.summary`.
const DEDUP_KEY_MAX: usize = 255;
const SUMMARY_MAX: usize = 1024;

#[derive(Debug, Clone)]
pub struct PagerDuty {
    /// The integration key of an Events API v2 integration.
    pub routing_key: Secret,
    pub base_url: String,
    /// The signing secret of a V3 webhook subscription that sends here.
    pub webhook_secret: Option<Secret>,
}

impl ChannelType for PagerDuty {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &[
        "routing_key",
        "routing_key_env",
        "routing_key_file",
        "base_url",
        "webhook_secret",
        "webhook_secret_env",
        "webhook_secret_file",
    ];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "routing_key";
    const INCIDENTS: bool = true;

    fn read(r: &mut Reader, f: &Fields) -> Option<PagerDuty> {
        let routing_key = r.required_secret(f, "routing_key");
        let base_url = base_url(r, f, BASE_URL);
        let webhook_secret = r.secret(f, "webhook_secret");
        Some(PagerDuty {
            routing_key: routing_key?,
            base_url,
            webhook_secret,
        })
    }

    fn hook(&self, request: &Hooked) -> Hook {
        let Some(secret) = self.webhook_secret.as_ref().and_then(|s| s.resolve().ok()) else {
            return Hook::NotHere;
        };
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
        let signed = request
            .header("X-PagerDuty-Signature")
            .unwrap_or("")
            .split(',')
            .filter_map(|s| s.trim().strip_prefix("v1="))
            .filter_map(crate::text::from_hex)
            .any(|tag| ring::hmac::verify(&key, request.body, &tag).is_ok());
        if !signed {
            return Hook::Refused;
        }
        let Ok(hooked) = serde_json::from_slice::<Webhook>(request.body) else {
            return Hook::Ignored("not a V3 webhook event".into());
        };
        let e = hooked.event;
        if e.event_type != "incident.acknowledged" {
            return Hook::Ignored(format!("{} is not an acknowledgement", e.event_type));
        }
        let Some(incident) = e.data.incident_key else {
            return Hook::Ignored("the incident has no incident_key".into());
        };
        let who = e.agent.and_then(|a| a.summary).unwrap_or_else(|| "someone".into());
        Hook::Acked {
            event: e.id,
            incident,
            by: format!("{who} (PagerDuty)"),
        }
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let routing_key = match secret(NAME, &self.routing_key) {
            Ok(k) => k,
            Err(a) => return vec![a],
        };
        let key = incident_key(alert, DEDUP_KEY_MAX);
        let action = match alert.kind {
            AlertKind::Recovery => Action::Resolve,
            AlertKind::Ack => Action::Acknowledge,
            AlertKind::Alert | AlertKind::Repeat | AlertKind::Test => Action::Trigger,
        };
        let first = self.enqueue(&routing_key, action, &key, alert, timeout);
        if alert.kind != AlertKind::Test || !first.ok {
            return vec![first];
        }
        // A test opens nothing that somebody must close.
        let resolved = self.enqueue(&routing_key, Action::Resolve, &key, alert, timeout);
        vec![first, resolved]
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
enum Action {
    Trigger,
    Acknowledge,
    Resolve,
}

/// An event, as the Events API v2 takes it.
#[derive(Serialize)]
struct Event<'a> {
    routing_key: &'a str,
    event_action: Action,
    dedup_key: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    payload: Option<Payload>,
    client: &'static str,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    links: Vec<Link<'a>>,
}

#[derive(Serialize)]
struct Payload {
    summary: String,
    source: String,
    severity: &'static str,
    timestamp: String,
    custom_details: serde_json::Value,
}

#[derive(Serialize)]
struct Link<'a> {
    href: &'a str,
    text: &'static str,
}

/// A V3 webhook: one event, of which cabot reads what it needs.
#[derive(Deserialize)]
struct Webhook {
    event: WebhookEvent,
}

#[derive(Deserialize)]
struct WebhookEvent {
    id: String,
    event_type: String,
    agent: Option<Agent>,
    data: WebhookData,
}

#[derive(Deserialize)]
struct Agent {
    summary: Option<String>,
}

#[derive(Deserialize)]
struct WebhookData {
    incident_key: Option<String>,
}

/// What PagerDuty answers to an accepted event (202).
#[derive(Deserialize)]
struct Accepted {
    status: String,
    dedup_key: Option<String>,
}

impl PagerDuty {
    fn enqueue(
        &self,
        routing_key: &str,
        action: Action,
        key: &str,
        alert: &Alert,
        timeout: Duration,
    ) -> Attempt {
        let mut links = Vec::new();
        if let Some(url) = &alert.url {
            links.push(Link {
                href: url,
                text: "Service",
            });
        }
        if let Some(runbook) = &alert.runbook {
            links.push(Link {
                href: runbook,
                text: "Runbook",
            });
        }
        let event = Event {
            routing_key,
            event_action: action,
            dedup_key: key,
            // A resolve needs only the key.
            payload: (action == Action::Trigger).then(|| Payload {
                summary: crate::text::one_line(&alert.text(), SUMMARY_MAX),
                source: alert.service.clone(),
                severity: severity(alert),
                timestamp: crate::clock::format_time(alert.time),
                custom_details: serde_json::json!({
                    "status": alert.status,
                    "previous_status": alert.previous_status,
                    "checks": alert.checks,
                }),
            }),
            client: "cabot",
            links: if action == Action::Trigger {
                links
            } else {
                Vec::new()
            },
        };
        let result = agent(timeout)
            .post(&format!("{}/v2/enqueue", self.base_url))
            .header("Content-Type", "application/json")
            .send(serde_json::to_string(&event).unwrap_or_default());
        let verb = match action {
            Action::Trigger => "trigger",
            Action::Acknowledge => "acknowledge",
            Action::Resolve => "resolve",
        };
        judge(NAME, result, |a: &Accepted| {
            (a.status == "success").then(|| {
                format!(
                    "{verb}, dedup_key {}",
                    a.dedup_key.as_deref().unwrap_or(key)
                )
            })
        })
    }
}

/// PagerDuty's severities: `critical`, `error`, `warning`, `info`.
fn severity(alert: &Alert) -> &'static str {
    match (alert.kind, alert.status) {
        (AlertKind::Test, _) | (_, Status::Passing) => "info",
        (_, Status::Warning) => "warning",
        (_, Status::Error) => "error",
        (_, Status::Critical) => "critical",
    }
}
