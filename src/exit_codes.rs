//! Exit codes, the same for every command: the Nagios plugin convention first, sysexits after.

use crate::core::Status;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitCode {
    Ok = 0,
    Warning = 1,
    /// A service is ERROR or CRITICAL.
    Critical = 2,
    /// No run yet, or the last run is stale.
    Unknown = 3,
    Usage = 64,
    /// The state database is at a schema this cabot cannot use.
    Schema = 65,
    /// An unexpected internal error (sysexits EX_SOFTWARE).
    Software = 70,
    /// The state database cannot be read or written.
    StateIo = 74,
    /// The state is busy.
    Locked = 75,
    Config = 78,
}

impl From<ExitCode> for u8 {
    fn from(code: ExitCode) -> u8 {
        code as u8
    }
}

impl From<ExitCode> for std::process::ExitCode {
    fn from(code: ExitCode) -> std::process::ExitCode {
        std::process::ExitCode::from(u8::from(code))
    }
}

/// A Nagios plugin's code for a status: OK, WARNING, or CRITICAL for ERROR and CRITICAL.
impl From<Status> for ExitCode {
    fn from(status: Status) -> ExitCode {
        match status {
            Status::Passing => ExitCode::Ok,
            Status::Warning => ExitCode::Warning,
            Status::Error | Status::Critical => ExitCode::Critical,
        }
    }
}

/// An error that decides the process's exit code; anywhere in an `anyhow` chain.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct Exit {
    pub code: ExitCode,
    pub message: String,
}

impl Exit {
    pub fn error(code: ExitCode, message: impl Into<String>) -> anyhow::Error {
        Exit {
            code,
            message: message.into(),
        }
        .into()
    }
}

/// The exit code an error should end the process with.
pub fn for_error(err: &anyhow::Error) -> ExitCode {
    for cause in err.chain() {
        if let Some(exit) = cause.downcast_ref::<Exit>() {
            return exit.code;
        }
        if cause.is::<crate::config::ConfigError>() {
            return ExitCode::Config;
        }
        if cause.is::<rusqlite::Error>() {
            return ExitCode::StateIo;
        }
    }
    ExitCode::Software
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_give_nagios_codes() {
        let cases = [
            (Status::Passing, 0),
            (Status::Warning, 1),
            (Status::Error, 2),
            (Status::Critical, 2),
        ];
        for (status, code) in cases {
            assert_eq!(u8::from(ExitCode::from(status)), code, "{status}");
        }
    }
}
