//! Delivering the outbox: every delivery that is due, leased by one run at a time, sent
//! through its channel, each attempt recorded as soon as it is known. A failure is retried
//! by later runs with backoff until `give_up_after`. During a run this works beside the
//! checks, on its own connection, so that an alert leaves as soon as it is written.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::alerts::ack_link;
use crate::alerts::alert::{Alert, AlertKind};
use crate::alerts::channels::{self, Attempt, Reach, Retry};
use crate::clock;
use crate::config::Config;
use crate::store::Store;
use crate::store::outbox::{DeliveryResult, Destinations, PendingDelivery};

/// Destinations sent to at once (each by one worker, in order).
const PARALLEL: usize = 16;
/// At most this many deliveries to one destination in one round; the rest go in the next.
const PER_DESTINATION: usize = 10;
/// The first retry waits this long; each later one twice as long, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: i64 = 60;
const MAX_BACKOFF: i64 = 30 * 60;
/// A provider that refused for good is asked again no sooner than this: its config needs
/// a fix, and whatever else it is owed goes at once when a delivery through it succeeds.
const PERMANENT_BACKOFF: i64 = 3600;
/// A wait a destination asks for (a rate limit) is waited inside the run when it is at
/// most this long, and while its waits in one round add up to no more than `PACING`;
/// a longer one pauses the destination until then, for later runs.
const WAIT_IN_RUN: Duration = Duration::from_secs(20);
const PACING: Duration = Duration::from_secs(60);
/// A delivery turned away is tried again in the run at most this many times, and no
/// sooner than `SHORTEST_WAIT` (a `Retry-After: 0` is no reason to hammer).
const TRIES_IN_RUN: usize = 5;
const SHORTEST_WAIT: Duration = Duration::from_secs(1);
/// A run's lease on a delivery covers this many tries of the channel's timeout (servers
/// or providers tried in turn) for it and each delivery before it in its queue, the
/// pacing, and a margin.
const LEASE_TRIES: i64 = 8;
const LEASE_MARGIN: i64 = 30;

/// What happened to one delivery, for the caller to report.
#[derive(Debug, Clone)]
pub struct DeliveryReport {
    pub delivery: PendingDelivery,
    pub attempts: Vec<Attempt>,
    pub result: DeliveryResult,
}

/// Seconds to wait before the next try, after `attempts` failed ones.
pub fn backoff(attempts: i64) -> i64 {
    let shift = attempts.clamp(0, 20) as u32;
    FIRST_BACKOFF.saturating_mul(1 << shift).min(MAX_BACKOFF)
}

/// Where a delivery goes: a channel that reaches each user separately has a destination
/// per recipient (a phone, an address); any other is one destination (a chat, a webhook,
/// a room).
fn destination(cfg: &Config, channel: &str, recipient: &str) -> String {
    match cfg.channels.get(channel).map(|c| c.kind.reach()) {
        Some(Reach::EachUser(_)) => format!("{channel}:{recipient}"),
        _ => channel.to_string(),
    }
}

/// Where the config sends each delivery.
struct ByConfig<'a> {
    cfg: &'a Config,
    now: i64,
}

impl Destinations for ByConfig<'_> {
    fn destination(&self, channel: &str, recipient: &str) -> String {
        destination(self.cfg, channel, recipient)
    }

    fn incidents(&self, channel: &str) -> bool {
        self.cfg
            .channels
            .get(channel)
            .is_some_and(|c| c.kind.incidents())
    }

    fn settings(&self, channel: &str) -> Option<String> {
        let channel = self.cfg.channels.get(channel)?;
        Some(crate::store::secret_digest(&format!("{channel:?}")))
    }

    fn lease(&self, channel: &str, k: usize) -> i64 {
        let timeout = self
            .cfg
            .channels
            .get(channel)
            .map_or(10, |c| c.timeout.as_secs() as i64);
        self.now + (k as i64 + 1) * timeout * LEASE_TRIES + PACING.as_secs() as i64 + LEASE_MARGIN
    }
}

/// What a destination's worker tells the recording thread.
enum Sent {
    Report(Box<DeliveryReport>),
    /// Send nothing to the destination before `until`.
    Pause {
        destination: String,
        until: i64,
        reason: String,
    },
    /// Leased but not sent (its line or its destination is held): for a later round.
    Unsent(i64),
}

/// One delivering round: plans it over the pending outbox, leases it to `run`, sends each
/// destination's deliveries in order and records each as soon as it is known. Returns
/// what happened to each, and whether more is due than the round took.
pub fn deliver_due(
    store: &mut Store,
    cfg: &Config,
    run: &str,
    now: i64,
) -> rusqlite::Result<(Vec<DeliveryReport>, bool)> {
    let give_up = cfg.alerting.give_up_after.as_secs() as i64;
    let round = store.lease_round(
        run,
        now,
        now.saturating_sub(give_up),
        PER_DESTINATION,
        &ByConfig { cfg, now },
    )?;
    let mut reports = Vec::new();
    for d in round.given_up {
        let mut error = format!(
            "not delivered within give_up_after ({}) after {} attempts",
            crate::text::duration(cfg.alerting.give_up_after),
            d.attempts
        );
        if let Some(last) = &d.last_error {
            error.push_str(&format!("; the last answer: {last}"));
        }
        let report = DeliveryReport {
            result: DeliveryResult::GivenUp { error },
            attempts: Vec::new(),
            delivery: d,
        };
        store.record_delivery(report.delivery.id, now, &report.attempts, &report.result)?;
        reports.push(report);
    }
    let mut unsent = Vec::new();
    let sent = send_all(cfg, round.queues, |sent| {
        match sent {
            Sent::Report(report) => {
                store.record_delivery(
                    report.delivery.id,
                    clock::now(),
                    &report.attempts,
                    &report.result,
                )?;
                reports.push(*report);
            }
            Sent::Pause {
                destination,
                until,
                reason,
            } => store.pause(&destination, until, &reason)?,
            Sent::Unsent(id) => unsent.push(id),
        }
        Ok(())
    });
    // Even when recording failed, what was not sent is handed back (best effort: a lease
    // that cannot be cleared lapses by itself).
    let released = store.release(&unsent);
    sent?;
    released?;
    reports.sort_by_key(|r| r.delivery.id);
    Ok((reports, round.more))
}

/// Sends each queue (one destination's deliveries, in order) through up to `PARALLEL`
/// workers and hands what happens to `record` as it happens. Recording one by one keeps
/// the at-least-once window to the deliveries in flight: a run killed half-way repeats
/// those, not every delivery it already made. When `record` fails, nothing new is sent;
/// what is in flight finishes unrecorded and is retried once its lease lapses.
fn send_all(
    cfg: &Config,
    queues: Vec<Vec<(PendingDelivery, usize)>>,
    mut record: impl FnMut(Sent) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let queue = Mutex::new(queues);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || {
                while let Some(q) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    send_queue(cfg, q, &tx);
                }
            });
        }
        drop(tx);
        for sent in rx {
            if let Err(e) = record(sent) {
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                return Err(e);
            }
        }
        Ok(())
    })
}

/// Sends one destination's deliveries in order. After a failure the rest of that line
/// waits for its retry; a wait the destination asks for is waited here when it is short,
/// and otherwise pauses the destination, leaving the rest of the queue for later.
fn send_queue(cfg: &Config, queue: Vec<(PendingDelivery, usize)>, out: &Sender<Sent>) {
    let mut held: Vec<usize> = Vec::new();
    let mut waited = Duration::ZERO;
    let mut not_before: Option<Instant> = None;
    let mut queue = queue.into_iter();
    while let Some((d, line)) = queue.next() {
        if held.contains(&line) {
            let _ = out.send(Sent::Unsent(d.id));
            continue;
        }
        let mut attempts = Vec::new();
        let mut tries = 0;
        let (result, pause) = loop {
            if let Some(at) = not_before.take() {
                std::thread::sleep(at.saturating_duration_since(Instant::now()));
            }
            let now = clock::now();
            let tried = send_one(cfg, &d);
            tries += 1;
            let (result, wait) = judge(cfg, &d, &tried, now);
            attempts.extend(tried);
            let turned_away = matches!(result, DeliveryResult::Waiting { .. });
            let wait = wait.map(|w| if turned_away { w.max(SHORTEST_WAIT) } else { w });
            match wait {
                Some(wait)
                    if waited + wait <= PACING
                        && wait <= WAIT_IN_RUN
                        && (!turned_away || tries < TRIES_IN_RUN) =>
                {
                    waited += wait;
                    not_before = Some(Instant::now() + wait);
                    if turned_away {
                        continue;
                    }
                    break (result, None);
                }
                Some(wait) => {
                    let until = now + wait.as_secs_f64().ceil() as i64;
                    break (result, Some(until));
                }
                None => break (result, None),
            }
        };
        let failed = !matches!(result, DeliveryResult::Delivered { .. });
        let to = destination(cfg, &d.channel, &d.recipient);
        let _ = out.send(Sent::Report(Box::new(DeliveryReport {
            delivery: d,
            attempts,
            result,
        })));
        if let Some(until) = pause {
            let _ = out.send(Sent::Pause {
                destination: to,
                until,
                reason: "rate limited".into(),
            });
            for (rest, _) in queue.by_ref() {
                let _ = out.send(Sent::Unsent(rest.id));
            }
            return;
        }
        if failed {
            held.push(line);
        }
    }
}

/// What a delivery's attempts come to, and how long the destination asked cabot to wait
/// before its next request, if it did.
fn judge(
    cfg: &Config,
    d: &PendingDelivery,
    attempts: &[Attempt],
    now: i64,
) -> (DeliveryResult, Option<Duration>) {
    // Providers tried in turn stop at the first that accepts; steps taken in turn (cancel,
    // then send) stop at the first that fails: either way the last attempt is the answer.
    if let Some(a) = attempts.last().filter(|a| a.ok) {
        let wait = match a.retry {
            Retry::After(wait) => Some(wait),
            _ => None,
        };
        let result = DeliveryResult::Delivered {
            provider: a.provider.clone(),
        };
        return (result, wait);
    }
    let said = attempts
        .iter()
        .map(|a| format!("{}: {}", a.provider, a.detail))
        .collect::<Vec<_>>()
        .join("; ");
    let wait = attempts
        .iter()
        .filter_map(|a| match a.retry {
            Retry::After(wait) => Some(wait),
            _ => None,
        })
        .max();
    if let Some(wait) = wait {
        let until = now + wait.as_secs_f64().ceil() as i64;
        return (DeliveryResult::Waiting { error: said, until }, Some(wait));
    }
    let permanent = !attempts.is_empty() && attempts.iter().all(|a| a.retry == Retry::Permanent);
    let result = match cfg.channels.get(&d.channel) {
        Some(channel) if permanent => DeliveryResult::Failed {
            error: format!("permanent: {said}; check {}", channel.kind.fix()),
            next_attempt_at: now + backoff(d.attempts).max(PERMANENT_BACKOFF),
            refused: ByConfig { cfg, now }.settings(&d.channel),
        },
        _ => DeliveryResult::Failed {
            error: said,
            next_attempt_at: now + backoff(d.attempts),
            refused: None,
        },
    };
    (result, None)
}

/// Sends one delivery through its channel: every attempt. A channel gone from the config,
/// or an alert that cannot be read, is one failed attempt that says so.
fn send_one(cfg: &Config, d: &PendingDelivery) -> Vec<Attempt> {
    let alert = match &d.alert {
        Ok(alert) => alert,
        Err(why) => return vec![Attempt::new(&d.channel, false, why.clone())],
    };
    let Some(channel) = cfg.channels.get(&d.channel) else {
        let why = format!("channel '{}' is no longer in the config", d.channel);
        return vec![Attempt::new(&d.channel, false, why)];
    };
    let mut alert =
        with_ack_link(cfg, alert, &d.channel, &d.recipient).unwrap_or_else(|| alert.clone());
    alert.delivery = Some(d.key.clone());
    alert.sent_by.clone_from(&cfg.pair.sent_by);
    channels::send(channel, &alert, &d.recipient)
}

/// The alert with its recipient's ack link, when ack links are set up and it is an alert
/// or repeat of an incident: the link names the user the recipient belongs to (or the
/// channel, for one that reaches a room) and expires a day after the alert.
fn with_ack_link(cfg: &Config, alert: &Alert, channel: &str, recipient: &str) -> Option<Alert> {
    let links = cfg.status.ack.as_ref()?;
    if !matches!(alert.kind, AlertKind::Alert | AlertKind::Repeat) {
        return None;
    }
    let by = cfg
        .users
        .iter()
        .find(|(_, u)| !recipient.is_empty() && u.contacts.values().any(|v| v == recipient))
        .map_or_else(|| format!("#{channel}"), |(name, _)| name.clone());
    let claim = ack_link::Claim {
        service: alert.service.clone(),
        incident_at: alert.incident_at()?,
        by,
        expires: alert.time.saturating_add(ack_link::LIFETIME),
    };
    let mut alert = alert.clone();
    alert.ack_url = Some(links.url(&claim));
    Some(alert)
}

/// What the delivering thread is told.
enum Wake {
    /// New alerts are in the outbox.
    Written,
    /// The run's checks are done: deliver what is due, then stop.
    Finish,
}

/// Delivery beside a run's checks: one thread with its own connection to the state, woken
/// whenever the run writes alerts.
pub struct Deliverer {
    wake: Sender<Wake>,
    thread: JoinHandle<anyhow::Result<()>>,
}

impl Deliverer {
    /// Starts delivering for `run`; `report` is called with what happened to each delivery.
    pub fn start(
        cfg: Arc<Config>,
        state: &Path,
        run: String,
        report: impl Fn(&[DeliveryReport]) + Send + 'static,
    ) -> anyhow::Result<Deliverer> {
        let mut store = Store::open(state, None)?;
        let (wake, woken) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("deliver".into())
            .spawn(move || deliver_until_finished(&mut store, &cfg, &run, &woken, report))?;
        Ok(Deliverer { wake, thread })
    }

    /// The run has written alerts: deliver them now.
    pub fn written(&self) {
        let _ = self.wake.send(Wake::Written);
    }

    /// Delivers what is due one last time and waits for it.
    pub fn finish(self) -> anyhow::Result<()> {
        let _ = self.wake.send(Wake::Finish);
        self.thread
            .join()
            .map_err(|_| anyhow::anyhow!("the delivering thread panicked"))?
    }
}

/// Delivers everything due now: rounds follow each other while more is due than one
/// round takes; `report` is told what happened in each.
pub fn deliver_all(
    store: &mut Store,
    cfg: &Config,
    run: &str,
    report: &impl Fn(&[DeliveryReport]),
) -> anyhow::Result<()> {
    loop {
        let (reports, more) = deliver_due(store, cfg, run, clock::now())
            .map_err(|e| crate::store::failure(&cfg.state, "recording deliveries", e))?;
        report(&reports);
        if !more {
            return Ok(());
        }
    }
}

fn deliver_until_finished(
    store: &mut Store,
    cfg: &Config,
    run: &str,
    woken: &Receiver<Wake>,
    report: impl Fn(&[DeliveryReport]),
) -> anyhow::Result<()> {
    let deliver = |store: &mut Store| deliver_all(store, cfg, run, &report);
    loop {
        deliver(store)?;
        // Wait for new alerts; a retry that falls due meanwhile goes in the next round.
        let mut finish = false;
        match woken.recv_timeout(Duration::from_secs(5)) {
            Ok(Wake::Finish) | Err(RecvTimeoutError::Disconnected) => finish = true,
            Ok(Wake::Written) | Err(RecvTimeoutError::Timeout) => {}
        }
        // Several wakes are one round.
        while let Ok(w) = woken.try_recv() {
            finish |= matches!(w, Wake::Finish);
        }
        if finish {
            return deliver(store);
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_half_an_hour() {
        let waits: Vec<i64> = (0..8).map(super::backoff).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(super::backoff(1000), 1800);
    }
}
