//! What every channel's tests do: one service alerting through one channel, driven
//! through a whole incident (alert, repeat, recovery) with the clock as a parameter, and
//! `test-alert`; the fakes of each provider are in the channel's own file.

use crate::support::*;

/// Service `web` (one critical http check of `target`, with a url and a runbook) alerting
/// through channel `push`, whose keys after `type` are `keys`; with `contacts`, user alice
/// has them (`pushover: KEY`) and is the service's.
pub(crate) fn env_with(channel: &str, keys: &str, target: &Target, contacts: &str) -> Env {
    let (users, service_users) = if contacts.is_empty() {
        (String::new(), "")
    } else {
        (
            format!("users:\n  alice: {{ {contacts} }}\n"),
            "\n    users: [alice]",
        )
    };
    Env::new(&format!(
        "{users}channels:
  push: {{ type: {channel}, {keys}, timeout: 2s }}
services:
  - name: web
    url: https://web.example.com
    runbook: https://wiki.example.com/web{service_users}
    channels: [push]
    checks:
      - {{ name: home, type: http, url: '{target}', importance: critical }}
",
        target = target.url(),
    ))
}

/// Runs cabot at `at` with `vars` in its environment.
pub(crate) fn run_at(env: &Env, at: i64, args: &[&str], vars: &[(&str, &str)]) -> Run {
    let mut cmd = env.command(args);
    cmd.env("CABOT_NOW", at.to_string());
    for (k, v) in vars {
        cmd.env(k, v);
    }
    Run::from(cmd.output().expect("run cabot"))
}

/// A whole incident: passing at T0, failing from T0+1m (the alert), still failing at
/// T0+11m (CRITICAL repeats after 10m), passing at T0+12m (the recovery). Every run
/// delivers everything it owes.
pub(crate) fn incident(env: &Env, target: &Target, vars: &[(&str, &str)]) {
    target.set_up(true);
    for (at, up) in [
        (T0, true),
        (T0 + MIN, false),
        (T0 + 11 * MIN, false),
        (T0 + 12 * MIN, true),
    ] {
        target.set_up(up);
        let r = run_at(env, at, &["run"], vars);
        assert_eq!(r.code, 0, "at T0+{}: {r:?}", at - T0);
        assert!(
            !r.stderr.contains("not delivered"),
            "at T0+{}: {r:?}",
            at - T0
        );
    }
    assert_eq!(
        env.count("SELECT count(*) FROM deliveries WHERE state = 'delivered'"),
        3,
        "the alert, the repeat and the recovery"
    );
}
