//! The schema as numbered steps, tracked in `PRAGMA user_version`.

/// One schema step; `version` is the schema it leaves the database at.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub version: u32,
    pub name: &'static str,
    pub sql: &'static str,
}

pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "initial",
        sql: include_str!("0001_initial.sql"),
    },
    Migration {
        version: 2,
        name: "current state beside each check",
        sql: include_str!("0002_current_state.sql"),
    },
    Migration {
        version: 3,
        name: "alerts: outbox, deliveries, attempts, acks, silences",
        sql: include_str!("0003_alerts.sql"),
    },
    Migration {
        version: 4,
        name: "service status history",
        sql: include_str!("0004_service_history.sql"),
    },
    Migration {
        version: 5,
        name: "result importance and perfdata, heartbeat pings",
        sql: include_str!("0005_nagios_and_pings.sql"),
    },
    Migration {
        version: 6,
        name: "leases on checks and deliveries, for overlapping runs",
        sql: include_str!("0006_claims.sql"),
    },
    Migration {
        version: 7,
        name: "incident ids",
        sql: include_str!("0007_incidents.sql"),
    },
    Migration {
        version: 8,
        name: "escalation steps reached",
        sql: include_str!("0008_escalation.sql"),
    },
    Migration {
        version: 9,
        name: "on-call overrides",
        sql: include_str!("0009_oncall_overrides.sql"),
    },
    Migration {
        version: 10,
        name: "cached calendars, used ack links",
        sql: include_str!("0010_calendars_and_ack_links.sql"),
    },
    Migration {
        version: 11,
        name: "deliveries in order, paced, with keys of their own",
        sql: include_str!("0011_ordered_deliveries.sql"),
    },
    Migration {
        version: 12,
        name: "when each check was added",
        sql: include_str!("0012_check_added.sql"),
    },
    Migration {
        version: 13,
        name: "calendars kept expanded",
        sql: include_str!("0013_calendar_shifts.sql"),
    },
    Migration {
        version: 14,
        name: "what the peer last said",
        sql: include_str!("0014_peer.sql"),
    },
    Migration {
        version: 15,
        name: "failures the peer did not confirm",
        sql: include_str!("0015_unconfirmed.sql"),
    },
    Migration {
        version: 16,
        name: "passes in a row, flapping, inconclusive results while the network is down",
        sql: include_str!("0016_recovery.sql"),
    },
    Migration {
        version: 17,
        name: "what checks remember between runs (RDAP lookups)",
        sql: include_str!("0017_check_memory.sql"),
    },
    Migration {
        version: 18,
        name: "incident posts and dated maintenance for the status page",
        sql: include_str!("0018_status_posts.sql"),
    },
    // Only in the build that the Debian package's upgrade test installs over this one.
    #[cfg(feature = "upgrade-test-step")]
    Migration {
        version: 19,
        name: "a step for the package's upgrade test",
        sql: "CREATE TABLE upgrade_test_step (id INTEGER PRIMARY KEY);",
    },
];

/// The schema this build of cabot reads and writes.
pub fn latest() -> u32 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// Applies the steps after `from` up to `to`, each in its own transaction.
pub fn apply(conn: &mut rusqlite::Connection, from: u32, to: u32) -> rusqlite::Result<()> {
    for m in MIGRATIONS
        .iter()
        .filter(|m| m.version > from && m.version <= to)
    {
        let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        tx.execute_batch(m.sql)?;
        tx.pragma_update(None, "user_version", m.version)?;
        tx.commit()?;
    }
    Ok(())
}

/// Creates the newest schema in an empty database, all in one transaction, so that a
/// process killed half way leaves an empty file rather than an old schema.
pub fn create(conn: &mut rusqlite::Connection) -> rusqlite::Result<()> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
    // Another process may have created it since we looked.
    let tables: i64 = tx.query_row("SELECT count(*) FROM sqlite_master", [], |r| r.get(0))?;
    if tables > 0 {
        return Ok(());
    }
    for m in MIGRATIONS {
        tx.execute_batch(m.sql)?;
    }
    tx.pragma_update(None, "user_version", latest())?;
    tx.commit()
}
