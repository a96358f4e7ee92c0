//! What the state keeps for the pair: the peer's last document, and what this node tells
//! its peer of its own deliveries and overrides.

use rusqlite::{OptionalExtension, params};

use super::Store;
use crate::alerts::policy::RepeatIntervals;
use crate::core::Status;
use crate::peer::{Ack, Delivery, Document, Override, Silence};

/// The peer's document as last pulled, and the last try.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PeerPull {
    pub tried_at: i64,
    pub pulled_at: Option<i64>,
    pub document: Option<Document>,
    pub problem: Option<String>,
    /// When the witness was last reached, and whether it then saw the primary running.
    pub witness_at: Option<i64>,
    pub witness_running: Option<bool>,
}

impl PeerPull {
    /// What stands for a peer no run has asked yet.
    pub fn not_yet(now: i64) -> PeerPull {
        PeerPull {
            tried_at: now,
            problem: Some("not pulled yet (`cabot run` pulls it)".into()),
            ..PeerPull::default()
        }
    }
}

impl Store {
    /// The names of each service's failing checks (active ones), by service.
    pub fn failing_check_names(
        &self,
    ) -> rusqlite::Result<std::collections::HashMap<String, Vec<String>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT service, name FROM checks WHERE active = 1 AND failing = 1 ORDER BY id",
        )?;
        let mut failing = std::collections::HashMap::<String, Vec<String>>::new();
        for row in stmt.query_map([], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))? {
            let (service, check) = row?;
            failing.entry(service).or_default().push(check);
        }
        Ok(failing)
    }

    /// This node's deliveries of alerts decided since `since`, newest first, at most `max`.
    pub fn peer_log(&self, since: i64, max: usize) -> rusqlite::Result<Vec<Delivery>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT d.key, a.incident, a.service, a.kind, a.status, a.created_at, d.state,
                    CASE WHEN d.state = 'delivered' THEN d.done_at END, d.channel, d.recipient
             FROM deliveries d JOIN alerts a ON a.id = d.alert_id
             WHERE a.created_at >= ?1 ORDER BY d.id DESC LIMIT ?2",
        )?;
        let rows = stmt.query_map(params![since, max as i64], |r| {
            Ok(Delivery {
                key: r.get(0)?,
                incident: r.get::<_, Option<String>>(1)?.unwrap_or_default(),
                service: r.get(2)?,
                kind: r.get(3)?,
                status: r.get(4)?,
                decided_at: r.get(5)?,
                state: r.get(6)?,
                delivered_at: r.get(7)?,
                channel: r.get(8)?,
                recipient: r.get(9)?,
            })
        })?;
        rows.collect()
    }

    /// The run before the last, if any.
    pub fn run_before_last(&self) -> rusqlite::Result<Option<crate::peer::LastRun>> {
        self.conn
            .query_row(
                "SELECT started_at, finished_at FROM runs ORDER BY id DESC LIMIT 1 OFFSET 1",
                [],
                |r| {
                    Ok(crate::peer::LastRun {
                        started_at: r.get(0)?,
                        finished_at: r.get(1)?,
                    })
                },
            )
            .optional()
    }

    /// The on-call overrides that end after `since`, with their ids.
    pub fn peer_overrides(&self, since: i64) -> rusqlite::Result<Vec<Override>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, rota, user, start, until, by, created_at FROM oncall_overrides
             WHERE until > ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok(Override {
                id: r.get(0)?,
                rota: r.get(1)?,
                user: r.get(2)?,
                start: r.get(3)?,
                until: r.get(4)?,
                by: r.get(5)?,
                at: r.get(6)?,
            })
        })?;
        rows.collect()
    }

    /// The acks made or ended since `since`, in force or not, by service.
    pub fn peer_acks(&self, since: i64) -> rusqlite::Result<Vec<Ack>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT service, created_at, until, by, note FROM acks
             WHERE created_at >= ?1 OR until > ?1 ORDER BY service",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok(Ack {
                service: r.get(0)?,
                at: r.get(1)?,
                until: r.get(2)?,
                by: r.get(3)?,
                note: r.get(4)?,
            })
        })?;
        rows.collect()
    }

    /// The silences made or ended since `since`, in force or not, by service.
    pub fn peer_silences(&self, since: i64) -> rusqlite::Result<Vec<Silence>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT service, created_at, until, by FROM silences
             WHERE created_at >= ?1 OR until > ?1 ORDER BY service",
        )?;
        let rows = stmt.query_map([since], |r| {
            Ok(Silence {
                service: r.get(0)?,
                at: r.get(1)?,
                until: r.get(2)?,
                by: r.get(3)?,
            })
        })?;
        rows.collect()
    }

    /// Takes the peer's acks, silences and on-call overrides: an ack or silence newer
    /// than this node's (made or ended later) replaces it; an override this node does not
    /// have is added, and one it has ends at the sooner of the two ends (a cancel only ever
    /// shortens one). An ack is taken only while this node sees the service fail, and not
    /// for a failure that began after it. Returns how many changed.
    pub fn merge_from_peer(&mut self, doc: &Document) -> rusqlite::Result<usize> {
        let tx = self.conn.transaction()?;
        let mut changed = 0;
        for a in &doc.acks {
            let failing: Option<(Option<i64>, String)> = tx
                .query_row(
                    "SELECT incident_at, status FROM services WHERE name = ?1",
                    [&a.service],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            let Some((incident_at, status)) = failing else {
                continue;
            };
            let ended = a.until <= a.at;
            if status == "PASSING" && !ended {
                continue;
            }
            if incident_at.is_some_and(|began| began > a.at) && !ended {
                continue;
            }
            changed += tx.execute(
                "INSERT INTO acks (service, until, by, note, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (service) DO UPDATE SET until = excluded.until, by = excluded.by,
                    note = excluded.note, created_at = excluded.created_at
                 WHERE excluded.created_at > acks.created_at",
                params![a.service, a.until, a.by, a.note, a.at],
            )?;
        }
        for s in &doc.silences {
            changed += tx.execute(
                "INSERT INTO silences (service, until, by, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (service) DO UPDATE SET until = excluded.until, by = excluded.by,
                    created_at = excluded.created_at
                 WHERE excluded.created_at > silences.created_at",
                params![s.service, s.until, s.by, s.at],
            )?;
        }
        for o in &doc.overrides {
            let mine: Option<(i64, i64)> = tx
                .query_row(
                    "SELECT id, until FROM oncall_overrides
                     WHERE rota = ?1 AND user = ?2 AND created_at = ?3",
                    params![o.rota, o.user, o.at],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?;
            changed += match mine {
                None => tx.execute(
                    "INSERT INTO oncall_overrides (rota, user, start, until, by, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![o.rota, o.user, o.start, o.until, o.by, o.at],
                )?,
                Some((id, until)) if o.until < until => tx.execute(
                    "UPDATE oncall_overrides SET until = ?2, start = min(start, ?2) WHERE id = ?1",
                    params![id, o.until],
                )?,
                Some(_) => 0,
            };
        }
        tx.commit()?;
        Ok(changed)
    }

    /// `supersede_delivered_by_peer`, in a transaction of its own.
    pub fn supersede_delivered_by_peer(
        &mut self,
        delivered: &[Delivery],
        repeat: &RepeatIntervals,
        now: i64,
    ) -> rusqlite::Result<usize> {
        if delivered.is_empty() {
            return Ok(0);
        }
        let tx = self.conn.transaction()?;
        let marked = supersede_delivered_by_peer(&tx, delivered, repeat, now)?;
        tx.commit()?;
        Ok(marked)
    }

    /// Keeps a pull: a document replaces the one kept; a failure keeps the last document
    /// and says why.
    pub fn save_peer_pull(
        &mut self,
        tried_at: i64,
        pulled: &Result<Document, String>,
        witness: Option<&Result<bool, String>>,
    ) -> rusqlite::Result<()> {
        self.save_pull(tried_at, pulled)?;
        if let Some(Ok(running)) = witness {
            self.conn.execute(
                "UPDATE peer_pull SET witness_at = ?1, witness_running = ?2 WHERE id = 1",
                params![tried_at, running],
            )?;
        }
        Ok(())
    }

    fn save_pull(
        &mut self,
        tried_at: i64,
        pulled: &Result<Document, String>,
    ) -> rusqlite::Result<()> {
        match pulled {
            Ok(doc) => {
                let text = serde_json::to_string(doc).unwrap_or_default();
                self.conn.execute(
                    "INSERT OR REPLACE INTO peer_pull (id, tried_at, pulled_at, document, problem)
                     VALUES (1, ?1, ?1, ?2, NULL)",
                    params![tried_at, text],
                )?;
            }
            Err(why) => {
                self.conn.execute(
                    "INSERT INTO peer_pull (id, tried_at, problem) VALUES (1, ?1, ?2)
                     ON CONFLICT (id) DO UPDATE SET tried_at = ?1, problem = ?2",
                    params![tried_at, why],
                )?;
            }
        }
        Ok(())
    }

    /// Says once that the peer is down (since `down`'s time) and once that it is back:
    /// the alert to write, if any, with the state's memory of it updated in the same
    /// transaction.
    pub fn peer_down_or_back(
        &mut self,
        down: Option<(&str, i64)>,
        alert: impl FnOnce(&str, bool, i64) -> crate::store::outbox::NewAlert,
    ) -> rusqlite::Result<bool> {
        self.immediate(|conn| {
            let said: Option<Option<i64>> = conn
                .query_row("SELECT down_since FROM peer_pull WHERE id = 1", [], |r| {
                    r.get(0)
                })
                .optional()?;
            let Some(said) = said else {
                return Ok(false);
            };
            let new = match (down, said) {
                (Some((name, since)), None) => {
                    conn.execute("UPDATE peer_pull SET down_since = ?1 WHERE id = 1", [since])?;
                    Some(alert(name, true, since))
                }
                (None, Some(since)) => {
                    conn.execute("UPDATE peer_pull SET down_since = NULL WHERE id = 1", [])?;
                    let name = conn
                        .query_row("SELECT document FROM peer_pull WHERE id = 1", [], |r| {
                            r.get::<_, Option<String>>(0)
                        })?
                        .and_then(|d| serde_json::from_str::<Document>(&d).ok())
                        .map(|d| d.node)
                        .unwrap_or_default();
                    Some(alert(&name, false, since))
                }
                _ => None,
            };
            match new {
                Some(a) => {
                    crate::store::outbox::insert_alerts(conn, &[a])?;
                    Ok(true)
                }
                None => Ok(false),
            }
        })
    }

    /// The peer's last pull, if any.
    pub fn peer_pull(&self) -> rusqlite::Result<Option<PeerPull>> {
        self.conn
            .query_row(
                "SELECT tried_at, pulled_at, document, problem, witness_at, witness_running
                 FROM peer_pull WHERE id = 1",
                [],
                |r| {
                    let document: Option<String> = r.get(2)?;
                    Ok(PeerPull {
                        tried_at: r.get(0)?,
                        pulled_at: r.get(1)?,
                        document: document.and_then(|d| serde_json::from_str(&d).ok()),
                        problem: r.get(3)?,
                        witness_at: r.get(4)?,
                        witness_running: r.get(5)?,
                    })
                },
            )
            .optional()
    }
}

/// Marks this node's pending deliveries that the peer delivered already (the same
/// incident, kind and status, to the same channel and recipient) as superseded, in the
/// caller's transaction: they are not sent again.
pub fn supersede_delivered_by_peer(
    conn: &rusqlite::Connection,
    delivered: &[Delivery],
    repeat: &RepeatIntervals,
    now: i64,
) -> rusqlite::Result<usize> {
    if delivered.is_empty() {
        return Ok(0);
    }
    // The same decision on both nodes is apart by less than a repeat interval (by the
    // time between their runs); two repeats of one node are a whole interval apart, so
    // the peer's old repeat does not cover a new one of this node's after a takeover.
    let mut stmt = conn.prepare_cached(
        "UPDATE deliveries SET state = 'superseded', done_at = ?1,
            last_error = 'delivered by the peer'
         WHERE state = 'pending' AND channel = ?2 AND recipient = ?3
           AND alert_id IN (SELECT id FROM alerts
                            WHERE incident = ?4 AND kind = ?5 AND status = ?6
                              AND abs(created_at - ?7) < ?8)",
    )?;
    let mut marked = 0;
    for d in delivered {
        let status = d.status.parse().unwrap_or(Status::Critical);
        let window = repeat.for_status(status).as_secs() as i64;
        marked += stmt.execute(params![
            now,
            d.channel,
            d.recipient,
            d.incident,
            d.kind,
            d.status,
            d.decided_at,
            window
        ])?;
    }
    Ok(marked)
}
