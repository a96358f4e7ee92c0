//! `cabot maintenance add|list|cancel`: dated maintenance windows, shown ahead on the
//! status page; while one lasts its services are "under maintenance" and their alerts are
//! held as a silence holds them (recoveries after it as usual).

use crate::cli::Global;
use crate::clock::{self, format_time};
use crate::cmd::operator;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::posts::Window;
use crate::store::{self, Store};

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Plan a window: the status page shows it from now on
    Add {
        /// The services it covers, comma-separated [default: every service]
        #[arg(long, value_delimiter = ',', value_name = "NAMES")]
        services: Vec<String>,
        /// When it starts: "2026-12-12 02:00"
        #[arg(long, value_name = "TIME")]
        from: String,
        /// When it ends: "2026-12-12 04:00"
        #[arg(long, value_name = "TIME")]
        to: String,
        /// The time zone of --from and --to, and of the page's times for it
        #[arg(long, value_name = "ZONE", default_value = "UTC")]
        time_zone: String,
        /// What customers read: "Database upgrade"
        #[arg(long, value_name = "TEXT")]
        message: String,
        /// Who plans it [default: $SUDO_USER, else $USER]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// The windows that have not ended, in the state and in the config
    List,
    /// Cancel a window that has not ended
    Cancel {
        /// Its id (`cabot maintenance list`)
        id: i64,
    },
}

/// At most this long a window (a planned outage longer is an outage).
const MAX_DAYS: i64 = 30;

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let now = clock::now();
    let usage = |text: String| Exit::error(ExitCode::Usage, text);
    let said = match &args.action {
        Action::Add {
            services,
            from,
            to,
            time_zone,
            message,
            by,
        } => {
            for name in services {
                cfg.service_named(name)?;
            }
            let zone = jiff::tz::TimeZone::get(time_zone).map_err(|_| {
                usage(format!(
                    "unknown time zone '{time_zone}' (write e.g. UTC or Europe/London)"
                ))
            })?;
            let from = crate::config::local_time(from, &zone).map_err(usage)?;
            let to = crate::config::local_time(to, &zone).map_err(usage)?;
            if to <= from {
                return Err(usage("the window ends before it starts".into()));
            }
            if to <= now {
                return Err(usage(format!(
                    "the window ended at {}: nothing to plan",
                    format_time(to)
                )));
            }
            if to - from > MAX_DAYS * 86_400 {
                return Err(usage(format!("a window is at most {MAX_DAYS} days")));
            }
            let message = message.trim();
            if message.is_empty() || message.chars().count() > 4000 {
                return Err(usage(
                    "the message must say something, in at most 4000 characters".into(),
                ));
            }
            let window = Window {
                id: None,
                services: services.clone(),
                from,
                to,
                time_zone: time_zone.clone(),
                message: message.to_string(),
                by: operator(by.as_deref()),
                created_at: None,
            };
            let id = st
                .add_maintenance(&window, now)
                .map_err(|e| store::failure(&cfg.state, "saving the window", e))?;
            format!("maintenance {id}: {}\n", describe(&window))
        }
        Action::List => {
            let windows = st
                .maintenance_windows(now)
                .map_err(|e| store::failure(&cfg.state, "reading the windows", e))?;
            let mut out = String::new();
            for w in windows
                .iter()
                .chain(cfg.scheduled.iter().filter(|w| w.to > now))
            {
                let id = w.id.map_or("config".to_string(), |id| id.to_string());
                out.push_str(&format!("{id}  {}\n", describe(w)));
            }
            if out.is_empty() {
                out.push_str("no maintenance planned\n");
            }
            out
        }
        Action::Cancel { id } => {
            let cancelled = st
                .cancel_maintenance(*id, now)
                .map_err(|e| store::failure(&cfg.state, "cancelling the window", e))?;
            if !cancelled {
                return Err(usage(format!(
                    "no maintenance window {id} that has not ended (see cabot maintenance list)"
                )));
            }
            format!("maintenance {id} cancelled\n")
        }
    };
    if !g.quiet || matches!(args.action, Action::List) {
        crate::print_out(&said)?;
    }
    Ok(ExitCode::Ok)
}

/// `2026-12-12T02:00:00Z to 2026-12-12T04:00:00Z (db): Database upgrade`.
fn describe(w: &Window) -> String {
    let services = match w.services.is_empty() {
        true => "every service".to_string(),
        false => w.services.join(", "),
    };
    format!(
        "{} to {} ({services}): {}",
        format_time(w.from),
        format_time(w.to),
        w.message
    )
}
