//! Who may use the state: any number of `cabot run`s at once (each holds the lock file
//! shared), or one `cabot migrate` alone (it holds it exclusive). The OS releases a lock
//! when its process dies.

use std::fs::{File, OpenOptions, TryLockError};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::exit_codes::{Exit, ExitCode};

/// Held for as long as it lives.
#[derive(Debug)]
pub struct StateLock {
    _file: File,
}

pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// A run's hold on the state, beside any other run's; waits up to `wait` while `migrate`
/// has the state to itself.
pub fn shared(state: &Path, wait: Duration) -> anyhow::Result<StateLock> {
    acquire(state, wait, false).map_err(|e| match e {
        Busy(path) => Exit::error(
            ExitCode::Locked,
            format!(
                "`cabot migrate` is upgrading the state ({} is held); try again in a minute, or pass --wait 1m",
                path.display()
            ),
        ),
        Failed(e) => e,
    })
}

/// `migrate`'s hold on the state, alone; waits up to `wait` for the runs that are alive.
pub fn exclusive(state: &Path, wait: Duration) -> anyhow::Result<StateLock> {
    acquire(state, wait, true).map_err(|e| match e {
        Busy(path) => Exit::error(
            ExitCode::Locked,
            format!(
                "cabot runs are using the state ({} is held); try again when they are done, or pass --wait 5m",
                path.display()
            ),
        ),
        Failed(e) => e,
    })
}

enum Refused {
    Busy(PathBuf),
    Failed(anyhow::Error),
}
use Refused::{Busy, Failed};

fn acquire(state: &Path, wait: Duration, alone: bool) -> Result<StateLock, Refused> {
    let path = lock_path(state);
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| {
            Failed(Exit::error(
                ExitCode::StateIo,
                format!("cannot create state folder {}: {e}", dir.display()),
            ))
        })?;
    }
    let file = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .mode(crate::store::backup::MODE)
        .open(&path)
        .map_err(|e| {
            Failed(Exit::error(
                ExitCode::StateIo,
                format!("cannot open lock file {}: {e}", path.display()),
            ))
        })?;
    let deadline = Instant::now() + wait;
    loop {
        let tried = if alone {
            file.try_lock()
        } else {
            file.try_lock_shared()
        };
        match tried {
            Ok(()) => return Ok(StateLock { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(Duration::from_millis(50));
            }
            Err(TryLockError::WouldBlock) => return Err(Busy(path)),
            Err(TryLockError::Error(e)) => {
                return Err(Failed(
                    anyhow::Error::from(e).context(format!("cannot lock {}", path.display())),
                ));
            }
        }
    }
}
