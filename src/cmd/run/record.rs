//! Results as they arrive, a batch in one IMMEDIATE transaction: each check's result and
//! its new standing (debounce), its service's status, and, once a service's checks in this
//! run are all done, the alert the policy decides for it, in the same transaction.

use std::collections::HashMap;

use rusqlite::Connection;

use super::plan::{Due, decide_services};
use crate::checks::runner::Finished;
use crate::config::Config;
use crate::core::debounce::{self, Standing};
use crate::core::status::service_standing;
use crate::core::{Status, quiet};
use crate::store::LastResult;
use crate::store::ServiceRow;
use crate::store::run::{self as state, Recorded};

/// What stays the same for every batch a run writes.
pub struct Recorder<'a> {
    pub cfg: &'a Config,
    /// The run's name in its leases.
    pub run: &'a str,
    /// Each service's status when the run began, for the alert decisions.
    pub previous: &'a HashMap<String, Status>,
    /// Whether alerts are decided (not with `--no-alerts`).
    pub alerts: bool,
    /// Every network check failed at the run's start: failures are inconclusive.
    pub network_down: bool,
}

/// Writes `finished` (each with the check it ran), brings their services' statuses up to
/// date, and decides the alerts of the services at `decided` (config indexes) whose checks
/// in this run are now all done. Returns whether alerts were written.
///
/// A result is dropped when the check has since been started by another run, which can
/// only happen when this run was suspended past its lease: the newer result stands.
pub fn record(
    conn: &Connection,
    r: &Recorder,
    finished: &[(Due, Finished)],
    decided: &[usize],
    now: i64,
) -> rusqlite::Result<bool> {
    let Recorder {
        cfg,
        run,
        previous,
        alerts,
        network_down,
    } = *r;
    let mut services: Vec<usize> = Vec::new();
    for (due, f) in finished {
        let Some(clock) = state::clock(conn, due.id)? else {
            continue;
        };
        // A newer result stands; a time from a clock that went back is no newer one.
        if clock
            .last_run_at
            .is_some_and(|t| t > f.started_at && !crate::core::schedule::ahead(t, now))
        {
            continue;
        }
        let check = &cfg.services[due.service].checks[due.check];
        let ok = f.result.ok;
        // While cabot's own network is down, a failure says nothing of the service: kept,
        // but its check stands as it stood.
        let inconclusive = network_down && !ok;
        let before = debounce::Streak {
            failures: clock.consecutive_failures,
            passes: clock.consecutive_passes,
        };
        let was = Standing {
            failing: clock.failing,
            since: clock.status_since,
        };
        let (streak, standing) = if inconclusive {
            (before, was)
        } else {
            let mut streak = before.after(ok);
            if let Some(n) = f.result.in_a_row.filter(|_| !ok) {
                streak.failures = n;
            }
            let standing = debounce::standing(Some(streak), check.thresholds(), was, now);
            (streak, standing)
        };
        let recorded = Recorded {
            id: due.id,
            started_at: f.started_at,
            at: now,
            last: LastResult {
                ok,
                message: match inconclusive {
                    true => format!(
                        "{} (inconclusive: cabot's network is down)",
                        f.result.message
                    ),
                    false => f.result.message.clone(),
                },
                duration_ms: f.result.duration.as_millis() as i64,
                perfdata: f.result.perfdata.clone().filter(|_| !inconclusive),
            },
            importance: f.result.importance,
            consecutive_failures: streak.failures,
            consecutive_passes: streak.passes,
            failing: standing.failing,
            status_since: standing.since,
        };
        if inconclusive {
            state::record_inconclusive(conn, run, &recorded)?;
            continue;
        }
        state::record(conn, run, &recorded)?;
        if !services.contains(&due.service) {
            services.push(due.service);
        }
    }
    for &si in &services {
        update_status(conn, &cfg.services[si].name, now)?;
    }
    if !alerts {
        return Ok(false);
    }
    decide_services(conn, cfg, decided, previous, now)
}

/// A service's status from its checks as they stand now; written where it changed.
fn update_status(conn: &Connection, name: &str, now: i64) -> rusqlite::Result<()> {
    let views = state::clocks_of(conn, name)?
        .iter()
        .map(|c| c.view())
        .collect::<Vec<_>>();
    let before = state::service(conn, name)?;
    let (status, since) =
        service_standing(views, before.as_ref().map(|b| (b.status, b.since)), now);
    let row = ServiceRow {
        name: name.to_string(),
        status,
        since,
        active: true,
        memory: before.as_ref().map(|b| b.memory).unwrap_or_default(),
    };
    if before.as_ref() != Some(&row) {
        state::save_service(conn, &row, quiet::ack_ends(status))?;
    }
    Ok(())
}
