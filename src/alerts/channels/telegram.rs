//! `telegram`: a message from a bot to a chat through the Bot API's `sendMessage`
//! (https://core.telegram.org/bots/api#sendmessage), as plain text so that nothing in a
//! check's output is read as markup. The API answers `{"ok": true, "result": {message}}`.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Attempt, ChannelType, Reach, agent, base_url, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};

const NAME: &str = "telegram";
const BASE_URL: &str = "https://api.telegram.org";
/// Telegram's limit on a message's text is 4,096 characters.
const TEXT_MAX: usize = 4_000;

#[derive(Debug, Clone)]
pub struct Telegram {
    /// `123456:ABC-DEF...`, from @BotFather.
    pub bot_token: Secret,
    /// A chat's id (`-1001234567890` for a group or channel) or a channel's `@username`.
    pub chat_id: String,
    pub base_url: String,
}

impl ChannelType for Telegram {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &[
        "bot_token",
        "bot_token_env",
        "bot_token_file",
        "chat_id",
        "base_url",
    ];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "bot_token and chat_id (is the bot still in the chat?)";

    fn read(r: &mut Reader, f: &Fields) -> Option<Telegram> {
        let bot_token = r.required_secret(f, "bot_token");
        let chat_id = r.required_string(f, "chat_id");
        if let (Some(id), Some(node)) = (&chat_id, f.get("chat_id"))
            && !is_chat_id(id)
        {
            r.error(
                node.mark,
                &f.path("chat_id"),
                format!("'{id}' is not a Telegram chat id (a number like -1001234567890) or a channel's @username"),
            );
        }
        let base_url = base_url(r, f, BASE_URL);
        Some(Telegram {
            bot_token: bot_token?,
            chat_id: chat_id?,
            base_url,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let token = match secret(NAME, &self.bot_token) {
            Ok(t) => t,
            Err(a) => return vec![a],
        };
        // A numeric id goes as a number, as the Bot API documents it.
        let chat: serde_json::Value = self
            .chat_id
            .parse::<i64>()
            .map_or_else(|_| json!(self.chat_id), |n| json!(n));
        let body = json!({
            "chat_id": chat,
            "text": text(alert),
            "link_preview_options": { "is_disabled": true },
        });
        let result = agent(timeout)
            .post(&format!("{}/bot{token}/sendMessage", self.base_url))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        vec![judge(NAME, result, |a: &Answer| {
            a.ok.then(|| a.result.as_ref().map(|m| format!("message {}", m.message_id)))
                .flatten()
        })]
    }
}

#[derive(Deserialize)]
struct Answer {
    ok: bool,
    result: Option<Sent>,
}

#[derive(Deserialize)]
struct Sent {
    message_id: i64,
}

fn is_chat_id(id: &str) -> bool {
    id.parse::<i64>().is_ok()
        || id.strip_prefix('@').is_some_and(|name| {
            name.len() >= 5 && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
}

/// The subject, the failing checks, the runbook.
fn text(alert: &Alert) -> String {
    let lines: Vec<String> = match alert.kind {
        AlertKind::Recovery | AlertKind::Ack | AlertKind::Test => vec![alert.text()],
        AlertKind::Alert | AlertKind::Repeat => alert
            .check_lines()
            .map(|(name, importance, message)| format!("• {name} [{importance}]: {message}"))
            .collect(),
    };
    crate::text::fit(
        &[alert.subject()],
        &lines,
        &alert.links(),
        "\n",
        TEXT_MAX,
        crate::text::chars,
    )
}
