//! Delivering the outbox: every pending delivery that is due, through its channel, each
//! attempt recorded. Failures are retried by later runs with backoff until `give_up_after`.

use std::sync::Mutex;
use std::sync::mpsc;

use crate::alerts::channels::{self, Attempt};
use crate::config::Config;
use crate::store::Store;
use crate::store::outbox::{DeliveryResult, PendingDelivery};

/// Deliveries tried at once.
const PARALLEL: usize = 16;
/// At most this many deliveries are tried per run; the rest wait for the next.
const BATCH: usize = 1000;
/// The first retry waits this long; each later one twice as long, up to `MAX_BACKOFF`.
const FIRST_BACKOFF: i64 = 60;
const MAX_BACKOFF: i64 = 30 * 60;

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

/// Tries every due delivery and records each result as soon as it is known; returns what
/// happened.
pub fn deliver_pending(
    store: &mut Store,
    cfg: &Config,
    now: i64,
) -> rusqlite::Result<Vec<DeliveryReport>> {
    let pending = store.pending_deliveries(now, BATCH)?;
    let give_up = cfg.alerting.give_up_after.as_secs() as i64;
    let (expired, due): (Vec<_>, Vec<_>) = pending
        .into_iter()
        .partition(|d| now - d.alert_created_at >= give_up);
    let mut outcomes = Vec::with_capacity(expired.len() + due.len());
    for d in expired {
        let o = DeliveryReport {
            result: DeliveryResult::GivenUp {
                error: format!(
                    "not delivered within give_up_after ({}) after {} attempts",
                    humantime::format_duration(cfg.alerting.give_up_after),
                    d.attempts
                ),
            },
            attempts: Vec::new(),
            delivery: d,
        };
        store.record_delivery(o.delivery.id, now, &o.attempts, &o.result)?;
        outcomes.push(o);
    }
    send_all(cfg, due, now, |o| {
        store.record_delivery(o.delivery.id, now, &o.attempts, &o.result)?;
        outcomes.push(o);
        Ok(())
    })?;
    outcomes.sort_by_key(|o| o.delivery.id);
    Ok(outcomes)
}

/// Sends `due` through `PARALLEL` workers and hands each outcome to `record` as it arrives.
/// Recording one by one keeps the at-least-once window to the deliveries in flight: a run
/// killed half-way repeats those, not every delivery it already made. When `record` fails,
/// nothing new is sent; what is in flight finishes unrecorded and is retried next run.
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
        for outcome in rx {
            if let Err(e) = record(outcome) {
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
    let attempts = channels::send(channel, alert, &d.recipient);
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

#[cfg(test)]
mod tests {
    #[test]
    fn backoff_doubles_up_to_half_an_hour() {
        let waits: Vec<i64> = (0..8).map(super::backoff).collect();
        assert_eq!(waits, [60, 120, 240, 480, 960, 1800, 1800, 1800]);
        assert_eq!(super::backoff(1000), 1800);
    }
}
