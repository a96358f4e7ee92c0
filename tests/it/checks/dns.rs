//! `dns`: a small DNS server of the test's own on 127.0.0.1 (UDP), and the config checks.

use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::support::*;

/// The question of a DNS message: (lower-cased name, type code, where the question ends).
fn question(msg: &[u8]) -> Option<(String, u16, usize)> {
    let mut labels = Vec::new();
    let mut pos = 12;
    loop {
        let len = *msg.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        labels.push(String::from_utf8_lossy(msg.get(pos..pos + len)?).to_ascii_lowercase());
        pos += len;
    }
    let qtype = u16::from_be_bytes([*msg.get(pos)?, *msg.get(pos + 1)?]);
    Some((labels.join("."), qtype, pos + 4))
}

/// A name in DNS wire format, uncompressed.
fn wire_name(name: &str) -> Vec<u8> {
    let mut out = Vec::new();
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
    out
}

const A: u16 = 1;

const CNAME: u16 = 5;

const AAAA: u16 = 28;

const TXT: u16 = 16;

/// The 20 TXT records of `big.example.test`: 20 x 45 bytes, over DNS's 512 without EDNS.
fn big_txt() -> Vec<String> {
    (0..20)
        .map(|i| format!("site-verification=token-{i:02}-abcdefghijklmnopq"))
        .collect()
}

/// The records the fake server knows: (name, type, data).
fn zone() -> Vec<(&'static str, u16, Vec<u8>)> {
    let mut zone = vec![
        // Out of order on purpose: the check compares sets.
        ("www.example.test", A, vec![127, 0, 0, 2]),
        ("www.example.test", A, vec![127, 0, 0, 1]),
        ("moved.example.test", A, vec![127, 0, 0, 9]),
        (
            "alias.example.test",
            CNAME,
            wire_name("target.example.test"),
        ),
        ("target.example.test", A, vec![127, 0, 0, 3]),
        (
            "v6.example.test",
            AAAA,
            "2001:db8::1"
                .parse::<std::net::Ipv6Addr>()
                .expect("v6")
                .octets()
                .to_vec(),
        ),
    ];
    for txt in big_txt() {
        let mut data = vec![txt.len() as u8];
        data.extend_from_slice(txt.as_bytes());
        zone.push(("big.example.test", TXT, data));
    }
    zone
}

/// The answer to `query`: NXDOMAIN for a name the zone lacks, else its records of the
/// asked type, following a CNAME the way a recursive server does.
fn dns_answer(query: &[u8]) -> Option<Vec<u8>> {
    let (name, qtype, end) = question(query)?;
    // An EDNS0 OPT record in the additional section: the asker takes a bigger answer.
    let offered = match query.get(10..12) {
        Some([0, 1]) => query
            .get(end + 3..end + 5)
            .map_or(512, |b| u16::from_be_bytes([b[0], b[1]]) as usize),
        _ => 512,
    };
    // Two liars: one answers another question (a spoof, or a cache gone wrong), one
    // gives its record an owner name that points at itself.
    if name == "other.example.test" {
        let mut asked = query[..12].to_vec();
        asked.extend_from_slice(&wire_name("www.example.test"));
        asked.extend_from_slice(&query[end - 4..]);
        return dns_answer(&asked);
    }
    let mut reply = query[..end].to_vec();
    if name == "selfptr.example.test" {
        reply[2] = 0x81;
        reply[3] = 0x80;
        reply[6..12].copy_from_slice(&[0, 1, 0, 0, 0, 0]);
        let at = reply.len();
        reply.extend_from_slice(&[0xc0, at as u8, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 127, 0, 0, 1]);
        return Some(reply);
    }
    let zone = zone();
    reply[2] = 0x81; // a response, recursion desired
    reply[3] = 0x80; // recursion available, NOERROR
    reply[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 0]);
    if !zone.iter().any(|(n, _, _)| *n == name) {
        reply[3] |= 3; // NXDOMAIN
        return Some(reply);
    }
    let mut records: Vec<(String, u16, Vec<u8>)> = Vec::new();
    let mut owner = name.clone();
    for _ in 0..4 {
        let here: Vec<&(&str, u16, Vec<u8>)> =
            zone.iter().filter(|(n, _, _)| *n == owner).collect();
        records.extend(
            here.iter()
                .filter(|(_, t, _)| *t == qtype)
                .map(|(n, t, d)| (n.to_string(), *t, d.clone())),
        );
        match here.iter().find(|(_, t, _)| *t == CNAME) {
            Some((n, _, target)) if qtype != CNAME => {
                records.insert(0, (n.to_string(), CNAME, target.clone()));
                owner = zone
                    .iter()
                    .map(|(n, _, _)| *n)
                    .find(|n| wire_name(n) == *target)?
                    .to_string();
            }
            _ => break,
        }
    }
    reply[7] = records.len() as u8;
    for (record_owner, rtype, data) in records {
        // The question's name by pointer, as servers compress it; any other name whole.
        if record_owner == name {
            reply.extend_from_slice(&[0xc0, 12]);
        } else {
            reply.extend_from_slice(&wire_name(&record_owner));
        }
        reply.extend_from_slice(&rtype.to_be_bytes());
        reply.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        reply.extend_from_slice(&(data.len() as u16).to_be_bytes());
        reply.extend_from_slice(&data);
    }
    // As a real server does: an answer too big for the asker is cut to its question, TC set.
    if reply.len() > offered {
        reply.truncate(end);
        reply[2] |= 0x02;
        reply[6..8].copy_from_slice(&[0, 0]);
    }
    Some(reply)
}

/// A fake DNS server on 127.0.0.1 answering from `zone()`, on its own thread.
fn dns_server() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let serving = socket.try_clone().expect("clone udp");
    thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok((n, from)) = serving.recv_from(&mut buf) {
            if let Some(reply) = dns_answer(&buf[..n]) {
                let _ = serving.send_to(&reply, from);
            }
        }
    });
    socket
}

#[test]
fn dns_resolves_and_compares() {
    let server = dns_server();
    let at = server.local_addr().expect("addr");
    // Bound and never read: questions go unanswered.
    let silent = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let silent_at = silent.local_addr().expect("addr");
    let check = |name: &str, rest: &str| {
        format!("      - {{ name: {name}, type: dns, server: '{at}', {rest} }}\n")
    };
    let checks = [
        check("a", "host: www.example.test, expect: [127.0.0.1, 127.0.0.2]"),
        check("a-default-type", "host: WWW.Example.Test., expect: [127.0.0.2, 127.0.0.1]"),
        check("a-partial", "host: www.example.test, expect: [127.0.0.1]"),
        check("moved", "host: moved.example.test, expect: [127.0.0.1]"),
        check("nxdomain", "host: missing.example.test, expect: [127.0.0.1]"),
        check("aaaa", "host: v6.example.test, record_type: AAAA, expect: ['2001:0db8:0:0::1']"),
        check("aaaa-wrong", "host: v6.example.test, record_type: aaaa, expect: ['::1']"),
        check("no-aaaa", "host: www.example.test, record_type: AAAA, expect: ['::1']"),
        check("cname", "host: alias.example.test, record_type: CNAME, expect: [target.example.test.]"),
        check("a-through-cname", "host: alias.example.test, record_type: A, expect: [127.0.0.3]"),
        check(
            "big-txt",
            &format!("host: big.example.test, record_type: TXT, expect: [{}]", big_txt().join(", ")),
        ),
        check("other-question", "host: other.example.test, expect: [127.0.0.1, 127.0.0.2]"),
        check("self-pointing-owner", "host: selfptr.example.test, expect: [127.0.0.1]"),
        format!(
            "      - {{ name: silent, type: dns, server: '{silent_at}', host: www.example.test, expect: [127.0.0.1], timeout: 1s }}\n"
        ),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let started = Instant::now();
    let status = run_all(&env, None);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run waited {:?} for a silent server",
        started.elapsed()
    );
    expect(
        &status,
        &[
            ("a", "passing", "www.example.test A = 127.0.0.2, 127.0.0.1"),
            ("a-default-type", "passing", "A = "),
            ("a-partial", "failing", "expected 127.0.0.1"),
            (
                "moved",
                "failing",
                "moved.example.test A = 127.0.0.9, expected 127.0.0.1",
            ),
            ("nxdomain", "failing", "NXDOMAIN"),
            ("aaaa", "passing", "v6.example.test AAAA = 2001:db8::1"),
            ("aaaa-wrong", "failing", "= 2001:db8::1, expected ::1"),
            ("no-aaaa", "failing", "no answer, expected ::1"),
            (
                "cname",
                "passing",
                "alias.example.test CNAME = target.example.test",
            ),
            ("a-through-cname", "passing", "A = 127.0.0.3"),
            // 900 bytes of TXT: whole over UDP with EDNS0, truncated (a failure) without.
            (
                "big-txt",
                "passing",
                "big.example.test TXT = site-verification=token-00",
            ),
            (
                "other-question",
                "failing",
                "an answer to another question (www.example.test A)",
            ),
            ("self-pointing-owner", "failing", "a malformed answer"),
            ("silent", "failing", "no answer within 1s"),
        ],
    );
    let silent_ms = check_json(&status, "svc", "silent")["duration_ms"]
        .as_i64()
        .expect("duration");
    assert!(
        (900..2500).contains(&silent_ms),
        "the silent server's check took {silent_ms} ms"
    );
    drop(silent);
}

#[test]
fn dns_config_is_validated() {
    let cases = [
        ("record_type: SRV", "'SRV' is not a record type"),
        ("server: dns.example.test", "is not an IP address"),
    ];
    for (bad, said) in cases {
        let env = Env::new(&config(&format!(
            "      - {{ name: lookup, type: dns, host: www.example.test, expect: [127.0.0.1], {bad} }}\n"
        )));
        let run = env.cabot(&["validate"]);
        assert_eq!(run.code, 78, "{bad}: {run:?}");
        assert!(run.stderr.contains(said), "{bad}: {run:?}");
        assert!(
            run.stderr.contains("record_type") || run.stderr.contains("server"),
            "{run:?}"
        );
    }
    let env = Env::new(&config(
        "      - { name: lookup, type: dns, host: www.example.test, record_type: mx, expect: ['10 mail.example.test'], server: '127.0.0.1:5353' }\n",
    ));
    let run = env.cabot(&["validate"]);
    assert_eq!(run.code, 0, "{run:?}");
}
