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
        ask(ctx.http, self, minutes, check.timeout, ctx.now)
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

fn ask(
    client: &Client,
    check: &GraphiteCheck,
    minutes: i64,
    timeout: Duration,
    now: i64,
) -> CheckResult {
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
        Ok((200, body)) => match parse(&body, now.saturating_sub(minutes.saturating_mul(60))) {
            Ok(s) => s,
            Err(e) => {
                return CheckResult::fail(
                    format!("Error getting data from Graphite: {e}"),
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

/// The series of a render answer, keeping the non-null points stamped at `since` or later
/// (Graphite may return a point or two before the window asked for). graphite-web writes
/// an infinite value as `1e9999`, which is no JSON number a parser keeps: read as infinity.
/// A value sent as a string is read as a number, as Cabot's `float()` read it; a value
/// that is no number (a word, `true`, NaN) is an error naming it, never a point skipped.
fn parse(body: &str, since: i64) -> Result<Vec<Series>, String> {
    let not_render = || "the answer is not render JSON".to_string();
    let data: Value = match serde_json::from_str(body) {
        Ok(v) => v,
        Err(_) => serde_json::from_str(&INFINITE.replace_all(body, "${1}\"${2}inf\""))
            .map_err(|_| not_render())?,
    };
    let mut all = Vec::new();
    for s in data.as_array().ok_or_else(not_render)? {
        let target = s["target"].as_str().ok_or_else(not_render)?;
        let mut values = Vec::new();
        for p in s["datapoints"].as_array().ok_or_else(not_render)? {
            if p.get(1).and_then(Value::as_i64).is_some_and(|t| t < since) {
                continue;
            }
            let value = match p.get(0) {
                None | Some(Value::Null) => continue,
                Some(Value::Number(n)) => n.as_f64(),
                Some(Value::String(s)) => s.trim().parse::<f64>().ok(),
                Some(_) => None,
            };
            match value {
                Some(v) if !v.is_nan() => values.push(v),
                _ => {
                    let shown: String = p[0].to_string().chars().take(40).collect();
                    return Err(format!(
                        "{target} has a value that is not a number: {shown}"
                    ));
                }
            }
        }
        all.push(Series {
            target: target.to_string(),
            values,
        });
    }
    Ok(all)
}

/// graphite-web's `1e9999` (or `-1e9999`) where a value starts.
static INFINITE: std::sync::LazyLock<regex::Regex> = std::sync::LazyLock::new(|| {
    regex::Regex::new(r"([\[,:]\s*)(-?)1e9999\b").expect("a valid pattern")
});

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
            let worst = extreme(check.comparison, &s.values, check.threshold)?;
            // Cabot: the value as Python prints it, the threshold as `%0.1f`.
            let text = format!(
                "{} {} {:.1}",
                py_float(worst),
                check.comparison.as_str(),
                check.threshold
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

/// The point a series fails with, as Cabot reported it: its largest for `>` and `>=`, its
/// smallest for `<` and `<=`, the threshold itself for `==`; `None` when it passes.
fn extreme(comparison: Comparison, values: &[f64], threshold: f64) -> Option<f64> {
    let value = match comparison {
        Comparison::Greater | Comparison::GreaterOrEqual => {
            values.iter().copied().fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))))?
        }
        Comparison::Less | Comparison::LessOrEqual => {
            values.iter().copied().fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.min(v))))?
        }
        Comparison::Equal => *values.iter().find(|v| **v == threshold)?,
    };
    comparison.breaks(value, threshold).then_some(value)
}

/// Each target named as Cabot's `minimize_targets` named it: without the dot-separated
/// parts that all targets share at their start and at their end. Names that are still the
/// same (two series of one target) are told apart by a number: `web.load (2)`.
fn short_names(targets: &[&str]) -> Vec<String> {
    let parts: Vec<Vec<&str>> = targets.iter().map(|t| t.split('.').collect()).collect();
    let shortest = parts.iter().map(Vec::len).min().unwrap_or(0);
    let names: Vec<String> = if targets.len() < 2 {
        targets.iter().map(|t| t.to_string()).collect()
    } else {
        // As Cabot: the common prefix counts only when some part differs after it.
        let first = &parts[0];
        let prefix = (0..shortest)
            .find(|&i| parts.iter().any(|p| p[i] != first[i]))
            .unwrap_or(0);
        let suffix = (0..shortest - prefix)
            .find(|&i| {
                let end = |p: &Vec<&str>| p[p.len() - 1 - i].to_string();
                parts.iter().any(|p| end(p) != end(first))
            })
            .unwrap_or(0);
        parts
            .iter()
            .map(|p| p[prefix..p.len() - suffix].join("."))
            .collect()
    };
    let mut seen: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    let firsts: Vec<usize> = names
        .iter()
        .map(|n| {
            let count = seen.entry(n.as_str()).or_insert(0);
            *count += 1;
            *count
        })
        .collect();
    names
        .iter()
        .zip(firsts)
        .map(|(n, i)| if i == 1 { n.clone() } else { format!("{n} ({i})") })
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
    fn the_failing_point_and_the_threshold_as_cabot_reported_them() {
        let one = [series("load", &[5.0, 12.5, 7.0])];
        let cases = [
            // the largest point for > and >=, not the newest
            (Comparison::Greater, 10.0, "12.5 > 10.0"),
            (Comparison::GreaterOrEqual, 12.5, "12.5 >= 12.5"),
            // the smallest for < and <=
            (Comparison::Less, 6.0, "5.0 < 6.0"),
            (Comparison::LessOrEqual, 5.0, "5.0 <= 5.0"),
            (Comparison::Equal, 7.0, "7.0 == 7.0"),
            // the threshold as `%0.1f`
            (Comparison::Greater, 9.16, "12.5 > 9.2"),
            (Comparison::Less, 5.04, "5.0 < 5.0"),
        ];
        for (comparison, threshold, message) in cases {
            assert_eq!(
                judge(&check(comparison, threshold, 0, 0), &one),
                (false, message.to_string()),
                "{comparison:?} {threshold}"
            );
        }
        let twins = [series("web.load", &[10.0]), series("web.load", &[11.0])];
        assert_eq!(
            judge(&check(Comparison::Greater, 5.0, 0, 0), &twins).1,
            "web.load: 10.0 > 5.0, web.load (2): 11.0 > 5.0"
        );
        let inf = [series("q", &[f64::INFINITY])];
        assert_eq!(judge(&check(Comparison::Greater, 5.0, 0, 0), &inf).1, "inf > 5.0");
    }

    #[test]
    fn names_and_numbers() {
        assert_eq!(
            short_names(&["prefix.a.suffix", "prefix.b.suffix"]),
            ["a", "b"]
        );
        // Cabot strips what the ends share, and keeps a shared part in the middle.
        assert_eq!(
            short_names(&["servers.web1.cpu.user.avg", "servers.web2.cpu.idle.avg"]),
            ["web1.cpu.user", "web2.cpu.idle"]
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
        assert_eq!(parse(body, 0), Ok(vec![series("a.b", &[1.5, 2.0])]));
        assert!(parse("<html>", 0).is_err());
        // points stamped before the window are dropped
        assert_eq!(parse(body, 150), Ok(vec![series("a.b", &[2.0])]));
        // graphite-web's infinity
        let inf = r#"[{"target": "x", "datapoints": [[1e9999, 100], [-1e9999, 160], [3, 220]]}]"#;
        assert_eq!(
            parse(inf, 0),
            Ok(vec![series("x", &[f64::INFINITY, f64::NEG_INFINITY, 3.0])])
        );
    }
}
