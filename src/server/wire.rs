//! The HTTP/1.1 on the wire for `serve-status`, written for hostile networks.
//!
//! tiny_http, which this replaced, reads a request head into memory without a limit,
//! lets one client that pipelines requests and never reads the answers hold every worker,
//! and loses its accept thread when the process runs out of file descriptors. A thread per
//! connection, which came next, let a thousand half-sent requests take every slot.
//!
//! So one thread holds every connection in an event loop (mio: a socket waiting costs
//! its descriptor and a few hundred bytes, not a thread), reads request heads within a
//! bound and a deadline, and hands each whole request to a small pool of workers, which
//! read the state; the loop writes their answers with a deadline of their own. Heads
//! are parsed by httparse, the parser hyper uses; the rules a proxy in front could read
//! another way (two lengths, no Host, a bare CR) are checked here on top of it.
//!
//! No client can crowd out the others: one address holds at most `max_per_client`
//! connections, and when a new connection finds no room (for its address, or near the
//! overall cap) the connection that has waited longest for its request is closed to make
//! it. A connection whose request is whole (being answered, or its answer being written)
//! is never closed for room. The fuller the server, the shorter the time a request has to
//! arrive, so that half-sent requests cannot hold the places for long either.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::io::{ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use mio::net::{TcpListener as Listener, TcpStream};
use mio::{Events, Interest, Poll, Token, Waker};

/// The bounds a connection lives within.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections open at once (also kept under the open-files limit).
    pub max_connections: usize,
    /// Connections from one client address at once.
    pub max_per_client: usize,
    /// Near `max_connections`, this many places are made by closing connections that wait
    /// for their request rather than refusing, so that new clients always get in.
    pub reserve: usize,
    /// The request line and headers together.
    pub max_head: usize,
    /// A request body (only pings and provider webhooks have one).
    pub max_body: usize,
    /// For a whole request to arrive, and between requests on a kept-alive connection,
    /// while the server is at most half full.
    pub read_timeout: Duration,
    /// The same when the server is full; between the two as it fills.
    pub min_read_timeout: Duration,
    /// For an answer to be taken by the client.
    pub write_timeout: Duration,
    /// Requests on one connection before it is closed.
    pub max_requests: usize,
    /// Threads answering requests at once (reading the state); more wait their turn.
    pub max_workers: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_connections: 10_000,
            max_per_client: 64,
            reserve: 64,
            max_head: 8 * 1024,
            // A provider's webhook (PagerDuty's carries the whole incident) fits.
            max_body: 32 * 1024,
            read_timeout: Duration::from_secs(5),
            min_read_timeout: Duration::from_millis(500),
            write_timeout: Duration::from_secs(10),
            max_requests: 1000,
            max_workers: 16,
        }
    }
}

impl Limits {
    /// How long a request has to arrive when `open` of `max` places are taken: the full
    /// `read_timeout` up to half full, falling linearly to `min_read_timeout` when full.
    fn read_timeout_at(&self, open: usize, max: usize) -> Duration {
        let half = max.max(2) / 2;
        if open <= half {
            return self.read_timeout;
        }
        let over = (open - half).min(half) as u32;
        let span = self.read_timeout.saturating_sub(self.min_read_timeout);
        self.read_timeout - span * over / half as u32
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

type Handler = Arc<dyn Fn(&Request) -> Response + Send + Sync>;

const LISTENER: Token = Token(0);
const WAKER: Token = Token(1);
/// Connection `i` in the slab is token `i + FIRST`.
const FIRST: usize = 2;

/// Where a connection is in its exchange.
enum Phase {
    /// Waiting for a request (a first, the next on a kept-alive connection, or the rest
    /// of one begun) since `since`: closable for room, and closed when too late.
    /// `head_whole` once its head is in and its body is awaited.
    Reading { since: Instant, head_whole: bool },
    /// Its request is with a worker.
    Answering,
    /// Its answer going out: `out` (the head, and a small body with it) then `body`.
    Writing {
        out: Vec<u8>,
        body: Option<Arc<[u8]>>,
        written: usize,
        keep_alive: bool,
        deadline: Instant,
    },
}

struct Conn {
    stream: TcpStream,
    peer: SocketAddr,
    /// Tells a worker's answer for an earlier holder of this slab place from its own.
    id: u64,
    /// What was read and not yet taken as a request; bounded by a head and a body.
    buf: Vec<u8>,
    served: usize,
    phase: Phase,
}

/// A worker's answer, on its way back to the loop.
struct Answered {
    slot: usize,
    id: u64,
    response: Response,
    head_only: bool,
    keep_alive: bool,
}

/// Serves `handler` on `listener` until the process ends.
pub fn serve(listener: TcpListener, limits: Limits, handler: Handler) -> ! {
    loop {
        // Only setting up the poll can fail (out of memory or descriptors): try again.
        if let Err(e) = event_loop(&listener, limits, &handler) {
            eprintln!("cabot: serve-status: {e}; starting over in a second");
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

fn event_loop(listener: &TcpListener, limits: Limits, handler: &Handler) -> std::io::Result<()> {
    let mut poll = Poll::new()?;
    let waker = Arc::new(Waker::new(poll.registry(), WAKER)?);
    listener.set_nonblocking(true)?;
    let mut listener = Listener::from_std(listener.try_clone()?);
    poll.registry()
        .register(&mut listener, LISTENER, Interest::READABLE)?;
    let answered = Arc::new(Mutex::new(Vec::<Answered>::new()));
    let workers = Workers::new(limits.max_workers, Arc::clone(handler), {
        let answered = Arc::clone(&answered);
        let waker = Arc::clone(&waker);
        move |a| {
            if let Ok(mut list) = answered.lock() {
                list.push(a);
            }
            let _ = waker.wake();
        }
    });
    let mut server = Server {
        registry: poll.registry().try_clone()?,
        max: limits.max_connections.min(descriptors_for_connections()),
        limits,
        conns: Vec::new(),
        free: Vec::new(),
        open: 0,
        next_id: 0,
        reading: BTreeSet::new(),
        clients: HashMap::new(),
        writing: BTreeSet::new(),
        workers,
        accept_after: None,
    };
    let mut events = Events::with_capacity(1024);
    loop {
        let wait = server.next_deadline().map(|at| {
            at.saturating_duration_since(Instant::now())
                // Rounded up, so the poll does not wake just before a deadline, in a loop.
                + Duration::from_millis(1)
        });
        if let Err(e) = poll.poll(&mut events, wait)
            && e.kind() != ErrorKind::Interrupted
        {
            return Err(e);
        }
        let mut accept = false;
        for event in &events {
            match event.token() {
                LISTENER => accept = true,
                WAKER => {}
                // A close or an error is read or written to find out, and then closed.
                Token(t) => server.ready(
                    t - FIRST,
                    event.is_readable() || event.is_read_closed() || event.is_error(),
                    event.is_writable() || event.is_write_closed() || event.is_error(),
                ),
            }
        }
        let done = answered
            .lock()
            .map(|mut list| std::mem::take(&mut *list))
            .unwrap_or_default();
        for a in done {
            server.answered(a);
        }
        // New connections last: a request already in the batch makes its connection
        // one that is not closed for room.
        if accept || server.accept_after.is_some_and(|at| at <= Instant::now()) {
            server.accept(&listener);
        }
        server.expire(Instant::now());
    }
}

/// How many connections the open-files limit leaves room for, after the state's files
/// (three a worker), the poll and whatever else the process holds.
fn descriptors_for_connections() -> usize {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } != 0 {
        return 1024;
    }
    usize::try_from(limit.rlim_cur)
        .unwrap_or(usize::MAX)
        .saturating_sub(128)
        .max(16)
}

/// The connections, and the orders they are looked at in.
struct Server {
    registry: mio::Registry,
    limits: Limits,
    /// `limits.max_connections`, or fewer when descriptors are short.
    max: usize,
    conns: Vec<Option<Conn>>,
    free: Vec<usize>,
    open: usize,
    next_id: u64,
    /// Connections waiting for a request, longest waiting first.
    reading: BTreeSet<(Instant, usize)>,
    /// Per client address: its connections, and those of them waiting for a request.
    clients: HashMap<IpAddr, Client>,
    /// Connections whose answer is not yet taken, by deadline.
    writing: BTreeSet<(Instant, usize)>,
    workers: Workers,
    /// Accepting failed for want of descriptors: try again then.
    accept_after: Option<Instant>,
}

#[derive(Default)]
struct Client {
    open: usize,
    reading: BTreeSet<(Instant, usize)>,
}

impl Server {
    fn next_deadline(&self) -> Option<Instant> {
        let timeout = self.limits.read_timeout_at(self.open, self.max);
        [
            self.reading.first().map(|(since, _)| *since + timeout),
            self.writing.first().map(|(at, _)| *at),
            self.accept_after,
        ]
        .into_iter()
        .flatten()
        .min()
    }

    fn accept(&mut self, listener: &Listener) {
        self.accept_after = None;
        loop {
            match listener.accept() {
                Ok((stream, peer)) => self.admit(stream, peer),
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e)
                    if matches!(e.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
                        || e.kind() == ErrorKind::OutOfMemory =>
                {
                    // Out of descriptors: the connection waits in the kernel's queue;
                    // take it once some are free (a worker's may be, soon).
                    self.accept_after = Some(Instant::now() + Duration::from_millis(50));
                    return;
                }
                // Reset before it was taken, and the like: the next one.
                Err(_) => {}
            }
        }
    }

    /// Takes a new connection, closing the one that has waited longest for its request
    /// where there is no room (of its own address when that is over its share).
    fn admit(&mut self, mut stream: TcpStream, peer: SocketAddr) {
        let client = peer.ip();
        let mine = self.clients.get(&client).map_or(0, |c| c.open);
        if mine >= self.limits.max_per_client {
            let oldest = self.clients.get(&client).and_then(|c| c.reading.first());
            match oldest.copied() {
                Some((_, slot)) => self.close(slot),
                None => return,
            }
        } else if self.open + self.limits.reserve.min(self.max / 4) >= self.max {
            match self.reading.first().copied() {
                Some((_, slot)) => self.close(slot),
                None if self.open >= self.max => return,
                None => {}
            }
        }
        let slot = self.free.pop().unwrap_or_else(|| {
            self.conns.push(None);
            self.conns.len() - 1
        });
        let interest = Interest::READABLE | Interest::WRITABLE;
        if self
            .registry
            .register(&mut stream, Token(slot + FIRST), interest)
            .is_err()
        {
            self.free.push(slot);
            return;
        }
        let _ = stream.set_nodelay(true);
        let now = Instant::now();
        self.next_id += 1;
        self.conns[slot] = Some(Conn {
            stream,
            peer,
            id: self.next_id,
            buf: Vec::new(),
            served: 0,
            phase: Phase::Reading {
                since: now,
                head_whole: false,
            },
        });
        self.open += 1;
        let entry = self.clients.entry(client).or_default();
        entry.open += 1;
        entry.reading.insert((now, slot));
        self.reading.insert((now, slot));
        // A request may have come with the connection.
        self.read(slot);
    }

    /// Closes `slot` without a word.
    fn close(&mut self, slot: usize) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.unlist(slot, &conn);
        let _ = self.registry.deregister(&mut conn.stream);
        self.open -= 1;
        let ip = conn.peer.ip();
        if let Some(client) = self.clients.get_mut(&ip) {
            client.open -= 1;
            if client.open == 0 {
                self.clients.remove(&ip);
            }
        }
        self.free.push(slot);
    }

    /// Takes `slot` out of the orders its phase put it in.
    fn unlist(&mut self, slot: usize, conn: &Conn) {
        match conn.phase {
            Phase::Reading { since, .. } => {
                self.reading.remove(&(since, slot));
                if let Some(client) = self.clients.get_mut(&conn.peer.ip()) {
                    client.reading.remove(&(since, slot));
                }
            }
            Phase::Writing { deadline, .. } => {
                self.writing.remove(&(deadline, slot));
            }
            Phase::Answering => {}
        }
    }

    /// Moves `slot` to `phase`, in and out of the orders.
    fn enter(&mut self, slot: usize, phase: Phase) {
        let Some(mut conn) = self.conns.get_mut(slot).and_then(Option::take) else {
            return;
        };
        self.unlist(slot, &conn);
        match &phase {
            Phase::Reading { since, .. } => {
                self.reading.insert((*since, slot));
                if let Some(client) = self.clients.get_mut(&conn.peer.ip()) {
                    client.reading.insert((*since, slot));
                }
            }
            Phase::Writing { deadline, .. } => {
                self.writing.insert((*deadline, slot));
            }
            Phase::Answering => {}
        }
        conn.phase = phase;
        self.conns[slot] = Some(conn);
    }

    fn ready(&mut self, slot: usize, readable: bool, writable: bool) {
        let Some(conn) = self.conns.get(slot).and_then(Option::as_ref) else {
            return;
        };
        match conn.phase {
            Phase::Reading { .. } if readable => self.read(slot),
            Phase::Writing { .. } if writable => self.write(slot),
            // Answering: what the client sends meanwhile waits in the kernel, read
            // once the answer is out.
            _ => {}
        }
    }

    /// Reads what `slot`'s client sent, and takes a request when one is whole.
    fn read(&mut self, slot: usize) {
        let cap = self.limits.max_head + self.limits.max_body;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let before = conn.buf.len();
        let mut chunk = [0u8; 8192];
        let mut closed = false;
        while conn.buf.len() < cap {
            let room = (cap - conn.buf.len()).min(chunk.len());
            match conn.stream.read(&mut chunk[..room]) {
                Ok(0) => {
                    closed = true;
                    break;
                }
                Ok(n) => conn.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => {
                    closed = true;
                    break;
                }
            }
        }
        self.take_request(slot, before, closed);
    }

    /// Looks for a whole request in what `slot` has read (`before` bytes of it seen
    /// already) and hands it to a worker, answers a broken one, or waits for more.
    fn take_request(&mut self, slot: usize, before: usize, closed: bool) {
        let limits = self.limits;
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Phase::Reading { head_whole, .. } = conn.phase else {
            return;
        };
        // Once the head is in, its end lies before what was read last: look from the start.
        let seen = if head_whole { 0 } else { before };
        match parse(&conn.buf, seen, conn.peer, &limits) {
            Parsed::Partial {
                head_whole: now_whole,
                expects_body,
            } => {
                if closed {
                    return self.close(slot);
                }
                if now_whole && !head_whole {
                    if expects_body {
                        // Best effort: a client that gets no 100 sends its body anyway.
                        let _ = conn.stream.write(b"HTTP/1.1 100 Continue\r\n\r\n");
                    }
                    if let Phase::Reading { head_whole, .. } = &mut conn.phase {
                        *head_whole = true;
                    }
                }
            }
            Parsed::Broken(response) => self.respond(slot, response, false, false),
            Parsed::Whole {
                request,
                length,
                keep_alive,
            } => {
                conn.buf.drain(..length);
                conn.served += 1;
                let keep_alive = keep_alive && conn.served < limits.max_requests && !closed;
                let head_only = request.method == "HEAD";
                let id = conn.id;
                self.enter(slot, Phase::Answering);
                self.workers.give(Job {
                    slot,
                    id,
                    request,
                    head_only,
                    keep_alive,
                });
            }
        }
    }

    fn answered(&mut self, a: Answered) {
        let mine = self
            .conns
            .get(a.slot)
            .and_then(Option::as_ref)
            .is_some_and(|c| c.id == a.id && matches!(c.phase, Phase::Answering));
        if mine {
            self.respond(a.slot, a.response, a.head_only, a.keep_alive);
        }
    }

    /// Starts writing `response` to `slot`.
    fn respond(&mut self, slot: usize, response: Response, head_only: bool, keep_alive: bool) {
        let (out, body) = encode(&response, head_only, keep_alive);
        let phase = Phase::Writing {
            out,
            body,
            written: 0,
            keep_alive,
            deadline: Instant::now() + self.limits.write_timeout,
        };
        self.enter(slot, phase);
        self.write(slot);
    }

    /// Writes what `slot`'s client will take of its answer; once all of it is out, reads
    /// its next request or closes it.
    fn write(&mut self, slot: usize) {
        let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let Phase::Writing {
            out,
            body,
            written,
            keep_alive,
            ..
        } = &mut conn.phase
        else {
            return;
        };
        let total = out.len() + body.as_ref().map_or(0, |b| b.len());
        while *written < total {
            let rest = match out.get(*written..) {
                Some(rest) if !rest.is_empty() => rest,
                _ => &body.as_deref().unwrap_or_default()[*written - out.len()..],
            };
            match conn.stream.write(rest) {
                Ok(0) => return self.close(slot),
                Ok(n) => *written += n,
                Err(e) if e.kind() == ErrorKind::WouldBlock => return,
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(_) => return self.close(slot),
            }
        }
        if !*keep_alive {
            return self.close(slot);
        }
        let phase = Phase::Reading {
            since: Instant::now(),
            head_whole: false,
        };
        self.enter(slot, phase);
        // The next request may be here already: read, or in the kernel since the last.
        self.take_request(slot, 0, false);
        if matches!(
            self.conns
                .get(slot)
                .and_then(Option::as_ref)
                .map(|c| &c.phase),
            Some(Phase::Reading { .. })
        ) {
            self.read(slot);
        }
    }

    /// Closes the connections whose request or answer is late: a request begun and not
    /// finished is told 408 first.
    fn expire(&mut self, now: Instant) {
        let timeout = self.limits.read_timeout_at(self.open, self.max);
        while let Some(&(since, slot)) = self.reading.first() {
            if since + timeout > now {
                break;
            }
            let begun = self
                .conns
                .get(slot)
                .and_then(Option::as_ref)
                .is_some_and(|c| !c.buf.is_empty());
            if begun {
                // At most one try: a client that sent half a request and reads nothing
                // gets no second deadline.
                let (out, _) = encode(&Response::text(408, "Request Timeout\n"), false, false);
                if let Some(conn) = self.conns.get_mut(slot).and_then(Option::as_mut) {
                    let _ = conn.stream.write(&out);
                }
            }
            self.close(slot);
        }
        while let Some(&(deadline, slot)) = self.writing.first() {
            if deadline > now {
                break;
            }
            self.close(slot);
        }
    }
}

/// A request for a worker.
struct Job {
    slot: usize,
    id: u64,
    request: Request,
    head_only: bool,
    keep_alive: bool,
}

/// Threads that answer requests, started as they are needed, up to a cap.
struct Workers {
    shared: Arc<(Mutex<Queue>, Condvar)>,
    max: usize,
    handler: Handler,
    deliver: Arc<dyn Fn(Answered) + Send + Sync>,
}

#[derive(Default)]
struct Queue {
    jobs: VecDeque<Job>,
    started: usize,
    idle: usize,
}

impl Workers {
    fn new(
        max: usize,
        handler: Handler,
        deliver: impl Fn(Answered) + Send + Sync + 'static,
    ) -> Workers {
        Workers {
            shared: Arc::default(),
            max: max.max(1),
            handler,
            deliver: Arc::new(deliver),
        }
    }

    fn give(&self, job: Job) {
        let (queue, ready) = &*self.shared;
        let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
        q.jobs.push_back(job);
        if q.idle == 0 && q.started < self.max {
            let shared = Arc::clone(&self.shared);
            let handler = Arc::clone(&self.handler);
            let deliver = Arc::clone(&self.deliver);
            let spawned = std::thread::Builder::new()
                .name("serve-worker".into())
                .stack_size(256 * 1024)
                .spawn(move || work(&shared, handler.as_ref(), deliver.as_ref()));
            if spawned.is_ok() {
                q.started += 1;
            }
        }
        ready.notify_one();
    }
}

fn work(
    shared: &(Mutex<Queue>, Condvar),
    handler: &(dyn Fn(&Request) -> Response + Send + Sync),
    deliver: &(dyn Fn(Answered) + Send + Sync),
) {
    let (queue, ready) = shared;
    loop {
        let job = {
            let mut q = queue.lock().unwrap_or_else(|e| e.into_inner());
            q.idle += 1;
            while q.jobs.is_empty() {
                q = ready.wait(q).unwrap_or_else(|e| e.into_inner());
            }
            q.idle -= 1;
            q.jobs.pop_front()
        };
        let Some(job) = job else { continue };
        // A handler that panics answers 500 and keeps its worker, and the connection
        // waiting for it gets an answer.
        let response =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| handler(&job.request)))
                .unwrap_or_else(|_| Response::text(500, "Internal Server Error\n"));
        deliver(Answered {
            slot: job.slot,
            id: job.id,
            response,
            head_only: job.head_only,
            keep_alive: job.keep_alive,
        });
    }
}

/// What a connection's bytes hold.
enum Parsed {
    /// Not a whole request yet: `head_whole` when only its body is missing, and
    /// `expects_body` when its head asked for a 100 Continue.
    Partial {
        head_whole: bool,
        expects_body: bool,
    },
    /// A request that is answered with this and the connection closed.
    Broken(Response),
    /// A request, `length` bytes of the buffer.
    Whole {
        request: Request,
        length: usize,
        keep_alive: bool,
    },
}

/// The most headers a request may have.
const MAX_HEADERS: usize = 100;

/// Reads the request at the start of `buf`, of which the first `seen` bytes were looked
/// at before (a head dripped a byte at a time is searched once, not once a byte).
fn parse(buf: &[u8], seen: usize, peer: SocketAddr, limits: &Limits) -> Parsed {
    let broken = |status, text: &str| Parsed::Broken(Response::text(status, text));
    let bad = || broken(400, "Bad Request\n");
    // A blank line or two before a request line is allowed (RFC 9112 2.2); more is noise.
    let mut start = 0;
    for blank in 0.. {
        let rest = &buf[start..];
        let skip = if rest.starts_with(b"\r\n") {
            2
        } else if rest.starts_with(b"\n") {
            1
        } else {
            break;
        };
        if blank == 2 {
            return bad();
        }
        start += skip;
    }
    let head = &buf[start..];
    let from = seen.saturating_sub(start + 3);
    let end = head
        .get(from..)
        .and_then(|rest| find_blank_line(rest).map(|at| from + at));
    let too_long = || {
        // The first line is the request line: too long there means the URI.
        let first_line_ends = head[..limits.max_head.min(head.len())].contains(&b'\n');
        if first_line_ends {
            broken(431, "Request Header Fields Too Large\n")
        } else {
            broken(414, "URI Too Long\n")
        }
    };
    let end = match end {
        Some(end) if end <= limits.max_head => end,
        Some(_) => return too_long(),
        None if head.len() >= limits.max_head => return too_long(),
        None => {
            return Parsed::Partial {
                head_whole: false,
                expects_body: false,
            };
        }
    };
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Request::new(&mut fields);
    match parsed.parse(&head[..end]) {
        Ok(httparse::Status::Complete(_)) => {}
        Ok(httparse::Status::Partial) => return bad(),
        Err(httparse::Error::TooManyHeaders) => {
            return broken(431, "Request Header Fields Too Large\n");
        }
        Err(httparse::Error::Version) => {
            let line = head.split(|b| *b == b'\n').next().unwrap_or_default();
            return if line.windows(5).any(|w| w == b"HTTP/") {
                broken(505, "HTTP Version Not Supported\n")
            } else {
                bad()
            };
        }
        Err(_) => return bad(),
    }
    let (Some(method), Some(target), Some(version)) = (parsed.method, parsed.path, parsed.version)
    else {
        return bad();
    };
    if method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || !target.starts_with('/')
    {
        return bad();
    }
    let http11 = version == 1;
    let headers: Vec<(String, String)> = parsed
        .headers
        .iter()
        .map(|h| {
            let value = String::from_utf8_lossy(h.value);
            (h.name.to_string(), value.trim().to_string())
        })
        .collect();
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
    // differently, the request is refused. (httparse has refused a bare CR, a NUL and
    // other controls in a field, RFC 9110 5.5, already.)
    if count("content-length") > 1 || count("host") > 1 || (http11 && count("host") == 0) {
        return bad();
    }
    if find("transfer-encoding").is_some() {
        return broken(411, "Length Required\n");
    }
    let length = match find("content-length") {
        None => 0,
        Some(v) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            match v.parse::<usize>() {
                Ok(n) => n,
                Err(_) => return bad(),
            }
        }
        Some(_) => return bad(),
    };
    if length > limits.max_body {
        return broken(413, "Content Too Large\n");
    }
    let expects_body = match find("expect").as_deref() {
        None => false,
        Some("100-continue") => length > 0,
        Some(_) => return broken(417, "Expectation Failed\n"),
    };
    let Some(body) = head.get(end..end + length) else {
        return Parsed::Partial {
            head_whole: true,
            expects_body,
        };
    };
    let keep_alive = match find("connection").as_deref() {
        Some(c) if c.contains("close") => false,
        Some(c) if c.contains("keep-alive") => true,
        _ => http11,
    };
    Parsed::Whole {
        request: Request {
            method: method.to_string(),
            target: target.to_string(),
            body: body.to_vec(),
            headers,
            peer,
        },
        length: start + end + length,
        keep_alive,
    }
}

/// Where the head in `bytes` ends: just past its blank line.
fn find_blank_line(bytes: &[u8]) -> Option<usize> {
    bytes.windows(2).enumerate().find_map(|(i, w)| match w {
        b"\n\n" => Some(i + 2),
        b"\n\r" if bytes.get(i + 2) == Some(&b'\n') => Some(i + 3),
        _ => None,
    })
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
        500 => "Internal Server Error",
        431 => "Request Header Fields Too Large",
        503 => "Service Unavailable",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}

/// The bytes of `r`: its head (with a small body in the same packet), and a big body to
/// go out from where it is, uncopied.
fn encode(r: &Response, head_only: bool, keep_alive: bool) -> (Vec<u8>, Option<Arc<[u8]>>) {
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
    if head_only {
        return (out, None);
    }
    if r.body.len() <= 16 * 1024 {
        out.extend_from_slice(&r.body);
        return (out, None);
    }
    (out, Some(Arc::clone(&r.body)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;
    use std::net::TcpStream;

    fn start(limits: Limits) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        std::thread::spawn(move || {
            serve(
                listener,
                limits,
                Arc::new(|r: &Request| {
                    if r.target == "/slow" {
                        std::thread::sleep(Duration::from_millis(800));
                    }
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

    /// A body sent after its head (curl waits for 100 Continue before a big one) is read.
    #[test]
    fn a_body_that_comes_after_its_head_is_read() {
        let addr = start(Limits::default());
        for expect in ["", "Expect: 100-continue\r\n"] {
            let mut s = TcpStream::connect(addr).expect("connect");
            s.set_read_timeout(Some(Duration::from_secs(3)))
                .expect("timeout");
            let head = format!(
                "POST /ping/x HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n{expect}\
                 Connection: close\r\n\r\n"
            );
            s.write_all(head.as_bytes()).expect("head");
            std::thread::sleep(Duration::from_millis(100));
            s.write_all(b"ab").expect("body");
            std::thread::sleep(Duration::from_millis(100));
            s.write_all(b"cde").expect("body");
            let mut out = String::new();
            let _ = s.read_to_string(&mut out);
            assert!(out.ends_with("POST /ping/x 5"), "{expect}: {out}");
        }
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

    /// Reads until the server closes `conn`; false if it is still open after `within`.
    fn closed_within(conn: &TcpStream, within: Duration) -> bool {
        conn.set_read_timeout(Some(within)).expect("timeout");
        let mut buf = [0u8; 256];
        let mut conn = conn;
        loop {
            match conn.read(&mut buf) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => return true,
                Err(_) => return false,
            }
        }
    }

    #[test]
    fn a_new_client_gets_in_by_closing_the_connection_that_waited_longest() {
        let limits = Limits {
            max_connections: 16,
            max_per_client: 4,
            reserve: 2,
            ..Limits::default()
        };
        let addr = start(limits);
        // The oldest sends nothing; the others half a request head each.
        let waiting: Vec<TcpStream> = (0..4)
            .map(|i| {
                let mut c = TcpStream::connect(addr).expect("connect");
                if i > 0 {
                    c.write_all(b"GET /half HTTP/1.1\r\nHost: x\r\n")
                        .expect("write");
                }
                std::thread::sleep(Duration::from_millis(30));
                c
            })
            .collect();
        let started = Instant::now();
        let out = exchange(
            addr,
            b"GET /fresh HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(started.elapsed() < Duration::from_secs(1));
        assert!(
            closed_within(&waiting[0], Duration::from_secs(2)),
            "the oldest closed"
        );
        // The next newcomer, with one more of the same address waiting, takes the place
        // of the oldest half-sent head.
        let _also_waiting = TcpStream::connect(addr).expect("connect");
        std::thread::sleep(Duration::from_millis(30));
        let out = exchange(
            addr,
            b"GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
        );
        assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        assert!(
            closed_within(&waiting[1], Duration::from_secs(2)),
            "half a head closed"
        );
        assert!(
            !closed_within(&waiting[3], Duration::from_millis(100)),
            "the newest kept"
        );
        // A connection whose request is whole is never the one closed, even while its
        // answer is slow and newcomers crowd in.
        let mut busy = TcpStream::connect(addr).expect("connect");
        busy.write_all(b"GET /slow HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .expect("write");
        std::thread::sleep(Duration::from_millis(100));
        for _ in 0..6 {
            let out = exchange(
                addr,
                b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
            );
            assert!(out.starts_with("HTTP/1.1 200 OK"), "{out}");
        }
        let mut answer = String::new();
        let _ = busy.read_to_string(&mut answer);
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
        assert!(answer.ends_with("GET /slow 0"), "{answer}");
    }

    #[test]
    fn a_request_has_less_time_to_arrive_the_fuller_the_server() {
        let limits = Limits {
            max_connections: 20,
            max_per_client: 20,
            reserve: 0,
            read_timeout: Duration::from_secs(10),
            min_read_timeout: Duration::from_millis(200),
            ..Limits::default()
        };
        let addr = start(limits);
        // Two of twenty: the whole ten seconds.
        let few: Vec<TcpStream> = (0..2)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        assert!(!closed_within(&few[0], Duration::from_secs(3)));
        drop(few);
        std::thread::sleep(Duration::from_millis(100));
        // Nineteen of twenty: the oldest has about 1.2 s. (Each one closed gives the rest
        // more time, so only the oldest is asked about: on a loaded machine the others
        // may be accepted late enough to outlive the pressure.)
        let started = Instant::now();
        let many: Vec<TcpStream> = (0..19)
            .map(|_| TcpStream::connect(addr).expect("connect"))
            .collect();
        assert!(closed_within(&many[0], Duration::from_secs(8)));
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn the_time_for_a_request_falls_from_half_full_to_full() {
        let limits = Limits {
            read_timeout: Duration::from_secs(5),
            min_read_timeout: Duration::from_millis(500),
            ..Limits::default()
        };
        let ms = |open| limits.read_timeout_at(open, 1000).as_millis();
        assert_eq!(
            [ms(0), ms(500), ms(750), ms(1000), ms(5000)],
            [5000, 5000, 2750, 500, 500]
        );
    }
}
