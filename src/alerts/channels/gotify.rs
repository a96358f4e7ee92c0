//! `gotify`: a message to a self-hosted Gotify server (`POST /message` with the
//! application's token in `X-Gotify-Key`, https://gotify.net/api-docs), its priority from
//! the status (Gotify's apps ring from 8 up by default: CRITICAL 10, ERROR 8, WARNING 5,
//! a recovery 2). Gotify answers with the message it stored, and its id.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Attempt, ChannelType, Reach, agent, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::core::Status;

const NAME: &str = "gotify";
const MESSAGE_MAX: usize = 8_000;

#[derive(Debug, Clone)]
pub struct Gotify {
    /// The server, `https://gotify.example.com` (under a path if it is served so).
    pub url: String,
    /// An application's token.
    pub token: Secret,
}

impl ChannelType for Gotify {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &["url", "token", "token_env", "token_file"];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "url and token";

    fn read(r: &mut Reader, f: &Fields) -> Option<Gotify> {
        let url = r.required_url(f, "url", &["https", "http"]);
        let token = r.required_secret(f, "token");
        Some(Gotify {
            url: url?.trim_end_matches('/').to_string(),
            token: token?,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let token = match secret(NAME, &self.token) {
            Ok(t) => t,
            Err(a) => return vec![a],
        };
        let mut body = json!({
            "title": alert.subject(),
            "message": alert.message(MESSAGE_MAX, str::len),
            "priority": priority(alert),
        });
        if let Some(link) = alert.runbook.as_ref().or(alert.url.as_ref()) {
            // Gotify's clients open this when the notification is tapped.
            body["extras"] = json!({ "client::notification": { "click": { "url": link } } });
        }
        let result = agent(timeout)
            .post(&format!("{}/message", self.url))
            .header("X-Gotify-Key", &token)
            .header("Content-Type", "application/json")
            .send(body.to_string());
        vec![judge(NAME, result, |m: &Stored| Some(format!("id {}", m.id)))]
    }
}

/// The message Gotify stored.
#[derive(Deserialize)]
struct Stored {
    id: i64,
}

fn priority(alert: &Alert) -> u8 {
    match (alert.kind, alert.status) {
        (AlertKind::Recovery, _) => 2,
        (AlertKind::Test, _) | (_, Status::Passing | Status::Warning) => 5,
        (_, Status::Error) => 8,
        (_, Status::Critical) => 10,
    }
}
