//! Command: runs a program with the alert's JSON on stdin and its key fields in the
//! environment. Exit 0 is delivered. No shell; killed with its children on timeout.

use std::io::{Read, Write};
use std::os::unix::process::CommandExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

use super::attempt;
use crate::alerts::message::Alert;
use crate::store::outbox::AttemptRecord;

const OUTPUT_MAX: u64 = 4096;

pub fn send(argv: &[String], timeout: Duration, alert: &Value) -> AttemptRecord {
    let Some((program, args)) = argv.split_first() else {
        return attempt("command", false, "the command is empty");
    };
    let a = Alert(alert);
    let spawned = Command::new(program)
        .args(args)
        .env("CABOT_ALERT_KIND", a.kind())
        .env("CABOT_SERVICE", a.service())
        .env("CABOT_STATUS", a.status())
        .env("CABOT_PREVIOUS_STATUS", a.str("previous_status"))
        .env(
            "CABOT_ALERT_ID",
            alert.get("id").map(Value::to_string).unwrap_or_default(),
        )
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn();
    let mut child = match spawned {
        Ok(c) => c,
        Err(e) => return attempt("command", false, format!("cannot run {program}: {e}")),
    };
    let pid = child.id() as i32;
    if let Some(mut stdin) = child.stdin.take() {
        let json = alert.to_string();
        // A program that does not read its stdin is fine: ignore a broken pipe.
        std::thread::spawn(move || {
            let _ = stdin.write_all(json.as_bytes());
        });
    }
    let mut stderr = child.stderr.take();
    let mut stdout = child.stdout.take();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut text = String::new();
        if let Some(err) = stderr.as_mut() {
            let _ = err.take(OUTPUT_MAX).read_to_string(&mut text);
        }
        if let Some(out) = stdout.as_mut() {
            let mut o = String::new();
            let _ = out.take(OUTPUT_MAX).read_to_string(&mut o);
            if text.trim().is_empty() {
                text = o;
            }
        }
        let _ = tx.send(text);
    });
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(20)),
            Err(_) => break None,
        }
    };
    let Some(status) = status else {
        // SAFETY: kill(2) on the process group this child leads; no memory is involved.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
        let _ = child.wait();
        return attempt(
            "command",
            false,
            format!("timed out after {}", humantime::format_duration(timeout)),
        );
    };
    // A grandchild left running may hold the pipes open: don't wait on it for long.
    let text = rx.recv_timeout(Duration::from_secs(1)).unwrap_or_default();
    if status.success() {
        attempt("command", true, format!("exit 0 {}", text.trim()))
    } else {
        attempt("command", false, format!("{status}: {}", text.trim()))
    }
}
