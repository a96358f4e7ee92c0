//! The start of a run, in one IMMEDIATE transaction: bring every check and service in
//! line with the config (what changed, only), decide the alerts of services that have
//! nothing due, and lease the checks that are due and that no live run holds. A run with
//! nothing due and nothing changed writes nothing here.

use std::collections::HashMap;

use rusqlite::Connection;

use super::Scope;
use crate::alerts::alert::AlertKind;
use crate::alerts::decide::{self, Quiet};
use crate::config::Config;
use crate::core::debounce::{self, Standing};
use crate::core::status::service_standing;
use crate::core::{Status, quiet, schedule};
use crate::store::ServiceRow;
use crate::store::outbox::{self, insert_alerts};
use crate::store::run::{self as state, CheckClock};

/// A check this run is to run: where it is in the config, and what the state knows.
#[derive(Debug, Clone)]
pub struct Due {
    pub service: usize,
    pub check: usize,
    pub id: i64,
    pub last_run: Option<i64>,
    /// When it was added to the config (a heartbeat's first ping is awaited from there).
    pub added: Option<i64>,
    /// How long it is expected to take: its last run's time, or its timeout when it
    /// never ran (a guess that puts it after the checks known to be fast).
    pub expected_ms: i64,
}

#[derive(Debug, Default)]
pub struct Plan {
    /// Leased to this run, in the order it starts them.
    pub due: Vec<Due>,
    /// With `--all`: due here, but held by another live run.
    pub held: Vec<Due>,
    /// Each service's status before this run, for its alerts' `previous_status`.
    pub previous: HashMap<String, Status>,
    /// Whether alerts were written.
    pub alerted: bool,
    /// When the next check in scope that this run did not lease comes due (or its lease
    /// lapses): the run looks again then if it is still waiting on slow checks.
    pub next_due: Option<i64>,
    /// The latest time a check's last run is stamped with, when it is ahead of this run's
    /// clock (`schedule::ahead`): the clock went back.
    pub stamped_ahead: Option<i64>,
    /// Services not due whose alerts wait for a calendar being read (see
    /// `Service::calendars_settle_at`): decided once it is read, or its timeout passed.
    pub deferred: Vec<usize>,
}

/// Orders checks to start those expected to finish soonest first (by their last run's
/// time; config order among equals), so that when there are more due than `--jobs`, a
/// slow check never holds a fast one's result, and its alert, behind it.
pub fn shortest_first(due: &mut [Due]) {
    due.sort_by_key(|d| d.expected_ms);
}

/// How long a check is expected to take (see `Due::expected_ms`).
fn expected_ms(last: Option<i64>, check: &crate::config::Check) -> i64 {
    last.unwrap_or(check.timeout.as_millis() as i64)
}

/// The earlier of two times, either possibly unknown.
pub fn earliest(a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// What the plan needs to know of this run.
pub struct Run<'a> {
    pub id: &'a str,
    pub all: bool,
    pub alerts: bool,
    pub jobs: usize,
    pub now: i64,
}

pub fn plan(conn: &Connection, cfg: &Config, scope: &Scope, run: &Run) -> rusqlite::Result<Plan> {
    let now = run.now;
    // Each configured check's place, by (service, name); the state's rows land there.
    let mut places: HashMap<(&str, &str), usize> = HashMap::new();
    for service in &cfg.services {
        for check in &service.checks {
            let place = places.len();
            places.insert((&service.name, &check.name), place);
        }
    }
    let mut stored_clocks: Vec<Option<CheckClock>> = vec![None; places.len()];
    let mut gone = Vec::new();
    let mut newest: Option<i64> = None;
    state::each_clock(conn, |service, name, clock| {
        newest = newest.max(clock.last_run_at);
        match places.get(&(service, name)) {
            Some(&place) => stored_clocks[place] = Some(clock),
            None if clock.active => gone.push(clock.id),
            None => {}
        }
    })?;
    let stored: HashMap<String, ServiceRow> = state::services(conn)?
        .into_iter()
        .map(|s| (s.name.clone(), s))
        .collect();
    let mut plan = Plan {
        previous: stored.iter().map(|(n, s)| (n.clone(), s.status)).collect(),
        stamped_ahead: newest.filter(|t| schedule::ahead(*t, now)),
        ..Plan::default()
    };
    let mut leased_services = vec![false; cfg.services.len()];
    let mut views = Vec::new();
    let mut place = 0;
    for (si, service) in cfg.services.iter().enumerate() {
        views.clear();
        for (ci, check) in service.checks.iter().enumerate() {
            let stored_clock = stored_clocks[place].take();
            place += 1;
            let clock = in_line_with_config(conn, stored_clock, &service.name, check, now)?;
            views.push(clock.view());
            if !check.active || !scope.includes(&service.name, &check.name) {
                continue;
            }
            if !run.all && !schedule::is_due(clock.last_run_at, check.frequency, now) {
                let comes = schedule::comes_due(clock.last_run_at, check.frequency, now);
                plan.next_due = earliest(plan.next_due, comes);
                continue;
            }
            let due = Due {
                service: si,
                check: ci,
                id: clock.id,
                last_run: clock.last_run_at,
                added: clock.added_at,
                expected_ms: expected_ms(clock.last_duration_ms, check),
            };
            if schedule::is_free(clock.claim_until, clock.claimed_by.as_deref(), now) {
                leased_services[si] = true;
                plan.due.push(due);
            } else if run.all {
                plan.held.push(due);
            } else {
                plan.next_due = earliest(plan.next_due, clock.claim_until);
            }
        }
        let before = stored.get(&service.name);
        let (status, since) = service_standing(
            views.iter().copied(),
            before.map(|b| (b.status, b.since)),
            now,
        );
        let row = ServiceRow {
            name: service.name.clone(),
            status,
            since,
            active: true,
            memory: before.map(|b| b.memory).unwrap_or_default(),
        };
        if before != Some(&row) {
            state::save_service(conn, &row, quiet::ack_ends(status))?;
        }
    }
    shortest_first(&mut plan.due);
    lease(conn, cfg, run, &plan.due)?;
    // Checks and services the config no longer has stay in the state, inactive.
    for id in gone {
        state::deactivate_check(conn, id)?;
    }
    for s in stored.values().filter(|s| s.active) {
        if cfg.service(&s.name).is_none() {
            state::deactivate_service(conn, &s.name)?;
        }
    }
    if run.alerts {
        // Services with checks due are decided when those finish; those that wait for a
        // calendar being read, once it is.
        let (idle, deferred): (Vec<usize>, Vec<usize>) = (0..cfg.services.len())
            .filter(|&si| !leased_services[si])
            .partition(|&si| cfg.services[si].calendars_settle_at(cfg).is_none());
        plan.deferred = deferred;
        plan.alerted = decide_services(conn, cfg, &idle, &plan.previous, now)?;
    }
    Ok(plan)
}

/// What came due while a run waits on slow checks: the checks in scope that are due now,
/// that no live run holds, and that can finish (their timeout, and the runner's grace) by
/// `until`, the deadline of the slowest check the run already waits on; leased to this run.
/// So a run that lives on for a slow check starts what comes due meanwhile, as the next
/// cron run would (under a systemd timer there is none while it lives), and never outlives
/// the checks it already had. Also returns when the next check comes due.
pub fn more(
    conn: &Connection,
    cfg: &Config,
    scope: &Scope,
    run: &Run,
    until: i64,
) -> rusqlite::Result<(Vec<Due>, Option<i64>)> {
    let now = run.now;
    let mut places: HashMap<(&str, &str), (usize, usize)> = HashMap::new();
    for (si, service) in cfg.services.iter().enumerate() {
        for (ci, check) in service.checks.iter().enumerate() {
            if check.active && scope.includes(&service.name, &check.name) {
                places.insert((&service.name, &check.name), (si, ci));
            }
        }
    }
    let grace = schedule::GRACE.as_secs() as i64;
    let mut due = Vec::new();
    let mut next_due = None;
    state::each_clock(conn, |service, name, clock| {
        let Some(&(si, ci)) = places.get(&(service, name)) else {
            return;
        };
        let check = &cfg.services[si].checks[ci];
        if !schedule::is_due(clock.last_run_at, check.frequency, now) {
            let comes = schedule::comes_due(clock.last_run_at, check.frequency, now);
            next_due = earliest(next_due, comes);
        } else if !schedule::is_free(clock.claim_until, clock.claimed_by.as_deref(), now) {
            next_due = earliest(next_due, clock.claim_until);
        } else if check.kind.is_passive()
            || now + check.worst_case().as_secs() as i64 + grace <= until
        {
            due.push(Due {
                service: si,
                check: ci,
                id: clock.id,
                last_run: clock.last_run_at,
                added: clock.added_at,
                expected_ms: expected_ms(clock.last_duration_ms, check),
            });
        }
    })?;
    shortest_first(&mut due);
    lease(conn, cfg, run, &due)?;
    Ok((due, next_due))
}

/// A configured check's clock as the config says it should be (settings, and its standing
/// under the configured debounce); written only where that differs from the state.
fn in_line_with_config(
    conn: &Connection,
    stored: Option<CheckClock>,
    service: &str,
    check: &crate::config::Check,
    now: i64,
) -> rusqlite::Result<CheckClock> {
    let mut clock = stored.clone().unwrap_or(CheckClock {
        id: 0,
        kind: "",
        importance: check.importance,
        active: true,
        consecutive_failures: 0,
        consecutive_passes: 0,
        has_result: false,
        failing: false,
        status_since: None,
        failing_importance: None,
        last_run_at: None,
        claim_until: None,
        claimed_by: None,
        added_at: Some(now),
        last_duration_ms: None,
    });
    clock.added_at = clock.added_at.or(Some(now));
    clock.kind = check.kind.type_name();
    clock.importance = check.importance;
    clock.active = check.active;
    let standing = debounce::standing(
        clock.has_result.then_some(debounce::Streak {
            failures: clock.consecutive_failures,
            passes: clock.consecutive_passes,
        }),
        check.thresholds(),
        Standing {
            failing: clock.failing,
            since: clock.status_since,
        },
        now,
    );
    clock.failing = standing.failing;
    clock.status_since = standing.since;
    if stored.as_ref() != Some(&clock) {
        clock.id = state::save_clock(conn, service, &check.name, &clock)?;
    }
    Ok(clock)
}

/// Leases the due checks to this run, each until its deadline plus a margin.
fn lease(conn: &Connection, cfg: &Config, run: &Run, due: &[Due]) -> rusqlite::Result<()> {
    let check = |d: &Due| &cfg.services[d.service].checks[d.check];
    let longest = due
        .iter()
        .map(|d| check(d).worst_case())
        .max()
        .unwrap_or_default();
    for (position, d) in due.iter().enumerate() {
        let until =
            schedule::lease_until(run.now, position, run.jobs, check(d).worst_case(), longest);
        state::lease(conn, d.id, run.id, until)?;
    }
    Ok(())
}

/// Where a service stands as to flapping (`flap:`), in this run.
enum Flapping {
    /// Not flapping (or not watched for it): the policy decides.
    Steady,
    /// It began to flap now; the words of how much.
    Starts(String),
    /// It flaps: its alerts wait.
    Holds,
    /// It stopped flapping now: the status it settled at is sent.
    Settles,
}

/// Counts a service's status changes within its `flap.within`, and notes in the state
/// when it begins or stops flapping.
fn flap_step(
    conn: &Connection,
    service: &crate::config::Service,
    row: &ServiceRow,
    now: i64,
) -> rusqlite::Result<Flapping> {
    let Some(flap) = service.flap else {
        return Ok(Flapping::Steady);
    };
    let changes = state::changes_after(conn, &service.name, now - flap.within.as_secs() as i64)?;
    let flapping = changes > flap.changes;
    Ok(
        match (flapping, state::flapping_since(conn, &service.name)?) {
            (true, None) => {
                state::set_flapping_since(conn, &service.name, Some(now))?;
                Flapping::Starts(format!(
                    "changed status {changes} times in {}",
                    crate::text::duration(flap.within)
                ))
            }
            (true, Some(_)) => {
                let reached = row.memory.incident_worst.max(row.memory.last_alert_status);
                match row.status == Status::Critical && reached < Some(Status::Critical) {
                    true => Flapping::Steady,
                    false => Flapping::Holds,
                }
            }
            (false, Some(_)) => {
                state::set_flapping_since(conn, &service.name, None)?;
                Flapping::Settles
            }
            (false, None) => Flapping::Steady,
        },
    )
}

/// Whether a service this one depends on (directly or through others) is failing.
fn blocked(
    conn: &Connection,
    cfg: &Config,
    service: &crate::config::Service,
) -> rusqlite::Result<bool> {
    if service.depends_on.is_empty() {
        return Ok(false);
    }
    for d in cfg.dependencies_of(&service.name) {
        if state::service(conn, d)?.is_some_and(|r| r.status != Status::Passing) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Applies the alert policy to the services at `indexes` (of the config) as they stand in
/// the state, writing their memory and alerts where that changes; whether alerts were
/// written.
pub fn decide_services(
    conn: &Connection,
    cfg: &Config,
    indexes: &[usize],
    previous: &HashMap<String, Status>,
    now: i64,
) -> rusqlite::Result<bool> {
    if indexes.is_empty() {
        return Ok(false);
    }
    let acks = outbox::acks(conn)?;
    let silences = outbox::silences(conn)?;
    let dated = crate::store::posts::maintenance_windows(conn, now)?;
    let quiet = Quiet {
        acks: &acks,
        silences: &silences,
        maintenance: &|service| {
            cfg.in_maintenance(service, now) || dated.iter().any(|w| w.covers(service, now))
        },
    };
    let mut alerts = Vec::new();
    for &si in indexes {
        let service = &cfg.services[si];
        let Some(mut row) = state::service(conn, &service.name)? else {
            continue;
        };
        let before = row.memory;
        let was = previous
            .get(&service.name)
            .copied()
            .unwrap_or(Status::Passing);
        // `depends_on`: while a service it needs fails, its new alerts wait; it alerts
        // when that one recovers, if it still fails. Never a recovery.
        if row.status != Status::Passing && blocked(conn, cfg, service)? {
            continue;
        }
        // `confirm: peer`: a failure only this node sees, while the peer is fresh and sees
        // those checks pass, is not paged (yet), and the history says so. Never a recovery.
        if row.status != Status::Passing && service.any_confirm_by_peer() {
            let failing = state::failing_checks(conn, &service.name)?;
            let unconfirmed = !failing.is_empty()
                && failing.iter().all(|(check, ..)| {
                    service.confirm_by_peer(check) && cfg.pair.peer_passes(&service.name, check)
                });
            state::mark_unconfirmed(conn, &service.name, unconfirmed)?;
            if unconfirmed {
                continue;
            }
        }
        // `flap:` one alert says a service flaps; then its alerts wait until it settles
        // (but for a CRITICAL not reached before in the incident), and the status it
        // settles at is always sent.
        match flap_step(conn, service, &row, now)? {
            Flapping::Steady => {}
            Flapping::Holds => continue,
            Flapping::Settles => {
                if row.status != Status::Passing {
                    // Told as an alert, whatever the policy would say of it.
                    row.memory.last_alert_status = None;
                }
            }
            Flapping::Starts(said) => {
                let muted = quiet
                    .silences
                    .get(&service.name)
                    .is_some_and(|s| quiet::in_force(s.until, now))
                    || (quiet.maintenance)(&service.name);
                if !muted {
                    let failing = state::failing_checks(conn, &service.name)?;
                    alerts.push(decide::flapping_alert(
                        cfg, service, &mut row, was, said, &failing, now,
                    ));
                    state::save_service(conn, &row, false)?;
                }
                continue;
            }
        }
        if let Some(decision) = decide::decide(cfg, service, &mut row, was, &quiet, now) {
            let failing = state::failing_checks(conn, &service.name)?;
            let new = decide::alert(cfg, service, &row, decision, &failing, now);
            if new.deliveries.is_empty() && new.alert.kind != AlertKind::Recovery {
                // Nobody was told (no channel, or none that takes this status): nothing
                // is remembered as sent, so no recovery follows, and a channel added
                // later is told at once.
                row.memory = before;
            }
            alerts.push(new);
        }
        if row.memory != before {
            state::save_service(conn, &row, false)?;
        }
    }
    insert_alerts(conn, &alerts)?;
    // Half of a pair: what the peer delivered already is not sent again (a primary back
    // from a takeover, a standby's alert the primary sent).
    crate::store::peer::supersede_delivered_by_peer(
        conn,
        &cfg.pair.delivered,
        &crate::alerts::policy::RepeatIntervals::of(&cfg.alerting),
        now,
    )?;
    Ok(alerts.iter().any(|a| !a.deliveries.is_empty()))
}
