//! The words of an alert in each channel's form. Check output is untrusted: it is
//! escaped for the format it goes into (JSON by serde, XML here) and bounded everywhere.

use serde_json::Value;

/// The alert as channels see it: the webhook JSON, read back.
pub struct Alert<'a>(pub &'a Value);

/// An SMS fits in one 160-character message.
pub const SMS_MAX: usize = 160;
/// What a phone call says is kept short enough to listen to.
pub const SPEECH_MAX: usize = 400;
/// One check's message in an alert.
pub const MESSAGE_MAX: usize = 500;
/// A Slack message or an email body is bounded too.
pub const TEXT_MAX: usize = 8_000;

impl Alert<'_> {
    pub fn str(&self, key: &str) -> &str {
        self.0.get(key).and_then(Value::as_str).unwrap_or("")
    }

    pub fn kind(&self) -> &str {
        self.str("kind")
    }

    pub fn service(&self) -> &str {
        self.str("service")
    }

    pub fn status(&self) -> &str {
        self.str("status")
    }

    /// (name, importance, message) of each failing check.
    pub fn checks(&self) -> Vec<(&str, &str, &str)> {
        self.0
            .get("checks")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .map(|c| {
                        let f = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
                        (f("name"), f("importance"), f("message"))
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Cabot's subjects: `ERROR status for service: website`, `Service back to normal: website`.
    pub fn subject(&self) -> String {
        let subject = match self.kind() {
            "recovery" => format!("Service back to normal: {}", self.service()),
            "test" => format!("Test alert from cabot for service: {}", self.service()),
            _ => format!("{} status for service: {}", self.status(), self.service()),
        };
        one_line(&subject, 200)
    }

    /// The plain-text body of an email.
    pub fn body(&self) -> String {
        let mut out = String::new();
        match self.kind() {
            "recovery" => out.push_str(&format!(
                "Service {} is back to normal (was {}).\n",
                self.service(),
                self.str("previous_status")
            )),
            "test" => out.push_str(
                "This is a test alert from cabot: if you can read it, this channel works.\n",
            ),
            _ => out.push_str(&format!(
                "Service {} is {} (previous status: {}).\n",
                self.service(),
                self.status(),
                self.str("previous_status")
            )),
        }
        let checks = self.checks();
        if !checks.is_empty() {
            out.push_str("\nFailing checks:\n");
            for (name, importance, message) in checks {
                out.push_str(&format!(
                    "  - {name} [{importance}]: {}\n",
                    one_line(message, MESSAGE_MAX)
                ));
            }
        }
        out.push('\n');
        if !self.str("url").is_empty() {
            out.push_str(&format!("Service: {}\n", self.str("url")));
        }
        if !self.str("runbook").is_empty() {
            out.push_str(&format!("Runbook: {}\n", self.str("runbook")));
        }
        out.push_str(&format!("When: {}\n", self.str("time")));
        if matches!(self.kind(), "alert" | "repeat") {
            out.push_str(&format!(
                "\nTo acknowledge: cabot ack {}\n",
                shell_word(self.service())
            ));
        }
        truncate(&out, TEXT_MAX)
    }

    /// One SMS: `cabot: website ERROR (was PASSING): homepage: HTTP 500 ...`, at most 160 chars.
    pub fn sms(&self) -> String {
        let head = match self.kind() {
            "recovery" => format!("cabot: {} back to normal", self.service()),
            "test" => format!("cabot: test alert for {}", self.service()),
            _ => format!(
                "cabot: {} {} (was {})",
                self.service(),
                self.status(),
                self.str("previous_status")
            ),
        };
        let checks: Vec<String> = self
            .checks()
            .iter()
            .map(|(name, _, message)| format!("{name}: {message}"))
            .collect();
        let text = if checks.is_empty() {
            head
        } else {
            format!("{head}: {}", checks.join("; "))
        };
        one_line(&text, SMS_MAX)
    }

    /// What a phone call says.
    pub fn speech(&self) -> String {
        let names: Vec<&str> = self.checks().iter().map(|c| c.0).collect();
        let text = match self.kind() {
            "recovery" => format!("Cabot. Service {} is back to normal.", self.service()),
            "test" => format!("Cabot test call for service {}.", self.service()),
            _ => format!(
                "Cabot alert. Service {} is {}. Failing checks: {}.",
                self.service(),
                self.status().to_lowercase(),
                names.join(", ")
            ),
        };
        one_line(&text, SPEECH_MAX)
    }

    /// Inline TwiML for a call: the speech, XML-escaped.
    pub fn twiml(&self) -> String {
        format!(
            "<Response><Say>{}</Say></Response>",
            xml_escape(&self.speech())
        )
    }

    /// A Slack message mentioning `mentions`.
    pub fn slack_text(&self, mentions: &[String]) -> String {
        let icon = match self.kind() {
            "recovery" => ":white_check_mark:",
            "test" => ":wave:",
            _ => ":rotating_light:",
        };
        let mut text = format!("{icon} *{}*", slack_escape(&self.subject()));
        for (name, importance, message) in self.checks() {
            text.push_str(&format!(
                "\n• {} [{}]: {}",
                slack_escape(name),
                importance,
                slack_escape(&one_line(message, MESSAGE_MAX))
            ));
        }
        if !self.str("runbook").is_empty() {
            text.push_str(&format!("\nRunbook: {}", slack_escape(self.str("runbook"))));
        }
        if !mentions.is_empty() {
            text.push('\n');
            text.push_str(&mentions.join(" "));
        }
        truncate(&text, TEXT_MAX)
    }
}

/// Quotes a word for a shell when it needs it.
fn shell_word(s: &str) -> String {
    if s.chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        s.to_string()
    } else {
        format!("'{}'", s.replace('\'', "'\\''"))
    }
}

/// One line of at most `max` characters: control characters become spaces.
pub fn one_line(s: &str, max: usize) -> String {
    let flat: String = s
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    truncate_chars(&flat, max)
}

fn truncate_chars(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// At most `max` bytes, cut at a character boundary.
pub fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_string();
    }
    let mut end = max.saturating_sub(3);
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}...", &s[..end])
}

pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// Slack's own escaping: `<`, `>` and `&` would start links and mentions.
fn slack_escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn hostile() -> Value {
        let evil = format!(
            "</Say><Dial>+15550000000</Dial><Say> \"quoted\" 'single' & more\nSubject: injected\r\n{}",
            "x".repeat(10_000)
        );
        json!({
            "kind": "alert", "service": "web", "status": "CRITICAL", "previous_status": "PASSING",
            "checks": [{"name": "home", "importance": "critical", "status": "failing", "message": evil}],
            "url": "https://example.com", "runbook": "https://wiki.example.com/web",
            "time": "2026-11-24T10:02:11Z"
        })
    }

    #[test]
    fn hostile_check_output_stays_harmless_and_bounded() {
        let v = hostile();
        let a = Alert(&v);
        let twiml = a.twiml();
        assert_eq!(twiml.matches("<Say>").count(), 1, "{twiml}");
        assert_eq!(twiml.matches("</Say>").count(), 1, "{twiml}");
        assert!(!twiml.contains("<Dial>"));
        assert!(twiml.len() < 3 * SPEECH_MAX);
        let sms = a.sms();
        assert!(sms.chars().count() <= SMS_MAX, "{}", sms.len());
        assert!(!sms.contains('\n'));
        let subject = a.subject();
        assert!(!subject.contains('\n') && !subject.contains('\r'));
        assert!(a.body().len() <= TEXT_MAX);
        let slack = a.slack_text(&[]);
        assert!(slack.len() <= TEXT_MAX);
        assert!(!slack.contains("</Say>"), "escaped for Slack: {slack}");
        let round: Value = serde_json::from_str(&json!({ "text": slack }).to_string()).unwrap();
        assert_eq!(round["text"], slack);
    }

    #[test]
    fn cabot_subjects() {
        let v = json!({"kind": "alert", "service": "website", "status": "ERROR"});
        assert_eq!(Alert(&v).subject(), "ERROR status for service: website");
        let v = json!({"kind": "recovery", "service": "website", "status": "PASSING"});
        assert_eq!(Alert(&v).subject(), "Service back to normal: website");
    }

    #[test]
    fn body_says_what_to_do() {
        let v = hostile();
        let body = Alert(&v).body();
        assert!(body.contains("Service web is CRITICAL (previous status: PASSING)"));
        assert!(body.contains("home [critical]:"));
        assert!(body.contains("Runbook: https://wiki.example.com/web"));
        assert!(body.contains("cabot ack web"));
    }

    #[test]
    fn escaping() {
        assert_eq!(xml_escape("<a & 'b'>"), "&lt;a &amp; &apos;b&apos;&gt;");
        assert_eq!(one_line("a\nb", 10), "a b");
        assert_eq!(one_line("abcdef", 4), "abc…");
        assert_eq!(truncate("ééé", 4), "...");
        assert_eq!(shell_word("web site"), "'web site'");
    }
}
