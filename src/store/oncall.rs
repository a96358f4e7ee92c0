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
    /// The copy expanded, as of when it was last expanded.
    pub shifts: Option<KeptShifts>,
}

/// A calendar copy's occurrences over `[from, to)`, and what else they depended on
/// (`context`: the users, the rota's zone, the expander's version).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct KeptShifts {
    pub context: String,
    pub from: i64,
    pub to: i64,
    pub occurrences: Vec<crate::core::ical::Occurrence>,
    pub warnings: Vec<String>,
    /// How many events the calendar holds.
    #[serde(default)]
    pub events: usize,
}

impl KeptShifts {
    /// Whether these serve a command that looks at `[from, to)` in `context`.
    pub fn serve(&self, context: &str, from: i64, to: i64) -> bool {
        self.context == context && self.from <= from && to <= self.to
    }
}

fn shifts_text(shifts: Option<&KeptShifts>) -> Option<String> {
    shifts.and_then(|s| serde_json::to_string(s).ok())
}

impl Store {
    /// Every calendar's row, by rota.
    pub fn calendars(&self) -> rusqlite::Result<HashMap<String, CalendarCopy>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT rota, source, body, read_at, tried_at, problem, shifts FROM oncall_calendars",
        )?;
        let rows = stmt.query_map([], |r| {
            // Shifts that cannot be read are expanded again.
            let shifts: Option<String> = r.get(6)?;
            Ok(CalendarCopy {
                rota: r.get(0)?,
                source: r.get(1)?,
                body: r.get(2)?,
                read_at: r.get(3)?,
                tried_at: r.get(4)?,
                problem: r.get(5)?,
                shifts: shifts.and_then(|s| serde_json::from_str(&s).ok()),
            })
        })?;
        rows.map(|row| row.map(|c| (c.rota.clone(), c))).collect()
    }

    /// Keeps an attempt: a good copy replaces the one kept; a failed attempt keeps the
    /// copy (of the same source) and records why, and the copy's shifts if it has them.
    pub fn save_calendar(&mut self, c: &CalendarCopy) -> rusqlite::Result<()> {
        let shifts = shifts_text(c.shifts.as_ref());
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
                 (rota, source, body, read_at, tried_at, problem, shifts)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![
                    c.rota, c.source, c.body, c.read_at, c.tried_at, c.problem, shifts
                ],
            )?;
        } else {
            tx.execute(
                "UPDATE oncall_calendars SET tried_at = ?2, problem = ?3,
                    shifts = coalesce(?4, shifts) WHERE rota = ?1",
                params![c.rota, c.tried_at, c.problem, shifts],
            )?;
        }
        tx.commit()
    }
}
