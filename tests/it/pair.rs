//! The pair: two cabots on loopback, each with its own state and `serve-status`, that pull
//! each other's `/peer/state` signed with their shared key.

use crate::support::*;

/// 2026-11-23 12:00 UTC.
const NOW: i64 = 1_795_435_200;
const KEY: &str = "kX3v0c7Qm2Jd9sWqYp1LrT8uHa5NeBfZ6gCy4iVoKjM=\n";

fn node(name: &str, role: &str, peer_port: u16, target: &str) -> Env {
    node_with(name, role, peer_port, target, "")
}

/// A node whose service `web` alerts through `channels` (the config's lines for them).
fn node_with(name: &str, role: &str, peer_port: u16, target: &str, channels: &str) -> Env {
    let alerts = match channels.is_empty() {
        true => String::new(),
        false => "    channels: [hook]\n".to_string(),
    };
    let env = Env::new(&format!(
        "peer:
  name: {name}
  url: 'http://127.0.0.1:{peer_port}'
  secret_file: peer.key
  role: {role}
  takeover_after: 2m
status: {{ metrics: true }}
{channels}services:
  - name: web
{alerts}    checks:
      - {{ name: home, type: http, url: '{target}' }}
"
    ));
    std::fs::write(env.path("peer.key"), KEY).unwrap();
    env
}

/// Two nodes, each serving its state: (a, b, a's server, b's server).
fn pair(target: &str) -> (Env, Env, StatusServer, StatusServer) {
    let (port_a, port_b) = (free_port(), free_port());
    let a = node("a", "primary", port_b, target);
    let b = node("b", "standby", port_a, target);
    let server_a = StatusServer::start_on(&a, port_a, None);
    let server_b = StatusServer::start_on(&b, port_b, None);
    (a, b, server_a, server_b)
}

fn signed(key: &cabot::peer::PeerKey, node: &str, at: i64) -> Vec<u8> {
    format!(
        "GET /peer/state HTTP/1.1\r\nHost: 127.0.0.1\r\n{}: {}\r\nConnection: close\r\n\r\n",
        cabot::peer::HEADER,
        key.sign("GET", "/peer/state", node, at)
    )
    .into_bytes()
}

#[test]
fn each_node_pulls_the_other_and_status_shows_the_pair() {
    let target = Target::new();
    let (a, b, server_a, _server_b) = pair(&target.url());
    let now = cabot::clock::now();
    assert_eq!(a.cabot(&["validate"]).code, 0);
    // a runs first: b has no run yet.
    assert_eq!(a.cabot_at(now, &["run"]).code, 0);
    let status = a.cabot_at(now, &["status"]);
    assert!(
        status
            .stdout
            .contains("peer: b (standby), not fresh: no run known\n"),
        "{status:?}"
    );
    // (Within 30 s of the servers' clocks: a request signed further off is refused.)
    assert_eq!(b.cabot_at(now + 10, &["run"]).code, 0);
    assert_eq!(a.cabot_at(now + 20, &["run"]).code, 0);
    let status = a.cabot_at(now + 20, &["status"]);
    assert!(
        status
            .stdout
            .contains("peer: b (standby), fresh: last run "),
        "{status:?}"
    );
    assert!(!status.stdout.contains("warning"), "{status:?}");
    let json: serde_json::Value =
        serde_json::from_str(&a.cabot_at(now + 20, &["status", "--json"]).stdout).unwrap();
    assert_eq!(json["peer"]["name"], "b");
    assert_eq!(json["peer"]["role"], "standby");
    assert_eq!(json["peer"]["fresh"], true);
    assert_eq!(json["peer"]["config_differs"], false);
    // The status server says it too: /status.json and /metrics.
    let served: serde_json::Value =
        serde_json::from_str(&server_a.get("/status.json").body).unwrap();
    assert_eq!(served["peer"]["name"], "b");
    assert_eq!(served["peer"]["fresh"], true);
    let metrics = server_a.get("/metrics").body;
    for line in [
        "cabot_peer_fresh 1\n",
        "cabot_peer_reachable 1\n",
        "cabot_peer_config_differs 0\n",
    ] {
        assert!(metrics.contains(line), "{line}: {metrics}");
    }
    assert!(
        metrics.contains("cabot_peer_last_run_age_seconds "),
        "{metrics}"
    );
    // b sees a's run, its service and where the document came from.
    assert_eq!(b.cabot_at(now + 21, &["run"]).code, 0);
    let status = b.cabot_at(now + 21, &["status"]);
    assert!(
        status
            .stdout
            .contains("peer: a (primary), fresh: last run "),
        "{status:?}"
    );
    let doc: serde_json::Value = serde_json::from_str(
        &b.db()
            .query_row("SELECT document FROM peer_pull", [], |r| {
                r.get::<_, String>(0)
            })
            .unwrap(),
    )
    .unwrap();
    assert_eq!(doc["node"], "a");
    assert_eq!(doc["services"][0]["name"], "web");
    assert_eq!(doc["services"][0]["status"], "PASSING");
}

#[test]
fn a_dead_peer_costs_a_run_one_timeout_and_status_says_since_when() {
    let target = Target::new();
    let (a, b, server_a, server_b) = pair(&target.url());
    let now = cabot::clock::now();
    assert_eq!(b.cabot_at(now, &["run"]).code, 0);
    assert_eq!(a.cabot_at(now + 10, &["run"]).code, 0);
    drop(server_b);
    drop(server_a);
    let started = std::time::Instant::now();
    assert_eq!(a.cabot_at(now + 200, &["run"]).code, 0);
    assert!(started.elapsed() < std::time::Duration::from_secs(4));
    let status = a.cabot_at(now + 200, &["status"]);
    assert!(
        status
            .stdout
            .contains("peer: b (standby), not fresh: last run 3m"),
        "{status:?}"
    );
    assert!(
        status.stdout.contains("  not reached since ") && status.stdout.contains("refused"),
        "{status:?}"
    );
}

#[test]
fn a_forged_replayed_or_stale_request_for_the_peer_state_is_refused() {
    let target = Target::new();
    let (a, _b, server_a, _server_b) = pair(&target.url());
    assert_eq!(a.cabot_at(NOW, &["run"]).code, 0);
    let key = cabot::peer::PeerKey::new(KEY.trim().as_bytes());
    let now = cabot::clock::now();
    // Signed right: the document.
    let request = signed(&key, "b", now);
    let ok = server_a.request(&request);
    assert_eq!(ok.status, 200, "{ok:?}");
    let doc: serde_json::Value = serde_json::from_str(&ok.body).unwrap();
    assert_eq!(doc["node"], "a");
    assert_eq!(doc["role"], "primary");
    // The same request again: a replay.
    server_a.request(&request).says(401, "answered already");
    // Stale, or from the future: told by how much.
    server_a
        .request(&signed(&key, "b", now - 45))
        .says(401, "signed 45 s behind this node's clock");
    server_a
        .request(&signed(&key, "b", now + 60))
        .says(401, "60 s ahead of this node's clock");
    // Another key, or none: nothing, and held back after ten.
    let other = cabot::peer::PeerKey::new(&[9u8; 32]);
    assert_eq!(server_a.request(&signed(&other, "b", now)).status, 404);
    assert_eq!(server_a.get("/peer/state").status, 404);
    let codes: Vec<u16> = (0..10)
        .map(|i| server_a.request(&signed(&other, "b", now + i)).status)
        .collect();
    assert_eq!(codes[..8], [404; 8]);
    assert_eq!(codes[9], 429);
    // Without `peer:` there is no such page.
    let plain = Env::new(&format!(
        "services:\n  - name: web\n    checks:\n      - {{ name: home, type: http, url: '{}' }}\n",
        target.url()
    ));
    let server = StatusServer::start(&plain, None);
    assert_eq!(server.request(&signed(&key, "b", now)).status, 404);
}

#[test]
fn validate_refuses_a_pair_that_cannot_work() {
    let target = Target::new();
    let env = Env::new(&format!(
        "peer:
  url: 'ftp://b.example'
  secret_file: peer.key
  role: leader
  takeover_after: 5s
services:
  - name: web
    confirm: always
    checks:
      - {{ name: home, type: http, url: '{}' }}
",
        target.url()
    ));
    std::fs::write(env.path("peer.key"), "short\n").unwrap();
    let r = env.cabot(&["validate"]);
    assert_eq!(r.code, 78, "{r:?}");
    for said in [
        ":3:8: peer.url: 'ftp://b.example' is not a valid URL",
        ":5:9: peer.role: 'leader' is not primary or standby",
        ":6:19: peer.takeover_after: '5s' is out of range: 30s to 1h",
        ":4:16: peer.secret_file: ",
        "holds 5 bytes: the pair's key needs at least 32",
        ":9:14: services[web].confirm: 'always' is not 'peer'",
    ] {
        assert!(r.stderr.contains(said), "{said}: {r:?}");
    }
    assert!(!r.stderr.contains("short"), "the key is not shown: {r:?}");
}

/// A pair whose service `web` alerts through one webhook, both nodes serving their state.
struct Alerting {
    target: Target,
    hook: HttpServer,
    a: Env,
    b: Env,
    server_a: StatusServer,
    server_b: StatusServer,
}

fn alerting_pair() -> Alerting {
    let target = Target::new();
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let channels = hook_channel(&hook);
    let (port_a, port_b) = (free_port(), free_port());
    let a = node_with("a", "primary", port_b, &target.url(), &channels);
    let b = node_with("b", "standby", port_a, &target.url(), &channels);
    let server_a = StatusServer::start_on(&a, port_a, None);
    let server_b = StatusServer::start_on(&b, port_b, None);
    Alerting {
        target,
        hook,
        a,
        b,
        server_a,
        server_b,
    }
}

/// Deliveries the webhook got: (incident, kind, text).
fn hooked(hook: &HttpServer) -> Vec<(String, String, String)> {
    hook.requests()
        .iter()
        .filter_map(|r| serde_json::from_str::<serde_json::Value>(&r.body).ok())
        .map(|b| {
            let s = |k: &str| b[k].as_str().unwrap_or("").to_string();
            (s("incident"), s("kind"), s("text"))
        })
        .collect()
}

#[test]
fn the_standby_holds_what_the_primary_delivers_and_delivers_when_it_stops() {
    let Alerting {
        target,
        hook,
        a,
        b,
        server_a,
        server_b: _server_b,
    } = alerting_pair();
    let now = cabot::clock::now();
    assert_eq!(a.cabot_at(now, &["run"]).code, 0);
    assert_eq!(b.cabot_at(now + 1, &["run"]).code, 0);

    // Both see web fail; the primary alerts, the standby decides the same alert and holds it.
    target.set_up(false);
    assert_eq!(a.cabot_at(now + 5, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 8, &["run", "--all"]).code, 0);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 1, "{seen:#?}");
    let incident = format!("cabot/web/{}", now + 5);
    assert_eq!(
        (seen[0].0.as_str(), seen[0].1.as_str()),
        (incident.as_str(), "alert")
    );
    assert!(!seen[0].2.contains("sent by"), "{seen:#?}");
    // b's alert has a's incident key, and is not owed: a delivered it.
    assert_eq!(
        b.count(&format!(
            "SELECT count(*) FROM alerts WHERE incident = '{incident}'"
        )),
        1
    );
    assert_eq!(
        b.count("SELECT count(*) FROM deliveries WHERE state = 'superseded'"),
        1
    );

    // a stops: no runs, no serve-status. Past takeover_after, b delivers, saying so, and
    // nothing a delivered goes twice.
    drop(server_a);
    assert_eq!(b.cabot_at(now + 200, &["run", "--all"]).code, 0);
    // Nothing a delivered goes again; b says once that a is down.
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(seen[1].0, format!("cabot/peer a/{}", now + 5));
    assert!(
        seen[1].2.starts_with(&format!(
            "WARNING: peer a — runs: the other cabot of the pair, a, has not run since {}",
            cabot::clock::rfc3339(now + 5)
        )),
        "{seen:#?}"
    );
    assert_eq!(b.cabot_at(now + 230, &["run", "--all"]).code, 0);
    assert_eq!(hooked(&hook).len(), 2, "once");
    let status = b.cabot_at(now + 200, &["status"]);
    assert!(
        status
            .stdout
            .contains("peer: a (primary), not fresh: last run 3m"),
        "{status:?}"
    );
    // The repeat, ten minutes after b's own alert, comes from b with a's key.
    assert_eq!(b.cabot_at(now + 620, &["run", "--all"]).code, 0);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 3, "{seen:#?}");
    assert_eq!(
        (seen[2].0.as_str(), seen[2].1.as_str()),
        (incident.as_str(), "repeat")
    );
    assert!(
        seen[2].2.contains(&format!(
            "(sent by b; a is not running since {})",
            cabot::clock::rfc3339(now + 5)
        )),
        "{seen:#?}"
    );
}

#[test]
fn a_primary_back_from_a_takeover_pages_nothing_twice() {
    let Alerting {
        target,
        hook,
        a,
        b,
        server_a: _server_a,
        server_b: _server_b,
    } = alerting_pair();
    let now = cabot::clock::now();
    target.set_up(false);
    // a has not run: b is on its own, and says so.
    assert_eq!(b.cabot_at(now, &["run"]).code, 0);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert!(
        seen[0].2.ends_with("(sent by b; a is not running)"),
        "{seen:#?}"
    );
    let incident = format!("cabot/web/{now}");
    assert_eq!(seen[0].0, incident);
    // a comes back: it reads b's log before it delivers, and sends nothing b sent.
    assert_eq!(a.cabot_at(now + 10, &["run"]).code, 0);
    assert_eq!(hooked(&hook).len(), 1, "{:#?}", hooked(&hook));
    assert_eq!(
        a.count(&format!(
            "SELECT count(*) FROM alerts WHERE incident = '{incident}'"
        )),
        1,
        "a's alert has b's incident key"
    );
    // b sees a fresh and holds; the recovery is a's, once.
    assert_eq!(b.cabot_at(now + 15, &["run", "--all"]).code, 0);
    target.set_up(true);
    assert_eq!(a.cabot_at(now + 20, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 25, &["run", "--all"]).code, 0);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 2, "{seen:#?}");
    assert_eq!(
        (seen[1].0.as_str(), seen[1].1.as_str()),
        (incident.as_str(), "recovery")
    );
    assert!(!seen[1].2.contains("sent by"), "{seen:#?}");
    assert_eq!(
        b.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        0,
        "b owes nothing"
    );
}

#[test]
fn an_ack_or_a_silence_made_on_one_node_holds_on_both() {
    let Alerting {
        target,
        hook,
        a,
        b,
        server_a: _server_a,
        server_b: _server_b,
    } = alerting_pair();
    let now = cabot::clock::now();
    target.set_up(false);
    assert_eq!(a.cabot_at(now, &["run"]).code, 0);
    assert_eq!(b.cabot_at(now + 2, &["run"]).code, 0);
    assert_eq!(hooked(&hook).len(), 1);
    // Acknowledged on b: a's next run takes it (and the ack holds a's repeats, as any).
    let acked = b.cabot_at(now + 4, &["ack", "web", "--by", "bob"]);
    assert_eq!(acked.code, 0, "{acked:?}");
    assert_eq!(a.cabot_at(now + 6, &["run"]).code, 0);
    let status = a.cabot_at(now + 6, &["status"]);
    assert!(
        status.stdout.contains("acknowledged by bob until"),
        "{status:?}"
    );
    // Unacknowledged on a: the end reaches b too.
    let unacked = a.cabot_at(now + 8, &["unack", "web"]);
    assert_eq!(unacked.code, 0, "{unacked:?}");
    assert_eq!(b.cabot_at(now + 10, &["run"]).code, 0);
    let status = b.cabot_at(now + 10, &["status"]);
    assert!(!status.stdout.contains("acknowledged"), "{status:?}");
    // A silence made on a holds on b.
    let silenced = a.cabot_at(now + 12, &["silence", "web", "--for", "1h"]);
    assert_eq!(silenced.code, 0, "{silenced:?}");
    assert_eq!(b.cabot_at(now + 14, &["run"]).code, 0);
    let status = b.cabot_at(now + 14, &["status"]);
    assert!(status.stdout.contains("silenced until"), "{status:?}");
}

/// The pair with a witness at `witness`: (a, b, a's server, b's server).
fn pair_with_witness(
    target: &str,
    channels: &str,
    witness: &str,
) -> (Env, Env, StatusServer, StatusServer) {
    let (port_a, port_b) = (free_port(), free_port());
    let with = |name: &str, role: &str, peer: u16| node_with(name, role, peer, target, channels);
    let (a, b) = (with("a", "primary", port_b), with("b", "standby", port_a));
    for env in [&a, &b] {
        let config = std::fs::read_to_string(env.path("checks.yaml")).unwrap();
        let config = config.replace(
            "  takeover_after: 2m\n",
            &format!("  takeover_after: 2m\n  witness: '{witness}'\n"),
        );
        std::fs::write(env.path("checks.yaml"), config).unwrap();
    }
    let server_a = StatusServer::start_on(&a, port_a, None);
    let server_b = StatusServer::start_on(&b, port_b, None);
    (a, b, server_a, server_b)
}

#[test]
fn with_a_witness_a_cut_link_pages_once_and_a_cut_off_primary_fences_itself() {
    let target = Target::new();
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let channels = hook_channel(&hook);
    // The witness sees the primary running.
    let witness = HttpServer::start(|_| Reply::new(200, "Checks running"));
    let (a, b, server_a, server_b) =
        pair_with_witness(&target.url(), &channels, &witness.url("/status/"));
    let now = cabot::clock::now();
    assert_eq!(a.cabot_at(now, &["run"]).code, 0);
    assert_eq!(b.cabot_at(now + 1, &["run"]).code, 0);
    target.set_up(false);
    assert_eq!(a.cabot_at(now + 5, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 8, &["run", "--all"]).code, 0);
    assert_eq!(hooked(&hook).len(), 1);
    // The link is cut; both run on. The witness still sees a: b holds, a's repeat is the
    // only one.
    drop(server_a);
    drop(server_b);
    assert_eq!(a.cabot_at(now + 610, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 620, &["run", "--all"]).code, 0);
    // (Each says once that it cannot see the other run: a cut link looks like that.)
    let web: Vec<String> = hooked(&hook)
        .into_iter()
        .filter(|h| h.0.starts_with("cabot/web/"))
        .map(|h| h.1)
        .collect();
    assert_eq!(web, ["alert", "repeat"], "{:#?}", hooked(&hook));
    let status = b.cabot_at(now + 620, &["status"]);
    assert!(
        status
            .stdout
            .contains("  witness: saw the primary running, 0s ago"),
        "{status:?}"
    );

    // Without a witness to reach, a primary cut off from both fences itself and the
    // standby delivers: still one page.
    let gone = free_port();
    let (a, b, server_a, server_b) = pair_with_witness(
        &target.url(),
        &channels,
        &format!("http://127.0.0.1:{gone}/status/"),
    );
    let before = hooked(&hook).len();
    target.set_up(true);
    assert_eq!(a.cabot_at(now, &["run"]).code, 0);
    assert_eq!(b.cabot_at(now + 1, &["run"]).code, 0);
    assert_eq!(a.cabot_at(now + 2, &["run"]).code, 0);
    drop(server_a);
    drop(server_b);
    target.set_up(false);
    assert_eq!(a.cabot_at(now + 200, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 201, &["run", "--all"]).code, 0);
    let seen: Vec<_> = hooked(&hook)[before..]
        .iter()
        .filter(|h| h.0.starts_with("cabot/web/"))
        .cloned()
        .collect();
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert!(
        seen[0].2.contains("(sent by b; a is not running since"),
        "{seen:#?}"
    );
    let status = a.cabot_at(now + 200, &["status"]);
    assert!(status.stdout.contains("(fenced)"), "{status:?}");
}

#[test]
fn confirm_peer_pages_only_a_failure_both_nodes_see() {
    let (seen_by_a, seen_by_b) = (Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let channels = hook_channel(&hook);
    let (port_a, port_b) = (free_port(), free_port());
    let a = node_with("a", "primary", port_b, &seen_by_a.url(), &channels);
    let b = node_with("b", "standby", port_a, &seen_by_b.url(), &channels);
    for env in [&a, &b] {
        let config = std::fs::read_to_string(env.path("checks.yaml")).unwrap();
        let config = config.replace(
            "    channels: [hook]\n",
            "    channels: [hook]\n    confirm: peer\n",
        );
        assert!(config.contains("confirm: peer"), "{config}");
        std::fs::write(env.path("checks.yaml"), config).unwrap();
    }
    let _server_a = StatusServer::start_on(&a, port_a, None);
    let _server_b = StatusServer::start_on(&b, port_b, None);
    assert_eq!(a.cabot(&["validate"]).code, 0);
    let now = cabot::clock::now();
    for t in [now, now + 2] {
        assert_eq!(a.cabot_at(t, &["run", "--all"]).code, 0);
        assert_eq!(b.cabot_at(t + 1, &["run", "--all"]).code, 0);
    }
    // Only a sees it fail: b, fresh, sees it pass. No page.
    seen_by_a.set_up(false);
    assert_eq!(a.cabot_at(now + 5, &["run", "--all"]).code, 0);
    assert_eq!(hooked(&hook).len(), 0, "{:#?}", hooked(&hook));
    let status = a.cabot_at(now + 5, &["status"]);
    assert!(status.stdout.contains("web     ERROR"), "{status:?}");
    // Now b sees it too: the next run of a pages, once.
    seen_by_b.set_up(false);
    assert_eq!(b.cabot_at(now + 6, &["run", "--all"]).code, 0);
    assert_eq!(a.cabot_at(now + 8, &["run", "--all"]).code, 0);
    assert_eq!(b.cabot_at(now + 9, &["run", "--all"]).code, 0);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert_eq!(seen[0].1, "alert");
}

/// A pair whose links go through proxies a test can slow, black-hole or cut: a's way to
/// b, b's way to a, and a's way to the webhook. Each node sees its own target, and each
/// serve-status is started again at the time the test moves to (a request is signed with
/// the time of the run that sends it, and refused more than 30 s off the server's clock).
struct Linked {
    seen_by_a: Target,
    seen_by_b: Target,
    hook: HttpServer,
    a: Env,
    b: Env,
    to_a: Proxy,
    to_b: Proxy,
    a_hook: Proxy,
    served: Vec<StatusServer>,
}

fn linked() -> Linked {
    let (seen_by_a, seen_by_b) = (Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let (to_a, to_b, a_hook) = (Proxy::start(), Proxy::start(), Proxy::start());
    a_hook.to(hook.addr.port());
    let through = format!(
        "channels:\n  hook: {{ type: webhook, url: '{}', timeout: 5s }}\n",
        a_hook.url("/hook")
    );
    let a = node_with("a", "primary", to_b.port, &seen_by_a.url(), &through);
    let b = node_with(
        "b",
        "standby",
        to_a.port,
        &seen_by_b.url(),
        &hook_channel(&hook),
    );
    Linked {
        seen_by_a,
        seen_by_b,
        hook,
        a,
        b,
        to_a,
        to_b,
        a_hook,
        served: Vec::new(),
    }
}

impl Linked {
    /// Each node's serve-status started again with its clock at `now`; a's only while
    /// `a_serves`.
    fn serve(&mut self, now: i64, a_serves: bool) {
        self.served.clear();
        let port = free_port();
        self.served
            .push(StatusServer::start_on(&self.b, port, Some(now)));
        self.to_b.to(port);
        if a_serves {
            let port = free_port();
            self.served
                .push(StatusServer::start_on(&self.a, port, Some(now)));
            self.to_a.to(port);
        }
    }

    /// At `now`: both serve, a runs, and b runs a second later.
    fn step(&mut self, now: i64) {
        self.serve(now, true);
        run(&self.a, now);
        run(&self.b, now + 1);
    }

    /// The webhook's deliveries of the service's alerts (not the pair's own): (incident,
    /// kind, text).
    fn web(&self) -> Vec<(String, String, String)> {
        hooked(&self.hook)
            .into_iter()
            .filter(|h| h.0.starts_with("cabot/web/"))
            .collect()
    }
}

fn run(env: &Env, now: i64) {
    let r = env.cabot_at(now, &["run", "--all"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn after_a_takeover_repeats_are_counted_from_the_primarys_last_delivery() {
    let mut p = linked();
    let t = NOW;
    p.step(t);
    p.step(t + 60);
    // a sees web fail first and alerts; b sees it a run later, adopts a's incident and
    // holds its alert (a delivered it).
    p.seen_by_a.set_up(false);
    p.step(t + 120);
    p.seen_by_b.set_up(false);
    for k in 3..=10 {
        p.step(t + 60 * k);
    }
    let incident = format!("cabot/web/{}", t + 120);
    let kinds = |p: &Linked| -> Vec<String> { p.web().into_iter().map(|h| h.1).collect() };
    assert_eq!(kinds(&p), ["alert"], "{:#?}", p.web());
    // a's repeat, ten minutes after its alert; b, holding, counts from it.
    p.step(t + 720);
    assert_eq!(kinds(&p), ["alert", "repeat"], "{:#?}", p.web());
    // a stops (no runs, no serve-status). b takes over after takeover_after, owing
    // nothing, and says once that a is down.
    for at in [t + 781, t + 841, t + 901] {
        p.served.clear();
        run(&p.b, at);
    }
    assert_eq!(kinds(&p), ["alert", "repeat"], "{:#?}", p.web());
    let down: Vec<_> = hooked(&p.hook)
        .into_iter()
        .filter(|h| h.0.starts_with("cabot/peer a/"))
        .collect();
    assert_eq!(down.len(), 1, "{down:#?}");
    // The next repeat is due ten minutes after a's (t + 1320), not after b's own alert
    // (t + 181) or any later time of b's.
    run(&p.b, t + 1310);
    assert_eq!(kinds(&p), ["alert", "repeat"], "{:#?}", p.web());
    run(&p.b, t + 1325);
    let web = p.web();
    assert_eq!(kinds(&p), ["alert", "repeat", "repeat"], "{web:#?}");
    assert_eq!(web[2].0, incident);
    assert!(
        web[2].2.contains(&format!(
            "(sent by b; a is not running since {})",
            cabot::clock::rfc3339(t + 720)
        )),
        "{web:#?}"
    );
}

#[test]
fn a_primary_killed_between_deciding_and_delivering_is_paged_for_once_by_the_standby() {
    let mut p = linked();
    let t = NOW;
    p.step(t);
    p.step(t + 60);
    p.seen_by_a.set_up(false);
    p.seen_by_b.set_up(false);
    // a decides its alert, and is killed while the webhook has not yet heard it.
    p.a_hook.set(Link::BlackHole);
    p.serve(t + 120, true);
    let mut child =
        p.a.command(&["run", "--all"])
            .env("CABOT_NOW", (t + 120).to_string())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
    let started = std::time::Instant::now();
    while p.a_hook.accepted() == 0 {
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "a never tried to deliver"
        );
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    assert_eq!(
        p.a.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        1,
        "a owes its alert"
    );
    // b decides the same alert and holds it: a was fresh a moment ago.
    run(&p.b, t + 121);
    assert_eq!(p.web().len(), 0);
    // a's machine is gone. Its last run (t + 60) is within takeover_after at b's next
    // run, so b holds on; the run after, b delivers: within takeover_after and one run of
    // the kill.
    p.serve(t + 181, false);
    run(&p.b, t + 181);
    assert_eq!(p.web().len(), 0);
    run(&p.b, t + 241);
    let web = p.web();
    assert_eq!(web.len(), 1, "{web:#?}");
    assert_eq!(web[0].0, format!("cabot/web/{}", t + 120));
    assert!(
        web[0].2.ends_with(&format!(
            "(sent by b; a is not running since {})",
            cabot::clock::rfc3339(t + 60)
        )),
        "{web:#?}"
    );
    // a comes back: it reads b's log before it delivers, and pages nothing twice; b says
    // once that a is back.
    p.a_hook.set(Link::Open);
    p.serve(t + 300, true);
    run(&p.a, t + 300);
    run(&p.b, t + 301);
    p.step(t + 360);
    assert_eq!(p.web().len(), 1, "{:#?}", p.web());
    assert_eq!(
        p.a.count("SELECT count(*) FROM deliveries WHERE state = 'pending'"),
        0
    );
    let peer: Vec<String> = hooked(&p.hook)
        .into_iter()
        .filter(|h| h.0.starts_with("cabot/peer a/"))
        .map(|h| h.1)
        .collect();
    assert_eq!(peer, ["alert", "recovery"]);
}

#[test]
fn a_primary_whose_channel_fails_is_covered_by_the_standby_over_a_slow_link() {
    let mut p = linked();
    // Each pull waits a second on the way: still well within its timeout.
    p.to_a.set(Link::Delay(std::time::Duration::from_secs(1)));
    p.to_b.set(Link::Delay(std::time::Duration::from_secs(1)));
    let t = NOW;
    p.step(t);
    p.step(t + 60);
    p.seen_by_a.set_up(false);
    p.seen_by_b.set_up(false);
    // a runs on, but its channel is down: its alert stays pending past its first retry.
    p.a_hook.set(Link::Cut);
    p.step(t + 120);
    assert_eq!(p.web().len(), 0);
    // Its first retry, a minute later, fails too: b delivers.
    p.step(t + 180);
    let web = p.web();
    assert_eq!(web.len(), 1, "{web:#?}");
    // (a's run decided a second late: its pull waited on the slow link first.)
    let (incident, decided): (String, i64) =
        p.a.db()
            .query_row("SELECT incident, created_at FROM alerts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
    assert_eq!(web[0].0, incident);
    assert!(
        web[0].2.ends_with(&format!(
            "(sent by b; a has not delivered an alert of {})",
            cabot::clock::rfc3339(decided)
        )),
        "{web:#?}"
    );
    // a's channel is back: it sends nothing b sent.
    p.a_hook.set(Link::Open);
    p.step(t + 300);
    p.step(t + 360);
    assert_eq!(p.web().len(), 1, "{:#?}", p.web());
}

#[test]
fn a_partition_without_a_witness_pages_from_both_under_one_key_with_the_marker() {
    let mut p = linked();
    let t = NOW;
    p.step(t);
    p.step(t + 60);
    p.seen_by_a.set_up(false);
    p.seen_by_b.set_up(false);
    p.step(t + 120);
    assert_eq!(p.web().len(), 1);
    // The link loses everything: each pull waits out its timeout, and each node goes on
    // alone. The repeat comes from both, under a's key; b's says who sent it.
    p.to_a.set(Link::BlackHole);
    p.to_b.set(Link::BlackHole);
    let started = std::time::Instant::now();
    run(&p.a, t + 720);
    assert!(started.elapsed() < std::time::Duration::from_secs(8));
    run(&p.b, t + 721);
    let web = p.web();
    let kinds: Vec<&str> = web.iter().map(|h| h.1.as_str()).collect();
    assert_eq!(kinds, ["alert", "repeat", "repeat"], "{web:#?}");
    let incident = format!("cabot/web/{}", t + 120);
    assert!(web.iter().all(|h| h.0 == incident), "{web:#?}");
    assert!(!web[1].2.contains("sent by"), "{web:#?}");
    assert!(
        web[2].2.contains("(sent by b; a is not running since"),
        "{web:#?}"
    );
    let status = p.a.cabot_at(t + 720, &["status"]);
    assert!(status.stdout.contains("  not reached since "), "{status:?}");
}

#[test]
fn confirm_peer_on_a_check_holds_only_that_checks_lone_failure_and_history_says_so() {
    let (home_a, home_b, api) = (Target::new(), Target::new(), Target::new());
    let hook = HttpServer::start(|_| Reply::new(200, "ok"));
    let (port_a, port_b) = (free_port(), free_port());
    let node = |name: &str, role: &str, peer: u16, home: &Target| {
        let env = Env::new(&format!(
            "peer:
  name: {name}
  url: 'http://127.0.0.1:{peer}'
  secret_file: peer.key
  role: {role}
  takeover_after: 2m
{}services:
  - name: web
    channels: [hook]
    checks:
      - {{ name: home, type: http, url: '{}', confirm: peer }}
      - {{ name: api, type: http, url: '{}' }}
",
            hook_channel(&hook),
            home.url(),
            api.url()
        ));
        std::fs::write(env.path("peer.key"), KEY).unwrap();
        env
    };
    let a = node("a", "primary", port_b, &home_a);
    let b = node("b", "standby", port_a, &home_b);
    assert_eq!(a.cabot(&["validate"]).code, 0);
    let _server_a = StatusServer::start_on(&a, port_a, None);
    let _server_b = StatusServer::start_on(&b, port_b, None);
    let now = cabot::clock::now();
    for t in [now, now + 2] {
        run(&a, t);
        run(&b, t + 1);
    }
    // Only a sees home fail; b, fresh, sees it pass: no page, and a's history says why.
    home_a.set_up(false);
    run(&a, now + 5);
    run(&b, now + 6);
    run(&a, now + 8);
    assert_eq!(hooked(&hook).len(), 0, "{:#?}", hooked(&hook));
    let history = a.cabot_at(now + 8, &["history", "web"]);
    assert!(
        history
            .stdout
            .contains("(unconfirmed: the peer saw it pass; no alert sent)"),
        "{history:?}"
    );
    // api, which needs no confirmation, fails too (seen by both): that pages at once.
    api.set_up(false);
    run(&a, now + 10);
    let seen = hooked(&hook);
    assert_eq!(seen.len(), 1, "{seen:#?}");
    assert!(seen[0].2.contains("api: HTTP 500"), "{seen:#?}");
    let history = a.cabot_at(now + 10, &["history", "web"]);
    assert!(history.stdout.contains("(alerts sent)"), "{history:?}");
    assert!(!history.stdout.contains("unconfirmed"), "{history:?}");
}
