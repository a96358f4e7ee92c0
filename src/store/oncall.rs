//! What the state keeps for rotas beside their overrides: each calendar's last good copy
//! and its last attempt.

use std::collections::HashMap;

use rusqlite::{OptionalExtension, params};

use super::Store;

/// A calendar rota's row: the last good copy (if any) and the last attempt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CalendarCopy {
    pub rota: String,
    /// A digest of where it came from.
    pub source: String,
    pub body: Option<String>,
    pub read_at: Option<i64>,
    pub tried_at: i64,
    pub problem: Option<String>,
}

impl Store {
    /// Every calendar's row, by rota.
    pub fn calendars(&self) -> rusqlite::Result<HashMap<String, CalendarCopy>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rota, source, body, read_at, tried_at, problem FROM oncall_calendars",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok(CalendarCopy {
                rota: r.get(0)?,
                source: r.get(1)?,
                body: r.get(2)?,
                read_at: r.get(3)?,
                tried_at: r.get(4)?,
                problem: r.get(5)?,
            })
        })?;
        rows.map(|row| row.map(|c| (c.rota.clone(), c))).collect()
    }

    /// Keeps an attempt: a good copy replaces the one kept; a failed attempt keeps the
    /// copy (of the same source) and records why.
    pub fn save_calendar(&mut self, c: &CalendarCopy) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        let kept: Option<String> = tx
            .query_row(
                "SELECT source FROM oncall_calendars WHERE rota = ?1",
                [&c.rota],
                |r| r.get(0),
            )
            .optional()?;
        if c.body.is_some() || kept.as_deref() != Some(c.source.as_str()) {
            tx.execute(
                "INSERT OR REPLACE INTO oncall_calendars
                 (rota, source, body, read_at, tried_at, problem)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![c.rota, c.source, c.body, c.read_at, c.tried_at, c.problem],
            )?;
        } else {
            tx.execute(
                "UPDATE oncall_calendars SET tried_at = ?2, problem = ?3 WHERE rota = ?1",
                params![c.rota, c.tried_at, c.problem],
            )?;
        }
        tx.commit()
    }
}
