//! `command`: any Nagios plugin. Exit 0 passes; 1 fails at WARNING (never above the check's
//! importance); 2 fails at the check's importance; 3, other codes, a crash or a timeout
//! fail with the output as the message. Text before `|` is the message; perfdata after it
//! is parsed and kept.

use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::Outcome;
use crate::config::CommandCheck;
use crate::core::Importance;
use crate::process::{self, Failure};

/// A plugin's output beyond this is not read (Nagios itself keeps 8 KiB).
const OUTPUT_MAX: u64 = 8 * 1024;

pub fn run(check: &CommandCheck, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let done = match process::run(&check.command, &[], None, timeout, OUTPUT_MAX) {
        Ok(done) => done,
        Err(Failure::Spawn(e)) => {
            return Outcome::fail(
                format!("cannot run {}: {e}", check.command[0]),
                started.elapsed(),
            );
        }
        Err(Failure::Timeout { stdout }) => {
            let (text, _) = split_output(&stdout);
            let said = if text.is_empty() {
                String::new()
            } else {
                format!(": {text}")
            };
            return Outcome::fail(
                format!(
                    "timed out after {} and was killed{said}",
                    humantime::format_duration(timeout)
                ),
                started.elapsed(),
            );
        }
    };
    let took = started.elapsed();
    let output = if done.stdout.trim().is_empty() {
        &done.stderr
    } else {
        &done.stdout
    };
    let (text, perf) = split_output(output);
    let perfdata = (!perf.is_empty()).then(|| parse_perfdata(&perf).to_string());
    let code = done.status.code();
    let message = if text.is_empty() {
        format!("{}, no output", process::describe(&done.status))
    } else {
        text
    };
    let outcome = match code {
        Some(0) => Outcome::pass(message, took),
        Some(1) => Outcome::fail(message, took).at_most(Importance::Warning),
        Some(2) => Outcome::fail(message, took),
        Some(3) => Outcome::fail(format!("UNKNOWN: {message}"), took),
        _ => Outcome::fail(
            format!("{}: {message}", process::describe(&done.status)),
            took,
        ),
    };
    outcome.with_perfdata(perfdata)
}

/// The first line's text before `|`, and every perfdata part (after `|` on any line).
fn split_output(output: &str) -> (String, String) {
    let mut lines = output.lines();
    let first = lines.next().unwrap_or("");
    let (text, mut perf) = match first.split_once('|') {
        Some((t, p)) => (t.trim().to_string(), p.trim().to_string()),
        None => (first.trim().to_string(), String::new()),
    };
    // Long output may carry more perfdata after a `|` on a later line.
    for line in lines {
        if let Some((_, p)) = line.split_once('|') {
            perf.push(' ');
            perf.push_str(p.trim());
        }
    }
    (text, perf.trim().to_string())
}

/// `'label'=value[UOM];[warn];[crit];[min];[max]` items, as a JSON array.
pub fn parse_perfdata(text: &str) -> Value {
    let mut items = Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        let (label, after) = if let Some(quoted) = rest.strip_prefix('\'') {
            // a quoted label; '' is a quote inside it
            let mut label = String::new();
            let mut chars = quoted.char_indices().peekable();
            let mut end = quoted.len();
            while let Some((i, c)) = chars.next() {
                if c == '\'' {
                    if chars.peek().map(|(_, n)| *n) == Some('\'') {
                        label.push('\'');
                        chars.next();
                        continue;
                    }
                    end = i + 1;
                    break;
                }
                label.push(c);
            }
            (label, &quoted[end..])
        } else {
            let eq = rest.find('=').unwrap_or(rest.len());
            (rest[..eq].to_string(), &rest[eq..])
        };
        let Some(after) = after.strip_prefix('=') else {
            break;
        };
        let end = after.find(char::is_whitespace).unwrap_or(after.len());
        let (spec, next) = after.split_at(end);
        rest = next.trim_start();
        let mut fields = spec.split(';');
        let value = fields.next().unwrap_or("");
        let number_end = value
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '-' | '+' | 'e' | 'E')))
            .unwrap_or(value.len());
        let (number, uom) = value.split_at(number_end);
        let Ok(number) = number.parse::<f64>() else {
            continue;
        };
        let field = |f: Option<&str>| match f {
            Some(s) if !s.is_empty() => s.parse::<f64>().map_or(json!(s), |n| json!(n)),
            _ => Value::Null,
        };
        let (warn, crit, min, max) = (
            field(fields.next()),
            field(fields.next()),
            field(fields.next()),
            field(fields.next()),
        );
        items.push(json!({
            "label": label, "value": number, "uom": uom,
            "warn": warn, "crit": crit, "min": min, "max": max,
        }));
    }
    Value::Array(items)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_and_perfdata() {
        let (text, perf) = split_output(
            "TCP OK - 0.000 second response time on 127.0.0.1 port 22|time=0.000123s;;;0.000000;10.000000\n",
        );
        assert_eq!(
            text,
            "TCP OK - 0.000 second response time on 127.0.0.1 port 22"
        );
        let p = parse_perfdata(&perf);
        assert_eq!(p[0]["label"], "time");
        assert_eq!(p[0]["value"], 0.000123);
        assert_eq!(p[0]["uom"], "s");
        assert_eq!(p[0]["warn"], Value::Null);
        assert_eq!(p[0]["min"], 0.0);
        assert_eq!(p[0]["max"], 10.0);
    }

    #[test]
    fn perfdata_forms() {
        let p = parse_perfdata("'disk used'=80%;90;95 load1=0.5;1:2;@3:4 'it''s'=3c bogus");
        assert_eq!(p.as_array().map(Vec::len), Some(3));
        assert_eq!(p[0]["label"], "disk used");
        assert_eq!(p[0]["uom"], "%");
        assert_eq!(p[0]["crit"], 95.0);
        assert_eq!(p[1]["warn"], "1:2");
        assert_eq!(p[1]["crit"], "@3:4");
        assert_eq!(p[2]["label"], "it's");
        assert_eq!(p[2]["uom"], "c");
        let (text, perf) = split_output("OK: fine | a=1\nmore detail\nand more | b=2;3\n");
        assert_eq!(text, "OK: fine");
        assert_eq!(parse_perfdata(&perf).as_array().map(Vec::len), Some(2));
    }
}
