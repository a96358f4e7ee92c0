//! `cabot incident open|update|resolve|list`: incident posts, what staff tell customers on
//! the status page ("we are investigating"), each update dated and signed.

use crate::cli::Global;
use crate::clock::{self, format_time};
use crate::cmd::operator;
use crate::exit_codes::{Exit, ExitCode};
use crate::store::posts::{NotUpdated, PostStatus, Update};
use crate::store::{self, Store};

/// At most this many characters of a title, and of a message.
const MAX_TITLE: usize = 200;
const MAX_MESSAGE: usize = 4000;

#[derive(Debug, clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(Debug, clap::Subcommand)]
pub enum Action {
    /// Open an incident post, shown on the status page above the services
    Open {
        /// What customers read as its heading: "Checkout errors"
        title: String,
        /// The services it concerns, comma-separated
        #[arg(long, value_delimiter = ',', required = true, value_name = "NAMES")]
        services: Vec<String>,
        /// Where it stands
        #[arg(long, value_enum, default_value_t = PostStatus::Investigating)]
        status: PostStatus,
        /// What to tell customers [default: "We are investigating."]
        #[arg(long, value_name = "TEXT")]
        message: Option<String>,
        /// Who writes it [default: $SUDO_USER, else $USER]
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Add an update to an open incident post
    Update {
        /// The post's id (`cabot incident list`)
        id: i64,
        #[arg(long, value_enum)]
        status: PostStatus,
        #[arg(long, value_name = "TEXT")]
        message: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// Resolve an incident post: it leaves the page for the history
    Resolve {
        id: i64,
        #[arg(long, value_name = "TEXT")]
        message: String,
        #[arg(long, value_name = "NAME")]
        by: Option<String>,
    },
    /// The open posts and those resolved in the last 90 days, each update with its author
    List,
}

/// How long a resolved post stays listed (and on the history page).
pub const HISTORY_DAYS: i64 = 90;

/// `text`, which customers will read: one that is empty or too long is refused.
fn words(what: &str, text: &str, max: usize) -> anyhow::Result<String> {
    let text = text.trim();
    if text.is_empty() {
        return Err(Exit::error(ExitCode::Usage, format!("the {what} is empty")));
    }
    if text.chars().count() > max {
        return Err(Exit::error(
            ExitCode::Usage,
            format!("the {what} is longer than {max} characters"),
        ));
    }
    Ok(text.to_string())
}

pub fn run(g: &Global, args: &Args) -> anyhow::Result<ExitCode> {
    let cfg = g.load_config()?;
    let mut st = Store::open_checked(&cfg.state, Some(&g.config))?;
    let now = clock::now();
    let state = cfg.state.clone();
    let failure = |what: &'static str| {
        let state = state.clone();
        move |e| store::failure(&state, what, e)
    };
    let said = match &args.action {
        Action::Open {
            title,
            services,
            status,
            message,
            by,
        } => {
            for name in services {
                cfg.service_named(name)?;
            }
            let title = words("title", title, MAX_TITLE)?;
            let message = match message {
                Some(m) => words("message", m, MAX_MESSAGE)?,
                None => "We are investigating.".into(),
            };
            let first = update(*status, message, by.as_deref(), now);
            let id = st
                .open_incident(&title, services, &first)
                .map_err(failure("saving the incident post"))?;
            format!("incident {id} open: {title} ({})\n", services.join(", "))
        }
        Action::Update {
            id,
            status,
            message,
            by,
        } => {
            let message = words("message", message, MAX_MESSAGE)?;
            add(&mut st, *id, update(*status, message, by.as_deref(), now))
                .map_err(failure("saving the update"))??;
            format!("incident {id}: {}\n", status.as_str())
        }
        Action::Resolve { id, message, by } => {
            let message = words("message", message, MAX_MESSAGE)?;
            add(
                &mut st,
                *id,
                update(PostStatus::Resolved, message, by.as_deref(), now),
            )
            .map_err(failure("saving the update"))??;
            format!("incident {id} resolved\n")
        }
        Action::List => {
            let posts = st
                .incidents(now - HISTORY_DAYS * 86_400)
                .map_err(failure("reading the incident posts"))?;
            let mut out = String::new();
            for p in &posts {
                out.push_str(&format!(
                    "{}  {}  {}  opened {}{}  ({})\n",
                    p.id,
                    p.status().as_str(),
                    p.title,
                    format_time(p.opened_at),
                    p.resolved_at
                        .map(|t| format!(", resolved {}", format_time(t)))
                        .unwrap_or_default(),
                    p.services.join(", ")
                ));
                for u in &p.updates {
                    out.push_str(&format!(
                        "    {}  {}{}: {}\n",
                        format_time(u.at),
                        u.status.as_str(),
                        u.by.as_deref()
                            .map(|by| format!(" by {by}"))
                            .unwrap_or_default(),
                        u.message
                    ));
                }
            }
            if posts.is_empty() {
                out.push_str("no incident posts in the last 90 days\n");
            }
            out
        }
    };
    if !g.quiet || matches!(args.action, Action::List) {
        crate::print_out(&said)?;
    }
    Ok(ExitCode::Ok)
}

fn update(status: PostStatus, message: String, by: Option<&str>, now: i64) -> Update {
    Update {
        id: 0,
        at: now,
        status,
        message,
        by: operator(by),
    }
}

/// Adds `u` to post `id`; a post that is missing or resolved is a usage error.
fn add(st: &mut Store, id: i64, u: Update) -> rusqlite::Result<anyhow::Result<()>> {
    Ok(st.update_incident(id, &u)?.map_err(|why| match why {
        NotUpdated::NoSuchPost => Exit::error(
            ExitCode::Usage,
            format!("no incident post {id} (see cabot incident list)"),
        ),
        NotUpdated::Resolved(at) => Exit::error(
            ExitCode::Usage,
            format!(
                "incident post {id} was resolved at {}: open a new one",
                format_time(at)
            ),
        ),
    }))
}
