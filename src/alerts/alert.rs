//! The alert: what the policy decides, what the outbox keeps, what every channel formats,
//! and, as JSON, what the `webhook` and `command` channels send.

use serde::{Deserialize, Serialize};

use crate::core::{CheckState, Importance, Status};
use crate::text::{MESSAGE_MAX, one_line};

/// What a phone call says is kept short enough to listen to.
pub const SPEECH_MAX: usize = 400;
/// An email body or a chat post is bounded too.
pub const BODY_MAX: usize = 8_000;
/// A subject line.
const SUBJECT_MAX: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertKind {
    /// A new incident, or an escalation.
    Alert,
    /// Still failing after the repeat interval.
    Repeat,
    /// Back to PASSING after an alert.
    Recovery,
    /// Someone acknowledged the incident in cabot: told to the providers that keep
    /// incidents open (PagerDuty, Opsgenie, Pushover), so that they stop paging too.
    Ack,
    /// `cabot test-alert`.
    Test,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Alert => "alert",
            AlertKind::Repeat => "repeat",
            AlertKind::Recovery => "recovery",
            AlertKind::Ack => "ack",
            AlertKind::Test => "test",
        }
    }
}

impl std::str::FromStr for AlertKind {
    type Err = String;

    fn from_str(s: &str) -> Result<AlertKind, String> {
        [
            AlertKind::Alert,
            AlertKind::Repeat,
            AlertKind::Recovery,
            AlertKind::Ack,
            AlertKind::Test,
        ]
        .into_iter()
        .find(|k| k.as_str() == s)
        .ok_or_else(|| format!("'{s}' is no kind of alert"))
    }
}

/// One alert, as the webhook JSON documents it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// The alert's number in the outbox, the same on every re-delivery; absent until stored.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<i64>,
    pub kind: AlertKind,
    pub service: String,
    pub status: Status,
    pub previous_status: Status,
    /// The failing checks (none for a recovery).
    pub checks: Vec<FailingCheck>,
    pub url: Option<String>,
    pub runbook: Option<String>,
    /// When it was decided.
    #[serde(with = "crate::clock::rfc3339")]
    pub time: i64,
    /// The incident it belongs to, the same for its alert, repeats and recovery
    /// (`cabot/SERVICE/START`); absent in alerts stored before incidents had ids.
    #[serde(default)]
    pub incident: Option<String>,
    /// Who the service's rota had on duty when it was decided, if it names a rota.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_call: Option<String>,
    /// How far the incident had escalated, for a service with escalation steps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub escalation: Option<Escalation>,
    /// The link that acknowledges the incident as this alert's recipient, when ack links
    /// are set up (`status.public_url`, `status.ack_secret_file`); made as it is sent, so
    /// each recipient has their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ack_url: Option<String>,
    /// The key of the delivery that carries it: random, the same on each retry of that
    /// delivery and never made again (an idempotency key, such as Matrix's transaction
    /// id). Set as it is sent; not part of the alert's JSON.
    #[serde(skip)]
    pub delivery: Option<String>,
    /// For an acknowledgement: who acknowledged, and their note.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acked_by: Option<String>,
    /// Sent by the standby of a pair while its primary is not delivering: which node sent
    /// it, and why (`sent by b; a is not running since …`). Set as it is sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sent_by: Option<String>,
    /// The services that depend on this one (`depends_on`), whose alerts wait while it
    /// fails; absent for a recovery and for a service nothing depends on.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub blocks: Vec<String>,
    /// The alert that says a service flaps (`flap:`): how much (`changed status 7 times in
    /// 30m`). Its alerts wait until it settles.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub flapping: Option<String>,
}

/// `{"reached": 2, "steps": 3}`: escalation steps reached of those configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Escalation {
    pub reached: u32,
    pub steps: u32,
}

/// A failing check, as an alert names it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailingCheck {
    pub name: String,
    /// The importance it fails at.
    pub importance: Importance,
    pub status: CheckState,
    /// Its last result's message: remote text, one line, bounded.
    pub message: String,
}

/// A key no other delivery has had or will have: 128 random bits, in hex.
pub fn random_key() -> String {
    use ring::rand::SecureRandom;
    let mut bytes = [0u8; 16];
    // The system's generator does not fail on Linux; were it to, the time still differs.
    if ring::rand::SystemRandom::new().fill(&mut bytes).is_err() {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = t.to_le_bytes();
    }
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Alert {
    /// What `cabot test-alert` sends.
    pub fn test(now: i64) -> Alert {
        Alert {
            id: Some(0),
            kind: AlertKind::Test,
            service: "cabot-test".into(),
            status: Status::Passing,
            previous_status: Status::Passing,
            checks: Vec::new(),
            url: None,
            runbook: None,
            time: now,
            incident: Some(format!("cabot/cabot-test/{now}")),
            on_call: None,
            escalation: None,
            ack_url: None,
            delivery: Some(random_key()),
            acked_by: None,
            sent_by: None,
            flapping: None,
            blocks: Vec::new(),
        }
    }

    /// The JSON that `webhook` and `command` send: the alert and its `text` line.
    pub fn to_json(&self) -> String {
        #[derive(Serialize)]
        struct Sent<'a> {
            #[serde(flatten)]
            alert: &'a Alert,
            text: String,
        }
        serde_json::to_string(&Sent {
            alert: self,
            text: self.text(),
        })
        .unwrap_or_default()
    }

    /// What the outbox keeps (the `text` is made again when it is sent).
    pub fn to_stored_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// One line a person reads: `CRITICAL: website — homepage: connection refused`.
    pub fn text(&self) -> String {
        let text = match self.kind {
            AlertKind::Recovery => format!(
                "PASSING: {} is back to normal (was {})",
                self.service, self.previous_status
            ),
            AlertKind::Test => format!("TEST: a test alert from cabot for {}", self.service),
            AlertKind::Ack => format!(
                "ACKNOWLEDGED: {} is acknowledged, still {}",
                self.service, self.status
            ),
            AlertKind::Alert | AlertKind::Repeat => {
                let checks: Vec<String> = self
                    .checks
                    .iter()
                    .map(|c| format!("{}: {}", c.name, c.message))
                    .collect();
                let mut text = if let Some(how) = &self.flapping {
                    format!(
                        "FLAPPING: {} {how} (now {}); its alerts wait until it settles",
                        self.service, self.status
                    )
                } else if checks.is_empty() {
                    format!("{}: {}", self.status, self.service)
                } else {
                    format!("{}: {} — {}", self.status, self.service, checks.join("; "))
                };
                if let Some(user) = &self.on_call {
                    text.push_str(&format!(" (on call: {user})"));
                }
                if let Some(e) = self.escalation {
                    text.push_str(&format!(" (escalation step {} of {})", e.reached, e.steps));
                }
                if !self.blocks.is_empty() {
                    text.push_str(&format!(
                        " (blocks {}: their alerts wait)",
                        self.blocks.join(", ")
                    ));
                }
                text
            }
        };
        let text = match &self.sent_by {
            Some(by) => format!("{text} ({by})"),
            None => text,
        };
        one_line(&text, MESSAGE_MAX)
    }

    /// Cabot's subjects: `ERROR status for service: website`, `Service back to normal: website`;
    /// a repeat says it is one and for how long: `Still CRITICAL after 30m for service: website`.
    pub fn subject(&self) -> String {
        let subject = match self.kind {
            AlertKind::Repeat => match self.incident_at() {
                Some(began) => format!(
                    "Still {} after {} for service: {}",
                    self.status,
                    crate::clock::Age(self.time.saturating_sub(began)),
                    self.service
                ),
                None => format!("Still {} for service: {}", self.status, self.service),
            },
            AlertKind::Recovery => format!("Service back to normal: {}", self.service),
            AlertKind::Test => format!("Test alert from cabot for service: {}", self.service),
            AlertKind::Ack => format!("Acknowledged: {}", self.service),
            AlertKind::Alert => format!("{} status for service: {}", self.status, self.service),
        };
        one_line(&subject, SUBJECT_MAX)
    }

    /// One SMS: `cabot: website ERROR (was PASSING): homepage: HTTP 500 ...`, at most 160 chars.
    pub fn sms(&self) -> String {
        let head = match self.kind {
            AlertKind::Recovery => format!("cabot: {} back to normal", self.service),
            AlertKind::Test => format!("cabot: test alert for {}", self.service),
            AlertKind::Ack => format!("cabot: {} acknowledged", self.service),
            AlertKind::Alert | AlertKind::Repeat => format!(
                "cabot: {} {} (was {})",
                self.service, self.status, self.previous_status
            ),
        };
        let checks: Vec<String> = self
            .checks
            .iter()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect();
        let text = if checks.is_empty() {
            head
        } else {
            format!("{head}: {}", checks.join("; "))
        };
        crate::text::sms(&text)
    }

    /// What a phone call says.
    pub fn speech(&self) -> String {
        let names: Vec<&str> = self.checks.iter().map(|c| c.name.as_str()).collect();
        let text = match self.kind {
            AlertKind::Recovery => format!("Cabot. Service {} is back to normal.", self.service),
            AlertKind::Test => format!("Cabot test call for service {}.", self.service),
            AlertKind::Ack => format!("Cabot. Service {} is acknowledged.", self.service),
            AlertKind::Alert | AlertKind::Repeat => format!(
                "Cabot alert. Service {} is {}. Failing checks: {}.",
                self.service,
                self.status.as_str().to_lowercase(),
                names.join(", ")
            ),
        };
        one_line(&text, SPEECH_MAX)
    }

    /// What a push message says within `max` (as `measure` counts), a line each: for an
    /// alert, each failing check as `name [importance]: message`, then the runbook and the
    /// ack link, which are never cut (check lines are); for a recovery or a test, its text.
    pub fn message(&self, max: usize, measure: crate::text::Measure) -> String {
        let lines: Vec<String> = match self.kind {
            AlertKind::Recovery | AlertKind::Ack | AlertKind::Test => vec![self.text()],
            AlertKind::Alert | AlertKind::Repeat => self
                .check_lines()
                .map(|(name, importance, message)| format!("{name} [{importance}]: {message}"))
                .collect(),
        };
        crate::text::fit(&[], &lines, &self.links(), "\n", max, measure)
    }

    /// The lines that end a message: the runbook (not for a recovery) and the ack link.
    pub fn links(&self) -> Vec<String> {
        let mut lines = Vec::new();
        if let Some(runbook) = &self.runbook
            && self.kind != AlertKind::Recovery
        {
            lines.push(format!("Runbook: {runbook}"));
        }
        if let Some(url) = &self.ack_url {
            lines.push(format!("Acknowledge: {url}"));
        }
        lines
    }

    /// When the alert's incident began, from its id (`cabot/SERVICE/START`).
    pub fn incident_at(&self) -> Option<i64> {
        self.incident.as_deref()?.rsplit_once('/')?.1.parse().ok()
    }

    /// Each failing check's line: `name [importance]: message`.
    pub fn check_lines(&self) -> impl Iterator<Item = (&str, Importance, String)> {
        self.checks.iter().map(|c| {
            (
                c.name.as_str(),
                c.importance,
                one_line(&c.message, MESSAGE_MAX),
            )
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// An alert whose check said the worst a target can say.
    pub(crate) fn hostile() -> Alert {
        let evil = format!(
            "</Say><Dial>+15550000000</Dial><Say> \"quoted\" 'single' & more\nSubject: injected\r\n{}",
            "x".repeat(10_000)
        );
        Alert {
            id: None,
            kind: AlertKind::Alert,
            service: "web".into(),
            status: Status::Critical,
            previous_status: Status::Passing,
            checks: vec![FailingCheck {
                name: "home".into(),
                importance: Importance::Critical,
                status: CheckState::Failing,
                message: evil,
            }],
            url: Some("https://example.com".into()),
            runbook: Some("https://wiki.example.com/web".into()),
            time: 1_795_514_531,
            incident: Some("cabot/web/1795514400".into()),
            on_call: None,
            escalation: None,
            ack_url: None,
            delivery: None,
            acked_by: None,
            sent_by: None,
            flapping: None,
            blocks: Vec::new(),
        }
    }

    #[test]
    fn the_json_is_the_documented_schema() {
        let mut alert = hostile();
        alert.id = Some(42);
        alert.checks[0].message = "HTTP 500 (expected 2xx)".into();
        // Written out by hand from DESIGN.md's webhook JSON, not made by the code under test.
        let want = r#"{"id":42,"kind":"alert","service":"web","status":"CRITICAL","previous_status":"PASSING","checks":[{"name":"home","importance":"critical","status":"failing","message":"HTTP 500 (expected 2xx)"}],"url":"https://example.com","runbook":"https://wiki.example.com/web","time":"2026-11-24T10:02:11Z","incident":"cabot/web/1795514400","text":"CRITICAL: web — home: HTTP 500 (expected 2xx)"}"#;
        assert_eq!(alert.to_json(), want);
        let back: Alert = serde_json::from_str(want).expect("parses");
        assert_eq!(back, alert);
        // The outbox stores it without an id or text, and nulls where a service has no url.
        alert.id = None;
        alert.url = None;
        let stored = alert.to_stored_json();
        assert!(stored.starts_with(r#"{"kind":"alert","#), "{stored}");
        assert!(!stored.contains(r#""text""#), "{stored}");
        // An alert stored before incidents had ids still reads.
        let old = stored.replace(r#","incident":"cabot/web/1795514400""#, "");
        let back: Alert = serde_json::from_str(&old).expect("an old payload parses");
        assert_eq!(back.incident, None);
        assert!(stored.contains(r#""url":null"#), "{stored}");
    }

    #[test]
    fn hostile_check_output_stays_one_bounded_line() {
        let a = hostile();
        let sms = a.sms();
        assert!(
            sms.chars().count() <= crate::text::SMS_SEPTETS,
            "{}",
            sms.len()
        );
        assert!(!sms.contains('\n'));
        let subject = a.subject();
        assert!(!subject.contains('\n') && !subject.contains('\r'));
        assert!(a.speech().len() <= SPEECH_MAX);
        for (_, _, line) in a.check_lines() {
            assert!(line.len() <= MESSAGE_MAX && !line.contains('\n'));
        }
    }

    #[test]
    fn cabot_subjects() {
        let mut a = hostile();
        a.service = "website".into();
        a.status = Status::Error;
        assert_eq!(a.subject(), "ERROR status for service: website");
        a.kind = AlertKind::Repeat;
        a.incident = Some(format!("cabot/website/{}", a.time - 30 * 60));
        assert_eq!(a.subject(), "Still ERROR after 30m for service: website");
        a.kind = AlertKind::Recovery;
        assert_eq!(a.subject(), "Service back to normal: website");
    }
}
