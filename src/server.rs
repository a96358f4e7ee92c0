//! `serve-status`: the small HTTP server that tells the world whether runs are happening.
//!
//! It opens the state read-only and answers while `cabot run` writes. A missing, locked or
//! wrong-schema database is "Checks not running", never a crash. It shows no secret, no
//! check URL and no response body: only names, statuses and times.

use std::fmt::Write as _;
use std::os::unix::fs::MetadataExt as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::json;

use crate::clock::{self, format_age, format_time};
use crate::config::Config;
use crate::core::Status;
use crate::http;
use crate::store::{RunRow, Store, migrations};

pub const RUNNING: &str = "Checks running";
pub const NOT_RUNNING: &str = "Checks not running";

/// One answer, before it is written.
#[derive(Debug, Clone, PartialEq)]
pub struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
    pub allow: Option<&'static str>,
}

impl Answer {
    fn text(status: u16, body: impl Into<String>) -> Answer {
        Answer {
            status,
            content_type: "text/plain; charset=utf-8",
            body: body.into(),
            allow: None,
        }
    }
}

/// A worker's view of the state: opened on first use, dropped and reopened after an error.
pub struct Db {
    path: PathBuf,
    store: Option<(Store, Option<FileId>)>,
    /// For heartbeat pings, the one write; opened on the first ping.
    writer: Option<(Store, Option<FileId>)>,
}

/// Which file is open (device, inode): a state file replaced under the server (deleted and
/// created again, restored from a backup) must be read anew, not through the old handle.
type FileId = (u64, u64);

fn file_id(path: &Path) -> Option<FileId> {
    std::fs::metadata(path).ok().map(|m| (m.dev(), m.ino()))
}

/// How long a read waits for a lock before the answer is "Checks not running": a watcher
/// with a short timeout should get the 503, not a timeout of its own.
const BUSY_TIMEOUT: Duration = Duration::from_secs(1);

impl Db {
    pub fn new(path: PathBuf) -> Db {
        Db {
            path,
            store: None,
            writer: None,
        }
    }

    /// The connection pings are written through: opened on first use, and again when the
    /// state file was replaced under the server (like the readers) or after a failed write.
    fn writer(&mut self) -> anyhow::Result<&mut Store> {
        let id = file_id(&self.path);
        if self.writer.as_ref().is_none_or(|(_, opened)| *opened != id) {
            // Opening may create the file: take its identity after.
            let store = Store::open(&self.path, None)?;
            self.writer = Some((store, file_id(&self.path)));
        }
        self.writer
            .as_mut()
            .map(|(store, _)| store)
            .ok_or_else(|| anyhow::anyhow!("no state"))
    }

    /// The state, if it can be read now.
    fn get(&mut self) -> Option<&Store> {
        let id = file_id(&self.path);
        if self.store.as_ref().is_some_and(|(_, opened)| *opened != id) {
            self.store = None;
        }
        if self.store.is_none() {
            let store = Store::open_read_only_waiting(&self.path, None, BUSY_TIMEOUT)
                .ok()
                .flatten()?;
            self.store = Some((store, id));
        }
        self.store.as_ref().map(|(s, _)| s)
    }

    /// Runs `read` on the state; any failure (locked, migrated meanwhile) reopens next time.
    fn read<T>(&mut self, read: impl FnOnce(&Store) -> rusqlite::Result<T>) -> Option<T> {
        let store = self.get()?;
        // `cabot migrate` (or a newer cabot) may have changed the schema since the open.
        let result = store
            .connection()
            .pragma_query_value(None, "user_version", |r| r.get::<_, u32>(0))
            .and_then(|v| match v == migrations::latest() {
                true => read(store).map(Some),
                false => Ok(None),
            });
        match result {
            Ok(Some(v)) => Some(v),
            Ok(None) | Err(_) => {
                self.store = None;
                None
            }
        }
    }
}

/// The answer to one request. `now` is Unix seconds.
pub fn respond(method: &str, url: &str, cfg: &Config, db: &mut Db, now: i64) -> Answer {
    let path = url.split(['?', '#']).next().unwrap_or("");
    let known = match path {
        "/" | "/status" | "/status/" | "/status.json" => true,
        "/metrics" => cfg.status.metrics,
        _ => false,
    };
    // Answered before the state is read: junk requests cost nothing.
    if !known {
        return Answer::text(404, "Not Found\n");
    }
    if !matches!(method, "GET" | "HEAD") {
        return Answer {
            allow: Some("GET, HEAD"),
            ..Answer::text(405, "Method Not Allowed\n")
        };
    }
    let last_run = db.read(|s| s.last_run()).flatten();
    let running = last_run.is_some_and(|r| now - r.finished_at <= cfg.stale_after.as_secs() as i64);
    match path {
        "/status" | "/status/" => {
            if running {
                Answer::text(200, RUNNING)
            } else {
                Answer::text(503, NOT_RUNNING)
            }
        }
        "/status.json" => status_json(cfg, db, last_run, running, now),
        "/" => Answer {
            content_type: "text/html; charset=utf-8",
            ..Answer::text(200, page(cfg, db, last_run, running, now))
        },
        "/metrics" => Answer {
            content_type: "text/plain; version=0.0.4; charset=utf-8",
            ..Answer::text(200, metrics(db, last_run, running, now))
        },
        _ => Answer::text(404, "Not Found\n"),
    }
}

/// (name, status, since) of the services marked `public: true` that the state knows.
fn public_services(cfg: &Config, db: &mut Db) -> Vec<(String, Status, i64)> {
    let known = db.read(|s| s.services()).unwrap_or_default();
    cfg.services
        .iter()
        .filter(|s| s.public)
        .filter_map(|s| {
            known
                .get(&s.name)
                .map(|r| (s.name.clone(), r.status, r.since))
        })
        .collect()
}

fn status_json(
    cfg: &Config,
    db: &mut Db,
    last_run: Option<RunRow>,
    running: bool,
    now: i64,
) -> Answer {
    let counts = db.read(|s| s.outbox_counts()).unwrap_or_default();
    let services: Vec<_> = public_services(cfg, db)
        .into_iter()
        .map(|(name, status, since)| json!({ "name": name, "status": status.as_str(), "since": format_time(since) }))
        .collect();
    let body = json!({
        "running": running,
        "status": if running { RUNNING } else { NOT_RUNNING },
        "last_run": last_run.map(|r| json!({
            "started_at": format_time(r.started_at),
            "finished_at": format_time(r.finished_at),
            "age_seconds": (now - r.finished_at).max(0),
        })),
        "stale_after_seconds": cfg.stale_after.as_secs(),
        "services": services,
        "undelivered_alerts": counts.undelivered,
        "given_up_alerts": counts.given_up,
    });
    Answer {
        content_type: "application/json",
        ..Answer::text(200, body.to_string())
    }
}

fn escape(s: &str) -> String {
    crate::text::xml_escape(s)
}

const DAY: i64 = 86_400;
const STRIP_WIDTH: i64 = 288;
/// The least width of the current stretch, so that a status a minute old still shows.
const NOW_WIDTH: i64 = 4;

fn color(status: Status) -> &'static str {
    match status {
        Status::Passing => "#2e9d4f",
        Status::Warning => "#d9a400",
        Status::Error => "#e0542b",
        Status::Critical => "#b3122e",
    }
}

/// A 24-hour strip of a service's status as inline SVG: one rectangle per stretch.
fn strip(changes: &[(i64, Status)], now: i64) -> String {
    let from = now - DAY;
    let x = |t: i64| (t.clamp(from, now) - from) * STRIP_WIDTH / DAY;
    let mut svg = format!(
        "<svg class=\"strip\" viewBox=\"0 0 {STRIP_WIDTH} 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"last 24 hours\">\
         <rect width=\"{STRIP_WIDTH}\" height=\"12\" fill=\"#d0d4d9\"/>"
    );
    for (i, &(at, status)) in changes.iter().enumerate() {
        let last = i + 1 == changes.len();
        let end = changes.get(i + 1).map_or(now, |n| n.0);
        let (mut x0, x1) = (x(at), x(end));
        // The status now is drawn at least a few units wide, however new it is.
        if last {
            x0 = x0.min(STRIP_WIDTH - NOW_WIDTH);
        }
        if x1 > x0 || (end > from && at < now && x1 == x0 && end > at) {
            let w = (x1 - x0).max(1);
            let _ = write!(
                svg,
                "<rect x=\"{x0}\" width=\"{w}\" height=\"12\" fill=\"{}\"><title>{} from {}</title></rect>",
                color(status),
                status.as_str(),
                format_time(at.max(from))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `2026-11-24 10:02 UTC`: a time for people, on the page.
fn page_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

fn page(cfg: &Config, db: &mut Db, last_run: Option<RunRow>, running: bool, now: i64) -> String {
    let services = public_services(cfg, db);
    let worst = services
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(Status::Passing);
    let headline = match (running, worst) {
        (false, _) => "Status unknown: the monitor's checks are not running",
        (true, Status::Passing) => "All services operational",
        (true, Status::Warning) => "Some services are degraded",
        (true, _) => "Some services are failing",
    };
    let run_line = match last_run {
        Some(r) => format!(
            "{} · last run {} ago",
            if running { RUNNING } else { NOT_RUNNING },
            format_age(now - r.finished_at)
        ),
        None => format!("{NOT_RUNNING} · no run has completed yet"),
    };
    let mut html = String::with_capacity(4096);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"60\"><title>Status</title><style>\
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2329}}\
header,main,footer{{max-width:46rem;margin:0 auto;padding:1rem}}\
h1{{font-size:1.4rem;margin:.5rem 0}}\
.overall{{padding:.8rem 1rem;border-radius:.4rem;color:#fff;font-weight:600;background:{}}}\
.service{{background:#fff;border-radius:.4rem;padding:.8rem 1rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}}\
.service h2{{font-size:1.05rem;margin:0;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}}\
.badge{{font-size:.8rem;padding:.15rem .5rem;border-radius:1rem;color:#fff}}\
.since{{font-size:.85rem;color:#56606b;margin:.3rem 0}}\
.strip{{width:100%;height:12px;display:block;border-radius:2px}}\
.axis{{display:flex;justify-content:space-between;font-size:.7rem;color:#8a939c}}\
footer{{font-size:.8rem;color:#56606b}}\
</style></head><body><header><h1>Service status</h1><p class=\"overall\">{headline}</p><p>{run_line}</p></header><main>",
        if running { color(worst) } else { "#6b7480" },
    );
    if services.is_empty() {
        html.push_str(
            "<p>No public services. Mark a service <code>public: true</code> to list it here.</p>",
        );
    }
    for (name, status, since) in &services {
        let changes = db
            .read(|s| s.service_changes(name, now - DAY))
            .unwrap_or_default();
        let _ = write!(
            html,
            "<section class=\"service\" id=\"service-{id}\"><h2><span class=\"name\">{name}</span>\
<span class=\"badge status\" style=\"background:{c}\">{st}</span></h2>\
<p class=\"since\">{st} since {since_time} ({age})</p>{strip}\
<div class=\"axis\"><span>24 hours ago</span><span>now</span></div></section>",
            id = escape(name),
            name = escape(name),
            c = color(*status),
            st = status.as_str(),
            since_time = page_time(*since),
            age = format_age(now - since),
            strip = strip(&changes, now),
        );
    }
    let _ = writeln!(
        html,
        "</main><footer>Updated {} · this page refreshes every minute</footer></body></html>",
        page_time(now)
    );
    html
}

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn metrics(db: &mut Db, last_run: Option<RunRow>, running: bool, now: i64) -> String {
    let checks = db.read(|s| s.checks()).unwrap_or_default();
    let services = db.read(|s| s.services()).unwrap_or_default();
    let mut out = String::new();
    let mut rows: Vec<_> = checks
        .values()
        .filter(|c| c.active && c.last.is_some())
        .collect();
    rows.sort_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    let mut family =
        |name: &str, help: &str, values: &mut dyn Iterator<Item = (String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, value) in values {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        };
    let check_labels = |c: &crate::store::CheckRow| {
        format!(
            "service=\"{}\",check=\"{}\"",
            label(&c.service),
            label(&c.name)
        )
    };
    family(
        "cabot_check_up",
        "1 when the check's last result passed, 0 when it failed.",
        &mut rows.iter().map(|c| {
            (
                check_labels(c),
                u8::from(c.last.as_ref().is_some_and(|l| l.ok)).to_string(),
            )
        }),
    );
    family(
        "cabot_check_duration_seconds",
        "How long the check's last run took.",
        &mut rows.iter().map(|c| {
            let ms = c.last.as_ref().map_or(0, |l| l.duration_ms);
            (check_labels(c), format!("{:.3}", ms as f64 / 1000.0))
        }),
    );
    family(
        "cabot_check_consecutive_failures",
        "Failed results in a row, newest first.",
        &mut rows
            .iter()
            .map(|c| (check_labels(c), c.consecutive_failures.to_string())),
    );
    // A Nagios plugin's perfdata, one sample per label.
    let perf: Vec<(String, String)> = rows
        .iter()
        .flat_map(|c| {
            let items = c.last.as_ref().and_then(|l| l.perfdata.as_ref());
            items.into_iter().flat_map(|p| &p.0).map(move |item| {
                (
                    format!(
                        "{},label=\"{}\",uom=\"{}\"",
                        check_labels(c),
                        label(&item.label),
                        label(&item.uom)
                    ),
                    item.value.to_string(),
                )
            })
        })
        .collect();
    if !perf.is_empty() {
        family(
            "cabot_check_perfdata",
            "Performance data reported by a command check (a Nagios plugin).",
            &mut perf.into_iter(),
        );
    }
    let mut svc: Vec<_> = services.values().filter(|s| s.active).collect();
    svc.sort_by(|a, b| a.name.cmp(&b.name));
    family(
        "cabot_service_status",
        "0 PASSING, 1 WARNING, 2 ERROR, 3 CRITICAL.",
        &mut svc.iter().map(|s| {
            (
                format!("service=\"{}\"", label(&s.name)),
                (s.status as u8).to_string(),
            )
        }),
    );
    let _ = writeln!(
        out,
        "# HELP cabot_checks_running 1 when the last run finished within stale_after.\n# TYPE cabot_checks_running gauge\ncabot_checks_running {}",
        u8::from(running)
    );
    if let Some(r) = last_run {
        let _ = writeln!(
            out,
            "# HELP cabot_last_run_age_seconds Seconds since the last completed run finished.\n# TYPE cabot_last_run_age_seconds gauge\ncabot_last_run_age_seconds {}",
            (now - r.finished_at).max(0)
        );
    }
    out
}

/// Pings accepted per heartbeat per second; more are answered 429.
const PINGS_PER_SECOND: u32 = 5;
/// The most of a ping's body that is read, as its message.
const PING_BODY_MAX: usize = 1024;

/// What the ping endpoint shares between workers: the rate limit's counters.
#[derive(Default)]
pub struct Pings {
    recent: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

impl Pings {
    /// Counts a ping for `name` at `now`; false when over the limit.
    fn allow(&self, name: &str, now: i64) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        if recent.len() > 10_000 {
            recent.retain(|_, (second, _)| *second == now);
        }
        let entry = recent.entry(name.to_string()).or_insert((now, 0));
        if entry.0 != now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= PINGS_PER_SECOND
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /ping/NAME` (or `/ping/NAME/fail`) with the heartbeat's token: the one write.
/// A wrong or missing token is a 404, exactly like a heartbeat that does not exist.
fn ping(request: &http::Request, cfg: &Config, db: &mut Db, pings: &Pings) -> Answer {
    let not_found = || Answer::text(404, "Not Found\n");
    let path = request.target.split('?').next().unwrap_or("").to_string();
    let Some(name) = path.strip_prefix("/ping/") else {
        return not_found();
    };
    let (found, failed) = match crate::checks::heartbeat::find(cfg, name) {
        Ok(f) => (f, false),
        Err(_) => match name
            .strip_suffix("/fail")
            .and_then(|n| crate::checks::heartbeat::find(cfg, n).ok())
        {
            Some(f) => (f, true),
            None => return not_found(),
        },
    };
    let (service, check, heartbeat) = found;
    let Some(expected) = heartbeat.token.as_ref().and_then(|t| t.resolve().ok()) else {
        return not_found();
    };
    let given = request
        .header("Authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| request.header("X-Cabot-Token"))
        .unwrap_or_default();
    if !same_secret(given.trim().as_bytes(), expected.as_bytes()) {
        return not_found();
    }
    let now = clock::now();
    if !pings.allow(&format!("{service}/{}", check.name), now) {
        return Answer::text(429, "Too Many Requests\n");
    }
    let body = &request.body[..request.body.len().min(PING_BODY_MAX)];
    let message = crate::text::message(String::from_utf8_lossy(body).trim());
    let source = request.peer.ip().to_string();
    let recorded = db.writer().and_then(|w| {
        let message = (!message.is_empty()).then_some(message.as_str());
        Ok(w.record_ping(service, &check.name, now, !failed, message, &source)?)
    });
    match recorded {
        Ok(()) => Answer::text(200, "OK\n"),
        Err(_) => {
            db.writer = None;
            Answer::text(503, "cannot record the ping now\n")
        }
    }
}

/// Serves until the process is stopped.
pub fn serve(cfg: Config, listen: &str) -> anyhow::Result<()> {
    raise_open_files_limit();
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let cfg = Arc::new(cfg);
    let pings = Arc::new(Pings::default());
    // Readers of the state, reused between requests: one per request in flight at most.
    let pool: Arc<Mutex<Vec<Db>>> = Arc::new(Mutex::new(Vec::new()));
    let handler = move |request: &http::Request| {
        let mut db = pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| Db::new(cfg.state.clone()));
        let response = answer(request, &cfg, &mut db, &pings);
        if let Ok(mut p) = pool.lock() {
            p.push(db);
        }
        response
    };
    http::serve(listener, http::Limits::default(), Arc::new(handler))
}

/// Each connection is a thread with two file descriptors; take all the descriptors the
/// hard limit allows, so that the connection cap, not the soft limit, is what bounds them.
fn raise_open_files_limit() {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit and setrlimit only read or write the struct they are given.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

fn answer(request: &http::Request, cfg: &Config, db: &mut Db, pings: &Pings) -> http::Response {
    let method = request.method.as_str();
    let a = if method == "POST" && request.target.starts_with("/ping/") {
        ping(request, cfg, db, pings)
    } else {
        let method = if matches!(method, "GET" | "HEAD" | "POST") {
            method
        } else {
            "OTHER"
        };
        respond(method, &request.target, cfg, db, clock::now())
    };
    let mut headers = vec![
        ("Content-Type", a.content_type.to_string()),
        ("Cache-Control", "no-store".to_string()),
        ("X-Content-Type-Options", "nosniff".to_string()),
        (
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'".to_string(),
        ),
    ];
    if let Some(allow) = a.allow {
        headers.push(("Allow", allow.to_string()));
    }
    http::Response {
        status: a.status,
        headers,
        body: a.body.into_bytes(),
    }
}
