//! `tcp`: a connection to host:port opens within the timeout.

use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{Fields, Reader};

#[derive(Debug, Clone)]
pub struct TcpCheck {
    pub host: String,
    pub port: u16,
}

impl CheckType for TcpCheck {
    const NAME: &'static str = "tcp";
    const KEYS: &'static [&'static str] = &["host", "port"];

    fn read(r: &mut Reader, f: &Fields) -> Option<TcpCheck> {
        let (host, port, mark) = r.host_and_port(f, None)?;
        if host.is_empty() || port == 0 {
            r.error(
                mark,
                &f.path("host"),
                "needs a host name and a port from 1 to 65535",
            );
            return None;
        }
        Some(TcpCheck { host, port })
    }

    fn run(&self, check: &Check, _: Option<i64>, _: &Context<'_>) -> CheckResult {
        connect(self, check.timeout)
    }
}

fn connect(check: &TcpCheck, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let target = format!("{}:{}", check.host, check.port);
    let addrs = match (check.host.as_str(), check.port).to_socket_addrs() {
        Ok(a) => a.collect::<Vec<_>>(),
        Err(e) => {
            return CheckResult::fail(
                format!("unknown host {}: {e}", check.host),
                started.elapsed(),
            );
        }
    };
    if addrs.is_empty() {
        return CheckResult::fail(format!("unknown host {}", check.host), started.elapsed());
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
                return CheckResult::pass(
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
            format!("timed out after {}", crate::text::duration(timeout))
        }
        Some(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => {
            "connection refused".to_string()
        }
        Some(e) => e.to_string(),
        None => format!("timed out after {}", crate::text::duration(timeout)),
    };
    CheckResult::fail(format!("cannot connect to {target}: {why}"), took)
}
