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
    /// Variables of cabot's environment the program gets, besides `PATH` and `CABOT_*`.
    pub env: Vec<String>,
}

impl ChannelType for Command {
    const NAME: &'static str = "command";
    const KEYS: &'static [&'static str] = &["command", "env"];
    const REACH: Reach = Reach::Destination;
    const FIX: &'static str = "command";

    fn read(r: &mut Reader, f: &Fields) -> Option<Command> {
        let command = r.argv(f, "command");
        let env = r.env_names(f, "env");
        Some(Command {
            command: command?,
            env,
        })
    }

    fn send(&self, alert: &Alert, _: &str, timeout: Duration) -> Vec<Attempt> {
        vec![run(self, alert, timeout)]
    }
}

fn run(command: &Command, alert: &Alert, timeout: Duration) -> Attempt {
    let argv = &command.command;
    let own = [
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
        ("CABOT_ALERT_TEXT", alert.text()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    let env = process::environment(&command.env, own);
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
            format!("timed out after {}", crate::text::duration(timeout)),
        ),
    }
}
