//! What staff tell customers: incident posts (`cabot incident`) and dated maintenance
//! (`cabot maintenance`), on the page, the history page, `/status.json` and the Atom feed
//! (read by Python's feedparser, as a feed reader reads it).

use std::io::Write as _;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::support::*;

/// Services `web` and `db` (public, checking `target` and `db`) and `internal`, alerting
/// to `hook`; the status page behind https://status.example.com/.
fn env(hook: &HttpServer, target: &Target, db: &Target) -> Env {
    Env::new(&format!(
        "stale_after: 10m
status: {{ public_url: 'https://status.example.com/' }}
{channels}services:
  - name: web
    public: true
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{url}' }}
  - name: db
    public: true
    channels: [hook]
    checks:
      - {{ name: port, type: http, url: '{db}' }}
  - name: internal
    checks:
      - {{ name: home, type: http, url: '{url}' }}
",
        channels = hook_channel(hook),
        url = target.url(),
        db = db.url(),
    ))
}

/// A webhook that takes every alert, and the targets of `web` and `db` (up).
fn servers() -> (HttpServer, Target, Target) {
    (
        HttpServer::start(|_| Reply::new(200, "ok")),
        Target::new(),
        Target::new(),
    )
}

/// The feed as Python's feedparser reads it: whether it found the feed malformed (and
/// why), and each entry's id, title, link, updated and text.
fn parse_feed(xml: &str) -> Value {
    need(
        Command::new(PYTHON)
            .args(["-c", "import feedparser"])
            .status()
            .is_ok_and(|s| s.success()),
        "Python's feedparser (apt-get install python3-feedparser)",
    );
    let script = "import feedparser, json, sys
d = feedparser.parse(sys.stdin.buffer.read())
print(json.dumps({
    'bozo': bool(d.bozo), 'why': str(d.get('bozo_exception', '')), 'version': d.version,
    'title': d.feed.get('title'), 'id': d.feed.get('id'),
    'self': [l.href for l in d.feed.get('links', []) if l.rel == 'self'],
    'entries': [{'id': e.id, 'title': e.title, 'link': e.link, 'updated': e.updated,
                 'text': e.get('summary', '')} for e in d.entries]}))";
    let mut child = Command::new(PYTHON)
        .args(["-c", script])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python3");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml.as_bytes())
        .expect("feed to python");
    let out = child.wait_with_output().expect("feedparser");
    serde_json::from_slice(&out.stdout).expect("feedparser's json")
}

fn cabot_ok(env: &Env, at: i64, args: &[&str]) -> String {
    let run = env.cabot_at(at, args);
    assert_eq!(run.code, 0, "{args:?}: {run:?}");
    run.stdout
}

#[test]
#[ignore = "needs Python's feedparser (.ci/run installs python3-feedparser)"]
fn an_incident_post_is_opened_updated_and_resolved_on_the_page_the_json_and_the_feed() {
    let (hook, target, db) = servers();
    let env = env(&hook, &target, &db);
    cabot_ok(&env, T0, &["run"]);
    let said = cabot_ok(
        &env,
        T0 + MIN,
        &[
            "incident",
            "open",
            "Checkout <errors>",
            "--services",
            "web,internal",
            "--message",
            "We see errors & timeouts at checkout.",
            "--by",
            "alice",
        ],
    );
    assert_eq!(said, "incident 1 open: Checkout <errors> (web, internal)\n");
    cabot_ok(
        &env,
        T0 + 10 * MIN,
        &[
            "incident",
            "update",
            "1",
            "--status",
            "identified",
            "--message",
            "A deploy broke the payment form; rolling back.",
        ],
    );
    // Unknown services and posts are refused, and change nothing.
    let bad = env.cabot_at(T0, &["incident", "open", "x", "--services", "nope"]);
    assert_eq!(bad.code, 64, "{bad:?}");
    assert!(bad.stderr.contains("no service named 'nope'"), "{bad:?}");
    assert_eq!(
        env.cabot_at(
            T0,
            &[
                "incident",
                "update",
                "7",
                "--status",
                "monitoring",
                "--message",
                "m"
            ]
        )
        .code,
        64
    );

    let server = StatusServer::start(&env, Some(T0 + 15 * MIN));
    let page = server.get("/").body;
    // Above the services, escaped: a post is written by staff but read by the public.
    let post_at = page
        .find("id=\"incident-1\"")
        .expect("the post is on the page");
    assert!(post_at < page.find("id=\"service-web\"").expect("web"));
    assert!(page.contains("Checkout &lt;errors&gt;"), "{page}");
    assert!(!page.contains("<errors>"), "{page}");
    assert!(page.contains("We see errors &amp; timeouts at checkout."));
    assert!(page.contains("Affects web and other services"), "{page}");
    assert!(
        !page.contains("alice"),
        "the author is not shown to the public"
    );
    let identified = page.find("<b>Identified</b>").expect("identified");
    let investigating = page.find("<b>Investigating</b>").expect("investigating");
    assert!(identified < investigating, "the newest update first");
    let web = &page[page.find("id=\"service-web\"").expect("web")..];
    assert!(
        web.contains("Incident: <a href=\"#incident-1\">Checkout &lt;errors&gt;</a> (identified)"),
        "the affected service links to the post"
    );

    let json = server.json();
    assert_eq!(json["schema_version"], 1);
    let post = &json["incidents"][0];
    assert_eq!(post["id"], 1);
    assert_eq!(post["title"], "Checkout <errors>");
    assert_eq!(post["status"], "identified");
    assert_eq!(post["services"], serde_json::json!(["web"]));
    assert_eq!(post["other_services"], true);
    assert_eq!(post["resolved_at"], Value::Null);
    assert_eq!(post["updates"][0]["status"], "investigating");
    assert_eq!(post["updates"][0]["at"], rfc3339(T0 + MIN));
    assert_eq!(post["updates"][1]["at"], rfc3339(T0 + 10 * MIN));
    assert_eq!(
        json["services"][0]["incident_posts"],
        serde_json::json!([1])
    );
    assert_eq!(json["services"][1]["incident_posts"], serde_json::json!([]));

    let feed = parse_feed(&server.get("/feed.atom").body);
    assert_eq!(feed["bozo"], false, "{feed:#}");
    assert_eq!(feed["version"], "atom10");
    assert_eq!(
        feed["self"],
        serde_json::json!(["https://status.example.com/feed.atom"])
    );
    let entries = feed["entries"].as_array().expect("entries").clone();
    assert_eq!(entries.len(), 2, "{feed:#}");
    assert_eq!(entries[0]["title"], "Checkout <errors>: Identified");
    assert_eq!(
        entries[0]["link"],
        "https://status.example.com/history.html#incident-1-update-2"
    );
    assert_eq!(
        entries[0]["id"],
        "tag:status.example.com,2027-01-15:incident-1-update-2"
    );
    assert!(
        entries[1]["text"]
            .as_str()
            .unwrap_or("")
            .contains("errors & timeouts")
    );
    drop(server);

    // Resolved: off the page, on the history page, and one more entry in the feed.
    cabot_ok(
        &env,
        T0 + 30 * MIN,
        &[
            "incident",
            "resolve",
            "1",
            "--message",
            "Rolled back; checkout works.",
        ],
    );
    let late = env.cabot_at(
        T0 + 31 * MIN,
        &[
            "incident",
            "update",
            "1",
            "--status",
            "monitoring",
            "--message",
            "m",
        ],
    );
    assert_eq!(late.code, 64, "{late:?}");
    assert!(late.stderr.contains("was resolved"), "{late:?}");
    let server = StatusServer::start(&env, Some(T0 + 40 * MIN));
    let page = server.get("/").body;
    assert!(!page.contains("id=\"incident-1\""), "{page}");
    let history = server.get("/history.html");
    assert_eq!(history.status, 200);
    assert!(
        history.body.contains("id=\"incident-1\""),
        "{}",
        history.body
    );
    assert!(history.body.contains("<b>Resolved</b>"));
    let feed = parse_feed(&server.get("/feed.atom").body);
    assert_eq!(feed["bozo"], false, "{feed:#}");
    let after: Vec<&Value> = feed["entries"]
        .as_array()
        .expect("entries")
        .iter()
        .collect();
    assert_eq!(after.len(), 3);
    assert_eq!(after[0]["title"], "Checkout <errors>: Resolved");
    assert_eq!(after[1]["id"], entries[0]["id"], "ids do not change");
    assert_eq!(after[2]["id"], entries[1]["id"]);
    assert_eq!(
        server.json()["incidents"][0]["resolved_at"],
        rfc3339(T0 + 30 * MIN)
    );
    let list = cabot_ok(&env, T0 + 40 * MIN, &["incident", "list"]);
    assert!(
        list.starts_with("1  resolved  Checkout <errors>  opened "),
        "{list}"
    );
    // Each update with its time and author: only here, never to the public.
    assert!(
        list.contains(&format!(
            "\n    {}  investigating by alice: We see errors & timeouts at checkout.\n",
            rfc3339(T0 + MIN)
        )),
        "{list}"
    );
}

#[test]
fn maintenance_is_announced_ahead_holds_alerts_while_it_lasts_and_ends() {
    let (hook, target, db) = servers();
    let env = env(&hook, &target, &db);
    cabot_ok(&env, T0, &["run"]);
    let alerts = || hook.requests().len();
    // Planned a week ahead: Friday 22 January 2027, 02:00 to 04:00 UTC.
    let from = 1_800_583_200;
    let said = cabot_ok(
        &env,
        T0 + MIN,
        &[
            "maintenance",
            "add",
            "--services",
            "db",
            "--from",
            "2027-01-22 02:00",
            "--to",
            "2027-01-22 04:00",
            "--message",
            "Database upgrade",
        ],
    );
    assert_eq!(
        said,
        "maintenance 1: 2027-01-22T02:00:00Z to 2027-01-22T04:00:00Z (db): Database upgrade\n"
    );
    let bad = env.cabot_at(
        T0,
        &[
            "maintenance",
            "add",
            "--from",
            "2027-01-22 04:00",
            "--to",
            "2027-01-22 02:00",
            "--message",
            "x",
        ],
    );
    assert_eq!(bad.code, 64, "{bad:?}");
    let server = StatusServer::start(&env, Some(T0 + 2 * MIN));
    let page = server.get("/").body;
    assert!(
        page.contains("<h2>Scheduled maintenance</h2><ul><li><b>Fri 22 Jan 02:00-04:00 UTC</b>: Database upgrade (db)</li>"),
        "{page}"
    );
    let json = server.json();
    assert_eq!(json["maintenance"][0]["from"], rfc3339(from));
    assert_eq!(json["maintenance"][0]["in_progress"], false);
    assert_eq!(json["services"][1]["under_maintenance"], false);
    drop(server);

    // db goes down inside the window: no alert while it lasts.
    db.set_up(false);
    cabot_ok(&env, from + MIN, &["run"]);
    cabot_ok(&env, from + 50 * MIN, &["run"]);
    assert_eq!(alerts(), 0, "nothing while the window lasts");
    let server = StatusServer::start(&env, Some(from + 51 * MIN));
    let page = server.get("/").body;
    let db = &page[page.find("id=\"service-db\"").expect("db")..];
    assert!(db.contains(">MAINTENANCE</span>"), "{db}");
    assert!(db.contains("Under maintenance (Fri 22 Jan 02:00-04:00 UTC): Database upgrade"));
    assert!(page.contains("<h2>Maintenance in progress</h2>"), "{page}");
    assert!(
        page.contains("Maintenance in progress</p>"),
        "the headline: {page}"
    );
    assert_eq!(server.json()["services"][1]["under_maintenance"], true);
    let badge: Value =
        serde_json::from_str(&server.get("/badge/db.json").body).expect("badge json");
    assert_eq!(
        badge,
        serde_json::json!({"schemaVersion": 1, "label": "db", "message": "maintenance", "color": "2f6fb3"})
    );
    drop(server);

    // Over: still failing, so the alert the window held goes.
    cabot_ok(&env, from + 2 * 3600 + MIN, &["run"]);
    assert_eq!(alerts(), 1, "alerts resume after the window");
    let listed = cabot_ok(&env, from + 3 * 3600, &["maintenance", "list"]);
    assert_eq!(listed, "no maintenance planned\n");
}

#[test]
fn maintenance_written_in_the_config_and_cancelled_windows() {
    let (hook, target, db) = servers();
    let env = env(&hook, &target, &db);
    let text = std::fs::read_to_string(env.config()).expect("config").replace(
        "services:\n",
        "maintenance:\n  - { services: [web], from: '2027-01-20 22:00', to: '2027-01-21 01:00', time_zone: Europe/Paris, message: Network work }\nservices:\n",
    );
    env.write_config(&text);
    cabot_ok(&env, T0, &["run"]);
    cabot_ok(
        &env,
        T0,
        &[
            "maintenance",
            "add",
            "--from",
            "2027-01-25 10:00",
            "--to",
            "2027-01-25 11:00",
            "--message",
            "Everything",
        ],
    );
    let listed = cabot_ok(&env, T0, &["maintenance", "list"]);
    assert_eq!(
        listed,
        "1  2027-01-25T10:00:00Z to 2027-01-25T11:00:00Z (every service): Everything\n\
         config  2027-01-20T21:00:00Z to 2027-01-21T00:00:00Z (web): Network work\n"
    );
    cabot_ok(&env, T0, &["maintenance", "cancel", "1"]);
    assert_eq!(env.cabot_at(T0, &["maintenance", "cancel", "1"]).code, 64);
    let server = StatusServer::start(&env, Some(T0 + MIN));
    let page = server.get("/").body;
    assert!(
        page.contains("<b>Wed 20 Jan 22:00-Thu 21 Jan 01:00 CET</b>: Network work (web)"),
        "{page}"
    );
    assert!(!page.contains("Everything"), "cancelled: {page}");
}

#[test]
fn announce_channels_are_told_each_update_and_each_window_start_and_end_once() {
    let (news, target) = (HttpServer::start(|_| Reply::new(200, "ok")), Target::new());
    let env = Env::new(&format!(
        "status: {{ announce: [news], public_url: 'https://status.example.com/' }}
channels:
  news: {{ type: webhook, url: '{}' }}
services:
  - name: web
    public: true
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        news.url("/news"),
        target.url()
    ));
    let told = || -> Vec<(String, String, String, String)> {
        news.requests()
            .iter()
            .map(|r| {
                let a: Value = serde_json::from_str(&r.body).expect("webhook json");
                (
                    a["kind"].as_str().unwrap_or("").to_string(),
                    a["service"].as_str().unwrap_or("").to_string(),
                    a["checks"][0]["name"].as_str().unwrap_or("").to_string(),
                    a["checks"][0]["message"].as_str().unwrap_or("").to_string(),
                )
            })
            .collect()
    };
    let t = |kind: &str, subject: &str, what: &str, said: &str| {
        (
            kind.to_string(),
            subject.to_string(),
            what.to_string(),
            said.to_string(),
        )
    };
    cabot_ok(
        &env,
        T0,
        &[
            "incident",
            "open",
            "Slow pages",
            "--services",
            "web",
            "--message",
            "Looking.",
        ],
    );
    cabot_ok(&env, T0 + MIN, &["run"]);
    cabot_ok(
        &env,
        T0 + 2 * MIN,
        &[
            "incident",
            "update",
            "1",
            "--status",
            "monitoring",
            "--message",
            "Fixed; watching.",
        ],
    );
    cabot_ok(
        &env,
        T0 + 2 * MIN,
        &[
            "maintenance",
            "add",
            "--from",
            "2027-01-15 08:10",
            "--to",
            "2027-01-15 08:20",
            "--message",
            "Router swap",
        ],
    );
    cabot_ok(&env, T0 + 3 * MIN, &["run"]);
    cabot_ok(
        &env,
        T0 + 4 * MIN,
        &["incident", "resolve", "1", "--message", "All good."],
    );
    cabot_ok(&env, T0 + 11 * MIN, &["run"]);
    cabot_ok(&env, T0 + 12 * MIN, &["run"]);
    cabot_ok(&env, T0 + 21 * MIN, &["run"]);
    cabot_ok(&env, T0 + 22 * MIN, &["run"]);
    assert_eq!(
        told(),
        [
            t("alert", "Slow pages", "investigating", "Looking."),
            t("alert", "Slow pages", "monitoring", "Fixed; watching."),
            t("recovery", "Slow pages", "resolved", "All good."),
            t(
                "alert",
                "maintenance: Router swap",
                "start",
                "started, until 2027-01-15T08:20:00Z: Router swap (every service)"
            ),
            t(
                "recovery",
                "maintenance: Router swap",
                "end",
                "over: Router swap (every service)"
            ),
        ]
    );
}

/// The whole of `/status.json` as the README documents it, field by field: a change to
/// its shape shows here and must be a new `schema_version` (or a new field).
#[test]
fn status_json_is_the_documented_contract() {
    let (hook, target, db) = servers();
    db.set_up(false);
    let env = env(&hook, &target, &db);
    cabot_ok(&env, T0, &["run", "--no-alerts"]);
    cabot_ok(
        &env,
        T0,
        &[
            "incident",
            "open",
            "Database errors",
            "--services",
            "db",
            "--message",
            "Looking.",
        ],
    );
    cabot_ok(
        &env,
        T0,
        &[
            "maintenance",
            "add",
            "--services",
            "web",
            "--from",
            "2027-01-16 02:00",
            "--to",
            "2027-01-16 03:00",
            "--message",
            "Upgrade",
        ],
    );
    let server = StatusServer::start(&env, Some(T0 + MIN));
    let mut json = server.json();
    // The run's end is a second or so after its start: the only figures that vary.
    let finished = last_finished(&env);
    assert_eq!(json["last_run"]["finished_at"], rfc3339(finished));
    json["last_run"]["finished_at"] = "FINISHED".into();
    json["last_run"]["age_seconds"] = 0.into();
    for service in json["services"].as_array_mut().expect("services") {
        for window in ["24h", "7d", "30d"] {
            service["uptime"][window]["monitored_seconds"] = 0.into();
        }
    }
    let golden: Value = serde_json::from_str(include_str!("status.golden.json")).expect("golden");
    assert_eq!(
        json,
        golden,
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
}
