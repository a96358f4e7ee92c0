//! What the end-to-end tests share: a temp folder with a config, the real binary, and
//! real servers on 127.0.0.1 that behave well or badly on purpose.
#![allow(dead_code)]

pub mod certs;
pub mod half_open;
mod proxy;
mod status_server;

pub use proxy::{Link, Proxy};
pub use status_server::*;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

/// The time most tests tell cabot it is (2027-01-15T08:00:00Z).
pub const T0: i64 = 1_800_000_000;
pub const MIN: i64 = 60;

/// A temp folder holding `checks.yaml` and `cabot.db`, and a way to run cabot on them.
pub struct Env {
    pub dir: tempfile::TempDir,
}

pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn from(out: Output) -> Run {
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }
}

impl std::fmt::Debug for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit {}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

pub fn cabot_bin() -> &'static str {
    env!("CARGO_BIN_EXE_cabot")
}

/// A `cabot` command with a clean environment: no proxies, no config from the caller.
pub fn cabot_command() -> Command {
    let mut cmd = Command::new(cabot_bin());
    for var in [
        "http_proxy",
        "HTTP_PROXY",
        "https_proxy",
        "HTTPS_PROXY",
        "all_proxy",
        "ALL_PROXY",
        "NO_PROXY",
        "no_proxy",
        "CABOT_CONFIG",
        "CABOT_NOW",
    ] {
        cmd.env_remove(var);
    }
    // A domain check never asks IANA for its bootstrap file from a test: a test that needs
    // one serves it and points this at it.
    cmd.env("CABOT_RDAP_BOOTSTRAP_URL", "http://127.0.0.1:9/dns.json");
    cmd
}

impl Env {
    pub fn new(config: &str) -> Env {
        let env = Env {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        env.write_config(config);
        env
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn config(&self) -> PathBuf {
        self.path("checks.yaml")
    }

    pub fn state(&self) -> PathBuf {
        self.path("cabot.db")
    }

    /// Writes the config; a missing `state:` is filled in as `cabot.db` beside it.
    pub fn write_config(&self, config: &str) {
        let text = if config.contains("state:") {
            config.to_string()
        } else {
            format!("state: cabot.db\n{config}")
        };
        std::fs::write(self.config(), text).expect("write config");
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = cabot_command();
        cmd.arg("-c").arg(self.config()).args(args);
        cmd
    }

    pub fn cabot(&self, args: &[&str]) -> Run {
        Run::from(self.command(args).output().expect("run cabot"))
    }

    /// Runs cabot with its clock set to `now` (Unix seconds).
    pub fn cabot_at(&self, now: i64, args: &[&str]) -> Run {
        Run::from(
            self.command(args)
                .env("CABOT_NOW", now.to_string())
                .output()
                .expect("run cabot"),
        )
    }

    pub fn db(&self) -> rusqlite::Connection {
        rusqlite::Connection::open(self.state()).expect("open state")
    }

    pub fn count(&self, sql: &str) -> i64 {
        self.db()
            .query_row(sql, [], |r| r.get(0))
            .expect("count query")
    }

    /// `count`, or `None` while the state does not exist yet (another process creates it).
    pub fn try_count(&self, sql: &str) -> Option<i64> {
        if !self.state().exists() {
            return None;
        }
        let db = rusqlite::Connection::open_with_flags(
            self.state(),
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
        )
        .ok()?;
        db.busy_timeout(Duration::from_secs(5)).ok()?;
        db.query_row(sql, [], |r| r.get(0)).ok()
    }

    /// `status --json`, parsed.
    pub fn status_json(&self) -> serde_json::Value {
        let run = self.cabot(&["status", "--json"]);
        serde_json::from_str(&run.stdout).unwrap_or_else(|e| panic!("status json: {e}\n{run:?}"))
    }
}

/// The JSON of one check in `status --json`.
pub fn check_json<'a>(
    status: &'a serde_json::Value,
    service: &str,
    check: &str,
) -> &'a serde_json::Value {
    status["services"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["name"] == service))
        .and_then(|s| s["checks"].as_array())
        .and_then(|c| c.iter().find(|c| c["name"] == check))
        .unwrap_or_else(|| panic!("no check {service}/{check} in {status:#}"))
}

/// A port on 127.0.0.1 that nothing listens on (bound, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// What an HTTP test server saw of one request.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// When it arrived.
    pub at: Instant,
}

impl Seen {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

impl Reply {
    pub fn new(status: u16, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: Vec::new(),
            body: body.into(),
            delay: Duration::ZERO,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.into(), value.into()));
        self
    }

    pub fn after(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }
}

/// Answers a fake provider gives instead of its own, one a request, in turn: an outage,
/// a rate limit, a refusal in the middle of an incident.
#[derive(Clone, Default)]
pub struct Script(Arc<Mutex<std::collections::VecDeque<Reply>>>);

impl Script {
    pub fn then(&self, reply: Reply) {
        self.0.lock().expect("script").push_back(reply);
    }

    /// The next scripted answer, if any is left.
    pub fn next(&self) -> Option<Reply> {
        self.0.lock().expect("script").pop_front()
    }
}

/// A real HTTP server (tiny_http) on 127.0.0.1 that answers with `handler` and records requests.
pub struct HttpServer {
    pub addr: SocketAddr,
    pub seen: Arc<Mutex<Vec<Seen>>>,
    server: Arc<tiny_http::Server>,
}

impl HttpServer {
    pub fn start(handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static) -> HttpServer {
        HttpServer::start_on("127.0.0.1:0", handler)
    }

    /// The same on another loopback address: `[::1]:0` for IPv6.
    pub fn start_on(
        bind: &str,
        handler: impl Fn(&Seen) -> Reply + Send + Sync + 'static,
    ) -> HttpServer {
        let server = Arc::new(tiny_http::Server::http(bind).expect("http server"));
        let addr = server.server_addr().to_ip().expect("ip addr");
        let seen = Arc::new(Mutex::new(Vec::new()));
        let handler = Arc::new(handler);
        for _ in 0..4 {
            let server = Arc::clone(&server);
            let seen = Arc::clone(&seen);
            let handler = Arc::clone(&handler);
            thread::spawn(move || {
                for mut req in server.incoming_requests() {
                    let mut body = String::new();
                    let _ = req.as_reader().read_to_string(&mut body);
                    let s = Seen {
                        method: req.method().to_string(),
                        url: req.url().to_string(),
                        headers: req
                            .headers()
                            .iter()
                            .map(|h| (h.field.to_string(), h.value.to_string()))
                            .collect(),
                        body,
                        at: Instant::now(),
                    };
                    let reply = handler(&s);
                    seen.lock().expect("seen").push(s);
                    thread::sleep(reply.delay);
                    let mut resp =
                        tiny_http::Response::from_data(reply.body).with_status_code(reply.status);
                    for (n, v) in reply.headers {
                        if let Ok(h) = tiny_http::Header::from_bytes(n.as_bytes(), v.as_bytes()) {
                            resp.add_header(h);
                        }
                    }
                    let _ = req.respond(resp);
                }
            });
        }
        HttpServer { addr, seen, server }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn requests(&self) -> Vec<Seen> {
        self.seen.lock().expect("seen").clone()
    }
}

impl Drop for HttpServer {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

/// A config's `channels:` with one webhook channel `hook` into `hook`'s `/hook`.
pub fn hook_channel(hook: &HttpServer) -> String {
    format!(
        "channels:\n  hook: {{ type: webhook, url: '{}' }}\n",
        hook.url("/hook")
    )
}

/// A loopback target that answers 200 "ok", or 500 "down" while the test says it is down.
pub struct Target {
    pub server: HttpServer,
    up: Arc<AtomicBool>,
}

impl Target {
    pub fn new() -> Target {
        Target::slow(Duration::ZERO)
    }

    /// A target that takes `delay` over each answer.
    pub fn slow(delay: Duration) -> Target {
        let up = Arc::new(AtomicBool::new(true));
        let u = Arc::clone(&up);
        let server = HttpServer::start(move |_| {
            if u.load(Ordering::SeqCst) {
                Reply::new(200, "ok").after(delay)
            } else {
                Reply::new(500, "down").after(delay)
            }
        });
        Target { server, up }
    }

    pub fn set_up(&self, up: bool) {
        self.up.store(up, Ordering::SeqCst);
    }

    pub fn url(&self) -> String {
        self.server.url("/")
    }
}

/// A raw TCP server on 127.0.0.1 that does `behave` with each connection, on its own thread.
pub struct RawServer {
    pub addr: SocketAddr,
    stop: Arc<AtomicBool>,
}

impl RawServer {
    pub fn start(behave: impl Fn(TcpStream) + Send + Sync + 'static) -> RawServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let stop = Arc::new(AtomicBool::new(false));
        let behave = Arc::new(behave);
        let stop2 = Arc::clone(&stop);
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop2.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let behave = Arc::clone(&behave);
                thread::spawn(move || behave(conn));
            }
        });
        RawServer { addr, stop }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }
}

impl Drop for RawServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect(self.addr);
    }
}

/// Reads an HTTP request's head (up to the blank line), or gives up after 5 s.
pub fn read_request_head(conn: &mut TcpStream) -> String {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(5)));
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") && head.len() < 64 * 1024 {
        match conn.read(&mut byte) {
            Ok(1) => head.push(byte[0]),
            _ => break,
        }
    }
    String::from_utf8_lossy(&head).into_owned()
}

/// Writes a whole response and closes.
pub fn respond_raw(mut conn: TcpStream, head: &str, body: &[u8]) {
    let _ = conn.write_all(head.as_bytes());
    let _ = conn.write_all(body);
    let _ = conn.flush();
}

/// Fails the test unless `present`. A test that needs something beyond Rust (root, a
/// tool, a server) is `#[ignore = "needs ..."]`; when it is run anyway, it tests or fails,
/// it never passes without testing.
/// Debian's Python, where `apt-get install python3-...` installs (not a pyenv one on PATH).
pub const PYTHON: &str = "/usr/bin/python3";

pub fn need(present: bool, what: &str) {
    assert!(
        present,
        "this test needs {what}: install it (.ci/run does), or leave the test ignored"
    );
}

/// Fails the test unless it runs as root (for a namespace or a mount of its own).
pub fn need_root() {
    // SAFETY: geteuid has no preconditions and cannot fail.
    need(unsafe { libc::geteuid() } == 0, "root");
}

/// Whether `program` can be started (it is on PATH).
pub fn installed(program: &str, version_flag: &str) -> bool {
    std::process::Command::new(program)
        .arg(version_flag)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .is_ok()
}

pub fn file_bytes(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_default()
}

/// A YAML flow list that runs `script` with `/bin/sh -c`, for a `command:` key.
pub fn sh(script: &str) -> String {
    format!(
        "['/bin/sh', '-c', {}]",
        serde_json::to_string(script).expect("json")
    )
}

/// `2026-11-24T10:02:11Z`, the form cabot writes times in, made here with jiff (cabot's own
/// formatter is humantime's) so that expected times do not come from the code under test.
pub fn rfc3339(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .expect("a time in range")
        .strftime("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}
