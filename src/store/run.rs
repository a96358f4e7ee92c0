//! What `cabot run` reads and writes inside its short transactions: each check's clock
//! (its schedule, lease and standing, without its messages), leases, results as they
//! arrive, and service rows. Every function takes the transaction's connection; the run
//! decides what to write with the pure rules in `core/`.

use rusqlite::{Connection, OptionalExtension, params};

use super::{LastResult, SERVICE_COLUMNS, ServiceRow, service_row};
use crate::checks::perfdata::Perfdata;
use crate::core::status::CheckView;
use crate::core::{Importance, Status};

/// What a run needs of a check's state to schedule it and judge it: no names, no messages.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckClock {
    pub id: i64,
    /// Its type, as the registry names it ("" for a type this cabot does not know).
    pub kind: &'static str,
    pub importance: Importance,
    pub active: bool,
    pub consecutive_failures: u64,
    pub consecutive_passes: u64,
    /// Whether it has a result yet.
    pub has_result: bool,
    pub failing: bool,
    pub status_since: Option<i64>,
    pub failing_importance: Option<Importance>,
    /// When its last run started.
    pub last_run_at: Option<i64>,
    /// Until when a run holds it.
    pub claim_until: Option<i64>,
    /// The run that holds it (see `schedule::run_id`).
    pub claimed_by: Option<String>,
    /// When it was first seen in the config.
    pub added_at: Option<i64>,
    /// How long its last run took.
    pub last_duration_ms: Option<i64>,
}

impl CheckClock {
    /// The importance its failure gives its service.
    pub fn effective_importance(&self) -> Importance {
        self.failing_importance
            .map_or(self.importance, |i| i.min(self.importance))
    }

    pub fn view(&self) -> CheckView {
        CheckView {
            importance: self.effective_importance(),
            active: self.active,
            failing: self.failing,
        }
    }
}

const CLOCK_COLUMNS: &str = "id, kind, importance, active, consecutive_failures,
    last_ok IS NOT NULL, failing, status_since, failing_importance, last_run_at, claim_until,
    service, name, added_at, claimed_by, last_duration_ms, consecutive_passes";

fn clock_row(r: &rusqlite::Row) -> rusqlite::Result<CheckClock> {
    let kind = r.get_ref(1)?.as_str()?;
    Ok(CheckClock {
        id: r.get(0)?,
        kind: crate::checks::TYPES
            .iter()
            .copied()
            .find(|t| *t == kind)
            .unwrap_or(""),
        importance: r.get(2)?,
        active: r.get(3)?,
        consecutive_failures: r.get::<_, i64>(4)?.max(0) as u64,
        has_result: r.get(5)?,
        failing: r.get(6)?,
        status_since: r.get(7)?,
        failing_importance: r.get(8)?,
        last_run_at: r.get(9)?,
        claim_until: r.get(10)?,
        added_at: r.get(13)?,
        claimed_by: r.get(14)?,
        last_duration_ms: r.get(15)?,
        consecutive_passes: r.get::<_, i64>(16)?.max(0) as u64,
    })
}

/// Calls `each` with every check the state knows: its service and name (borrowed, so
/// that reading thousands costs no copies), and its clock.
pub fn each_clock(
    conn: &Connection,
    mut each: impl FnMut(&str, &str, CheckClock),
) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {CLOCK_COLUMNS} FROM checks"))?;
    let mut rows = stmt.query([])?;
    while let Some(r) = rows.next()? {
        let clock = clock_row(r)?;
        each(r.get_ref(11)?.as_str()?, r.get_ref(12)?.as_str()?, clock);
    }
    Ok(())
}

/// The checks of one service.
pub fn clocks_of(conn: &Connection, service: &str) -> rusqlite::Result<Vec<CheckClock>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {CLOCK_COLUMNS} FROM checks WHERE service = ?1"
    ))?;
    stmt.query_map([service], clock_row)?.collect()
}

pub fn clock(conn: &Connection, id: i64) -> rusqlite::Result<Option<CheckClock>> {
    let mut stmt =
        conn.prepare_cached(&format!("SELECT {CLOCK_COLUMNS} FROM checks WHERE id = ?1"))?;
    stmt.query_row([id], clock_row).optional()
}

/// A check's settings from the config and its standing: inserted when new, else updated.
/// Returns its id.
pub fn save_clock(
    conn: &Connection,
    service: &str,
    name: &str,
    c: &CheckClock,
) -> rusqlite::Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO checks (service, name, kind, importance, active, failing, status_since,
            added_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (service, name) DO UPDATE SET kind = excluded.kind,
            importance = excluded.importance, active = excluded.active,
            failing = excluded.failing, status_since = excluded.status_since,
            added_at = coalesce(checks.added_at, excluded.added_at)
         RETURNING id",
    )?;
    stmt.query_row(
        params![
            service,
            name,
            c.kind,
            c.importance.as_str(),
            c.active,
            c.failing,
            c.status_since,
            c.added_at
        ],
        |r| r.get(0),
    )
}

/// Takes the lease on a check for `run` until `until`.
pub fn lease(conn: &Connection, id: i64, run: &str, until: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE checks SET claimed_by = ?2, claim_until = ?3 WHERE id = ?1")?
        .execute(params![id, run, until])?;
    Ok(())
}

/// Gives back the checks `run` still holds (abandoned, or never started).
pub fn release_checks(conn: &Connection, run: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE checks SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?1",
    )?
    .execute([run])?;
    Ok(())
}

/// Gives back the deliveries `run` still holds; only once it sends nothing more, since a
/// lease given back is one another run may take.
pub fn release_deliveries(conn: &Connection, run: &str) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE deliveries SET claimed_by = NULL, claim_until = NULL WHERE claimed_by = ?1",
    )?
    .execute([run])?;
    Ok(())
}

/// Marks inactive what the config no longer has; its history is kept.
pub fn deactivate_check(conn: &Connection, id: i64) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE checks SET active = 0 WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

pub fn deactivate_service(conn: &Connection, name: &str) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE services SET active = 0 WHERE name = ?1")?
        .execute([name])?;
    Ok(())
}

/// One check's result and its new state.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub id: i64,
    /// When the check started: its `last_run_at`, what its schedule follows.
    pub started_at: i64,
    /// When the result arrived.
    pub at: i64,
    pub last: LastResult,
    pub importance: Option<Importance>,
    pub consecutive_failures: u64,
    pub consecutive_passes: u64,
    pub failing: bool,
    pub status_since: Option<i64>,
}

/// Writes a result of the run `run`, and gives back its lease on the check if it still
/// holds it; a lease another run took since stays with that run.
pub fn record(conn: &Connection, run: &str, r: &Recorded) -> rusqlite::Result<()> {
    let perfdata = r.last.perfdata.as_ref().map(Perfdata::to_json);
    conn.prepare_cached(
        "UPDATE checks SET consecutive_failures = ?2, failing = ?3, status_since = ?4,
            last_run_at = ?5, last_ok = ?6, last_message = ?7, last_duration_ms = ?8,
            failing_importance = ?9, last_perfdata = ?10,
            claim_until = CASE WHEN claimed_by = ?11 THEN NULL ELSE claim_until END,
            claimed_by = CASE WHEN claimed_by = ?11 THEN NULL ELSE claimed_by END,
            consecutive_passes = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        r.id,
        r.consecutive_failures as i64,
        r.failing,
        r.status_since,
        r.started_at,
        r.last.ok,
        r.last.message,
        r.last.duration_ms,
        r.importance.filter(|_| !r.last.ok).map(Importance::as_str),
        perfdata,
        run,
        r.consecutive_passes as i64,
    ])?;
    conn.prepare_cached(
        "INSERT INTO results (check_id, at, ok, duration_ms, message, importance, perfdata)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![
        r.id,
        r.at,
        r.last.ok,
        r.last.duration_ms,
        r.last.message,
        r.importance.map(Importance::as_str),
        perfdata,
    ])?;
    Ok(())
}

/// Every service the state knows.
pub fn services(conn: &Connection) -> rusqlite::Result<Vec<ServiceRow>> {
    conn.prepare_cached(&format!("SELECT {SERVICE_COLUMNS} FROM services"))?
        .query_map([], service_row)?
        .collect()
}

pub fn service(conn: &Connection, name: &str) -> rusqlite::Result<Option<ServiceRow>> {
    conn.prepare_cached(&format!(
        "SELECT {SERVICE_COLUMNS} FROM services WHERE name = ?1"
    ))?
    .query_row([name], service_row)
    .optional()
}

/// A service's row; a new status (or a first one) is a line of its history, and a
/// service back to PASSING loses its ack when `ack_ends`.
pub fn save_service(conn: &Connection, s: &ServiceRow, ack_ends: bool) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO services (name, status, since, active, last_alert_at, last_alert_status,
            incident_at, incident_worst, escalation_steps)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (name) DO UPDATE SET
            status = excluded.status, since = excluded.since, active = excluded.active,
            last_alert_at = excluded.last_alert_at,
            last_alert_status = excluded.last_alert_status,
            incident_at = excluded.incident_at,
            incident_worst = excluded.incident_worst,
            escalation_steps = excluded.escalation_steps",
    )?
    .execute(params![
        s.name,
        s.status.as_str(),
        s.since,
        s.active,
        s.memory.last_alert_at,
        s.memory.last_alert_status.map(Status::as_str),
        s.memory.incident_at,
        s.memory.incident_worst.map(Status::as_str),
        s.memory.steps_fired
    ])?;
    // A change is stamped no earlier than the one before it: two runs alive at once read
    // clocks up to a second apart, and a change stamped before the last would reorder the
    // history (an ERROR incident would take in the CRITICAL one after it).
    conn.prepare_cached(
        "INSERT INTO service_history (service, at, status)
         SELECT ?1, max(?2, coalesce((SELECT max(at) FROM service_history WHERE service = ?1), ?2)), ?3
         WHERE NOT EXISTS (
            SELECT 1 FROM service_history WHERE service = ?1
            AND id = (SELECT max(id) FROM service_history WHERE service = ?1)
            AND status = ?3)",
    )?
    .execute(params![s.name, s.since, s.status.as_str()])?;
    if ack_ends {
        conn.prepare_cached("DELETE FROM acks WHERE service = ?1")?
            .execute([&s.name])?;
    }
    Ok(())
}

/// Notes whether cabot's network is down now (`down`): since when, kept from the first
/// run that found it so. When it is back, `back` makes the alert that says how long it
/// was down (from when, and how many results were inconclusive), written here. Whether
/// an alert was written.
pub fn network_down_or_back(
    conn: &Connection,
    down: bool,
    now: i64,
    back: impl FnOnce(i64, i64) -> Option<crate::store::outbox::NewAlert>,
) -> rusqlite::Result<bool> {
    if down {
        conn.execute(
            "INSERT OR IGNORE INTO network_down (id, since) VALUES (1, ?1)",
            [now],
        )?;
        return Ok(false);
    }
    let was: Option<(i64, i64)> = conn
        .query_row(
            "SELECT since, inconclusive FROM network_down WHERE id = 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((since, inconclusive)) = was else {
        return Ok(false);
    };
    conn.execute("DELETE FROM network_down", [])?;
    match back(since, inconclusive) {
        Some(alert) => {
            crate::store::outbox::insert_alerts(conn, &[alert])?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Since when cabot's network has been down, and the results made inconclusive since.
pub fn network_down(conn: &Connection) -> rusqlite::Result<Option<(i64, i64)>> {
    conn.query_row(
        "SELECT since, inconclusive FROM network_down WHERE id = 1",
        [],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )
    .optional()
}

/// A failed result while cabot's network is down: kept in the history as inconclusive,
/// its check's standing and debounce count untouched, and counted for the network alert.
pub fn record_inconclusive(conn: &Connection, run: &str, r: &Recorded) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE checks SET last_run_at = ?2,
            claim_until = CASE WHEN claimed_by = ?3 THEN NULL ELSE claim_until END,
            claimed_by = CASE WHEN claimed_by = ?3 THEN NULL ELSE claimed_by END
         WHERE id = ?1",
    )?
    .execute(params![r.id, r.started_at, run])?;
    conn.prepare_cached(
        "INSERT INTO results (check_id, at, ok, duration_ms, message, importance, inconclusive)
         VALUES (?1, ?2, 0, ?3, ?4, ?5, 1)",
    )?
    .execute(params![
        r.id,
        r.at,
        r.last.duration_ms,
        r.last.message,
        r.importance.map(Importance::as_str),
    ])?;
    conn.prepare_cached("UPDATE network_down SET inconclusive = inconclusive + 1 WHERE id = 1")?
        .execute([])?;
    Ok(())
}

/// The status changes of a service after `since` (its first status is none).
pub fn changes_after(conn: &Connection, service: &str, since: i64) -> rusqlite::Result<u32> {
    conn.prepare_cached(
        "SELECT count(*) FROM service_history h WHERE service = ?1 AND at > ?2
           AND id > (SELECT min(id) FROM service_history WHERE service = ?1)",
    )?
    .query_row(params![service, since], |r| r.get(0))
}

/// Since when a service has been flapping, if it is.
pub fn flapping_since(conn: &Connection, service: &str) -> rusqlite::Result<Option<i64>> {
    conn.prepare_cached("SELECT flapping_since FROM services WHERE name = ?1")?
        .query_row([service], |r| r.get(0))
        .optional()
        .map(Option::flatten)
}

pub fn set_flapping_since(
    conn: &Connection,
    service: &str,
    since: Option<i64>,
) -> rusqlite::Result<()> {
    conn.prepare_cached("UPDATE services SET flapping_since = ?2 WHERE name = ?1")?
        .execute(params![service, since])?;
    Ok(())
}

/// Marks the service's current failing status in its history as unconfirmed by the peer,
/// or as confirmed again.
pub fn mark_unconfirmed(
    conn: &Connection,
    service: &str,
    unconfirmed: bool,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "UPDATE service_history SET unconfirmed = ?2
         WHERE id = (SELECT max(id) FROM service_history WHERE service = ?1)
           AND status != 'PASSING' AND unconfirmed != ?2",
    )?
    .execute(params![service, unconfirmed])?;
    Ok(())
}

/// (name, the importance it fails at, its last message) of a service's failing checks.
pub fn failing_checks(
    conn: &Connection,
    service: &str,
) -> rusqlite::Result<Vec<(String, Importance, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT name, importance, failing_importance, coalesce(last_message, '')
         FROM checks WHERE service = ?1 AND active = 1 AND failing = 1 ORDER BY id",
    )?;
    stmt.query_map([service], |r| {
        let importance: Importance = r.get(1)?;
        let failing_at: Option<Importance> = r.get(2)?;
        Ok((
            r.get(0)?,
            failing_at.map_or(importance, |i| i.min(importance)),
            r.get(3)?,
        ))
    })?
    .collect()
}

/// The last ping of a heartbeat check, for judging it in the run's transaction.
pub fn last_ping(
    conn: &Connection,
    service: &str,
    check: &str,
) -> rusqlite::Result<Option<crate::checks::heartbeat::Ping>> {
    conn.prepare_cached(
        "SELECT at, ok, message FROM pings WHERE service = ?1 AND check_name = ?2
         ORDER BY id DESC LIMIT 1",
    )?
    .query_row(params![service, check], |r| {
        Ok(crate::checks::heartbeat::Ping {
            at: r.get(0)?,
            ok: r.get(1)?,
            message: r.get(2)?,
        })
    })
    .optional()
}
