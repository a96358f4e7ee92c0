//! A TCP proxy on 127.0.0.1 between two parts (a node and its peer, a node and its
//! channel) whose link a test can open, slow down, black-hole or cut, and whose far end
//! can move (a server restarted on another port).

use std::io::{Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

/// What the link does with a connection accepted now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Link {
    /// Passed through.
    Open,
    /// Passed through after this long: a slow link.
    Delay(Duration),
    /// Accepted, read and never answered: packets lost on the way.
    BlackHole,
    /// Closed at once: a link that is down.
    Cut,
}

pub struct Proxy {
    pub port: u16,
    to: Arc<Mutex<Option<SocketAddr>>>,
    link: Arc<Mutex<Link>>,
    accepted: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
}

impl Proxy {
    /// A proxy, its link open, leading nowhere until `to`.
    pub fn start() -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the proxy");
        let port = listener.local_addr().expect("addr").port();
        let proxy = Proxy {
            port,
            to: Arc::default(),
            link: Arc::new(Mutex::new(Link::Open)),
            accepted: Arc::default(),
            stop: Arc::default(),
        };
        let (to, link, accepted, stop) = (
            Arc::clone(&proxy.to),
            Arc::clone(&proxy.link),
            Arc::clone(&proxy.accepted),
            Arc::clone(&proxy.stop),
        );
        thread::spawn(move || {
            for conn in listener.incoming() {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(conn) = conn else { continue };
                accepted.fetch_add(1, Ordering::SeqCst);
                let link = *link.lock().expect("link");
                let to = *to.lock().expect("to");
                thread::spawn(move || carry(conn, link, to));
            }
        });
        proxy
    }

    /// Leads to 127.0.0.1:`port` from now on.
    pub fn to(&self, port: u16) {
        *self.to.lock().expect("to") = Some(SocketAddr::from(([127, 0, 0, 1], port)));
    }

    /// What the link does with connections from now on.
    pub fn set(&self, link: Link) {
        *self.link.lock().expect("link") = link;
    }

    /// How many connections the proxy has accepted.
    pub fn accepted(&self) -> usize {
        self.accepted.load(Ordering::SeqCst)
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn carry(conn: TcpStream, link: Link, to: Option<SocketAddr>) {
    match link {
        Link::Cut => return,
        Link::BlackHole => {
            // Read what comes and say nothing, for longer than any timeout of cabot's.
            let _ = conn.set_read_timeout(Some(Duration::from_secs(30)));
            let mut sink = [0u8; 4096];
            let mut conn = conn;
            while matches!(conn.read(&mut sink), Ok(n) if n > 0) {}
            return;
        }
        Link::Delay(delay) => thread::sleep(delay),
        Link::Open => {}
    }
    let Some(Ok(far)) = to.map(|to| TcpStream::connect_timeout(&to, Duration::from_secs(2))) else {
        return;
    };
    let (Ok(conn_back), Ok(far_back)) = (conn.try_clone(), far.try_clone()) else {
        return;
    };
    let there = thread::spawn(move || pipe(conn, far));
    pipe(far_back, conn_back);
    let _ = there.join();
}

/// Copies `from` to `to` until `from` ends, then ends `to`'s writing half.
fn pipe(mut from: TcpStream, mut to: TcpStream) {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match from.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                if to.write_all(&buf[..n]).is_err() {
                    break;
                }
            }
        }
    }
    let _ = to.shutdown(Shutdown::Write);
}
