//! Turning service statuses into outbox entries: the policy for each service, the alert,
//! and one delivery per channel and recipient.

use std::collections::HashMap;

use super::alert::{Alert, AlertKind, FailingCheck};
use super::channels::Reach;
use super::policy::{self, RepeatIntervals, Situation};
use crate::config::{Channel, Config, Notify, Service};
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
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub kind: AlertKind,
    pub level: Status,
    /// When the incident's first alert was decided.
    pub incident_at: i64,
    /// The status before: PASSING for an incident's first alert (even one a silence held
    /// back while the status moved), else the service's status before this run.
    pub previous: Status,
    /// The escalation steps whose people this alert goes to (by index).
    pub steps: std::ops::Range<usize>,
    /// Only to those steps' people: an escalation on its own.
    pub escalation_only: bool,
}

/// Applies the policy to one service at `now`, updating its row's memory; the alert to
/// send, if any. `previous` is the service's status before this run.
pub fn decide(
    cfg: &Config,
    service: &Service,
    row: &mut ServiceRow,
    previous: Status,
    quiet: &Quiet,
    now: i64,
) -> Option<Decision> {
    let repeat = RepeatIntervals::of(&cfg.alerting);
    // Half of a pair: repeats are counted from the last alert the peer delivered in this
    // incident when that is later than this node's, and always while this node holds for
    // a fresh primary (it decides as the primary does).
    if let (Some(mine), Some(began)) = (row.memory.last_alert_at, row.memory.incident_at)
        && let Some(&theirs) = cfg.pair.last_delivered.get(&incident_id(&row.name, began))
        && (theirs > mine || cfg.pair.hold)
    {
        row.memory.last_alert_at = Some(theirs.min(now));
    }
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
    let steps: Vec<i64> = service
        .escalation
        .iter()
        .map(|s| s.after.as_secs() as i64)
        .collect();
    let outcome = policy::decide_with_steps(&situation, &repeat, &steps);
    let before = row.memory;
    row.memory = outcome.memory;
    // Half of a pair: the incident the peer opened for this failure is this one too.
    if let Some(mine) = row.memory.incident_at {
        row.memory.incident_at = Some(cfg.pair.incident_at(&row.name, mine, row.since));
    }
    let kind = outcome.kind?;
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
    // A recovery goes to every step the incident reached; an escalation to the new ones.
    let steps = match kind {
        AlertKind::Recovery => 0..before.steps_fired as usize,
        _ if outcome.escalation_only => {
            before.steps_fired as usize..outcome.memory.steps_fired as usize
        }
        _ => 0..outcome.memory.steps_fired as usize,
    };
    Some(Decision {
        kind,
        level,
        incident_at: incident.unwrap_or(now),
        previous: if first { Status::Passing } else { previous },
        steps,
        escalation_only: outcome.escalation_only,
    })
}

/// The alert that says `service` began to flap (`how`: how much), remembered in its row
/// as an alert of the incident (a recovery follows it). At the service's status, or while
/// it passes, at the worst the incident reached.
pub fn flapping_alert(
    cfg: &Config,
    service: &Service,
    row: &mut ServiceRow,
    previous: Status,
    how: String,
    failing: &[(String, Importance, String)],
    now: i64,
) -> NewAlert {
    let level = match row.status {
        Status::Passing => row
            .memory
            .incident_worst
            .or(row.memory.last_alert_status)
            .unwrap_or(Status::Warning),
        failing => failing,
    };
    let m = &mut row.memory;
    m.incident_at = Some(m.incident_at.unwrap_or(now));
    m.incident_worst = Some(m.incident_worst.map_or(level, |w| w.max(level)));
    m.last_alert_at = Some(now);
    m.last_alert_status = Some(level);
    let decision = Decision {
        kind: AlertKind::Alert,
        level,
        incident_at: m.incident_at.unwrap_or(now),
        previous,
        steps: 0..m.steps_fired as usize,
        escalation_only: false,
    };
    let mut new = alert(cfg, service, row, decision, failing, now);
    new.alert.status = level;
    new.alert.flapping = Some(how);
    new
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
            on_call: service.on_duty(cfg, now),
            escalation: (!service.escalation.is_empty() && decision.kind != AlertKind::Recovery)
                .then_some(super::alert::Escalation {
                    reached: row.memory.steps_fired,
                    steps: service.escalation.len() as u32,
                }),
            ack_url: None,
            delivery: None,
            acked_by: None,
            sent_by: None,
            flapping: None,
            blocks: match decision.kind {
                AlertKind::Recovery => Vec::new(),
                _ => cfg
                    .dependents_of(&service.name)
                    .into_iter()
                    .map(str::to_string)
                    .collect(),
            },
        },
        deliveries: deliveries(cfg, service, &decision, now),
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

/// (channel, recipient) for each place a decided alert goes: the service's channels and
/// people (unless it is an escalation on its own), and the people of each escalation step
/// it reaches, through the step's channels. People are gathered per channel first, so a
/// chat post mentions everyone at once.
fn deliveries(cfg: &Config, service: &Service, d: &Decision, now: i64) -> Vec<(String, String)> {
    let mut by_channel: Vec<(String, Vec<String>)> = Vec::new();
    let mut add = |channels: &[String], people: Vec<String>| {
        for channel in channels {
            let at = match by_channel.iter().position(|(c, _)| c == channel) {
                Some(at) => at,
                None => {
                    by_channel.push((channel.clone(), Vec::new()));
                    by_channel.len() - 1
                }
            };
            for person in &people {
                if !by_channel[at].1.contains(person) {
                    by_channel[at].1.push(person.clone());
                }
            }
        }
    };
    // A recovery also reaches whoever was on duty when the incident's first alert went
    // (and when each step fired), though the duty has been handed on since.
    let recovery = d.kind == AlertKind::Recovery;
    if !d.escalation_only {
        let mut people = service.people(cfg, now);
        if recovery {
            people.extend(service.on_duty(cfg, d.incident_at));
        }
        add(&service.channels, people);
    }
    for step in service.escalation.get(d.steps.clone()).unwrap_or(&[]) {
        let fired_at = d.incident_at.saturating_add(step.after.as_secs() as i64);
        let people = step
            .notify
            .iter()
            .flat_map(|n| match n {
                Notify::OnCall if recovery => {
                    vec![service.on_duty(cfg, fired_at), service.on_duty(cfg, now)]
                }
                Notify::OnCall => vec![service.on_duty(cfg, now)],
                Notify::User(u) => vec![Some(u.clone())],
            })
            .flatten()
            .collect();
        let channels = if step.channels.is_empty() {
            &service.channels
        } else {
            &step.channels
        };
        add(channels, people);
    }
    let mut out = Vec::new();
    for (name, mut people) in by_channel {
        let Some(channel) = cfg.channels.get(&name) else {
            continue;
        };
        // A channel with its own rota reaches whoever is on duty there too (and, with a
        // recovery, whoever was when the incident began).
        if let Some(rota) = &channel.oncall {
            let times: &[i64] = if recovery {
                &[now, d.incident_at]
            } else {
                &[now]
            };
            for user in times.iter().filter_map(|&t| cfg.on_duty(rota, t)) {
                if !people.contains(&user) {
                    people.push(user);
                }
            }
        }
        if d.level < min_status(channel)
            || (d.kind == AlertKind::Recovery && !channel.kind.sends_recovery())
        {
            continue;
        }
        for recipient in recipients(cfg, &people, channel) {
            let pair = (name.clone(), recipient);
            if !out.contains(&pair) {
                out.push(pair);
            }
        }
    }
    out
}

/// Who a channel reaches of `people` (user names): each by the contact the channel needs,
/// and the channel's own `to:`. A chat post names everyone in one delivery; a channel
/// with its own destination gets one delivery with no recipient.
pub fn recipients(cfg: &Config, people: &[String], channel: &Channel) -> Vec<String> {
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

/// The alert that the other node of a pair is down (`kind` Alert: since `since`) or back
/// (Recovery): a WARNING, to every channel and person any service alerts, once.
pub fn peer_alert(cfg: &Config, peer: &str, kind: AlertKind, since: i64, now: i64) -> NewAlert {
    let said = format!(
        "the other cabot of the pair, {peer}, has not run since {}; this node alone watches \
         and delivers",
        crate::clock::rfc3339(since)
    );
    cabot_alert(
        cfg,
        &format!("peer {peer}"),
        ("runs", said),
        kind,
        since,
        now,
    )
}

/// The alert that cabot's own network was down from `since` until now, sent once it is
/// back: how long, and how many results it made inconclusive.
pub fn network_alert(cfg: &Config, since: i64, inconclusive: i64, now: i64) -> NewAlert {
    let said = format!(
        "cabot's network was down since {} ({}): every network check failed, and {} \
         inconclusive; it is back",
        crate::clock::rfc3339(since),
        crate::clock::Age(now.saturating_sub(since)),
        match inconclusive {
            1 => "1 result was".to_string(),
            n => format!("{n} results were"),
        }
    );
    let checks = ("network_checks", said);
    cabot_alert(cfg, "cabot network", checks, AlertKind::Alert, since, now)
}

/// An alert of cabot's own (`kind` Alert, WARNING: `check` says what; or its Recovery),
/// under the name `name`, to every channel and person any service alerts.
fn cabot_alert(
    cfg: &Config,
    name: &str,
    (check, said): (&str, String),
    kind: AlertKind,
    since: i64,
    now: i64,
) -> NewAlert {
    let decision = Decision {
        kind,
        level: Status::Warning,
        incident_at: since,
        previous: Status::Passing,
        steps: 0..0,
        escalation_only: false,
    };
    let mut all: Vec<(String, String)> = Vec::new();
    for service in &cfg.services {
        for d in deliveries(cfg, service, &decision, now) {
            if !all.contains(&d) {
                all.push(d);
            }
        }
    }
    let down = kind != AlertKind::Recovery;
    NewAlert {
        alert: Alert {
            id: None,
            kind,
            service: name.to_string(),
            status: if down {
                Status::Warning
            } else {
                Status::Passing
            },
            previous_status: if down {
                Status::Passing
            } else {
                Status::Warning
            },
            checks: if down {
                vec![FailingCheck {
                    name: check.into(),
                    importance: Importance::Warning,
                    status: CheckState::Failing,
                    message: said,
                }]
            } else {
                Vec::new()
            },
            url: None,
            runbook: None,
            time: now,
            incident: Some(incident_id(name, since)),
            on_call: None,
            escalation: None,
            ack_url: None,
            delivery: None,
            acked_by: None,
            sent_by: None,
            flapping: None,
            blocks: Vec::new(),
        },
        deliveries: all,
    }
}

/// What `status.announce`'s channels are told: an incident post's update, or a dated
/// maintenance window's start or end. `subject` stands where a service's name would
/// (`Checkout errors`), `what` and `said` where a failing check would; the end of a post
/// or window is a Recovery. Each channel gets it at its own destination (a chat, a
/// webhook, its `to:`): announcements are for an audience, not for the people on duty.
pub fn announcement(
    cfg: &Config,
    subject: &str,
    (what, said): (&str, String),
    (kind, incident): (AlertKind, String),
    now: i64,
) -> NewAlert {
    let mut deliveries = Vec::new();
    for name in &cfg.status.announce {
        let Some(channel) = cfg.channels.get(name) else {
            continue;
        };
        if kind == AlertKind::Recovery && !channel.kind.sends_recovery() {
            continue;
        }
        for recipient in recipients(cfg, &[], channel) {
            deliveries.push((name.clone(), recipient));
        }
    }
    let ended = kind == AlertKind::Recovery;
    NewAlert {
        alert: Alert {
            id: None,
            kind,
            service: subject.to_string(),
            status: if ended {
                Status::Passing
            } else {
                Status::Warning
            },
            previous_status: if ended {
                Status::Warning
            } else {
                Status::Passing
            },
            checks: vec![FailingCheck {
                name: what.to_string(),
                importance: Importance::Warning,
                status: if ended {
                    CheckState::Passing
                } else {
                    CheckState::Failing
                },
                message: said,
            }],
            url: cfg.status.public_url.clone(),
            runbook: None,
            time: now,
            incident: Some(incident),
            on_call: None,
            escalation: None,
            ack_url: None,
            delivery: None,
            acked_by: None,
            sent_by: None,
            flapping: None,
            blocks: Vec::new(),
        },
        deliveries,
    }
}
