//! The command line, in one place, so that the parser, the completions and the man page agree.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::cmd;

/// A duration from the command line, longer than zero and at most `MAX_DAYS` days.
fn duration_up_to<const MAX_DAYS: u64>(text: &str) -> Result<std::time::Duration, String> {
    let d = humantime::parse_duration(text).map_err(|e| e.to_string())?;
    if d.is_zero() {
        return Err("must be longer than zero".into());
    }
    if d.as_secs() > MAX_DAYS * 86_400 {
        return Err(format!("at most {MAX_DAYS}d"));
    }
    Ok(d)
}

/// `silence --for`: at most a year.
pub fn silence_duration(text: &str) -> Result<std::time::Duration, String> {
    duration_up_to::<365>(text)
}

/// `ack --for`: at most 30 days, as `alerting.ack_expiry`.
pub fn ack_duration(text: &str) -> Result<std::time::Duration, String> {
    duration_up_to::<30>(text)
}

/// `history --since`: at most ten years, as `retention`.
pub fn history_duration(text: &str) -> Result<std::time::Duration, String> {
    duration_up_to::<3650>(text)
}
use crate::config::{self, Config};

#[derive(Debug, Parser)]
#[command(
    name = "cabot",
    version,
    about = "A self-hosted service monitor and alerter, run by cron",
    long_about = "cabot runs the checks that are due from a YAML config, keeps state in one \
                  SQLite file, decides alerts with Cabot's rules and tells you where things stand. \
                  Call `cabot run` every minute from cron or a systemd timer."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// The parser as the binary runs it: `--version` also names the schema this build writes
/// and the commit it was built from (left out of the committed man page, which would
/// change with every commit).
pub fn command() -> clap::Command {
    use clap::CommandFactory;
    Cli::command().long_version(format!(
        "{} (schema {}, commit {})",
        env!("CARGO_PKG_VERSION"),
        crate::store::migrations::latest(),
        env!("CABOT_COMMIT")
    ))
}

#[derive(Debug, Clone, clap::Args)]
pub struct Global {
    /// The config file [default: $CABOT_CONFIG, else /etc/cabot/checks.yaml]
    #[arg(short, long, global = true, value_name = "PATH", env = "CABOT_CONFIG", default_value = config::DEFAULT_PATH, hide_default_value = true, hide_env = true)]
    pub config: PathBuf,
    /// The state database, instead of the config's `state:`
    #[arg(long, global = true, value_name = "PATH")]
    pub state: Option<PathBuf>,
    /// Print only errors
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Print more: each check's result as it finishes
    #[arg(short, long, global = true)]
    pub verbose: bool,
    /// Colour the output
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto, value_name = "WHEN")]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl Global {
    /// Loads the config, applies `--state`, and prints nothing: warnings are `validate`'s.
    pub fn load_config(&self) -> anyhow::Result<Config> {
        let mut cfg = config::load(&self.config)?.config;
        if let Some(state) = &self.state {
            cfg.state = state.clone();
        }
        Ok(cfg)
    }

    /// Whether to colour what goes to stdout.
    pub fn color(&self) -> bool {
        match self.color {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
            }
        }
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the checks that are due, record results, update statuses
    Run(cmd::run::Args),
    /// Show services and their checks, for humans, scripts (--json) and Nagios (--nagios)
    Status(cmd::status::Args),
    /// Answer /status/ with "Checks running" or "Checks not running", and a status page
    ServeStatus(cmd::serve_status::Args),
    /// Create or upgrade the state database, after a backup
    Migrate(cmd::migrate::Args),
    /// Check the config and print every problem with its line and column
    Validate(cmd::validate::Args),
    /// Acknowledge a service's incident: no repeats or de-escalation alerts until it expires
    Ack(cmd::ack::Args),
    /// Remove a service's acknowledgement
    Unack(cmd::ack::UnackArgs),
    /// Mute every alert for a service for a while; checks keep running
    Silence(cmd::silence::Args),
    /// Remove a service's silence
    Unsilence(cmd::silence::UnsilenceArgs),
    /// Send a test alert through a channel and show each provider's answer
    TestAlert(cmd::test_alert::Args),
    /// Incidents and uptime of a service or a check over a time range
    History(cmd::history::Args),
    /// The alerts of late and what became of each delivery
    Alerts(cmd::alerts::Args),
    /// Record a ping for a heartbeat check (from a cron job or backup script)
    Ping(cmd::ping::Args),
    /// Who is on duty now and for the next 7 days, per rota
    Oncall(cmd::oncall::Args),
    /// Tell customers on the status page: open, update, resolve and list incident posts
    Incident(cmd::incident::Args),
    /// Plan dated maintenance windows, shown ahead on the status page
    Maintenance(cmd::maintenance::Args),
    /// Write a config from Arachnys' Cabot or Uptime Kuma, secrets in files, with a report
    Import(cmd::import::Args),
    /// Write a consistent copy of the state while runs go on
    Backup(cmd::backup::Args),
    /// Put a backup back as the state, safely while serve-status runs
    Restore(cmd::restore::Args),
    /// Print shell completions
    Completions(cmd::completions::Args),
    /// Print the man page (roff), or write every page into a folder
    Man(cmd::man::Args),
}
