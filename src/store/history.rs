//! Reading history back: a service's status changes, a check's results, the alerts sent.

use rusqlite::params;

use super::Store;
use crate::core::Status;

impl Store {
    /// A service's status changes from `from` on, with the one before `from` first (the
    /// status the range starts in), oldest first.
    pub fn service_changes(
        &self,
        service: &str,
        from: i64,
    ) -> rusqlite::Result<Vec<(i64, Status)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, status FROM (
                SELECT id, at, status FROM service_history WHERE service = ?1 AND at < ?2
                ORDER BY at DESC, id DESC LIMIT 1)
             UNION ALL
             SELECT at, status FROM service_history WHERE service = ?1 AND at >= ?2
             ORDER BY 1",
        )?;
        let rows = stmt.query_map(params![service, from], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    /// A check's results from `from` on, oldest first: (time, passed).
    pub fn check_results(
        &self,
        service: &str,
        check: &str,
        from: i64,
    ) -> rusqlite::Result<Vec<(i64, bool)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT r.at, r.ok FROM results r JOIN checks c ON c.id = r.check_id
             WHERE c.service = ?1 AND c.name = ?2 AND r.at >= ?3 ORDER BY r.id",
        )?;
        let rows = stmt.query_map(params![service, check, from], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        rows.collect()
    }

    /// How many failure alerts (new, escalations, repeats) for a service in `[from, to]`
    /// reached someone.
    pub fn failure_alerts_between(
        &self,
        service: &str,
        from: i64,
        to: i64,
    ) -> rusqlite::Result<i64> {
        self.conn.query_row(
            "SELECT count(*) FROM alerts a WHERE a.service = ?1 AND a.kind IN ('alert', 'repeat')
             AND a.created_at >= ?2 AND a.created_at <= ?3
             AND EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = a.id AND d.state = 'delivered')",
            params![service, from, to],
            |r| r.get(0),
        )
    }
}

impl Store {
    /// The last ping of a heartbeat check.
    pub fn last_ping(
        &self,
        service: &str,
        check: &str,
    ) -> rusqlite::Result<Option<crate::checks::heartbeat::Ping>> {
        use rusqlite::OptionalExtension;
        self.conn
            .query_row(
                "SELECT at, ok, message FROM pings WHERE service = ?1 AND check_name = ?2
                 ORDER BY id DESC LIMIT 1",
                params![service, check],
                |r| {
                    Ok(crate::checks::heartbeat::Ping {
                        at: r.get(0)?,
                        ok: r.get(1)?,
                        message: r.get(2)?,
                    })
                },
            )
            .optional()
    }

    /// Records a ping. `source` is `cli` or the HTTP client's address.
    pub fn record_ping(
        &mut self,
        service: &str,
        check: &str,
        at: i64,
        ok: bool,
        message: Option<&str>,
        source: &str,
    ) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO pings (service, check_name, at, ok, message, source) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![service, check, at, ok, message, source],
        )?;
        Ok(())
    }
}
