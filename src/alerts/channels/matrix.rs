//! `matrix`: an `m.room.message` (`m.text`, with an HTML body) sent to a room through the
//! Client-Server API (`PUT /_matrix/client/v3/rooms/ROOM/send/m.room.message/TXN`,
//! https://spec.matrix.org/latest/client-server-api/#put_matrixclientv3roomsroomidsendeventtypetxnid)
//! with an access token. The transaction id is the delivery's own random key, kept across
//! its retries: a retried delivery is the same transaction, which the homeserver does not
//! post twice, and no other delivery (after a restored backup, or in a new state) ever
//! has it, which a homeserver would silently drop as a repeat.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;

use super::{Attempt, ChannelType, Reach, agent, judge, secret};
use crate::alerts::alert::{Alert, AlertKind};
use crate::config::Secret;
use crate::config::read::{Fields, Reader};
use crate::http_client::encode_component;
use crate::text::{fit, xml_escape};

const NAME: &str = "matrix";
/// Homeservers take events up to 64 KiB; an alert stays far below.
const BODY_MAX: usize = 8_000;

#[derive(Debug, Clone)]
pub struct Matrix {
    /// `https://matrix.example.org`: the homeserver's client API.
    pub homeserver: String,
    pub access_token: Secret,
    /// `!abc123:example.org`: the room's id (not an alias), which the bot has joined.
    pub room_id: String,
}

impl ChannelType for Matrix {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] = &[
        "homeserver",
        "access_token",
        "access_token_env",
        "access_token_file",
        "room_id",
    ];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "homeserver, access_token and room_id";

    fn read(r: &mut Reader, f: &Fields) -> Option<Matrix> {
        let homeserver = r.required_url(f, "homeserver", &["https", "http"]);
        let access_token = r.required_secret(f, "access_token");
        let room_id = r.required_string(f, "room_id");
        if let (Some(id), Some(node)) = (&room_id, f.get("room_id"))
            && !(id.starts_with('!') && id.contains(':'))
        {
            r.error(
                node.mark,
                &f.path("room_id"),
                format!("'{id}' is not a Matrix room id like !abc123:example.org (Room settings, Advanced)"),
            );
        }
        Some(Matrix {
            homeserver: homeserver?.trim_end_matches('/').to_string(),
            access_token: access_token?,
            room_id: room_id?,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        let token = match secret(NAME, &self.access_token) {
            Ok(t) => t,
            Err(a) => return vec![a],
        };
        let txn = format!(
            "cabot-{}",
            alert
                .delivery
                .clone()
                .unwrap_or_else(crate::alerts::alert::random_key)
        );
        let (plain, html) = bodies(alert);
        let body = json!({
            "msgtype": "m.text",
            "body": plain,
            "format": "org.matrix.custom.html",
            "formatted_body": html,
        });
        let url = format!(
            "{}/_matrix/client/v3/rooms/{}/send/m.room.message/{}",
            self.homeserver,
            encode_component(&self.room_id),
            encode_component(&txn)
        );
        let result = agent(timeout)
            .put(&url)
            .header("Authorization", &format!("Bearer {token}"))
            .header("Content-Type", "application/json")
            .send(body.to_string());
        vec![judge(NAME, result, |s: &Sent| {
            Some(format!("event {}", s.event_id))
        })]
    }
}

#[derive(Deserialize)]
struct Sent {
    event_id: String,
}

/// The message as plain text and as HTML (escaped: check output is text).
fn bodies(alert: &Alert) -> (String, String) {
    let (mut plain, mut html) = (Vec::new(), Vec::new());
    match alert.kind {
        AlertKind::Recovery | AlertKind::Ack | AlertKind::Test => {
            plain.push(alert.text());
            html.push(xml_escape(&alert.text()));
        }
        AlertKind::Alert | AlertKind::Repeat => {
            for (name, importance, message) in alert.check_lines() {
                plain.push(format!("- {name} [{importance}]: {message}"));
                html.push(format!(
                    "• <b>{}</b> [{importance}]: {}",
                    xml_escape(name),
                    xml_escape(&message)
                ));
            }
        }
    }
    let (mut plain_tail, mut html_tail) = (Vec::new(), Vec::new());
    if let Some(runbook) = &alert.runbook
        && alert.kind != AlertKind::Recovery
    {
        plain_tail.push(format!("Runbook: {runbook}"));
        html_tail.push(format!(
            "<a href=\"{0}\">Runbook</a>",
            xml_escape(runbook)
        ));
    }
    // Check lines are cut whole: never the subject or the runbook, nor an entity in half.
    (
        fit(&[alert.subject()], &plain, &plain_tail, "\n", BODY_MAX, str::len),
        fit(
            &[format!("<b>{}</b>", xml_escape(&alert.subject()))],
            &html,
            &html_tail,
            "<br>",
            BODY_MAX,
            str::len,
        ),
    )
}
