//! `cabot serve-status` as a child process on a free 127.0.0.1 port, and raw HTTP to it.

use std::fs::File;
use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Env, Target};

/// The default `stale_after`, in seconds.
pub const STALE_AFTER: i64 = 600;

pub const RUNNING: &str = "Checks running";

pub const NOT_RUNNING: &str = "Checks not running";

/// A port on 127.0.0.1 that was free a moment ago: bound to :0, then released.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// `cabot serve-status` as a child process on 127.0.0.1, killed when dropped.
pub struct StatusServer {
    pub child: Child,
    pub port: u16,
    log: PathBuf,
}

impl StatusServer {
    /// Starts a server with its clock at `now` (real time when `None`) on a free port.
    pub fn start(env: &Env, now: Option<i64>) -> StatusServer {
        Self::start_limited(env, now, None)
    }

    /// Like `start`, with these variables in the server's environment.
    pub fn start_with_vars(env: &Env, vars: &[(&str, &str)]) -> StatusServer {
        Self::try_start_with(env, free_port(), None, None, vars)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// Like `start`, with its clock at `now` and these variables in its environment.
    pub fn start_at_with_vars(env: &Env, now: i64, vars: &[(&str, &str)]) -> StatusServer {
        Self::try_start_with(env, free_port(), Some(now), None, vars)
            .unwrap_or_else(|why| panic!("{why}"))
    }

    /// Like `start`, with a soft limit on open files as systemd gives a service by default.
    pub fn start_limited(env: &Env, now: Option<i64>, open_files: Option<u64>) -> StatusServer {
        // Another test may take the port between our probe and the child's bind: try again.
        for _ in 0..3 {
            if let Ok(server) = Self::try_start(env, free_port(), now, open_files) {
                return server;
            }
        }
        Self::try_start(env, free_port(), now, open_files).unwrap_or_else(|why| panic!("{why}"))
    }

    /// Starts a server on `port`, panicking with its stderr if it does not come up.
    pub fn start_on(env: &Env, port: u16, now: Option<i64>) -> StatusServer {
        Self::try_start(env, port, now, None).unwrap_or_else(|why| panic!("{why}"))
    }

    fn try_start(
        env: &Env,
        port: u16,
        now: Option<i64>,
        open_files: Option<u64>,
    ) -> Result<StatusServer, String> {
        Self::try_start_with(env, port, now, open_files, &[])
    }

    fn try_start_with(
        env: &Env,
        port: u16,
        now: Option<i64>,
        open_files: Option<u64>,
        vars: &[(&str, &str)],
    ) -> Result<StatusServer, String> {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let n = STARTED.fetch_add(1, Ordering::SeqCst);
        let log = env.path(&format!("serve-status-{port}-{n}.log"));
        let listen = format!("127.0.0.1:{port}");
        let mut cmd = env.command(&["serve-status", "--listen", &listen]);
        if let Some(now) = now {
            cmd.env("CABOT_NOW", now.to_string());
        }
        cmd.envs(vars.iter().copied());
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(File::create(&log).expect("log file"));
        if let Some(soft) = open_files {
            limit_open_files(&mut cmd, soft);
        }
        let child = cmd.spawn().expect("start serve-status");
        let mut server = StatusServer { child, port, log };
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "serve-status on {listen} exited ({status}): {}",
                    server.log()
                ));
            }
            // A path that the server answers without reading the state (which may be locked).
            if server.try_request(&get("/nope")).is_ok() {
                return Ok(server);
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "serve-status on {listen} did not answer within 10 s: {}",
                    server.log()
                ));
            }
            thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    pub fn is_alive(&mut self) -> bool {
        matches!(self.child.try_wait(), Ok(None))
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// Sends raw bytes and reads one answer (or up to the server's close, or 10 s).
    pub fn try_request(&self, raw: &[u8]) -> std::io::Result<Answer> {
        let mut conn = TcpStream::connect_timeout(&self.addr(), Duration::from_secs(2))?;
        // Over the state's 5 s busy timeout, which a locked state makes an answer wait out.
        conn.set_read_timeout(Some(Duration::from_secs(10)))?;
        conn.set_write_timeout(Some(Duration::from_secs(5)))?;
        conn.write_all(raw)?;
        let head_only = raw.starts_with(b"HEAD ");
        Answer::parse(&read_answer(&mut conn, head_only)?)
    }

    pub fn request(&self, raw: &[u8]) -> Answer {
        self.try_request(raw).unwrap_or_else(|e| {
            panic!(
                "no answer to {:?}: {e}\n--- server log\n{}",
                String::from_utf8_lossy(&raw[..raw.len().min(200)]),
                self.log()
            )
        })
    }

    pub fn get(&self, path: &str) -> Answer {
        self.request(&get(path))
    }

    /// `/status/`'s answer, checking that it is one of the two that `/status/` may give.
    pub fn status(&self) -> (u16, String) {
        let a = self.get("/status/");
        match (a.status, a.body.as_str()) {
            (200, RUNNING) | (503, NOT_RUNNING) => (a.status, a.body),
            _ => panic!("not a /status/ answer: {a:?}"),
        }
    }

    pub fn json(&self) -> Value {
        let a = self.get("/status.json");
        assert_eq!(a.status, 200, "{a:?}");
        serde_json::from_str(&a.body).unwrap_or_else(|e| panic!("status.json: {e}\n{a:?}"))
    }
}

impl Drop for StatusServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Reads one HTTP answer: the head, then Content-Length bytes of body, or up to the close.
/// After a HEAD (`head_only`), reads on to the close, so that a body sent anyway shows.
pub fn read_answer(conn: &mut TcpStream, head_only: bool) -> std::io::Result<Vec<u8>> {
    let mut bytes = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        if !head_only && let Some(end) = bytes.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&bytes[..end]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse::<usize>().ok());
            if length.is_some_and(|n| bytes.len() >= end + 4 + n) {
                return Ok(bytes);
            }
        }
        match conn.read(&mut buf) {
            Ok(0) => return Ok(bytes),
            Ok(n) => bytes.extend_from_slice(&buf[..n]),
            // The server may reset a connection it gave up on; what it said still counts.
            Err(e) if e.kind() == ErrorKind::ConnectionReset && !bytes.is_empty() => {
                return Ok(bytes);
            }
            Err(e) => return Err(e),
        }
    }
}

/// Makes `cmd` start with a soft limit of `soft` open files (at most the hard limit, which
/// stays as it is).
pub fn limit_open_files(cmd: &mut std::process::Command, soft: u64) {
    use std::os::unix::process::CommandExt as _;
    // SAFETY: getrlimit and setrlimit are async-signal-safe; nothing else runs in the child.
    unsafe {
        cmd.pre_exec(move || {
            let mut limit = libc::rlimit {
                rlim_cur: 0,
                rlim_max: 0,
            };
            if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            limit.rlim_cur = soft.min(limit.rlim_max);
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn get(path: &str) -> Vec<u8> {
    request("GET", path)
}

pub fn request(method: &str, path: &str) -> Vec<u8> {
    format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").into_bytes()
}

/// One HTTP answer as it came off the wire.
#[derive(Clone)]
pub struct Answer {
    pub raw: String,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Answer {
    /// Asserts that the answer is `status` and its body says `words`.
    #[track_caller]
    pub fn says(&self, status: u16, words: &str) {
        assert_eq!(self.status, status, "{self:?}");
        assert!(self.body.contains(words), "expected {words:?}: {self:?}");
    }

    pub fn parse(bytes: &[u8]) -> std::io::Result<Answer> {
        let raw = String::from_utf8_lossy(bytes).into_owned();
        let bad =
            |why: &str| std::io::Error::new(ErrorKind::InvalidData, format!("{why}: {raw:?}"));
        let (head, body) = raw
            .split_once("\r\n\r\n")
            .ok_or_else(|| bad("no end of head"))?;
        let mut lines = head.split("\r\n");
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| bad("no status line"))?;
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))
            .collect();
        Ok(Answer {
            status,
            headers,
            body: body.to_string(),
            raw: raw.clone(),
        })
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cut: String = self.raw.chars().take(2000).collect();
        write!(f, "{cut}")
    }
}

/// When the last completed run finished, from the state file.
pub fn last_finished(env: &Env) -> i64 {
    env.count("SELECT finished_at FROM runs ORDER BY id DESC LIMIT 1")
}

/// One public service `web` with one http check against `target`.
pub fn one_service(target: &Target, extra: &str) -> Env {
    Env::new(&format!(
        "stale_after: 10m
{extra}
services:
  - name: web
    public: true
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        target.url()
    ))
}
