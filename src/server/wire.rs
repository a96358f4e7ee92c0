//! The HTTP/1.1 on the wire for `serve-status`, written for hostile networks.
//!
//! tiny_http, which this replaced, reads a request head into memory without a limit,
//! lets one client that pipelines requests and never reads the answers hold every worker,
//! and loses its accept thread when the process runs out of file descriptors. Here every
//! connection has its own thread, a cap on how many there are, a deadline for each request
//! head, bounded heads and bodies, and write timeouts; an accept error is waited out.
//!
//! No client can crowd out the others: one address holds at most `max_per_client`
//! connections, and when a new connection finds no room (for its address, or near the
//! overall cap) the oldest connection that waits for a request is closed to make it, so a
//! watcher's probe is answered while someone holds a thousand idle sockets.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The bounds a connection lives within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once.
    pub max_connections: usize,
    /// Connections from one client address at once.
    pub max_per_client: usize,
    /// Near `max_connections`, this many places are made by closing idle connections
    /// rather than refusing, so that new clients always get in.
    pub reserve: usize,
    /// The request line and headers together.
    pub max_head: usize,
    /// A request body (only pings have one).
    pub max_body: usize,
    /// For a whole request head to arrive, and between requests on a kept-alive connection.
    pub read_timeout: Duration,
    /// For an answer to be taken by the client.
    pub write_timeout: Duration,
    /// Requests on one connection before it is closed.
    pub max_requests: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 1024,
            max_per_client: 64,
            reserve: 64,
            max_head: 8 * 1024,
            // A provider's webhook (PagerDuty's carries the whole incident) fits.
            max_body: 32 * 1024,
            read_timeout: Duration::from_secs(5),
            write_timeout: Duration::from_secs(10),
            max_requests: 1000,
        }
    }
}

/// One request, read in full.
#[derive(Debug, Clone)]
pub struct Request {
    pub method: String,
    /// The path and query, as sent.
    pub target: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub peer: SocketAddr,
}

impl Request {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One answer; for HEAD its body is left out but its length is kept.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(&'static str, String)>,
    /// Shared: an answer built once (a big page) goes to every client asking for it
    /// without a copy each.
    pub body: std::sync::Arc<[u8]>,
}

impl Response {
    /// An answer of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into().into(),
        }
    }

    pub fn text(status: u16, body: &str) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body)
    }

    /// The same answer with one more header.
    pub fn with(mut self, name: &'static str, value: &str) -> Response {
        self.headers.push((name, value.to_string()));
        self
    }
}

/// One open connection, as the accept loop sees it.
struct Slot {
    id: u64,
    client: IpAddr,
    opened: Instant,
    /// True while it waits for a request (between requests, or before the first).
    idle: Arc<AtomicBool>,
    /// Its socket, to close it from here.
    stream: TcpStream,
}

impl Slot {
    /// Whether it waits for a request with none sent: idle, and nothing unread in its
    /// socket (a request may have arrived before its thread got to read it).
    fn waiting(&self) -> bool {
        use std::os::fd::AsRawFd;
        if !self.idle.load(Ordering::Relaxed) {
            return false;
        }
        let mut byte = 0u8;
        // SAFETY: recv(2) with MSG_PEEK reads at most one byte into `byte` and takes
        // nothing from the socket, which this slot's clone keeps open.
        let n = unsafe {
            libc::recv(
                self.stream.as_raw_fd(),
                (&raw mut byte).cast(),
                1,
                libc::MSG_PEEK | libc::MSG_DONTWAIT,
            )
        };
        // -1 with EAGAIN: nothing to read. 0: the client closed: nothing to protect.
        n <= 0
    }
}

/// The connections open now.
#[derive(Default)]
struct Registry {
    slots: Mutex<Vec<Slot>>,
    next: AtomicU64,
}

impl Registry {
    /// Makes room for a connection from `client` and takes it, closing the oldest idle
    /// connection where there is no room; `None` when there is none to close either.
    fn admit(
        &self,
        client: IpAddr,
        stream: &TcpStream,
        limits: &Limits,
    ) -> Option<(u64, Arc<AtomicBool>)> {
        let mut slots = self.slots.lock().ok()?;
        let mine = slots.iter().filter(|s| s.client == client).count();
        let crowded = slots.len() + limits.reserve >= limits.max_connections;
        if mine >= limits.max_per_client || crowded {
            // The oldest idle connection: of this client when it is the one over its share,
            // else of whoever holds the most.
            let busiest = || {
                let mut counts = std::collections::HashMap::new();
                for s in slots.iter() {
                    *counts.entry(s.client).or_insert(0usize) += 1;
                }
                counts.into_iter().max_by_key(|(_, n)| *n).map(|(ip, _)| ip)
            };
            let whose = if mine >= limits.max_per_client {
                Some(client)
            } else {
                busiest()
            };
            let victim = slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.waiting())
                .filter(|(_, s)| whose.is_none_or(|w| s.client == w))
                .min_by_key(|(_, s)| s.opened)
                .map(|(i, _)| i)
                .or_else(|| {
                    // Nobody idle at the busiest: anyone idle will do near the cap.
                    (mine < limits.max_per_client).then(|| {
                        slots
                            .iter()
                            .enumerate()
                            .filter(|(_, s)| s.waiting())
                            .min_by_key(|(_, s)| s.opened)
                            .map(|(i, _)| i)
                    })?
                });
            match victim {
                Some(i) => {
                    let evicted = slots.swap_remove(i);
                    let _ = evicted.stream.shutdown(Shutdown::Both);
                }
                None if mine >= limits.max_per_client || slots.len() >= limits.max_connections => {
                    return None;
                }
                None => {}
            }
        }
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        let idle = Arc::new(AtomicBool::new(true));
        slots.push(Slot {
            id,
            client,
            opened: Instant::now(),
            idle: Arc::clone(&idle),
            stream: stream.try_clone().ok()?,
        });
        Some((id, idle))
    }

    fn leave(&self, id: u64) {
        if let Ok(mut slots) = self.slots.lock() {
            slots.retain(|s| s.id != id);
        }
    }
}

/// Serves `handler` on `listener` until the process ends.
pub fn serve(
    listener: TcpListener,
    limits: Limits,
    handler: Arc<dyn Fn(&Request) -> Response + Send + Sync>,
) -> ! {
    let registry = Arc::new(Registry::default());
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(_) => {
                // Out of descriptors, or a connection reset before accept: wait it out.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        let Some((id, idle)) = registry.admit(peer.ip(), &stream, &limits) else {
            drop(stream);
            continue;
        };
        let registry_now = Arc::clone(&registry);
        let handler = Arc::clone(&handler);
        let spawned = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                connection(stream, peer, limits, &idle, handler.as_ref());
                registry_now.leave(id);
            });
        if spawned.is_err() {
            registry.leave(id);
        }
    }
}

/// Why a connection stops being read.
enum Stop {
    /// The client closed, went quiet, or broke the rules without a word due.
    Quietly,
    /// Answer this, then close.
    Answer(Response),
}

fn connection(
    stream: TcpStream,
    peer: SocketAddr,
    limits: Limits,
    idle: &AtomicBool,
    handler: &(dyn Fn(&Request) -> Response + Send + Sync),
) {
    let _ = stream.set_nodelay(true);
    let _ = stream.set_write_timeout(Some(limits.write_timeout));
    let Ok(writer) = stream.try_clone() else {
        return;
    };
    let mut writer = writer;
    let mut reader = BufReader::with_capacity(4096, stream);
    for served in 1..=limits.max_requests {
        idle.store(true, Ordering::Relaxed);
        let (request, keep_alive) = match read_request(&mut reader, peer, &limits, idle) {
            Ok(r) => r,
            Err(Stop::Quietly) => return,
            Err(Stop::Answer(response)) => {
                let _ = write_response(&mut writer, &response, false, false);
                return;
            }
        };
        let response = handler(&request);
        let keep_alive = keep_alive && served < limits.max_requests;
        let head_only = request.method == "HEAD";
        if write_response(&mut writer, &response, head_only, keep_alive).is_err() || !keep_alive {
            return;
        }
    }
}

/// Reads one request within the limits; `true` when the connection may stay open after it.
fn read_request(
    reader: &mut BufReader<TcpStream>,
    peer: SocketAddr,
    limits: &Limits,
    idle: &AtomicBool,
) -> Result<(Request, bool), Stop> {
    let deadline = Instant::now() + limits.read_timeout;
    let mut head = Vec::with_capacity(512);
    let mut blank_lines = 0;
    // Read lines until the blank one, never past max_head, never past the deadline: a
    // client dripping a byte at a time gets the same ten seconds as any other.
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(if head.is_empty() {
                Stop::Quietly
            } else {
                Stop::Answer(Response::text(408, "Request Timeout\n"))
            });
        }
        let _ = reader.get_ref().set_read_timeout(Some(left));
        let room = limits.max_head.saturating_sub(head.len());
        if room == 0 {
            return Err(Stop::Answer(Response::text(
                431,
                "Request Header Fields Too Large\n",
            )));
        }
        let mut line = Vec::new();
        let read = (&mut *reader)
            .take(room as u64)
            .read_until(b'\n', &mut line);
        match read {
            Ok(0) => return Err(Stop::Quietly),
            // A request has begun: this connection is no longer one to close for room.
            Ok(_) => idle.store(false, Ordering::Relaxed),
            // A head begun and not finished in time is answered; silence is just closed.
            Err(_) if head.is_empty() && line.is_empty() => return Err(Stop::Quietly),
            Err(_) => return Err(Stop::Answer(Response::text(408, "Request Timeout\n"))),
        }
        // A blank line or two before a request line is allowed (RFC 9112 2.2); more is noise.
        if head.is_empty() && (line == b"\r\n" || line == b"\n") {
            blank_lines += 1;
            if blank_lines > 2 {
                return Err(Stop::Answer(Response::text(400, "Bad Request\n")));
            }
            continue;
        }
        let ended = line == b"\r\n" || line == b"\n";
        head.extend_from_slice(&line);
        if ended {
            break;
        }
        if !line.ends_with(b"\n") && head.len() >= limits.max_head {
            // The first line is the request line: too long there means the URI.
            return Err(Stop::Answer(if head.len() == line.len() {
                Response::text(414, "URI Too Long\n")
            } else {
                Response::text(431, "Request Header Fields Too Large\n")
            }));
        }
    }
    let text = String::from_utf8_lossy(&head);
    let mut lines = text.split("\r\n").flat_map(|l| l.split('\n'));
    let bad = || Stop::Answer(Response::text(400, "Bad Request\n"));
    let request_line = lines.next().ok_or_else(bad)?;
    let mut parts = request_line.split(' ');
    let (Some(method), Some(target), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return Err(bad());
    }
    let http11 = match version {
        "HTTP/1.1" => true,
        "HTTP/1.0" => false,
        v if v.starts_with("HTTP/") => {
            return Err(Stop::Answer(Response::text(
                505,
                "HTTP Version Not Supported\n",
            )));
        }
        _ => return Err(bad()),
    };
    let mut headers = Vec::new();
    for line in lines.filter(|l| !l.is_empty()) {
        let (name, value) = line.split_once(':').ok_or_else(bad)?;
        if name.is_empty() || name.contains(char::is_whitespace) {
            return Err(bad());
        }
        // No bare CR, NUL or other control in a field (RFC 9110 5.5): a proxy in front
        // may read such a header differently, the start of request smuggling.
        if value.bytes().any(|b| (b < 0x20 && b != b'\t') || b == 0x7f) {
            return Err(bad());
        }
        headers.push((name.to_string(), value.trim().to_string()));
        if headers.len() > 100 {
            return Err(Stop::Answer(Response::text(
                431,
                "Request Header Fields Too Large\n",
            )));
        }
    }
    let find = |name: &str| {
        headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_ascii_lowercase())
    };
    let count = |name: &str| {
        headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    };
    // One Content-Length of digits only, and one Host (which HTTP/1.1 requires, RFC 9112
    // 3.2 and 6.3): where a proxy in front and this server could count a request's end
    // differently, the request is refused.
    if count("content-length") > 1 || count("host") > 1 || (http11 && count("host") == 0) {
        return Err(bad());
    }
    if find("transfer-encoding").is_some() {
        return Err(Stop::Answer(Response::text(411, "Length Required\n")));
    }
    let length = match find("content-length") {
        None => 0,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            v.parse::<usize>().map_err(|_| bad())?
        }
        Some(_) => return Err(bad()),
    };
    if length > limits.max_body {
        return Err(Stop::Answer(Response::text(413, "Content Too Large\n")));
    }
    match find("expect").as_deref() {
        None => {}
        Some("100-continue") if length > 0 => {
            let _ = reader.get_mut().write_all(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        Some("100-continue") => {}
        Some(_) => return Err(Stop::Answer(Response::text(417, "Expectation Failed\n"))),
    }
    let mut body = vec![0u8; length];
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let _ = reader.get_ref().set_read_timeout(Some(left));
    if reader.read_exact(&mut body).is_err() {
        return Err(Stop::Quietly);
    }
    let keep_alive = match find("connection").as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => http11,
    };
    Ok((
        Request {
            method: method.to_string(),
            target: target.to_string(),
            headers,
            body,
            peer,
        },
        keep_alive,
    ))
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

fn write_response(
    w: &mut TcpStream,
    r: &Response,
    head_only: bool,
    keep_alive: bool,
) -> std::io::Result<()> {
    let mut out = Vec::with_capacity(256);
    let _ = write!(out, "HTTP/1.1 {} {}\r\n", r.status, reason(r.status));
    for (name, value) in &r.headers {
        let _ = write!(out, "{name}: {value}\r\n");
    }
    let _ = write!(
        out,
        "Content-Length: {}\r\nConnection: {}\r\n\r\n",
        r.body.len(),
        if keep_alive { "keep-alive" } else { "close" }
    );
    // A small body goes in the head's packet; a big one from where it is, uncopied.
    let small = r.body.len() <= 16 * 1024;
    if !head_only && small {
        out.extend_from_slice(&r.body);
    }
    w.write_all(&out)?;
    if !head_only && !small {
        w.write_all(&r.body)?;
    }
    w.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    fn start(limits: Limits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            serve(
                listener,
                limits,
                Arc::new(|r: &Request| {
                    Response::text(200, &format!("{} {} {}", r.method, r.target, r.body.len()))
                }),
            )
        });
        addr
    }

    fn exchange(addr: SocketAddr, raw: &[u8]) -> String {
        let mut s = TcpStream::connect(addr).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(5)))
            .expect("timeout");
        s.write_all(raw).expect("write");
        let mut out = String::new();
        let _ = s.read_to_string(&mut out);
        out
    }

    #[test]
    fn answers_and_keeps_alive() {
        let addr = start(Limits::default());
        let out = exchange(
            addr,
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.contains("GET /a 0"), "{out}");
        assert!(out.contains("POST /b 3"), "{out}");
        assert!(
            out.ends_with("Connection: close\r\n\r\n"),
            "HEAD has no body: {out}"
        );
        assert_eq!(out.matches("HTTP/1.1 200 OK").count(), 3);
    }

    #[test]
    fn refuses_what_breaks_the_limits() {
        let limits = Limits {
            max_head: 256,
            max_body: 8,
            read_timeout: Duration::from_millis(300),
            ..Limits::default()
        };
        let addr = start(limits);
        let long = format!("GET /{} HTTP/1.1\r\n\r\n", "a".repeat(1000));
        assert!(exchange(addr, long.as_bytes()).starts_with("HTTP/1.1 414"));
        let header = format!(
            "GET / HTTP/1.1\r\nHost: x\r\nX: {}\r\n\r\n",
            "a".repeat(1000)
        );
        assert!(exchange(addr, header.as_bytes()).starts_with("HTTP/1.1 431"));
        assert!(
            exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: 9\r\n\r\n123456789"
            )
            .starts_with("HTTP/1.1 413")
        );
        assert!(exchange(addr, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        assert!(exchange(addr, b"GET / HTTP/2.0\r\n\r\n").starts_with("HTTP/1.1 505"));
        assert!(
            exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            .starts_with("HTTP/1.1 411")
        );
        let started = Instant::now();
        assert!(exchange(addr, b"GET / HTTP/1.1\r\nHost:").starts_with("HTTP/1.1 408"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    #[test]
    fn a_new_client_gets_in_by_closing_the_oldest_idle_connection() {
        let limits = Limits {
            max_connections: 16,
            max_per_client: 4,
            reserve: 2,
            ..Limits::default()
        };
        let addr = start(limits);
        let idle: Vec<TcpStream> = (0..4)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        // Let the server take all four before the fifth comes.
        std::thread::sleep(Duration::from_millis(100));
        let started = Instant::now();
        let out = exchange(
            addr,
            b"GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(started.elapsed() < Duration::from_secs(1));
        // The oldest idle one was closed to make room: it reads the end.
        let mut first = &idle[0];
        first
            .set_read_timeout(Some(Duration::from_secs(2)))
            .expect("timeout");
        let mut buf = [0u8; 16];
        assert_eq!(
            first.read(&mut buf).expect("read"),
            0,
            "closed by the server"
        );
        // A connection in the middle of a request is never the one closed.
        let mut busy = TcpStream::connect(addr).expect("connect");
        busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\n")
            .expect("write");
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..6 {
            let out = exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        }
        busy.write_all(b"Connection: close\r\n\r\n")
            .expect("finish");
        let mut answer = String::new();
        let _ = busy.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }
}
