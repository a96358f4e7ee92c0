//! `tcp`: a connection to host:port opens within the timeout.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::Outcome;
use crate::config::TcpCheck;

pub fn run(check: &TcpCheck, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let target = format!("{}:{}", check.host, check.port);
    let addrs = match (check.host.as_str(), check.port).to_socket_addrs() {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => {
            return Outcome::fail(
                format!("unknown host {}: {e}", check.host),
                started.elapsed(),
            );
        }
    };
    if addrs.is_empty() {
        return Outcome::fail(format!("unknown host {}", check.host), started.elapsed());
    }
    let mut last_error = None;
    for addr in addrs {
        let left = timeout.saturating_sub(started.elapsed());
        if left.is_zero() {
            break;
        }
        match TcpStream::connect_timeout(&addr, left) {
            Ok(_) => {
                let took = started.elapsed();
                return Outcome::pass(
                    format!("connected to {target} in {} ms", took.as_millis()),
                    took,
                );
            }
            Err(e) => last_error = Some(e),
        }
    }
    let took = started.elapsed();
    let why = match last_error {
        Some(e) if e.kind() == std::io::ErrorKind::TimedOut => {
            format!("timed out after {}", humantime::format_duration(timeout))
        }
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        Some(e) => e.to_string(),
        None => format!("timed out after {}", humantime::format_duration(timeout)),
    };
    Outcome::fail(format!("cannot connect to {target}: {why}"), took)
}
