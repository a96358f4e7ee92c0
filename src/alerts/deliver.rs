//! Delivering the outbox: every delivery that is due, leased by one run at a time, sent
//! through its channel, each attempt recorded as soon as it is known. A failure is retried
//! by later runs with backoff until `give_up_after`. During a run this works beside the
//! checks, on its own connection, so that an alert leaves as soon as it is written.

use std::path::Path;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::alerts::ack_link;
use crate::alerts::alert::{Alert, AlertKind};
use crate::alerts::channels::{self, Attempt};
use crate::clock;
use crate::config::Config;
use crate::store::Store;
use crate::store::outbox::{DeliveryResult, PendingDelivery};

/// Deliveries tried at once.
const PARALLEL: usize = 16;
/// At most this many deliveries are taken at a time; the rest wait for the next round.
const BATCH: usize = 1000;
/// The first retry waits this long; each later one twice as long, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: i64 = 60;
const MAX_BACKOFF: i64 = 30 * 60;
/// A run's lease on a delivery covers this many tries of the channel's timeout (servers
/// or providers tried in turn), and a margin.
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

/// Leases, tries and records every delivery due at `now` that no other run holds; returns
/// what happened to each.
pub fn deliver_due(
    store: &mut Store,
    cfg: &Config,
    run: &str,
    now: i64,
) -> rusqlite::Result<Vec<DeliveryReport>> {
    let lease = |channel: &str| {
        let timeout = cfg
            .channels
            .get(channel)
            .map_or(10, |c| c.timeout.as_secs() as i64);
        now + timeout * LEASE_TRIES + LEASE_MARGIN
    };
    let due = store.lease_deliveries(run, now, BATCH, lease)?;
    let give_up = cfg.alerting.give_up_after.as_secs() as i64;
    let (expired, due): (Vec<_>, Vec<_>) = due
        .into_iter()
        .partition(|d| now.saturating_sub(d.alert_created_at) >= give_up);
    let mut reports = Vec::with_capacity(expired.len() + due.len());
    for d in expired {
        let report = DeliveryReport {
            result: DeliveryResult::GivenUp {
                error: format!(
                    "not delivered within give_up_after ({}) after {} attempts",
                    crate::text::duration(cfg.alerting.give_up_after),
                    d.attempts
                ),
            },
            attempts: Vec::new(),
            delivery: d,
        };
        store.record_delivery(report.delivery.id, now, &report.attempts, &report.result)?;
        reports.push(report);
    }
    send_all(cfg, due, now, |report| {
        store.record_delivery(
            report.delivery.id,
            clock::now(),
            &report.attempts,
            &report.result,
        )?;
        reports.push(report);
        Ok(())
    })?;
    reports.sort_by_key(|r| r.delivery.id);
    Ok(reports)
}

/// Sends `due` through `PARALLEL` workers and hands each report to `record` as it arrives.
/// Recording one by one keeps the at-least-once window to the deliveries in flight: a run
/// killed half-way repeats those, not every delivery it already made. When `record` fails,
/// nothing new is sent; what is in flight finishes unrecorded and is retried once its
/// lease lapses.
fn send_all(
    cfg: &Config,
    due: Vec<PendingDelivery>,
    now: i64,
    mut record: impl FnMut(DeliveryReport) -> rusqlite::Result<()>,
) -> rusqlite::Result<()> {
    let queue = Mutex::new(due);
    let (tx, rx) = mpsc::channel();
    std::thread::scope(|scope| {
        for _ in 0..PARALLEL {
            let tx = tx.clone();
            let queue = &queue;
            scope.spawn(move || {
                while let Some(d) = queue.lock().ok().and_then(|mut q| q.pop()) {
                    if tx.send(send_one(cfg, d, now)).is_err() {
                        break;
                    }
                }
            });
        }
        drop(tx);
        for report in rx {
            if let Err(e) = record(report) {
                if let Ok(mut q) = queue.lock() {
                    q.clear();
                }
                return Err(e);
            }
        }
        Ok(())
    })
}

fn send_one(cfg: &Config, d: PendingDelivery, now: i64) -> DeliveryReport {
    let channel = cfg.channels.get(&d.channel);
    let (Some(channel), Ok(alert)) = (channel, &d.alert) else {
        let error = match &d.alert {
            Err(why) => why.clone(),
            Ok(_) => format!("channel '{}' is no longer in the config", d.channel),
        };
        return DeliveryReport {
            result: DeliveryResult::Failed {
                error,
                next_attempt_at: now + backoff(d.attempts),
            },
            attempts: Vec::new(),
            delivery: d,
        };
    };
    let with_link = with_ack_link(cfg, alert, &d.channel, &d.recipient);
    let attempts = channels::send(channel, with_link.as_ref().unwrap_or(alert), &d.recipient);
    let result = match attempts.iter().find(|a| a.ok) {
        Some(a) => DeliveryResult::Delivered {
            provider: a.provider.clone(),
        },
        None => DeliveryResult::Failed {
            error: attempts
                .iter()
                .map(|a| format!("{}: {}", a.provider, a.detail))
                .collect::<Vec<_>>()
                .join("; "),
            next_attempt_at: now + backoff(d.attempts),
        },
    };
    DeliveryReport {
        delivery: d,
        attempts,
        result,
    }
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
        let path = state.to_path_buf();
        let (wake, woken) = mpsc::channel();
        let thread = std::thread::Builder::new()
            .name("deliver".into())
            .spawn(move || deliver_until_finished(&mut store, &cfg, &path, &run, &woken, report))?;
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

fn deliver_until_finished(
    store: &mut Store,
    cfg: &Config,
    path: &Path,
    run: &str,
    woken: &Receiver<Wake>,
    report: impl Fn(&[DeliveryReport]),
) -> anyhow::Result<()> {
    loop {
        let reports = deliver_due(store, cfg, run, clock::now())
            .map_err(|e| crate::store::failure(path, "recording deliveries", e))?;
        report(&reports);
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
            let reports = deliver_due(store, cfg, run, clock::now())
                .map_err(|e| crate::store::failure(path, "recording deliveries", e))?;
            report(&reports);
            return Ok(());
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
