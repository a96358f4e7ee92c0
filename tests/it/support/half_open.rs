//! Half-sent requests from many addresses, and a watcher beside them: the attack on
//! `serve-status` of issue 24 (item 3). Shared by the end-to-end test and the benchmark
//! (`benches/run.rs` includes this file), so both measure the same thing.
//!
//! Every address is one of 127.0.0.2, 127.0.0.3, ...: loopback answers all of 127/8.

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// What every attacking connection sends: a request head that never ends.
const HALF_A_HEAD: &[u8] = b"GET /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ";

/// Attackers at work until dropped.
pub struct Attack {
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Connections open now, as far as the attackers know.
    pub held: Arc<AtomicUsize>,
    /// Connections the server closed (and the attackers opened again).
    pub closed_by_server: Arc<AtomicUsize>,
}

impl Attack {
    /// `per_address` connections from each of `addresses` addresses, each sending half a
    /// request head and opened again every `reopen` (whether or not the server closed it).
    pub fn start(
        server: SocketAddr,
        addresses: usize,
        per_address: usize,
        reopen: Duration,
    ) -> Attack {
        let stop = Arc::new(AtomicBool::new(false));
        let held = Arc::new(AtomicUsize::new(0));
        let closed_by_server = Arc::new(AtomicUsize::new(0));
        let threads = (0..addresses.min(4))
            .map(|t| {
                let mine: Vec<Ipv4Addr> = (0..addresses)
                    .filter(|a| a % 4 == t)
                    .map(|a| Ipv4Addr::new(127, 0, 0, 2 + u8::try_from(a).expect("at most 250")))
                    .collect();
                let (stop, held, closed) = (
                    Arc::clone(&stop),
                    Arc::clone(&held),
                    Arc::clone(&closed_by_server),
                );
                thread::spawn(move || {
                    attack(server, &mine, per_address, reopen, &stop, &held, &closed)
                })
            })
            .collect();
        Attack {
            stop,
            threads,
            held,
            closed_by_server,
        }
    }

    /// Waits until `n` connections are open, or `within` has passed; how many are.
    pub fn wait_for(&self, n: usize, within: Duration) -> usize {
        let deadline = Instant::now() + within;
        while self.held.load(Ordering::Relaxed) < n && Instant::now() < deadline {
            thread::sleep(Duration::from_millis(20));
        }
        self.held.load(Ordering::Relaxed)
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn open_from(source: Ipv4Addr, server: SocketAddr) -> Option<TcpStream> {
    use socket2::{Domain, Socket, Type};
    let socket = Socket::new(Domain::IPV4, Type::STREAM, None).ok()?;
    socket.bind(&SocketAddr::from((source, 0)).into()).ok()?;
    socket
        .connect_timeout(&server.into(), Duration::from_secs(1))
        .ok()?;
    let mut conn: TcpStream = socket.into();
    conn.write_all(HALF_A_HEAD).ok()?;
    conn.set_nonblocking(true).ok()?;
    Some(conn)
}

/// Whether the server has closed `conn` (what it sent before, a 408, is read and dropped).
fn closed(conn: &mut TcpStream) -> bool {
    let mut buf = [0u8; 512];
    loop {
        match conn.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return false,
            Err(_) => return true,
        }
    }
}

fn attack(
    server: SocketAddr,
    sources: &[Ipv4Addr],
    per_address: usize,
    reopen: Duration,
    stop: &AtomicBool,
    held: &AtomicUsize,
    closed_by_server: &AtomicUsize,
) {
    // Each place: its address, its connection while open, and when it was last opened.
    let mut places: Vec<(Ipv4Addr, Option<TcpStream>, Option<Instant>)> = sources
        .iter()
        .flat_map(|s| std::iter::repeat_n(*s, per_address))
        .map(|s| (s, None, None))
        .collect();
    while !stop.load(Ordering::Relaxed) {
        for (source, conn, opened) in &mut places {
            if stop.load(Ordering::Relaxed) {
                break;
            }
            if conn.as_mut().is_some_and(closed) {
                *conn = None;
                held.fetch_sub(1, Ordering::Relaxed);
                closed_by_server.fetch_add(1, Ordering::Relaxed);
            }
            if opened.is_none_or(|at| at.elapsed() >= reopen) {
                if conn.take().is_some() {
                    held.fetch_sub(1, Ordering::Relaxed);
                }
                *opened = Some(Instant::now());
                if let Some(fresh) = open_from(*source, server) {
                    *conn = Some(fresh);
                    held.fetch_add(1, Ordering::Relaxed);
                }
            }
        }
        thread::sleep(Duration::from_millis(20));
    }
}

/// A watcher's probes, from 127.0.0.1: how long each `/status/` took to be answered,
/// `None` for one not answered within `timeout`.
pub fn watch(
    server: SocketAddr,
    probes: usize,
    every: Duration,
    timeout: Duration,
) -> Vec<Option<Duration>> {
    (0..probes)
        .map(|_| {
            let started = Instant::now();
            let answered = probe(server, timeout).then(|| started.elapsed());
            thread::sleep(every.saturating_sub(started.elapsed()));
            answered
        })
        .collect()
}

/// One `GET /status/` on a fresh connection, all within `timeout`.
fn probe(server: SocketAddr, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let Ok(mut conn) = TcpStream::connect_timeout(&server, timeout) else {
        return false;
    };
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() || conn.set_read_timeout(Some(left)).is_err() {
        return false;
    }
    let request = b"GET /status/ HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if conn.write_all(request).is_err() {
        return false;
    }
    let mut answer = Vec::new();
    let _ = conn.read_to_end(&mut answer);
    Instant::now() <= deadline
        && answer.starts_with(b"HTTP/1.1 ")
        && answer.ends_with(b"Checks running")
}
