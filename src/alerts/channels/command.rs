//! `command`: runs a program with the alert's JSON on stdin and its key fields in the
//! environment. Exit 0 is delivered. No shell; killed with its children on timeout.

use std::time::Duration;

use super::{Attempt, ChannelType, Reach};
use crate::alerts::alert::Alert;
use crate::config::read::{Fields, Reader};
use crate::process::{self, Failure};

const OUTPUT_MAX: u64 = 4096;

#[derive(Debug, Clone)]
pub struct Command {
    pub command: Vec<String>,
}

impl ChannelType for Command {
    const NAME: &'static str = "command";
    const KEYS: &'static [&'static str] = &["command"];
    const REACH: Reach = Reach::Destination;

    fn read(r: &mut Reader, f: &Fields) -> Option<Command> {
        let command = r
            .require(f, "command")
            .map(|n| r.string_list(n, &f.path("command")))
            .unwrap_or_default();
        Some(Command {
            command: command.into_iter().map(|(s, _)| s).collect(),
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        vec![run(&self.command, alert, timeout)]
    }
}

fn run(argv: &[String], alert: &Alert, timeout: Duration) -> Attempt {
    let env = [
        ("CABOT_ALERT_KIND", alert.kind.as_str().to_string()),
        ("CABOT_SERVICE", alert.service.clone()),
        ("CABOT_STATUS", alert.status.as_str().to_string()),
        (
            "CABOT_PREVIOUS_STATUS",
            alert.previous_status.as_str().to_string(),
        ),
        (
            "CABOT_ALERT_ID",
            alert.id.map(|id| id.to_string()).unwrap_or_default(),
        ),
    ];
    let stdin = Some(alert.to_json().into_bytes());
    match process::run(argv, &env, stdin, timeout, OUTPUT_MAX) {
        Ok(done) => {
            let said = if done.stderr.trim().is_empty() {
                done.stdout
            } else {
                done.stderr
            };
            let status = process::describe(&done.status);
            Attempt::new(
                "command",
                done.status.success(),
                format!("{status} {}", said.trim()),
            )
        }
        Err(Failure::Spawn(e)) => Attempt::new(
            "command",
            false,
            format!(
                "cannot run {}: {e}",
                argv.first().map_or("", String::as_str)
            ),
        ),
        Err(Failure::Timeout { .. }) => Attempt::new(
            "command",
            false,
            format!("timed out after {}", humantime::format_duration(timeout)),
        ),
    }
}
