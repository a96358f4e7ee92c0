//! One `cabot run` at a time, per state file.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::exit_codes::{Exit, ExitCode};

/// Held for as long as it lives; the OS releases it if the process dies.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Takes the lock next to the state file, waiting up to `wait` for another holder.
pub fn acquire(state: &Path, wait: Duration) -> anyhow::Result<RunLock> {
    let path = lock_path(state);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Exit::error(
                ExitCode::StateIo,
                format!("cannot create state folder {}: {e}", dir.display()),
            )
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| {
            Exit::error(
                ExitCode::StateIo,
                format!("cannot open lock file {}: {e}", path.display()),
            )
        })?;
    let deadline = Instant::now() + wait;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) => {
                if Instant::now() >= deadline {
                    return Err(Exit::error(
                        ExitCode::Locked,
                        format!(
                            "another cabot run holds {}; try again later, or pass --wait 1m",
                            path.display()
                        ),
                    ));
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::Error(e)) => {
                return Err(e).with_context(|| format!("cannot lock {}", path.display()));
            }
        }
    }
}
