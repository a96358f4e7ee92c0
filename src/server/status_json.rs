//! `GET /status.json`: whether runs happen, the last run, the public services' statuses,
//! uptimes and latest incidents, and the undelivered alerts.
//!
//! Written straight from typed records, fields in alphabetical order (the order scripts
//! have always seen): no JSON tree is built and dropped for thousands of services.

use serde::Serialize;

use super::View;
use super::posts::public_only;
use super::uptime::{self, Uptime};
use super::wire::Response;
use crate::clock::format_time;
use crate::core::history::Incident;
use crate::core::running::words;

/// How many of a service's latest incidents (of the last 30 days) are listed.
pub const RECENT: usize = 5;
/// The version of this document's shape: raised when a field changes meaning or goes;
/// new fields may come within a version. Documented in the README ("`/status.json`").
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Serialize)]
struct Body {
    /// When the state holds times ahead of this clock (it went back): how far, and the
    /// newest of them; else null.
    clock_went_back: Option<ClockStep>,
    given_up_alerts: i64,
    /// The incident posts open now or resolved in the last 90 days, newest first.
    incidents: Vec<PostJson>,
    last_run: Option<LastRun>,
    /// The dated maintenance windows in progress or to come, soonest first.
    maintenance: Vec<WindowJson>,
    /// With `network_checks`: since when every one of them has failed (the monitor's own
    /// network is down); absent while it works.
    #[serde(skip_serializing_if = "Option::is_none")]
    network_down_since: Option<String>,
    /// The other node of a pair, when this one is half of one.
    #[serde(skip_serializing_if = "Option::is_none")]
    peer: Option<crate::peer::View>,
    running: bool,
    schema_version: u32,
    services: Vec<ServiceJson>,
    stale_after_seconds: u64,
    status: &'static str,
    undelivered_alerts: i64,
}

#[derive(Serialize)]
struct ClockStep {
    ahead_seconds: i64,
    newest_stamp: String,
}

#[derive(Serialize)]
struct LastRun {
    age_seconds: i64,
    finished_at: String,
    started_at: String,
}

#[derive(Serialize)]
struct ServiceJson {
    /// The services it depends on that fail now: its alerts wait for them.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    blocked_by: Vec<String>,
    /// The ids of the open incident posts that concern it.
    incident_posts: Vec<i64>,
    name: String,
    recent_incidents: Vec<IncidentJson>,
    since: String,
    status: &'static str,
    /// A dated maintenance window covers it now: its alerts are held.
    under_maintenance: bool,
    uptime: Uptimes,
}

#[derive(Serialize)]
struct PostJson {
    id: i64,
    opened_at: String,
    /// It concerns services that are not public as well.
    other_services: bool,
    resolved_at: Option<String>,
    /// Its public services.
    services: Vec<String>,
    status: &'static str,
    title: String,
    /// Oldest first.
    updates: Vec<PostUpdateJson>,
}

#[derive(Serialize)]
struct PostUpdateJson {
    at: String,
    id: i64,
    message: String,
    status: &'static str,
}

#[derive(Serialize)]
struct WindowJson {
    from: String,
    /// Its id in the state; null for a window written in the config.
    id: Option<i64>,
    in_progress: bool,
    message: String,
    /// It covers services that are not public as well (or every service).
    other_services: bool,
    /// Its public services; empty with `other_services` for every service.
    services: Vec<String>,
    to: String,
}

/// The windows, keyed as before: `24h`, `30d`, `7d`.
#[derive(Serialize)]
struct Uptimes {
    #[serde(rename = "24h")]
    day: UptimeJson,
    #[serde(rename = "30d")]
    month: UptimeJson,
    #[serde(rename = "7d")]
    week: UptimeJson,
}

#[derive(Serialize)]
struct UptimeJson {
    monitored_seconds: i64,
    percent: Option<f64>,
    window_seconds: i64,
}

impl From<&Uptime> for UptimeJson {
    fn from(u: &Uptime) -> Self {
        UptimeJson {
            monitored_seconds: u.monitored,
            percent: u.percent.map(|p| (p * 100.0).round() / 100.0),
            window_seconds: u.seconds,
        }
    }
}

#[derive(Serialize)]
struct IncidentJson {
    duration_seconds: i64,
    end: Option<String>,
    start: String,
    worst_status: &'static str,
}

impl IncidentJson {
    fn new(i: &Incident, now: i64) -> Self {
        IncidentJson {
            duration_seconds: i.end.unwrap_or(now) - i.start,
            end: i.end.map(format_time),
            start: format_time(i.start),
            worst_status: i.worst.as_str(),
        }
    }
}

/// `GET /status.json`: the run, the public services and the outbox, for scripts.
pub fn answer(view: &mut View) -> Response {
    Response::new(200, "application/json", body(view))
}

/// The document `/status.json` answers.
pub fn body(view: &mut View) -> Vec<u8> {
    let (running, last_run, now) = (view.running, view.last_run, view.now);
    let counts = view.read(|s| s.outbox_counts());
    let ahead = view.read(|s| s.stamped_ahead(now));
    let posts = view.posts();
    let windows = view.windows(now);
    let services: Vec<ServiceJson> = view
        .public_services()
        .into_iter()
        .map(|s| {
            let (name, status, since) = (s.name, s.status, s.since);
            let incident_posts = posts
                .iter()
                .filter(|p| p.resolved_at.is_none() && p.services.contains(&name))
                .map(|p| p.id)
                .collect();
            let under_maintenance = windows.iter().any(|w| w.covers(&name, now));
            // In the order of `uptime::WINDOWS`: 24 hours, 7 days, 30 days.
            let ([day, week, month], incidents) =
                uptime::figures(&uptime::changes(view, &name), now);
            ServiceJson {
                blocked_by: s.blocked_by,
                incident_posts,
                under_maintenance,
                recent_incidents: incidents
                    .iter()
                    .take(RECENT)
                    .map(|i| IncidentJson::new(i, now))
                    .collect(),
                since: format_time(since),
                status: status.as_str(),
                uptime: Uptimes {
                    day: UptimeJson::from(&day),
                    month: UptimeJson::from(&month),
                    week: UptimeJson::from(&week),
                },
                name,
            }
        })
        .collect();
    let body = Body {
        clock_went_back: ahead.map(|t| ClockStep {
            ahead_seconds: t - now,
            newest_stamp: format_time(t),
        }),
        given_up_alerts: counts.given_up,
        incidents: posts
            .iter()
            .map(|p| PostJson {
                id: p.id,
                opened_at: format_time(p.opened_at),
                resolved_at: p.resolved_at.map(format_time),
                other_services: public_only(view, &p.services).len() < p.services.len(),
                services: public_only(view, &p.services),
                status: p.status().as_str(),
                title: p.title.clone(),
                updates: p
                    .updates
                    .iter()
                    .map(|u| PostUpdateJson {
                        at: format_time(u.at),
                        id: u.id,
                        message: u.message.clone(),
                        status: u.status.as_str(),
                    })
                    .collect(),
            })
            .collect(),
        maintenance: windows
            .iter()
            .map(|w| WindowJson {
                from: format_time(w.from),
                id: w.id,
                in_progress: w.is_open(now),
                message: w.message.clone(),
                other_services: w.services.is_empty()
                    || public_only(view, &w.services).len() < w.services.len(),
                services: public_only(view, &w.services),
                to: format_time(w.to),
            })
            .collect(),
        last_run: last_run.map(|r| LastRun {
            // Negative for a run stamped ahead of this clock: never 0 for a future time.
            age_seconds: now.saturating_sub(r.finished_at),
            finished_at: format_time(r.finished_at),
            started_at: format_time(r.started_at),
        }),
        network_down_since: match view.cfg.network_checks.is_empty() {
            true => None,
            false => view
                .read(|s| crate::store::run::network_down(s.connection()))
                .map(|(since, _)| format_time(since)),
        },
        // Public: that the peer cannot be reached, not the words (they name its address).
        peer: view.peer().map(|mut p| {
            p.problem = p.problem.map(|_| "not reached".into());
            p
        }),
        running,
        schema_version: SCHEMA_VERSION,
        services,
        stale_after_seconds: view.cfg.stale_after.as_secs(),
        status: words(running),
        undelivered_alerts: counts.undelivered,
    };
    serde_json::to_vec(&body).unwrap_or_default()
}
