//! `status.publish`: the status site written as static files after a run, sent on by a
//! command, and served by another HTTP server.

use crate::support::*;

/// `web` (public, checking `target`) with the site published into `site/` and sent on by
/// `command` (YAML).
fn env(target: &Target, command: &str) -> Env {
    one_service(
        target,
        &format!("status:\n  publish: {{ dir: site, command: {command}, timeout: 5s }}"),
    )
}

/// Another HTTP server serving the folder `dir` as a web server would.
fn static_server(dir: std::path::PathBuf) -> HttpServer {
    HttpServer::start(move |seen| {
        let name = match seen.url.trim_start_matches('/') {
            "" => "index.html".to_string(),
            other => other.to_string(),
        };
        match std::fs::read(dir.join(name)) {
            Ok(bytes) => Reply::new(200, bytes),
            Err(_) => Reply::new(404, "not found"),
        }
    })
}

fn get(server: &HttpServer, path: &str) -> (u16, String) {
    let answer = ureq::get(server.url(path))
        .config()
        .http_status_as_error(false)
        .build()
        .call()
        .expect("get");
    let status = answer.status().as_u16();
    (
        status,
        answer.into_body().read_to_string().unwrap_or_default(),
    )
}

#[test]
fn the_site_is_published_after_a_run_copied_by_the_command_and_served_elsewhere() {
    let target = Target::new();
    // The command copies the folder, as rsync to another host would, and counts its runs.
    let env = env(
        &target,
        "\"mkdir -p mirror && cp -R site/. mirror/ && echo sent >> sent.log\"",
    );
    let run = |at: i64| {
        let run = env
            .command(&["run"])
            .current_dir(env.path(""))
            .env("CABOT_NOW", at.to_string())
            .output()
            .expect("run");
        assert_eq!(run.status.code(), Some(0), "{run:?}");
        String::from_utf8_lossy(&run.stderr).into_owned()
    };
    let sent = || {
        std::fs::read_to_string(env.path("sent.log"))
            .unwrap_or_default()
            .lines()
            .count()
    };
    assert_eq!(run(T0), "");
    assert_eq!(sent(), 1);
    let mirror = static_server(env.path("mirror"));
    let (code, page) = get(&mirror, "/");
    assert_eq!(code, 200);
    assert!(page.contains("All services operational"), "{page}");
    assert!(page.contains(&format!("data-updated=\"{T0}\"")), "{page}");
    assert!(page.contains("data-stale-after=\"600\""), "{page}");
    for path in [
        "/history.html",
        "/feed.atom",
        "/badge/web.svg",
        "/badge/web.json",
    ] {
        assert_eq!(get(&mirror, path).0, 200, "{path}");
    }
    // The same document as serve-status answers at that moment.
    let published: serde_json::Value =
        serde_json::from_str(&get(&mirror, "/status.json").1).expect("json");
    let server = StatusServer::start(&env, Some(T0));
    let mut served = server.json();
    served["last_run"]["age_seconds"] = published["last_run"]["age_seconds"].clone();
    assert_eq!(published, served);
    assert!(!env.path("site").read_dir().expect("site").any(|e| {
        e.expect("entry")
            .file_name()
            .to_string_lossy()
            .ends_with(".tmp")
    }));

    // Nothing new a minute later: not sent again. Half of stale_after on: sent again.
    run(T0 + MIN);
    assert_eq!(sent(), 1);
    run(T0 + 5 * MIN);
    assert_eq!(sent(), 2);
    // News (web fails): sent at once.
    target.set_up(false);
    run(T0 + 6 * MIN);
    assert_eq!(sent(), 3);
    assert!(get(&mirror, "/").1.contains("Some services are failing"));
}

#[test]
fn a_failing_command_is_reported_and_tried_again_next_run() {
    let target = Target::new();
    let env = env(
        &target,
        "\"echo 'ssh: connect to host web port 22: No route to host' >&2; exit 3\"",
    );
    let run = env.cabot_at(T0, &["run"]);
    assert_eq!(run.code, 0, "{run:?}");
    assert_eq!(
        run.stderr,
        "cabot: status.publish: the command failed (exit 3): ssh: connect to host web port \
         22: No route to host\n"
    );
    // The files were written all the same, and the next run tries again, though nothing
    // changed.
    assert!(env.path("site/index.html").exists());
    let again = env.cabot_at(T0 + MIN, &["run"]);
    assert!(
        again.stderr.contains("the command failed (exit 3)"),
        "{again:?}"
    );
}

#[test]
fn validate_refuses_announcing_to_a_channel_that_opens_incidents_or_does_not_exist() {
    let env = Env::new(
        "status:
  announce: [pd, newz]
  publish: { dir: site, command: [/no/such/rsync, -a] }
channels:
  pd: { type: pagerduty, routing_key: 0123456789abcdef0123456789abcdef }
  news: { type: webhook, url: 'http://127.0.0.1:9/news' }
services:
  - name: web
    checks:
      - { name: home, type: tcp, host: '127.0.0.1:9' }
",
    );
    let run = env.cabot(&["validate"]);
    assert_eq!(run.code, 78, "{run:?}");
    let file = env.config().display().to_string();
    for want in [
        format!("{file}:3:13: status.announce: 'pd' opens incidents at its provider"),
        format!("{file}:3:18: status.announce: no channel named 'newz'; did you mean 'news'?"),
        format!(
            "{file}:4:35: status.publish.command: warning: '/no/such/rsync' is not an executable file here"
        ),
    ] {
        assert!(run.stderr.contains(&want), "{want}\n{}", run.stderr);
    }
}
