//! `teams`: a Microsoft Teams post through a Workflows webhook (the "Post to a channel
//! when a webhook request is received" template of Power Automate), which takes a message
//! with an Adaptive Card attachment. The retired Office 365 connector cards
//! (`MessageCard`) are not sent: Workflows do not show them. A workflow answers 202
//! Accepted with no body; anything else is a failure with what it said.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Attempt, ChannelType, Reach, agent, judge_status, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader, check_url};
use crate::core::Status;
use crate::text::truncate;

const NAME: &str = "teams";
/// Teams refuses messages over about 28 KB; a card stays far below.
const TEXT_MAX: usize = 4_000;

#[derive(Debug, Clone)]
pub struct Teams {
    /// The workflow's HTTP POST URL (its `sig=` makes it a secret).
    pub webhook_url: Secret,
}

impl ChannelType for Teams {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &["webhook_url", "webhook_url_env", "webhook_url_file"];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "webhook_url";

    fn read(r: &mut Reader, f: &Fields) -> Option<Teams> {
        let webhook_url = r.required_secret(f, "webhook_url");
        if let (Some(Secret::Inline(text)), Some(node)) = (&webhook_url, f.get("webhook_url"))
            && let Err(why) = check_url(text, &["https", "http"])
        {
            r.error(node.mark, &f.path("webhook_url"), format!("'{text}' {why}"));
        }
        Some(Teams {
            webhook_url: webhook_url?,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let url = match secret(NAME, &self.webhook_url) {
            Ok(u) => u,
            Err(a) => return vec![a],
        };
        let result = agent(timeout)
            .post(&url)
            .header("Content-Type", "application/json")
            .send(message(alert).to_string());
        vec![judge_status(NAME, result)]
    }
}

/// The message: one Adaptive Card (schema 1.4, which Teams renders) with the subject, the
/// failing checks as text runs, and buttons to the runbook and the service.
pub fn message(alert: &Alert) -> Value {
    let mut body = vec![json!({
        "type": "TextBlock",
        "text": truncate(&alert.subject(), 200),
        "weight": "Bolder",
        "size": "Medium",
        "color": color(alert),
        "wrap": true,
    })];
    // Each failing check is a RichTextBlock of TextRuns: Teams reads Markdown in a
    // TextBlock and in FactSet values, never in a TextRun, so check output stays text.
    let checks: Vec<Value> = alert
        .check_lines()
        .map(|(name, importance, message)| {
            json!({
                "type": "RichTextBlock",
                "inlines": [
                    { "type": "TextRun", "text": format!("{name} [{importance}]: "), "weight": "Bolder" },
                    { "type": "TextRun", "text": truncate(&message, TEXT_MAX) },
                ],
            })
        })
        .collect();
    if checks.is_empty() {
        body.push(json!({
            "type": "RichTextBlock",
            "inlines": [{ "type": "TextRun", "text": alert.text() }],
        }));
    } else {
        body.extend(checks);
    }
    body.push(json!({
        "type": "TextBlock",
        "text": crate::clock::format_time(alert.time),
        "isSubtle": true,
        "size": "Small",
    }));
    let mut actions = Vec::new();
    if let Some(runbook) = &alert.runbook {
        actions.push(json!({ "type": "Action.OpenUrl", "title": "Runbook", "url": runbook }));
    }
    if let Some(url) = &alert.url {
        actions.push(json!({ "type": "Action.OpenUrl", "title": "Service", "url": url }));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
                "actions": actions,
            },
        }],
    })
}

/// Adaptive Card colours: `Attention` red, `Warning` yellow, `Good` green.
fn color(alert: &Alert) -> &'static str {
    match (alert.kind, alert.status) {
        (AlertKind::Test, _) => "Accent",
        (AlertKind::Recovery, _) | (_, Status::Passing) => "Good",
        (_, Status::Warning) => "Warning",
        (_, Status::Error | Status::Critical) => "Attention",
    }
}
