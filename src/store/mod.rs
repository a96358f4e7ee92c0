//! The state: one SQLite file in WAL mode, written in short IMMEDIATE transactions.

pub mod backup;
pub mod history;
pub mod migrations;
pub mod oncall;
pub mod outbox;
pub mod peer;
pub mod posts;
pub mod run;

use std::collections::HashMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ValueRef};
use rusqlite::{Connection, OpenFlags, OptionalExtension, params};

use crate::alerts::policy::Memory;
use crate::checks::perfdata::Perfdata;
use crate::core::{Importance, Status};
use crate::exit_codes::{Exit, ExitCode};

const BUSY_TIMEOUT: Duration = Duration::from_secs(5);
/// What checks remember is forgotten when none has written it for this long (seconds).
const FORGET_MEMORY: i64 = 90 * 86_400;

/// An open state database at the schema this cabot expects.
pub struct Store {
    conn: Connection,
}

/// The size past which a run empties the write-ahead log after it (see `Store::checkpoint`).
pub const WAL_BOUND: u64 = 16 * 1024 * 1024;

/// A check's current state, as kept beside it.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckRow {
    pub service: String,
    pub name: String,
    pub kind: String,
    pub importance: Importance,
    pub consecutive_failures: u64,
    pub failing: bool,
    pub status_since: Option<i64>,
    pub last_run_at: Option<i64>,
    pub last: Option<LastResult>,
    pub active: bool,
    /// While failing: the importance it fails at, when less than `importance`.
    pub failing_importance: Option<Importance>,
}

impl CheckRow {
    /// The importance this check's failure gives its service.
    pub fn effective_importance(&self) -> Importance {
        self.failing_importance
            .map_or(self.importance, |i| i.min(self.importance))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct LastResult {
    pub ok: bool,
    pub message: String,
    pub duration_ms: i64,
    pub perfdata: Option<Perfdata>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ServiceRow {
    pub name: String,
    pub status: Status,
    pub since: i64,
    pub active: bool,
    /// What the alert policy remembers of the current incident.
    pub memory: Memory,
}

/// The services the state knows, in name order: found by name without a map of copies
/// of their names.
#[derive(Debug, Default)]
pub struct Services(Vec<ServiceRow>);

impl Services {
    pub fn get(&self, name: &str) -> Option<&ServiceRow> {
        let i = self
            .0
            .binary_search_by(|s| s.name.as_str().cmp(name))
            .ok()?;
        Some(&self.0[i])
    }

    pub fn contains_key(&self, name: &str) -> bool {
        self.get(name).is_some()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ServiceRow> {
        self.0.iter()
    }

    pub fn into_vec(self) -> Vec<ServiceRow> {
        self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RunRow {
    pub started_at: i64,
    pub finished_at: i64,
    pub checks_run: i64,
    pub failures: i64,
}

/// A status as stored; text that is no status is an error, never PASSING.
impl FromSql for Status {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Status> {
        value
            .as_str()?
            .parse()
            .map_err(|e: String| FromSqlError::Other(e.into()))
    }
}

/// An importance as stored; text that is no importance is an error.
impl FromSql for Importance {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Importance> {
        value
            .as_str()?
            .parse()
            .map_err(|e: String| FromSqlError::Other(e.into()))
    }
}

/// The schema a state file is at, as `migrate` sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Schema {
    Missing,
    At(u32),
}

fn io_error(path: &Path, what: &str, e: impl std::fmt::Display) -> anyhow::Error {
    Exit::error(
        ExitCode::StateIo,
        format!("state database {}: {what}: {e}", path.display()),
    )
}

/// A `services` row: name, status, since, active, last_alert_at, last_alert_status,
/// incident_at, incident_worst, escalation_steps (`SERVICE_COLUMNS`).
pub(crate) const SERVICE_COLUMNS: &str = "name, status, since, active, last_alert_at, last_alert_status, incident_at, incident_worst, escalation_steps";

pub(crate) fn service_row(r: &rusqlite::Row) -> rusqlite::Result<ServiceRow> {
    Ok(ServiceRow {
        name: r.get(0)?,
        status: r.get(1)?,
        since: r.get(2)?,
        active: r.get(3)?,
        memory: Memory {
            last_alert_at: r.get(4)?,
            last_alert_status: r.get(5)?,
            incident_at: r.get(6)?,
            incident_worst: r.get(7)?,
            steps_fired: r.get::<_, i64>(8)?.clamp(0, i64::from(u32::MAX)) as u32,
        },
    })
}

/// What the state keeps in place of something secret (an ack link's token, a private
/// calendar's address): its SHA-256, which matches the same text again and gives nothing
/// of it away.
pub fn secret_digest(text: &str) -> String {
    use base64::Engine as _;
    let d = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(d.as_ref())
}

/// An SQLite failure on the state, said in words that point at the fix.
pub fn failure(path: &Path, what: &str, e: rusqlite::Error) -> anyhow::Error {
    use rusqlite::ErrorCode::*;
    match e.sqlite_error_code() {
        Some(NotADatabase) => io_error(
            path,
            "not a cabot database (corrupt?); move it aside or restore a backup",
            e,
        ),
        Some(DiskFull) => io_error(path, &format!("{what}: the disk is full"), e),
        Some(SystemIoFailure) if disk_full(path) => {
            io_error(path, &format!("{what}: the disk is full"), e)
        }
        Some(ReadOnly) => read_only(path, what),
        _ => io_error(path, what, e),
    }
}

/// The state cannot be written: says which file (or the folder) this user may not write,
/// and what to do about it.
fn read_only(path: &Path, what: &str) -> anyhow::Error {
    let with = |suffix: &str| {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        std::path::PathBuf::from(p)
    };
    let folder = match path.parent() {
        Some(p) if p.as_os_str().is_empty() => Path::new("."),
        Some(p) => p,
        None => Path::new("/"),
    };
    let advice = if !may_write(path) {
        "the file is read-only for the user cabot runs as; check its owner and permissions"
            .to_string()
    } else if let Some(part) = [with("-wal"), with("-shm")]
        .into_iter()
        .find(|p| p.exists() && !may_write(p))
    {
        format!(
            "{} is read-only for the user cabot runs as (SQLite makes it with the database's \
             permissions, so it stays read-only after a `chmod` of the database alone): \
             make it writable (`chmod u+w {}`, or give it to the user cabot runs as)",
            part.display(),
            part.display()
        )
    } else if !may_write(folder) {
        format!(
            "its folder {} is read-only for the user cabot runs as, and SQLite writes its \
             journal there; check the folder's owner and permissions",
            folder.display()
        )
    } else {
        "it is read-only; check the owner and permissions of the file, its -wal and -shm \
         files and its folder"
            .to_string()
    };
    io_error(path, &format!("{what}: it is read-only"), advice)
}

/// Whether this process (its effective user) may write `path`.
fn may_write(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let Ok(c) = std::ffi::CString::new(path.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: `c` is a NUL-terminated path that outlives the call.
    unsafe { libc::faccessat(libc::AT_FDCWD, c.as_ptr(), libc::W_OK, libc::AT_EACCESS) == 0 }
}

fn not_a_database(path: &Path, e: rusqlite::Error) -> anyhow::Error {
    failure(path, "cannot read", e)
}

/// Whether the file system holding `path` has (next to) no room left.
fn disk_full(path: &Path) -> bool {
    use std::os::unix::ffi::OsStrExt;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Ok(c_path) = std::ffi::CString::new(dir.as_os_str().as_bytes()) else {
        return false;
    };
    // SAFETY: an all-zero statvfs is a valid value for statvfs() to overwrite.
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: c_path is a valid NUL-terminated string and st a valid out pointer.
    if unsafe { libc::statvfs(c_path.as_ptr(), &mut st) } != 0 {
        return false;
    }
    (st.f_bavail as u64).saturating_mul(st.f_frsize as u64) < 64 * 1024
}

fn configure(conn: &Connection, path: &Path, write: bool) -> anyhow::Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| io_error(path, "cannot configure", e))?;
    if write {
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| not_a_database(path, e))?;
        conn.pragma_update(None, "synchronous", "NORMAL")
            .map_err(|e| io_error(path, "cannot configure", e))?;
    }
    Ok(())
}

fn user_version(conn: &Connection, path: &Path) -> anyhow::Result<u32> {
    // Reading the schema is the first real read: a file that is not SQLite fails here.
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map_err(|e| not_a_database(path, e))?;
    conn.pragma_query_value(None, "user_version", |r| r.get(0))
        .map_err(|e| not_a_database(path, e))
}

fn has_tables(conn: &Connection) -> rusqlite::Result<bool> {
    conn.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
        r.get::<_, i64>(0)
    })
    .map(|n| n > 0)
}

/// The line every command but `migrate` prints for a schema it cannot use.
pub fn schema_problem(path: &Path, found: u32, config: Option<&Path>) -> anyhow::Error {
    let want = migrations::latest();
    if found > want {
        let back = match backup::newest_at(path, want) {
            Some(b) => format!(
                "; or, to go back to this cabot, restore the backup taken before the upgrade: `cabot restore {}`",
                b.display(),
            ),
            None => String::new(),
        };
        Exit::error(
            ExitCode::Schema,
            format!(
                "state database {} is at schema {found}, made by a newer cabot (this one knows schema {want}); nothing was changed: upgrade cabot again{back}",
                path.display()
            ),
        )
    } else {
        let c = config
            .map(|c| format!(" -c {}", c.display()))
            .unwrap_or_default();
        Exit::error(
            ExitCode::Schema,
            format!(
                "state database {} is at schema {found}, this cabot needs schema {want}: run `cabot{c} migrate`",
                path.display()
            ),
        )
    }
}

/// Refuses a state path that is there but is no regular file: a FIFO would block the
/// open for ever, a directory or a device is no database.
fn regular_or_missing(path: &Path) -> anyhow::Result<()> {
    match std::fs::metadata(path) {
        Ok(m) if !m.is_file() => Err(io_error(
            path,
            "is not a regular file",
            "point `state:` at a file (it is created if missing)",
        )),
        _ => Ok(()),
    }
}

/// How many of the latest runs `stamped_ahead` looks at: a day of minutely runs.
const RUNS_LOOKED_AT: usize = 1440;

impl Store {
    /// Opens the state for writing, creating it at the newest schema if it does not exist.
    pub fn open(path: &Path, config: Option<&Path>) -> anyhow::Result<Store> {
        regular_or_missing(path)?;
        let existed = path.exists();
        let dir = path
            .parent()
            .filter(|d| !d.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        if !existed {
            std::fs::create_dir_all(dir)
                .map_err(|e| io_error(path, "cannot create its folder", e))?;
            // Made here, empty, for its mode: SQLite gives its WAL and shared-memory files
            // the mode of the database. Another run may have made it meanwhile.
            match std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .mode(backup::MODE)
                .open(path)
            {
                Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
                    return Err(io_error(path, "cannot create", e));
                }
                _ => {}
            }
        }
        // Runs that start together on a state not made yet make it one at a time: SQLite
        // refuses a second connection's switch to WAL while the first creates the schema.
        let _creating = match std::fs::metadata(path).map_or(true, |m| m.len() == 0) {
            true => {
                Some(creation_lock(dir).map_err(|e| io_error(path, "cannot lock its folder", e))?)
            }
            false => None,
        };
        let mut conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_WRITE
                | OpenFlags::SQLITE_OPEN_CREATE
                | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(path, "cannot open", e))?;
        // Before the first read: another run may be creating or writing the state.
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| io_error(path, "cannot configure", e))?;
        let version = user_version(&conn, path)?;
        if conn.is_readonly("main").unwrap_or(false) {
            return Err(read_only(path, "cannot write"));
        }
        let fresh = version == 0 && !has_tables(&conn).map_err(|e| not_a_database(path, e))?;
        if version != migrations::latest() && !fresh {
            return Err(schema_problem(path, version, config));
        }
        configure(&conn, path, true)?;
        if fresh {
            migrations::create(&mut conn)
                .map_err(|e| failure(path, "cannot create the schema", e))?;
        }
        Ok(Store { conn })
    }

    /// Opens the state for a hand-made change (`ack`, `silence`, `ping`): as `open`, and the
    /// file must pass SQLite's quick check, so nothing is written into a damaged state.
    pub fn open_checked(path: &Path, config: Option<&Path>) -> anyhow::Result<Store> {
        let store = Store::open(path, config)?;
        let verdict: String = store
            .conn
            .query_row("PRAGMA quick_check(1)", [], |r| r.get(0))
            .map_err(|e| not_a_database(path, e))?;
        if verdict != "ok" {
            return Err(io_error(
                path,
                "is damaged, nothing was written",
                format!(
                    "SQLite's quick check says: {verdict}; restore a backup (`migrate` leaves them beside it as *.schemaN-*.bak), or move the file away to start afresh"
                ),
            ));
        }
        Ok(store)
    }

    /// Opens the state for reading only; `None` when it does not exist yet.
    pub fn open_read_only(path: &Path, config: Option<&Path>) -> anyhow::Result<Option<Store>> {
        Store::open_read_only_waiting(path, config, BUSY_TIMEOUT)
    }

    /// `open_read_only`, waiting at most `busy` for a writer's lock.
    pub fn open_read_only_waiting(
        path: &Path,
        config: Option<&Path>,
        busy: Duration,
    ) -> anyhow::Result<Option<Store>> {
        if !path.exists() {
            return Ok(None);
        }
        regular_or_missing(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(path, "cannot open", e))?;
        configure(&conn, path, false)?;
        conn.busy_timeout(busy)
            .map_err(|e| io_error(path, "cannot configure", e))?;
        let version = user_version(&conn, path)?;
        if version == 0 && !has_tables(&conn).map_err(|e| not_a_database(path, e))? {
            return Ok(None);
        }
        if version != migrations::latest() {
            return Err(schema_problem(path, version, config));
        }
        Ok(Some(Store { conn }))
    }

    /// The schema of the file at `path`, without changing anything.
    pub fn schema_of(path: &Path) -> anyhow::Result<Schema> {
        if !path.exists() {
            return Ok(Schema::Missing);
        }
        regular_or_missing(path)?;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| io_error(path, "cannot open", e))?;
        let version = user_version(&conn, path)?;
        if version == 0 && !has_tables(&conn).map_err(|e| not_a_database(path, e))? {
            return Ok(Schema::Missing);
        }
        Ok(Schema::At(version))
    }

    /// Upgrades the file at `path` from schema `from` to the newest, after a backup.
    /// Returns the backup's path.
    pub fn migrate(path: &Path, from: u32) -> anyhow::Result<PathBuf> {
        let backup = backup::default_path(path, from, crate::clock::now());
        let mut conn = Connection::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        configure(&conn, path, true)?;
        backup::copy_to(&conn, &backup).map_err(|e| {
            io_error(
                path,
                &format!("cannot write backup {}", backup.display()),
                e,
            )
        })?;
        migrations::apply(&mut conn, from, migrations::latest())
            .map_err(|e| io_error(path, "migration failed (the backup is intact)", e))?;
        Ok(backup)
    }

    /// Writes a consistent copy of the state at `path` to `dest` while runs go on, and
    /// returns the copy's schema. `dest` must not exist.
    pub fn backup(path: &Path, dest: &Path) -> anyhow::Result<u32> {
        regular_or_missing(path)?;
        let conn = Connection::open_with_flags(
            path,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(path, "cannot open", e))?;
        conn.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| io_error(path, "cannot configure", e))?;
        let version = user_version(&conn, path)?;
        backup::copy_to(&conn, dest)
            .map_err(|e| io_error(path, &format!("cannot write backup {}", dest.display()), e))?;
        Ok(version)
    }

    /// Replaces the state at `path` (made if missing) with the backup at `from`, through
    /// SQLite's backup API into the live database: one write transaction, so a reader
    /// (`serve-status`) sees the old state until it commits and the restored one after,
    /// and the `-wal`/`-shm` files stay SQLite's to manage. The backup is checked first
    /// (a database of cabot's, whole, at a schema this cabot knows). Returns its schema.
    pub fn restore(path: &Path, from: &Path) -> anyhow::Result<u32> {
        regular_or_missing(from)?;
        if !from.is_file() {
            return Err(io_error(from, "cannot restore", "no such file"));
        }
        let src = Connection::open_with_flags(
            from,
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )
        .map_err(|e| io_error(from, "cannot open", e))?;
        let version = user_version(&src, from)?;
        let whole: String = src
            .query_row("PRAGMA quick_check", [], |r| r.get(0))
            .map_err(|e| not_a_database(from, e))?;
        if whole != "ok" || version == 0 || !has_tables(&src).unwrap_or(false) {
            return Err(io_error(
                from,
                "cannot restore",
                format!("it is not a whole cabot state (quick_check: {whole}, schema {version})"),
            ));
        }
        if version > migrations::latest() {
            return Err(Exit::error(
                ExitCode::Schema,
                format!(
                    "{} is at schema {version}, made by a newer cabot (this one writes schema {}); nothing was changed",
                    from.display(),
                    migrations::latest()
                ),
            ));
        }
        regular_or_missing(path)?;
        let mut live = Connection::open(path).map_err(|e| io_error(path, "cannot open", e))?;
        live.busy_timeout(BUSY_TIMEOUT)
            .map_err(|e| io_error(path, "cannot configure", e))?;
        live.pragma_update(None, "journal_mode", "WAL")
            .map_err(|e| io_error(path, "cannot use WAL", e))?;
        let backup = rusqlite::backup::Backup::new(&src, &mut live)
            .map_err(|e| io_error(path, "cannot restore into", e))?;
        match backup.step(-1) {
            Ok(rusqlite::backup::StepResult::Done) => {}
            Ok(_) => {
                return Err(Exit::error(
                    ExitCode::Locked,
                    format!(
                        "state database {} is busy; nothing was changed, try again",
                        path.display()
                    ),
                ));
            }
            Err(e) => return Err(io_error(path, "cannot restore into", e)),
        }
        drop(backup);
        // What was restored is what the WAL holds: write it into the file now.
        let _ = live.pragma_update(None, "wal_checkpoint", "TRUNCATE");
        Ok(version)
    }

    /// After a run: copies what it can of the write-ahead log into the database without
    /// waiting for anyone (readers such as `serve-status` may hold older snapshots, and
    /// SQLite's own checkpoints then stop short, run after run); when the log has grown
    /// past `WAL_BOUND` all the same, waits (at most the busy timeout) for the readers of
    /// its older frames and empties it. Returns the log's size after.
    pub fn checkpoint(&self) -> rusqlite::Result<u64> {
        let wal = |conn: &Connection| {
            conn.path()
                .and_then(|p| std::fs::metadata(format!("{p}-wal")).ok())
                .map_or(0, |m| m.len())
        };
        self.conn
            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(()))?;
        if wal(&self.conn) > WAL_BOUND {
            match self
                .conn
                .query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            {
                Ok(()) => {}
                // Readers kept it busy past the timeout: the next run tries again.
                Err(e) if e.sqlite_error_code() == Some(rusqlite::ErrorCode::DatabaseBusy) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(wal(&self.conn))
    }

    /// Every check the state knows, in the table's order (a plain scan: sorting costs
    /// more than grouping them afterwards).
    pub fn checks(&self) -> rusqlite::Result<Vec<CheckRow>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT service, name, kind, importance, consecutive_failures, failing, status_since,
                    last_run_at, last_ok, last_message, last_duration_ms, active,
                    failing_importance, last_perfdata
             FROM checks",
        )?;
        self.read_all(&mut stmt, "checks", |r| {
            let last_ok: Option<bool> = r.get(8)?;
            Ok(CheckRow {
                service: r.get(0)?,
                name: r.get(1)?,
                kind: r.get(2)?,
                importance: r.get(3)?,
                consecutive_failures: r.get::<_, i64>(4)?.max(0) as u64,
                failing: r.get(5)?,
                status_since: r.get(6)?,
                last_run_at: r.get(7)?,
                last: match last_ok {
                    Some(ok) => Some(LastResult {
                        ok,
                        message: r.get::<_, Option<String>>(9)?.unwrap_or_default(),
                        duration_ms: r.get::<_, Option<i64>>(10)?.unwrap_or(0),
                        perfdata: r
                            .get::<_, Option<String>>(13)?
                            .map(|p| Perfdata::from_json(&p)),
                    }),
                    None => None,
                },
                active: r.get(11)?,
                failing_importance: r.get(12)?,
            })
        })
    }

    /// Every row `stmt` selects from `table`, made by `row`, read into a list sized by
    /// `count(*)` first: grown a row at a time, a list of thousands is copied again and
    /// again.
    fn read_all<T>(
        &self,
        stmt: &mut rusqlite::Statement,
        table: &str,
        row: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<Vec<T>> {
        let count: i64 = self
            .conn
            .prepare_cached(&format!("SELECT count(*) FROM {table}"))?
            .query_row([], |r| r.get(0))?;
        let mut all = Vec::with_capacity(usize::try_from(count).unwrap_or(0));
        for item in stmt.query_map([], row)? {
            all.push(item?);
        }
        Ok(all)
    }

    /// Whether the state has a check named `name` in `service`.
    pub fn has_check(&self, service: &str, name: &str) -> rusqlite::Result<bool> {
        self.conn
            .prepare_cached("SELECT 1 FROM checks WHERE service = ?1 AND name = ?2")?
            .exists([service, name])
    }

    /// Every service the state knows, in name order.
    pub fn services(&self) -> rusqlite::Result<Services> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {SERVICE_COLUMNS} FROM services ORDER BY name"
        ))?;
        // `name` has SQLite's default BINARY collation, which orders bytes as Rust's `str`
        // does: `Services::get` can search the rows as they come.
        Ok(Services(self.read_all(
            &mut stmt,
            "services",
            service_row,
        )?))
    }

    /// Runs `write` in one IMMEDIATE transaction: all of it, or none of it.
    pub fn immediate<T>(
        &mut self,
        write: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> rusqlite::Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)?;
        let value = write(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// Records a completed run; this is what "Checks running" is decided from.
    pub fn record_run(&mut self, run: RunRow) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO runs (started_at, finished_at, checks_run, failures) VALUES (?1, ?2, ?3, ?4)",
            params![run.started_at, run.finished_at, run.checks_run, run.failures],
        )?;
        Ok(())
    }

    /// The newest time the state is stamped with (an active check's last run, the end of
    /// one of the last `RUNS_LOOKED_AT` runs) when it is ahead of `now`: the clock went
    /// back. Looked for over the last day of runs, so a step is told for a day at most
    /// after the clock catches up with it or the runs stamped ahead are past.
    pub fn stamped_ahead(&self, now: i64) -> rusqlite::Result<Option<i64>> {
        let newest: Option<i64> = self.conn.query_row(
            &format!(
                "SELECT max(t) FROM (
                    SELECT max(last_run_at) AS t FROM checks WHERE active
                    UNION ALL SELECT max(finished_at) FROM
                        (SELECT finished_at FROM runs ORDER BY id DESC LIMIT {RUNS_LOOKED_AT}))"
            ),
            [],
            |r| r.get(0),
        )?;
        Ok(newest.filter(|t| crate::core::schedule::ahead(*t, now)))
    }

    /// The most recent completed run.
    pub fn last_run(&self) -> rusqlite::Result<Option<RunRow>> {
        self.conn
            .query_row(
                "SELECT started_at, finished_at, checks_run, failures FROM runs ORDER BY id DESC LIMIT 1",
                [],
                |r| {
                    Ok(RunRow {
                        started_at: r.get(0)?,
                        finished_at: r.get(1)?,
                        checks_run: r.get(2)?,
                        failures: r.get(3)?,
                    })
                },
            )
            .optional()
    }

    /// Deletes results and runs older than `before`, at most `batch` rows per transaction
    /// and `max_batches` transactions, so one run never stalls on a huge backlog.
    /// Returns how many results were deleted.
    pub fn prune(
        &mut self,
        before: i64,
        batch: usize,
        max_batches: usize,
    ) -> rusqlite::Result<usize> {
        let mut deleted = 0;
        for _ in 0..max_batches {
            let n = self.conn.execute(
                "DELETE FROM results WHERE id IN
                    (SELECT id FROM results WHERE at < ?1 ORDER BY at LIMIT ?2)",
                params![before, batch as i64],
            )?;
            deleted += n;
            if n < batch {
                break;
            }
        }
        self.conn.execute(
            "DELETE FROM runs WHERE id IN (SELECT id FROM runs WHERE finished_at < ?1 ORDER BY id LIMIT ?2)",
            params![before, batch as i64],
        )?;
        // Alerts that are finished with (delivered or given up) and older than retention.
        self.conn.execute_batch(&format!(
            "DELETE FROM attempts WHERE delivery_id IN (
                SELECT d.id FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE a.created_at < {before} AND d.state != 'pending' LIMIT {batch});
             DELETE FROM deliveries WHERE id IN (
                SELECT d.id FROM deliveries d JOIN alerts a ON a.id = d.alert_id
                WHERE a.created_at < {before} AND d.state != 'pending' LIMIT {batch});
             DELETE FROM alerts WHERE created_at < {before}
                AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.alert_id = alerts.id);
             DELETE FROM service_history WHERE at < {before}
                AND id NOT IN (SELECT max(id) FROM service_history GROUP BY service);"
        ))?;
        Ok(deleted)
    }

    /// What checks remember between runs (`check_memory`), by key.
    pub fn check_memory(&self) -> rusqlite::Result<HashMap<String, String>> {
        let mut stmt = self.conn.prepare("SELECT key, value FROM check_memory")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
        rows.collect()
    }

    /// Keeps what checks remembered in a run, and forgets what no check has written for
    /// `FORGET_MEMORY` (a domain no longer in the config).
    pub fn remember(&mut self, entries: &[(String, String)], now: i64) -> rusqlite::Result<()> {
        let tx = self.conn.transaction()?;
        for (key, value) in entries {
            tx.execute(
                "INSERT OR REPLACE INTO check_memory (key, value, updated_at) VALUES (?1, ?2, ?3)",
                params![key, value, now],
            )?;
        }
        tx.execute(
            "DELETE FROM check_memory WHERE updated_at < ?1",
            [now - FORGET_MEMORY],
        )?;
        tx.commit()
    }

    /// The connection, for tests and tools that inspect the state.
    pub fn connection(&self) -> &Connection {
        &self.conn
    }
}

/// An exclusive hold on the state's folder (released when dropped), while a state is made.
fn creation_lock(dir: &Path) -> std::io::Result<std::fs::File> {
    let folder = std::fs::File::open(dir)?;
    folder.lock()?;
    Ok(folder)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn services_come_in_byte_order_and_are_found_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("state.db"), None).unwrap();
        // Stored in the order they first appeared, which is no order.
        for name in ["web", "é", "a_b", "B", "a", "a-b"] {
            store
                .conn
                .execute(
                    "INSERT INTO services (name, status, since) VALUES (?1, 'PASSING', 1)",
                    [name],
                )
                .unwrap();
        }
        let services = store.services().unwrap();
        let names: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["B", "a", "a-b", "a_b", "web", "é"]);
        for name in names {
            assert_eq!(services.get(name).map(|s| s.name.as_str()), Some(name));
        }
        assert!(services.get("A").is_none() && services.get("zz").is_none());
        assert!(services.contains_key("é") && !services.contains_key("e"));
    }
}
