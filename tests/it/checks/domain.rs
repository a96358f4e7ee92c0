//! `domain`: a domain's expiry, read over RDAP from a fake registry on 127.0.0.1 that
//! answers with real registries' JSON (`rdap/`), or written in the config.

use std::sync::Arc;
use std::sync::atomic::{AtomicU16, Ordering};

use super::*;
use crate::support::*;

const DAY: i64 = 86_400;
/// afnic.fr's expiration in AFNIC's answer: 2029-07-18T08:26:59Z.
const AFNIC_EXPIRES: i64 = 1_879_057_619;

const AFNIC: &str = include_str!("rdap/domain_afnic_fr.json");
const RFC9083: &str = include_str!("rdap/rfc9083_domain.json");
const RIPE_ERROR: &str = include_str!("rdap/error_ripe_net.json");
/// An RFC 9083 §6 error answer, as a registry sends with a 404.
const NOT_FOUND: &str = r#"{
  "rdapConformance": ["rdap_level_0"],
  "errorCode": 404,
  "title": "Not Found",
  "description": ["The domain name was not found"]
}"#;

fn rdap(status: u16, body: &str) -> Reply {
    Reply::new(status, body.to_string()).header("Content-Type", "application/rdap+json")
}

/// AFNIC's answer without its expiration event, as registries that keep it back send.
fn without_expiration() -> String {
    let mut answer: serde_json::Value = serde_json::from_str(AFNIC).expect("afnic json");
    answer["events"]
        .as_array_mut()
        .expect("events")
        .retain(|e| e["eventAction"] != "expiration");
    answer.to_string()
}

/// A fake registry: each domain's answer by its path, and how many times each was asked.
fn registry() -> HttpServer {
    HttpServer::start(|seen| match seen.url.as_str() {
        "/rdap/domain/afnic.fr" => rdap(200, AFNIC),
        "/rdap/domain/xn--fo-5ja.example" => rdap(200, RFC9083),
        "/rdap/domain/gone.fr" => rdap(404, NOT_FOUND),
        "/rdap/domain/quiet.fr" => rdap(200, &without_expiration()),
        "/rdap/domain/busy.fr" => rdap(429, ""),
        "/rdap/domain/ripe.fr" => rdap(501, RIPE_ERROR),
        _ => Reply::new(404, ""),
    })
}

fn asked(server: &HttpServer, path: &str) -> usize {
    server.requests().iter().filter(|r| r.url == path).count()
}

/// (status, fails_at, message) of check `name`.
fn state(status: &serde_json::Value, name: &str) -> (String, Option<String>, String) {
    let c = check_json(status, "svc", name);
    (
        c["status"].as_str().unwrap_or("").to_string(),
        c["fails_at"].as_str().map(str::to_string),
        c["message"].as_str().unwrap_or("").to_string(),
    )
}

#[test]
fn a_domain_passes_then_warns_then_errs_as_its_expiry_nears_asking_once_a_day() {
    let registry = registry();
    let env = Env::new(&config(&format!(
        "      - {{ name: afnic, type: domain, domain: AFNIC.fr, rdap_url: '{}' }}\n",
        registry.url("/rdap/")
    )));
    let expiry = "2029-07-18T08:26:59Z";
    let at = |days_before: i64| AFNIC_EXPIRES - days_before * DAY;

    let status = run_all(&env, Some(at(31)));
    assert_eq!(
        state(&status, "afnic"),
        (
            "passing".into(),
            None,
            format!("afnic.fr registered until {expiry} (31 days left)")
        )
    );
    let asked_for = registry.requests();
    assert_eq!(asked_for.len(), 1);
    assert_eq!(asked_for[0].url, "/rdap/domain/afnic.fr", "one slash");
    assert!(
        asked_for[0]
            .header("accept")
            .is_some_and(|a| a.starts_with("application/rdap+json")),
        "{:?}",
        asked_for[0].headers
    );
    // Within the day the registry is not asked again: the kept answer is judged anew.
    for later in [MIN, 23 * 60 * MIN] {
        let status = run_all(&env, Some(at(31) + later));
        assert_eq!(state(&status, "afnic").0, "passing");
    }
    assert_eq!(asked(&registry, "/rdap/domain/afnic.fr"), 1);

    let status = run_all(&env, Some(at(29)));
    assert_eq!(
        state(&status, "afnic"),
        (
            "failing".into(),
            Some("warning".into()),
            format!("afnic.fr expires on {expiry}, in 29 days (within warn_before 30d)")
        )
    );
    let status = run_all(&env, Some(at(6)));
    assert_eq!(
        state(&status, "afnic"),
        (
            "failing".into(),
            Some("error".into()),
            format!("afnic.fr expires on {expiry}, in 6 days (within error_before 7d)")
        )
    );
    assert_eq!(asked(&registry, "/rdap/domain/afnic.fr"), 3);
    let status = run_all(&env, Some(AFNIC_EXPIRES + 2 * DAY + MIN));
    assert_eq!(
        state(&status, "afnic").2,
        format!("afnic.fr expired on {expiry} (2 days ago)")
    );
    assert_eq!(
        env.count("SELECT count(*) FROM check_memory WHERE key = 'rdap:domain:afnic.fr'"),
        1
    );
}

#[test]
fn a_lookup_that_fails_says_why_and_is_never_an_expiry() {
    let registry = registry();
    let url = registry.url("/rdap");
    let env = Env::new(&config(&format!(
        "      - {{ name: gone, type: domain, domain: gone.fr, rdap_url: '{url}' }}
      - {{ name: quiet, type: domain, domain: quiet.fr, rdap_url: '{url}' }}
      - {{ name: busy, type: domain, domain: busy.fr, rdap_url: '{url}' }}
      - {{ name: ripe, type: domain, domain: ripe.fr, rdap_url: '{url}' }}
      - {{ name: rfc, type: domain, domain: fóo.example, rdap_url: '{url}' }}
      - {{ name: closed, type: domain, domain: afnic.fr, rdap_url: 'http://127.0.0.1:{closed}/', timeout: 2s }}
      - {{ name: no-server, type: domain, domain: example.zz }}
",
        closed = closed_port(),
    )));
    let status = run_all(&env, Some(NOW));
    let cases = [
        (
            "gone",
            "cannot look up gone.fr's expiry: the registry has no domain gone.fr \
             (HTTP 404, \"Not Found: The domain name was not found\")",
        ),
        (
            "quiet",
            "cannot look up quiet.fr's expiry: the registry's answer has no expiration event",
        ),
        ("busy", "is limiting requests (HTTP 429)"),
        (
            "ripe",
            "answered HTTP 501, \"501 Not Implemented: Nameserver not supported\"",
        ),
        ("closed", "cannot look up afnic.fr's expiry: "),
        (
            "no-server",
            "cannot look up example.zz's expiry: IANA's RDAP bootstrap names no server \
             for .zz; set expires: on the check",
        ),
    ];
    for (name, text) in cases {
        let (got, fails_at, message) = state(&status, name);
        assert_eq!(
            (got.as_str(), fails_at.as_deref()),
            ("failing", Some("warning")),
            "{name}: {message}"
        );
        assert!(message.contains(text), "{name}: {message:?} lacks {text:?}");
        assert!(!message.contains("expired"), "{name}: {message}");
    }
    // RFC 9083's example domain, asked by its IDN's ASCII name, expired in 2016.
    assert_eq!(
        state(&status, "rfc"),
        (
            "failing".into(),
            Some("error".into()),
            "xn--fo-5ja.example expired on 2016-12-31T23:59:59Z (3287 days ago)".into()
        )
    );
    // A failed lookup is tried again after an hour, not at every run.
    run_all(&env, Some(NOW + 30 * MIN));
    assert_eq!(asked(&registry, "/rdap/domain/gone.fr"), 1);
    run_all(&env, Some(NOW + 61 * MIN));
    assert_eq!(asked(&registry, "/rdap/domain/gone.fr"), 2);
}

#[test]
fn a_registry_that_stops_answering_leaves_the_expiry_it_gave() {
    // Answers while `code` is 200; then with that status and no body.
    let code = Arc::new(AtomicU16::new(200));
    let registry = {
        let code = Arc::clone(&code);
        HttpServer::start(move |_| match code.load(Ordering::SeqCst) {
            200 => rdap(200, AFNIC),
            other => Reply::new(other, "down for maintenance"),
        })
    };
    let env = Env::new(&config(&format!(
        "      - {{ name: afnic, type: domain, domain: afnic.fr, rdap_url: '{}' }}\n",
        registry.url("/")
    )));
    let first = AFNIC_EXPIRES - 100 * DAY;
    assert_eq!(state(&run_all(&env, Some(first)), "afnic").0, "passing");
    code.store(503, Ordering::SeqCst);
    let (got, _, message) = state(&run_all(&env, Some(first + DAY + MIN)), "afnic");
    assert_eq!(got, "passing", "{message}");
    assert_eq!(
        message,
        format!(
            "afnic.fr registered until 2029-07-18T08:26:59Z (98 days left) (as the registry \
             said on {}; the last lookup failed: {}domain/afnic.fr answered HTTP 503)",
            rfc3339(first),
            registry.url("/")
        )
    );
    // The kept expiry still warns as it nears.
    let (got, fails_at, message) = state(&run_all(&env, Some(AFNIC_EXPIRES - 20 * DAY)), "afnic");
    assert_eq!(
        (got.as_str(), fails_at.as_deref()),
        ("failing", Some("warning"))
    );
    assert!(message.contains("in 20 days (within warn_before 30d) (as the registry said"));
    assert_eq!(registry.requests().len(), 3);
}

#[test]
fn an_expiry_written_in_the_config_warns_without_asking_anyone() {
    let bootstrap = HttpServer::start(|_| Reply::new(500, ""));
    let env = Env::new(&config(
        "      - { name: manual, type: domain, domain: example.zz, expires: 2027-03-01 }
      - { name: later, type: domain, domain: example.zz, expires: 2027-06-01, warn_before: 60d }
",
    ));
    let at = 1_803_081_600; // 2027-02-20T00:00:00Z
    let run = env
        .command(&["run", "--all"])
        .env("CABOT_NOW", at.to_string())
        .env("CABOT_RDAP_BOOTSTRAP_URL", bootstrap.url("/dns.json"))
        .output()
        .expect("run");
    assert_eq!(run.status.code(), Some(0), "{run:?}");
    let status = env.status_json();
    assert_eq!(
        state(&status, "manual"),
        (
            "failing".into(),
            Some("warning".into()),
            "example.zz expires on 2027-03-01T00:00:00Z, in 9 days (within warn_before 30d) \
             (expires: in the config)"
                .into()
        )
    );
    assert_eq!(
        state(&status, "later").2,
        "example.zz registered until 2027-06-01T00:00:00Z (101 days left) (expires: in the config)"
    );
    assert!(bootstrap.requests().is_empty());
}

#[test]
fn the_bootstrap_file_is_fetched_again_when_a_week_old_and_names_the_registry() {
    let registry = registry();
    let served = format!(
        r#"{{"version": "1.0", "publication": "2026-11-30T20:00:01Z",
            "description": "RDAP bootstrap file for Domain Name System registrations",
            "services": [[["ing"], ["{ing}"]],
                         [["FR", "re"], ["{fr}"]]]}}"#,
        ing = registry.url("/ing/"),
        fr = registry.url("/rdap/"),
    );
    let bootstrap = HttpServer::start(move |_| {
        Reply::new(200, served.clone()).header("Content-Type", "application/json")
    });
    let env = Env::new(&config(
        "      - { name: afnic, type: domain, domain: afnic.fr }
      - { name: thing, type: domain, domain: example.thing }
",
    ));
    let run_at = |now: i64| {
        let run = env
            .command(&["run", "--all"])
            .env("CABOT_NOW", now.to_string())
            .env("CABOT_RDAP_BOOTSTRAP_URL", bootstrap.url("/dns.json"))
            .output()
            .expect("run");
        assert_eq!(run.status.code(), Some(0), "{run:?}");
        env.status_json()
    };
    // The shipped file is older than a week at NOW + 400 days: fetched before the lookup.
    let start = NOW + 400 * DAY;
    let status = run_at(start);
    assert_eq!(state(&status, "afnic").0, "passing", "{status:#}");
    assert_eq!(bootstrap.requests().len(), 1);
    assert_eq!(asked(&registry, "/rdap/domain/afnic.fr"), 1);
    // .thing has no server: a name that merely ends in "ing" is not .ing's.
    assert!(
        state(&status, "thing")
            .2
            .contains("IANA's RDAP bootstrap names no server for .thing"),
        "{status:#}"
    );
    assert_eq!(asked(&registry, "/ing/domain/example.thing"), 0);
    // Two days on: the registry is asked again, the week-old file is not fetched again.
    run_at(start + 2 * DAY);
    assert_eq!(asked(&registry, "/rdap/domain/afnic.fr"), 2);
    assert_eq!(bootstrap.requests().len(), 1);
    // Eight days on, it is.
    run_at(start + 8 * DAY);
    assert_eq!(bootstrap.requests().len(), 2);
}

#[test]
fn validate_names_what_is_wrong_with_a_domain_check() {
    let env = Env::new(&config(
        "      - { name: none, type: domain }
      - { name: close, type: domain, domain: example.com, warn_before: 7d, error_before: 14d }
      - { name: date, type: domain, domain: example.zz, expires: 1 March 2027 }
      - { name: host, type: domain, domain: 'localhost' }
      - { name: nowhere, type: domain, domain: example.zz }
",
    ));
    let run = env.cabot(&["validate"]);
    assert_eq!(run.code, 78, "{run:?}");
    let file = env.config().display().to_string();
    // The config's lines are one on from the YAML above: `state:` comes first.
    for want in [
        format!("{file}:5:9: services[svc].checks[none].domain: missing required key"),
        format!(
            "{file}:6:90: services[svc].checks[close].error_before: error_before (14d) must be \
             shorter than warn_before (7d)"
        ),
        format!(
            "{file}:7:66: services[svc].checks[date].expires: '1 March 2027' is not a date; \
             write it as 2027-03-01"
        ),
        format!(
            "{file}:8:45: services[svc].checks[host].domain: 'localhost' is not a registered \
             domain name"
        ),
        format!(
            "{file}:9:9: services[svc].checks[nowhere].domain: warning: IANA's RDAP bootstrap \
             names no server for .zz"
        ),
    ] {
        assert!(run.stderr.contains(&want), "{want}\n{}", run.stderr);
    }
}

#[test]
fn a_domain_cannot_tell_whether_cabots_network_is_down() {
    let env = Env::new(
        "network_checks:
  - { name: registry, type: domain, domain: example.com }
services:
  - name: svc
    checks:
      - { name: afnic, type: domain, domain: afnic.fr, expires: 2029-07-18 }
",
    );
    let run = env.cabot(&["validate"]);
    assert_eq!(run.code, 78, "{run:?}");
    assert!(
        run.stderr.contains(&format!(
            "{}:3:3: network_checks[registry].type: a domain's registry is asked once a day",
            env.config().display()
        )),
        "{}",
        run.stderr
    );
}
