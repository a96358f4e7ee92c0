//! `serve-status`: the small HTTP server that tells the world whether runs are happening.
//!
//! It opens the state read-only and answers while `cabot run` writes. A missing, locked or
//! wrong-schema database is "Checks not running", never a crash. It shows no secret, no
//! check URL and no response body: only names, statuses and times. Each page is one file;
//! `route` is the one place that says which answers which request.

mod ack;
mod badge;
mod db;
mod feed;
mod hooks;
mod metrics;
mod page;
mod peer;
mod ping;
mod posts;
pub mod publish;
mod status;
mod status_json;
mod uptime;
pub mod wire;

use std::sync::{Arc, Mutex};

use crate::clock;
use crate::config::Config;
use crate::core::Status;
use crate::core::running::checks_running;
use crate::store::{RunRow, Store};
use db::{Db, Session};
use wire::{Request, Response};

/// Serves until the process is stopped; `announce` says so on stderr once it listens.
pub fn serve(cfg: Config, listen: &str, announce: bool) -> anyhow::Result<()> {
    raise_open_files_limit();
    let listener = std::net::TcpListener::bind(listen)
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    if announce {
        eprintln!("cabot: serving status on http://{listen}/status/");
    }
    widen_backlog(&listener);
    let cfg = Arc::new(cfg);
    let pings = Arc::new(ping::Pings::default());
    let built = Arc::new(Built::default());
    // Views of the state, reused between requests: one per request in flight at most.
    let pool: Arc<Mutex<Vec<Db>>> = Arc::new(Mutex::new(Vec::new()));
    let handler = move |request: &Request| {
        let mut db = pool
            .lock()
            .ok()
            .and_then(|mut p| p.pop())
            .unwrap_or_else(|| Db::new(cfg.state.clone()));
        let response = built.answer(request, &cfg, || {
            route(request, &cfg, &mut db, &pings, clock::now())
        });
        if let Ok(mut p) = pool.lock() {
            p.push(db);
        }
        secure(response)
    };
    wire::serve(listener, wire::Limits::default(), Arc::new(handler))
}

/// The big answers (the page, `/status.json`, `/metrics`), each built once for a state
/// and a second and shared by every request for it: clients asking at once wait for the
/// one build and get the same bytes, so memory does not grow with them.
#[derive(Default)]
struct Built {
    page: Mutex<Option<(Version, Response)>>,
    json: Mutex<Option<(Version, Response)>>,
    metrics: Mutex<Option<(Version, Response)>>,
}

/// What a built answer was built from: the state's files as they stood (their sizes and
/// times of change: a commit changes the write-ahead log's), and the second.
#[derive(Clone, PartialEq, Eq)]
struct Version {
    files: [Option<(u64, std::time::SystemTime)>; 2],
    now: i64,
}

impl Version {
    fn of(state: &std::path::Path, now: i64) -> Version {
        let stat = |path: &std::path::Path| {
            let m = std::fs::metadata(path).ok()?;
            Some((m.len(), m.modified().ok()?))
        };
        let mut wal = state.as_os_str().to_owned();
        wal.push("-wal");
        Version {
            files: [stat(state), stat(std::path::Path::new(&wal))],
            now,
        }
    }
}

impl Built {
    /// The answer to `request`: a shared one for the big answers, else `build`'s own.
    fn answer(
        &self,
        request: &Request,
        cfg: &Config,
        build: impl FnOnce() -> Response,
    ) -> Response {
        let path = request.target.split(['?', '#']).next().unwrap_or("");
        let slot = match (request.method.as_str(), path) {
            ("GET" | "HEAD", "/") => &self.page,
            ("GET" | "HEAD", "/status.json") => &self.json,
            ("GET" | "HEAD", "/metrics") if cfg.status.metrics => &self.metrics,
            _ => return build(),
        };
        let mut slot = slot.lock().unwrap_or_else(|e| e.into_inner());
        let version = Version::of(&cfg.state, clock::now());
        if let Some((built, response)) = slot.as_ref()
            && *built == version
        {
            return response.clone();
        }
        // Dropped first: the old answer is not kept alongside the new one while it builds.
        *slot = None;
        let response = build();
        *slot = Some((version, response.clone()));
        response
    }
}

/// The answer to one request at `now` (Unix seconds).
fn route(request: &Request, cfg: &Config, db: &mut Db, pings: &ping::Pings, now: i64) -> Response {
    let path = request.target.split(['?', '#']).next().unwrap_or("");
    let metrics = cfg.status.metrics;
    // Junk requests are answered before the state is read: they cost nothing.
    match (request.method.as_str(), path) {
        ("POST", p) if p.starts_with("/ping/") => ping::answer(request, p, cfg, db, pings, now),
        ("POST", p) if p.starts_with("/hooks/") => hooks::answer(request, p, cfg, db, pings, now),
        ("GET" | "HEAD" | "POST", p) if p.starts_with("/ack/") => {
            ack::answer(request, p, cfg, db, pings, now)
        }
        ("GET", "/peer/state") => peer::answer(request, cfg, db, pings, now),
        ("GET" | "HEAD", "/status" | "/status/") => status::answer(&View::new(cfg, db, now)),
        ("GET" | "HEAD", "/status.json") => status_json::answer(&mut View::new(cfg, db, now)),
        ("GET" | "HEAD", "/") => page::answer(&mut View::new(cfg, db, now)),
        ("GET" | "HEAD", "/history.html") => Response::new(
            200,
            "text/html; charset=utf-8",
            posts::history_page(&mut View::new(cfg, db, now)),
        ),
        ("GET" | "HEAD", "/feed.atom") => feed::answer(&mut View::new(cfg, db, now)),
        ("GET" | "HEAD", p) if p.starts_with("/badge/") => {
            badge::answer(&mut View::new(cfg, db, now), &p["/badge/".len()..])
        }
        ("GET" | "HEAD", "/metrics") if metrics => metrics::answer(&mut View::new(cfg, db, now)),
        (_, "/" | "/status" | "/status/" | "/status.json") => method_not_allowed(),
        (_, "/metrics") if metrics => method_not_allowed(),
        _ => Response::text(404, "Not Found\n"),
    }
}

fn method_not_allowed() -> Response {
    Response::text(405, "Method Not Allowed\n").with("Allow", "GET, HEAD")
}

/// Every answer: never cached, never sniffed, no script, and no address (an ack link's
/// token is in it) passed on to another site.
fn secure(response: Response) -> Response {
    response
        .with("Cache-Control", "no-store")
        .with("Referrer-Policy", "no-referrer")
        .with("X-Content-Type-Options", "nosniff")
        .with(
            "Content-Security-Policy",
            "default-src 'none'; style-src 'unsafe-inline'",
        )
}

/// A public service as the page, the badge and `/status.json` show it.
pub(crate) struct PublicService {
    pub name: String,
    pub status: Status,
    pub since: i64,
    /// The services it depends on that fail now (public ones by name).
    pub blocked_by: Vec<String>,
}

/// What the pages of the state start from: the last run and whether runs are happening.
pub(crate) struct View<'a> {
    pub cfg: &'a Config,
    pub now: i64,
    pub last_run: Option<RunRow>,
    pub running: bool,
    session: Option<Session<'a>>,
    /// Every service's status changes of the last 30 days, read on first use.
    history: Option<std::collections::HashMap<String, Vec<(i64, Status)>>>,
}

impl<'a> View<'a> {
    fn new(cfg: &'a Config, db: &'a mut Db, now: i64) -> View<'a> {
        let mut session = db.session();
        let last_run = session
            .as_mut()
            .and_then(|s| s.read(Store::last_run))
            .flatten();
        View {
            cfg,
            now,
            last_run,
            running: checks_running(last_run.map(|r| r.finished_at), cfg.stale_after, now),
            session,
            history: None,
        }
    }

    /// What `read` finds in the state, or nothing when it cannot be read.
    pub fn read<T: Default>(&mut self, read: impl FnOnce(&Store) -> rusqlite::Result<T>) -> T {
        self.session
            .as_mut()
            .and_then(|s| s.read(read))
            .unwrap_or_default()
    }

    /// How this node sees the other node of its pair, from the last pull its runs kept.
    pub fn peer(&mut self) -> Option<crate::peer::View> {
        let peer = self.cfg.peer.as_ref()?;
        let now = self.now;
        let pull = self
            .read(|s| s.peer_pull())
            .unwrap_or_else(|| crate::store::peer::PeerPull::not_yet(now));
        let own = crate::peer::config_digest(self.cfg, &peer.key);
        Some(crate::peer::View::of_node(peer, &pull, &own, now))
    }

    /// (name, status, since) of the services marked `public: true` that the state knows.
    pub fn public_services(&mut self) -> Vec<PublicService> {
        let known = self.read(|s| s.services());
        let cfg = &self.cfg;
        cfg.services
            .iter()
            .filter(|s| s.public)
            .filter_map(|s| {
                let r = known.get(&s.name)?;
                // What it waits for, named only when that is public too.
                let failing = cfg.failing_dependencies(&s.name, |d| {
                    known
                        .get(d)
                        .is_some_and(|d| d.active && d.status != Status::Passing)
                });
                let mut blocked_by: Vec<String> = failing
                    .iter()
                    .filter(|d| cfg.service(d).is_some_and(|d| d.public))
                    .map(|d| d.to_string())
                    .collect();
                if blocked_by.len() < failing.len() {
                    blocked_by.push("a service it depends on".into());
                }
                Some(PublicService {
                    name: s.name.clone(),
                    status: r.status,
                    since: r.since,
                    blocked_by,
                })
            })
            .collect()
    }
}

/// A burst of connections (someone opening hundreds at once) must not fill the kernel's
/// queue of connections not yet accepted: a watcher's connection that finds it full is
/// dropped and retried a second later. Listening again on a bound, listening socket only
/// sets its backlog (the kernel caps it at `net.core.somaxconn`).
fn widen_backlog(listener: &std::net::TcpListener) {
    use std::os::fd::AsRawFd;
    // SAFETY: listen(2) on the listener's own descriptor, open while it lives.
    unsafe {
        libc::listen(listener.as_raw_fd(), 4096);
    }
}

/// Each connection holds a file descriptor; take all the descriptors the
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
