//! Broken configs end to end: `cabot validate` names every error with
//! `FILE:LINE:COL: KEY: message` and exits 78, and a broken config never touches the state.
//!
//! Each config below is written from its first line; the expected line and column are
//! counted by hand, 1-based, at the offending key or value.

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use crate::support::*;

const CONFIG_ERROR: i32 = 78;

/// `cabot -c CONFIG ARGS...` with a clean environment.
fn cabot(config: &Path, args: &[&str]) -> Output {
    cabot_command()
        .arg("-c")
        .arg(config)
        .args(args)
        .output()
        .expect("cabot runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn show(out: &Output) -> String {
    format!(
        "exit {:?}\n--- stdout\n{}--- stderr\n{}",
        out.status.code(),
        text(&out.stdout),
        text(&out.stderr)
    )
}

/// Writes `config` (minus the newline after the opening quote) with the given mode.
fn write_config(dir: &Path, name: &str, config: &str, mode: u32) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, config.strip_prefix('\n').unwrap_or(config)).expect("write config");
    set_mode(&path, mode);
    path
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

#[cfg(not(unix))]
fn set_mode(_: &Path, _: u32) {}

/// One expected error: line, column, key path, and a distinctive part of the message.
type Expected<'a> = (usize, usize, &'a str, &'a str);

/// Validates `config` and asserts exit 78 and exactly these errors, in this order.
fn assert_errors(config: &str, expected: &[Expected]) {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_config(dir.path(), "checks.yaml", config, 0o600);
    let out = cabot(&path, &["validate"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    let stderr = text(&out.stderr);
    let file = format!("{}:", path.display());
    let lines: Vec<&str> = stderr.lines().filter(|l| l.starts_with(&file)).collect();
    assert_eq!(
        lines.len(),
        expected.len(),
        "expected {} errors\n{}",
        expected.len(),
        show(&out)
    );
    for (line, (row, col, key, message)) in lines.iter().zip(expected) {
        let head = format!("{}:{row}:{col}: {key}: ", path.display());
        assert!(
            line.starts_with(&head) && line[head.len()..].contains(message),
            "expected `{head}...{message}...`, got\n{line}\n{}",
            show(&out)
        );
    }
    assert!(
        text(&out.stdout).is_empty(),
        "nothing on stdout\n{}",
        show(&out)
    );
}

#[test]
fn unknown_top_level_key_suggests_the_closest() {
    assert_errors(
        r#"
state: cabot.db
stale_afer: 10m
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432" }
"#,
        &[(
            2,
            1,
            "stale_afer",
            "unknown key; did you mean 'stale_after'?",
        )],
    );
}

#[test]
fn a_byte_order_mark_at_the_start_is_allowed_and_takes_no_column() {
    let config = "\u{feff}state: cabot.db
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: \"127.0.0.1:5432\" }
";
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_config(dir.path(), "checks.yaml", config, 0o600);
    let out = cabot(&path, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    // An error on the first line is still at its first column.
    assert_errors(
        "\u{feff}stat: cabot.db\nservices:\n  - name: web\n    checks:\n      - { name: db, type: tcp, host: \"127.0.0.1:5432\" }\n",
        &[(1, 1, "stat", "unknown key; did you mean 'state'?")],
    );
}

#[test]
fn a_tab_that_indents_and_an_unclosed_bracket_are_reported_where_they_are_written() {
    // The tab indents line 2; yaml-rust2 reports it at the scalar on line 1.
    assert_errors(
        "state: cabot.db\n\tservices: []\n",
        &[(
            2,
            1,
            "yaml",
            "a tab indents this line; YAML indents with spaces only",
        )],
    );
    assert_errors(
        "state: cabot.db\nservices:\n\t- name: web\n",
        &[(3, 1, "yaml", "a tab indents this line")],
    );
    // The '[' is on line 4; yaml-rust2 gives up at the end of the file, lines later.
    assert_errors(
        "state: cabot.db\nservices:\n  - name: web\n    channels: [ops, mail\n\n\n",
        &[(
            4,
            15,
            "yaml",
            "this '[' is not closed: where ',' or ']' was expected, found the end of the file",
        )],
    );
    assert_errors(
        "state: cabot.db\nservices:\n  - name: web\n    channels: [ops, mail\n    checks: []\n",
        &[(5, 11, "yaml", "(in the '[' opened at 4:15)")],
    );
    assert_errors(
        "state: cabot.db\nusers: {ops: {email: a@example.test}\nservices: []\n",
        &[(3, 1, "yaml", "(in the '{' opened at 2:8)")],
    );
}

#[test]
fn unknown_key_in_a_check_and_in_a_service_suggests_the_closest() {
    assert_errors(
        r#"
services:
  - name: web
    chanels: []
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        expect_staus: 200
"#,
        &[
            (
                3,
                5,
                "services[web].chanels",
                "unknown key; did you mean 'channels'?",
            ),
            (
                8,
                9,
                "services[web].checks[home].expect_staus",
                "unknown key; did you mean 'expect_status'?",
            ),
        ],
    );
}

#[test]
fn unknown_key_in_defaults_suggests_the_closest() {
    assert_errors(
        r#"
defaults:
  frequency: 1m
  timout: 5s
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432" }
"#,
        &[(
            3,
            3,
            "defaults.timout",
            "unknown key; did you mean 'timeout'?",
        )],
    );
}

#[test]
fn unknown_key_far_from_any_lists_the_known_ones() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432", colour: blue }
"#,
        &[(
            4,
            56,
            "services[web].checks[db].colour",
            "unknown key (known keys: name, type, importance,",
        )],
    );
}

#[test]
fn a_list_where_a_string_is_expected() {
    assert_errors(
        r#"
state: [a.db, b.db]
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432" }
"#,
        &[(1, 8, "state", "expected a string, found a list")],
    );
}

#[test]
fn a_string_where_a_bool_is_expected() {
    assert_errors(
        r#"
services:
  - name: web
    public: yes
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        verify_tls: "false"
"#,
        &[
            (
                3,
                13,
                "services[web].public",
                "expected true or false, found 'yes'",
            ),
            (
                8,
                21,
                "services[web].checks[home].verify_tls",
                "'false' is quoted, which makes it a string; write false without quotes",
            ),
        ],
    );
}

#[test]
fn text_where_a_number_is_expected() {
    assert_errors(
        r#"
defaults: { debounce: two }
services:
  - name: web
    checks:
      - name: db
        type: tcp
        host: 127.0.0.1
        port: fifty
"#,
        &[
            (
                1,
                23,
                "defaults.debounce",
                "expected a whole number, found 'two'",
            ),
            (
                8,
                15,
                "services[web].checks[db].port",
                "expected a whole number, found 'fifty'",
            ),
        ],
    );
}

#[test]
fn durations_in_words_or_with_an_unknown_unit() {
    assert_errors(
        r#"
stale_after: five minutes
alerting:
  ack_expiry: 5 minuts
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432" }
"#,
        &[
            (
                1,
                14,
                "stale_after",
                "'five minutes' is not a duration; write e.g. 30s, 5m, 2h, 7d",
            ),
            (
                3,
                15,
                "alerting.ack_expiry",
                "'5 minuts' is not a duration (unknown unit 'minuts')",
            ),
        ],
    );
}

/// Durations are humantime strings, and humantime takes long unit names: this pins that.
#[test]
fn durations_with_long_unit_names_are_accepted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "checks.yaml",
        r#"
stale_after: 5 minutes
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432", frequency: 2 hours }
"#,
        0o600,
    );
    let out = cabot(&config, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn a_duration_without_a_unit() {
    assert_errors(
        r#"
retention: 10
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1:5432", frequency: 10 }
"#,
        &[
            (
                1,
                12,
                "retention",
                "'10' has no unit; write a duration like 10s or 10m",
            ),
            (
                5,
                67,
                "services[web].checks[db].frequency",
                "'10' has no unit",
            ),
        ],
    );
}

#[test]
fn a_zero_duration() {
    assert_errors(
        r#"
defaults:
  frequency: 0s
services:
  - name: web
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        timeout: 0s
"#,
        &[
            (2, 14, "defaults.frequency", "must be longer than zero"),
            (
                9,
                18,
                "services[web].checks[home].timeout",
                "must be longer than zero",
            ),
        ],
    );
}

#[test]
fn a_url_without_a_scheme() {
    assert_errors(
        r#"
heartbeat_url: hc.example/ping/1234
services:
  - name: web
    checks:
      - { name: home, type: http, url: "127.0.0.1:8080/health" }
"#,
        &[
            (
                1,
                16,
                "heartbeat_url",
                "'hc.example/ping/1234' is not a valid URL: it has no scheme; start it with http://",
            ),
            (
                5,
                40,
                "services[web].checks[home].url",
                "'127.0.0.1:8080/health' is not a valid URL: it has no scheme; start it with http://",
            ),
        ],
    );
}

#[test]
fn a_url_with_the_wrong_scheme() {
    assert_errors(
        r#"
services:
  - name: web
    url: ftp://127.0.0.1/
    checks:
      - { name: home, type: http, url: "ftp://127.0.0.1/" }
"#,
        &[
            (
                3,
                10,
                "services[web].url",
                "the scheme must be http or https",
            ),
            (
                5,
                40,
                "services[web].checks[home].url",
                "'ftp://127.0.0.1/' is not a valid URL: the scheme must be http or https",
            ),
        ],
    );
}

#[test]
fn a_url_without_a_host() {
    assert_errors(
        r#"
services:
  - name: web
    runbook: "https://"
    checks:
      - name: home
        type: http
        url: "http:///health"
"#,
        &[
            (
                3,
                14,
                "services[web].runbook",
                "'https://' is not a valid URL: it has no host",
            ),
            (
                7,
                14,
                "services[web].checks[home].url",
                "'http:///health' is not a valid URL: it has no host",
            ),
        ],
    );
}

#[test]
fn an_invalid_text_match_regex() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        text_match: "Welcome ("
"#,
        &[(
            7,
            21,
            "services[web].checks[home].text_match",
            "'Welcome (' is not a valid regex: Parsing error at position 9: Opening parenthesis without closing parenthesis",
        )],
    );
}

#[test]
fn json_conditions_that_cannot_work() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        json:
          - { path: "status", equals: UP }
          - { path: "$.a", equals: 1, less_than: 2 }
          - { path: "$.b", exists: maybe }
        headers_match: { Content-Type: "json(" }
"#,
        &[
            (
                8,
                21,
                "services[web].checks[home].json[0].path",
                "'status' is not a JSON path: a path starts with $",
            ),
            (
                9,
                13,
                "services[web].checks[home].json[1]",
                "give exactly one of equals, matches, less_than, greater_than, exists (found equals, less_than)",
            ),
            (
                10,
                36,
                "services[web].checks[home].json[2].exists",
                "expected true or false",
            ),
            (
                11,
                40,
                "services[web].checks[home].headers_match.Content-Type",
                "is not a valid regex",
            ),
        ],
    );
}

#[test]
fn an_expect_status_that_is_no_http_status() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: a, type: http, url: "http://127.0.0.1:8080/", expect_status: 6xx }
      - { name: b, type: http, url: "http://127.0.0.1:8080/", expect_status: 99 }
      - { name: c, type: http, url: "http://127.0.0.1:8080/", expect_status: [200, 7xx] }
"#,
        &[
            (
                4,
                78,
                "services[web].checks[a].expect_status",
                "'6xx' is not an HTTP status: write a code from 100 to 599, or a class like 2xx",
            ),
            (
                5,
                78,
                "services[web].checks[b].expect_status",
                "'99' is not an HTTP status",
            ),
            (
                6,
                84,
                "services[web].checks[c].expect_status",
                "'7xx' is not an HTTP status",
            ),
        ],
    );
}

#[test]
fn names_that_cannot_name_a_service_or_check() {
    assert_errors(
        r#"
services:
  - name: web/api
    checks:
      - { name: " ", type: tcp, host: "127.0.0.1:80" }
      - { name: "a\tb", type: tcp, host: "127.0.0.1:80" }
      - { name: ok, type: tcp, host: "127.0.0.1:80" }
"#,
        &[
            (
                2,
                11,
                "services[web/api].name",
                "'web/api' is not a usable name",
            ),
            (
                4,
                17,
                "services[web/api].checks[ ].name",
                "' ' is not a usable name",
            ),
            (
                5,
                17,
                "services[web/api].checks[a\tb].name",
                "is not a usable name",
            ),
        ],
    );
}

#[test]
fn duplicate_service_names() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[(
            5,
            11,
            "services[web].name",
            "duplicate service name 'web' (first at line 2)",
        )],
    );
}

#[test]
fn duplicate_check_names_in_a_service() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
      - { name: home, type: http, url: "http://127.0.0.1/" }
  - name: api
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[(
            5,
            17,
            "services[web].checks[home].name",
            "duplicate check name 'home' in this service (first at line 4)",
        )],
    );
}

#[test]
fn references_to_users_and_channels_that_do_not_exist() {
    assert_errors(
        r#"
users:
  alice: { email: alice@example.com }
channels:
  hook: { type: webhook, url_env: HOOK_URL }
services:
  - name: web
    users: [alice, alcie, zebedee]
    channels: hok
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[
            (
                7,
                20,
                "services[web].users",
                "no user named 'alcie'; did you mean 'alice'?",
            ),
            (
                7,
                27,
                "services[web].users",
                "no user named 'zebedee' is defined under users:",
            ),
            (
                8,
                15,
                "services[web].channels",
                "no channel named 'hok'; did you mean 'hook'?",
            ),
        ],
    );
}

#[test]
fn services_without_checks() {
    assert_errors(
        r#"
services:
  - name: web
    url: http://127.0.0.1/
  - name: api
    checks: []
  - name: db
    checks:
      - { name: pg, type: tcp, host: "127.0.0.1:5432" }
  - name: mail
    checks: { name: smtp, type: tcp, host: "127.0.0.1:25" }
"#,
        &[
            (2, 5, "services[web].checks", "this service has no checks"),
            (5, 13, "services[api].checks", "this service has no checks"),
            (
                10,
                13,
                "services[mail].checks",
                "expected a list, found a mapping",
            ),
        ],
    );
}

#[test]
fn no_services_at_all() {
    assert_errors(
        "state: cabot.db\n",
        &[(1, 1, "services", "no services: add at least one service")],
    );
    assert_errors(
        "state: cabot.db\nservices: []\n",
        &[(2, 11, "services", "no services: add at least one service")],
    );
    assert_errors(
        "",
        &[(1, 1, "services", "no services: add at least one service")],
    );
}

#[test]
fn unknown_check_type_suggests_the_closest() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: home, type: htp, url: "http://127.0.0.1/" }
      - { name: ping, type: banana }
"#,
        &[
            (
                4,
                29,
                "services[web].checks[home].type",
                "unknown check type 'htp'; did you mean 'http'?",
            ),
            (
                5,
                29,
                "services[web].checks[ping].type",
                "unknown check type 'banana' (supported: http, tcp, cabot, icmp, jenkins, graphite, tls, dns, command, heartbeat, domain)",
            ),
        ],
    );
}

#[test]
fn a_missing_type_is_one_error_not_one_per_key() {
    assert_errors(
        r#"
channels:
  ops: { to: [ops@example.com] }
services:
  - name: web
    checks:
      - { name: home, url: "http://127.0.0.1/" }
"#,
        &[
            (
                2,
                8,
                "channels.ops.type",
                "missing required key (one of: email, sms, phone, slack, webhook, command, ntfy, pagerduty, pushover, discord, teams, telegram, opsgenie, gotify, matrix)",
            ),
            (
                6,
                9,
                "services[web].checks[home].type",
                "missing required key (one of: http, tcp, cabot, icmp, jenkins, graphite, tls, dns, command, heartbeat, domain)",
            ),
        ],
    );
}

#[test]
fn unknown_channel_type() {
    assert_errors(
        r#"
channels:
  pager: { type: pager, command: [/usr/local/bin/page-me] }
  mail: { type: emial, from: cabot@example.com }
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[
            (
                2,
                18,
                "channels.pager.type",
                "unknown channel type 'pager' (one of: email, sms, phone, slack, webhook, command, ntfy, pagerduty, pushover, discord, teams, telegram, opsgenie, gotify, matrix)",
            ),
            (
                3,
                17,
                "channels.mail.type",
                "unknown channel type 'emial'; did you mean 'email'?",
            ),
        ],
    );
}

#[test]
fn an_sms_channel_with_no_providers() {
    assert_errors(
        r#"
channels:
  text:
    type: sms
    providers: []
  call: { type: phone }
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[
            (
                4,
                16,
                "channels.text.providers",
                "this channel has no providers: add twilio or plivo",
            ),
            (5, 9, "channels.call.providers", "missing required key"),
        ],
    );
}

#[test]
fn a_tcp_host_without_a_port() {
    assert_errors(
        r#"
services:
  - name: db
    checks:
      - { name: pg, type: tcp, host: "127.0.0.1" }
      - { name: redis, type: tcp, host: "127.0.0.1:6379", port: 6379 }
"#,
        &[
            (
                4,
                38,
                "services[db].checks[pg].host",
                "'127.0.0.1' has no port: write host: \"127.0.0.1:PORT\" or add port:",
            ),
            (
                5,
                41,
                "services[db].checks[redis].host",
                "the port is given twice",
            ),
        ],
    );
}

#[test]
fn yaml_syntax_errors() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: tcp: http
"#,
        &[(
            5,
            18,
            "yaml",
            "mapping values are not allowed in this context",
        )],
    );
    assert_errors(
        r#"
services:
  - name: web
    checks: - { name: home, type: tcp, host: "127.0.0.1:80" }
"#,
        &[(
            3,
            13,
            "yaml",
            "block sequence entries are not allowed in this context",
        )],
    );
}

#[test]
fn a_second_yaml_document_is_not_silently_ignored() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: "127.0.0.1:80" }
---
services: []
"#,
        &[(
            5,
            1,
            "yaml",
            "a second YAML document (after ---) would be ignored",
        )],
    );
}

#[test]
fn a_config_that_is_not_a_mapping() {
    assert_errors(
        "- web\n- api\n",
        &[(1, 1, "(top level)", "expected a mapping, found a list")],
    );
}

#[test]
fn duplicates_far_down_long_mappings_and_lists() {
    // Twelve users and twelve services: the second of each pair comes after the first
    // eight names, where names are looked up in a set rather than side by side.
    let mut config = String::from("users:\n");
    for i in 0..11 {
        config += &format!("  user{i}: {{ email: u{i}@example.com }}\n");
    }
    config += "  user2: { email: again@example.com }\nservices:\n";
    for i in 0..11 {
        config += &format!(
            "  - name: svc{i}\n    checks: [{{ name: c, type: tcp, host: '127.0.0.1:80' }}]\n"
        );
    }
    config += "  - name: svc3\n    checks: [{ name: c, type: tcp, host: '127.0.0.1:80' }]\n";
    assert_errors(
        &config,
        &[
            (13, 3, "users.user2", "duplicate key (first at line 4)"),
            (
                37,
                11,
                "services[svc3].name",
                "duplicate service name 'svc3' (first at line 21)",
            ),
        ],
    );
}

#[test]
fn a_duplicate_key_in_one_mapping() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: tcp
        host: "127.0.0.1:80"
        type: http
"#,
        &[(
            7,
            9,
            "services[web].checks[home].type",
            "duplicate key (first at line 5)",
        )],
    );
}

#[test]
fn a_password_without_a_username() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        password_env: WEB_PASSWORD
"#,
        &[(
            7,
            23,
            "services[web].checks[home].password_env",
            "a password needs a username for basic auth",
        )],
    );
}

#[test]
fn both_password_and_password_env() {
    assert_errors(
        r#"
services:
  - name: web
    checks:
      - name: home
        type: http
        url: "http://127.0.0.1:8080/"
        username: monitor
        password: hunter2
        password_env: WEB_PASSWORD
"#,
        &[(
            9,
            23,
            "services[web].checks[home].password_env",
            "give only one of password, password_env and password_file",
        )],
    );
}

#[test]
fn every_error_is_printed_in_line_order() {
    assert_errors(
        r#"
stale_after: 10
users:
  alice: { email: alice@example.com }
services:
  - name: web
    users: [alcie]
    checks:
      - name: home
        type: http
        url: example.com
        expect_status: 6xx
        text_match: "(unclosed"
      - { name: db, type: tcp, host: "127.0.0.1" }
      - { name: home, type: tcp, host: "127.0.0.1:80", frequncy: 1m }
  - name: web
    chekcs: []
"#,
        &[
            (1, 14, "stale_after", "'10' has no unit"),
            (
                6,
                13,
                "services[web].users",
                "no user named 'alcie'; did you mean 'alice'?",
            ),
            (10, 14, "services[web].checks[home].url", "it has no scheme"),
            (
                11,
                24,
                "services[web].checks[home].expect_status",
                "'6xx' is not an HTTP status",
            ),
            (
                12,
                21,
                "services[web].checks[home].text_match",
                "is not a valid regex",
            ),
            (
                13,
                38,
                "services[web].checks[db].host",
                "'127.0.0.1' has no port",
            ),
            (
                14,
                56,
                "services[web].checks[home].frequncy",
                "did you mean 'frequency'?",
            ),
            (15, 5, "services[web].checks", "this service has no checks"),
            (
                15,
                11,
                "services[web].name",
                "duplicate service name 'web' (first at line 5)",
            ),
            (16, 5, "services[web].chekcs", "did you mean 'checks'?"),
        ],
    );
}

#[test]
fn a_good_config_validates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "checks.yaml",
        r#"
state: cabot.db
stale_after: 10m
retention: 30d
status: { listen: "127.0.0.1:5001", metrics: true }
defaults: { frequency: 1m, timeout: 10s, importance: error, debounce: 0 }
alerting:
  repeat: { warning: 2h, error: 10m, critical: 10m }
  ack_expiry: 20m
  give_up_after: 24h
users:
  alice: { email: alice@example.com, phone: "+15551230001", slack: U024BE7LH }
channels:
  hook: { type: webhook, url_env: HOOK_URL }
  page: { type: command, command: ["/bin/true"], min_importance: critical }
services:
  - name: website
    url: http://127.0.0.1:8080/
    runbook: http://127.0.0.1:8080/runbook
    users: [alice]
    channels: [hook, page]
    public: true
    checks:
      - { name: homepage, type: http, url: "http://127.0.0.1:8080/", expect_status: [200, 3xx],
          text_match: "Welc.me", importance: critical, debounce: 1 }
      - name: login
        type: http
        method: post
        url: http://127.0.0.1:8080/login
        username: monitor
        password_env: WEB_PASSWORD
        headers: { Accept: text/html }
        max_response_time: 2s
  - name: database
    checks:
      - { name: pg, type: tcp, host: "127.0.0.1:5432", frequency: 5m }
"#,
        0o644,
    );
    let out = cabot_command()
        .arg("-c")
        .arg(&config)
        .arg("validate")
        .env("HOOK_URL", "http://127.0.0.1:9/hook")
        .env("WEB_PASSWORD", "secret")
        .output()
        .expect("cabot runs");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stdout),
        format!("{}: ok (2 services, 3 checks)\n", config.display()),
        "{}",
        show(&out)
    );
    assert!(
        out.stderr.is_empty(),
        "no warnings without inline secrets or unset variables\n{}",
        show(&out)
    );
}

#[test]
fn validate_warns_about_each_secret_whose_variable_is_unset_and_run_says_it_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "checks.yaml",
        "state: cabot.db
channels:
  a: { type: webhook, url_env: CABOT_TEST_UNSET_HOOK }
  b: { type: webhook, url_env: CABOT_TEST_UNSET_HOOK }
  c: { type: webhook, url_env: CABOT_TEST_SET_HOOK }
services:
  - name: web
    channels: [a, b, c]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:9' }
",
        0o600,
    );
    let run = |args: &[&str]| {
        cabot_command()
            .arg("-c")
            .arg(&config)
            .args(args)
            .env_remove("CABOT_TEST_UNSET_HOOK")
            .env("CABOT_TEST_SET_HOOK", "http://127.0.0.1:9/hook")
            .output()
            .expect("cabot runs")
    };
    let out = run(&["validate"]);
    assert_eq!(out.status.code(), Some(0), "a warning: {}", show(&out));
    let warning = "warning: environment variable CABOT_TEST_UNSET_HOOK is not set here";
    assert_eq!(
        text(&out.stderr).lines().collect::<Vec<_>>(),
        [
            format!(
                "{}:3:32: channels.a.url_env: {warning}: anything that needs it will fail wherever it is not set",
                config.display()
            ),
            format!(
                "{}:4:32: channels.b.url_env: {warning}: anything that needs it will fail wherever it is not set",
                config.display()
            ),
        ],
        "{}",
        show(&out)
    );
    let out = run(&["run"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    let said: Vec<String> = text(&out.stderr)
        .lines()
        .filter(|l| l.contains("CABOT_TEST_UNSET_HOOK"))
        .map(str::to_string)
        .collect();
    assert_eq!(
        said.first().map(String::as_str),
        Some(
            "cabot: channels.a.url_env: environment variable CABOT_TEST_UNSET_HOOK is not set here: anything that needs it will fail wherever it is not set"
        ),
        "{}",
        show(&out)
    );
    assert_eq!(
        said.iter()
            .filter(|l| l.starts_with("cabot: channels."))
            .count(),
        1,
        "said once for both channels: {}",
        show(&out)
    );
}

/// Every file in `dir`, with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("read temp dir")
        .map(|e| {
            let e = e.expect("dir entry");
            let bytes = std::fs::read(e.path()).expect("read file");
            (e.file_name().to_string_lossy().into_owned(), bytes)
        })
        .collect()
}

#[test]
fn a_broken_config_leaves_the_state_untouched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let state = dir.path().join("cabot.db");
    let state_arg = state.to_str().expect("utf-8 temp path");
    let broken = write_config(
        dir.path(),
        "broken.yaml",
        r#"
services:
  - name: web
    checks:
      - { name: db, type: tcp, host: "127.0.0.1" }
"#,
        0o600,
    );
    let broken_line = format!(
        "{}:4:38: services[web].checks[db].host: '127.0.0.1' has no port",
        broken.display()
    );

    // No state yet: none is created.
    let out = cabot(&broken, &["--state", state_arg, "run"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    assert!(text(&out.stderr).contains(&broken_line), "{}", show(&out));
    assert!(
        !state.exists(),
        "a broken config created {}",
        state.display()
    );

    // A port that was free a moment ago: the check fails fast on loopback.
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        listener.local_addr().expect("local addr").port()
    };
    let good = write_config(
        dir.path(),
        "good.yaml",
        &format!(
            r#"
services:
  - name: web
    checks:
      - {{ name: db, type: tcp, host: "127.0.0.1:{port}", timeout: 2s }}
"#
        ),
        0o600,
    );
    let out = cabot(&good, &["--state", state_arg, "run"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert!(state.exists(), "a good run creates the state");

    let before = snapshot(dir.path());
    let out = cabot(&broken, &["--state", state_arg, "run", "--all"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    assert!(text(&out.stderr).contains(&broken_line), "{}", show(&out));
    let after = snapshot(dir.path());
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>(),
        "no file was created or removed"
    );
    assert!(
        before == after,
        "the state's bytes changed after a run with a broken config"
    );
}

#[cfg(unix)]
#[test]
fn inline_secrets_warn_only_when_others_can_read_the_config() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config_text = r#"
services:
  - name: web
    checks:
      - name: login
        type: http
        url: "http://127.0.0.1:8080/login"
        username: monitor
        password: hunter2
"#;
    let config = write_config(dir.path(), "checks.yaml", config_text, 0o644);
    let out = cabot(&config, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:8:19: services[web].checks[login].password: warning: inline secret in a config that every user can read; use the *_env or *_file form, or `chmod o-r {}`\n",
            config.display(),
            config.display()
        ),
        "{}",
        show(&out)
    );
    assert!(
        !text(&out.stderr).contains("hunter2"),
        "the warning never shows the secret"
    );
    assert!(
        text(&out.stdout).contains("ok (1 service, 1 check)"),
        "{}",
        show(&out)
    );

    // Read by its owner and cabot's own group (the package's root:cabot 0640): fine, and
    // no advice that would lock cabot out.
    for mode in [0o600, 0o640] {
        set_mode(&config, mode);
        let out = cabot(&config, &["validate"]);
        assert_eq!(out.status.code(), Some(0), "{}", show(&out));
        assert!(
            out.stderr.is_empty(),
            "no warning at {mode:o}\n{}",
            show(&out)
        );
    }
    assert!(
        text(&out.stdout).contains("ok (1 service, 1 check)"),
        "{}",
        show(&out)
    );
}

#[test]
fn durations_out_of_their_range_are_errors_and_a_timeout_past_its_frequency_a_warning() {
    assert_errors(
        r#"
stale_after: 300000000000y
retention: 30m
defaults: { frequency: 5s, timeout: 11m }
services:
  - name: web
    checks:
      - { name: home, type: http, url: "http://127.0.0.1:9/", timeout: 300000000000y }
"#,
        &[
            (
                1,
                14,
                "stale_after",
                "'300000000000y' is out of range: 1m to 7d",
            ),
            (2, 12, "retention", "'30m' is out of range: 1h to 3650d"),
            (
                3,
                24,
                "defaults.frequency",
                "'5s' is out of range: 10s to 30d",
            ),
            (
                3,
                37,
                "defaults.timeout",
                "'11m' is out of range: 1s to 10m",
            ),
            (
                7,
                72,
                "services[web].checks[home].timeout",
                "'300000000000y' is out of range: 1s to 10m",
            ),
        ],
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "checks.yaml",
        "state: cabot.db
services:
  - name: web
    checks:
      - { name: slow, type: tcp, host: '127.0.0.1:9', frequency: 1m, timeout: 90s }
",
        0o600,
    );
    let out = cabot(&config, &["validate"]);
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:5:79: services[web].checks[slow].timeout: warning: the timeout (1m 30s) is not below the frequency (1m): a slow target keeps this check from running every 1m\n",
            config.display()
        )
    );
}

#[test]
#[ignore = "needs root, to run validate as another user"]
fn validate_warns_when_this_user_cannot_write_the_state() {
    need_root();
    let dir = tempfile::tempdir().expect("temp dir");
    set_mode(dir.path(), 0o755);
    let config = write_config(
        dir.path(),
        "checks.yaml",
        "state: data/cabot.db
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:9' }
",
        0o644,
    );
    // nobody may read the config but not create `data/` in a folder root owns.
    let out = Command::new("setpriv")
        .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
        .arg(cabot_bin())
        .arg("-c")
        .arg(&config)
        .arg("validate")
        .output()
        .expect("setpriv");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:1:8: state: warning: {} cannot be written by this user (uid 65534): cabot run, as this user, could not keep its state\n",
            config.display(),
            dir.path().display()
        ),
        "{}",
        show(&out)
    );
}

#[test]
fn unreadable_or_undecodable_configs_say_so_and_an_empty_cabot_config_is_none() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("nope.yaml");
    let out = cabot(&missing, &["status"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    assert_eq!(
        text(&out.stderr),
        format!(
            "cabot: {}: cannot read the config: No such file or directory (os error 2)\n",
            missing.display()
        )
    );
    // Not UTF-8: the byte's line and column, and validate does not send you to validate.
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, b"state: x.db\nservices:\n  - name: w\xff\n").expect("write");
    let out = cabot(&bad, &["validate"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    assert_eq!(
        text(&out.stderr),
        format!(
            "{}:3:12: yaml: byte 0xff is not UTF-8: save the config as UTF-8\n",
            bad.display()
        )
    );
    // An empty CABOT_CONFIG does not stand in the way of -c.
    let good = write_config(
        dir.path(),
        "good.yaml",
        "state: cabot.db\nservices:\n  - name: w\n    checks:\n      - { name: c, type: tcp, host: '127.0.0.1:9' }\n",
        0o600,
    );
    let out = cabot_command()
        .env("CABOT_CONFIG", "")
        .arg("-c")
        .arg(&good)
        .arg("validate")
        .output()
        .expect("cabot runs");
    assert_eq!(out.status.code(), Some(0), "{}", show(&out));
}

#[test]
fn validate_shows_warnings_beside_the_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write_config(
        dir.path(),
        "checks.yaml",
        "users:
  alice: { phone: '+15551230001' }
channels:
  mail: { type: email, from: cabot@example.com, servers: [ { url: 'smtp://127.0.0.1:25' } ] }
services:
  - name: web
    users: [alice]
    channels: [mail]
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:1', frequncy: 1m }
",
        0o600,
    );
    let out = cabot(&path, &["validate"]);
    assert_eq!(out.status.code(), Some(CONFIG_ERROR), "{}", show(&out));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("frequncy") && stderr.contains("did you mean 'frequency'"),
        "{stderr}"
    );
    assert!(
        stderr.contains("warning: user 'alice' has no email, so channel 'mail' cannot reach them"),
        "the warning is shown with the error, not after it is fixed:\n{stderr}"
    );
    // A run says only that the config has errors; warnings are validate's.
    let run = cabot(&path, &["run"]);
    assert!(!text(&run.stderr).contains("warning:"), "{}", show(&run));
}

#[test]
fn a_config_means_one_thing_whatever_else_is_in_the_file() {
    // A flow item ending in " -" once validated when the rest of the file was plain and
    // was refused when an unrelated document marker, anchor or tab in a comment sent the
    // file to the other of two readers. One reader: the same answer every time.
    let base = "services:
  - name: web
    checks:
      - { name: up, type: command, command: [/bin/echo, up -] }
";
    let variants = [
        base.to_string(),
        format!("---\n{base}"),
        format!("defaults: &d {{ timeout: 10s }}\n{base}"),
        format!("# a comment\twith a tab\n{base}"),
        format!("{base}  - name: db\n    description: |\n      a block scalar\n    checks: []\n"),
    ];
    // (exit code, the first line's message after its file:line:column)
    let answers: Vec<(i32, String)> = variants
        .iter()
        .map(|text| {
            let env = Env::new(text);
            let r = env.cabot(&["validate"]);
            let first = r.stderr.lines().next().unwrap_or("").to_string();
            let message = first.splitn(4, ':').nth(3).unwrap_or("").trim().to_string();
            (r.code, message)
        })
        .collect();
    assert_eq!(answers[0].0, 78, "{answers:?}");
    assert!(answers[0].1.starts_with("yaml: "), "{answers:?}");
    for (i, a) in answers.iter().enumerate() {
        assert_eq!(a, &answers[0], "variant {i}: {:?}", variants[i]);
    }
}

#[cfg(unix)]
#[test]
#[ignore = "needs root: gives the config to another group"]
fn an_inline_secret_readable_by_another_group_names_the_group() {
    need_root();
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_config(
        dir.path(),
        "checks.yaml",
        "services:\n  - name: web\n    checks:\n      - { name: login, type: http, url: 'http://127.0.0.1:9/', username: u, password: hunter2 }\n",
        0o640,
    );
    // nogroup, which cabot does not run as.
    std::os::unix::fs::chown(&config, None, Some(65534)).expect("chgrp");
    let out = cabot(&config, &["validate"]);
    let said = text(&out.stderr);
    assert!(
        said.contains("inline secret in a config that group 'nogroup' can read; use the *_env or *_file form, or `chmod g-r")
            && said.contains("if cabot runs as its owner"),
        "{}",
        show(&out)
    );
}

#[test]
fn a_frequency_under_a_minute_is_warned_about() {
    let env = Env::new(
        "services:
  - name: web
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:9', frequency: 15s }
",
    );
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains(
            ":5:66: services[web].checks[home].frequency: warning: runs come once a minute \
             (cron or the systemd timer), so this check runs about every minute, not every 15s"
        ),
        "{r:?}"
    );
}
