//! The outbox: decided alerts, their deliveries and every attempt; acks and silences.

use std::collections::HashMap;

use rusqlite::{Connection, params};

use super::Store;
use crate::alerts::alert::Alert;
use crate::alerts::channels::Attempt;
use crate::core::schedule;

/// An alert decided in this run, with where it must go.
#[derive(Debug, Clone)]
pub struct NewAlert {
    /// Without its `id`: the outbox gives it one.
    pub alert: Alert,
    /// (channel, recipient) pairs; recipient is '' for one-destination channels.
    pub deliveries: Vec<(String, String)>,
}

/// A delivery waiting to be (re)tried.
#[derive(Debug, Clone)]
pub struct PendingDelivery {
    pub id: i64,
    pub alert_id: i64,
    pub channel: String,
    pub recipient: String,
    /// Tries that counted towards its backoff (not those a rate limit turned away).
    pub attempts: i64,
    pub alert_created_at: i64,
    /// What the last failed try was told.
    pub last_error: Option<String>,
    /// Its own random key, the same on every try (`Alert::delivery`).
    pub key: String,
    /// The alert, with its `id`; or why what was stored cannot be read.
    pub alert: Result<Alert, String>,
}

/// What became of a delivery in this run.
#[derive(Debug, Clone)]
pub enum DeliveryResult {
    Delivered {
        provider: String,
    },
    /// A failed try: tried again at `next_attempt_at`, or as soon as the channel's
    /// settings differ from those it refused for good (`refused`, their digest).
    Failed {
        error: String,
        next_attempt_at: i64,
        refused: Option<String>,
    },
    /// The destination said to wait (a rate limit): tried again then, and the wait does
    /// not count towards the backoff.
    Waiting {
        error: String,
        until: i64,
    },
    GivenUp {
        error: String,
    },
}

/// One delivering round, leased to one run (see `alerts::order`).
#[derive(Debug, Default)]
pub struct Round {
    /// Too old to send: to be recorded as given up.
    pub given_up: Vec<PendingDelivery>,
    /// Per destination, what to send now in order, each with its line's number.
    pub queues: Vec<Vec<(PendingDelivery, usize)>>,
    /// How many waiting deliveries later ones made pointless.
    pub superseded: usize,
    /// More is due than this round took.
    pub more: bool,
}

/// Where a delivery goes, as the config says: its destination, whether its provider
/// keeps incidents open, a digest of the channel's settings, and the lease for the
/// delivery `k`-th in its destination's queue.
pub trait Destinations {
    fn destination(&self, channel: &str, recipient: &str) -> String;
    fn incidents(&self, channel: &str) -> bool;
    fn settings(&self, channel: &str) -> Option<String>;
    fn lease(&self, channel: &str, k: usize) -> i64;
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub until: i64,
    pub by: Option<String>,
    pub note: Option<String>,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silence {
    pub until: i64,
    pub by: Option<String>,
}

/// Counts for `status`: deliveries still pending, and those given up on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct OutboxCounts {
    pub undelivered: i64,
    pub given_up: i64,
}

/// One delivery of an alert, as `status` and `cabot alerts` show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeliveryLine {
    pub alert: i64,
    /// When the alert was decided.
    #[serde(with = "crate::clock::rfc3339")]
    pub time: i64,
    pub service: String,
    pub kind: String,
    pub status: String,
    pub channel: String,
    /// An address, number or key; empty for a channel with one destination.
    pub recipient: String,
    /// `pending`, `delivered`, `given_up` or `superseded`.
    pub state: String,
    /// Who took it, once delivered.
    pub provider: Option<String>,
    /// Tries that counted (a rate limit's refusals do not).
    pub tries: i64,
    pub last_error: Option<String>,
    /// When it is tried next, while pending.
    #[serde(with = "crate::clock::rfc3339_opt")]
    pub next_try: Option<i64>,
}

/// Which deliveries `Store::deliveries` lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which {
    /// Every delivery of an alert decided since then.
    Since(i64),
    /// Those still owed, and those given up on since then.
    Owed(i64),
}

/// Writes alerts and their deliveries, in the caller's transaction.
pub fn insert_alerts(tx: &Connection, alerts: &[NewAlert]) -> rusqlite::Result<()> {
    let mut alert = tx.prepare_cached(
        "INSERT INTO alerts (service, kind, status, previous_status, created_at, payload, incident)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut delivery = tx.prepare_cached(
        "INSERT INTO deliveries (alert_id, channel, recipient, next_attempt_at) VALUES (?1, ?2, ?3, ?4)",
    )?;
    // An alert with nowhere to go (a service without channels) is not kept.
    for new in alerts.iter().filter(|a| !a.deliveries.is_empty()) {
        let a = &new.alert;
        alert.execute(params![
            a.service,
            a.kind.as_str(),
            a.status.as_str(),
            a.previous_status.as_str(),
            a.time,
            a.to_stored_json(),
            crate::alerts::channels::incident_key(a, usize::MAX),
        ])?;
        let id = tx.last_insert_rowid();
        for (channel, recipient) in &new.deliveries {
            delivery.execute(params![id, channel, recipient, a.time])?;
        }
    }
    Ok(())
}

/// Every service's acknowledgement, by service.
pub fn acks(conn: &Connection) -> rusqlite::Result<HashMap<String, Ack>> {
    let mut stmt = conn.prepare_cached("SELECT service, until, by, note, created_at FROM acks")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Ack {
                until: r.get(1)?,
                by: r.get(2)?,
                note: r.get(3)?,
                created_at: r.get(4)?,
            },
        ))
    })?;
    rows.collect()
}

/// Every service's silence, by service.
pub fn silences(conn: &Connection) -> rusqlite::Result<HashMap<String, Silence>> {
    let mut stmt = conn.prepare_cached("SELECT service, until, by FROM silences")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            Silence {
                until: r.get(1)?,
                by: r.get(2)?,
            },
        ))
    })?;
    rows.collect()
}

/// A delivery row joined with its alert (`PENDING`), the alert read back into its type.
fn pending_delivery(r: &rusqlite::Row) -> rusqlite::Result<PendingDelivery> {
    let alert_id: i64 = r.get(1)?;
    let text: String = r.get(6)?;
    let alert = serde_json::from_str::<Alert>(&text)
        .map(|a| Alert {
            id: Some(alert_id),
            ..a
        })
        .map_err(|e| format!("the stored alert {alert_id} cannot be read: {e}"));
    Ok(PendingDelivery {
        id: r.get(0)?,
        alert_id,
        channel: r.get(2)?,
        recipient: r.get(3)?,
        attempts: r.get(4)?,
        alert_created_at: r.get(5)?,
        last_error: r.get(7)?,
        key: r.get(8)?,
        alert,
    })
}

/// The longest a provider may make a destination wait, and so the furthest off a next try
/// or a pause is ever set: one further off was set by a clock that has since gone back.
const LONGEST_PAUSE: i64 = crate::alerts::channels::LONGEST_WAIT.as_secs() as i64;
const LONGEST_RETRY: i64 = LONGEST_PAUSE;

/// One pending delivery with its alert, the columns `pending_delivery` reads.
const PENDING_ONE: &str =
    "SELECT d.id, d.alert_id, d.channel, d.recipient, d.attempts, a.created_at,
        a.payload, d.last_error, d.key
     FROM deliveries d JOIN alerts a ON a.id = d.alert_id WHERE d.id = ?1";

/// What ordering needs of every pending delivery, in the order they were decided: id,
/// channel, recipient, the alert's kind, service, incident and time, the next try, the
/// lease and the settings refused. No payload: only the deliveries a round takes are read
/// whole.
const PENDING_ORDER: &str = "SELECT d.id, d.channel, d.recipient, a.kind, a.service, a.incident,
        a.created_at, d.next_attempt_at, d.claim_until, d.refused_by, d.claimed_by,
        (SELECT max(at) FROM attempts WHERE delivery_id = d.id)
     FROM deliveries d JOIN alerts a ON a.id = d.alert_id
     WHERE d.state = 'pending' ORDER BY d.id";

impl Store {
    /// Plans a delivering round over the pending outbox (`alerts::order::plan`) and, in
    /// one transaction, marks what it supersedes and leases to `run` what it sends, so
    /// that two runs never send the same delivery, nor two of one line, at once.
    pub fn lease_round(
        &mut self,
        run: &str,
        now: i64,
        give_up_before: i64,
        per_destination: usize,
        to: &impl Destinations,
    ) -> rusqlite::Result<Round> {
        use crate::alerts::order::{Queued, plan};
        self.immediate(|tx| {
            let mut queued: Vec<Queued> = Vec::new();
            {
                // What the config says of each channel, asked once per channel.
                let mut settings: HashMap<String, (Option<String>, bool)> = HashMap::new();
                let mut stmt = tx.prepare_cached(PENDING_ORDER)?;
                let mut query = stmt.query([])?;
                while let Some(r) = query.next()? {
                    let channel: String = r.get(1)?;
                    let recipient: String = r.get(2)?;
                    let kind: String = r.get(3)?;
                    let service: String = r.get(4)?;
                    let incident: Option<String> = r.get(5)?;
                    let created: i64 = r.get(6)?;
                    let next: i64 = r.get(7)?;
                    let claim: Option<i64> = r.get(8)?;
                    let refused: Option<String> = r.get(9)?;
                    let claimed_by: Option<String> = r.get(10)?;
                    let tried: Option<i64> = r.get(11)?;
                    // A next try set on a clock that has since gone back (the alert was
                    // decided, or last tried, ahead of this one; or it is further off than
                    // any backoff): due now, not when this clock reaches it.
                    let set_ahead = schedule::ahead(created, now)
                        || tried.is_some_and(|t| schedule::ahead(t, now))
                        || schedule::ahead(next, now + LONGEST_RETRY);
                    let (digest, incidents) = settings
                        .entry(channel.clone())
                        .or_insert_with(|| (to.settings(&channel), to.incidents(&channel)));
                    // Settings refused for good and changed since: try again at once.
                    let fixed = refused.is_some() && refused != *digest;
                    queued.push(Queued {
                        id: r.get(0)?,
                        kind: kind
                            .parse()
                            .unwrap_or(crate::alerts::alert::AlertKind::Alert),
                        incident: incident.unwrap_or_else(|| format!("cabot/{service}")),
                        destination: to.destination(&channel, &recipient),
                        incidents: *incidents,
                        service,
                        due: next <= now || fixed || set_ahead,
                        leased: !schedule::is_free(claim, claimed_by.as_deref(), now),
                        expired: created < give_up_before,
                    });
                }
            }
            let paused: Vec<String> = tx
                .prepare_cached(
                    "SELECT destination FROM paused_destinations WHERE until > ?1 AND until <= ?2",
                )?
                // A pause longer than any provider may ask was set by a clock ahead.
                .query_map(params![now, now + LONGEST_PAUSE], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            let planned = plan(&queued, |d| paused.iter().any(|p| p == d), per_destination);
            let mut supersede = tx.prepare_cached(
                "UPDATE deliveries SET state = 'superseded', done_at = ?2, claimed_by = NULL,
                    claim_until = NULL,
                    last_error = 'superseded by delivery ' || ?3 WHERE id = ?1",
            )?;
            for &(i, by) in &planned.superseded {
                supersede.execute(params![queued[i].id, now, queued[by].id])?;
            }
            let mut one = tx.prepare_cached(PENDING_ONE)?;
            let mut read = |i: usize| one.query_row([queued[i].id], pending_delivery);
            let mut take = tx.prepare_cached(
                "UPDATE deliveries SET claimed_by = ?2, claim_until = ?3 WHERE id = ?1",
            )?;
            let mut round = Round {
                superseded: planned.superseded.len(),
                more: planned.more,
                ..Round::default()
            };
            for &i in &planned.given_up {
                take.execute(params![queued[i].id, run, now + 60])?;
                round.given_up.push(read(i)?);
            }
            for queue in &planned.queues {
                let mut leased = Vec::with_capacity(queue.len());
                for (k, &(i, line)) in queue.iter().enumerate() {
                    let d = read(i)?;
                    take.execute(params![d.id, run, to.lease(&d.channel, k)])?;
                    leased.push((d, line));
                }
                round.queues.push(leased);
            }
            Ok(round)
        })
    }

    /// Hands back deliveries leased to a round that did not send them.
    pub fn release(&mut self, ids: &[i64]) -> rusqlite::Result<()> {
        self.immediate(|tx| {
            let mut stmt = tx.prepare_cached(
                "UPDATE deliveries SET claimed_by = NULL, claim_until = NULL WHERE id = ?1",
            )?;
            for id in ids {
                stmt.execute([id])?;
            }
            Ok(())
        })
    }

    /// Forgets every pause that ends ahead of `now` by more than `schedule::CLOCK_STEP`:
    /// called when the clock went back, since a pause set on the clock ahead would hold
    /// alerts for as long as the step. Sending early costs at most another "wait".
    pub fn forget_pauses_ahead(&mut self, now: i64) -> rusqlite::Result<()> {
        self.conn.execute(
            "DELETE FROM paused_destinations WHERE until > ?1",
            [now + schedule::CLOCK_STEP.as_secs() as i64],
        )?;
        Ok(())
    }

    /// Sends nothing to `destination` before `until` (what it asked for).
    pub fn pause(&mut self, destination: &str, until: i64, reason: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO paused_destinations (destination, until, reason) VALUES (?1, ?2, ?3)
             ON CONFLICT (destination) DO UPDATE SET until = max(until, excluded.until),
                reason = excluded.reason",
            params![destination, until, reason],
        )?;
        self.conn.execute(
            "DELETE FROM paused_destinations WHERE until < ?1",
            [until - 86_400],
        )?;
        Ok(())
    }

    /// Records the attempts made for one delivery and what became of it, in one transaction.
    pub fn record_delivery(
        &mut self,
        delivery_id: i64,
        now: i64,
        attempts: &[Attempt],
        result: &DeliveryResult,
    ) -> rusqlite::Result<()> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        {
            let mut insert = tx.prepare_cached(
                "INSERT INTO attempts (delivery_id, at, provider, ok, error) VALUES (?1, ?2, ?3, ?4, ?5)",
            )?;
            for a in attempts {
                insert.execute(params![
                    delivery_id,
                    now,
                    a.provider,
                    a.ok,
                    (!a.ok).then_some(a.detail.as_str())
                ])?;
            }
            match result {
                DeliveryResult::Delivered { provider } => {
                    tx.execute(
                        "UPDATE deliveries SET state = 'delivered', attempts = attempts + 1,
                            provider = ?2, done_at = ?3, last_error = NULL, claimed_by = NULL,
                            claim_until = NULL WHERE id = ?1",
                        params![delivery_id, provider, now],
                    )?;
                    // The channel works now (its config was fixed): what it refused for good
                    // goes at once, not at its slow schedule.
                    tx.execute(
                        "UPDATE deliveries SET next_attempt_at = ?2 WHERE state = 'pending'
                            AND next_attempt_at > ?2 AND refused_by IS NOT NULL
                            AND channel = (SELECT channel FROM deliveries WHERE id = ?1)",
                        params![delivery_id, now],
                    )?
                }
                DeliveryResult::Waiting { error, until } => tx.execute(
                    "UPDATE deliveries SET last_error = ?2, next_attempt_at = ?3,
                        claimed_by = NULL, claim_until = NULL WHERE id = ?1",
                    params![delivery_id, error, until],
                )?,
                DeliveryResult::Failed {
                    error,
                    next_attempt_at,
                    refused,
                } => tx.execute(
                    "UPDATE deliveries SET attempts = attempts + 1, last_error = ?2,
                        next_attempt_at = ?3, refused_by = ?4, claimed_by = NULL,
                        claim_until = NULL WHERE id = ?1",
                    params![delivery_id, error, next_attempt_at, refused],
                )?,
                DeliveryResult::GivenUp { error } => tx.execute(
                    "UPDATE deliveries SET state = 'given_up', last_error = ?2, done_at = ?3,
                        claimed_by = NULL, claim_until = NULL WHERE id = ?1",
                    params![delivery_id, error, now],
                )?,
            };
        }
        tx.commit()
    }

    /// Whether a delivery is due for a try at `now` (leased or not).
    pub fn has_due_deliveries(&self, now: i64) -> rusqlite::Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                    WHERE d.state = 'pending' AND (d.next_attempt_at <= ?1
                        OR d.next_attempt_at > ?2 OR a.created_at > ?3
                        OR EXISTS (SELECT 1 FROM attempts WHERE delivery_id = d.id AND at > ?3)))",
            )?
            .query_row(
                params![
                    now,
                    now + LONGEST_RETRY + schedule::CLOCK_STEP.as_secs() as i64,
                    now + schedule::CLOCK_STEP.as_secs() as i64
                ],
                |r| r.get(0),
            )
    }

    /// Whether an alert waits for another try after a failed one.
    pub fn has_failed_deliveries(&self) -> rusqlite::Result<bool> {
        self.conn
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM deliveries
                 WHERE state = 'pending' AND last_error IS NOT NULL)",
            )?
            .query_row([], |r| r.get(0))
    }

    /// The deliveries `which` names, newest first, at most `limit`.
    pub fn deliveries(&self, which: Which, limit: usize) -> rusqlite::Result<Vec<DeliveryLine>> {
        let (filter, since) = match which {
            Which::Since(t) => ("a.created_at >= ?1", t),
            Which::Owed(t) => (
                "d.state = 'pending' OR (d.state = 'given_up' AND d.done_at >= ?1)",
                t,
            ),
        };
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT a.id, a.created_at, a.service, a.kind, a.status, d.channel, d.recipient,
                d.state, d.provider, d.attempts, d.last_error,
                CASE WHEN d.state = 'pending' THEN d.next_attempt_at END
             FROM deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE {filter} ORDER BY d.id DESC LIMIT ?2"
        ))?;
        stmt.query_map(params![since, limit as i64], |r| {
            Ok(DeliveryLine {
                alert: r.get(0)?,
                time: r.get(1)?,
                service: r.get(2)?,
                kind: r.get(3)?,
                status: r.get(4)?,
                channel: r.get(5)?,
                recipient: r.get(6)?,
                state: r.get(7)?,
                provider: r.get(8)?,
                tries: r.get(9)?,
                last_error: r.get(10)?,
                next_try: r.get(11)?,
            })
        })?
        .collect()
    }

    pub fn outbox_counts(&self) -> rusqlite::Result<OutboxCounts> {
        self.conn.query_row(
            "SELECT
                (SELECT count(*) FROM deliveries WHERE state = 'pending'),
                (SELECT count(*) FROM deliveries WHERE state = 'given_up')",
            [],
            |r| {
                Ok(OutboxCounts {
                    undelivered: r.get(0)?,
                    given_up: r.get(1)?,
                })
            },
        )
    }

    pub fn acks(&self) -> rusqlite::Result<HashMap<String, Ack>> {
        acks(&self.conn)
    }

    pub fn silences(&self) -> rusqlite::Result<HashMap<String, Silence>> {
        silences(&self.conn)
    }

    /// Saves a service's ack, unless another is still in force at `ack.created_at` and
    /// `replace` is false: then nothing changes and that other ack is returned. One
    /// transaction, so two people acking at once cannot both win. The channels named in
    /// `tell` (those whose providers keep incidents open) are owed the acknowledgement
    /// wherever the incident's alerts went, in the same transaction.
    pub fn set_ack(
        &mut self,
        service: &str,
        ack: &Ack,
        replace: bool,
        tell: &[&str],
    ) -> rusqlite::Result<Option<Ack>> {
        self.immediate(|conn| {
            if !replace
                && let Some(held) = acks(conn)?.remove(service)
                && crate::core::quiet::in_force(held.until, ack.created_at)
            {
                return Ok(Some(held));
            }
            save_ack(conn, service, ack)?;
            queue_ack(conn, service, ack, tell)?;
            Ok(None)
        })
    }

    /// Ends a service's ack at `now`; returns whether one was in force. The row stays,
    /// ended and dated: the other node of a pair takes the end as it took the ack.
    pub fn clear_ack(&mut self, service: &str, now: i64) -> rusqlite::Result<bool> {
        Ok(self.conn.execute(
            "UPDATE acks SET until = ?2, created_at = ?2 WHERE service = ?1 AND until > ?2",
            params![service, now],
        )? > 0)
    }

    pub fn set_silence(
        &mut self,
        service: &str,
        silence: &Silence,
        now: i64,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO silences (service, until, by, created_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (service) DO UPDATE SET until = excluded.until, by = excluded.by,
                created_at = excluded.created_at",
            params![service, silence.until, silence.by, now],
        )?;
        Ok(())
    }

    /// Ends a service's silence at `now`, kept ended and dated as `clear_ack` does.
    pub fn clear_silence(&mut self, service: &str, now: i64) -> rusqlite::Result<bool> {
        Ok(self.conn.execute(
            "UPDATE silences SET until = ?2, created_at = ?2 WHERE service = ?1 AND until > ?2",
            params![service, now],
        )? > 0)
    }
}

impl Store {
    /// Records an on-call override.
    pub fn add_override(
        &mut self,
        rota: &str,
        o: &crate::config::Override,
        now: i64,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO oncall_overrides (rota, user, start, until, by, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![rota, o.user, o.start, o.until, o.by, now],
        )?;
        Ok(())
    }

    /// Ends `rota`'s overrides at `now`: those in force and those to come. How many.
    pub fn cancel_overrides(&mut self, rota: &str, now: i64) -> rusqlite::Result<usize> {
        self.conn.execute(
            "UPDATE oncall_overrides SET until = ?2, start = min(start, ?2)
             WHERE rota = ?1 AND until > ?2",
            params![rota, now],
        )
    }

    /// The overrides that have not ended by `now`, by rota, oldest first.
    pub fn overrides(
        &self,
        now: i64,
    ) -> rusqlite::Result<HashMap<String, Vec<crate::config::Override>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rota, user, start, until, by FROM oncall_overrides WHERE until > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([now], |r| {
            Ok((
                r.get::<_, String>(0)?,
                crate::config::Override {
                    user: r.get(1)?,
                    start: r.get(2)?,
                    until: r.get(3)?,
                    by: r.get(4)?,
                },
            ))
        })?;
        let mut out: HashMap<String, Vec<crate::config::Override>> = HashMap::new();
        for row in rows {
            let (rota, o) = row?;
            out.entry(rota).or_default().push(o);
        }
        Ok(out)
    }
}

/// What an ack link did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkUse {
    /// The incident is acknowledged now.
    Acked,
    /// The link acknowledged once already.
    Used,
    /// Its incident is over (recovered, or another incident since).
    Over,
    /// Someone else's ack is in force; the link is left unused.
    AlreadyAcked(Option<String>),
}

/// Writes into the outbox an acknowledgement of `service`'s incident for each of the
/// `tell` channels, to each recipient the incident's alerts went to (or wait to go to).
fn queue_ack(conn: &Connection, service: &str, ack: &Ack, tell: &[&str]) -> rusqlite::Result<()> {
    if tell.is_empty() {
        return Ok(());
    }
    let Some(row) = super::run::service(conn, service)? else {
        return Ok(());
    };
    let Some(incident_at) = row.memory.incident_at else {
        return Ok(());
    };
    if row.status == crate::core::Status::Passing {
        return Ok(());
    }
    let incident = crate::alerts::decide::incident_id(service, incident_at);
    let mut stmt = conn.prepare_cached(
        "SELECT DISTINCT d.channel, d.recipient FROM deliveries d JOIN alerts a ON a.id = d.alert_id
         WHERE a.incident = ?1 AND a.kind IN ('alert', 'repeat')
           AND d.state IN ('pending', 'delivered')
         ORDER BY d.channel, d.recipient",
    )?;
    let deliveries: Vec<(String, String)> = stmt
        .query_map([&incident], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
        })?
        .filter(|d| {
            d.as_ref()
                .map_or(true, |(channel, _)| tell.contains(&channel.as_str()))
        })
        .collect::<rusqlite::Result<_>>()?;
    let by = match (&ack.by, &ack.note) {
        (Some(by), Some(note)) => Some(format!("{by}: {note}")),
        (Some(by), None) => Some(by.clone()),
        (None, note) => note.clone(),
    };
    let alert = Alert {
        id: None,
        kind: crate::alerts::alert::AlertKind::Ack,
        service: service.to_string(),
        status: row.status,
        previous_status: row.status,
        checks: Vec::new(),
        url: None,
        runbook: None,
        time: ack.created_at,
        incident: Some(incident),
        on_call: None,
        escalation: None,
        ack_url: None,
        delivery: None,
        acked_by: by,
        sent_by: None,
        flapping: None,
        blocks: Vec::new(),
    };
    insert_alerts(conn, &[NewAlert { alert, deliveries }])
}

fn save_ack(conn: &Connection, service: &str, ack: &Ack) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO acks (service, until, by, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (service) DO UPDATE SET until = excluded.until, by = excluded.by,
            note = excluded.note, created_at = excluded.created_at",
        params![service, ack.until, ack.by, ack.note, ack.created_at],
    )?;
    Ok(())
}

/// Why the ack link (its token's digest) for `service`'s incident that began at
/// `incident_at` can no longer act, if so: used, or the incident is over.
fn dead_link(
    conn: &Connection,
    token: &str,
    service: &str,
    incident_at: i64,
) -> rusqlite::Result<Option<LinkUse>> {
    let used = conn
        .prepare_cached("SELECT 1 FROM ack_links_used WHERE token = ?1")?
        .exists([token])?;
    if used {
        return Ok(Some(LinkUse::Used));
    }
    let ongoing = super::run::service(conn, service)?.is_some_and(|s| {
        s.status != crate::core::Status::Passing && s.memory.incident_at == Some(incident_at)
    });
    Ok((!ongoing).then_some(LinkUse::Over))
}

impl Store {
    /// `Some(Used)` or `Some(Over)` when the ack link could no longer act; `None` when it
    /// still could. Reads only: for the page a GET shows.
    pub fn ack_link_state(
        &self,
        token: &str,
        service: &str,
        incident_at: i64,
    ) -> rusqlite::Result<Option<LinkUse>> {
        dead_link(&self.conn, token, service, incident_at)
    }

    /// Acknowledges `service`'s incident that began at `incident_at` with `ack`, through
    /// the ack link whose token's digest is `token`, unless the link was used or the
    /// incident is over: one transaction, so a link used twice at once acts once.
    pub fn use_ack_link(
        &mut self,
        token: &str,
        service: &str,
        incident_at: i64,
        expires_at: i64,
        ack: &Ack,
        tell: &[&str],
    ) -> rusqlite::Result<LinkUse> {
        self.immediate(|conn| {
            conn.execute(
                "DELETE FROM ack_links_used WHERE expires_at < ?1",
                [ack.created_at],
            )?;
            if let Some(dead) = dead_link(conn, token, service, incident_at)? {
                return Ok(dead);
            }
            if let Some(held) = acks(conn)?.remove(service)
                && crate::core::quiet::in_force(held.until, ack.created_at)
            {
                return Ok(LinkUse::AlreadyAcked(held.by));
            }
            conn.execute(
                "INSERT INTO ack_links_used (token, service, by, used_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![token, service, ack.by, ack.created_at, expires_at],
            )?;
            save_ack(conn, service, ack)?;
            queue_ack(conn, service, ack, tell)?;
            Ok(LinkUse::Acked)
        })
    }
}
