//! `discord`: one message through a channel's webhook (Discord's Execute Webhook,
//! `POST /api/webhooks/ID/TOKEN?wait=true`), with the subject as content, mentions of the
//! service's users by their Discord user ids, and an embed with the failing checks. With
//! `wait=true` Discord answers with the message it saved, which is the proof of delivery.
//! `allowed_mentions` lets exactly those users be notified, so check output can never
//! ping `@everyone`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Attempt, ChannelType, Contact, Reach, Verdict, agent, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader, check_url};
use crate::core::Status;
use crate::text::{markdown_escape, truncate};

const NAME: &str = "discord";
/// Discord's limits: content 2,000 characters, an embed's title 256 and description 4,096.
const CONTENT_MAX: usize = 1_900;
const TITLE_MAX: usize = 250;
const DESCRIPTION_MAX: usize = 4_000;

/// A user's Discord user id (a snowflake: 17 to 20 digits), mentioned as `<@id>`.
pub const DISCORD: Contact = Contact {
    key: "discord",
    check: |value| {
        if (17..=20).contains(&value.len()) && value.chars().all(|c| c.is_ascii_digit()) {
            Verdict::Usable
        } else {
            Verdict::Unusable(format!(
                "'{value}' is not a Discord user id (17 to 20 digits: turn on Developer Mode, \
                 then \"Copy User ID\" on the user)"
            ))
        }
    },
};

#[derive(Debug, Clone)]
pub struct Discord {
    /// `https://discord.com/api/webhooks/ID/TOKEN`: the token makes it a secret.
    pub webhook_url: Secret,
}

impl ChannelType for Discord {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &["webhook_url", "webhook_url_env", "webhook_url_file"];
    const REACH: Reach = Reach::Mentions(DISCORD);
    const FIX: &'static str = "webhook_url";

    fn read(r: &mut Reader, f: &Fields) -> Option<Discord> {
        let webhook_url = r.required_secret(f, "webhook_url");
        if let (Some(Secret::Inline(text)), Some(node)) = (&webhook_url, f.get("webhook_url"))
            && let Err(why) = check_url(text, &["https", "http"])
        {
            r.error(node.mark, &f.path("webhook_url"), format!("'{text}' {why}"));
        }
        Some(Discord {
            webhook_url: webhook_url?,
        })
    }

    /// `mentions` is the space-separated user ids recorded with the delivery.
    fn send(&self, alert: &Alert, mentions: &str, timeout: Duration) -> Vec<Attempt> {
        let url = match secret(NAME, &self.webhook_url) {
            Ok(u) => u,
            Err(a) => return vec![a],
        };
        let ids: Vec<&str> = mentions
            .split_whitespace()
            .filter(|id| matches!((DISCORD.check)(id), Verdict::Usable))
            .collect();
        let mut content = alert.subject();
        for id in &ids {
            content.push_str(&format!(" <@{id}>"));
        }
        let mut embed = json!({
            "title": truncate(&title(alert), TITLE_MAX),
            "description": description(alert),
            "color": color(alert),
            "timestamp": crate::clock::format_time(alert.time),
        });
        if let Some(link) = alert.runbook.as_ref().or(alert.url.as_ref()) {
            embed["url"] = json!(link);
        }
        let body = json!({
            "content": truncate(&content, CONTENT_MAX),
            "embeds": [embed],
            "allowed_mentions": { "parse": [], "users": ids },
        });
        let separator = if url.contains('?') { '&' } else { '?' };
        let result = agent(timeout)
            .post(&format!("{url}{separator}wait=true"))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        vec![judge(NAME, result, |m: &Message| {
            (!m.id.is_empty()).then(|| format!("message {}", m.id))
        })]
    }
}

/// The message Discord saved.
#[derive(Deserialize)]
struct Message {
    id: String,
}

/// The alert's line, or for an alert of failing checks its subject: check output goes in
/// the description alone, where it is escaped.
fn title(alert: &Alert) -> String {
    match alert.kind {
        AlertKind::Alert | AlertKind::Repeat => alert.subject(),
        AlertKind::Recovery | AlertKind::Ack | AlertKind::Test => alert.text(),
    }
}

/// The failing checks, one a line, and the runbook. Check names and output are escaped:
/// nothing a target says becomes Markdown (a masked link, a heading) in the embed.
fn description(alert: &Alert) -> String {
    let lines: Vec<String> = alert
        .check_lines()
        .map(|(name, importance, message)| {
            format!(
                "**{}** [{importance}]: {}",
                markdown_escape(name),
                markdown_escape(&message)
            )
        })
        .collect();
    let mut tail = Vec::new();
    if let Some(runbook) = &alert.runbook
        && alert.kind != AlertKind::Recovery
    {
        tail.push(format!("Runbook: {runbook}"));
    }
    crate::text::fit(&[], &lines, &tail, "\n", DESCRIPTION_MAX, crate::text::chars)
}

/// The embed's stripe: red, orange, yellow, green; blue for a test.
fn color(alert: &Alert) -> u32 {
    match (alert.kind, alert.status) {
        (AlertKind::Test, _) => 0x3498db,
        (AlertKind::Recovery, _) | (_, Status::Passing) => 0x2ecc71,
        (_, Status::Warning) => 0xf1c40f,
        (_, Status::Error) => 0xe67e22,
        (_, Status::Critical) => 0xe74c3c,
    }
}
