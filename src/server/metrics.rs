//! `GET /metrics`: Prometheus text, only when `status.metrics: true`.

use std::fmt::Write as _;

use super::View;
use super::wire::Response;

/// A Prometheus label value: backslash, quote and newline escaped.
fn label(s: &str) -> String {
    s.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// `GET /metrics`, when `status.metrics` is on.
pub fn answer(view: &mut View) -> Response {
    Response::new(
        200,
        "text/plain; version=0.0.4; charset=utf-8",
        metrics(view),
    )
}

fn metrics(view: &mut View) -> String {
    let (running, last_run, now) = (view.running, view.last_run, view.now);
    let peer = view.peer();
    let checks = view.read(|s| s.checks());
    let services = view.read(|s| s.services());
    let mut out = String::new();
    let mut rows: Vec<_> = checks
        .iter()
        .filter(|c| c.active && c.last.is_some())
        .collect();
    rows.sort_unstable_by(|a, b| (&a.service, &a.name).cmp(&(&b.service, &b.name)));
    let mut family =
        |name: &str, help: &str, values: &mut dyn Iterator<Item = (String, String)>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} gauge");
            for (labels, value) in values {
                let _ = writeln!(out, "{name}{{{labels}}} {value}");
            }
        };
    let check_labels = |c: &crate::store::CheckRow| {
        format!(
            "service=\"{}\",check=\"{}\"",
            label(&c.service),
            label(&c.name)
        )
    };
    family(
        "cabot_check_up",
        "1 when the check's last result passed, 0 when it failed.",
        &mut rows.iter().map(|c| {
            (
                check_labels(c),
                u8::from(c.last.as_ref().is_some_and(|l| l.ok)).to_string(),
            )
        }),
    );
    family(
        "cabot_check_duration_seconds",
        "How long the check's last run took.",
        &mut rows.iter().map(|c| {
            let ms = c.last.as_ref().map_or(0, |l| l.duration_ms);
            (check_labels(c), format!("{:.3}", ms as f64 / 1000.0))
        }),
    );
    family(
        "cabot_check_consecutive_failures",
        "Failed results in a row, newest first.",
        &mut rows
            .iter()
            .map(|c| (check_labels(c), c.consecutive_failures.to_string())),
    );
    // A Nagios plugin's perfdata, one sample per label.
    let perf: Vec<(String, String)> = rows
        .iter()
        .flat_map(|c| {
            let items = c.last.as_ref().and_then(|l| l.perfdata.as_ref());
            items.into_iter().flat_map(|p| &p.0).map(move |item| {
                (
                    format!(
                        "{},label=\"{}\",uom=\"{}\"",
                        check_labels(c),
                        label(&item.label),
                        label(&item.uom)
                    ),
                    item.value.to_string(),
                )
            })
        })
        .collect();
    if !perf.is_empty() {
        family(
            "cabot_check_perfdata",
            "Performance data reported by a command check (a Nagios plugin).",
            &mut perf.into_iter(),
        );
    }
    let svc: Vec<_> = services.iter().filter(|s| s.active).collect();
    family(
        "cabot_service_status",
        "0 PASSING, 1 WARNING, 2 ERROR, 3 CRITICAL.",
        &mut svc.iter().map(|s| {
            (
                format!("service=\"{}\"", label(&s.name)),
                (s.status as u8).to_string(),
            )
        }),
    );
    let _ = writeln!(
        out,
        "# HELP cabot_checks_running 1 when the last run finished within stale_after.\n# TYPE cabot_checks_running gauge\ncabot_checks_running {}",
        u8::from(running)
    );
    if let Some(r) = last_run {
        let _ = writeln!(
            out,
            "# HELP cabot_last_run_age_seconds Seconds since the last completed run finished.\n# TYPE cabot_last_run_age_seconds gauge\ncabot_last_run_age_seconds {}",
            now.saturating_sub(r.finished_at).max(0)
        );
    }
    if let Some(peer) = peer {
        let _ = writeln!(
            out,
            "# HELP cabot_peer_fresh 1 when the other node of the pair finished a run within takeover_after.\n# TYPE cabot_peer_fresh gauge\ncabot_peer_fresh {}",
            u8::from(peer.fresh)
        );
        let _ = writeln!(
            out,
            "# HELP cabot_peer_reachable 1 when this node's last run reached the other node.\n# TYPE cabot_peer_reachable gauge\ncabot_peer_reachable {}",
            u8::from(peer.problem.is_none())
        );
        let _ = writeln!(
            out,
            "# HELP cabot_peer_config_differs 1 when the other node's services, checks, channels, users or alerting differ.\n# TYPE cabot_peer_config_differs gauge\ncabot_peer_config_differs {}",
            u8::from(peer.config_differs)
        );
        if let Some(age) = peer.last_run_age_seconds {
            let _ = writeln!(
                out,
                "# HELP cabot_peer_last_run_age_seconds Seconds since the other node's last run finished.\n# TYPE cabot_peer_last_run_age_seconds gauge\ncabot_peer_last_run_age_seconds {age}"
            );
        }
    }
    out
}
