//! One file per subcommand, each with its arguments beside its `run`.

pub mod ack;
pub mod completions;
pub mod history;
pub mod migrate;
pub mod ping;
pub mod run;
pub mod serve_status;
pub mod silence;
pub mod status;
pub mod test_alert;
pub mod validate;
