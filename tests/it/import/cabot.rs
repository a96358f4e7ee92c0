//! `cabot import cabot`: a Django dump of Arachnys' Cabot (`cabot/natural.json`, made with
//! `--natural-foreign`; `plain.json`, the same without it; `contenttypes.json`, the content
//! types such a dump needs), and Cabot's REST API served by a fake that answers as Django
//! REST Framework's `ModelSerializer`s in `cabot/rest_urls.py` do.

use std::sync::atomic::Ordering;

use serde_json::Value;

use super::*;
use crate::alerts::FakeApi;
use crate::oncall::mentioned;

/// What no output may show: every secret in the fixtures and the env file.
const SECRETS: &[&str] = &[
    "hunter2",
    "jenkins-api-token-1",
    "twilio-secret",
    "smtp-secret",
    "graphite-secret",
    "services/T0/B0/secret",
];

fn env_file(slack: &str) -> String {
    format!(
        "# Cabot's production.env
WWW_HTTP_HOST=cabot.example.com
CALENDAR_ICAL_URL=http://127.0.0.1:9/duty.ics
CABOT_FROM_EMAIL=cabot@example.com
EMAIL_HOST=127.0.0.1
EMAIL_PORT=9
EMAIL_USER=cabot
EMAIL_PASSWORD=smtp-secret
EMAIL_USE_TLS=1
GRAPHITE_API=http://127.0.0.1:9/
GRAPHITE_USER=graphite
GRAPHITE_PASS=graphite-secret
SLACK_ALERT_CHANNEL=ops
SLACK_WEBHOOK_URL={slack}/services/T0/B0/secret
TWILIO_ACCOUNT_SID=AC0123456789abcdef0123456789abcdef
TWILIO_AUTH_TOKEN=twilio-secret
TWILIO_OUTGOING_NUMBER=+15550000001
ALERT_INTERVAL=15
NOTIFICATION_INTERVAL=60
"
    )
}

/// Imports `fixture` (with the targets at `target`) and the env file into a new folder.
fn import(fixture: &str, target: &str, env: Option<&str>) -> Imported {
    let dir = tempfile::tempdir().expect("temp dir");
    let replace = [
        ("__TARGET__", target),
        ("__JENKINS__", "http://127.0.0.1:9"),
    ];
    fixture_into(dir.path(), fixture, "cabot.json", &replace);
    let mut args = vec!["cabot", "--dump", "cabot.json"];
    if let Some(env) = env {
        std::fs::write(dir.path().join("production.env"), env).expect("write env");
        args.extend(["--env", "production.env"]);
    }
    import_into(dir, &args)
}

#[test]
fn a_natural_foreign_dump_becomes_a_config_that_validates_with_secrets_in_files() {
    let out = import(
        "cabot/natural.json",
        "http://127.0.0.1:9",
        Some(&env_file("http://127.0.0.1:9")),
    );
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    let y = out.yaml();
    let text = out.text();

    // Cabot expected exactly its status code, followed redirects, pinged once.
    let website = named(&y["services"], "Website");
    let home = named(&website["checks"], "Homepage");
    assert_eq!(home["type"].as_str(), Some("http"));
    assert_eq!(home["expect_status"][0].as_i64(), Some(200));
    assert_eq!(home["follow_redirects"].as_bool(), Some(true));
    assert_eq!(home["text_match"].as_str(), Some("Welcome"));
    assert_eq!(home["importance"].as_str(), Some("critical"));
    assert_eq!(home["frequency"].as_str(), Some("1m"));
    let ping = named(&named(&y["services"], "web-1")["checks"], "Ping web-1");
    assert_eq!(
        (
            ping["type"].as_str(),
            ping["host"].as_str(),
            ping["count"].as_i64()
        ),
        (Some("icmp"), Some("127.0.0.1"), Some(1))
    );
    assert!(
        named(&y["services"], "web-1")["channels"].is_badvalue(),
        "Cabot never alerted on an instance"
    );

    // A check in two services is in both.
    let checkout = named(&y["services"], "Checkout");
    assert_eq!(
        named(&checkout["checks"], "Homepage")["url"].as_str(),
        Some("http://127.0.0.1:9/")
    );
    out.said("check 'Homepage' (Cabot check 10) is in Website, Checkout");

    // Jenkins' two objects are one check, with its server from the jenkinsconfig.
    let deploy = named(&website["checks"], "deploy-website");
    assert_eq!(deploy["type"].as_str(), Some("jenkins"));
    assert_eq!(deploy["job"].as_str(), Some("deploy-website"));
    assert_eq!(deploy["max_queued_build_time"].as_str(), Some("10m"));
    assert_eq!(deploy["pass_on_error"].as_bool(), Some(true));
    assert_eq!(deploy["debounce"].as_i64(), Some(1));
    assert_eq!(
        deploy["password_file"].as_str(),
        Some("secrets/jenkins-default-jenkins-password")
    );
    assert_eq!(
        out.secret("jenkins-default-jenkins-password"),
        ("jenkins-api-token-1\n".to_string(), 0o600)
    );
    let folder = std::fs::metadata(out.dir.path().join("secrets")).expect("secrets folder");
    assert_eq!(
        std::os::unix::fs::PermissionsExt::mode(&folder.permissions()) & 0o777,
        0o700
    );

    // The Graphite threshold "abc" is no number: written inactive, and said.
    let load = named(&checkout["checks"], "Load");
    assert_eq!(load["active"].as_bool(), Some(false));
    out.said("its condition '> abc' cannot be read");
    let queue = named(&checkout["checks"], "Queue");
    assert_eq!(
        (queue["comparison"].as_str(), queue["threshold"].as_f64()),
        (Some(">="), Some(100.5))
    );

    // No status set: Cabot compared none.
    let legacy = named(&website["checks"], "Legacy");
    assert_eq!(legacy["expect_status"].as_vec().map(Vec::len), Some(5));
    assert_eq!(legacy["active"].as_bool(), Some(false));

    // Users: phone numbers get their +, Slack aliases are warned about one by one,
    // HipChat and inactive users are dropped and said.
    assert_eq!(y["users"]["alice"]["phone"].as_str(), Some("+15551230001"));
    assert_eq!(y["users"]["bob"]["phone"].as_str(), Some("+442079460958"));
    assert_eq!(y["users"]["alice"]["name"].as_str(), Some("Alice Smith"));
    assert!(y["users"]["carol"].is_badvalue());
    out.said("user alice: Slack alias 'alice' is a display name");
    out.said("HipChat aliases dropped (bob)");
    out.said("alert plugin HipChat (Cabot plugin 5): dropped");
    out.said("not imported: 2 check results");

    // Channels from the env file, their secrets in files.
    let sms = &y["channels"]["sms"]["providers"][0]["twilio"];
    assert_eq!(
        sms["auth_token_file"].as_str(),
        Some("secrets/twilio-auth-token")
    );
    assert_eq!(out.secret("twilio-auth-token").0, "twilio-secret\n");
    assert_eq!(
        y["channels"]["phone"]["min_importance"].as_str(),
        Some("critical")
    );
    assert_eq!(
        y["channels"]["email"]["servers"][0]["url"].as_str(),
        Some("smtp://127.0.0.1:9?tls=required")
    );
    assert_eq!(
        y["channels"]["slack"]["webhook_url_file"].as_str(),
        Some("secrets/slack-webhook-url")
    );
    assert!(y["channels"]["hipchat"].is_badvalue());
    assert_eq!(y["alerting"]["repeat"]["error"].as_str(), Some("15m"));
    assert_eq!(y["alerting"]["repeat"]["warning"].as_str(), Some("1h"));
    assert_eq!(y["oncall"]["duty"]["fallback"].as_str(), Some("alice"));
    assert_eq!(
        y["oncall"]["duty"]["ical_url"].as_str(),
        Some("https://127.0.0.1:9/duty.ics")
    );
    assert_eq!(website["oncall"].as_str(), Some("duty"));
    assert_eq!(website["public"].as_bool(), Some(true));
    assert_eq!(
        website["runbook"].as_str(),
        Some("https://wiki.example.com/website")
    );

    // Each item says where it came from; no secret is in the config or the output.
    assert!(
        text.contains("# Cabot service 1\n  - name: Website"),
        "{text}"
    );
    assert!(text.contains("# Cabot check 15 (Jenkins)"), "{text}");
    for secret in SECRETS {
        for (what, shown) in [
            ("config", &text),
            ("stdout", &out.run.stdout),
            ("stderr", &out.run.stderr),
        ] {
            assert!(!shown.contains(secret), "{secret} is in the {what}");
        }
    }
    let validate = out.cabot_at(T0, &["validate"]);
    assert_eq!(validate.code, 0, "{}", validate.stderr);

    // Importing again gives the same file.
    let again = import_into(
        out.dir,
        &["cabot", "--dump", "cabot.json", "--env", "production.env"],
    );
    assert_eq!(again.run.code, 0, "{}", again.run.stderr);
    assert_eq!(again.text(), text);
}

#[test]
fn a_dump_without_natural_keys_is_refused_unless_it_has_the_content_types() {
    let plain = import("cabot/plain.json", "http://127.0.0.1:9", None);
    assert_eq!(plain.run.code, 64, "{}", plain.run.stderr);
    plain.said("--natural-foreign");
    plain.said("manage.py dumpdata");
    assert!(!plain.config().exists());

    // The same dump with contenttypes in it reads as the natural one.
    let dir = tempfile::tempdir().expect("temp dir");
    let path = fixture_into(
        dir.path(),
        "cabot/plain.json",
        "cabot.json",
        &[
            ("__TARGET__", "http://127.0.0.1:9"),
            ("__JENKINS__", "http://127.0.0.1:9"),
        ],
    );
    let mut objects: Vec<Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    let types: Vec<Value> = serde_json::from_str(include_str!("cabot/contenttypes.json")).unwrap();
    objects.extend(types);
    std::fs::write(&path, serde_json::to_string(&objects).unwrap()).unwrap();
    let with_types = import_into(dir, &["cabot", "--dump", "cabot.json"]);
    assert_eq!(with_types.run.code, 0, "{}", with_types.run.stderr);
    let natural = import("cabot/natural.json", "http://127.0.0.1:9", None);
    assert_eq!(natural.run.code, 0, "{}", natural.run.stderr);
    assert_eq!(with_types.text(), natural.text());
    // Without the env file, the channels are not guessed: the report says where they are.
    natural.said("give --env production.env");
}

/// Sorted output: the order of a dump's objects does not show in the config.
#[test]
fn a_dump_in_another_order_gives_the_same_config() {
    let natural = import("cabot/natural.json", "http://127.0.0.1:9", None);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = fixture_into(
        dir.path(),
        "cabot/natural.json",
        "cabot.json",
        &[
            ("__TARGET__", "http://127.0.0.1:9"),
            ("__JENKINS__", "http://127.0.0.1:9"),
        ],
    );
    let mut objects: Vec<serde_json::Value> =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    objects.reverse();
    std::fs::write(&path, serde_json::to_string(&objects).unwrap()).unwrap();
    let reversed = import_into(dir, &["cabot", "--dump", "cabot.json"]);
    assert_eq!(reversed.run.code, 0, "{}", reversed.run.stderr);
    assert_eq!(reversed.text(), natural.text());
}

#[test]
fn a_dump_with_nothing_to_run_writes_nothing_and_says_why() {
    let dir = tempfile::tempdir().expect("temp dir");
    let dump = r#"[{"model": "cabotapp.service", "pk": 1, "fields": {"name": "Empty", "status_checks": [], "alerts_enabled": true}}]"#;
    std::fs::write(dir.path().join("cabot.json"), dump).unwrap();
    let out = import_into(dir, &["cabot", "--dump", "cabot.json"]);
    assert_eq!(out.run.code, 64, "{}", out.run.stderr);
    out.said("service 'Empty' (Cabot service 1): not imported (no checks it can run");
    out.said("nothing to write: no service has a check cabot can run");
    assert!(!out.config().exists());
}

#[test]
fn an_output_not_written_by_an_import_is_not_overwritten() {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("checks.yaml"), "services: []\n").unwrap();
    fixture_into(dir.path(), "cabot/natural.json", "cabot.json", &[]);
    let out = import_into(dir, &["cabot", "--dump", "cabot.json"]);
    assert_eq!(out.run.code, 64, "{}", out.run.stderr);
    out.said("was not written by cabot import");
    assert_eq!(out.text(), "services: []\n");
}

/// As Cabot would: the CRITICAL check's first failure alerts the service's Slack, the
/// recovery says it is back to normal, and nothing is sent while it passes.
#[test]
fn imported_checks_alert_and_recover_as_cabot_did() {
    let (target, up) = toggled_target("Welcome to the shop");
    let slack = FakeApi::slack();
    // No Twilio and no email in this env file: nothing leaves loopback.
    let env = format!(
        "SLACK_WEBHOOK_URL={}/services/T0/B0/secret\nCALENDAR_ICAL_URL=http://127.0.0.1:9/duty.ics\n",
        slack.url()
    );
    let base = target.url("");
    let out = import("cabot/natural.json", base.trim_end_matches('/'), Some(&env));
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    let run = |now: i64| {
        let r = out.cabot_at(now, &["run", "--service", "Website"]);
        assert_eq!(r.code, 0, "{}", r.stderr);
    };
    run(T0);
    assert!(
        slack.requests().is_empty(),
        "nothing to say while it passes"
    );
    up.store(false, Ordering::SeqCst);
    run(T0 + MIN);
    up.store(true, Ordering::SeqCst);
    run(T0 + 2 * MIN);
    let texts = mentioned(&slack);
    assert_eq!(texts.len(), 2, "{texts:#?}");
    assert!(
        texts[0].contains("CRITICAL") && texts[0].contains("Homepage"),
        "{}",
        texts[0]
    );
    assert!(texts[1].contains("back to normal"), "{}", texts[1]);
    // The basic-auth check sent the password from its file.
    let api = target
        .requests()
        .into_iter()
        .find(|r| r.url == "/api")
        .expect("API health ran");
    assert_eq!(
        api.header("Authorization"),
        Some("Basic cHJvYmU6aHVudGVyMg=="),
        "probe:hunter2, by coreutils' base64"
    );
}

/// Cabot's REST API: basic auth, DRF's lists, and `users`/`user_profiles` only when the
/// server exposes them (`EXPOSE_USER_API`): otherwise its router never registers them (404).
fn fake_cabot_api(target: &str, expose_users: bool) -> HttpServer {
    let text = include_str!("cabot/api.json").replace("__TARGET__", target);
    let answers: Value = serde_json::from_str(&text).expect("api.json");
    HttpServer::start(move |req| {
        // base64 of "admin:s3cret-pass", by coreutils' base64
        if req.header("Authorization") != Some("Basic YWRtaW46czNjcmV0LXBhc3M=") {
            return Reply::new(401, r#"{"detail":"Invalid username/password."}"#)
                .header("WWW-Authenticate", "Basic realm=\"api\"");
        }
        let path = req.url.split('?').next().unwrap_or("");
        let Some(name) = path.strip_prefix("/api/").and_then(|p| p.strip_suffix('/')) else {
            return Reply::new(404, "not found");
        };
        if !expose_users && (name == "users" || name == "user_profiles") {
            return Reply::new(404, r#"{"detail":"Not found."}"#);
        }
        match answers.get(name) {
            Some(list) => {
                Reply::new(200, list.to_string()).header("Content-Type", "application/json")
            }
            None => Reply::new(404, r#"{"detail":"Not found."}"#),
        }
    })
}

fn import_api(api: &HttpServer, env: Option<&str>, password: &str) -> Imported {
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(dir.path().join("password"), format!("{password}\n")).unwrap();
    let url = api.url("/");
    let mut args = vec![
        "cabot",
        "--api",
        url.as_str(),
        "--user",
        "admin",
        "--password-file",
        "password",
    ];
    if let Some(env) = env {
        std::fs::write(dir.path().join("production.env"), env).unwrap();
        args.extend(["--env", "production.env"]);
    }
    import_into(dir, &args)
}

#[test]
fn the_api_import_says_what_the_api_lacks_and_still_validates() {
    let api = fake_cabot_api("http://127.0.0.1:9", false);
    let refused = import_api(&api, None, "wrong");
    assert_eq!(refused.run.code, 64, "{}", refused.run.stderr);
    refused.said("HTTP 401");

    let out = import_api(
        &api,
        Some(
            "JENKINS_API=http://127.0.0.1:9/\nJENKINS_PASS=jenkins-api-token-1\nSLACK_WEBHOOK_URL=http://127.0.0.1:9/services/T0/B0/secret\n",
        ),
        "s3cret-pass",
    );
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    for lacking in [
        "no runbook links",
        "no phone numbers",
        "EXPOSE_USER_API is off",
        "JENKINS_API",
    ] {
        assert!(
            out.run.stderr.contains(lacking),
            "{lacking}: {}",
            out.run.stderr
        );
    }
    out.said("'CloudWatch CPU' (Cabot check 17): not imported");
    let y = out.yaml();
    let website = named(&y["services"], "Website");
    let home = named(&website["checks"], "Homepage");
    assert_eq!(home["expect_status"][0].as_i64(), Some(200));
    assert_eq!(
        home["password_file"].as_str(),
        Some("secrets/http-website-homepage-password")
    );
    assert_eq!(
        out.secret("http-website-homepage-password"),
        ("hunter2\n".to_string(), 0o600)
    );
    assert_eq!(
        named(&website["checks"], "deploy-website")["url"].as_str(),
        Some("http://127.0.0.1:9/")
    );
    assert!(
        website["users"].is_badvalue(),
        "no users without EXPOSE_USER_API"
    );
    assert_eq!(website["channels"][0].as_str(), Some("slack"));
    for secret in SECRETS.iter().chain(&["s3cret-pass"]) {
        assert!(!out.text().contains(secret), "{secret} in the config");
        assert!(!out.run.stderr.contains(secret), "{secret} on stderr");
    }
    assert_eq!(out.cabot_at(T0, &["validate"]).code, 0);

    // With the user API exposed, users and the rota's fallback come too.
    let exposed = fake_cabot_api("http://127.0.0.1:9", true);
    let out = import_api(
        &exposed,
        Some("CALENDAR_ICAL_URL=https://127.0.0.1:9/duty.ics\n"),
        "s3cret-pass",
    );
    assert_eq!(out.run.code, 0, "{}", out.run.stderr);
    let y = out.yaml();
    assert_eq!(
        y["users"]["alice"]["email"].as_str(),
        Some("alice@example.com")
    );
    assert_eq!(y["oncall"]["duty"]["fallback"].as_str(), Some("alice"));
    assert_eq!(
        named(&y["services"], "Website")["users"][1].as_str(),
        Some("bob")
    );
}
