//! Turning service statuses into outbox entries: the policy for each service, the alert,
//! and one delivery per channel and recipient.

use std::collections::HashMap;

use super::alert::{Alert, AlertKind, FailingCheck};
use super::channels::Reach;
use super::policy::{self, RepeatIntervals, Situation};
use crate::config::{Channel, Config, Service};
use crate::core::quiet::in_force;
use crate::core::{CheckState, Importance, Status};
use crate::store::ServiceRow;
use crate::store::outbox::{Ack, NewAlert, Silence};

/// What mutes or quiets a service now.
pub struct Quiet<'a> {
    pub acks: &'a HashMap<String, Ack>,
    pub silences: &'a HashMap<String, Silence>,
    /// Services inside a maintenance window now.
    pub maintenance: &'a dyn Fn(&str) -> bool,
}

/// What the policy decided for a service: the kind of alert, and the status whose
/// channels it goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Decision {
    pub kind: AlertKind,
    pub level: Status,
    /// When the incident's first alert was decided.
    pub incident_at: i64,
    /// The status before: PASSING for an incident's first alert (even one a silence held
    /// back while the status moved), else the service's status before this run.
    pub previous: Status,
}

/// Applies the policy to one service at `now`, updating its row's memory; the alert to
/// send, if any. `previous` is the service's status before this run.
pub fn decide(
    cfg: &Config,
    row: &mut ServiceRow,
    previous: Status,
    quiet: &Quiet,
    now: i64,
) -> Option<Decision> {
    let repeat = RepeatIntervals {
        warning: cfg.alerting.repeat_warning,
        error: cfg.alerting.repeat_error,
        critical: cfg.alerting.repeat_critical,
    };
    let situation = Situation {
        status: row.status,
        previous,
        memory: row.memory,
        acked: quiet
            .acks
            .get(&row.name)
            .is_some_and(|a| in_force(a.until, now)),
        muted: quiet
            .silences
            .get(&row.name)
            .is_some_and(|s| in_force(s.until, now))
            || (quiet.maintenance)(&row.name),
        now,
    };
    let (kind, memory) = policy::decide(&situation, &repeat);
    let before = row.memory;
    row.memory = memory;
    let kind = kind?;
    // A recovery goes everywhere the incident's alerts went (its worst went furthest), and
    // belongs to that incident.
    let (level, incident) = match kind {
        AlertKind::Recovery => (
            before
                .incident_worst
                .or(before.last_alert_status)
                .unwrap_or(Status::Warning),
            before.incident_at.or(before.last_alert_at),
        ),
        _ => (row.status, row.memory.incident_at),
    };
    let first = kind == AlertKind::Alert && before.last_alert_at.is_none();
    Some(Decision {
        kind,
        level,
        incident_at: incident.unwrap_or(now),
        previous: if first { Status::Passing } else { previous },
    })
}

/// The alert a decision makes, with where it goes; `failing` is the service's failing
/// checks as (name, importance, message).
pub fn alert(
    cfg: &Config,
    service: &Service,
    row: &ServiceRow,
    decision: Decision,
    failing: &[(String, Importance, String)],
    now: i64,
) -> NewAlert {
    let checks = match decision.kind {
        AlertKind::Recovery => Vec::new(),
        _ => failing
            .iter()
            .map(|(name, importance, message)| FailingCheck {
                name: name.clone(),
                importance: *importance,
                status: CheckState::Failing,
                message: message.clone(),
            })
            .collect(),
    };
    NewAlert {
        alert: Alert {
            id: None,
            kind: decision.kind,
            service: service.name.clone(),
            status: row.status,
            previous_status: decision.previous,
            checks,
            url: service.url.clone(),
            runbook: service.runbook.clone(),
            time: now,
            incident: Some(incident_id(&service.name, decision.incident_at)),
        },
        deliveries: targets(cfg, service, decision.kind, decision.level, now),
    }
}

/// The id every alert of one incident carries: `cabot/SERVICE/START` (Unix seconds).
pub fn incident_id(service: &str, incident_at: i64) -> String {
    format!("cabot/{service}/{incident_at}")
}

/// The lowest status a channel takes; phone calls are for CRITICAL unless configured.
pub fn min_status(channel: &Channel) -> Status {
    let least = channel
        .min_importance
        .unwrap_or_else(|| channel.kind.default_min_importance());
    Status::from_importance(least)
}

/// (channel, recipient) for each place this alert goes.
pub fn targets(
    cfg: &Config,
    service: &Service,
    kind: AlertKind,
    level: Status,
    now: i64,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for name in &service.channels {
        let Some(channel) = cfg.channels.get(name) else {
            continue;
        };
        if level < min_status(channel) {
            continue;
        }
        if kind == AlertKind::Recovery && !channel.kind.sends_recovery() {
            continue;
        }
        for recipient in recipients(cfg, service, channel, now) {
            let pair = (name.clone(), recipient);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// Who a channel reaches for a service at `now`: its users and whoever its rota has on
/// duty, by the contact the channel needs, and the channel's own `to:`. A chat post names
/// everyone in one delivery; a channel with its own destination gets one delivery with no
/// recipient.
pub fn recipients(cfg: &Config, service: &Service, channel: &Channel, now: i64) -> Vec<String> {
    let people = service.people(cfg, now);
    let contacts = |key: &str| {
        people
            .iter()
            .filter_map(|u| cfg.users.get(u))
            .filter_map(|u| u.contact(key).map(str::to_string))
            .chain(channel.to.iter().cloned())
            .collect::<Vec<String>>()
    };
    match channel.kind.reach() {
        Reach::EachUser(contact) => {
            let mut list = contacts(contact.key);
            list.dedup();
            list
        }
        Reach::Mentions(contact) => vec![contacts(contact.key).join(" ")],
        Reach::Destination => vec![String::new()],
    }
}
