//! A public service's uptime over the last 24 hours, 7 days and 30 days, each over the time
//! the service was actually watched in that window, and its latest incidents: for the page
//! and `/status.json`.

use super::View;
use crate::core::history::{Incident, service_incidents};

const DAY: i64 = 86_400;
/// (label, seconds) of each window.
pub const WINDOWS: [(&str, i64); 3] = [("24h", DAY), ("7d", 7 * DAY), ("30d", 30 * DAY)];

/// The uptime over one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Uptime {
    pub label: &'static str,
    pub seconds: i64,
    /// Percent of the watched time PASSING; `None` before anything is known.
    pub percent: Option<f64>,
    /// The seconds of the window the service was watched: less than `seconds` for a
    /// service younger than the window.
    pub monitored: i64,
}

impl Uptime {
    /// Whether the figure covers less than its whole window.
    pub fn partial(&self) -> bool {
        self.monitored < self.seconds
    }
}

/// A service's status changes over the longest window (30 days, and the one before): what
/// `figures` works from, read once for the page's strip too.
/// The first call reads every service's in one query (a page lists them all); each
/// service's are handed out once.
pub fn changes(view: &mut View, service: &str) -> Vec<(i64, crate::core::Status)> {
    if view.history.is_none() {
        let longest = WINDOWS[WINDOWS.len() - 1].1;
        let from = view.now - longest;
        view.history = Some(view.read(|s| s.all_service_changes(from)));
    }
    view.history
        .as_mut()
        .and_then(|all| all.remove(service))
        .unwrap_or_default()
}

/// The uptime over each window from a service's `changes`, and its incidents of the last
/// 30 days, newest first.
pub fn figures(
    changes: &[(i64, crate::core::Status)],
    now: i64,
) -> ([Uptime; WINDOWS.len()], Vec<Incident>) {
    let longest = WINDOWS[WINDOWS.len() - 1].1;
    let uptimes = WINDOWS.map(|(label, seconds)| {
        let (_, percent, monitored) = service_incidents(changes, now - seconds, now);
        Uptime {
            label,
            seconds,
            percent,
            monitored,
        }
    });
    let (mut incidents, _, _) = service_incidents(changes, now - longest, now);
    incidents.reverse();
    (uptimes, incidents)
}
