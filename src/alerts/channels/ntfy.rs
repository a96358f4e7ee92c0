//! `ntfy`: a push notification through an ntfy server (ntfy.sh or your own), published as
//! JSON to the server's root URL (https://docs.ntfy.sh/publish/#publish-as-json), so that
//! titles in any language need no header encoding. The priority follows the status
//! (WARNING default, ERROR high, CRITICAL max; a recovery low), with ntfy's emoji tags.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::{Attempt, ChannelType, Reach, agent, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader, check_url};
use crate::core::Status;
use crate::http_client::basic_auth;

/// ntfy's own limit on a message is 4,096 bytes.
const MESSAGE_MAX: usize = 4_000;

#[derive(Debug, Clone)]
pub struct Ntfy {
    /// The topic URL, `https://ntfy.sh/my-alerts`: on a public server the topic is the password.
    pub url: Secret,
    pub auth: Option<Auth>,
}

#[derive(Debug, Clone)]
pub enum Auth {
    /// An access token (`tk_...`), sent as `Bearer`.
    Token(Secret),
    User { username: String, password: Secret },
}

impl ChannelType for Ntfy {
    const NAME: &'static str = "ntfy";
    const KEYS: &'static [&'static str] = &[
        "url",
        "url_env",
        "url_file",
        "token",
        "token_env",
        "token_file",
        "username",
        "password",
        "password_env",
        "password_file",
    ];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "url, and token or username and password";

    fn read(r: &mut Reader, f: &Fields) -> Option<Ntfy> {
        let url = r.required_secret(f, "url");
        if let (Some(Secret::Inline(text)), Some(node)) = (&url, f.get("url"))
            && let Err(why) = check_url(text, &["https", "http"]).and_then(|()| split(text).map(|_| ()))
        {
            r.error(node.mark, &f.path("url"), format!("'{text}' {why}"));
        }
        let token = r.secret(f, "token");
        let username = r.opt_string(f, "username");
        let password = r.secret(f, "password");
        let auth = match (token, username, password) {
            (None, None, None) => None,
            (Some(token), None, None) => Some(Auth::Token(token)),
            (None, Some(username), Some(password)) => Some(Auth::User { username, password }),
            _ => {
                r.error(
                    f.mark,
                    &f.path("token"),
                    "give either token, or username and password",
                );
                None
            }
        };
        Some(Ntfy { url: url?, auth })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        vec![self.publish(alert, timeout)]
    }
}

/// What cabot publishes: the fields of ntfy's JSON message it uses.
#[derive(Debug, Serialize)]
struct Publish<'a> {
    topic: &'a str,
    title: String,
    message: String,
    priority: u8,
    tags: [&'static str; 1],
    #[serde(skip_serializing_if = "Option::is_none")]
    click: Option<&'a str>,
}

/// What ntfy answers when it took a message: the message, with its id.
#[derive(Deserialize)]
struct Published {
    id: String,
    event: String,
}

impl Ntfy {
    fn publish(&self, alert: &Alert, timeout: Duration) -> Attempt {
        let url = match secret("ntfy", &self.url) {
            Ok(u) => u,
            Err(a) => return a,
        };
        let (root, topic) = match split(&url) {
            Ok(parts) => parts,
            Err(why) => return Attempt::new("ntfy", false, format!("url {why}")),
        };
        // A query on the topic URL (ntfy's `?auth=`, a credential in the address) goes
        // along to where the message is published.
        let query = url
            .split('#')
            .next()
            .and_then(|u| u.split_once('?'))
            .map_or(String::new(), |(_, q)| format!("?{q}"));
        let authorization = match &self.auth {
            None => None,
            Some(Auth::Token(token)) => match secret("ntfy", token) {
                Ok(t) => Some(format!("Bearer {t}")),
                Err(a) => return a,
            },
            Some(Auth::User { username, password }) => match secret("ntfy", password) {
                Ok(p) => Some(basic_auth(username, &p)),
                Err(a) => return a,
            },
        };
        let body = Publish {
            topic,
            title: alert.subject(),
            message: alert.message(MESSAGE_MAX, str::len),
            priority: priority(alert),
            tags: [tag(alert)],
            click: alert.runbook.as_deref().or(alert.url.as_deref()),
        };
        let api = agent(timeout);
        let mut request = api
            .post(&format!("{root}/{query}"))
            .header("Content-Type", "application/json");
        if let Some(value) = &authorization {
            request = request.header("Authorization", value);
        }
        let result = request.send(serde_json::to_string(&body).unwrap_or_default());
        judge("ntfy", result, |p: &Published| {
            (p.event == "message").then(|| format!("id {}", p.id))
        })
    }
}

/// The server's root and the topic of a topic URL: `https://ntfy.sh/alerts` is
/// (`https://ntfy.sh`, `alerts`); a server under a path keeps it in the root.
fn split(url: &str) -> Result<(&str, &str), String> {
    let base = url
        .split(['?', '#'])
        .next()
        .unwrap_or("")
        .trim_end_matches('/');
    let host_at = base.find("://").map_or(0, |i| i + 3);
    let (root, topic) = match base[host_at..].rfind('/') {
        Some(i) => (&base[..host_at + i], &base[host_at + i + 1..]),
        None => (base, ""),
    };
    // ntfy's own rule for a topic name.
    let valid = (1..=64).contains(&topic.len())
        && topic
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if valid {
        Ok((root, topic))
    } else {
        Err("is not an ntfy topic URL: end it with the topic, like https://ntfy.sh/my-alerts".into())
    }
}

/// ntfy's priorities: 1 min, 2 low, 3 default, 4 high, 5 max.
fn priority(alert: &Alert) -> u8 {
    match (alert.kind, alert.status) {
        (AlertKind::Recovery, _) => 2,
        (AlertKind::Test, _) | (_, Status::Passing | Status::Warning) => 3,
        (_, Status::Error) => 4,
        (_, Status::Critical) => 5,
    }
}

/// An emoji shortcode that ntfy shows before the title.
fn tag(alert: &Alert) -> &'static str {
    match (alert.kind, alert.status) {
        (AlertKind::Recovery, _) => "white_check_mark",
        (AlertKind::Test, _) => "wave",
        (_, Status::Passing | Status::Warning) => "warning",
        (_, Status::Error | Status::Critical) => "rotating_light",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_urls() {
        assert_eq!(split("https://ntfy.sh/alerts"), Ok(("https://ntfy.sh", "alerts")));
        assert_eq!(
            split("https://example.com/ntfy/my_alerts-1/"),
            Ok(("https://example.com/ntfy", "my_alerts-1"))
        );
        assert!(split("https://ntfy.sh/").is_err());
        assert!(split("https://ntfy.sh").is_err());
        assert!(split("https://ntfy.sh/bad.topic").is_err());
        assert!(split(&format!("https://ntfy.sh/{}", "a".repeat(65))).is_err());
        assert_eq!(
            split("https://ntfy.example.com/alerts?auth=QmVhcmVyIHRr"),
            Ok(("https://ntfy.example.com", "alerts"))
        );
    }
}
