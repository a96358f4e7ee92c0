//! `command` (real Nagios plugins from monitoring-plugins-basic, and scripts for each exit
//! code), `icmp` (127.0.0.1, and an address in a network namespace of the test's own that
//! never answers) and `heartbeat` (`cabot ping`, and `POST /ping/NAME` to serve-status).

mod support;

use std::process::{Child, Command};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::Value;
use support::*;

const T0: i64 = 1_800_000_000;
const PLUGINS: &str = "/usr/lib/nagios/plugins";

fn plugins_available() -> bool {
    let ok = std::path::Path::new(PLUGINS).join("check_tcp").exists();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "monitoring-plugins-basic is missing; CI must install it"
        );
        eprintln!(
            "\n*** NOT TESTED: Nagios plugins (apt-get install monitoring-plugins-basic) ***\n"
        );
    }
    ok
}

fn ping_available() -> bool {
    let ok = Command::new("ping").arg("-V").output().is_ok();
    if !ok {
        assert!(
            std::env::var_os("CI").is_none(),
            "ping is missing; CI must install iputils-ping"
        );
        eprintln!("\n*** NOT TESTED: icmp (apt-get install iputils-ping) ***\n");
    }
    ok
}

/// One service `s` with these check lines (YAML list items, indented 6).
fn env(checks: &str) -> Env {
    Env::new(&format!("services:\n  - name: s\n    checks:\n{checks}"))
}

fn check(env: &Env, name: &str) -> Value {
    check_json(&env.status_json(), "s", name).clone()
}

fn sh(script: &str) -> String {
    format!(
        "['/bin/sh', '-c', {}]",
        serde_json::to_string(script).expect("json")
    )
}

#[test]
fn real_nagios_plugins_against_loopback_servers() {
    if !plugins_available() {
        return;
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let open = listener.local_addr().expect("addr").port();
    let web = HttpServer::start(|_| Reply::new(200, "<h1>Welcome</h1>"));
    let web_port = web.addr.port();
    let env = env(&format!(
        "      - {{ name: tcp-open, type: command, command: ['{PLUGINS}/check_tcp', -H, 127.0.0.1, -p, '{open}'] }}
      - {{ name: tcp-closed, type: command, command: ['{PLUGINS}/check_tcp', -H, 127.0.0.1, -p, '{closed}'] }}
      - {{ name: http-ok, type: command, command: ['{PLUGINS}/check_http', -H, 127.0.0.1, -p, '{web_port}', -u, /, -s, Welcome] }}
      - {{ name: http-missing, type: command, command: ['{PLUGINS}/check_http', -H, 127.0.0.1, -p, '{web_port}', -u, /, -s, Goodbye] }}
",
        closed = closed_port(),
    ));
    assert_eq!(env.cabot(&["run", "--all"]).code, 0);
    let c = check(&env, "tcp-open");
    assert_eq!(c["status"], "passing", "{c}");
    assert!(
        c["message"].as_str().unwrap_or("").starts_with("TCP OK"),
        "{c}"
    );
    assert!(
        !c["message"].as_str().unwrap_or("").contains('|'),
        "perfdata is not in the message: {c}"
    );
    let perf: String = env
        .db()
        .query_row(
            "SELECT last_perfdata FROM checks WHERE name = 'tcp-open'",
            [],
            |r| r.get(0),
        )
        .expect("perfdata");
    let perf: Value = serde_json::from_str(&perf).expect("perf json");
    assert_eq!(perf[0]["label"], "time");
    assert_eq!(perf[0]["uom"], "s");
    assert!(perf[0]["value"].is_number());
    let c = check(&env, "tcp-closed");
    assert_eq!(c["status"], "failing");
    assert!(
        c["message"]
            .as_str()
            .unwrap_or("")
            .contains("Connection refused"),
        "{c}"
    );
    assert_eq!(
        c["fails_at"], "error",
        "exit 2 fails at the check's importance"
    );
    assert_eq!(check(&env, "http-ok")["status"], "passing");
    let c = check(&env, "http-missing");
    assert_eq!(c["status"], "failing");
    assert!(
        c["message"].as_str().unwrap_or("").contains("Goodbye"),
        "{c}"
    );
    drop(listener);
}

#[test]
fn exit_codes_decide_the_result_and_its_importance() {
    let env = env(&format!(
        "      - {{ name: ok, type: command, command: {ok}, importance: critical }}
      - {{ name: warn, type: command, command: {warn}, importance: critical }}
      - {{ name: warn-low, type: command, command: {warn}, importance: warning }}
      - {{ name: crit, type: command, command: {crit}, importance: error }}
      - {{ name: unknown, type: command, command: {unknown} }}
      - {{ name: other, type: command, command: {other} }}
      - {{ name: crash, type: command, command: {crash} }}
      - {{ name: silent, type: command, command: {silent} }}
      - {{ name: missing, type: command, command: ['/no/such/plugin'] }}
",
        ok = sh("echo 'OK - all good | load=0.5;1;2'; exit 0"),
        warn = sh("echo 'WARNING - disk 91% | disk=91%;90;95;0;100'; exit 1"),
        crit = sh("echo 'CRITICAL - it is down'; exit 2"),
        unknown = sh("echo 'UNKNOWN - cannot tell'; exit 3"),
        other = sh("echo 'weird'; exit 7"),
        crash = sh("echo 'about to crash'; kill -9 $$"),
        silent = sh("exit 2"),
    ));
    assert_eq!(env.cabot(&["run", "--all"]).code, 0);
    let cases = [
        ("ok", "passing", None, "OK - all good"),
        ("warn", "failing", Some("warning"), "WARNING - disk 91%"),
        ("warn-low", "failing", Some("warning"), "WARNING - disk 91%"),
        ("crit", "failing", Some("error"), "CRITICAL - it is down"),
        (
            "unknown",
            "failing",
            Some("error"),
            "UNKNOWN: UNKNOWN - cannot tell",
        ),
        ("other", "failing", Some("error"), "exit 7: weird"),
        (
            "crash",
            "failing",
            Some("error"),
            "killed by signal 9: about to crash",
        ),
        ("silent", "failing", Some("error"), "exit 2, no output"),
        (
            "missing",
            "failing",
            Some("error"),
            "cannot run /no/such/plugin",
        ),
    ];
    for (name, status, fails_at, message) in cases {
        let c = check(&env, name);
        assert_eq!(c["status"], status, "{name}: {c}");
        assert_eq!(c["fails_at"].as_str(), fails_at, "{name}: {c}");
        assert!(
            c["message"].as_str().unwrap_or("").starts_with(message),
            "{name}: {c}"
        );
    }
    // exit 1 on a critical check makes its service WARNING, never more
    let only_warn = Env::new(&format!(
        "services:\n  - name: s\n    checks:\n      - {{ name: warn, type: command, command: {}, importance: critical }}\n",
        sh("echo 'WARNING - meh'; exit 1")
    ));
    only_warn.cabot(&["run"]);
    assert_eq!(only_warn.status_json()["services"][0]["status"], "WARNING");
}

fn no_process_matches(marker: &str) -> bool {
    let out = Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .expect("pgrep");
    out.stdout.is_empty()
}

#[test]
fn timeouts_kill_the_plugin_and_its_children_and_output_is_bounded() {
    let env = env(&format!(
        "      - {{ name: hang, type: command, timeout: 1s, command: {hang} }}
      - {{ name: forks, type: command, timeout: 5s, command: {forks} }}
      - {{ name: loud, type: command, command: {loud} }}
      - {{ name: no-shell, type: command, command: ['/bin/echo', '$HOME; exit 1 | x=1'] }}
",
        hang = sh("sleep 313.25 & echo 'still going'; sleep 30"),
        forks = sh("sleep 317.5 & echo 'OK - forked a child that never exits'; exit 0"),
        loud = sh("head -c 10000000 /dev/zero | tr '\\\\0' x; echo; exit 0"),
    ));
    let started = Instant::now();
    let r = env.cabot(&["run", "--all"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
    let c = check(&env, "hang");
    assert_eq!(c["status"], "failing");
    assert!(
        c["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("timed out after 1s and was killed"),
        "{c}"
    );
    let c = check(&env, "forks");
    assert_eq!(c["status"], "passing", "{c}");
    assert!(
        no_process_matches("sleep 313.25"),
        "the timed-out plugin's child is gone"
    );
    assert!(
        no_process_matches("sleep 317.5"),
        "the finished plugin's child is gone"
    );
    let c = check(&env, "loud");
    assert_eq!(c["status"], "passing");
    assert!(c["message"].as_str().unwrap_or("").len() <= 500);
    let c = check(&env, "no-shell");
    assert_eq!(
        c["message"], "$HOME; exit 1",
        "no shell expanded or split it"
    );
}

#[test]
fn icmp_to_loopback_passes() {
    if !ping_available() {
        return;
    }
    let env = env("      - { name: lo, type: icmp, host: 127.0.0.1, count: 2 }\n");
    assert_eq!(env.cabot(&["run"]).code, 0);
    let c = check(&env, "lo");
    assert_eq!(c["status"], "passing", "{c}");
    let m = c["message"].as_str().unwrap_or("");
    assert!(
        m.starts_with("2/2 replies from 127.0.0.1, 0% loss, rtt avg"),
        "{m}"
    );
}

#[test]
fn icmp_to_an_address_that_never_answers_fails() {
    if !ping_available() || !require_root("the icmp no-answer test (a network namespace)") {
        return;
    }
    // In a network namespace of this test's own: a veth pair with a subnet on one end and
    // no host behind the other, so 10.213.0.99 never answers and nothing leaves the namespace.
    let env = env("      - { name: void, type: icmp, host: 10.213.0.99, count: 2, timeout: 2s }\n");
    let script = "ip link set lo up && ip link add v0 type veth peer name v1 \
                  && ip addr add 10.213.0.1/24 dev v0 && ip link set v0 up && ip link set v1 up \
                  && exec \"$CABOT\" -c \"$CONFIG\" run";
    let started = Instant::now();
    let out = Command::new("unshare")
        .args(["-n", "sh", "-c", script])
        .env("CABOT", cabot_bin())
        .env("CONFIG", env.config())
        .output()
        .expect("unshare");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(started.elapsed() < Duration::from_secs(6));
    let c = check(&env, "void");
    assert_eq!(c["status"], "failing", "{c}");
    // ping keeps asking until its deadline when nothing answers
    let m = c["message"].as_str().unwrap_or("");
    assert!(
        m.starts_with("0/") && m.contains("replies from 10.213.0.99, 100% loss"),
        "{c}"
    );
}

const HB: &str =
    "      - { name: backup, type: heartbeat, period: 1h, grace: 5m, token_env: HB_TOKEN }\n";

#[test]
fn heartbeat_pinged_on_time_late_and_failed() {
    let env = env(HB);
    // a new heartbeat waits for its first ping ...
    env.cabot_at(T0, &["run", "--all"]);
    assert_eq!(
        check(&env, "backup")["message"],
        "waiting for the first ping"
    );
    // ... until period + grace has passed
    env.cabot_at(T0 + 3600 + 301, &["run", "--all"]);
    assert_eq!(check(&env, "backup")["status"], "failing");
    let pinged = T0 + 4000;
    let r = env.cabot_at(pinged, &["ping", "backup", "--message", "3 GB"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout.trim(), "pinged s/backup");
    env.cabot_at(pinged + 60, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "passing", "{c}");
    assert_eq!(c["message"], "last ping 1m ago: 3 GB");
    env.cabot_at(pinged + 3600 + 299, &["run", "--all"]);
    assert_eq!(
        check(&env, "backup")["status"],
        "passing",
        "inside period + grace"
    );
    env.cabot_at(pinged + 3600 + 301, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "failing", "late");
    assert!(
        c["message"]
            .as_str()
            .unwrap_or("")
            .starts_with("no ping for 1h 5m"),
        "{c}"
    );
    env.cabot_at(
        T0 + 9000,
        &["ping", "s/backup", "--fail", "--message", "disk full"],
    );
    env.cabot_at(T0 + 9060, &["run", "--all"]);
    let c = check(&env, "backup");
    assert_eq!(c["status"], "failing");
    assert_eq!(
        c["message"],
        "the last ping (1m ago) reported a failure: disk full"
    );
    assert_eq!(env.cabot(&["ping", "nope"]).code, 64);
}

/// `serve-status` on a free loopback port, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    fn start(env: &Env) -> Server {
        let port = closed_port();
        let child = env
            .command(&["serve-status", "--listen", &format!("127.0.0.1:{port}")])
            .env("HB_TOKEN", "s3cret-token")
            .spawn()
            .expect("serve-status");
        let server = Server { child, port };
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "serve-status did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server
    }

    fn post(&self, path: &str, token: Option<&str>, body: &str) -> u16 {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(5)))
            .build()
            .into();
        let mut req = agent.post(&format!("http://127.0.0.1:{}{path}", self.port));
        if let Some(t) = token {
            req = req.header("Authorization", &format!("Bearer {t}"));
        }
        req.send(body.to_string())
            .map(|r| r.status().as_u16())
            .unwrap_or(0)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn heartbeat_pings_over_http_need_the_token() {
    let env = env(HB);
    env.cabot(&["run"]);
    let server = Server::start(&env);
    let pings = || env.count("SELECT count(*) FROM pings");
    assert_eq!(server.post("/ping/backup", Some("wrong-token"), ""), 404);
    assert_eq!(server.post("/ping/backup", None, ""), 404);
    assert_eq!(server.post("/ping/nope", Some("s3cret-token"), ""), 404);
    assert_eq!(pings(), 0, "refused pings are not recorded");
    assert_eq!(
        server.post("/ping/backup", Some("s3cret-token"), "nightly ok"),
        200
    );
    assert_eq!(pings(), 1);
    std::thread::sleep(Duration::from_millis(1100)); // the next second of the rate limit
    assert_eq!(
        server.post("/ping/s/backup/fail", Some("s3cret-token"), "tar failed"),
        200
    );
    let (ok, message, source): (bool, String, String) = env
        .db()
        .query_row(
            "SELECT ok, message, source FROM pings ORDER BY id DESC LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .expect("ping row");
    assert_eq!(
        (ok, message.as_str(), source.as_str()),
        (false, "tar failed", "127.0.0.1")
    );
    env.cabot(&["run", "--all"]);
    assert_eq!(check(&env, "backup")["status"], "failing");
}

#[test]
fn many_concurrent_pings_are_bounded_and_the_server_stays_up() {
    let env = env(HB);
    env.cabot(&["run"]);
    let server = Arc::new(Server::start(&env));
    let threads: Vec<_> = (0..60)
        .map(|i| {
            let server = Arc::clone(&server);
            std::thread::spawn(move || {
                server.post("/ping/backup", Some("s3cret-token"), &format!("ping {i}"))
            })
        })
        .collect();
    let codes: Vec<u16> = threads
        .into_iter()
        .map(|t| t.join().expect("thread"))
        .collect();
    let accepted = codes.iter().filter(|c| **c == 200).count() as i64;
    assert!(codes.iter().all(|c| *c == 200 || *c == 429), "{codes:?}");
    assert!(accepted >= 1, "{codes:?}");
    assert!(accepted <= 15, "rate-limited: {accepted} of 60 accepted");
    assert_eq!(
        env.count("SELECT count(*) FROM pings"),
        accepted,
        "every accepted ping is recorded, no more"
    );
    let r = ureq::get(&format!("http://127.0.0.1:{}/status/", server.port)).call();
    assert!(r.is_ok(), "the server still answers");
}

#[test]
fn plugin_perfdata_is_exported_on_metrics() {
    let env = Env::new(&format!(
        "status: {{ metrics: true }}\nservices:\n  - name: s\n    checks:\n      - {{ name: disk, type: command, command: {} }}\n",
        sh("echo \"DISK OK | '/ used'=42.5%;80;90;0;100 inodes=1200;;;0\"; exit 0")
    ));
    assert_eq!(env.cabot(&["run"]).code, 0);
    let server = Server::start(&env);
    let body = ureq::get(&format!("http://127.0.0.1:{}/metrics", server.port))
        .call()
        .expect("metrics")
        .body_mut()
        .read_to_string()
        .expect("body");
    assert!(body.contains("# TYPE cabot_check_perfdata gauge"), "{body}");
    assert!(
        body.contains(
            r#"cabot_check_perfdata{service="s",check="disk",label="/ used",uom="%"} 42.5"#
        ),
        "{body}"
    );
    assert!(
        body.contains(
            r#"cabot_check_perfdata{service="s",check="disk",label="inodes",uom=""} 1200"#
        ),
        "{body}"
    );
}
