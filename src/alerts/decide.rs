//! Turning service statuses into outbox entries: the policy for each service, the alert,
//! and one delivery per channel and recipient.

use std::collections::HashMap;

use super::alert::{Alert, AlertKind, FailingCheck};
use super::channels::Reach;
use super::policy::{self, RepeatIntervals, Situation};
use crate::config::{Channel, Config, Service};
use crate::core::quiet::in_force;
use crate::core::{CheckState, Status};
use crate::store::outbox::{Ack, NewAlert, Silence};
use crate::store::{CheckRow, ServiceRow};

/// What mutes or quiets a service now.
pub struct Quiet<'a> {
    pub acks: &'a HashMap<String, Ack>,
    pub silences: &'a HashMap<String, Silence>,
    /// Services inside a maintenance window now.
    pub maintenance: &'a dyn Fn(&str) -> bool,
}

/// Applies the policy to every service, updating each row's memory; returns the alerts.
pub fn decide_all(
    cfg: &Config,
    services: &mut [ServiceRow],
    previous: &HashMap<String, Status>,
    checks: &[CheckRow],
    quiet: &Quiet,
    now: i64,
) -> Vec<NewAlert> {
    let repeat = RepeatIntervals {
        warning: cfg.alerting.repeat_warning,
        error: cfg.alerting.repeat_error,
        critical: cfg.alerting.repeat_critical,
    };
    let mut alerts = Vec::new();
    for row in services.iter_mut() {
        let Some(service) = cfg.service(&row.name) else {
            continue;
        };
        let situation = Situation {
            status: row.status,
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
        let Some(kind) = kind else { continue };
        let previous_status = previous.get(&row.name).copied().unwrap_or(Status::Passing);
        // A recovery goes where the incident's last alert went.
        let level = match kind {
            AlertKind::Recovery => before.last_alert_status.unwrap_or(Status::Warning),
            _ => row.status,
        };
        alerts.push(NewAlert {
            alert: alert(kind, service, row.status, previous_status, checks, now),
            deliveries: targets(cfg, service, kind, level),
        });
    }
    alerts
}

/// The alert about `service` (without its `id`, which the outbox gives it).
pub fn alert(
    kind: AlertKind,
    service: &Service,
    status: Status,
    previous_status: Status,
    checks: &[CheckRow],
    now: i64,
) -> Alert {
    let failing = checks
        .iter()
        .filter(|c| c.service == service.name && c.active && c.failing)
        .map(|c| FailingCheck {
            name: c.name.clone(),
            importance: c.effective_importance(),
            status: CheckState::Failing,
            message: c
                .last
                .as_ref()
                .map(|l| l.message.clone())
                .unwrap_or_default(),
        })
        .collect();
    Alert {
        id: None,
        kind,
        service: service.name.clone(),
        status,
        previous_status,
        checks: failing,
        url: service.url.clone(),
        runbook: service.runbook.clone(),
        time: now,
    }
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
        for recipient in recipients(cfg, service, channel) {
            let pair = (name.clone(), recipient);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// Who a channel reaches for a service: its users by the contact the channel needs, and
/// the channel's own `to:`. A chat post names everyone in one delivery; a channel with its
/// own destination gets one delivery with no recipient.
pub fn recipients(cfg: &Config, service: &Service, channel: &Channel) -> Vec<String> {
    let contacts = |key: &str| {
        service
            .users
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
