//! `slack`: one post to an incoming webhook, mentioning the service's users.

use std::time::Duration;

use serde_json::json;

use super::{Attempt, ChannelType, Contact, Reach, agent, secret};
use crate::alerts::alert::{Alert, AlertKind, BODY_MAX};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::text::truncate;

/// A user's Slack name or member ID.
pub const SLACK: Contact = Contact {
    key: "slack",
    check: |_| Ok(()),
};

#[derive(Debug, Clone)]
pub struct Slack {
    pub webhook_url: Secret,
}

impl ChannelType for Slack {
    const NAME: &'static str = "slack";
    const KEYS: &'static [&'static str] = &["webhook_url", "webhook_url_env", "webhook_url_file"];
    const REACH: Reach = Reach::Mentions(SLACK);

    fn read(r: &mut Reader, f: &Fields) -> Option<Slack> {
        Some(Slack {
            webhook_url: r.required_secret(f, "webhook_url")?,
        })
    }

    /// `mentions` is the space-separated Slack names recorded with the delivery.
    fn send(&self, alert: &Alert, mentions: &str, timeout: Duration) -> Vec<Attempt> {
        vec![post(&self.webhook_url, alert, mentions, timeout)]
    }
}

fn post(webhook_url: &Secret, alert: &Alert, mentions: &str, timeout: Duration) -> Attempt {
    let url = match secret("slack", webhook_url) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let mentions: Vec<String> = mentions.split_whitespace().map(mention).collect();
    let body = json!({ "text": text(alert, &mentions) });
    let answer = agent(timeout)
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string());
    match answer {
        Ok(mut r) => {
            let code = r.status();
            let text = r
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            if code.is_success() {
                Attempt::new("slack", true, format!("accepted ({})", text.trim()))
            } else {
                Attempt::new("slack", false, format!("HTTP {}: {text}", code.as_u16()))
            }
        }
        Err(e) => Attempt::new("slack", false, e.to_string()),
    }
}

/// The message: the subject, each failing check, the runbook, and the mentions.
pub fn text(alert: &Alert, mentions: &[String]) -> String {
    let icon = match alert.kind {
        AlertKind::Recovery => ":white_check_mark:",
        AlertKind::Test => ":wave:",
        AlertKind::Alert | AlertKind::Repeat => ":rotating_light:",
    };
    let mut text = format!("{icon} *{}*", escape(&alert.subject()));
    for (name, importance, message) in alert.check_lines() {
        text.push_str(&format!(
            "\n• {} [{importance}]: {}",
            escape(name),
            escape(&message)
        ));
    }
    if let Some(runbook) = &alert.runbook {
        text.push_str(&format!("\nRunbook: {}", escape(runbook)));
    }
    if !mentions.is_empty() {
        text.push('\n');
        text.push_str(&mentions.join(" "));
    }
    truncate(&text, BODY_MAX)
}

/// Slack's own escaping: `<`, `>` and `&` would start links and mentions.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// `U123ABC` (a member ID) becomes `<@U123ABC>`; anything else is written as given.
fn mention(name: &str) -> String {
    let id = name.trim_start_matches('@');
    if id.len() >= 9 && id.starts_with(['U', 'W']) && id.chars().all(|c| c.is_ascii_alphanumeric())
    {
        format!("<@{id}>")
    } else {
        format!("@{id}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::tests::hostile;

    #[test]
    fn mentions() {
        assert_eq!(mention("@alice"), "@alice");
        assert_eq!(mention("U024BE7LH"), "<@U024BE7LH>");
    }

    #[test]
    fn hostile_check_output_is_escaped_and_bounded() {
        let text = text(&hostile(), &[]);
        assert!(text.len() <= BODY_MAX);
        assert!(!text.contains("</Say>"), "escaped for Slack: {text}");
        assert!(text.contains("&lt;/Say&gt;"), "{text}");
    }
}
