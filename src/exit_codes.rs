//! Exit codes, the same for every command: the Nagios plugin convention first, sysexits after.

pub const OK: u8 = 0;
pub const WARNING: u8 = 1;
pub const CRITICAL: u8 = 2;
pub const UNKNOWN: u8 = 3;
pub const USAGE: u8 = 64;
pub const SCHEMA: u8 = 65;
/// An unexpected internal error (sysexits EX_SOFTWARE).
pub const SOFTWARE: u8 = 70;
pub const STATE_IO: u8 = 74;
pub const LOCKED: u8 = 75;
pub const CONFIG: u8 = 78;

/// An error that decides the process's exit code; anywhere in an `anyhow` chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: u8,
    pub message: String,
}

impl Exit {
    pub fn error(code: u8, message: impl Into<String>) -> anyhow::Error {
        Exit {
            code,
            message: message.into(),
        }
        .into()
    }
}

/// The exit code an error should end the process with.
pub fn for_error(err: &anyhow::Error) -> u8 {
    for cause in err.chain() {
        if let Some(exit) = cause.downcast_ref::<Exit>() {
            return exit.code;
        }
        if cause.is::<crate::config::ConfigError>() {
            return CONFIG;
        }
        if cause.is::<rusqlite::Error>() {
            return STATE_IO;
        }
    }
    SOFTWARE
}
