//! Running another program with a deadline: no shell, bounded output, a clean environment
//! (nothing of cabot's own, so no secret is handed on), and on timeout the whole process
//! group is killed so that children it left behind die with it.

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

/// Where programs are looked for when cabot's own environment has no `PATH`.
const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The environment a program gets: `PATH` (cabot's, or the usual one), the variables
/// `names` picks from cabot's environment (those it has), and `own`. Nothing else: a
/// secret cabot reads from its environment stays with cabot.
pub fn environment(names: &[String], own: Vec<(String, String)>) -> Vec<(String, String)> {
    let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_string());
    let mut env = vec![("PATH".to_string(), path)];
    for name in names {
        if let Ok(value) = std::env::var(name) {
            env.push((name.clone(), value));
        }
    }
    env.extend(own);
    env
}

/// Where `program` would be found and run: itself when it has a `/`, else the first
/// executable of that name in `PATH`; `None` when there is none.
pub fn find_program(program: &str) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    let executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let p = std::path::PathBuf::from(program);
        return executable(&p).then_some(p);
    }
    let path = std::env::var("PATH").unwrap_or_else(|_| DEFAULT_PATH.to_string());
    std::env::split_paths(&path)
        .map(|dir| dir.join(program))
        .find(|p| executable(p))
}

/// Runs `argv` with exactly the environment `env` (see [`environment`]), `stdin` written
/// to it, for at most `timeout`; keeps at most `max_output` bytes of each of stdout and
/// stderr.
pub fn run(
    argv: &[String],
    env: &[(String, String)],
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
        .process_group(0)
        .env_clear();
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
