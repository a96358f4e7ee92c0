//! One file per subcommand, each with its arguments beside its `run`.

pub mod completions;
pub mod migrate;
pub mod run;
pub mod status;
pub mod validate;
