//! `graphite`: a metric against a threshold, the way Cabot checked it. Each series' non-null
//! points in the window fail when any of them breaks the comparison; the check fails when
//! more series fail than `allowed_num_failures`, or fewer series have data than
//! `expected_num_hosts`.

use std::time::{Duration, Instant};

use serde_json::Value;

use super::{CheckResult, CheckType, Context};
use crate::config::read::{Fields, Reader};
use crate::config::{Check, Secret};
use crate::http_client::{Client, Request};

/// A Graphite metric against a threshold.
#[derive(Debug, Clone)]
pub struct GraphiteCheck {
    pub url: String,
    pub target: String,
    pub comparison: Comparison,
    pub threshold: f64,
    pub expected_num_hosts: u32,
    pub allowed_num_failures: u32,
    pub username: Option<String>,
    pub password: Option<Secret>,
}

impl CheckType for GraphiteCheck {
    const NAME: &'static str = "graphite";
    const KEYS: &'static [&'static str] = &[
        "url",
        "target",
        "comparison",
        "threshold",
        "expected_num_hosts",
        "allowed_num_failures",
        "username",
        "password",
        "password_env",
        "password_file",
    ];

    fn read(r: &mut Reader, f: &Fields) -> Option<GraphiteCheck> {
        let url = r.required_url(f, "url", &["http", "https"]);
        let target = r.required_string(f, "target");
        let comparison = r.require(f, "comparison").and_then(|n| {
            let text = r.string(n, &f.path("comparison"))?;
            let c = Comparison::parse(&text);
            if c.is_none() {
                r.error(
                    n.mark,
                    &f.path("comparison"),
                    format!("'{text}' is not a comparison (one of: >, >=, <, <=, ==)"),
                );
            }
            c
        });
        let threshold = r
            .require(f, "threshold")
            .and_then(|n| r.number(n, &f.path("threshold")));
        let count = |r: &mut Reader, key: &str| {
            f.get(key)
                .and_then(|n| r.uint(n, &f.path(key), u32::MAX.into()))
                .unwrap_or(0) as u32
        };
        let expected_num_hosts = count(r, "expected_num_hosts");
        let allowed_num_failures = count(r, "allowed_num_failures");
        let username = r.opt_string(f, "username");
        let password = r.secret(f, "password");
        Some(GraphiteCheck {
            url: url?,
            target: target?,
            comparison: comparison?,
            threshold: threshold?,
            expected_num_hosts,
            allowed_num_failures,
            username,
            password,
        })
    }

    fn run(&self, check: &Check, last_run: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        let minutes = window_minutes(check.frequency, last_run, ctx.now);
        ask(ctx.http, self, minutes, check.timeout)
    }
}

/// The comparison that makes a Graphite point fail, as Cabot wrote it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
    Equal,
}

impl Comparison {
    pub fn parse(s: &str) -> Option<Comparison> {
        Some(match s {
            ">" => Comparison::Greater,
            ">=" => Comparison::GreaterOrEqual,
            "<" => Comparison::Less,
            "<=" => Comparison::LessOrEqual,
            "==" => Comparison::Equal,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Greater => ">",
            Comparison::GreaterOrEqual => ">=",
            Comparison::Less => "<",
            Comparison::LessOrEqual => "<=",
            Comparison::Equal => "==",
        }
    }

    /// Whether `value` breaks the threshold.
    pub fn breaks(self, value: f64, threshold: f64) -> bool {
        match self {
            Comparison::Greater => value > threshold,
            Comparison::GreaterOrEqual => value >= threshold,
            Comparison::Less => value < threshold,
            Comparison::LessOrEqual => value <= threshold,
            Comparison::Equal => value == threshold,
        }
    }
}

/// Minutes of data to ask for: the frequency or the time since the previous result, plus one.
pub fn window_minutes(frequency: Duration, last_run: Option<i64>, now: i64) -> i64 {
    let freq = (frequency.as_secs() as i64 + 59) / 60;
    let since = last_run.map_or(0, |l| (now.saturating_sub(l).max(0).saturating_add(59)) / 60);
    freq.max(since) + 1
}

fn ask(client: &Client, check: &GraphiteCheck, minutes: i64, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let request = Request {
        username: check.username.clone(),
        password: check.password.clone(),
        max_body: 16 * 1024 * 1024,
        ..Request::get(format!(
            "{}/render?target={}&format=json&from=-{minutes}min",
            check.url.trim_end_matches('/'),
            crate::http_client::encode_component(&check.target)
        ))
    };
    let series: Vec<Series> = match client.fetch(&request, timeout) {
        Ok((200, body)) => match parse(&body) {
            Some(s) => s,
            None => {
                return CheckResult::fail(
                    "Error getting data from Graphite: the answer is not render JSON",
                    started.elapsed(),
                );
            }
        },
        Ok((code, _)) => {
            return CheckResult::fail(
                format!("Error getting data from Graphite: HTTP {code}"),
                started.elapsed(),
            );
        }
        Err(e) => {
            return CheckResult::fail(
                format!("Error getting data from Graphite: {e}"),
                started.elapsed(),
            );
        }
    };
    let (ok, message) = judge(check, &series);
    if ok {
        CheckResult::pass(message, started.elapsed())
    } else {
        CheckResult::fail(message, started.elapsed())
    }
}

/// One series of a render answer: its target and its non-null values.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub target: String,
    pub values: Vec<f64>,
}

fn parse(body: &str) -> Option<Vec<Series>> {
    let data: Value = serde_json::from_str(body).ok()?;
    data.as_array()?
        .iter()
        .map(|s| {
            Some(Series {
                target: s["target"].as_str()?.to_string(),
                values: s["datapoints"]
                    .as_array()?
                    .iter()
                    .filter_map(|p| p.get(0).and_then(Value::as_f64))
                    .collect(),
            })
        })
        .collect()
}

/// Passes or not, and the message, as Cabot wrote them.
pub fn judge(check: &GraphiteCheck, series: &[Series]) -> (bool, String) {
    let with_data: Vec<&Series> = series.iter().filter(|s| !s.values.is_empty()).collect();
    if (with_data.len() as u32) < check.expected_num_hosts {
        return (
            false,
            format!(
                "Hosts missing | {}/{} hosts",
                with_data.len(),
                check.expected_num_hosts
            ),
        );
    }
    let names = short_names(&series.iter().map(|s| s.target.as_str()).collect::<Vec<_>>());
    let failures: Vec<String> = series
        .iter()
        .zip(&names)
        .filter_map(|(s, name)| {
            let worst = s
                .values
                .iter()
                .rev()
                .find(|v| check.comparison.breaks(**v, check.threshold))?;
            let text = format!(
                "{} {} {}",
                py_float(*worst),
                check.comparison.as_str(),
                py_float(check.threshold)
            );
            Some(if series.len() == 1 {
                text
            } else {
                format!("{name}: {text}")
            })
        })
        .collect();
    if failures.len() as u32 > check.allowed_num_failures {
        return (false, failures.join(", "));
    }
    let mut message = format!("{} series, {} failing", series.len(), failures.len());
    if !failures.is_empty() {
        message.push_str(&format!(
            " (allowed {}): {}",
            check.allowed_num_failures,
            failures.join(", ")
        ));
    }
    (true, message)
}

/// Each target named by the dot-separated parts not common to all targets.
fn short_names(targets: &[&str]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = targets.iter().map(|t| t.split('.').collect()).collect();
    let same_shape = parts.windows(2).all(|w| w[0].len() == w[1].len());
    if targets.len() < 2 || !same_shape {
        return targets.iter().map(|t| t.to_string()).collect();
    }
    let varying: Vec<usize> = (0..parts[0].len())
        .filter(|&i| parts.iter().any(|p| p[i] != parts[0][i]))
        .collect();
    parts
        .iter()
        .map(|p| varying.iter().map(|&i| p[i]).collect::<Vec<_>>().join("."))
        .collect()
}

/// A float the way Python prints it: `9.0`, `9.16092`.
fn py_float(v: f64) -> String {
    if v.is_finite() && v.fract() == 0.0 && v.abs() < 1e16 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(comparison: Comparison, threshold: f64, expected: u32, allowed: u32) -> GraphiteCheck {
        GraphiteCheck {
            url: "http://127.0.0.1".into(),
            target: "t".into(),
            comparison,
            threshold,
            expected_num_hosts: expected,
            allowed_num_failures: allowed,
            username: None,
            password: None,
        }
    }

    fn series(target: &str, values: &[f64]) -> Series {
        Series {
            target: target.into(),
            values: values.to_vec(),
        }
    }

    #[test]
    fn cabot_cases() {
        let two = [
            series("stats.PROD.load", &[9.16092]),
            series("stats.stage.load", &[8.16242]),
        ];
        let cases = [
            (
                check(Comparison::Greater, 9.0, 0, 0),
                false,
                "PROD: 9.16092 > 9.0",
            ),
            (
                check(Comparison::Greater, 11.0, 0, 0),
                true,
                "2 series, 0 failing",
            ),
            (
                check(Comparison::Greater, 9.0, 0, 1),
                true,
                "2 series, 1 failing (allowed 1): PROD: 9.16092 > 9.0",
            ),
            (
                check(Comparison::Greater, 8.0, 0, 0),
                false,
                "PROD: 9.16092 > 8.0, stage: 8.16242 > 8.0",
            ),
            (
                check(Comparison::Greater, 0.0, 3, 0),
                false,
                "Hosts missing | 2/3 hosts",
            ),
        ];
        for (c, ok, message) in cases {
            assert_eq!(judge(&c, &two), (ok, message.to_string()));
        }
        let one = [series("stats.PROD.load", &[9.16092])];
        assert_eq!(
            judge(&check(Comparison::Greater, 9.0, 0, 0), &one),
            (false, "9.16092 > 9.0".to_string())
        );
        // all points null
        let empty = [series("stats.PROD.load", &[])];
        assert_eq!(
            judge(&check(Comparison::Greater, 9.0, 1, 0), &empty),
            (false, "Hosts missing | 0/1 hosts".to_string())
        );
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            short_names(&["prefix.a.suffix", "prefix.b.suffix"]),
            ["a", "b"]
        );
        assert_eq!(short_names(&["x.y", "z"]), ["x.y", "z"]);
        assert_eq!(py_float(9.0), "9.0");
        assert_eq!(py_float(9.16092), "9.16092");
        assert_eq!(py_float(-0.5), "-0.5");
    }

    #[test]
    fn window() {
        let minute = Duration::from_secs(60);
        assert_eq!(window_minutes(minute, None, 1000), 2);
        assert_eq!(window_minutes(minute, Some(1000 - 600), 1000), 11);
        assert_eq!(
            window_minutes(Duration::from_secs(300), Some(1000 - 60), 1000),
            6
        );
    }

    #[test]
    fn render_json() {
        let body = r#"[{"target": "a.b", "datapoints": [[1.5, 100], [null, 160], [2, 220]]}]"#;
        assert_eq!(parse(body), Some(vec![series("a.b", &[1.5, 2.0])]));
        assert_eq!(parse("<html>"), None);
    }
}
