//! One file per subcommand, each with its arguments beside its `run`.

pub mod ack;
pub mod alerts;
pub mod backup;
pub mod completions;
pub mod history;
pub mod import;
pub mod incident;
pub mod maintenance;
pub mod man;
pub mod migrate;
pub mod oncall;
pub mod ping;
pub mod restore;
pub mod run;
pub mod serve_status;
pub mod silence;
pub mod status;
pub mod test_alert;
pub mod validate;

/// Who is doing this, for the record: `--by`, else the user behind sudo, else the user.
pub fn operator(by: Option<&str>) -> Option<String> {
    by.map(str::to_string)
        .or_else(|| std::env::var("SUDO_USER").ok())
        .or_else(|| std::env::var("USER").ok())
        .filter(|s| !s.trim().is_empty())
}
