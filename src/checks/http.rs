//! `http`: a request whose status, body and response time are what the check expects.

use std::fmt;
use std::time::{Duration, Instant};

use super::json_conditions::{self, Condition};
use super::pattern::Pattern;
use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{self, Fields, Reader};
use crate::config::yaml::{Node, Value};
use crate::http_client::{Client, Request};

const METHODS: [&str; 7] = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"];
const DEFAULT_MAX_BODY: u64 = 1024 * 1024;

#[derive(Debug, Clone)]
pub struct HttpCheck {
    /// What is sent, and how much of the answer is read (`max_body`).
    pub request: Request,
    pub expect_status: Vec<StatusMatch>,
    /// Searched in the first `max_body` bytes of the body. Python's dialect, as Cabot's
    /// users wrote it: look-around and backreferences too (fancy-regex, which hands
    /// patterns without them to the linear-time `regex` engine).
    pub text_match: Option<Pattern>,
    /// Conditions on the body read as JSON.
    pub json: Vec<Condition>,
    /// Each header (by name) whose value must match a regex.
    pub headers_match: Vec<(String, Pattern)>,
    pub max_response_time: Option<Duration>,
}

impl CheckType for HttpCheck {
    const NAME: &'static str = "http";
    const KEYS: &'static [&'static str] = &[
        "url",
        "method",
        "headers",
        "body",
        "username",
        "password",
        "password_env",
        "password_file",
        "expect_status",
        "text_match",
        "json",
        "headers_match",
        "max_response_time",
        "verify_tls",
        "follow_redirects",
        "max_body",
        "ca_file",
    ];

    fn read(r: &mut Reader, f: &Fields) -> Option<HttpCheck> {
        let url = r.required_url(f, "url", &["http", "https"]);
        let method = match f.get("method") {
            None => "GET".to_string(),
            Some(n) => {
                let m = r.string(n, &f.path("method"))?.to_ascii_uppercase();
                if !METHODS.contains(&m.as_str()) {
                    r.error(
                        n.mark,
                        &f.path("method"),
                        format!("unknown method '{m}' (one of: {})", METHODS.join(", ")),
                    );
                }
                m
            }
        };
        let headers = r.headers(f, "headers");
        let body = r.opt_string(f, "body");
        let username = r.opt_string(f, "username");
        let password = r.secret(f, "password");
        if password.is_some() && username.is_none() {
            let (key, node) = ["password", "password_env", "password_file"]
                .into_iter()
                .find_map(|k| f.get(k).map(|n| (k, n)))
                .map_or(("password", f.mark), |(k, n)| (k, n.mark));
            r.error(
                node,
                &f.path(key),
                "a password needs a username for basic auth: add username:",
            );
        }
        let expect_status = match f.get("expect_status") {
            None => vec![StatusMatch::Class(2)],
            Some(n) => read_expect_status(r, n, &f.path("expect_status")),
        };
        let text_match = f
            .get("text_match")
            .and_then(|n| Pattern::read(r, n, &f.path("text_match")));
        let json = f
            .get("json")
            .map(|n| json_conditions::read(r, n, &f.path("json")))
            .unwrap_or_default();
        let headers_match = match f.get("headers_match") {
            None => Vec::new(),
            Some(n) => {
                let path = f.path("headers_match");
                match r.any_keys(n, &path) {
                    None => Vec::new(),
                    Some(fields) => fields
                        .entries
                        .iter()
                        .filter_map(|(name, v)| {
                            let re = Pattern::read(r, v, &fields.path(name))?;
                            Some((name.to_string(), re))
                        })
                        .collect(),
                }
            }
        };
        let max_response_time = f
            .get("max_response_time")
            .and_then(|n| r.duration(n, &f.path("max_response_time"), read::SHORT));
        let verify_tls = r.bool(f, "verify_tls", true);
        let follow_redirects = r.bool(f, "follow_redirects", true);
        let max_body = match f.get("max_body") {
            None => DEFAULT_MAX_BODY,
            Some(n) => {
                let path = f.path("max_body");
                let (text, _) = r.scalar(n, &path, "a size like 1MiB")?;
                match parse_size(text) {
                    Ok(size) => size,
                    Err(why) => {
                        r.error(n.mark, &path, why);
                        DEFAULT_MAX_BODY
                    }
                }
            }
        };
        let ca_pem = r.ca_file(f);
        Some(HttpCheck {
            request: Request {
                url: url?,
                method,
                headers,
                body,
                username,
                password,
                verify_tls,
                follow_redirects,
                max_body,
                ca_pem,
            },
            expect_status,
            text_match,
            json,
            headers_match,
            max_response_time,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        let timeout = check.timeout;
        let started = Instant::now();
        let mut response = match ctx.http.send(&self.request, timeout) {
            Ok(r) => r,
            Err(e) => return CheckResult::fail(e, started.elapsed()),
        };
        let code = response.status().as_u16();
        if !self.expect_status.iter().any(|m| m.matches(code)) {
            return CheckResult::fail(
                format!("HTTP {code} (expected {})", expected(&self.expect_status)),
                started.elapsed(),
            );
        }
        for (name, re) in &self.headers_match {
            let value = response
                .headers()
                .get(name.as_str())
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            let Some(value) = value else {
                return CheckResult::fail(
                    format!("HTTP {code}, header {name} missing (headers_match)"),
                    started.elapsed(),
                );
            };
            match re.is_match(&value) {
                Ok(true) => {}
                Ok(false) => {
                    return CheckResult::fail(
                        format!("HTTP {code}, header {name}: {value:?} does not match /{}/", re.as_str()),
                        started.elapsed(),
                    );
                }
                Err(e) => {
                    return CheckResult::fail(
                        format!("HTTP {code}, header {name}: /{}/ gave up: {e}", re.as_str()),
                        started.elapsed(),
                    );
                }
            }
        }
        if self.text_match.is_some() || !self.json.is_empty() {
            let max_body = self.request.max_body;
            let (body, cut) = match Client::read_body(&mut response, max_body, timeout) {
                Ok(b) => b,
                Err(e) => {
                    return CheckResult::fail(
                        format!("HTTP {code}, reading the body failed: {e}"),
                        started.elapsed(),
                    );
                }
            };
            let whole = if cut {
                format!(" in the first {max_body} bytes of the body (max_body)")
            } else {
                " in the body".to_string()
            };
            let text = String::from_utf8_lossy(&body);
            if let Some(re) = &self.text_match {
                let found = match re.is_match(text.as_ref()) {
                    Ok(found) => found,
                    Err(e) => {
                        return CheckResult::fail(
                            format!(
                                "HTTP {code}, text_match /{}/ gave up: {e} (a pattern that backtracks less, such as one without nested repeats, would not)",
                                re.as_str()
                            ),
                            started.elapsed(),
                        );
                    }
                };
                if !found {
                    return CheckResult::fail(
                        format!("HTTP {code}, text_match /{}/ not found{whole}", re.as_str()),
                        started.elapsed(),
                    );
                }
            }
            if !self.json.is_empty() {
                let doc: serde_json::Value = match serde_json::from_slice(&body) {
                    Ok(doc) => doc,
                    Err(e) => {
                        let why = if cut {
                            format!("cut at max_body {max_body} bytes")
                        } else {
                            e.to_string()
                        };
                        return CheckResult::fail(
                            format!("HTTP {code}, the body is not JSON ({why})"),
                            started.elapsed(),
                        );
                    }
                };
                for condition in &self.json {
                    if let Err(why) = condition.judge(&doc) {
                        return CheckResult::fail(format!("HTTP {code}, {why}"), started.elapsed());
                    }
                }
            }
        }
        let took = started.elapsed();
        if let Some(max) = self.max_response_time
            && took > max
        {
            return CheckResult::fail(
                format!(
                    "HTTP {code} in {} ms, slower than max_response_time {}",
                    took.as_millis(),
                    crate::text::duration(max)
                ),
                took,
            );
        }
        CheckResult::pass(format!("HTTP {code} in {} ms", took.as_millis()), took)
    }
}

/// One accepted HTTP status: an exact code, or a class such as `2xx`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusMatch {
    Code(u16),
    Class(u16),
}

impl StatusMatch {
    pub fn matches(self, code: u16) -> bool {
        match self {
            StatusMatch::Code(c) => c == code,
            StatusMatch::Class(class) => code / 100 == class,
        }
    }

    fn parse(text: &str) -> Option<StatusMatch> {
        let lower = text.to_ascii_lowercase();
        if let Some(class) = lower.strip_suffix("xx") {
            return match class.parse::<u16>() {
                Ok(c @ 1..=5) if class.len() == 1 => Some(StatusMatch::Class(c)),
                _ => None,
            };
        }
        match text.parse::<u16>() {
            Ok(code @ 100..=599) => Some(StatusMatch::Code(code)),
            _ => None,
        }
    }
}

impl fmt::Display for StatusMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatusMatch::Code(c) => write!(f, "{c}"),
            StatusMatch::Class(c) => write!(f, "{c}xx"),
        }
    }
}

fn expected(matches: &[StatusMatch]) -> String {
    matches
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(" or ")
}

fn read_expect_status(r: &mut Reader, node: &Node, path: &str) -> Vec<StatusMatch> {
    let items: Vec<&Node> = match &node.value {
        Value::Seq(items) => items.iter().collect(),
        _ => vec![node],
    };
    if items.is_empty() {
        r.error(node.mark, path, "expected at least one status");
    }
    items
        .into_iter()
        .filter_map(|item| {
            let (text, _) = r.scalar(item, path, "a status like 200 or 2xx")?;
            match StatusMatch::parse(text) {
                Some(m) => Some(m),
                None => {
                    r.error(
                        item.mark,
                        path,
                        format!("'{text}' is not an HTTP status: write a code from 100 to 599, or a class like 2xx"),
                    );
                    None
                }
            }
        })
        .collect()
}

/// A size in bytes: `65536`, `64KiB`, `1MiB`, `10MB`, `2kB`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: u64 = num
        .parse()
        .map_err(|_| format!("'{text}' is not a size; write e.g. 65536, 64KiB or 1MiB"))?;
    let mult: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" | "k" => 1024,
        "mb" => 1_000_000,
        "mib" | "m" => 1024 * 1024,
        "gb" => 1_000_000_000,
        "gib" | "g" => 1024 * 1024 * 1024,
        _ => {
            return Err(format!(
                "'{text}' has an unknown unit; use B, KiB, MiB, kB or MB"
            ));
        }
    };
    n.checked_mul(mult)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("'{text}' must be more than zero and not absurdly large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("65536"), Ok(65536));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("1MiB"), Ok(1 << 20));
        assert_eq!(parse_size("10MB"), Ok(10_000_000));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn status_matches() {
        assert_eq!(StatusMatch::parse("2xx"), Some(StatusMatch::Class(2)));
        assert_eq!(StatusMatch::parse("404"), Some(StatusMatch::Code(404)));
        assert_eq!(StatusMatch::parse("6xx"), None);
        assert_eq!(StatusMatch::parse("99"), None);
        assert!(StatusMatch::Class(2).matches(204));
        assert!(!StatusMatch::Class(2).matches(301));
    }
}
