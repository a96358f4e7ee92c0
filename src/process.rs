//! Running another program with a deadline: no shell, bounded output, and on timeout the
//! whole process group is killed so that children it left behind die with it.

use std::io::{Read, Write};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// What a finished program said.
#[derive(Debug)]
pub struct Finished {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

#[derive(Debug)]
pub enum Failure {
    /// It could not be started (not found, not executable).
    Spawn(std::io::Error),
    /// It ran past the deadline and was killed, with what it had said by then.
    Timeout { stdout: String },
}

/// Runs `argv` with `env` added, `stdin` written to it, for at most `timeout`; keeps at most
/// `max_output` bytes of each of stdout and stderr.
pub fn run(
    argv: &[String],
    env: &[(&str, String)],
    stdin: Option<Vec<u8>>,
    timeout: Duration,
    max_output: u64,
) -> Result<Finished, Failure> {
    let Some((program, args)) = argv.split_first() else {
        return Err(Failure::Spawn(std::io::Error::other(
            "the command is empty",
        )));
    };
    let mut command = Command::new(program);
    command
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0);
    for (k, v) in env {
        command.env(k, v);
    }
    let mut child = command.spawn().map_err(Failure::Spawn)?;
    let pid = child.id() as i32;
    if let (Some(mut pipe), Some(data)) = (child.stdin.take(), stdin) {
        // A program that does not read its stdin is fine: ignore a broken pipe.
        std::thread::spawn(move || {
            let _ = pipe.write_all(&data);
        });
    }
    let (out_tx, out_rx) = mpsc::channel();
    let (err_tx, err_rx) = mpsc::channel();
    if let Some(out) = child.stdout.take() {
        std::thread::spawn(move || {
            let _ = out_tx.send(read_bounded(out, max_output));
        });
    }
    if let Some(err) = child.stderr.take() {
        std::thread::spawn(move || {
            let _ = err_tx.send(read_bounded(err, max_output));
        });
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break Some(status),
            Ok(None) if started.elapsed() >= timeout => break None,
            Ok(None) => std::thread::sleep(Duration::from_millis(10)),
            Err(_) => break None,
        }
    };
    // The group goes either way: a grandchild must not outlive its check or hold the pipes.
    // SAFETY: kill(2) on the process group this child leads; no memory is involved.
    unsafe {
        libc::kill(-pid, libc::SIGKILL);
    }
    let status = match status {
        Some(s) => s,
        None => {
            let _ = child.wait();
            let stdout = out_rx
                .recv_timeout(Duration::from_secs(1))
                .unwrap_or_default();
            return Err(Failure::Timeout { stdout });
        }
    };
    let stdout = out_rx
        .recv_timeout(Duration::from_secs(1))
        .unwrap_or_default();
    let stderr = err_rx
        .recv_timeout(Duration::from_secs(1))
        .unwrap_or_default();
    Ok(Finished {
        status,
        stdout,
        stderr,
    })
}

/// Reads up to `max` bytes, then drains the rest so the writer is never blocked.
fn read_bounded(mut r: impl Read, max: u64) -> String {
    let mut kept = Vec::new();
    let _ = (&mut r).take(max).read_to_end(&mut kept);
    let _ = std::io::copy(&mut r, &mut std::io::sink());
    String::from_utf8_lossy(&kept).into_owned()
}

/// `exit 3`, or `killed by signal 9` when it died of a signal.
pub fn describe(status: &ExitStatus) -> String {
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exit {code}"),
        (None, Some(sig)) => format!("killed by signal {sig}"),
        _ => status.to_string(),
    }
}
