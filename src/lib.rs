//! cabot: a self-hosted service monitor and alerter that cron drives.
//!
//! `main.rs` only calls [`main`]; everything else lives here so that tests, the
//! completions and the man page use the same definitions as the binary.

pub mod alerts;
pub mod checks;
pub mod cli;
pub mod clock;
pub mod cmd;
pub mod config;
pub mod core;
pub mod exit_codes;
pub mod http_client;
pub mod lock;
pub mod peer;
pub mod process;
pub mod server;
pub mod store;
#[doc(hidden)]
pub mod testing;
pub mod text;
pub mod tls_trust;

use std::io::Write;

use clap::FromArgMatches;

use crate::cli::{Cli, Command};
use crate::config::ConfigError;
use crate::exit_codes::ExitCode;

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    // An empty CABOT_CONFIG (`CABOT_CONFIG= cabot -c x status`) means none, not a missing
    // value for --config.
    if std::env::var_os("CABOT_CONFIG").is_some_and(|v| v.is_empty()) {
        // SAFETY: nothing else runs yet: no thread reads the environment.
        unsafe { std::env::remove_var("CABOT_CONFIG") };
    }
    let parsed = cli::command()
        .try_get_matches()
        .and_then(|mut matches| Cli::from_arg_matches_mut(&mut matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                ExitCode::Usage
            } else {
                ExitCode::Ok
            };
            let _ = e.print();
            return code;
        }
    };
    match run(&cli) {
        Ok(code) => code,
        Err(err) => {
            report(&err, matches!(cli.command, Command::Validate(_)));
            exit_codes::for_error(&err)
        }
    }
}

fn run(cli: &Cli) -> anyhow::Result<ExitCode> {
    let g = &cli.global;
    match &cli.command {
        Command::Run(args) => cmd::run::run(g, args),
        Command::Status(args) => cmd::status::run(g, args),
        Command::ServeStatus(args) => cmd::serve_status::run(g, args),
        Command::Migrate(args) => cmd::migrate::run(g, args),
        Command::Validate(args) => cmd::validate::run(g, args),
        Command::Ack(args) => cmd::ack::run(g, args),
        Command::Unack(args) => cmd::ack::unack(g, args),
        Command::Silence(args) => cmd::silence::run(g, args),
        Command::Unsilence(args) => cmd::silence::unsilence(g, args),
        Command::TestAlert(args) => cmd::test_alert::run(g, args),
        Command::History(args) => cmd::history::run(g, args),
        Command::Ping(args) => cmd::ping::run(g, args),
        Command::Backup(args) => cmd::backup::run(g, args),
        Command::Alerts(args) => cmd::alerts::run(g, args),
        Command::Restore(args) => cmd::restore::run(g, args),
        Command::Oncall(args) => cmd::oncall::run(g, args),
        Command::Incident(args) => cmd::incident::run(g, args),
        Command::Maintenance(args) => cmd::maintenance::run(g, args),
        Command::Import(args) => cmd::import::run(g, args),
        Command::Completions(args) => cmd::completions::run(args),
        Command::Man(args) => cmd::man::run(args),
    }
}

/// Prints an error once, at the edge: a config's every error, else the whole chain.
/// `validating` is `cabot validate`, which lists every error itself.
fn report(err: &anyhow::Error, validating: bool) {
    let mut stderr = std::io::stderr().lock();
    if let Some(config) = err.chain().find_map(|e| e.downcast_ref::<ConfigError>()) {
        if let Some(io) = &config.io {
            let _ = writeln!(stderr, "cabot: {}: {io}", config.file.display());
            return;
        }
        for line in config.lines() {
            let _ = writeln!(stderr, "{line}");
        }
        if validating {
            for w in &config.warnings {
                let _ = writeln!(
                    stderr,
                    "{}",
                    config::format_diagnostic(&config.file, w, true)
                );
            }
        } else {
            let _ = writeln!(
                stderr,
                "cabot: the config has errors; fix them (`cabot validate -c {}` lists them) - nothing was changed",
                config.file.display()
            );
        }
        return;
    }
    let _ = writeln!(stderr, "cabot: {err:#}");
}

/// Writes to stdout, treating a closed pipe (`cabot status | head -1`) as success.
pub fn print_out(text: &str) -> anyhow::Result<()> {
    write_out(|out| out.write_all(text.as_bytes()))
}

/// Lets `write` write to stdout through a buffer, for output too large to build as one
/// string first; a closed pipe is success, as for `print_out`.
pub fn write_out(
    write: impl FnOnce(&mut std::io::BufWriter<std::io::StdoutLock<'static>>) -> std::io::Result<()>,
) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, std::io::stdout().lock());
    match write(&mut out).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e.into()),
        _ => Ok(()),
    }
}
