//! Slack: one post to an incoming webhook, mentioning the service's users.

use serde_json::{Value, json};

use ureq::Agent;

use super::{attempt, secret};
use crate::alerts::message::Alert;
use crate::config::Secret;
use crate::store::outbox::AttemptRecord;

/// `mentions` is the space-separated Slack names recorded with the delivery.
pub fn send(api: &Agent, webhook_url: &Secret, alert: &Value, mentions: &str) -> AttemptRecord {
    let url = match secret("slack", webhook_url) {
        Ok(u) => u,
        Err(a) => return a,
    };
    let mentions: Vec<String> = mentions.split_whitespace().map(mention).collect();
    let body = json!({ "text": Alert(alert).slack_text(&mentions) });
    match api
        .post(&url)
        .header("Content-Type", "application/json")
        .send(body.to_string())
    {
        Ok(mut r) if r.status().is_success() => {
            let text = r
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            attempt("slack", true, format!("accepted ({})", text.trim()))
        }
        Ok(mut r) => {
            let code = r.status().as_u16();
            let text = r
                .body_mut()
                .with_config()
                .limit(4096)
                .read_to_string()
                .unwrap_or_default();
            attempt("slack", false, format!("HTTP {code}: {text}"))
        }
        Err(e) => attempt("slack", false, e.to_string()),
    }
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
    #[test]
    fn mentions() {
        assert_eq!(super::mention("@alice"), "@alice");
        assert_eq!(super::mention("U024BE7LH"), "<@U024BE7LH>");
    }
}
