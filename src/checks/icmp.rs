//! `icmp`: ping a host with the system's `ping` (iputils), which works for an unprivileged
//! user through ICMP datagram sockets or its own capability. The message carries packet
//! loss and round-trip time.

use std::time::{Duration, Instant};

use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{self, Fields, Reader};
use crate::process::{self, Failure};

/// Ping a host with the system's `ping`.
#[derive(Debug, Clone)]
pub struct IcmpCheck {
    pub host: String,
    pub count: u32,
    /// Packet loss above this percentage fails; the default (100) fails only when nothing answers.
    pub max_loss: f64,
    pub max_rtt: Option<Duration>,
}

impl CheckType for IcmpCheck {
    const NAME: &'static str = "icmp";
    const KEYS: &'static [&'static str] = &["host", "count", "max_loss", "max_rtt"];

    fn read(r: &mut Reader, f: &Fields) -> Option<IcmpCheck> {
        let host = r.required_string(f, "host")?;
        let count = f
            .get("count")
            .and_then(|n| r.uint(n, &f.path("count"), 100))
            .unwrap_or(3)
            .max(1) as u32;
        let max_loss = match f.get("max_loss") {
            None => 100.0,
            Some(n) => {
                let loss = r.number(n, &f.path("max_loss"))?;
                if !(0.0..=100.0).contains(&loss) {
                    r.error(n.mark, &f.path("max_loss"), "a percentage from 0 to 100");
                    return None;
                }
                loss
            }
        };
        let max_rtt = f
            .get("max_rtt")
            .and_then(|n| r.duration(n, &f.path("max_rtt"), read::SHORT));
        Some(IcmpCheck {
            host,
            count,
            max_loss,
            max_rtt,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, _: &Context<'_>) -> CheckResult {
        ping(self, check.timeout)
    }
}

fn ping(check: &IcmpCheck, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let deadline = timeout.as_secs().max(1);
    let argv: Vec<String> = [
        "ping",
        "-n",
        "-c",
        &check.count.to_string(),
        "-i",
        "0.2",
        "-W",
        "1",
        "-w",
        &deadline.to_string(),
        "--",
        &check.host,
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    // ping stops itself at -w; the extra second is for a resolver that does not.
    let done = match process::run(
        &argv,
        &process::environment(&[], Vec::new()),
        None,
        timeout + Duration::from_secs(1),
        16 * 1024,
    ) {
        Ok(done) => done,
        Err(Failure::Spawn(e)) => {
            // EPERM: ping carries a file capability that a process with no_new_privs
            // (a hardened systemd unit) may not gain, and the kernel refuses the exec.
            let hint = match e.kind() {
                std::io::ErrorKind::NotFound => "install iputils-ping",
                _ => "ping needs CAP_NET_RAW: give the run AmbientCapabilities=CAP_NET_RAW, as the packaged cabot.service does",
            };
            return CheckResult::fail(format!("cannot run ping: {e} ({hint})"), started.elapsed());
        }
        Err(Failure::Timeout { .. }) => {
            return CheckResult::fail(
                format!(
                    "no answer from {} within {}",
                    check.host,
                    crate::text::duration(timeout)
                ),
                started.elapsed(),
            );
        }
    };
    let took = started.elapsed();
    let Some((sent, received)) = counts(&done.stdout) else {
        let why = done.stderr.lines().next().unwrap_or("").trim().to_string();
        let why = if why.is_empty() {
            process::describe(&done.status)
        } else {
            why
        };
        return CheckResult::fail(format!("ping {}: {why}", check.host), took);
    };
    let loss = if sent == 0 {
        100.0
    } else {
        (sent - received) as f64 * 100.0 / sent as f64
    };
    let avg = average_rtt_ms(&done.stdout);
    let rtt = avg.map(|a| format!(", rtt avg {a} ms")).unwrap_or_default();
    let summary = format!(
        "{received}/{sent} replies from {}, {loss:.0}% loss{rtt}",
        check.host
    );
    if received == 0 || loss > check.max_loss {
        return CheckResult::fail(summary, took);
    }
    if let (Some(max), Some(avg)) = (check.max_rtt, avg)
        && avg > max.as_secs_f64() * 1000.0
    {
        return CheckResult::fail(
            format!(
                "{summary}, slower than max_rtt {}",
                crate::text::duration(max)
            ),
            took,
        );
    }
    CheckResult::pass(summary, took)
}

/// `3 packets transmitted, 2 received` -> (3, 2).
fn counts(out: &str) -> Option<(u32, u32)> {
    let line = out.lines().find(|l| l.contains("packets transmitted"))?;
    let mut words = line
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|w| !w.is_empty());
    let sent = words.next()?.parse().ok()?;
    let received = line
        .split(',')
        .nth(1)?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some((sent, received))
}

/// The average from `rtt min/avg/max/mdev = 0.031/0.045/0.059/0.011 ms`.
fn average_rtt_ms(out: &str) -> Option<f64> {
    let line = out.lines().find(|l| l.contains("min/avg/max"))?;
    let values = line.split('=').nth(1)?;
    values.trim().split('/').nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_iputils_output() {
        let out = "PING 127.0.0.1 (127.0.0.1) 56(84) bytes of data.\n64 bytes from 127.0.0.1: icmp_seq=1 ttl=64 time=0.031 ms\n\n--- 127.0.0.1 ping statistics ---\n3 packets transmitted, 3 received, 0% packet loss, time 404ms\nrtt min/avg/max/mdev = 0.031/0.045/0.059/0.011 ms\n";
        assert_eq!(counts(out), Some((3, 3)));
        assert_eq!(average_rtt_ms(out), Some(0.045));
        let lost = "3 packets transmitted, 0 received, 100% packet loss, time 2046ms\n";
        assert_eq!(counts(lost), Some((3, 0)));
        assert_eq!(average_rtt_ms(lost), None);
        let errors = "3 packets transmitted, 0 received, +3 errors, 100% packet loss, time 2ms\n";
        assert_eq!(counts(errors), Some((3, 0)));
    }
}
