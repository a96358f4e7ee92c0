//! The HTTP/1.1 on the wire for `serve-status`, written for hostile networks.
//!
//! tiny_http, which this replaced, reads a request head into memory without a limit,
//! lets one client that pipelines requests and never reads the answers hold every worker,
//! and loses its accept thread when the process runs out of file descriptors. Here every
//! connection has its own thread, a cap on how many there are, a deadline for each request
//! head, bounded heads and bodies, and write timeouts; an accept error is waited out.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The bounds a connection lives within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections served at once; more are closed at once.
    pub max_connections: usize,
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
            max_head: 8 * 1024,
            max_body: 4 * 1024,
            read_timeout: Duration::from_secs(10),
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
    pub body: Vec<u8>,
}

impl Response {
    /// An answer of `content_type`.
    pub fn new(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Response {
        Response {
            status,
            headers: vec![("Content-Type", content_type.to_string())],
            body: body.into(),
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

/// Serves `handler` on `listener` until the process ends.
pub fn serve(
    listener: TcpListener,
    limits: Limits,
    handler: Arc<dyn Fn(&Request) -> Response + Send + Sync>,
) -> ! {
    let open = Arc::new(AtomicUsize::new(0));
    loop {
        let (stream, peer) = match listener.accept() {
            Ok(c) => c,
            Err(_) => {
                // Out of descriptors, or a connection reset before accept: wait it out.
                std::thread::sleep(Duration::from_millis(50));
                continue;
            }
        };
        if open.load(Ordering::Relaxed) >= limits.max_connections {
            drop(stream);
            continue;
        }
        open.fetch_add(1, Ordering::Relaxed);
        let open_now = Arc::clone(&open);
        let handler = Arc::clone(&handler);
        let spawned = std::thread::Builder::new()
            .stack_size(256 * 1024)
            .spawn(move || {
                connection(stream, peer, limits, handler.as_ref());
                open_now.fetch_sub(1, Ordering::Relaxed);
            });
        if spawned.is_err() {
            open.fetch_sub(1, Ordering::Relaxed);
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
        let (request, keep_alive) = match read_request(&mut reader, peer, &limits) {
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
            Ok(_) => {}
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
    if find("transfer-encoding").is_some() {
        return Err(Stop::Answer(Response::text(411, "Length Required\n")));
    }
    let length = match find("content-length") {
        None => 0,
        Some(v) => v.parse::<usize>().map_err(|_| bad())?,
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
    let mut out = Vec::with_capacity(256 + r.body.len());
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
    if !head_only {
        out.extend_from_slice(&r.body);
    }
    w.write_all(&out)?;
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
            b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 3\r\n\r\nabcHEAD /c HTTP/1.1\r\nConnection: close\r\n\r\n",
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
        let header = format!("GET / HTTP/1.1\r\nX: {}\r\n\r\n", "a".repeat(1000));
        assert!(exchange(addr, header.as_bytes()).starts_with("HTTP/1.1 431"));
        assert!(
            exchange(
                addr,
                b"GET / HTTP/1.1\r\nContent-Length: 9\r\n\r\n123456789"
            )
            .starts_with("HTTP/1.1 413")
        );
        assert!(exchange(addr, b"garbage\r\n\r\n").starts_with("HTTP/1.1 400"));
        assert!(exchange(addr, b"GET / HTTP/2.0\r\n\r\n").starts_with("HTTP/1.1 505"));
        assert!(
            exchange(
                addr,
                b"GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
            )
            .starts_with("HTTP/1.1 411")
        );
        let started = Instant::now();
        assert!(exchange(addr, b"GET / HTTP/1.1\r\nHost:").starts_with("HTTP/1.1 408"));
        assert!(started.elapsed() < Duration::from_secs(2));
    }
}
