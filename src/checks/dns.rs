//! `dns`: a name resolves to what is expected. cabot asks the server itself (one UDP
//! question, RFC 1035), so that the record type and the server are the check's own.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{Fields, Reader};

/// Record types the `dns` check can ask for.
pub const RECORD_TYPES: [&str; 6] = ["A", "AAAA", "CNAME", "MX", "TXT", "NS"];

/// A DNS lookup whose answers must be `expect`.
#[derive(Debug, Clone)]
pub struct DnsCheck {
    pub name: String,
    pub record_type: String,
    pub expect: Vec<String>,
    /// `host:port` of the server to ask; the system's first nameserver when absent.
    pub server: Option<String>,
}

impl CheckType for DnsCheck {
    const NAME: &'static str = "dns";
    // `name` names the check, so the name to look up is `host`, as in the other network checks.
    const KEYS: &'static [&'static str] = &["host", "record_type", "expect", "server"];

    fn read(r: &mut Reader, f: &Fields) -> Option<DnsCheck> {
        let name = r.required_string(f, "host");
        let record_type = match f.get("record_type") {
            None => Some("A".to_string()),
            Some(n) => {
                let t = r.string(n, &f.path("record_type"))?.to_ascii_uppercase();
                if RECORD_TYPES.contains(&t.as_str()) {
                    Some(t)
                } else {
                    r.error(
                        n.mark,
                        &f.path("record_type"),
                        format!(
                            "'{t}' is not a record type cabot asks for (one of: {})",
                            RECORD_TYPES.join(", ")
                        ),
                    );
                    None
                }
            }
        };
        let expect: Vec<String> = r
            .require(f, "expect")
            .map(|n| r.string_list(n, &f.path("expect")))
            .unwrap_or_default()
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        let server = match f.get("server") {
            None => None,
            Some(n) => {
                let text = r.string(n, &f.path("server"))?;
                let addr = if text.parse::<std::net::IpAddr>().is_ok() {
                    format!("{text}:53")
                } else {
                    text.clone()
                };
                if addr.parse::<std::net::SocketAddr>().is_err() {
                    r.error(
                        n.mark,
                        &f.path("server"),
                        format!("'{text}' is not an IP address (with an optional port)"),
                    );
                    return None;
                }
                Some(addr)
            }
        };
        Some(DnsCheck {
            name: name?,
            record_type: record_type?,
            expect,
            server,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        lookup(self, check.timeout, query_id(&check.name, ctx.now))
    }
}

/// A DNS query id that differs between checks and runs (not a secret: answers are also
/// matched to their question by the connected socket).
fn query_id(name: &str, now: i64) -> u16 {
    let h = name
        .bytes()
        .fold(now as u32, |h, b| h.rotate_left(5) ^ u32::from(b));
    (h ^ (h >> 16)) as u16
}

fn lookup(check: &DnsCheck, timeout: Duration, query_id: u16) -> CheckResult {
    let started = Instant::now();
    let server = match &check.server {
        Some(s) => s.clone(),
        None => match system_nameserver() {
            Some(s) => s,
            None => {
                return CheckResult::fail(
                    "no nameserver in /etc/resolv.conf; set server:",
                    started.elapsed(),
                );
            }
        },
    };
    let answers = match ask(&server, &check.name, &check.record_type, timeout, query_id) {
        Ok(a) => a,
        Err(why) => {
            return CheckResult::fail(
                format!("{} {} @{server}: {why}", check.name, check.record_type),
                started.elapsed(),
            );
        }
    };
    let took = started.elapsed();
    // Addresses compare as addresses: `2001:0db8::1` is the `2001:db8::1` the server sent.
    let norm = |s: &str| match s.parse::<std::net::IpAddr>() {
        Ok(ip) => ip.to_string(),
        Err(_) => s.trim_end_matches('.').to_ascii_lowercase(),
    };
    let mut got: Vec<String> = answers.iter().map(|a| norm(a)).collect();
    got.sort();
    got.dedup();
    let mut want: Vec<String> = check.expect.iter().map(|a| norm(a)).collect();
    want.sort();
    want.dedup();
    let shown = if answers.is_empty() {
        "no answer".to_string()
    } else {
        answers.join(", ")
    };
    if got == want {
        CheckResult::pass(
            format!("{} {} = {shown}", check.name, check.record_type),
            took,
        )
    } else {
        CheckResult::fail(
            format!(
                "{} {} = {shown}, expected {}",
                check.name,
                check.record_type,
                check.expect.join(", ")
            ),
            took,
        )
    }
}

/// The first `nameserver` line of /etc/resolv.conf, with port 53.
fn system_nameserver() -> Option<String> {
    let text = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    text.lines().find_map(|l| {
        let ip = l.strip_prefix("nameserver")?.trim();
        let ip: std::net::IpAddr = ip.parse().ok()?;
        Some(SocketAddr::new(ip, 53).to_string())
    })
}

fn type_code(t: &str) -> u16 {
    match t {
        "A" => 1,
        "NS" => 2,
        "CNAME" => 5,
        "MX" => 15,
        "TXT" => 16,
        "AAAA" => 28,
        _ => 255,
    }
}

fn type_name(code: u16) -> String {
    match code {
        1 => "A".into(),
        2 => "NS".into(),
        5 => "CNAME".into(),
        15 => "MX".into(),
        16 => "TXT".into(),
        28 => "AAAA".into(),
        other => format!("type {other}"),
    }
}

/// The UDP payload cabot says it takes (EDNS0): the size DNS Flag Day 2020 settled on,
/// which passes without IP fragmentation on nearly every path.
pub const EDNS_PAYLOAD: u16 = 1232;

/// The question, as bytes; with `edns`, an EDNS0 OPT record offering `EDNS_PAYLOAD` bytes,
/// so that an answer over 512 bytes (many TXT records, DNSSEC, long MX sets) is sent
/// whole instead of truncated.
pub fn query(name: &str, record_type: &str, id: u16, edns: bool) -> Result<Vec<u8>, String> {
    let mut q = Vec::with_capacity(48 + name.len());
    q.extend_from_slice(&id.to_be_bytes());
    // recursion desired, 1 question, and 1 additional record (the OPT) with EDNS
    q.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, u8::from(edns)]);
    for label in name.trim_end_matches('.').split('.') {
        if label.is_empty() || label.len() > 63 {
            return Err(format!("'{name}' is not a valid DNS name"));
        }
        q.push(label.len() as u8);
        q.extend_from_slice(label.as_bytes());
    }
    q.push(0);
    q.extend_from_slice(&type_code(record_type).to_be_bytes());
    q.extend_from_slice(&1u16.to_be_bytes()); // IN
    if edns {
        // root name, type OPT (41), class = payload size, extended rcode/version/flags 0,
        // no options
        q.push(0);
        q.extend_from_slice(&41u16.to_be_bytes());
        q.extend_from_slice(&EDNS_PAYLOAD.to_be_bytes());
        q.extend_from_slice(&[0, 0, 0, 0, 0, 0]);
    }
    Ok(q)
}

fn ask(
    server: &str,
    name: &str,
    record_type: &str,
    timeout: Duration,
    id: u16,
) -> Result<Vec<String>, String> {
    let addr: SocketAddr = server
        .parse()
        .map_err(|_| format!("bad server address {server}"))?;
    let bind = if addr.is_ipv4() {
        "0.0.0.0:0"
    } else {
        "[::]:0"
    };
    let socket = UdpSocket::bind(bind).map_err(|e| e.to_string())?;
    socket.connect(addr).map_err(|e| e.to_string())?;
    socket
        .set_read_timeout(Some(timeout))
        .map_err(|e| e.to_string())?;
    socket
        .send(&query(name, record_type, id, true)?)
        .map_err(|e| e.to_string())?;
    let mut edns = true;
    let deadline = Instant::now() + timeout;
    let mut buf = [0u8; 4096];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(format!(
                "no answer within {}",
                crate::text::duration(timeout)
            ));
        }
        let _ = socket.set_read_timeout(Some(left));
        let n = match socket.recv(&mut buf) {
            Ok(n) => n,
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                return Err(format!(
                    "no answer within {}",
                    crate::text::duration(timeout)
                ));
            }
            Err(e) => return Err(e.to_string()),
        };
        // An answer to another question (a late one, or a spoof) is not ours.
        if n >= 2 && buf[..2] == id.to_be_bytes() {
            // FORMERR to an EDNS question: a server from before EDNS; ask it plainly.
            if edns && n >= 4 && buf[3] & 0x0f == 1 {
                edns = false;
                socket
                    .send(&query(name, record_type, id, false)?)
                    .map_err(|e| e.to_string())?;
                continue;
            }
            return parse_answer(&buf[..n], name, type_code(record_type));
        }
    }
}

/// The answers of `rtype` to the question (`name`, `rtype`) in a response, as text: the
/// records owned by `name` or by a name a CNAME of the chain from it points at. A response
/// to another question, or with a name that cannot be read (a pointer loop), is an error.
pub fn parse_answer(msg: &[u8], name: &str, rtype: u16) -> Result<Vec<String>, String> {
    if msg.len() < 12 {
        return Err("a truncated answer".into());
    }
    let rcode = msg[3] & 0x0f;
    match rcode {
        0 => {}
        3 => return Err("NXDOMAIN: no such name".into()),
        2 => return Err("SERVFAIL".into()),
        5 => return Err("REFUSED".into()),
        other => return Err(format!("server error (rcode {other})")),
    }
    let qd = u16::from_be_bytes([msg[4], msg[5]]) as usize;
    let an = u16::from_be_bytes([msg[6], msg[7]]) as usize;
    let malformed = || "a malformed answer".to_string();
    // The question, echoed: it must be ours (RFC 1035 7.3; RFC 5452 for the spoofs).
    let asked = name.trim_end_matches('.');
    let (qname, qtype, qclass, mut pos) = match qd {
        1 => {
            let qname = read_name(msg, 12).ok_or_else(malformed)?;
            let end = skip_name(msg, 12).ok_or_else(malformed)?;
            let q = msg.get(end..end + 4).ok_or_else(malformed)?;
            let qtype = u16::from_be_bytes([q[0], q[1]]);
            (qname, qtype, u16::from_be_bytes([q[2], q[3]]), end + 4)
        }
        _ => return Err(format!("an answer with {qd} questions to one")),
    };
    if !qname.eq_ignore_ascii_case(asked) || qtype != rtype || qclass != 1 {
        return Err(format!(
            "an answer to another question ({qname} {})",
            type_name(qtype)
        ));
    }
    // Each record: owner, type, where its data starts and its length.
    let mut records = Vec::with_capacity(an.min(512));
    for _ in 0..an {
        let owner = read_name(msg, pos).ok_or_else(malformed)?;
        pos = skip_name(msg, pos).ok_or_else(malformed)?;
        let head = msg.get(pos..pos + 10).ok_or_else(malformed)?;
        let t = u16::from_be_bytes([head[0], head[1]]);
        let len = u16::from_be_bytes([head[8], head[9]]) as usize;
        let start = pos + 10;
        msg.get(start..start + len).ok_or_else(malformed)?;
        pos = start + len;
        records.push((owner, t, start, len));
    }
    // The names that answer for the question: it, and where its CNAMEs lead.
    let mut names = vec![asked.to_ascii_lowercase()];
    if rtype != 5 {
        let mut grew = true;
        while grew && names.len() <= records.len() {
            grew = false;
            for (owner, t, start, _) in &records {
                if *t == 5 && names.contains(&owner.to_ascii_lowercase()) {
                    let target = read_name(msg, *start).ok_or_else(malformed)?;
                    let target = target.to_ascii_lowercase();
                    if !names.contains(&target) {
                        names.push(target);
                        grew = true;
                    }
                }
            }
        }
    }
    let mut out = Vec::new();
    for (owner, t, start, len) in records {
        if t != rtype || !names.contains(&owner.to_ascii_lowercase()) {
            continue;
        }
        let data = &msg[start..start + len];
        let text = match t {
            1 if len == 4 => {
                std::net::Ipv4Addr::new(data[0], data[1], data[2], data[3]).to_string()
            }
            28 if len == 16 => {
                let b: [u8; 16] = data.try_into().map_err(|_| "a malformed AAAA")?;
                std::net::Ipv6Addr::from(b).to_string()
            }
            2 | 5 => read_name(msg, start).ok_or("a malformed name")?,
            15 if len > 2 => format!(
                "{} {}",
                u16::from_be_bytes([data[0], data[1]]),
                read_name(msg, start + 2).ok_or("a malformed MX")?
            ),
            16 => {
                let mut txt = String::new();
                let mut i = 0;
                while i < data.len() {
                    let l = data[i] as usize;
                    txt.push_str(&String::from_utf8_lossy(
                        data.get(i + 1..i + 1 + l).unwrap_or(&[]),
                    ));
                    i += 1 + l;
                }
                txt
            }
            _ => continue,
        };
        out.push(text);
    }
    // A truncated answer (TC) would need TCP, which this check does not speak: say so
    // rather than report a short list as the truth.
    if msg[2] & 0x02 != 0 {
        return Err(format!(
            "the answer was truncated (more than the {EDNS_PAYLOAD} bytes cabot takes over UDP; it does not ask over TCP)"
        ));
    }
    Ok(out)
}

fn skip_name(msg: &[u8], mut pos: usize) -> Option<usize> {
    loop {
        let len = *msg.get(pos)?;
        if len & 0xc0 == 0xc0 {
            return Some(pos + 2);
        }
        if len == 0 {
            return Some(pos + 1);
        }
        pos += 1 + len as usize;
    }
}

fn read_name(msg: &[u8], mut pos: usize) -> Option<String> {
    let mut labels = Vec::new();
    for _ in 0..128 {
        let len = *msg.get(pos)?;
        if len & 0xc0 == 0xc0 {
            pos = (((len & 0x3f) as usize) << 8) | *msg.get(pos + 1)? as usize;
            continue;
        }
        if len == 0 {
            return Some(labels.join("."));
        }
        labels
            .push(String::from_utf8_lossy(msg.get(pos + 1..pos + 1 + len as usize)?).into_owned());
        pos += 1 + len as usize;
    }
    None // a pointer loop
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Rng;

    /// An answer to `query` with the given A records, a CNAME by compression pointer.
    fn answer(q: &[u8], records: &[[u8; 4]]) -> Vec<u8> {
        let mut m = q.to_vec();
        m[2] = 0x81;
        m[3] = 0x80;
        m[7] = (records.len() + 1) as u8;
        // a CNAME first, pointing at the question's name, which A queries skip
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2, 0xc0, 12]);
        for r in records {
            m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4]);
            m.extend_from_slice(r);
        }
        m
    }

    #[test]
    fn a_round_trip() {
        let q = query("www.example.com", "A", 7, false).unwrap();
        assert_eq!(&q[..2], &[0, 7]);
        let a = answer(&q, &[[127, 0, 0, 1], [127, 0, 0, 2]]);
        assert_eq!(parse_answer(&a, "www.example.com", 1).unwrap(), ["127.0.0.1", "127.0.0.2"]);
        // Asked for A: an answer read as one to a CNAME question, or to another name, is
        // not the answer to the question asked.
        for (name, rtype) in [("www.example.com", 5), ("example.com", 1)] {
            let err = parse_answer(&a, name, rtype).unwrap_err();
            assert!(err.contains("another question (www.example.com A)"), "{err}");
        }
        let mut nx = q.clone();
        nx[3] = 3;
        assert!(parse_answer(&nx, "www.example.com", 1).unwrap_err().contains("NXDOMAIN"));
        assert!(parse_answer(&[0; 5], "www.example.com", 1).is_err());
        assert!(query("bad..name", "A", 1, true).is_err());
        // EDNS0: one additional record, OPT (41), offering EDNS_PAYLOAD bytes
        let e = query("www.example.com", "A", 7, true).unwrap();
        assert_eq!(&e[10..12], &[0, 1]);
        assert_eq!(&e[e.len() - 11..], &[0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]);
    }

    #[test]
    fn any_answer_of_a_records_reads_back_as_its_addresses() {
        let mut rng = Rng(0xd115);
        for _ in 0..2_000 {
            let n = (rng.next_u64() % 40) as usize;
            let records: Vec<[u8; 4]> = (0..n).map(|_| (rng.next_u64() as u32).to_be_bytes()).collect();
            let q = query("svc.example.test", "A", rng.next_u64() as u16, false).unwrap();
            let want: Vec<String> = records
                .iter()
                .map(|r| std::net::Ipv4Addr::from(*r).to_string())
                .collect();
            assert_eq!(parse_answer(&answer(&q, &records), "svc.example.test", 1).unwrap(), want);
        }
    }

    #[test]
    fn mangled_answers_are_errors_or_values_never_panics() {
        let mut rng = Rng(0xbad_d15);
        let q = query("svc.example.test", "MX", 9, true).unwrap();
        let good = answer(&q, &[[127, 0, 0, 1], [127, 0, 0, 2], [10, 0, 0, 1]]);
        for i in 0..20_000 {
            let mut m = if i % 4 == 0 {
                (0..rng.next_u64() % 600).map(|_| rng.next_u64() as u8).collect()
            } else {
                good.clone()
            };
            for _ in 0..1 + rng.next_u64() % 6 {
                if m.is_empty() {
                    break;
                }
                let at = (rng.next_u64() as usize) % m.len();
                match rng.next_u64() % 3 {
                    0 => m[at] = rng.next_u64() as u8,
                    1 => m.truncate(at),
                    _ => m.insert(at, rng.next_u64() as u8),
                }
            }
            for rtype in [1, 2, 5, 15, 16, 28] {
                let _ = parse_answer(&m, "svc.example.test", rtype);
            }
        }
    }

    #[test]
    fn a_pointer_loop_is_an_error_not_a_hang() {
        let mut m = query("a.b", "CNAME", 1, false).unwrap();
        m[7] = 1;
        m.extend_from_slice(&[0xc0, 12, 0, 5, 0, 1, 0, 0, 0, 60, 0, 2]);
        let loop_at = m.len();
        m.extend_from_slice(&[0xc0, loop_at as u8]);
        assert!(parse_answer(&m, "a.b", 5).is_err());
    }
}
