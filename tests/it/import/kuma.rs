//! `cabot import uptime-kuma`: databases made with Uptime Kuma's own 1.23.16 and 2.0.2
//! schemas (`kuma/`, see its README), filled as Kuma's UI fills them (`kuma/data.sql`).

use std::path::Path;
use std::sync::atomic::Ordering;

use super::*;
use crate::alerts::FakeApi;
use crate::oncall::mentioned;

const SECRETS: &[&str] = &[
    "hunter2",
    "smtp-secret",
    "azGDORePK8gMaC0QOYAMyEEuzJnyUi",
    "tk_ntfysecret",
    "kuma-alerts",
    "aBcD1234eFgH5678iJkL9012",
    "services/T0/B0/secret",
    "matrix-secret",
    "tg-secret",
    "discord-secret",
    "pd-secret-key",
    "og-secret-key",
    "gotify-secret",
    "matrix-room-secret",
    "hook-secret",
    "header-secret",
    "api-secret",
    "legacy%2Fsecret",
];

/// A Kuma database in `dir`: `schema`, then the data with its placeholders filled.
fn kuma_db(dir: &Path, schema: &str, target: &str, slack: &str) {
    let fixtures = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/it/import/kuma");
    let read = |name: &str| std::fs::read_to_string(fixtures.join(name)).expect("fixture");
    let db = rusqlite::Connection::open(dir.join("kuma.db")).expect("create kuma.db");
    db.execute_batch(&read(schema)).expect("Kuma's schema");
    // A window that has not ended whenever the test runs.
    let next_year = "2099";
    let data = read("data.sql")
        .replace("__TARGET__", target)
        .replace("__SLACK__", slack)
        .replace("__NOW_YEAR__", next_year);
    db.execute_batch(&data).expect("the data");
}

fn import(schema: &str, target: &str, slack: &str) -> Imported {
    let dir = tempfile::tempdir().expect("temp dir");
    kuma_db(dir.path(), schema, target, slack);
    import_into(dir, &["uptime-kuma", "--db", "kuma.db"])
}

fn imports_with_every_mapping(schema: &str, version: &str) {
    let out = import(schema, "http://127.0.0.1:9", "http://127.0.0.1:9");
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    let y = out.yaml();
    let text = out.text();
    let err = &out.run.stderr;
    assert!(
        text.contains(&format!(
            "# from the Uptime Kuma {version} database kuma.db"
        )),
        "{text}"
    );

    // One monitor, one service; its check named for what it does.
    let shop = named(&y["services"], "Shop");
    let http = named(&shop["checks"], "http");
    assert_eq!(http["url"].as_str(), Some("http://127.0.0.1:9/"));
    assert_eq!(http["expect_status"][0].as_str(), Some("2xx"));
    assert_eq!(http["frequency"].as_str(), Some("1m"));
    assert_eq!(http["timeout"].as_str(), Some("48s"));
    assert_eq!(shop["public"].as_bool(), Some(true));
    assert_eq!(shop["channels"][0].as_str(), Some("mail"));
    assert_eq!(shop["channels"][1].as_str(), Some("ops-slack"));

    // A keyword is searched as text; retries are debounce.
    let keyword = named(&named(&y["services"], "Shop keyword")["checks"], "http");
    assert_eq!(keyword["text_match"].as_str(), Some(r"Welcome \(home\)"));
    assert_eq!(keyword["debounce"].as_i64(), Some(1));

    // A JSON query of a plain path; accepted codes; method, body and headers.
    let api = named(&named(&y["services"], "API")["checks"], "http");
    assert_eq!(api["json"][0]["path"].as_str(), Some("$.status"));
    assert_eq!(api["json"][0]["equals"].as_str(), Some("up"));
    assert_eq!(api["expect_status"][0].as_str(), Some("2xx"));
    assert_eq!(api["expect_status"][1].as_i64(), Some(404));
    assert_eq!(api["method"].as_str(), Some("POST"));
    assert_eq!(api["headers"]["X-Probe"].as_str(), Some("kuma"));
    assert_eq!(
        api["headers"]["Content-Type"].as_str(),
        Some("application/json"),
        "as Kuma sent a JSON body"
    );
    assert_eq!(api["verify_tls"].as_bool(), Some(false));
    assert_eq!(api["follow_redirects"].as_bool(), Some(false));
    assert_eq!(api["debounce"].as_i64(), Some(2));

    // A group is a service of its members: port, ping, dns.
    let backend = named(&y["services"], "Backend");
    assert_eq!(
        backend["public"].as_bool(),
        Some(true),
        "the group is on the published page"
    );
    let db = named(&backend["checks"], "Database");
    assert_eq!(
        (
            db["type"].as_str(),
            db["host"].as_str(),
            db["port"].as_i64()
        ),
        (Some("tcp"), Some("127.0.0.1"), Some(5432))
    );
    let ping = named(&backend["checks"], "Gateway");
    assert_eq!(
        (ping["type"].as_str(), ping["count"].as_i64()),
        (Some("icmp"), Some(1))
    );
    let dns = named(&backend["checks"], "Resolver");
    assert_eq!(dns["expect"][1].as_str(), Some("127.0.0.2"));
    assert_eq!(dns["server"].as_str(), Some("127.0.0.1"));
    let on_port = named(&backend["checks"], "Resolver on a port");
    assert_eq!(on_port["server"].as_str(), Some("[::1]:5353"));
    assert!(named(&backend["checks"], "Resolver by name")["server"].is_badvalue());
    out.said("resolver 'dns.example.com' is not an IP address");
    // Its members' notifications differed: the service tells them all, and says so.
    assert_eq!(backend["channels"][0].as_str(), Some("ops-slack"));
    assert_eq!(backend["channels"][1].as_str(), Some("phone-push"));
    out.said("service 'Backend': its monitors had different notifications");

    // Push is a heartbeat whose token is a secret; the report says how to ping.
    let push = named(&named(&y["services"], "Nightly backup")["checks"], "push");
    assert_eq!(push["type"].as_str(), Some("heartbeat"));
    assert_eq!(push["period"].as_str(), Some("1d"));
    assert_eq!(
        out.secret("heartbeat-nightly-backup-push-token"),
        ("aBcD1234eFgH5678iJkL9012\n".to_string(), 0o600)
    );
    out.said("cabot ping 'Nightly backup/push'");
    out.said("/ping/Nightly%20backup/push");
    // Nothing for validate to warn about: no secret inline, every channel reachable.
    assert!(!err.contains("warning:"), "{err}");

    // Basic auth from a file; paused and upside-down monitors inactive; docker dropped.
    let admin = named(&named(&y["services"], "Admin")["checks"], "http");
    assert_eq!(admin["username"].as_str(), Some("probe"));
    assert_eq!(out.secret("http-admin-http-password").0, "hunter2\n");
    assert!(
        named(&y["services"], "Admin")["public"].is_badvalue(),
        "its page is not published"
    );
    let legacy = named(&named(&y["services"], "Legacy")["checks"], "http");
    assert_eq!(legacy["active"].as_bool(), Some(false));
    assert_eq!(legacy["url"].as_str(), Some("http://127.0.0.1:9/legacy"));
    assert_eq!(legacy["username"].as_str(), Some("legacy"));
    assert_eq!(out.secret("http-legacy-http-password").0, "legacy/secret\n");
    // A bearer token cannot be a header from a file: left out, the check inactive, said.
    assert!(api["headers"]["Authorization"].is_badvalue());
    assert_eq!(api["active"].as_bool(), Some(false));
    out.said("header Authorization holds a credential");
    out.said("upside-down mode has no equivalent");
    out.said("monitor 'Containers' (Kuma monitor 10): not imported (cabot has no docker check)");

    // Notifications: each a channel with its secrets in files; Teams and the inactive one dropped.
    let mail = &y["channels"]["mail"];
    assert_eq!(
        mail["servers"][0]["url"].as_str(),
        Some("smtp://127.0.0.1:9?tls=opportunistic")
    );
    assert_eq!(mail["to"][1].as_str(), Some("oncall@example.com"));
    assert_eq!(mail["to"].as_vec().map(Vec::len), Some(2));
    out.said("notification 'Mail' (Kuma notification 2): recipient dropped: 'on call team' is not an email address");
    assert_eq!(out.secret("mail-smtp-password").0, "smtp-secret\n");
    assert_eq!(
        y["channels"]["ops-slack"]["webhook_url_file"].as_str(),
        Some("secrets/ops-slack-webhook-url")
    );
    assert_eq!(
        y["channels"]["phone-push"]["to"][0].as_str(),
        Some("uQiRzpo4DXghDmr9QzzfQu27cmVRsG")
    );
    assert_eq!(
        out.secret("ntfy-url").0,
        "https://ntfy.example.com/kuma-alerts\n"
    );
    let c = &y["channels"];
    assert_eq!(c["telegram"]["chat_id"].as_str(), Some("-1001234567890"));
    assert_eq!(out.secret("telegram-bot-token").0, "123456:tg-secret\n");
    assert_eq!(
        c["discord"]["webhook_url_file"].as_str(),
        Some("secrets/discord-webhook-url")
    );
    assert_eq!(
        c["pagerduty"]["routing_key_file"].as_str(),
        Some("secrets/pagerduty-routing-key")
    );
    assert_eq!(c["opsgenie"]["region"].as_str(), Some("eu"));
    assert_eq!(
        c["gotify"]["url"].as_str(),
        Some("https://gotify.example.com")
    );
    assert_eq!(
        c["matrix-room"]["room_id"].as_str(),
        Some("!ops:example.org")
    );
    assert_eq!(
        out.secret("hook-url").0,
        "https://hooks.example.com/kuma?key=hook-secret\n"
    );
    out.said("'Hook' (Kuma notification 13): its additional headers dropped");
    let admin_channels = named(&y["services"], "Admin")["channels"]
        .as_vec()
        .map(Vec::len);
    assert_eq!(
        admin_channels,
        Some(7),
        "Teams and the inactive Matrix are not channels"
    );
    assert!(y["channels"]["old-teams"].is_badvalue());
    assert!(y["channels"]["matrix"].is_badvalue());
    out.said(
        "notification 'Old Teams' (Kuma notification 4): not imported (cabot has no teams channel)",
    );

    // Maintenance: a single window dated, a weekday one weekly in the server's zone,
    // manual and ended ones dropped and said.
    let windows = y["maintenance"].as_vec().expect("maintenance");
    assert_eq!(windows.len(), 2, "{windows:?}");
    assert_eq!(windows[0]["message"].as_str(), Some("Database upgrade"));
    assert_eq!(windows[0]["services"][0].as_str(), Some("Backend"));
    assert_eq!(windows[0]["time_zone"].as_str(), Some("Europe/Berlin"));
    assert_eq!(windows[1]["days"][0].as_str(), Some("sun"));
    assert_eq!(windows[1]["days"][1].as_str(), Some("sat"));
    assert_eq!(windows[1]["start"].as_str(), Some("03:00"));
    assert_eq!(windows[1]["duration"].as_str(), Some("90m"));
    assert_eq!(windows[1]["time_zone"].as_str(), Some("Europe/London"));
    out.said("'Firefighting' (Kuma maintenance 3): not imported (a manual window");
    out.said("'Long gone' (Kuma maintenance 4): not imported (it ended)");

    // Kuma sent a DOWN once; the shortest resend (12 checks of 5m) sets the repeat.
    assert_eq!(y["alerting"]["repeat"]["error"].as_str(), Some("1h"));

    for secret in SECRETS {
        for (what, shown) in [
            ("config", &text),
            ("stdout", &out.run.stdout),
            ("stderr", err),
        ] {
            assert!(!shown.contains(secret), "{secret} is in the {what}");
        }
    }
    assert_eq!(out.cabot_at(T0, &["validate"]).code, 0);
    let again = import_into(out.dir, &["uptime-kuma", "--db", "kuma.db"]);
    assert_eq!(again.run.code, 0, "{}", again.run.stderr);
    assert_eq!(again.text(), text);
}

#[test]
fn a_kuma_1_23_database_becomes_a_config_that_validates() {
    imports_with_every_mapping("kuma-1.23.16.sql", "1.x");
}

#[test]
fn a_kuma_2_0_database_becomes_a_config_that_validates() {
    imports_with_every_mapping("kuma-2.0.2.sql", "2.x");
}

#[test]
fn a_database_that_is_not_kumas_is_refused_naming_what_it_lacks() {
    let dir = tempfile::tempdir().expect("temp dir");
    rusqlite::Connection::open(dir.path().join("kuma.db"))
        .unwrap()
        .execute_batch("CREATE TABLE monitor (id INTEGER PRIMARY KEY, name TEXT);")
        .unwrap();
    let out = import_into(dir, &["uptime-kuma", "--db", "kuma.db"]);
    assert_eq!(out.run.code, 64, "{}", out.run.stderr);
    assert!(
        out.run
            .stderr
            .contains("not an Uptime Kuma 1.23 or 2.x database"),
        "{}",
        out.run.stderr
    );
    assert!(
        out.run.stderr.contains("monitor.interval")
            && out.run.stderr.contains("table notification"),
        "{}",
        out.run.stderr
    );
}

/// As Kuma would: DOWN told once to the monitor's Slack, UP when it is back.
fn alerts_and_recovers_as_kuma_did(schema: &str) {
    let (target, up) = toggled_target("Welcome (home)");
    let slack = FakeApi::slack();
    let base = target.url("");
    let out = import(schema, base.trim_end_matches('/'), &slack.url());
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    let run = |now: i64| {
        let r = out.cabot_at(now, &["run", "--service", "Shop"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    run(T0);
    up.store(false, Ordering::SeqCst);
    run(T0 + MIN);
    run(T0 + 20 * MIN);
    up.store(true, Ordering::SeqCst);
    run(T0 + 21 * MIN);
    let texts = mentioned(&slack);
    assert_eq!(
        texts.len(),
        2,
        "down once (the repeat is an hour), then up: {texts:#?}"
    );
    assert!(
        texts[0].contains("Shop") && texts[0].contains("503"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("back to normal"), "{}", texts[1]);
}

#[test]
fn monitors_imported_from_kuma_1_23_alert_and_recover_as_kuma_did() {
    alerts_and_recovers_as_kuma_did("kuma-1.23.16.sql");
}

#[test]
fn monitors_imported_from_kuma_2_0_alert_and_recover_as_kuma_did() {
    alerts_and_recovers_as_kuma_did("kuma-2.0.2.sql");
}
