//! `command`: real Nagios plugins from monitoring-plugins-basic, and scripts for each exit
//! code, timeouts that kill the whole process group, bounded output.

use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::*;

const PLUGINS: &str = "/usr/lib/nagios/plugins";

/// One service `s` with these check lines (YAML list items, indented 6).
pub(crate) fn env(checks: &str) -> Env {
    Env::new(&format!("services:\n  - name: s\n    checks:\n{checks}"))
}

pub(crate) fn check(env: &Env, name: &str) -> Value {
    check_json(&env.status_json(), "s", name).clone()
}

#[test]
#[ignore = "needs monitoring-plugins-basic, real Nagios plugins"]
fn real_nagios_plugins_against_loopback_servers() {
    need(
        std::path::Path::new(PLUGINS).join("check_tcp").exists(),
        "monitoring-plugins-basic",
    );
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
        started.elapsed() < Duration::from_secs(20),
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
fn programs_get_a_clean_environment_and_only_the_variables_they_name() {
    let dir = tempfile::tempdir().expect("temp dir");
    let check_env = dir.path().join("check.env");
    let channel_env = dir.path().join("channel.env");
    let site = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "channels:
  page: {{ type: command, command: {page}, env: [PAGER_ROUTE] }}
services:
  - name: s
    channels: [page]
    checks:
      - {{ name: login, type: http, url: '{url}', username: me, password_env: SITE_PASSWORD }}
      - {{ name: dump, type: command, command: {dump}, env: [PLUGIN_OPTION] }}
",
        page = sh(&format!("env > '{}'", channel_env.display())),
        dump = sh(&format!("env > '{}'; exit 2", check_env.display())),
        url = site.url("/"),
    ));
    let out = env
        .command(&["run"])
        .env("CABOT_NOW", T0.to_string())
        .env("SITE_PASSWORD", "hunter2-secret")
        .env("PLUGIN_OPTION", "fast")
        .env("PAGER_ROUTE", "ops")
        .env("UNRELATED", "x")
        .output()
        .expect("run");
    assert!(out.status.success(), "{out:?}");
    let names = |text: &str| -> Vec<String> {
        let mut n: Vec<String> = text
            .lines()
            .filter_map(|l| l.split_once('=').map(|(k, _)| k.to_string()))
            // What sh itself sets for its own children.
            .filter(|k| !["PWD", "SHLVL", "_", "OLDPWD"].contains(&k.as_str()))
            .collect();
        n.sort();
        n
    };
    let check = std::fs::read_to_string(&check_env).expect("the check ran");
    assert!(!check.contains("hunter2-secret"), "{check}");
    assert_eq!(names(&check), ["PATH", "PLUGIN_OPTION"], "{check}");
    let channel = std::fs::read_to_string(&channel_env).expect("the channel ran");
    assert!(!channel.contains("hunter2-secret"), "{channel}");
    assert_eq!(
        names(&channel),
        [
            "CABOT_ALERT_ID",
            "CABOT_ALERT_KIND",
            "CABOT_ALERT_TEXT",
            "CABOT_PREVIOUS_STATUS",
            "CABOT_SERVICE",
            "CABOT_STATUS",
            "PAGER_ROUTE",
            "PATH"
        ],
        "{channel}"
    );
}

#[test]
fn validate_wants_a_command_as_a_list_and_warns_about_a_missing_program() {
    let env = env(
        "      - { name: a, type: command, command: 'check_disk -w 10%' }
      - { name: b, type: command, command: [/no/such/plugin, -v] }
      - { name: c, type: command, command: [/bin/true], env: ['NOT-A-NAME'] }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    let file = env.config();
    let file = file.display();
    assert_eq!(
        r.stderr.lines().take(2).collect::<Vec<_>>(),
        [
            format!(
                "{file}:5:44: services[s].checks[a].command: give the program and its arguments as a list, like ['check_disk', '-w', '10%']: cabot runs no shell to split a string"
            ),
            format!(
                "{file}:7:63: services[s].checks[c].env: 'NOT-A-NAME' is not an environment variable's name"
            ),
        ],
        "{r:?}"
    );
    let fixed = self::env("      - { name: b, type: command, command: [/no/such/plugin, -v] }\n");
    let r = fixed.cabot(&["validate"]);
    assert_eq!(r.code, 0, "a warning: {r:?}");
    assert!(
        r.stderr.contains(":5:45: services[s].checks[b].command: warning: '/no/such/plugin' is not an executable file here (nor in PATH): it will fail until it is"),
        "{r:?}"
    );
}

#[test]
fn invisible_and_direction_changing_characters_never_leave_a_check() {
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let env = Env::new(&format!(
        "channels:
  hook: {{ type: webhook, url: '{}' }}
services:
  - name: s
    channels: [hook]
    checks:
      - {{ name: evil, type: command, command: {} }}
",
        hook.url("/"),
        sh(
            "printf 'CRITICAL - ok\\342\\200\\256txt.exe\\342\\200\\250next\\342\\201\\246end\\n'; exit 2"
        )
    ));
    assert_eq!(env.cabot_at(T0, &["run"]).code, 0);
    let hidden = ['\u{202E}', '\u{2028}', '\u{2066}'];
    let message = check(&env, "evil")["message"]
        .as_str()
        .unwrap_or("")
        .to_string();
    assert_eq!(message, "CRITICAL - ok txt.exe next end");
    let human = env.cabot_at(T0, &["status"]);
    assert!(!human.stdout.contains(hidden), "{human:?}");
    let sent = &hook.requests()[0].body;
    assert!(!sent.contains(hidden), "{sent}");
    assert!(sent.contains("ok txt.exe next end"), "{sent}");
}
