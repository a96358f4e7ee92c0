//! `slack`: one post to an incoming webhook, mentioning the service's users.

use std::time::Duration;

use serde_json::json;

use super::{Attempt, ChannelType, Contact, Reach, Verdict, agent, judge_status, secret};
use crate::alerts::alert::{Alert, AlertKind, BODY_MAX};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};

/// A user's Slack member ID (`U024BE7LH`), or `@here`, `@channel`, `@everyone`, or a user
/// group's ID (`S0614TZR7`); a display name is sent as plain text, which notifies nobody.
pub const SLACK: Contact = Contact {
    key: "slack",
    check: |value| match Mention::of(value) {
        Mention::Plain(_) => Verdict::Doubtful(format!(
            "'{value}' is not a Slack member ID, so Slack will not notify anyone: use the \
             member ID (like U024BE7LH, from the profile's \"Copy member ID\"), or @here, \
             @channel, @everyone"
        )),
        _ => Verdict::Usable,
    },
};

/// How a `slack:` or `to:` value is written in a message.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Mention {
    /// A member: `<@U024BE7LH>`.
    Member(String),
    /// A user group: `<!subteam^S0614TZR7>`.
    Group(String),
    /// `<!here>`, `<!channel>`, `<!everyone>`.
    Special(&'static str),
    /// Anything else, as text: Slack shows it and notifies no one.
    Plain(String),
}

impl Mention {
    fn of(value: &str) -> Mention {
        let v = value.trim();
        // Already in Slack's own form.
        let v = v
            .strip_prefix("<@")
            .or_else(|| v.strip_prefix("<!subteam^"))
            .or_else(|| v.strip_prefix("<!"))
            .and_then(|inner| inner.strip_suffix('>'))
            .unwrap_or(v);
        let bare = v.trim_start_matches(['@', '!']);
        for special in ["here", "channel", "everyone"] {
            if bare.eq_ignore_ascii_case(special) {
                return Mention::Special(special);
            }
        }
        let is_id = |first: &[char]| {
            bare.len() >= 9
                && bare.starts_with(first)
                && bare
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        };
        if is_id(&['U', 'W']) {
            Mention::Member(bare.to_string())
        } else if is_id(&['S']) {
            Mention::Group(bare.to_string())
        } else {
            Mention::Plain(format!("@{bare}"))
        }
    }

    fn text(&self) -> String {
        match self {
            Mention::Member(id) => format!("<@{id}>"),
            Mention::Group(id) => format!("<!subteam^{id}>"),
            Mention::Special(word) => format!("<!{word}>"),
            Mention::Plain(name) => escape(name),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Slack {
    pub webhook_url: Secret,
}

impl ChannelType for Slack {
    const NAME: &'static str = "slack";
    const KEYS: &'static [&'static str] = &["webhook_url", "webhook_url_env", "webhook_url_file"];
    const REACH: Reach = Reach::Mentions(SLACK);
    const FIX: &'static str = "webhook_url";

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
    judge_status("slack", answer)
}

/// The message: the subject, each failing check, the runbook, and the mentions.
pub fn text(alert: &Alert, mentions: &[String]) -> String {
    let icon = match alert.kind {
        AlertKind::Recovery => ":white_check_mark:",
        AlertKind::Test => ":wave:",
        AlertKind::Ack => ":eyes:",
        AlertKind::Alert | AlertKind::Repeat => ":rotating_light:",
    };
    let head = format!("{icon} *{}*", escape(&alert.subject()));
    let lines: Vec<String> = alert
        .check_lines()
        .map(|(name, importance, message)| {
            format!("• {} [{importance}]: {}", escape(name), escape(&message))
        })
        .collect();
    let mut tail = Vec::new();
    if let Some(runbook) = &alert.runbook {
        tail.push(format!("Runbook: {}", escape(runbook)));
    }
    if let Some(url) = &alert.ack_url {
        tail.push(format!("<{}|Acknowledge>", escape(url)));
    }
    if !mentions.is_empty() {
        tail.push(mentions.join(" "));
    }
    // Check lines are cut whole, never the mentions that notify people nor an entity.
    crate::text::fit(&[head], &lines, &tail, "\n", BODY_MAX, str::len)
}

/// Slack's own escaping: `<`, `>` and `&` would start links and mentions.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// A `slack:` or `to:` value as Slack needs it to notify: `U024BE7LH` becomes
/// `<@U024BE7LH>`, `@here` becomes `<!here>`.
fn mention(value: &str) -> String {
    Mention::of(value).text()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::tests::hostile;

    #[test]
    fn mentions() {
        assert_eq!(mention("U024BE7LH"), "<@U024BE7LH>");
        assert_eq!(mention("@U024BE7LH"), "<@U024BE7LH>");
        assert_eq!(mention("<@W0123ABCDE>"), "<@W0123ABCDE>");
        assert_eq!(mention("@here"), "<!here>");
        assert_eq!(mention("channel"), "<!channel>");
        assert_eq!(mention("<!everyone>"), "<!everyone>");
        assert_eq!(mention("S0614TZR7"), "<!subteam^S0614TZR7>");
        // A display name notifies nobody; it is shown, escaped.
        assert_eq!(mention("@alice"), "@alice");
        assert_eq!(mention("@a<b>"), "@a&lt;b&gt;");
        assert_eq!(mention("Ursula"), "@Ursula");
        assert!(matches!((SLACK.check)("@alice"), Verdict::Doubtful(_)));
        assert_eq!((SLACK.check)("U024BE7LH"), Verdict::Usable);
        assert_eq!((SLACK.check)("@here"), Verdict::Usable);
    }

    #[test]
    fn hostile_check_output_is_escaped_and_bounded() {
        let text = text(&hostile(), &[]);
        assert!(text.len() <= BODY_MAX);
        assert!(!text.contains("</Say>"), "escaped for Slack: {text}");
        assert!(text.contains("&lt;/Say&gt;"), "{text}");
    }
}
