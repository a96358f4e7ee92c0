//! `webhook`: the alert's JSON, POSTed; or, with `body:`, a template filled from the alert
//! (`{{service}}`, `{{status}}`, `{{text}}`, ...), sent with the configured `method` and
//! `headers`, so that any service that takes an HTTP request can be reached without a
//! script. In a JSON body, each value is escaped as JSON string content.

use std::time::Duration;

use super::{Attempt, ChannelType, Reach, agent, secret};
use crate::alerts::alert::Alert;
use crate::config::Secret;
use crate::config::read::{Fields, Reader};

const NAME: &str = "webhook";

/// The placeholders a body template may use.
pub const PLACEHOLDERS: &[&str] = &[
    "kind",
    "service",
    "status",
    "previous_status",
    "text",
    "checks",
    "url",
    "runbook",
    "time",
    "incident",
    "id",
    "json",
];

/// The methods a webhook may use: each carries a body.
const METHODS: &[&str] = &["POST", "PUT", "PATCH"];

#[derive(Debug, Clone)]
pub struct Webhook {
    /// A secret: a webhook URL is often its own credential.
    pub url: Secret,
    pub method: String,
    pub headers: Vec<(String, String)>,
    /// The body template; none sends the alert's JSON.
    pub body: Option<Template>,
}

/// A body template, split at its placeholders when the config is read.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    parts: Vec<Part>,
    /// Whether values are escaped as JSON string content.
    json: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Part {
    Text(String),
    Value(&'static str),
}

impl ChannelType for Webhook {
    const NAME: &'static str = NAME;
    const KEYS: &'static [&'static str] =
        &["url", "url_env", "url_file", "method", "headers", "body"];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "url, method, headers and body";

    fn read(r: &mut Reader, f: &Fields) -> Option<Webhook> {
        let url = r.required_secret(f, "url");
        let method = r
            .opt_string(f, "method")
            .map_or_else(|| "POST".to_string(), |m| m.to_ascii_uppercase());
        if let Some(n) = f.get("method")
            && !METHODS.contains(&method.as_str())
        {
            r.error(
                n.mark,
                &f.path("method"),
                format!("'{method}' is not a method a webhook can use: POST, PUT or PATCH"),
            );
        }
        let headers = r.headers(f, "headers");
        let content_type = headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case("content-type"))
            .map(|(_, v)| v.to_ascii_lowercase());
        let body = match (r.opt_string(f, "body"), f.get("body")) {
            (Some(text), Some(node)) => {
                let json = match &content_type {
                    Some(ct) => ct.contains("json"),
                    // A JSON object or array; `{{` opens a placeholder, not an object.
                    None => {
                        let t = text.trim_start();
                        t.starts_with('[') || (t.starts_with('{') && !t.starts_with("{{"))
                    }
                };
                match Template::parse(&text, json) {
                    Ok(t) => Some(t),
                    Err(why) => {
                        r.error(node.mark, &f.path("body"), why);
                        None
                    }
                }
            }
            _ => None,
        };
        Some(Webhook {
            url: url?,
            method,
            headers,
            body,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        vec![self.post(alert, timeout)]
    }
}

impl Webhook {
    fn post(&self, alert: &Alert, timeout: Duration) -> Attempt {
        let url = match secret(NAME, &self.url) {
            Ok(u) => u,
            Err(a) => return a,
        };
        let (body, default_type) = match &self.body {
            None => (alert.to_json(), "application/json"),
            Some(t) if t.json => (t.fill(alert), "application/json"),
            Some(t) => (t.fill(alert), "text/plain; charset=utf-8"),
        };
        let api = agent(timeout);
        let mut request = match self.method.as_str() {
            "PUT" => api.put(&url),
            "PATCH" => api.patch(&url),
            _ => api.post(&url),
        };
        if !self
            .headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("Content-Type", default_type);
        }
        for (name, value) in &self.headers {
            request = request.header(name, value);
        }
        super::judge_status(NAME, request.send(body))
    }
}

impl Template {
    /// Splits `text` at its `{{name}}` placeholders; an unknown or unclosed one is an error.
    pub fn parse(text: &str, json: bool) -> Result<Template, String> {
        let mut parts = Vec::new();
        let mut rest = text;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err("a '{{' in the body is not closed by '}}'".into());
            };
            let name = after[..close].trim();
            let Some(known) = PLACEHOLDERS.iter().find(|p| **p == name) else {
                return Err(format!(
                    "unknown placeholder '{{{{{name}}}}}' (one of: {})",
                    PLACEHOLDERS.join(", ")
                ));
            };
            parts.push(Part::Value(known));
            rest = &after[close + 2..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts, json })
    }

    /// The body for `alert`.
    pub fn fill(&self, alert: &Alert) -> String {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Text(text) => out.push_str(text),
                // The alert's JSON is a value of its own, never a string's content.
                Part::Value("json") => out.push_str(&alert.to_json()),
                Part::Value(name) => {
                    let value = value(alert, name);
                    if self.json {
                        let quoted = serde_json::to_string(&value).unwrap_or_default();
                        out.push_str(&quoted[1..quoted.len() - 1]);
                    } else {
                        out.push_str(&value);
                    }
                }
            }
        }
        out
    }
}

/// A placeholder's value; an absent url or runbook is empty.
fn value(alert: &Alert, name: &str) -> String {
    match name {
        "kind" => alert.kind.as_str().to_string(),
        "service" => alert.service.clone(),
        "status" => alert.status.to_string(),
        "previous_status" => alert.previous_status.to_string(),
        "text" => alert.text(),
        "checks" => alert
            .checks
            .iter()
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect::<Vec<_>>()
            .join("; "),
        "url" => alert.url.clone().unwrap_or_default(),
        "runbook" => alert.runbook.clone().unwrap_or_default(),
        "time" => crate::clock::format_time(alert.time),
        "incident" => alert.incident.clone().unwrap_or_default(),
        "id" => alert.id.map(|i| i.to_string()).unwrap_or_default(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::alerts::alert::tests::hostile;

    #[test]
    fn placeholders_are_checked_when_read() {
        assert!(Template::parse("{{service}} is {{status}}", false).is_ok());
        assert_eq!(
            Template::parse("{{servise}}", false),
            Err(format!(
                "unknown placeholder '{{{{servise}}}}' (one of: {})",
                PLACEHOLDERS.join(", ")
            ))
        );
        assert!(Template::parse("{{service", false).is_err());
    }

    #[test]
    fn json_bodies_get_escaped_values() {
        let mut alert = hostile();
        alert.checks[0].message = "a \"quoted\"\nline".into();
        let t = Template::parse(r#"{"title": "{{service}} {{status}}", "detail": "{{checks}}"}"#, true)
            .expect("template");
        let body = t.fill(&alert);
        assert_eq!(
            body,
            r#"{"title": "web CRITICAL", "detail": "home: a \"quoted\"\nline"}"#
        );
        let plain = Template::parse("{{service}}: {{checks}}", false).expect("template");
        assert_eq!(plain.fill(&alert), "web: home: a \"quoted\"\nline");
    }
}
