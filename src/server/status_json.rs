//! `GET /status.json`: whether runs happen, the last run, the public services' statuses,
//! uptimes and latest incidents, and the undelivered alerts.

use serde_json::json;

use super::{View, uptime};

/// How many of a service's latest incidents (of the last 30 days) are listed.
pub const RECENT: usize = 5;
use super::wire::Response;
use crate::clock::format_time;
use crate::core::running::words;

/// `GET /status.json`: the run, the public services and the outbox, for scripts.
pub fn answer(view: &mut View) -> Response {
    let (running, last_run, now) = (view.running, view.last_run, view.now);
    let counts = view.read(|s| s.outbox_counts());
    let services: Vec<_> = view
        .public_services()
        .into_iter()
        .map(|(name, status, since)| {
            let (uptimes, incidents) = uptime::figures(&uptime::changes(view, &name), now);
            let uptime: serde_json::Map<String, serde_json::Value> = uptimes
                .iter()
                .map(|u| (u.label.to_string(), u.json()))
                .collect();
            let recent: Vec<_> = incidents
                .iter()
                .take(RECENT)
                .map(|i| uptime::incident_json(i, now))
                .collect();
            json!({
                "name": name,
                "status": status.as_str(),
                "since": format_time(since),
                "uptime": uptime,
                "recent_incidents": recent,
            })
        })
        .collect();
    let body = json!({
        "running": running,
        "status": words(running),
        "last_run": last_run.map(|r| json!({
            "started_at": format_time(r.started_at),
            "finished_at": format_time(r.finished_at),
            "age_seconds": now.saturating_sub(r.finished_at).max(0),
        })),
        "stale_after_seconds": view.cfg.stale_after.as_secs(),
        "services": services,
        "undelivered_alerts": counts.undelivered,
        "given_up_alerts": counts.given_up,
    });
    Response::new(200, "application/json", body.to_string())
}
