//! The `jenkins`, `graphite`, `tls` and `dns` checks end to end, through the binary:
//! `cabot run --all`, then `cabot status --json`. Every server they talk to is a fake one
//! started here on 127.0.0.1.

mod support;

use std::net::UdpSocket;
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use support::certs;
use support::*;

/// The time cabot is told it is (2026-01-01T00:00:00Z), where a test needs to know it.
const NOW: i64 = 1_767_225_600;

/// One service `svc` with the given checks (YAML list items, indented 6).
fn config(checks: &str) -> String {
    format!("services:\n  - name: svc\n    checks:\n{checks}")
}

/// Runs every check once at `now` (or on the real clock) and returns the status JSON.
fn run_all(env: &Env, now: Option<i64>) -> serde_json::Value {
    let run = match now {
        Some(now) => env.cabot_at(now, &["run", "--all"]),
        None => env.cabot(&["run", "--all"]),
    };
    assert_eq!(run.code, 0, "{run:?}");
    env.status_json()
}

/// (status, message) of one check in a status JSON.
fn result(status: &serde_json::Value, check: &str) -> (String, String) {
    let c = check_json(status, "svc", check);
    (
        c["status"].as_str().unwrap_or("").to_string(),
        c["message"].as_str().unwrap_or("").to_string(),
    )
}

/// Asserts each (check, status, text in the message).
fn expect(status: &serde_json::Value, cases: &[(&str, &str, &str)]) {
    for (check, want_status, want_text) in cases {
        let (got_status, message) = result(status, check);
        assert_eq!(&got_status, want_status, "{check}: {message}");
        assert!(
            message.contains(want_text),
            "{check}: {message:?} lacks {want_text:?}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// jenkins

/// A job's JSON the way Jenkins answers `api/json?tree=...`.
fn job_json(
    buildable: bool,
    color: &str,
    last_completed: Option<(i64, &str)>,
    last_success: Option<i64>,
    queued_since_ms: Option<i64>,
) -> String {
    let build = |b: Option<serde_json::Value>| b.unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "_class": "hudson.model.FreeStyleProject",
        "buildable": buildable,
        "color": color,
        "inQueue": queued_since_ms.is_some(),
        "queueItem": build(queued_since_ms.map(|ms| serde_json::json!({"inQueueSince": ms}))),
        "lastCompletedBuild": build(last_completed.map(|(n, r)| serde_json::json!({"number": n, "result": r}))),
        "lastSuccessfulBuild": build(last_success.map(|n| serde_json::json!({"number": n}))),
    })
    .to_string()
}

/// A fake Jenkins: each job under `/job/NAME/api/json`, 404 for any other job.
fn fake_jenkins() -> HttpServer {
    let queued_since = (NOW - 10 * 60) * 1000;
    HttpServer::start(move |req| {
        let Some((path, _query)) = req.url.split_once('?') else {
            return Reply::new(400, "no query");
        };
        let body = match path {
            "/job/failing/api/json" => job_json(true, "red", Some((12, "FAILURE")), Some(11), None),
            "/job/never/api/json" => job_json(true, "red", Some((3, "FAILURE")), None, None),
            "/job/green/api/json" => job_json(true, "blue", Some((7, "SUCCESS")), Some(7), None),
            "/job/unbuildable/api/json" => {
                job_json(false, "blue", Some((7, "SUCCESS")), Some(7), None)
            }
            "/job/grey/api/json" => job_json(true, "disabled", Some((7, "SUCCESS")), Some(7), None),
            "/job/queued/api/json" => job_json(
                true,
                "blue",
                Some((5, "SUCCESS")),
                Some(5),
                Some(queued_since),
            ),
            "/job/team/job/nightly%20build/api/json" => {
                job_json(true, "blue", Some((2, "SUCCESS")), Some(2), None)
            }
            // A Jenkins that ignores `tree` names builds by number and URL only.
            "/job/depth0-failing/api/json" => {
                r#"{"buildable":true,"color":"red","inQueue":false,"queueItem":null,
                    "lastCompletedBuild":{"number":12,"url":"http://j/job/x/12/"},
                    "lastSuccessfulBuild":{"number":11,"url":"http://j/job/x/11/"}}"#
                    .to_string()
            }
            "/job/depth0-green/api/json" => {
                r#"{"buildable":true,"color":"blue","inQueue":false,"queueItem":null,
                    "lastCompletedBuild":{"number":4,"url":"http://j/job/x/4/"},
                    "lastSuccessfulBuild":{"number":4,"url":"http://j/job/x/4/"}}"#
                    .to_string()
            }
            "/job/garbage/api/json" => return Reply::new(200, "<html>Jenkins is starting</html>"),
            "/job/broken/api/json" => return Reply::new(500, "Internal Server Error"),
            _ => return Reply::new(404, "<html>Not Found</html>"),
        };
        Reply::new(200, body).header("Content-Type", "application/json")
    })
}

#[test]
fn jenkins_follows_cabots_rules() {
    let jenkins = fake_jenkins();
    let url = jenkins.url("/");
    let check = |name: &str, job: &str, extra: &str| {
        format!("      - {{ name: {name}, type: jenkins, url: '{url}', job: '{job}'{extra} }}\n")
    };
    let checks = [
        check(
            "failing",
            "failing",
            ", username: monitor, password_env: CABOT_TEST_JENKINS_TOKEN",
        ),
        check("failing-debounced", "failing", ", debounce: 1"),
        check("never-succeeded", "never", ""),
        check("green", "green", ""),
        check("unbuildable", "unbuildable", ""),
        check("grey", "grey", ""),
        check("queued-too-long", "queued", ", max_queued_build_time: 5m"),
        check("queued-a-while", "queued", ", max_queued_build_time: 15m"),
        check("in-a-folder", "team/nightly build", ""),
        check("depth0-failing", "depth0-failing", ""),
        check("depth0-green", "depth0-green", ""),
        check("missing", "no-such-job", ""),
        check(
            "missing-passing-on-error",
            "no-such-job",
            ", pass_on_error: true",
        ),
        check("garbage", "garbage", ""),
        check("broken", "broken", ""),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let run = env
        .command(&["run", "--all"])
        .env("CABOT_NOW", NOW.to_string())
        .env("CABOT_TEST_JENKINS_TOKEN", "s3cret")
        .output()
        .expect("run cabot");
    assert!(run.status.success(), "{run:?}");
    let status = env.status_json();
    expect(
        &status,
        &[
            (
                "failing",
                "failing",
                "build #12 FAILURE, 1 consecutive failure",
            ),
            (
                "failing-debounced",
                "passing",
                "1 consecutive failure (within debounce 1)",
            ),
            (
                "never-succeeded",
                "failing",
                "build #3 FAILURE, 3 consecutive failures",
            ),
            ("green", "passing", "build #7 SUCCESS"),
            ("unbuildable", "failing", "job 'unbuildable' is disabled"),
            ("grey", "failing", "job 'grey' is disabled"),
            ("queued-too-long", "failing", "waited in the queue for 10m"),
            ("queued-a-while", "passing", "build #5 SUCCESS"),
            ("in-a-folder", "passing", "build #2 SUCCESS"),
            ("depth0-failing", "failing", "1 consecutive failure"),
            ("depth0-green", "passing", "build #4 SUCCESS"),
            ("missing", "failing", "job 'no-such-job' not found"),
            // pass_on_error is for errors reaching Jenkins; a missing job is no such error.
            ("missing-passing-on-error", "failing", "not found"),
            ("garbage", "failing", "Error reaching Jenkins"),
            ("broken", "failing", "Error reaching Jenkins: HTTP 500"),
        ],
    );

    let seen = jenkins.requests();
    let asked = |path: &str| {
        seen.iter()
            .find(|r| r.url.starts_with(&format!("{path}?")))
            .unwrap_or_else(|| panic!("no request for {path} in {seen:#?}"))
    };
    let failing = asked("/job/failing/api/json");
    assert_eq!(failing.method, "GET");
    // The fields the check reads, asked for by name: results are not in the default answer.
    assert!(
        failing.url.contains("tree=")
            && failing
                .url
                .contains("lastCompletedBuild%5Bnumber,result%5D"),
        "{}",
        failing.url
    );
    // Two checks ask for that job; only the one with credentials sends them.
    // base64("monitor:s3cret")
    let mut auth: Vec<Option<&str>> = seen
        .iter()
        .filter(|r| r.url.starts_with("/job/failing/api/json?"))
        .map(|r| r.header("Authorization"))
        .collect();
    auth.sort();
    assert_eq!(auth, [None, Some("Basic bW9uaXRvcjpzM2NyZXQ=")]);
    asked("/job/team/job/nightly%20build/api/json");
}

#[test]
fn jenkins_out_of_reach_fails_unless_pass_on_error() {
    let url = format!("http://127.0.0.1:{}/", closed_port());
    let env = Env::new(&config(&format!(
        "      - {{ name: down, type: jenkins, url: '{url}', job: app }}
      - {{ name: down-but-fine, type: jenkins, url: '{url}', job: app, pass_on_error: true }}
"
    )));
    let status = run_all(&env, None);
    expect(
        &status,
        &[
            ("down", "failing", "Error reaching Jenkins: "),
            ("down-but-fine", "passing", "pass_on_error"),
        ],
    );
    let (_, message) = result(&status, "down");
    assert!(message.contains("connection refused"), "{message}");
}

// ---------------------------------------------------------------------------------------
// graphite

/// A render answer: one series per (target, points).
fn render(series: &[(&str, &[Option<f64>])]) -> String {
    let all: Vec<serde_json::Value> = series
        .iter()
        .map(|(target, points)| {
            let datapoints: Vec<serde_json::Value> = points
                .iter()
                .enumerate()
                .map(|(i, v)| serde_json::json!([v, NOW - 60 * (points.len() - i) as i64]))
                .collect();
            serde_json::json!({"target": target, "datapoints": datapoints})
        })
        .collect();
    serde_json::Value::Array(all).to_string()
}

#[test]
fn graphite_asks_for_the_window_since_the_previous_result() {
    let graphite = HttpServer::start(|_| Reply::new(200, render(&[("x", &[Some(1.0)])])));
    let url = graphite.url("");
    let env = Env::new(&config(&format!(
        "      - {{ name: every-minute, type: graphite, url: '{url}', target: 'sumSeries(stats.*.load)', comparison: '>', threshold: 9.0, frequency: 1m }}
      - {{ name: every-5m, type: graphite, url: '{url}/graphite/', target: stats.five, comparison: '>', threshold: 9.0, frequency: 5m }}
"
    )));
    let asked = |since: usize| -> Vec<String> {
        let mut urls: Vec<String> = graphite.requests()[since..]
            .iter()
            .map(|r| r.url.clone())
            .collect();
        urls.sort();
        urls
    };
    let status = run_all(&env, Some(NOW));
    assert_eq!(result(&status, "every-minute").0, "passing");
    assert_eq!(
        asked(0),
        [
            "/graphite/render?target=stats.five&format=json&from=-6min",
            "/render?target=sumSeries%28stats.%2A.load%29&format=json&from=-2min",
        ],
        "first run: the frequency plus one minute"
    );
    run_all(&env, Some(NOW + 10 * 60));
    assert_eq!(
        asked(2),
        [
            "/graphite/render?target=stats.five&format=json&from=-11min",
            "/render?target=sumSeries%28stats.%2A.load%29&format=json&from=-11min",
        ],
        "ten minutes later: the ten minutes since the previous result plus one"
    );
}

#[test]
fn graphite_cabot_cases() {
    let graphite = HttpServer::start(|req| {
        let target = req
            .url
            .split_once("target=")
            .and_then(|(_, rest)| rest.split('&').next())
            .unwrap_or("");
        let body = match target {
            "stats.%2A.load" => render(&[
                ("stats.PROD.load", &[None, Some(9.16092), None]),
                ("stats.stage.load", &[Some(8.16242), None]),
            ]),
            "stats.PROD.load" => render(&[("stats.PROD.load", &[Some(9.16092)])]),
            "stats.gone.load" => render(&[("stats.gone.load", &[None, None, None])]),
            "stats.nothing" => render(&[]),
            "stats.broken" => return Reply::new(500, "Traceback (most recent call last)"),
            _ => return Reply::new(200, "<html>not json</html>"),
        };
        Reply::new(200, body).header("Content-Type", "application/json")
    });
    let url = graphite.url("");
    let refused = format!("http://127.0.0.1:{}", closed_port());
    let check = |name: &str, url: &str, target: &str, rule: &str| {
        format!(
            "      - {{ name: {name}, type: graphite, url: '{url}', target: '{target}', {rule} }}\n"
        )
    };
    let load = "stats.*.load";
    let checks = [
        check(
            "over-9",
            &url,
            load,
            "comparison: '>', threshold: 9.0, allowed_num_failures: 0",
        ),
        check(
            "over-11",
            &url,
            load,
            "comparison: '>', threshold: 11.0, allowed_num_failures: 0",
        ),
        check(
            "one-allowed",
            &url,
            load,
            "comparison: '>', threshold: 9.0, allowed_num_failures: 1",
        ),
        check("both-over-8", &url, load, "comparison: '>', threshold: 8.0"),
        check(
            "one-series",
            &url,
            "stats.PROD.load",
            "comparison: '>', threshold: 9.0",
        ),
        check("under-9", &url, load, "comparison: '<', threshold: 9.0"),
        check(
            "all-null",
            &url,
            "stats.gone.load",
            "comparison: '>', threshold: 9.0, expected_num_hosts: 1",
        ),
        check(
            "no-series",
            &url,
            "stats.nothing",
            "comparison: '>', threshold: 9.0, expected_num_hosts: 2",
        ),
        check(
            "http-500",
            &url,
            "stats.broken",
            "comparison: '>', threshold: 9.0",
        ),
        check(
            "not-json",
            &url,
            "stats.other",
            "comparison: '>', threshold: 9.0",
        ),
        check(
            "refused",
            &refused,
            "stats.any",
            "comparison: '>', threshold: 9.0",
        ),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let status = run_all(&env, Some(NOW));
    let exactly = [
        ("over-9", "failing", "PROD: 9.16092 > 9.0"),
        (
            "both-over-8",
            "failing",
            "PROD: 9.16092 > 8.0, stage: 8.16242 > 8.0",
        ),
        ("one-series", "failing", "9.16092 > 9.0"),
        ("under-9", "failing", "stage: 8.16242 < 9.0"),
        ("all-null", "failing", "Hosts missing | 0/1 hosts"),
        ("no-series", "failing", "Hosts missing | 0/2 hosts"),
        (
            "http-500",
            "failing",
            "Error getting data from Graphite: HTTP 500",
        ),
    ];
    for (check, want_status, want_message) in exactly {
        assert_eq!(
            result(&status, check),
            (want_status.to_string(), want_message.to_string()),
            "{check}"
        );
    }
    expect(
        &status,
        &[
            ("over-11", "passing", "2 series, 0 failing"),
            (
                "one-allowed",
                "passing",
                "1 failing (allowed 1): PROD: 9.16092 > 9.0",
            ),
            ("not-json", "failing", "Error getting data from Graphite: "),
            ("refused", "failing", "Error getting data from Graphite: "),
        ],
    );
    for check in ["not-json", "refused"] {
        let (_, message) = result(&status, check);
        assert!(
            message.starts_with("Error getting data from Graphite: "),
            "{message}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// tls

fn wall_clock() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_secs() as i64
}

/// `2026-11-24T10:02:11Z`, as cabot writes times.
fn rfc3339(secs: i64) -> String {
    humantime::format_rfc3339_seconds(UNIX_EPOCH + Duration::from_secs(secs as u64)).to_string()
}

#[test]
fn tls_certificates_expiry_and_host() {
    // These run on the real clock: the handshake verifies against it, and so does cabot.
    let now = wall_clock();
    let hour = 3600;
    let day = 86_400;
    let ca = certs::ca();
    // a certificate for `names` valid for the 100 days up to `until`
    let leaf = |names: &[&str], until: i64| {
        certs::leaf(names, Some(&ca), Some((until - 100 * day, until)))
    };
    let valid_until = now + 90 * day + hour;
    let soon_until = now + 3 * day + hour;
    let valid = certs::https_server(&leaf(&["127.0.0.1"], valid_until));
    let soon = certs::https_server(&leaf(&["127.0.0.1"], soon_until));
    let expired = certs::https_server(&leaf(&["127.0.0.1"], now - 10 * day));
    let other = certs::https_server(&leaf(&["other.example"], valid_until));
    let env = Env::new(&config(&format!(
        "      - {{ name: valid, type: tls, host: '{valid}', ca_file: ca.pem }}
      - {{ name: split-port, type: tls, host: 127.0.0.1, port: {valid_port}, ca_file: ca.pem }}
      - {{ name: soon, type: tls, host: '{soon}', ca_file: ca.pem }}
      - {{ name: soon-relaxed, type: tls, host: '{soon}', ca_file: ca.pem, warn_within: 1d }}
      - {{ name: expired, type: tls, host: '{expired}', ca_file: ca.pem }}
      - {{ name: wrong-host, type: tls, host: '{other}', ca_file: ca.pem }}
      - {{ name: unknown-ca, type: tls, host: '{valid}' }}
      - {{ name: closed, type: tls, host: '127.0.0.1:{closed}', timeout: 2s }}
",
        valid = valid.addr,
        valid_port = valid.addr.port(),
        soon = soon.addr,
        expired = expired.addr,
        other = other.addr,
        closed = closed_port(),
    )));
    std::fs::write(env.path("ca.pem"), &ca.pem).expect("write ca");
    let status = run_all(&env, None);
    let valid_date = rfc3339(valid_until);
    let soon_date = rfc3339(soon_until);
    expect(
        &status,
        &[
            (
                "valid",
                "passing",
                &format!("certificate valid until {valid_date} (90 days left)"),
            ),
            ("split-port", "passing", "(90 days left)"),
            (
                "soon",
                "failing",
                &format!("certificate expires on {soon_date}, in 3 days"),
            ),
            ("soon", "failing", "warn_within 14days"),
            (
                "soon-relaxed",
                "passing",
                &format!("valid until {soon_date} (3 days left)"),
            ),
            ("expired", "failing", "certificate expired on"),
            ("expired", "failing", "(10 days ago)"),
            (
                "wrong-host",
                "failing",
                "certificate does not verify for 127.0.0.1",
            ),
            ("wrong-host", "failing", &format!("expires {valid_date}")),
            ("unknown-ca", "failing", "does not verify"),
            ("closed", "failing", "cannot connect to 127.0.0.1:"),
        ],
    );
    let (_, message) = result(&status, "wrong-host");
    assert!(
        message.contains("NotValidForName") || message.contains("not valid for"),
        "{message}"
    );
    let (_, message) = result(&status, "unknown-ca");
    assert!(message.contains("UnknownIssuer"), "{message}");
}

// ---------------------------------------------------------------------------------------
// dns

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

/// The records the fake server knows: (name, type, data).
fn zone() -> Vec<(&'static str, u16, Vec<u8>)> {
    vec![
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
    ]
}

/// The answer to `query`: NXDOMAIN for a name the zone lacks, else its records of the
/// asked type, following a CNAME the way a recursive server does.
fn dns_answer(query: &[u8]) -> Option<Vec<u8>> {
    let (name, qtype, end) = question(query)?;
    let zone = zone();
    let mut reply = query[..end].to_vec();
    reply[2] = 0x81; // a response, recursion desired
    reply[3] = 0x80; // recursion available, NOERROR
    reply[6..12].copy_from_slice(&[0, 0, 0, 0, 0, 0]);
    if !zone.iter().any(|(n, _, _)| *n == name) {
        reply[3] |= 3; // NXDOMAIN
        return Some(reply);
    }
    let mut records: Vec<(u16, Vec<u8>)> = Vec::new();
    let mut owner = name;
    for _ in 0..4 {
        let here: Vec<&(&str, u16, Vec<u8>)> =
            zone.iter().filter(|(n, _, _)| *n == owner).collect();
        records.extend(
            here.iter()
                .filter(|(_, t, _)| *t == qtype)
                .map(|(_, t, d)| (*t, d.clone())),
        );
        match here.iter().find(|(_, t, _)| *t == CNAME) {
            Some((_, _, target)) if qtype != CNAME => {
                records.insert(0, (CNAME, target.clone()));
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
    for (rtype, data) in records {
        // The owner is the question's name by pointer; close enough for the check.
        reply.extend_from_slice(&[0xc0, 12]);
        reply.extend_from_slice(&rtype.to_be_bytes());
        reply.extend_from_slice(&[0, 1, 0, 0, 0, 60]);
        reply.extend_from_slice(&(data.len() as u16).to_be_bytes());
        reply.extend_from_slice(&data);
    }
    Some(reply)
}

/// A fake DNS server on 127.0.0.1 answering from `zone()`, on its own thread.
fn dns_server() -> UdpSocket {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind udp");
    let serving = socket.try_clone().expect("clone udp");
    thread::spawn(move || {
        let mut buf = [0u8; 512];
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
        format!(
            "      - {{ name: silent, type: dns, server: '{silent_at}', host: www.example.test, expect: [127.0.0.1], timeout: 1s }}\n"
        ),
    ]
    .concat();
    let env = Env::new(&config(&checks));
    let started = Instant::now();
    let status = run_all(&env, None);
    assert!(
        started.elapsed() < Duration::from_secs(4),
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
