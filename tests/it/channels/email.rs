//! The `email` channel against a real SMTP server (Python's aiosmtpd, with STARTTLS, implicit
//! TLS and AUTH as the test asks), started by the test on 127.0.0.1.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::{Arc, mpsc};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::support::*;

/// How long the SMTP server gets to say which port it listens on.
const START_TIMEOUT: Duration = Duration::from_secs(20);

/// Fails the test unless Python's aiosmtpd is installed.
fn need_aiosmtpd() {
    let found = Command::new(PYTHON)
        .args(["-c", "import aiosmtpd"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    need(
        found,
        &format!("{PYTHON} with aiosmtpd (apt-get install python3-aiosmtpd)"),
    );
}

#[derive(Clone, Copy)]
enum Mode {
    Plain,
    StartTls,
    Implicit,
}

/// A PEM certificate and key for the server.
struct Identity {
    cert_pem: String,
    key_pem: String,
}

/// One `smtp_server.py`, killed on drop; its folder holds what it received.
struct SmtpServer {
    child: Child,
    /// The loopback address it listens on: `127.0.0.1` or `::1`.
    host: &'static str,
    port: u16,
    mode: Mode,
    dir: tempfile::TempDir,
}

impl SmtpServer {
    fn start(mode: Mode, identity: Option<&Identity>, auth: Option<&str>) -> SmtpServer {
        SmtpServer::start_on("127.0.0.1", mode, identity, auth)
    }

    fn start_on(
        host: &'static str,
        mode: Mode,
        identity: Option<&Identity>,
        auth: Option<&str>,
    ) -> SmtpServer {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("received");
        std::fs::create_dir(&out).expect("mkdir");
        need_aiosmtpd();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/support/smtp_server.py");
        let mut cmd = Command::new(PYTHON);
        cmd.arg(script)
            .arg("--out")
            .arg(&out)
            .args(["--host", host])
            .arg("--mode")
            .arg(match mode {
                Mode::Plain => "plain",
                Mode::StartTls => "starttls",
                Mode::Implicit => "implicit",
            });
        if let Some(id) = identity {
            let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
            std::fs::write(&cert, &id.cert_pem).expect("write cert");
            std::fs::write(&key, &id.key_pem).expect("write key");
            cmd.arg("--cert").arg(cert).arg("--key").arg(key);
        }
        if let Some(auth) = auth {
            cmd.arg("--auth").arg(auth);
        }
        let log = std::fs::File::create(dir.path().join("server.log")).expect("log");
        // stdin stays open as long as the child: the server quits when it closes.
        let mut child = cmd
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {PYTHON}: {e}"));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let mut server = SmtpServer {
            child,
            host,
            port: 0,
            mode,
            dir,
        };
        let line = rx.recv_timeout(START_TIMEOUT).unwrap_or_default();
        server.port = line.trim().parse().unwrap_or_else(|_| {
            panic!(
                "the SMTP server did not report its port (got {line:?}); its log:\n{}",
                server.log()
            )
        });
        server
    }

    fn url(&self) -> String {
        let at = if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        };
        match self.mode {
            Mode::Plain => format!("smtp://{at}"),
            Mode::StartTls => format!("smtp://{at}?tls=required"),
            Mode::Implicit => format!("smtps://{at}"),
        }
    }

    /// How cabot names this server in its records: the url without its query.
    fn name(&self) -> String {
        self.url().split('?').next().unwrap_or_default().to_string()
    }

    fn received(&self) -> PathBuf {
        self.dir.path().join("received")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("server.log")).unwrap_or_default()
    }

    /// `ok USER` / `failed USER` for every AUTH attempt, in order.
    fn auth_log(&self) -> String {
        std::fs::read_to_string(self.received().join("auth.log")).unwrap_or_default()
    }

    /// Every message accepted so far, in the order received.
    fn mails(&self) -> Vec<Mail> {
        let mut numbers: Vec<u32> = std::fs::read_dir(self.received())
            .expect("read received")
            .filter_map(|e| {
                let name = e.ok()?.file_name().into_string().ok()?;
                name.strip_suffix(".json")?.parse().ok()
            })
            .collect();
        numbers.sort();
        numbers
            .into_iter()
            .map(|n| Mail::read(&self.received(), n))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One received message: the envelope, and the raw data split into headers and body.
#[derive(Debug)]
struct Mail {
    mail_from: String,
    rcpt_tos: Vec<String>,
    tls: bool,
    login: Option<String>,
    raw: Vec<u8>,
    headers: Vec<(String, String)>,
    /// Decoded from its Content-Transfer-Encoding, CRLF turned into LF.
    body: String,
}

impl Mail {
    fn read(dir: &Path, n: u32) -> Mail {
        let meta: serde_json::Value = serde_json::from_slice(
            &std::fs::read(dir.join(format!("{n}.json"))).expect("read envelope"),
        )
        .expect("envelope json");
        let raw = std::fs::read(dir.join(format!("{n}.eml"))).expect("read message");
        let text = String::from_utf8(raw.clone()).expect("a message in UTF-8");
        let (head, body) = text
            .split_once("\r\n\r\n")
            .unwrap_or_else(|| panic!("no blank line after the headers:\n{text}"));
        let headers = parse_headers(head);
        let mut mail = Mail {
            mail_from: meta["mail_from"].as_str().unwrap_or("").to_string(),
            rcpt_tos: meta["rcpt_tos"]
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str())
                        .map(String::from)
                        .collect()
                })
                .unwrap_or_default(),
            tls: meta["tls"] == true,
            login: meta["login"].as_str().map(String::from),
            raw,
            headers,
            body: String::new(),
        };
        mail.body = match mail.header("Content-Transfer-Encoding") {
            None | Some("7bit") | Some("8bit") => body.to_string(),
            Some("quoted-printable") => decode_quoted_printable(body),
            Some(other) => panic!("unexpected Content-Transfer-Encoding {other}:\n{text}"),
        }
        .replace("\r\n", "\n");
        mail
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn count(&self, name: &str) -> usize {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .count()
    }

    fn subject(&self) -> &str {
        self.header("Subject").unwrap_or("")
    }
}

/// RFC 5322 headers: `Name: value` lines, a line starting with white space continues
/// the one before (unfolded here).
fn parse_headers(head: &str) -> Vec<(String, String)> {
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in head.split("\r\n") {
        if line.starts_with([' ', '\t']) {
            let last = headers
                .last_mut()
                .unwrap_or_else(|| panic!("a continuation before any header: {line:?}"));
            last.1.push_str(line);
            continue;
        }
        let (name, value) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("not a header line: {line:?}\nin:\n{head}"));
        assert!(
            !name.is_empty() && name.bytes().all(|b| b.is_ascii_graphic()),
            "bad header name {name:?} in:\n{head}"
        );
        headers.push((name.to_string(), value.trim().to_string()));
    }
    headers
}

fn decode_quoted_printable(text: &str) -> String {
    let text = text.replace("=\r\n", "");
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'='
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).expect("UTF-8 after quoted-printable")
}

/// A certificate for 127.0.0.1 signed by `ca`, or self-signed without one.
fn identity(ca: Option<&certs::Ca>) -> Identity {
    identity_for(&["127.0.0.1"], ca)
}

/// A certificate for `names`, signed by `ca` or self-signed.
fn identity_for(names: &[&str], ca: Option<&certs::Ca>) -> Identity {
    let leaf = certs::leaf(names, ca, None);
    Identity {
        cert_pem: leaf.pem,
        key_pem: leaf.key_pem,
    }
}

/// A website whose health check answers `status`, changed by the test.
struct Website {
    server: HttpServer,
    status: Arc<AtomicU16>,
}

impl Website {
    fn start() -> Website {
        let status = Arc::new(AtomicU16::new(200));
        let answer = Arc::clone(&status);
        let server = HttpServer::start(move |_| Reply::new(answer.load(Ordering::SeqCst), "hello"));
        Website { server, status }
    }

    fn answer(&self, status: u16) {
        self.status.store(status, Ordering::SeqCst);
    }

    fn url(&self) -> String {
        self.server.url("/health")
    }
}

/// Service `website` for user alice through channel `mail`, whose servers are YAML
/// flow mappings; `check` is the check's extra keys.
fn config(servers: &[String], check_url: &str, check: &str) -> String {
    format!(
        "users:
  alice: {{ email: alice@example.com }}
channels:
  mail:
    type: email
    from: 'Cabot <cabot@example.com>'
    servers:
{servers}
services:
  - name: website
    url: https://example.com/
    runbook: https://wiki.example.com/website
    users: [alice]
    channels: [mail]
    checks:
      - {{ name: homepage, type: http, url: '{check_url}'{check} }}
",
        servers = servers
            .iter()
            .map(|s| format!("      - {s}\n"))
            .collect::<String>()
    )
}

fn server(url: &str) -> String {
    format!("{{ url: '{url}' }}")
}

/// A start time: now, so that nothing looks stale.
fn t0() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs() as i64
}

/// `cabot run` at `now`, with extra environment variables; it must complete.
fn run_at(env: &Env, now: i64, vars: &[(&str, &str)]) -> Run {
    let mut cmd = env.command(&["run"]);
    cmd.env("CABOT_NOW", now.to_string());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.output().expect("run cabot");
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    };
    assert_eq!(run.code, 0, "run at {now}: {run:?}");
    run
}

/// The website passes at `t`, then fails (HTTP 500) a minute later: one alert decided.
fn pass_then_fail(env: &Env, site: &Website, t: i64, vars: &[(&str, &str)]) -> Run {
    site.answer(200);
    run_at(env, t, vars);
    site.answer(500);
    run_at(env, t + 60, vars)
}

fn undelivered(env: &Env) -> i64 {
    let status = env.status_json();
    status["alerts"]["undelivered"]
        .as_i64()
        .unwrap_or_else(|| panic!("no alerts.undelivered in {status:#}"))
}

/// (state, provider) of every delivery, oldest first.
fn deliveries(env: &Env) -> Vec<(String, Option<String>)> {
    let db = env.db();
    let mut stmt = db
        .prepare("SELECT state, provider FROM deliveries ORDER BY id")
        .expect("prepare");
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("rows")
}

/// Each header a mail needs, exactly once, and MIME-Version so its encoding is read.
fn assert_headers_once(mail: &Mail) {
    for name in [
        "Subject",
        "From",
        "To",
        "Date",
        "Message-ID",
        "Content-Type",
    ] {
        assert_eq!(mail.count(name), 1, "{name} once: {:#?}", mail.headers);
    }
    assert_eq!(
        mail.header("MIME-Version"),
        Some("1.0"),
        "{:#?}",
        mail.headers
    );
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn failing_then_recovered_service_sends_one_alert_and_one_recovery() {
    let smtp = SmtpServer::start(Mode::Plain, None, None);
    let site = Website::start();
    let env = Env::new(&config(
        &[server(&smtp.url())],
        &site.url(),
        ", importance: critical",
    ));
    let t = t0();

    site.answer(200);
    run_at(&env, t, &[]);
    assert!(smtp.mails().is_empty(), "nothing to say while passing");

    site.answer(500);
    run_at(&env, t + 60, &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "one alert: {mails:#?}");
    let alert = &mails[0];
    assert_eq!(alert.mail_from, "cabot@example.com");
    assert_eq!(alert.rcpt_tos, ["alice@example.com"]);
    assert_headers_once(alert);
    assert!(
        alert
            .header("To")
            .unwrap_or("")
            .contains("alice@example.com")
    );
    assert!(
        alert
            .header("From")
            .unwrap_or("")
            .contains("cabot@example.com")
    );
    assert_eq!(alert.subject(), "CRITICAL status for service: website");
    let body = &alert.body;
    for want in [
        "Service website is CRITICAL (previous status: PASSING)",
        "homepage [critical]: HTTP 500 (expected 2xx)",
        "Service: https://example.com/",
        "Runbook: https://wiki.example.com/website",
        "cabot ack website",
    ] {
        assert!(body.contains(want), "body lacks {want:?}:\n{body}");
    }
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))]
    );

    // Still failing a minute later: no repeat before alerting.repeat (10m).
    run_at(&env, t + 120, &[]);
    assert_eq!(smtp.mails().len(), 1);

    site.answer(200);
    run_at(&env, t + 180, &[]);
    run_at(&env, t + 240, &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 2, "one recovery: {mails:#?}");
    let recovery = &mails[1];
    assert_eq!(recovery.rcpt_tos, ["alice@example.com"]);
    assert_eq!(recovery.subject(), "Service back to normal: website");
    assert!(
        recovery
            .body
            .contains("Service website is back to normal (was CRITICAL)"),
        "{}",
        recovery.body
    );
    assert!(!recovery.body.contains("cabot ack"), "{}", recovery.body);
    assert_eq!(undelivered(&env), 0);
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn starttls_with_a_private_ca_and_auth_from_the_environment() {
    let ca = certs::ca();
    let smtp = SmtpServer::start(
        Mode::StartTls,
        Some(&identity(Some(&ca))),
        Some("cabot:s3cret pass"),
    );
    let site = Website::start();
    let env = Env::new(&config(
        &[format!(
            "{{ url: '{}', username: cabot, password_env: CABOT_TEST_SMTP_PASSWORD, ca_file: ca.pem }}",
            smtp.url()
        )],
        &site.url(),
        "",
    ));
    std::fs::write(env.path("ca.pem"), &ca.pem).expect("write ca");
    let vars = [("CABOT_TEST_SMTP_PASSWORD", "s3cret pass")];
    pass_then_fail(&env, &site, t0(), &vars);

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}\nserver log:\n{}", smtp.log());
    assert!(mails[0].tls, "STARTTLS was used");
    assert_eq!(mails[0].login.as_deref(), Some("cabot"));
    assert_eq!(mails[0].subject(), "ERROR status for service: website");
    assert_eq!(smtp.auth_log(), "ok cabot\n");
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))]
    );

    // The same server is refused without the CA: its certificate is not publicly trusted.
    let env = Env::new(&config(
        &[format!(
            "{{ url: '{}', username: cabot, password_env: CABOT_TEST_SMTP_PASSWORD }}",
            smtp.url()
        )],
        &site.url(),
        "",
    ));
    let out = env
        .command(&["test-alert", "mail", "--to", "alice"])
        .env("CABOT_TEST_SMTP_PASSWORD", "s3cret pass")
        .output()
        .expect("test-alert");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(2), "{stdout}");
    assert!(stdout.contains("FAILED"), "{stdout}");
    assert!(
        stdout.contains("UnknownIssuer") || stdout.to_lowercase().contains("certificate"),
        "{stdout}"
    );
    assert_eq!(smtp.mails().len(), 1, "nothing sent over an untrusted TLS");
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn implicit_tls_with_verification_off() {
    let smtp = SmtpServer::start(Mode::Implicit, Some(&identity(None)), None);
    let site = Website::start();
    let unverified = format!("{{ url: '{}', verify_tls: false }}", smtp.url());
    let env = Env::new(&config(&[unverified], &site.url(), ""));
    pass_then_fail(&env, &site, t0(), &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}\nserver log:\n{}", smtp.log());
    assert!(mails[0].tls, "smtps:// is TLS from the first byte");
    assert_eq!(mails[0].subject(), "ERROR status for service: website");
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))]
    );

    // With verification on (the default), the self-signed certificate is refused.
    env.write_config(&config(&[server(&smtp.url())], &site.url(), ""));
    let run = env.cabot(&["test-alert", "mail", "--to", "alice"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("FAILED"), "{run:?}");
    assert_eq!(smtp.mails().len(), 1);
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn verify_tls_false_also_accepts_a_certificate_for_another_host() {
    // As stock Debian Postfix: STARTTLS required, a self-signed certificate for its own
    // name, reached by address.
    let smtp = SmtpServer::start(
        Mode::StartTls,
        Some(&identity_for(&["mail.internal.example"], None)),
        None,
    );
    let site = Website::start();
    let unverified = format!("{{ url: '{}', verify_tls: false }}", smtp.url());
    let env = Env::new(&config(&[unverified], &site.url(), ""));
    let run = env.cabot(&["test-alert", "mail", "--to", "alice"]);
    assert_eq!(run.code, 0, "{run:?}\nserver log:\n{}", smtp.log());
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].tls, "the mail went over STARTTLS");

    // With verification on, the name is checked, and 127.0.0.1 is not the one it names.
    env.write_config(&config(&[server(&smtp.url())], &site.url(), ""));
    let run = env.cabot(&["test-alert", "mail", "--to", "alice"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains("FAILED"), "{run:?}");
    assert_eq!(smtp.mails().len(), 1);
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn a_server_at_an_ipv6_literal_is_reached() {
    let smtp = SmtpServer::start_on("::1", Mode::Plain, None, None);
    let site = Website::start();
    assert!(smtp.url().starts_with("smtp://[::1]:"), "{}", smtp.url());
    let env = Env::new(&config(&[server(&smtp.url())], &site.url(), ""));
    pass_then_fail(&env, &site, t0(), &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}\nserver log:\n{}", smtp.log());
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))]
    );
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn a_server_that_is_down_fails_over_to_the_next() {
    let down = format!("smtp://127.0.0.1:{}", closed_port());
    let smtp = SmtpServer::start(Mode::Plain, None, None);
    let site = Website::start();
    let env = Env::new(&config(
        &[server(&down), server(&smtp.url())],
        &site.url(),
        "",
    ));
    pass_then_fail(&env, &site, t0(), &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].rcpt_tos, ["alice@example.com"]);
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))],
        "the second server delivered"
    );
    let attempts: Vec<(String, bool)> = {
        let db = env.db();
        let mut stmt = db
            .prepare("SELECT provider, ok FROM attempts ORDER BY id")
            .expect("prepare");
        stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<Result<_, _>>()
            .expect("rows")
    };
    assert_eq!(attempts, [(down, false), (smtp.name(), true)]);
    assert_eq!(undelivered(&env), 0);
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn a_wrong_password_keeps_the_alert_pending_until_it_is_fixed() {
    let smtp = SmtpServer::start(Mode::Plain, None, Some("cabot:right"));
    let site = Website::start();
    let env = Env::new(&config(
        &[format!(
            "{{ url: '{}', username: cabot, password_file: smtp-password }}",
            smtp.url()
        )],
        &site.url(),
        "",
    ));
    std::fs::write(env.path("smtp-password"), "wrong\n").expect("write password");
    let t = t0();
    let failed = pass_then_fail(&env, &site, t, &[]);
    assert!(smtp.mails().is_empty());
    assert!(
        smtp.auth_log().starts_with("failed cabot"),
        "{}",
        smtp.auth_log()
    );
    assert!(
        failed.stderr.contains("not delivered") && failed.stderr.contains("will retry"),
        "{failed:?}"
    );
    assert_eq!(undelivered(&env), 1);
    assert_eq!(
        deliveries(&env),
        [("pending".to_string(), None)],
        "no server took it"
    );

    std::fs::write(env.path("smtp-password"), "right\n").expect("write password");
    // Within the first backoff (1m) nothing is retried.
    let auth_attempts = smtp.auth_log().lines().count();
    run_at(&env, t + 90, &[]);
    assert_eq!(smtp.auth_log().lines().count(), auth_attempts);
    assert_eq!(undelivered(&env), 1);

    // Past it, the next run delivers, once.
    run_at(&env, t + 60 + 120, &[]);
    run_at(&env, t + 60 + 180, &[]);
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert_eq!(mails[0].subject(), "ERROR status for service: website");
    assert_eq!(mails[0].login.as_deref(), Some("cabot"));
    assert_eq!(undelivered(&env), 0);
    assert_eq!(
        deliveries(&env),
        [("delivered".to_string(), Some(smtp.name()))]
    );
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn test_alert_shows_the_answer_and_fails_when_the_server_is_down() {
    let smtp = SmtpServer::start(Mode::Plain, None, None);
    let env = Env::new(&config(&[server(&smtp.url())], "http://127.0.0.1:9/", ""));
    let run = env.cabot(&["test-alert", "mail", "--to", "alice"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert!(
        run.stdout.contains(&format!(
            "mail to alice@example.com: {}: ok 250 2.0.0 Ok: queued as test-1",
            smtp.name()
        )),
        "{run:?}"
    );
    let mails = smtp.mails();
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].rcpt_tos, ["alice@example.com"]);
    assert_eq!(
        mails[0].subject(),
        "Test alert from cabot for service: cabot-test"
    );
    assert!(
        mails[0].body.contains("this channel works"),
        "{}",
        mails[0].body
    );

    let down = format!("smtp://127.0.0.1:{}", closed_port());
    env.write_config(&config(&[server(&down)], "http://127.0.0.1:9/", ""));
    let run = env.cabot(&["test-alert", "mail", "--to", "alice"]);
    assert_eq!(run.code, 2, "{run:?}");
    assert!(run.stdout.contains(&format!("{down}: FAILED")), "{run:?}");
    assert!(run.stderr.contains("reached 0 of 1"), "{run:?}");
    assert_eq!(smtp.mails().len(), 1);
}

#[test]
#[ignore = "needs python3-aiosmtpd, the real SMTP server"]
fn hostile_check_output_cannot_add_headers_or_bloat_the_email() {
    let smtp = SmtpServer::start(Mode::Plain, None, None);
    let site = Website::start();
    // The failing check's message quotes its text_match: CR/LF, headers, 10 kB.
    let hostile = format!(
        r"\r\nSubject: injected\r\nBcc: mallory@example.com\r\n\r\nforged body\n{}",
        "x".repeat(10_000)
    );
    let hostile_config = config(
        &[server(&smtp.url())],
        &site.url(),
        &format!(", text_match: \"{hostile}\""),
    );
    let env = Env::new(&hostile_config);
    let t = t0();
    site.answer(200);
    env.write_config(&config(&[server(&smtp.url())], &site.url(), ""));
    run_at(&env, t, &[]);
    env.write_config(&hostile_config);
    run_at(&env, t + 60, &[]);
    let status = env.status_json();
    let message = check_json(&status, "website", "homepage")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert!(message.contains("Subject: injected"), "{message}");

    let mails = smtp.mails();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    let alert = &mails[0];
    assert_eq!(alert.rcpt_tos, ["alice@example.com"], "no extra recipient");
    assert_headers_once(alert);
    assert_eq!(alert.subject(), "ERROR status for service: website");
    for (name, value) in &alert.headers {
        assert!(!name.eq_ignore_ascii_case("Bcc"), "{:#?}", alert.headers);
        assert!(!value.contains("injected"), "{name}: {value}");
    }
    assert!(
        alert.body.contains("Subject: injected"),
        "quoted in the body"
    );
    for line in alert.body.lines() {
        if line.contains("injected") || line.contains("forged body") {
            assert!(line.starts_with("  - homepage [error]: "), "{line}");
        }
    }
    assert!(
        alert.body.len() < 10_000,
        "body of {} bytes",
        alert.body.len()
    );
    assert!(
        alert.raw.len() < 12_000,
        "message of {} bytes",
        alert.raw.len()
    );
}
