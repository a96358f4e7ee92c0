//! Turning this run's service statuses into outbox entries: the policy per service, the
//! alert's JSON, and one delivery per channel and recipient.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::policy::{self, AlertKind, RepeatIntervals, Situation};
use crate::clock::format_time;
use crate::config::{Channel, ChannelKind, Config, Service};
use crate::core::{Importance, Status};
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
            acked: quiet.acks.get(&row.name).is_some_and(|a| a.until > now),
            muted: quiet.silences.get(&row.name).is_some_and(|s| s.until > now)
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
        let payload = payload(kind, service, row.status, previous_status, checks, now);
        alerts.push(NewAlert {
            service: row.name.clone(),
            kind,
            status: row.status,
            previous_status,
            created_at: now,
            payload,
            deliveries: targets(cfg, service, kind, level),
        });
    }
    alerts
}

/// The documented JSON of an alert (without its `id`, which the outbox adds).
pub fn payload(
    kind: AlertKind,
    service: &Service,
    status: Status,
    previous_status: Status,
    checks: &[CheckRow],
    now: i64,
) -> Value {
    let failing: Vec<Value> = checks
        .iter()
        .filter(|c| c.service == service.name && c.active && c.failing)
        .map(|c| {
            json!({
                "name": c.name,
                "importance": c.effective_importance().as_str(),
                "status": "failing",
                "message": c.last.as_ref().map(|l| l.message.as_str()).unwrap_or(""),
            })
        })
        .collect();
    json!({
        "kind": kind.as_str(),
        "service": service.name,
        "status": status.as_str(),
        "previous_status": previous_status.as_str(),
        "checks": failing,
        "url": service.url,
        "runbook": service.runbook,
        "time": format_time(now),
    })
}

/// The lowest status a channel takes; phone calls are for CRITICAL unless configured.
pub fn min_status(channel: &Channel) -> Status {
    let default = match channel.kind {
        ChannelKind::Phone { .. } => Importance::Critical,
        _ => Importance::Warning,
    };
    Status::from_importance(channel.min_importance.unwrap_or(default))
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
        if kind == AlertKind::Recovery && matches!(channel.kind, ChannelKind::Phone { .. }) {
            // nobody wants a phone call to say that all is well
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
/// the channel's own `to:`. Slack gets one post naming everyone; webhooks and commands one call.
pub fn recipients(cfg: &Config, service: &Service, channel: &Channel) -> Vec<String> {
    let users = service.users.iter().filter_map(|u| cfg.users.get(u));
    let mut list: Vec<String> = match channel.kind {
        ChannelKind::Email { .. } => users.filter_map(|u| u.email.clone()).collect(),
        ChannelKind::Sms { .. } | ChannelKind::Phone { .. } => {
            users.filter_map(|u| u.phone.clone()).collect()
        }
        ChannelKind::Slack { .. } => {
            let mut names: Vec<String> = users.filter_map(|u| u.slack.clone()).collect();
            names.extend(channel.to.iter().cloned());
            return vec![names.join(" ")];
        }
        ChannelKind::Webhook { .. } | ChannelKind::Command { .. } => return vec![String::new()],
    };
    list.extend(channel.to.iter().cloned());
    list.dedup();
    list
}
