//! `tcp`: a port that accepts, one that refuses, and a host without a port.

use super::*;
use crate::support::*;

#[test]
fn the_tcp_check_connects_or_says_why_not() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("addr");
    let env = Env::new(&config(&format!(
        "      - {{ name: open, type: tcp, host: '{open}' }}
      - {{ name: split, type: tcp, host: 127.0.0.1, port: {port} }}
      - {{ name: closed, type: tcp, host: '127.0.0.1:{closed}' }}
",
        port = open.port(),
        closed = closed_port(),
    )));
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "open");
    assert_eq!(status, "passing");
    assert!(
        message.starts_with(&format!("connected to {open} in")),
        "{message}"
    );
    assert_eq!(result(&env.status_json(), "split").0, "passing");
    let (status, message) = result(&env.status_json(), "closed");
    assert_eq!(status, "failing");
    assert!(message.contains("connection refused"), "{message}");
    drop(listener);
}
