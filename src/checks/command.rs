//! `command`: any Nagios plugin. Exit 0 passes; 1 fails at WARNING (never above the check's
//! importance); 2 fails at the check's importance; 3, other codes, a crash or a timeout
//! fail with the output as the message. Text before `|` is the message; perfdata after it
//! is parsed and kept.

use std::time::{Duration, Instant};

use super::perfdata::Perfdata;
use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{Fields, Reader};
use crate::core::Importance;
use crate::process::{self, Failure};

/// A plugin's output beyond this is not read (Nagios itself keeps 8 KiB).
const OUTPUT_MAX: u64 = 8 * 1024;

/// Any Nagios plugin, run without a shell.
#[derive(Debug, Clone)]
pub struct CommandCheck {
    pub command: Vec<String>,
    /// Variables of cabot's environment the plugin gets, besides `PATH`.
    pub env: Vec<String>,
}

impl CheckType for CommandCheck {
    const NAME: &'static str = "command";
    const KEYS: &'static [&'static str] = &["command", "env"];

    fn read(r: &mut Reader, f: &Fields) -> Option<CommandCheck> {
        let command = r.argv(f, "command");
        let env = r.env_names(f, "env");
        Some(CommandCheck {
            command: command?,
            env,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, _: &Context<'_>) -> CheckResult {
        plugin(self, check.timeout)
    }
}

fn plugin(check: &CommandCheck, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let env = process::environment(&check.env, Vec::new());
    let done = match process::run(&check.command, &env, None, timeout, OUTPUT_MAX) {
        Ok(done) => done,
        Err(Failure::Spawn(e)) => {
            return CheckResult::fail(
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
            return CheckResult::fail(
                format!(
                    "timed out after {} and was killed{said}",
                    crate::text::duration(timeout)
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
    let perfdata = (!perf.is_empty()).then(|| Perfdata::parse(&perf));
    let code = done.status.code();
    let message = if text.is_empty() {
        format!("{}, no output", process::describe(&done.status))
    } else {
        text
    };
    let outcome = match code {
        Some(0) => CheckResult::pass(message, took),
        Some(1) => CheckResult::fail(message, took).at_most(Importance::Warning),
        Some(2) => CheckResult::fail(message, took),
        Some(3) => CheckResult::fail(format!("UNKNOWN: {message}"), took),
        _ => CheckResult::fail(
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
        assert_eq!(perf, "time=0.000123s;;;0.000000;10.000000");
        let (text, perf) = split_output("OK: fine | a=1\nmore detail\nand more | b=2;3\n");
        assert_eq!(text, "OK: fine");
        assert_eq!(perf, "a=1 b=2;3");
    }
}
