//! `http`: every option, and targets that misbehave on purpose (silent, dripping, huge,
//! looping, bad certificates, unknown hosts in a network namespace of the test's own).

use std::io::Write;
use std::thread;
use std::time::{Duration, Instant};

use super::*;
use crate::support::*;

#[test]
fn status_codes_lists_and_classes() {
    let server = HttpServer::start(|req| match req.url.as_str() {
        "/ok" => Reply::new(200, "fine"),
        "/missing" => Reply::new(404, "nope"),
        "/broken" => Reply::new(500, "oops"),
        _ => Reply::new(302, "").header("Location", "/ok"),
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: ok, type: http, url: '{ok}' }}
      - {{ name: broken, type: http, url: '{broken}' }}
      - {{ name: expect-404, type: http, url: '{missing}', expect_status: 404 }}
      - {{ name: list, type: http, url: '{missing}', expect_status: [200, 404] }}
      - {{ name: wrong-code, type: http, url: '{ok}', expect_status: 201 }}
      - {{ name: class, type: http, url: '{moved}', expect_status: 3xx, follow_redirects: false }}
",
        ok = server.url("/ok"),
        broken = server.url("/broken"),
        missing = server.url("/missing"),
        moved = server.url("/moved"),
    )));
    run_all(&env, None);
    let cases = [
        ("ok", "passing", "HTTP 200 in"),
        ("broken", "failing", "HTTP 500 (expected 2xx)"),
        ("expect-404", "passing", "HTTP 404"),
        ("list", "passing", "HTTP 404"),
        ("wrong-code", "failing", "HTTP 200 (expected 201)"),
        ("class", "passing", "HTTP 302"),
    ];
    for (check, want_status, want_message) in cases {
        let (status, message) = result(&env.status_json(), check);
        assert_eq!(status, want_status, "{check}: {message}");
        assert!(message.contains(want_message), "{check}: {message}");
    }
}

#[test]
fn method_headers_body_and_basic_auth_reach_the_server() {
    let server = HttpServer::start(|_| Reply::new(201, "created"));
    let env = Env::new(&config(&format!(
        "      - name: post
        type: http
        method: post
        url: '{url}'
        headers: {{ X-Probe: cabot, Content-Type: application/json }}
        body: '{{\"ping\": true}}'
        username: monitor
        password_env: CABOT_TEST_PASSWORD
        expect_status: 201
",
        url = server.url("/api/health?x=1"),
    )));
    let run = env
        .command(&["run", "--all"])
        .env("CABOT_TEST_PASSWORD", "s3cret:with colon")
        .output()
        .expect("run");
    assert!(run.status.success());
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let req = &seen[0];
    assert_eq!(req.method, "POST");
    assert_eq!(req.url, "/api/health?x=1");
    assert_eq!(req.header("X-Probe"), Some("cabot"));
    assert_eq!(req.header("Content-Type"), Some("application/json"));
    assert_eq!(req.body, "{\"ping\": true}");
    // base64("monitor:s3cret:with colon")
    assert_eq!(
        req.header("Authorization"),
        Some("Basic bW9uaXRvcjpzM2NyZXQ6d2l0aCBjb2xvbg==")
    );
    assert_eq!(result(&env.status_json(), "post").0, "passing");
}

#[test]
fn a_password_from_a_missing_variable_fails_the_check_not_the_run() {
    let server = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&config(&format!(
        "      - {{ name: auth, type: http, url: '{}', username: u, password_env: CABOT_TEST_UNSET_VAR }}\n",
        server.url("/")
    )));
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "auth");
    assert_eq!(status, "failing");
    assert!(
        message.contains("CABOT_TEST_UNSET_VAR is not set"),
        "{message}"
    );
    assert!(
        server.requests().is_empty(),
        "no request without its credentials"
    );
}

#[test]
fn password_file_is_read_relative_to_the_config() {
    let server = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&config(&format!(
        "      - {{ name: auth, type: http, url: '{}', username: u, password_file: pw.txt }}\n",
        server.url("/")
    )));
    std::fs::write(env.path("pw.txt"), "from-file\n").expect("write");
    run_all(&env, None);
    // base64("u:from-file")
    assert_eq!(
        server.requests()[0].header("Authorization"),
        Some("Basic dTpmcm9tLWZpbGU=")
    );
}

#[test]
fn text_match_is_a_regex_searched_in_the_body() {
    let server = HttpServer::start(|req| match req.url.as_str() {
        "/binary" => {
            // invalid UTF-8 around the text; the check must neither crash nor miss it
            let mut body = vec![0xff, 0xfe, 0xc3, 0x28];
            body.extend_from_slice(b" Welcome, visitor 42 ");
            body.extend_from_slice(&[0x80, 0x81]);
            Reply::new(200, body)
        }
        _ => Reply::new(200, "<h1>Welcome, visitor 42</h1>"),
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: found, type: http, url: '{page}', text_match: 'visitor \\d+' }}
      - {{ name: missing, type: http, url: '{page}', text_match: 'Goodbye' }}
      - {{ name: binary, type: http, url: '{binary}', text_match: 'Welcome, visitor' }}
",
        page = server.url("/page"),
        binary = server.url("/binary"),
    )));
    run_all(&env, None);
    assert_eq!(result(&env.status_json(), "found").0, "passing");
    let (status, message) = result(&env.status_json(), "missing");
    assert_eq!(status, "failing");
    assert!(
        message.contains("text_match /Goodbye/ not found in the body"),
        "{message}"
    );
    assert_eq!(result(&env.status_json(), "binary").0, "passing");
}

#[test]
fn text_match_takes_pythons_look_around_and_backreferences_and_gives_up_on_runaway_backtracking() {
    let server = HttpServer::start(|req| match req.url.as_str() {
        "/runaway" => Reply::new(200, "a".repeat(40)),
        _ => Reply::new(200, "status: ready ready, queue: 3"),
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: lookahead, type: http, url: '{page}', text_match: '^(?=.*ready)(?!.*error)' }}
      - {{ name: lookbehind, type: http, url: '{page}', text_match: '(?<=queue: )\\d' }}
      - {{ name: backreference, type: http, url: '{page}', text_match: '(\\w+) \\1' }}
      - {{ name: named, type: http, url: '{page}', text_match: '(?P<word>ready) (?P=word)' }}
      - {{ name: negative, type: http, url: '{page}', text_match: '^(?!.*ready)' }}
      - {{ name: runaway, type: http, url: '{runaway}', text_match: '^(a|a)*\\1b' }}
",
        page = server.url("/page"),
        runaway = server.url("/runaway"),
    )));
    let started = std::time::Instant::now();
    run_all(&env, None);
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    let status = env.status_json();
    for passing in ["lookahead", "lookbehind", "backreference", "named"] {
        let (got, message) = result(&status, passing);
        assert_eq!(got, "passing", "{passing}: {message}");
    }
    let (negative, message) = result(&status, "negative");
    assert_eq!(negative, "failing", "{message}");
    assert!(
        message.contains("text_match /^(?!.*ready)/ not found"),
        "{message}"
    );
    let (runaway, message) = result(&status, "runaway");
    assert_eq!(runaway, "failing", "{message}");
    assert!(message.contains("gave up"), "{message}");
}

#[test]
fn json_and_header_conditions_name_the_path_the_expected_and_the_actual_value() {
    let server = HttpServer::start(|req| {
        match req.url.as_str() {
        "/html" => Reply::new(200, "<html>ok</html>").header("Content-Type", "text/html"),
        "/deep" => Reply::new(200, "[".repeat(10_000)).header("Content-Type", "application/json"),
        _ => Reply::new(
            200,
            r#"{"status": "UP", "version": "2.4.1", "checks": [{"name": "db", "latency_ms": 250}]}"#,
        )
        .header("Content-Type", "application/json; charset=utf-8"),
    }
    });
    let env = Env::new(&config(&format!(
        r#"      - name: healthy
        type: http
        url: '{health}'
        headers_match: {{ Content-Type: '^application/json' }}
        json:
          - {{ path: "$.status", equals: UP }}
          - {{ path: "$.version", matches: '^2\.' }}
          - {{ path: "$.checks[0].latency_ms", less_than: 500 }}
          - {{ path: "$.error", exists: false }}
      - {{ name: slow-db, type: http, url: '{health}', json: [ {{ path: "$.checks[0].latency_ms", less_than: 200 }} ] }}
      - {{ name: down, type: http, url: '{health}', json: [ {{ path: "$.status", equals: DOWN }} ] }}
      - {{ name: missing, type: http, url: '{health}', json: [ {{ path: "$.checks[1].name", exists: true }} ] }}
      - {{ name: not-json, type: http, url: '{html}', json: [ {{ path: "$.status", equals: UP }} ] }}
      - {{ name: deep, type: http, url: '{deep}', json: [ {{ path: "$", exists: true }} ] }}
      - {{ name: wrong-type, type: http, url: '{html}', headers_match: {{ Content-Type: json }} }}
      - {{ name: no-header, type: http, url: '{html}', headers_match: {{ X-Version: '.' }} }}
"#,
        health = server.url("/health"),
        html = server.url("/html"),
        deep = server.url("/deep"),
    )));
    let status = run_all(&env, None);
    expect(
        &status,
        &[
            ("healthy", "passing", "HTTP 200"),
            (
                "slow-db",
                "failing",
                "json $.checks[0].latency_ms: 250 is not less than 200",
            ),
            (
                "down",
                "failing",
                "json $.status: expected \"DOWN\", got \"UP\"",
            ),
            ("missing", "failing", "json $.checks[1].name: missing"),
            ("not-json", "failing", "the body is not JSON"),
            (
                "deep",
                "failing",
                "the body is not JSON (recursion limit exceeded",
            ),
            (
                "wrong-type",
                "failing",
                "header Content-Type: \"text/html\" does not match /json/",
            ),
            ("no-header", "failing", "header X-Version missing"),
        ],
    );
}

#[test]
fn slow_answers_fail_max_response_time_and_timeout() {
    let server = HttpServer::start(|req| match req.url.as_str() {
        "/slow" => Reply::new(200, "late").after(Duration::from_millis(400)),
        _ => Reply::new(200, "very late").after(Duration::from_secs(30)),
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: slow, type: http, url: '{slow}', max_response_time: 100ms }}
      - {{ name: patient, type: http, url: '{slow}', max_response_time: 3s }}
      - {{ name: hung, type: http, url: '{hung}', timeout: 1s }}
",
        slow = server.url("/slow"),
        hung = server.url("/hung"),
    )));
    let started = Instant::now();
    run_all(&env, None);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "the run waited for the 30s server"
    );
    let (status, message) = result(&env.status_json(), "slow");
    assert_eq!(status, "failing");
    assert!(
        message.contains("slower than max_response_time 100ms"),
        "{message}"
    );
    assert_eq!(result(&env.status_json(), "patient").0, "passing");
    let (status, message) = result(&env.status_json(), "hung");
    assert_eq!(status, "failing");
    assert!(message.contains("timed out after 1s"), "{message}");
}

#[test]
fn redirects_are_followed_or_not_and_loops_fail() {
    let server = HttpServer::start(|req| match req.url.as_str() {
        "/start" => Reply::new(302, "").header("Location", "/final"),
        "/final" => Reply::new(200, "arrived"),
        _ => Reply::new(302, "").header("Location", "/loop"),
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: follow, type: http, url: '{start}', text_match: arrived }}
      - {{ name: stay, type: http, url: '{start}', follow_redirects: false }}
      - {{ name: loop, type: http, url: '{looping}' }}
",
        start = server.url("/start"),
        looping = server.url("/loop"),
    )));
    run_all(&env, None);
    assert_eq!(result(&env.status_json(), "follow").0, "passing");
    let (status, message) = result(&env.status_json(), "stay");
    assert_eq!(status, "failing");
    assert!(message.contains("HTTP 302 (expected 2xx)"), "{message}");
    let (status, message) = result(&env.status_json(), "loop");
    assert_eq!(status, "failing");
    assert!(message.contains("too many redirects"), "{message}");
}

#[test]
fn connection_refused_fails_quickly() {
    let env = Env::new(&config(&format!(
        "      - {{ name: refused, type: http, url: 'http://127.0.0.1:{}/' }}\n",
        closed_port()
    )));
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "refused");
    assert_eq!(status, "failing");
    assert!(message.contains("connection refused"), "{message}");
}

#[test]
#[ignore = "needs root (unshare -n)"]
fn unknown_host_fails_its_check() {
    // The name is looked up inside a network namespace of this test's own, with no
    // interfaces up, so the lookup cannot reach any resolver outside this machine.
    need_root();
    let env = Env::new(&config(
        "      - { name: nowhere, type: http, url: 'http://no-such-host.invalid/', timeout: 3s }\n",
    ));
    let out = std::process::Command::new("unshare")
        .arg("-n")
        .arg(cabot_bin())
        .arg("-c")
        .arg(env.config())
        .args(["run", "--all"])
        .env_remove("http_proxy")
        .env_remove("HTTP_PROXY")
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (status, message) = result(&env.status_json(), "nowhere");
    assert_eq!(status, "failing");
    assert!(
        message.contains("unknown host no-such-host.invalid"),
        "{message}"
    );
}

/// Accepts connections and never says a word.
fn silent_server() -> RawServer {
    RawServer::start(|conn| {
        thread::sleep(Duration::from_secs(30));
        drop(conn);
    })
}

/// Answers one byte a second, forever (well, for 30 s).
fn drip_server() -> RawServer {
    RawServer::start(|mut conn| {
        read_request_head(&mut conn);
        let head = b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n";
        for b in head.iter().chain(b"x".repeat(30).iter()) {
            if conn.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(if *b == b'x' { 1000 } else { 10 }));
        }
    })
}

/// Sends a 1 GiB body as fast as the client reads it.
fn huge_body_server() -> RawServer {
    RawServer::start(|mut conn| {
        read_request_head(&mut conn);
        let gib: u64 = 1 << 30;
        let head =
            format!("HTTP/1.1 200 OK\r\nContent-Length: {gib}\r\nContent-Type: text/html\r\n\r\n");
        if conn.write_all(head.as_bytes()).is_err() {
            return;
        }
        let chunk = vec![b'a'; 64 * 1024];
        let mut sent = 0;
        while sent < gib {
            if conn.write_all(&chunk).is_err() {
                return;
            }
            sent += chunk.len() as u64;
        }
    })
}

#[test]
fn hostile_targets_fail_their_own_check_and_never_stall_the_run() {
    let silent = silent_server();
    let drip = drip_server();
    let huge = huge_body_server();
    let good = HttpServer::start(|_| Reply::new(200, "fine"));
    let env = Env::new(&config(&format!(
        "      - {{ name: silent, type: http, url: '{silent}', timeout: 1s }}
      - {{ name: drip, type: http, url: '{drip}', timeout: 1s, text_match: 'y' }}
      - {{ name: drip-headers, type: tcp, host: '{drip_addr}', timeout: 1s }}
      - {{ name: huge, type: http, url: '{huge}', timeout: 5s, text_match: 'never-there' }}
      - {{ name: huge-no-match, type: http, url: '{huge}', timeout: 5s }}
      - {{ name: good, type: http, url: '{good}' }}
",
        silent = silent.url("/"),
        drip = drip.url("/"),
        drip_addr = drip.addr,
        huge = huge.url("/"),
        good = good.url("/"),
    )));
    let started = Instant::now();
    let run = env.cabot(&["run", "--all", "--jobs", "8"]);
    let took = started.elapsed();
    assert_eq!(run.code, 0, "{run:?}");
    // The silent server would hold the run for 30 s.
    assert!(took < Duration::from_secs(20), "the run took {took:?}");

    let (status, message) = result(&env.status_json(), "silent");
    assert_eq!(status, "failing");
    assert!(message.contains("timed out after 1s"), "{message}");
    let (status, message) = result(&env.status_json(), "drip");
    assert_eq!(status, "failing");
    assert!(message.contains("timed out"), "{message}");
    assert_eq!(
        result(&env.status_json(), "drip-headers").0,
        "passing",
        "TCP connect works there"
    );
    let (status, message) = result(&env.status_json(), "huge");
    assert_eq!(status, "failing");
    assert!(
        message.contains("not found in the first 1048576 bytes of the body (max_body)"),
        "{message}"
    );
    assert_eq!(
        result(&env.status_json(), "huge-no-match").0,
        "passing",
        "no text_match, no body read"
    );
    assert_eq!(result(&env.status_json(), "good").0, "passing");
}

/// Runs `cabot` with `args` under a fresh python3, which reports its exit code and peak RSS
/// in KiB. A child's `ru_maxrss` starts from the RSS of the process that spawned it, and
/// this test binary, running many tests at once, can be far larger than 64 MB.
fn peak_rss_kib(env: &Env, args: &[&str]) -> (i32, i64) {
    const MEASURE: &str = "import resource, subprocess, sys\n\
        code = subprocess.run(sys.argv[1:]).returncode\n\
        print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)";
    let out = std::process::Command::new("python3")
        .args(["-c", MEASURE, cabot_bin(), "-c"])
        .arg(env.config())
        .args(args)
        .output();
    need(out.is_ok(), "python3");
    let out = out.expect("python3");
    let text = String::from_utf8_lossy(&out.stdout);
    let mut words = text.split_whitespace().map(|w| w.parse::<i64>());
    match (words.next(), words.next()) {
        (Some(Ok(code)), Some(Ok(kib))) => (code as i32, kib),
        _ => panic!("the measuring python said {text:?}: {out:?}"),
    }
}

#[test]
#[ignore = "needs python3, to measure cabot's peak RSS apart from this test binary's"]
fn a_1_gib_body_keeps_the_run_under_64_mb() {
    let huge = huge_body_server();
    let env = Env::new(&config(&format!(
        "      - {{ name: huge, type: http, url: '{huge}', timeout: 5s, text_match: 'never-there' }}
      - {{ name: huge-no-match, type: http, url: '{huge}', timeout: 5s }}
      - {{ name: huge-3, type: http, url: '{huge}', timeout: 5s, text_match: 'nor-here' }}
",
        huge = huge.url("/"),
    )));
    let (code, max_rss_kib) = peak_rss_kib(&env, &["run", "--all", "--jobs", "8"]);
    assert_eq!(code, 0);
    assert!(
        max_rss_kib < 64 * 1024,
        "peak RSS {max_rss_kib} KiB while a 1 GiB body was offered"
    );
    assert_eq!(result(&env.status_json(), "huge").0, "failing");
}

#[test]
fn tls_certificates_are_verified_unless_told_not_to() {
    // 2019-01-01 to 2020-01-01
    const EXPIRED_FROM: i64 = 1_546_300_800;
    const EXPIRED_UNTIL: i64 = 1_577_836_800;
    let ca = certs::ca();
    let good = certs::https_server(&certs::leaf(&["127.0.0.1", "localhost"], Some(&ca), None));
    let expired = certs::https_server(&certs::leaf(
        &["127.0.0.1"],
        Some(&ca),
        Some((EXPIRED_FROM, EXPIRED_UNTIL)),
    ));
    let wrong_host = certs::https_server(&certs::leaf(&["other.example"], Some(&ca), None));
    let self_signed = certs::https_server(&certs::leaf(&["127.0.0.1"], None, None));
    let url = |s: &RawServer| format!("https://{}/", s.addr);
    let env = Env::new(&config(&format!(
        "      - {{ name: good, type: http, url: '{good}', ca_file: ca.pem, text_match: secure }}
      - {{ name: expired, type: http, url: '{expired}', ca_file: ca.pem }}
      - {{ name: wrong-host, type: http, url: '{wrong}', ca_file: ca.pem }}
      - {{ name: self-signed, type: http, url: '{selfs}' }}
      - {{ name: unverified, type: http, url: '{selfs}', verify_tls: false, text_match: secure }}
      - {{ name: expired-unverified, type: http, url: '{expired}', verify_tls: false }}
",
        good = url(&good),
        expired = url(&expired),
        wrong = url(&wrong_host),
        selfs = url(&self_signed),
    )));
    std::fs::write(env.path("ca.pem"), &ca.pem).expect("write ca");
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "good");
    assert_eq!(status, "passing", "{message}");
    assert!(message.starts_with("HTTP 200 in"), "{message}");
    let (status, message) = result(&env.status_json(), "expired");
    assert_eq!(status, "failing");
    assert!(message.to_lowercase().contains("expired"), "{message}");
    let (status, message) = result(&env.status_json(), "wrong-host");
    assert_eq!(status, "failing");
    assert!(
        message.contains("the certificate is not for 127.0.0.1"),
        "{message}"
    );
    let (status, message) = result(&env.status_json(), "self-signed");
    assert_eq!(status, "failing");
    assert!(
        message.contains("TLS error") && message.contains("not signed by a trusted authority"),
        "{message}"
    );
    assert_eq!(result(&env.status_json(), "unverified").0, "passing");
    assert_eq!(
        result(&env.status_json(), "expired-unverified").0,
        "passing"
    );
}

#[test]
fn an_https_check_trusts_a_self_signed_certificate_from_plain_openssl_pinned_in_ca_file() {
    // `openssl req -x509 -subj /CN=127.0.0.1`: CA:TRUE, no subjectAltName.
    let made = certs::openssl_self_signed("127.0.0.1", 30);
    let server = certs::https_server(&made);
    let another = certs::openssl_self_signed("127.0.0.1", 30);
    let url = format!("https://{}/", server.addr);
    let env = Env::new(&config(&format!(
        "      - {{ name: pinned, type: http, url: '{url}', ca_file: mine.pem, text_match: secure }}
      - {{ name: pinned-another, type: http, url: '{url}', ca_file: another.pem }}
      - {{ name: unverified, type: http, url: '{url}', verify_tls: false, text_match: secure }}
"
    )));
    std::fs::write(env.path("mine.pem"), &made.pem).expect("write mine.pem");
    std::fs::write(env.path("another.pem"), &another.pem).expect("write another.pem");
    let status = run_all(&env, None);
    expect(
        &status,
        &[
            ("pinned", "passing", "HTTP 200"),
            ("unverified", "passing", "HTTP 200"),
            (
                "pinned-another",
                "failing",
                "TLS error: the server's certificate is a CA",
            ),
        ],
    );
    let (_, message) = result(&status, "pinned-another");
    assert!(!message.contains("CaUsedAsEndEntity"), "{message}");
}

#[test]
fn a_check_reads_at_most_max_body() {
    // The marker sits just past a 64 KiB cap: not found, and said so.
    let server = HttpServer::start(|_| {
        let mut body = vec![b'.'; 70 * 1024];
        body.extend_from_slice(b"MARKER");
        Reply::new(200, body)
    });
    let env = Env::new(&config(&format!(
        "      - {{ name: capped, type: http, url: '{u}', text_match: MARKER, max_body: 64KiB }}
      - {{ name: roomy, type: http, url: '{u}', text_match: MARKER, max_body: 1MiB }}
",
        u = server.url("/")
    )));
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "capped");
    assert_eq!(status, "failing");
    assert!(message.contains("first 65536 bytes"), "{message}");
    assert_eq!(result(&env.status_json(), "roomy").0, "passing");
}

#[test]
fn a_plain_http_check_follows_a_redirect_to_https() {
    // Plain http and https go out through different connectors; a redirect crosses over.
    let ca = certs::ca();
    let secure = certs::https_server(&certs::leaf(&["127.0.0.1"], Some(&ca), None));
    let target = format!("https://{}/", secure.addr);
    let plain = HttpServer::start(move |_| Reply::new(301, "moved").header("Location", &target));
    let env = Env::new(&config(&format!(
        "      - {{ name: upgraded, type: http, url: '{}', ca_file: ca.pem, text_match: secure }}\n",
        plain.url("/")
    )));
    std::fs::write(env.path("ca.pem"), &ca.pem).expect("write ca");
    run_all(&env, None);
    let (status, message) = result(&env.status_json(), "upgraded");
    assert_eq!(status, "passing", "{message}");
    assert_eq!(plain.requests().len(), 1);
}
