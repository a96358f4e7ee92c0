//! Cabot's alert policy, as a pure function of a service's situation and `now`.
//!
//! - PASSING -> failing, and every escalation: alert at once. An escalation is a step up
//!   from the status before (Cabot's `more_important`: WARNING -> ERROR or CRITICAL, ERROR
//!   -> CRITICAL), or above the status last alerted (one a silence kept back).
//! - Still failing: repeat after `repeat[status]` since the last alert; a de-escalation
//!   waits for that too.
//! - Back to PASSING: a recovery, only if a failure alert was sent for this incident.
//! - An ack silences repeats and de-escalations (not escalations) until it expires.
//! - A silence or maintenance window mutes everything while it lasts.

use std::time::Duration;

pub use crate::alerts::alert::AlertKind;
use crate::core::Status;

/// What the policy remembers of a service's current incident between runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Memory {
    /// When the last failure alert of this incident was decided.
    pub last_alert_at: Option<i64>,
    /// The status that alert was about.
    pub last_alert_status: Option<Status>,
    /// When the incident's first alert was decided: what names the incident.
    pub incident_at: Option<i64>,
    /// The worst status the incident alerted about: its recovery goes where that went.
    pub incident_worst: Option<Status>,
    /// How many of the service's escalation steps the incident has reached.
    pub steps_fired: u32,
}

/// How long a still-failing service waits between alerts, by status.
#[derive(Debug, Clone, Copy)]
pub struct RepeatIntervals {
    pub warning: Duration,
    pub error: Duration,
    pub critical: Duration,
}

impl RepeatIntervals {
    pub fn of(alerting: &crate::config::Alerting) -> RepeatIntervals {
        RepeatIntervals {
            warning: alerting.repeat_warning,
            error: alerting.repeat_error,
            critical: alerting.repeat_critical,
        }
    }

    pub fn for_status(&self, status: Status) -> Duration {
        match status {
            Status::Warning => self.warning,
            Status::Error => self.error,
            Status::Critical | Status::Passing => self.critical,
        }
    }
}

/// Everything the policy looks at for one service in one run.
#[derive(Debug, Clone, Copy)]
pub struct Situation {
    pub status: Status,
    /// The service's status before this decision (at the start of the run).
    pub previous: Status,
    pub memory: Memory,
    /// An unexpired acknowledgement of the current incident.
    pub acked: bool,
    /// A silence or a maintenance window is in force.
    pub muted: bool,
    pub now: i64,
}

/// What the policy decided: the alert to send, if any, and what to remember afterwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    pub kind: Option<AlertKind>,
    pub memory: Memory,
    /// The alert is only for escalation steps newly reached: it goes to their people alone.
    pub escalation_only: bool,
}

/// The alert to send, if any, and what to remember afterwards, for a service without
/// escalation steps.
pub fn decide(s: &Situation, repeat: &RepeatIntervals) -> (Option<AlertKind>, Memory) {
    let o = decide_with_steps(s, repeat, &[]);
    (o.kind, o.memory)
}

/// As `decide`, with escalation steps: `steps` are when each step is due, in seconds after
/// the incident's first alert, in order. A step fires while the incident is failing,
/// unacknowledged and not muted that long after it began: with an alert or a repeat due
/// then (whose people it joins), else in an alert of its own to its people. A step that
/// came due while acknowledged or muted fires when that ends, if the incident still fails.
pub fn decide_with_steps(s: &Situation, repeat: &RepeatIntervals, steps: &[i64]) -> Outcome {
    let (kind, mut memory) = regular(s, repeat);
    let mut outcome = Outcome {
        kind,
        memory,
        escalation_only: false,
    };
    if s.status == Status::Passing || s.muted {
        return outcome;
    }
    let Some(began) = memory.incident_at else {
        return outcome;
    };
    let age = s.now.saturating_sub(began);
    let due = steps.iter().filter(|after| **after <= age).count() as u32;
    if kind.is_some() {
        // An alert now takes every step due along.
        memory.steps_fired = memory.steps_fired.max(due);
    } else if !s.acked && due > memory.steps_fired {
        memory.steps_fired = due;
        outcome.kind = Some(AlertKind::Alert);
        outcome.escalation_only = true;
    }
    outcome.memory = memory;
    outcome
}

fn regular(s: &Situation, repeat: &RepeatIntervals) -> (Option<AlertKind>, Memory) {
    if s.status == Status::Passing {
        let recovery =
            (s.memory.last_alert_at.is_some() && !s.muted).then_some(AlertKind::Recovery);
        return (recovery, Memory::default());
    }
    if s.muted {
        return (None, s.memory);
    }
    // An alert in an incident already alerted about keeps its start; a first one starts it.
    let alerted = Memory {
        last_alert_at: Some(s.now),
        last_alert_status: Some(s.status),
        incident_at: s
            .memory
            .last_alert_at
            .and(s.memory.incident_at.or(s.memory.last_alert_at))
            .or(Some(s.now)),
        incident_worst: Some(
            s.memory
                .last_alert_at
                .and(s.memory.incident_worst.or(s.memory.last_alert_status))
                .map_or(s.status, |worst| worst.max(s.status)),
        ),
        steps_fired: s.memory.last_alert_at.map_or(0, |_| s.memory.steps_fired),
    };
    match (s.memory.last_alert_status, s.memory.last_alert_at) {
        (Some(last), Some(at)) => {
            if s.status > last || s.status > s.previous {
                (Some(AlertKind::Alert), alerted)
            } else if s.acked {
                (None, s.memory)
            } else if s.now.saturating_sub(at) >= repeat.for_status(s.status).as_secs() as i64 {
                (Some(AlertKind::Repeat), alerted)
            } else {
                (None, s.memory)
            }
        }
        _ => (Some(AlertKind::Alert), alerted),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    const CABOT: RepeatIntervals = RepeatIntervals {
        warning: Duration::from_secs(2 * 3600),
        error: Duration::from_secs(600),
        critical: Duration::from_secs(600),
    };

    /// One step of a story: at `t`, the service is `status`; acked/muted as given.
    #[derive(Clone, Copy)]
    struct Step {
        t: i64,
        status: Status,
        acked: bool,
        muted: bool,
    }

    fn at(t: i64, status: Status) -> Step {
        Step {
            t,
            status,
            acked: false,
            muted: false,
        }
    }

    fn acked(t: i64, status: Status) -> Step {
        Step {
            acked: true,
            ..at(t, status)
        }
    }

    fn muted(t: i64, status: Status) -> Step {
        Step {
            muted: true,
            ..at(t, status)
        }
    }

    /// The alerts a story produces, in order.
    fn story(steps: &[Step]) -> Vec<(i64, AlertKind)> {
        story_with_steps(&[], steps)
            .into_iter()
            .map(|(t, kind, _, _)| (t, kind))
            .collect()
    }

    const M: i64 = 60;

    /// (what the story shows, its steps, the alerts it must produce)
    type Case = (&'static str, Vec<Step>, Vec<(i64, AlertKind)>);

    #[test]
    fn cabot_policy_table() {
        use AlertKind::*;
        let cases: Vec<Case> = vec![
            (
                "passing stays quiet",
                vec![at(0, Passing), at(M, Passing)],
                vec![],
            ),
            (
                "increasing severity seconds apart: 3 alerts",
                vec![
                    at(0, Passing),
                    at(1, Warning),
                    at(2, Error),
                    at(3, Critical),
                ],
                vec![(1, Alert), (2, Alert), (3, Alert)],
            ),
            (
                "decreasing severity: 1 alert",
                vec![at(0, Critical), at(1, Error), at(2, Warning)],
                vec![(0, Alert)],
            ),
            // Cabot's `more_important`: every step up from the status before alerts.
            (
                "ERROR, WARNING, ERROR, CRITICAL: 3 alerts (Cabot: 3)",
                vec![at(0, Error), at(1, Warning), at(2, Error), at(3, Critical)],
                vec![(0, Alert), (2, Alert), (3, Alert)],
            ),
            (
                "CRITICAL, ERROR, CRITICAL within 10m: 2 alerts (Cabot: 2)",
                vec![at(0, Critical), at(M, Error), at(2 * M, Critical)],
                vec![(0, Alert), (2 * M, Alert)],
            ),
            (
                "WARNING and CRITICAL flapping each minute for 10m: 6 alerts (Cabot: 6)",
                (0..10)
                    .map(|i| at(i * M, if i % 2 == 0 { Warning } else { Critical }))
                    .collect(),
                vec![
                    (0, Alert),
                    (M, Alert),
                    (3 * M, Alert),
                    (5 * M, Alert),
                    (7 * M, Alert),
                    (9 * M, Alert),
                ],
            ),
            (
                "a service whose status never changes, checks alternating (Cabot's test): 1 alert",
                vec![
                    at(0, Error),
                    at(M, Error),
                    at(2 * M, Error),
                    at(3 * M, Error),
                ],
                vec![(0, Alert)],
            ),
            (
                "an ack does not hide a step back up",
                vec![at(0, Critical), acked(M, Error), acked(2 * M, Critical)],
                vec![(0, Alert), (2 * M, Alert)],
            ),
            (
                "ERROR at T0, still ERROR at T0+30m: alert again",
                vec![at(0, Error), at(30 * M, Error)],
                vec![(0, Alert), (30 * M, Repeat)],
            ),
            (
                "repeat waits for the interval",
                vec![
                    at(0, Error),
                    at(5 * M, Error),
                    at(9 * M, Error),
                    at(10 * M, Error),
                    at(15 * M, Error),
                ],
                vec![(0, Alert), (10 * M, Repeat)],
            ),
            (
                "warnings repeat every 2h",
                vec![at(0, Warning), at(60 * M, Warning), at(120 * M, Warning)],
                vec![(0, Alert), (120 * M, Repeat)],
            ),
            (
                "de-escalation does not alert sooner than the repeat",
                vec![
                    at(0, Critical),
                    at(M, Error),
                    at(9 * M, Error),
                    at(10 * M, Error),
                ],
                vec![(0, Alert), (10 * M, Repeat)],
            ),
            (
                "ack within the interval: nothing",
                vec![at(0, Error), acked(10 * M, Error), acked(20 * M, Error)],
                vec![(0, Alert)],
            ),
            (
                "an expired ack: alerts resume",
                vec![at(0, Error), acked(10 * M, Error), at(20 * M, Error)],
                vec![(0, Alert), (20 * M, Repeat)],
            ),
            (
                "an ack does not hide an escalation",
                vec![at(0, Error), acked(M, Critical)],
                vec![(0, Alert), (M, Alert)],
            ),
            (
                "an ack silences a de-escalation",
                vec![at(0, Critical), acked(20 * M, Error)],
                vec![(0, Alert)],
            ),
            (
                "recovery after an alert: one recovery",
                vec![at(0, Error), at(M, Passing), at(2 * M, Passing)],
                vec![(0, Alert), (M, Recovery)],
            ),
            (
                "recovery with no alert sent: none",
                vec![muted(0, Error), at(M, Passing)],
                vec![],
            ),
            (
                "a new incident after recovery alerts again",
                vec![at(0, Error), at(M, Passing), at(2 * M, Error)],
                vec![(0, Alert), (M, Recovery), (2 * M, Alert)],
            ),
            (
                "silence mutes everything, then the unsent alert goes out",
                vec![
                    muted(0, Error),
                    muted(30 * M, Critical),
                    at(31 * M, Critical),
                ],
                vec![(31 * M, Alert)],
            ),
            (
                "a recovery inside a silence is muted too",
                vec![at(0, Error), muted(M, Passing), at(2 * M, Passing)],
                vec![(0, Alert)],
            ),
        ];
        for (name, steps, want) in cases {
            assert_eq!(story(&steps), want, "{name}");
        }
    }

    /// The alerts a story produces with escalation steps: (t, kind, only for new steps,
    /// steps reached).
    fn story_with_steps(steps: &[i64], story: &[Step]) -> Vec<(i64, AlertKind, bool, u32)> {
        let mut memory = Memory::default();
        let mut previous = Passing;
        let mut sent = Vec::new();
        for s in story {
            let o = decide_with_steps(
                &Situation {
                    status: s.status,
                    previous,
                    memory,
                    acked: s.acked,
                    muted: s.muted,
                    now: s.t,
                },
                &CABOT,
                steps,
            );
            if let Some(k) = o.kind {
                sent.push((s.t, k, o.escalation_only, o.memory.steps_fired));
            }
            memory = o.memory;
            previous = s.status;
        }
        sent
    }

    #[test]
    fn escalation_table() {
        use AlertKind::*;
        // Steps at 0, 10m and 20m after the incident's first alert. WARNING repeats only
        // every 2h, so the steps show on their own.
        let steps = [0, 10 * M, 20 * M];
        type StepCase = (&'static str, Vec<Step>, Vec<(i64, AlertKind, bool, u32)>);
        let cases: Vec<StepCase> = vec![
            (
                "each step once, when due",
                (0..=30).step_by(5).map(|m| at(m * M, Warning)).collect(),
                vec![
                    (0, Alert, false, 1),
                    (10 * M, Alert, true, 2),
                    (20 * M, Alert, true, 3),
                ],
            ),
            (
                "an ack stops the steps; when it ends, the steps due fire at once",
                vec![
                    at(0, Warning),
                    acked(10 * M, Warning),
                    acked(20 * M, Warning),
                    at(25 * M, Warning),
                ],
                vec![(0, Alert, false, 1), (25 * M, Alert, true, 3)],
            ),
            (
                "muted by a silence or maintenance: nothing until it ends",
                vec![
                    at(0, Warning),
                    muted(10 * M, Warning),
                    muted(15 * M, Warning),
                    at(16 * M, Warning),
                ],
                vec![(0, Alert, false, 1), (16 * M, Alert, true, 2)],
            ),
            (
                "a repeat due with a step takes it along",
                vec![at(0, Error), at(10 * M, Error)],
                vec![(0, Alert, false, 1), (10 * M, Repeat, false, 2)],
            ),
            (
                "recovery, then a new incident starts the steps again",
                vec![
                    at(0, Warning),
                    at(10 * M, Warning),
                    at(12 * M, Passing),
                    at(14 * M, Warning),
                    at(24 * M, Warning),
                ],
                vec![
                    (0, Alert, false, 1),
                    (10 * M, Alert, true, 2),
                    (12 * M, Recovery, false, 0),
                    (14 * M, Alert, false, 1),
                    (24 * M, Alert, true, 2),
                ],
            ),
            (
                "an incident first alerted after a silence counts from that alert",
                vec![
                    muted(0, Warning),
                    at(30 * M, Warning),
                    at(35 * M, Warning),
                    at(40 * M, Warning),
                ],
                vec![(30 * M, Alert, false, 1), (40 * M, Alert, true, 2)],
            ),
        ];
        for (name, story, want) in cases {
            assert_eq!(story_with_steps(&steps, &story), want, "{name}");
        }
    }

    #[test]
    fn an_incident_keeps_the_time_of_its_first_alert_until_it_recovers() {
        let step = |memory: Memory, t: i64, status: Status| {
            decide(
                &Situation {
                    status,
                    previous: status,
                    memory,
                    acked: false,
                    muted: false,
                    now: t,
                },
                &CABOT,
            )
            .1
        };
        let m = step(Memory::default(), 0, Error);
        assert_eq!(m.incident_at, Some(0));
        let m = step(m, M, Critical);
        assert_eq!((m.last_alert_at, m.incident_at), (Some(M), Some(0)));
        let m = step(m, 20 * M, Critical);
        assert_eq!((m.last_alert_at, m.incident_at), (Some(20 * M), Some(0)));
        // A de-escalation's repeat keeps the worst the incident alerted about.
        let m = step(m, 31 * M, Error);
        assert_eq!(m.last_alert_status, Some(Error));
        assert_eq!(m.incident_worst, Some(Critical));
        let m = step(m, 41 * M, Passing);
        assert_eq!(m, Memory::default());
        let m = step(m, 30 * M, Warning);
        assert_eq!(m.incident_at, Some(30 * M), "a new incident");
        // Muted from the start: the incident begins with its first alert.
        let m = step(Memory::default(), 0, Error);
        let quiet = decide(
            &Situation {
                status: Error,
                previous: Passing,
                memory: Memory::default(),
                acked: false,
                muted: true,
                now: 0,
            },
            &CABOT,
        )
        .1;
        assert_eq!(quiet.incident_at, None);
        assert_eq!(m.incident_at, Some(0));
    }
}
