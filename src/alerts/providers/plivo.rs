//! Plivo: SMS through its Message API, calls through its Call API (which fetches what to
//! say from `answer_url`).

use serde::Deserialize;
use serde_json::json;
use ureq::Agent;

use super::read_account;
use crate::alerts::alert::Alert;
use crate::alerts::channels::{Attempt, judge, secret};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::http_client::basic_auth;

pub const NAME: &str = "plivo";
pub const KEYS: &[&str] = &[
    "auth_id",
    "auth_token",
    "auth_token_env",
    "auth_token_file",
    "from",
    "base_url",
    // Plivo calls fetch what to say from a URL; Twilio takes it inline.
    "answer_url",
];
const BASE_URL: &str = "https://api.plivo.com";

#[derive(Debug, Clone)]
pub struct Plivo {
    pub auth_id: String,
    pub auth_token: Secret,
    pub from: String,
    pub base_url: String,
    /// Where Plivo fetches the XML a call speaks.
    pub answer_url: Option<String>,
}

/// What Plivo answers when it queues a message (`message_uuid`, a list) or a call
/// (`request_uuid`).
#[derive(Deserialize)]
struct Queued {
    message_uuid: Option<Uuids>,
    request_uuid: Option<Uuids>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Uuids {
    One(String),
    Many(Vec<String>),
}

impl Uuids {
    /// The first id, if there is a non-empty one: a 202 with `"message_uuid": []` queued
    /// nothing.
    fn first(&self) -> Option<&str> {
        match self {
            Uuids::One(id) => Some(id.as_str()),
            Uuids::Many(ids) => ids.first().map(String::as_str),
        }
        .filter(|id| !id.trim().is_empty())
    }
}

impl Plivo {
    pub(crate) fn read(r: &mut Reader, p: &Fields) -> Option<Plivo> {
        let answer_url = p
            .get("answer_url")
            .and_then(|n| r.url(n, &p.path("answer_url"), &["http", "https"]));
        let account = read_account(r, p, "auth_id", BASE_URL)?;
        Some(Plivo {
            auth_id: account.id,
            auth_token: account.token,
            from: account.from,
            base_url: account.base_url,
            answer_url,
        })
    }

    pub fn sms(&self, api: &Agent, to: &str, alert: &Alert) -> Attempt {
        self.post(
            api,
            "Message",
            json!({ "src": self.from, "dst": to, "text": alert.sms() }),
        )
    }

    pub fn call(&self, api: &Agent, to: &str, _: &Alert) -> Attempt {
        let Some(answer_url) = &self.answer_url else {
            return Attempt::new(
                NAME,
                false,
                "a Plivo call needs answer_url (an XML document for Plivo to speak)",
            );
        };
        self.post(
            api,
            "Call",
            json!({ "from": self.from, "to": to, "answer_url": answer_url, "answer_method": "GET" }),
        )
    }

    fn post(&self, api: &Agent, resource: &str, body: serde_json::Value) -> Attempt {
        let token = match secret(NAME, &self.auth_token) {
            Ok(t) => t,
            Err(a) => return a,
        };
        let url = format!(
            "{}/v1/Account/{}/{resource}/",
            self.base_url.trim_end_matches('/'),
            self.auth_id
        );
        let result = api
            .post(&url)
            .header("Authorization", &basic_auth(&self.auth_id, &token))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        judge(NAME, result, |q: &Queued| {
            let id = q.message_uuid.as_ref().or(q.request_uuid.as_ref())?;
            Some(format!("uuid {}", id.first()?))
        })
    }
}
