//! Reading history back: a service's status changes, a check's results, the alerts sent.

use std::collections::HashMap;

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
            "SELECT id, at, status FROM (
                SELECT id, at, status FROM service_history WHERE service = ?1 AND at < ?2
                ORDER BY at DESC, id DESC LIMIT 1)
             UNION ALL
             SELECT id, at, status FROM service_history WHERE service = ?1 AND at >= ?2
             ORDER BY at, id",
        )?;
        let rows = stmt.query_map(params![service, from], |r| Ok((r.get(1)?, r.get(2)?)))?;
        rows.collect()
    }

    /// Every service's status changes from `from` on, each with the one before `from`
    /// first, oldest first: `service_changes` for all services in one read.
    pub fn all_service_changes(
        &self,
        from: i64,
    ) -> rusqlite::Result<HashMap<String, Vec<(i64, Status)>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT service, at, status, id FROM (
                SELECT service, at, status, id,
                       row_number() OVER (PARTITION BY service ORDER BY at DESC, id DESC) AS newest
                FROM service_history WHERE at < ?1)
             WHERE newest = 1
             UNION ALL
             SELECT service, at, status, id FROM service_history WHERE at >= ?1
             ORDER BY 1, 2, 4",
        )?;
        let mut rows = stmt.query([from])?;
        let mut out: HashMap<String, Vec<(i64, Status)>> = HashMap::new();
        let mut current: Option<(String, Vec<(i64, Status)>)> = None;
        while let Some(r) = rows.next()? {
            let service = r.get_ref(0)?.as_str()?;
            let change = (r.get(1)?, r.get(2)?);
            match &mut current {
                Some((name, changes)) if name == service => changes.push(change),
                _ => {
                    if let Some((name, changes)) = current.take() {
                        out.insert(name, changes);
                    }
                    current = Some((service.to_string(), vec![change]));
                }
            }
        }
        if let Some((name, changes)) = current {
            out.insert(name, changes);
        }
        Ok(out)
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
    /// Whether the service's history marks a failure from `from` to `to` unconfirmed by the
    /// peer (`confirm: peer`).
    pub fn unconfirmed_between(&self, service: &str, from: i64, to: i64) -> rusqlite::Result<bool> {
        self.conn.query_row(
            "SELECT EXISTS (SELECT 1 FROM service_history
                            WHERE service = ?1 AND at >= ?2 AND at <= ?3 AND unconfirmed = 1)",
            params![service, from, to],
            |r| r.get(0),
        )
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_services_changes_are_each_services_changes() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path, None).unwrap();
        let rows: &[(&str, i64, Status)] = &[
            ("web", 100, Status::Passing),
            ("web", 200, Status::Error),
            ("web", 300, Status::Passing),
            ("db", 150, Status::Critical),
            ("db", 400, Status::Passing),
            ("db", 400, Status::Warning),
            ("old", 50, Status::Warning),
            ("cache", 500, Status::Error),
        ];
        for (service, at, status) in rows {
            store
                .conn
                .execute(
                    "INSERT INTO service_history (service, at, status) VALUES (?1, ?2, ?3)",
                    params![service, at, status.as_str()],
                )
                .unwrap();
        }
        let all = store.all_service_changes(250).unwrap();
        assert_eq!(all.len(), 4);
        for service in ["web", "db", "old", "cache"] {
            assert_eq!(
                all[service],
                store.service_changes(service, 250).unwrap(),
                "{service}"
            );
        }
        assert_eq!(
            all["web"],
            vec![(200, Status::Error), (300, Status::Passing)]
        );
        assert_eq!(all["old"], vec![(50, Status::Warning)]);
    }

    #[test]
    fn a_change_stamped_before_the_last_by_a_run_with_a_slower_clock_keeps_its_order() {
        // Two runs alive at once: one saw the service pass at 200; the other, whose clock
        // reads up to a second behind, then saw it go CRITICAL and stamped that 199.
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state.db");
        let store = Store::open(&path, None).unwrap();
        let save = |status: Status, since: i64| {
            let row = crate::store::ServiceRow {
                name: "web".into(),
                status,
                since,
                active: true,
                memory: Default::default(),
            };
            crate::store::run::save_service(&store.conn, &row, false).unwrap();
        };
        save(Status::Passing, 50);
        save(Status::Error, 100);
        save(Status::Passing, 200);
        save(Status::Critical, 199);
        let changes = store.service_changes("web", 0).unwrap();
        assert_eq!(
            changes,
            [
                (50, Status::Passing),
                (100, Status::Error),
                (200, Status::Passing),
                (200, Status::Critical)
            ]
        );
        let (incidents, _, _) = crate::core::history::service_incidents(&changes, 0, 300);
        let worst: Vec<(i64, Option<i64>, Status)> = incidents
            .iter()
            .map(|i| (i.start, i.end, i.worst))
            .collect();
        assert_eq!(
            worst,
            [
                (100, Some(200), Status::Error),
                (200, None, Status::Critical)
            ],
            "the ERROR incident stays ERROR; the CRITICAL one is its own"
        );
        assert_eq!(store.all_service_changes(0).unwrap()["web"], changes);
    }
}
