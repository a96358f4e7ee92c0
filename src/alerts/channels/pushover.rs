//! `pushover`: a push notification to each user's Pushover user key through Pushover's
//! Message API (`POST /1/messages.json`, https://pushover.net/api). The priority follows
//! the status: WARNING normal (0), ERROR high (1), CRITICAL emergency (2), which Pushover
//! repeats every `retry` until someone acknowledges it in the app or `expire` passes; a
//! recovery is quiet (-1).
//!
//! An emergency carries its incident as a tag. It is the one emergency of its incident:
//! one that is live is cancelled (`POST /1/receipts/cancel_by_tag/TAG.json`) before a new
//! one (an escalation back to CRITICAL) is sent, a repeat of a CRITICAL incident is high
//! priority rather than another emergency (the first still rings), and an acknowledgement
//! in cabot or the recovery cancels it, so no phone rings for an incident that is handled
//! or over.

use std::time::Duration;

use serde::Deserialize;

use super::{
    Attempt, ChannelType, Contact, Reach, Verdict, agent, base_url, incident_key, judge, secret,
};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Range, Reader, range};
use crate::core::Status;
use crate::text::truncate_chars;

const NAME: &str = "pushover";
const BASE_URL: &str = "https://api.pushover.net";
/// Pushover's limits, in characters.
const MESSAGE_MAX: usize = 1024;
const TITLE_MAX: usize = 250;
/// Pushover's bounds for an emergency's repeats: at least every 30 s, for at most 3 h.
const EMERGENCY: Range = range(30, 3 * 3600);

/// A user's Pushover user key (or a group key): 30 letters and digits.
pub const PUSHOVER: Contact = Contact {
    key: "pushover",
    check: |value| {
        if value.len() == 30 && value.chars().all(|c| c.is_ascii_alphanumeric()) {
            Verdict::Usable
        } else {
            Verdict::Unusable(format!(
                "'{value}' is not a Pushover user key (30 letters and digits, shown on your \
                 Pushover dashboard)"
            ))
        }
    },
};

#[derive(Debug, Clone)]
pub struct Pushover {
    /// The application's API token.
    pub token: Secret,
    /// How often an emergency repeats until acknowledged, and for how long.
    pub retry: Duration,
    pub expire: Duration,
    pub base_url: String,
}

impl ChannelType for Pushover {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &[
        "token",
        "token_env",
        "token_file",
        "retry",
        "expire",
        "base_url",
    ];
    const REACH: Reach = Reach::EachUser(PUSHOVER);
    const FIX: &'static str = "token, and each user's pushover key";
    const INCIDENTS: bool = true;

    fn read(r: &mut Reader, f: &Fields) -> Option<Pushover> {
        let token = r.required_secret(f, "token");
        // Pushover's own bounds: an emergency repeats at most every 30s, for at most 3h.
        let retry = r.opt_duration(f, "retry", Duration::from_secs(60), EMERGENCY);
        let expire = r.opt_duration(f, "expire", Duration::from_secs(3600), EMERGENCY);
        let base_url = base_url(r, f, BASE_URL);
        Some(Pushover {
            token: token?,
            retry,
            expire,
            base_url,
        })
    }

    fn send(&self, alert: &Alert, user: &str, timeout: Duration) -> Vec<Attempt> {
        let token = match secret(NAME, &self.token) {
            Ok(t) => t,
            Err(a) => return vec![a],
        };
        let tag = tag(alert);
        let priority = priority(alert);
        let mut attempts = Vec::new();
        if alert.kind == AlertKind::Ack || alert.kind == AlertKind::Recovery || priority == 2 {
            let cancelled = self.cancel(&token, &tag, timeout);
            // Without the cancel, a recovery or an ack has not done its work: tried again.
            let failed = !cancelled.ok && alert.kind != AlertKind::Alert;
            attempts.push(cancelled);
            if failed || alert.kind == AlertKind::Ack {
                return attempts;
            }
        }
        attempts.push(self.message(alert, user, &token, &tag, priority, timeout));
        attempts
    }
}

impl Pushover {
    /// Cancels the live emergencies tagged `tag` (none is no error).
    fn cancel(&self, token: &str, tag: &str, timeout: Duration) -> Attempt {
        let result = agent(timeout)
            .post(&format!(
                "{}/1/receipts/cancel_by_tag/{}.json",
                self.base_url,
                crate::http_client::encode_component(tag)
            ))
            .send_form([("token", token)]);
        judge(NAME, result, |a: &Cancelled| {
            (a.status == 1).then(|| {
                format!(
                    "cancelled {} emergencies tagged {tag}, request {}",
                    a.canceled.unwrap_or(0),
                    a.request
                )
            })
        })
    }

    fn message(
        &self,
        alert: &Alert,
        user: &str,
        token: &str,
        tag: &str,
        priority: i8,
        timeout: Duration,
    ) -> Attempt {
        let (link, link_title) = match (&alert.runbook, &alert.url) {
            (Some(runbook), _) => (runbook.as_str(), "Runbook"),
            (None, Some(url)) => (url.as_str(), "Service"),
            (None, None) => ("", ""),
        };
        let title = truncate_chars(&alert.subject(), TITLE_MAX);
        let message = alert.message(MESSAGE_MAX, crate::text::chars);
        let timestamp = alert.time.to_string();
        let priority_text = priority.to_string();
        let retry = self.retry.as_secs().to_string();
        let expire = self.expire.as_secs().to_string();
        let mut form: Vec<(&str, &str)> = vec![
            ("token", token),
            ("user", user),
            ("title", &title),
            ("message", &message),
            ("priority", &priority_text),
            ("timestamp", &timestamp),
        ];
        if !link.is_empty() {
            form.extend([("url", link), ("url_title", link_title)]);
        }
        if priority == 2 {
            form.extend([
                ("retry", retry.as_str()),
                ("expire", expire.as_str()),
                ("tags", tag),
            ]);
        }
        let result = agent(timeout)
            .post(&format!("{}/1/messages.json", self.base_url))
            .send_form(form);
        judge(NAME, result, |a: &Answer| {
            (a.status == 1).then(|| match &a.receipt {
                Some(receipt) => format!("request {}, receipt {receipt}", a.request),
                None => format!("request {}", a.request),
            })
        })
    }
}

/// What Pushover answers to a cancel by tag.
#[derive(Deserialize)]
struct Cancelled {
    status: i64,
    request: String,
    canceled: Option<i64>,
}

/// The incident as a Pushover tag: its id with every character but letters and digits
/// made a `-` (`cabot-web-1800000000`).
fn tag(alert: &Alert) -> String {
    incident_key(alert, usize::MAX)
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect()
}

/// Pushover's answer: `status` 1 when queued; an emergency also gets a receipt.
#[derive(Deserialize)]
struct Answer {
    status: i64,
    request: String,
    receipt: Option<String>,
}

/// -2 lowest ... 2 emergency; a repeat is never an emergency (the first still rings).
fn priority(alert: &Alert) -> i8 {
    match (alert.kind, alert.status) {
        (AlertKind::Recovery | AlertKind::Ack, _) => -1,
        (AlertKind::Test, _) | (_, Status::Passing | Status::Warning) => 0,
        (AlertKind::Repeat, _) | (_, Status::Error) => 1,
        (AlertKind::Alert, Status::Critical) => 2,
    }
}
