//! The order of deliveries: a pure decision over the pending outbox, made at the start of
//! each delivering round.
//!
//! - A *line* is everything owed about one service to one destination (a chat, a webhook
//!   URL, a user's phone): it goes in the order it was decided, and nothing in it goes
//!   while an older one waits (for its backoff, or in another run's hands).
//! - A pending repeat that a later delivery of its incident follows is *superseded*: the
//!   later one says all it would. At a provider that keeps incidents open (PagerDuty,
//!   Opsgenie, Pushover's emergencies), a recovery supersedes every trigger, repeat and
//!   acknowledgement of its incident still waiting before it: sending them first would
//!   open what is over. At a chat, the first alert still goes, then the recovery.
//! - A destination is sent to by one worker at a time, in the order of its lines' rows.

use crate::alerts::alert::AlertKind;

/// A pending delivery, as far as ordering cares.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Queued {
    pub id: i64,
    pub kind: AlertKind,
    pub service: String,
    pub incident: String,
    /// Where it goes: one destination is sent to one request at a time.
    pub destination: String,
    /// Whether the channel's provider keeps incidents open (a recovery closes them).
    pub incidents: bool,
    /// Its next try is due.
    pub due: bool,
    /// Another run holds it (sending it now, perhaps).
    pub leased: bool,
    /// Older than `give_up_after`.
    pub expired: bool,
}

/// What one round does with the pending outbox: indices into the slice it was given.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Round {
    /// (superseded, by): not to be sent.
    pub superseded: Vec<(usize, usize)>,
    /// Too old to send.
    pub given_up: Vec<usize>,
    /// Per destination, what to send now in order, each with its line's number (after a
    /// failure, the rest of its line waits).
    pub queues: Vec<Vec<(usize, usize)>>,
    /// Some destination had more due than one round sends.
    pub more: bool,
}

/// Decides a round over `pending` (in the order the deliveries were decided), sending at
/// most `per_destination` to each destination, none to a destination `paused`.
pub fn plan(pending: &[Queued], paused: impl Fn(&str) -> bool, per_destination: usize) -> Round {
    let mut round = Round::default();
    // Lines, each its rows in order; found by (destination, service).
    let mut order: Vec<usize> = (0..pending.len()).collect();
    order.sort_by(|&a, &b| {
        let (x, y) = (&pending[a], &pending[b]);
        (&x.destination, &x.service, x.id).cmp(&(&y.destination, &y.service, y.id))
    });
    let mut queues: Vec<(String, Vec<(usize, usize)>)> = Vec::new();
    let lines = order.chunk_by(|&a, &b| {
        pending[a].destination == pending[b].destination && pending[a].service == pending[b].service
    });
    for (line_no, line) in lines.enumerate() {
        let mut live: Vec<usize> = Vec::with_capacity(line.len());
        for (k, &i) in line.iter().enumerate() {
            let q = &pending[i];
            if q.leased {
                live.push(i);
                continue;
            }
            if q.expired {
                round.given_up.push(i);
                continue;
            }
            match line[k + 1..].iter().find(|&&j| supersedes(&pending[j], q)) {
                Some(&by) => round.superseded.push((i, by)),
                None => live.push(i),
            }
        }
        let destination = &pending[line[0]].destination;
        if paused(destination) {
            continue;
        }
        let sendable = live
            .iter()
            .take_while(|&&i| pending[i].due && !pending[i].leased)
            .map(|&i| (i, line_no));
        match queues.iter_mut().find(|(d, _)| d == destination) {
            Some((_, q)) => q.extend(sendable),
            None => queues.push((destination.clone(), sendable.collect())),
        }
    }
    for (_, mut q) in queues {
        if q.is_empty() {
            continue;
        }
        q.sort_by_key(|&(i, _)| pending[i].id);
        if q.len() > per_destination {
            round.more = true;
            // Cut whole lines' tails only: what stays of a line is still its oldest rows.
            q.truncate(per_destination);
        }
        round.queues.push(q);
    }
    round
}

/// Whether `later` makes `earlier` (both pending, of one line) pointless to send.
fn supersedes(later: &Queued, earlier: &Queued) -> bool {
    if later.incident != earlier.incident || earlier.kind == AlertKind::Test {
        return false;
    }
    earlier.kind == AlertKind::Repeat
        || (earlier.incidents
            && later.kind == AlertKind::Recovery
            && earlier.kind != AlertKind::Recovery)
}

#[cfg(test)]
mod tests {
    use super::*;
    use AlertKind::*;

    fn q(id: i64, kind: AlertKind, service: &str, incident: &str, destination: &str) -> Queued {
        Queued {
            id,
            kind,
            service: service.into(),
            incident: incident.into(),
            destination: destination.into(),
            incidents: destination == "pagerduty",
            due: true,
            leased: false,
            expired: false,
        }
    }

    /// The ids a round sends, per destination, and the (superseded, by) ids.
    fn ids(pending: &[Queued], round: &Round) -> (Vec<Vec<i64>>, Vec<(i64, i64)>) {
        (
            round
                .queues
                .iter()
                .map(|q| q.iter().map(|&(i, _)| pending[i].id).collect())
                .collect(),
            round
                .superseded
                .iter()
                .map(|&(a, b)| (pending[a].id, pending[b].id))
                .collect(),
        )
    }

    #[test]
    fn rounds_over_the_pending_outbox() {
        struct Case {
            name: &'static str,
            pending: Vec<Queued>,
            sends: Vec<Vec<i64>>,
            superseded: Vec<(i64, i64)>,
        }
        let not_due = |mut x: Queued| {
            x.due = false;
            x
        };
        let leased = |mut x: Queued| {
            x.leased = true;
            x
        };
        let cases = [
            Case {
                name: "oldest first, one queue per destination",
                pending: vec![
                    q(3, Alert, "db", "i/db", "chat"),
                    q(1, Alert, "web", "i/web", "chat"),
                    q(2, Alert, "web", "i/web", "pagerduty"),
                ],
                sends: vec![vec![1, 3], vec![2]],
                superseded: vec![],
            },
            Case {
                name: "a trigger waiting for its backoff holds back the resolve",
                pending: vec![
                    not_due(q(1, Alert, "web", "i/1", "chat")),
                    q(2, Recovery, "web", "i/1", "chat"),
                ],
                sends: vec![],
                superseded: vec![],
            },
            Case {
                name: "at an incident tool, a resolve supersedes what it overtook",
                pending: vec![
                    not_due(q(1, Alert, "web", "i/1", "pagerduty")),
                    q(2, Repeat, "web", "i/1", "pagerduty"),
                    q(3, Ack, "web", "i/1", "pagerduty"),
                    q(4, Recovery, "web", "i/1", "pagerduty"),
                ],
                sends: vec![vec![4]],
                superseded: vec![(1, 4), (2, 3), (3, 4)],
            },
            Case {
                name: "at a chat, the first alert goes, a repeat does not, then the recovery",
                pending: vec![
                    q(1, Alert, "web", "i/1", "chat"),
                    q(2, Repeat, "web", "i/1", "chat"),
                    q(3, Repeat, "web", "i/1", "chat"),
                    q(4, Recovery, "web", "i/1", "chat"),
                ],
                sends: vec![vec![1, 4]],
                superseded: vec![(2, 3), (3, 4)],
            },
            Case {
                name: "a line held by another run waits; nothing of it is superseded",
                pending: vec![
                    leased(q(1, Alert, "web", "i/1", "pagerduty")),
                    q(2, Recovery, "web", "i/1", "pagerduty"),
                    q(3, Alert, "db", "i/2", "pagerduty"),
                ],
                sends: vec![vec![3]],
                superseded: vec![],
            },
            Case {
                name: "another incident's recovery supersedes nothing of a new incident",
                pending: vec![
                    q(1, Recovery, "web", "i/1", "pagerduty"),
                    q(2, Alert, "web", "i/2", "pagerduty"),
                    q(3, Recovery, "web", "i/1", "pagerduty"),
                ],
                sends: vec![vec![1, 2, 3]],
                superseded: vec![],
            },
            Case {
                name: "a test alert is never superseded",
                pending: vec![
                    q(1, Test, "cabot-test", "t", "chat"),
                    q(2, Recovery, "cabot-test", "t", "chat"),
                ],
                sends: vec![vec![1, 2]],
                superseded: vec![],
            },
        ];
        for c in cases {
            let round = plan(&c.pending, |_| false, 100);
            let (sends, superseded) = ids(&c.pending, &round);
            assert_eq!(sends, c.sends, "{}", c.name);
            assert_eq!(superseded, c.superseded, "{}", c.name);
        }
    }

    #[test]
    fn paused_destinations_expired_rows_and_the_cap() {
        let mut pending = vec![
            q(1, Alert, "web", "i/1", "discord"),
            q(2, Alert, "db", "i/2", "discord"),
            q(3, Alert, "dns", "i/3", "discord"),
            q(4, Alert, "web", "i/1", "telegram"),
        ];
        pending[0].expired = true;
        let round = plan(&pending, |d| d == "telegram", 1);
        let (sends, _) = ids(&pending, &round);
        assert_eq!(sends, [vec![2]], "telegram paused; discord capped at one");
        assert!(round.more);
        assert_eq!(round.given_up, [0]);
        // Lines are numbered apart, so a failure holds back only its own line.
        let round = plan(&pending, |_| false, 10);
        let lines: Vec<usize> = round.queues[0].iter().map(|&(_, l)| l).collect();
        assert!(lines[0] != lines[1], "{lines:?}");
    }
}
