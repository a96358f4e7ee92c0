//! `GET /`: a small HTML status page of the public services, readable on a phone, with no
//! JavaScript: each service's status, since when, and a 24-hour strip.

use std::fmt::Write as _;

use super::View;
use super::wire::Response;
use crate::clock::{format_age, format_time};
use crate::core::Status;
use crate::core::running::{NOT_RUNNING, words};
use crate::text::xml_escape;

const DAY: i64 = 86_400;
const STRIP_WIDTH: i64 = 288;
/// The least width of the current stretch, so that a status a minute old still shows.
const NOW_WIDTH: i64 = 4;

fn color(status: Status) -> &'static str {
    match status {
        Status::Passing => "#2e9d4f",
        Status::Warning => "#d9a400",
        Status::Error => "#e0542b",
        Status::Critical => "#b3122e",
    }
}

/// A 24-hour strip of a service's status as inline SVG: one rectangle per stretch.
fn strip(changes: &[(i64, Status)], now: i64) -> String {
    let from = now - DAY;
    let x = |t: i64| (t.clamp(from, now) - from) * STRIP_WIDTH / DAY;
    let mut svg = format!(
        "<svg class=\"strip\" viewBox=\"0 0 {STRIP_WIDTH} 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"last 24 hours\">\
         <rect width=\"{STRIP_WIDTH}\" height=\"12\" fill=\"#d0d4d9\"/>"
    );
    for (i, &(at, status)) in changes.iter().enumerate() {
        let last = i + 1 == changes.len();
        let end = changes.get(i + 1).map_or(now, |n| n.0);
        let (mut x0, x1) = (x(at), x(end));
        // The status now is drawn at least a few units wide, however new it is.
        if last {
            x0 = x0.min(STRIP_WIDTH - NOW_WIDTH);
        }
        if x1 > x0 || (end > from && at < now && x1 == x0 && end > at) {
            let w = (x1 - x0).max(1);
            let _ = write!(
                svg,
                "<rect x=\"{x0}\" width=\"{w}\" height=\"12\" fill=\"{}\"><title>{} from {}</title></rect>",
                color(status),
                status.as_str(),
                format_time(at.max(from))
            );
        }
    }
    svg.push_str("</svg>");
    svg
}

/// `2026-11-24 10:02 UTC`: a time for people, on the page.
fn page_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// `GET /`: a small HTML page of the public services, no JavaScript.
pub fn answer(view: &mut View) -> Response {
    Response::new(200, "text/html; charset=utf-8", page(view))
}

fn page(view: &mut View) -> String {
    let (running, last_run, now) = (view.running, view.last_run, view.now);
    let services = view.public_services();
    let worst = services
        .iter()
        .map(|s| s.1)
        .max()
        .unwrap_or(Status::Passing);
    let headline = match (running, worst) {
        (false, _) => "Status unknown: the monitor's checks are not running",
        (true, Status::Passing) => "All services operational",
        (true, Status::Warning) => "Some services are degraded",
        (true, _) => "Some services are failing",
    };
    let run_line = match last_run {
        Some(r) => format!(
            "{} · last run {} ago",
            words(running),
            format_age(now.saturating_sub(r.finished_at))
        ),
        None => format!("{NOT_RUNNING} · no run has completed yet"),
    };
    let mut html = String::with_capacity(4096);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"60\"><title>Status</title><style>\
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2329}}\
header,main,footer{{max-width:46rem;margin:0 auto;padding:1rem}}\
h1{{font-size:1.4rem;margin:.5rem 0}}\
.overall{{padding:.8rem 1rem;border-radius:.4rem;color:#fff;font-weight:600;background:{}}}\
.service{{background:#fff;border-radius:.4rem;padding:.8rem 1rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}}\
.service h2{{font-size:1.05rem;margin:0;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}}\
.badge{{font-size:.8rem;padding:.15rem .5rem;border-radius:1rem;color:#fff}}\
.since{{font-size:.85rem;color:#56606b;margin:.3rem 0}}\
.strip{{width:100%;height:12px;display:block;border-radius:2px}}\
.axis{{display:flex;justify-content:space-between;font-size:.7rem;color:#8a939c}}\
footer{{font-size:.8rem;color:#56606b}}\
</style></head><body><header><h1>Service status</h1><p class=\"overall\">{headline}</p><p>{run_line}</p></header><main>",
        if running { color(worst) } else { "#6b7480" },
    );
    if services.is_empty() {
        html.push_str(
            "<p>No public services. Mark a service <code>public: true</code> to list it here.</p>",
        );
    }
    for (name, status, since) in &services {
        let changes = view.read(|s| s.service_changes(name, now - DAY));
        let _ = write!(
            html,
            "<section class=\"service\" id=\"service-{id}\"><h2><span class=\"name\">{name}</span>\
<span class=\"badge status\" style=\"background:{c}\">{st}</span></h2>\
<p class=\"since\">{st} since {since_time} ({age})</p>{strip}\
<div class=\"axis\"><span>24 hours ago</span><span>now</span></div></section>",
            id = xml_escape(name),
            name = xml_escape(name),
            c = color(*status),
            st = status.as_str(),
            since_time = page_time(*since),
            age = format_age(now.saturating_sub(*since)),
            strip = strip(&changes, now),
        );
    }
    let _ = writeln!(
        html,
        "</main><footer>Updated {} · this page refreshes every minute</footer></body></html>",
        page_time(now)
    );
    html
}
