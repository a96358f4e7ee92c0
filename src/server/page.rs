//! `GET /`: a small HTML status page of the public services, readable on a phone, with no
//! JavaScript: each service's status, since when, and a 24-hour strip.

use std::fmt::Write as _;

use super::wire::Response;
use super::{View, uptime};
use crate::clock::format_age;
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

/// The least width of a failing stretch, so that a short incident (a 7-minute CRITICAL is
/// 1.4 units of 288) is never painted over by the passing stretches around it.
const FAILING_WIDTH: i64 = 2;
const UNKNOWN: &str = "#9aa3ad";

/// A 24-hour strip of a service's status as inline SVG: one rectangle per stretch, each
/// with its time range as a tooltip. Passing stretches are drawn first and failing ones
/// over them, worst last, each at least `FAILING_WIDTH` wide, so every incident in the
/// window shows. Nothing is known after `known_until` (the last run, when checks are not
/// running): that part is grey, "unknown".
fn strip(changes: &[(i64, Status)], now: i64, known_until: i64) -> String {
    let from = now - DAY;
    let known_until = known_until.clamp(from, now);
    let x = |t: i64| (t.clamp(from, now) - from) * STRIP_WIDTH / DAY;
    let x_up = |t: i64| ((t.clamp(from, now) - from) * STRIP_WIDTH + DAY - 1) / DAY;
    let mut svg = format!(
        "<svg class=\"strip\" viewBox=\"0 0 {STRIP_WIDTH} 12\" preserveAspectRatio=\"none\" role=\"img\" aria-label=\"last 24 hours\">\
         <rect width=\"{STRIP_WIDTH}\" height=\"12\" fill=\"#d0d4d9\"/>"
    );
    let current = known_until == now;
    let mut stretches: Vec<(Status, i64, i64, i64, i64)> = Vec::new();
    for (i, &(at, status)) in changes.iter().enumerate() {
        let last = i + 1 == changes.len();
        let start = at.max(from);
        let end = changes.get(i + 1).map_or(now, |n| n.0).min(known_until);
        if end <= start && !(last && current && at <= now) {
            continue;
        }
        let mut x0 = x(start);
        let mut w = if status == Status::Passing {
            (x(end) - x0).max(1)
        } else {
            (x_up(end) - x0).max(FAILING_WIDTH)
        };
        // The status now is drawn at least a few units wide, however new it is.
        if last && current {
            x0 = x0.min(STRIP_WIDTH - NOW_WIDTH);
            w = w.max(STRIP_WIDTH - x0);
        }
        x0 = x0.min(STRIP_WIDTH - w.min(STRIP_WIDTH));
        stretches.push((status, x0, w, start, end));
    }
    stretches.sort_by_key(|s| s.0);
    for (status, x0, w, start, end) in stretches {
        let until = if end >= now && current {
            "now".to_string()
        } else {
            page_time(end)
        };
        let _ = write!(
            svg,
            "<rect x=\"{x0}\" width=\"{w}\" height=\"12\" fill=\"{}\"><title>{} from {} to {until}</title></rect>",
            color(status),
            status.as_str(),
            page_time(start),
        );
    }
    if !current {
        let x0 = x(known_until);
        let _ = write!(
            svg,
            "<rect x=\"{x0}\" width=\"{}\" height=\"12\" fill=\"{UNKNOWN}\"><title>unknown from {}: checks are not running</title></rect>",
            (STRIP_WIDTH - x0).max(1),
            page_time(known_until)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// `Uptime: 99.93% (24 hours) · 99.90% (7 days) · 98.12% over the 3d monitored (30 days)`:
/// a figure over less than its window says how long the service was watched.
fn uptime_line(uptimes: &[uptime::Uptime]) -> String {
    let parts: Vec<String> = uptimes
        .iter()
        .filter_map(|u| {
            let percent = u.percent?;
            let window = match u.label {
                "24h" => "24 hours",
                "7d" => "7 days",
                _ => "30 days",
            };
            let over = if u.partial() {
                format!(
                    " over the {} monitored",
                    crate::text::duration(
                        std::time::Duration::from_secs(u.monitored.max(0) as u64)
                    )
                )
            } else {
                String::new()
            };
            Some(format!("{percent:.2}%{over} ({window})"))
        })
        .collect();
    if parts.is_empty() {
        return String::new();
    }
    format!("<p class=\"uptime\">Uptime: {}</p>", parts.join(" · "))
}

/// The latest incidents of the last 30 days, newest first.
fn incident_list(incidents: &[crate::core::history::Incident], now: i64) -> String {
    if incidents.is_empty() {
        return "<p class=\"uptime\">No incidents in the last 30 days.</p>".to_string();
    }
    let mut html = String::from("<ul class=\"incidents\">");
    for i in incidents.iter().take(super::status_json::RECENT) {
        let lasted = format_age(i.end.unwrap_or(now) - i.start);
        let _ = write!(
            html,
            "<li>{} at {}, {}</li>",
            i.worst.as_str(),
            page_time(i.start),
            match i.end {
                Some(_) => format!("lasted {lasted}"),
                None => format!("ongoing for {lasted}"),
            }
        );
    }
    html.push_str("</ul>");
    html
}

/// `2026-11-24 10:02 UTC`: a time for people, on the page.
pub(super) fn page_time(t: i64) -> String {
    jiff::Timestamp::from_second(t)
        .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
        .strftime("%Y-%m-%d %H:%M UTC")
        .to_string()
}

/// The start of a page of the status site, up to its body: `title`, the styles, and the
/// headline's colour.
pub(super) fn head(title: &str, overall: &str) -> String {
    let mut html = String::with_capacity(4096);
    let _ = write!(
        html,
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
<meta http-equiv=\"refresh\" content=\"60\"><title>{title}</title><style>\
body{{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;background:#f4f5f7;color:#1d2329}}\
header,main,footer{{max-width:46rem;margin:0 auto;padding:1rem}}\
h1{{font-size:1.4rem;margin:.5rem 0}}\
.overall{{padding:.8rem 1rem;border-radius:.4rem;color:#fff;font-weight:600;background:{overall}}}\
.service{{background:#fff;border-radius:.4rem;padding:.8rem 1rem;margin:.6rem 0;box-shadow:0 1px 2px #0002}}\
.service h2{{font-size:1.05rem;margin:0;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}}\
.badge{{font-size:.8rem;padding:.15rem .5rem;border-radius:1rem;color:#fff}}\
.since{{font-size:.85rem;color:#56606b;margin:.3rem 0}}\
.strip{{width:100%;height:12px;display:block;border-radius:2px}}\
.axis{{display:flex;justify-content:space-between;font-size:.7rem;color:#8a939c}}\
.uptime,.incidents{{font-size:.8rem;color:#56606b;margin:.4rem 0 0}}\
.incidents{{padding-left:1.1rem}}\
footer{{font-size:.8rem;color:#56606b}}\
.post,.maintenance{{background:#fff;border-radius:.4rem;padding:.8rem 1rem;margin:.6rem 0;box-shadow:0 1px 2px #0002;border-left:.3rem solid #e0542b}}\
.maintenance{{border-left-color:{maintenance}}}\
.post h2,.maintenance h2{{font-size:1.05rem;margin:0;display:flex;justify-content:space-between;gap:1rem;flex-wrap:wrap}}\
.timeline{{font-size:.9rem;padding-left:1.1rem;margin:.5rem 0 0}}.timeline li{{margin:.3rem 0}}\
.maintenance ul{{font-size:.9rem;padding-left:1.1rem;margin:.5rem 0 0}}\
.note{{font-size:.85rem;margin:.3rem 0}}\
</style></head><body>",
        title = xml_escape(title),
        overall = overall,
        maintenance = super::posts::MAINTENANCE_COLOR,
    );
    html
}

/// `GET /`: a small HTML page of the public services, no JavaScript.
pub fn answer(view: &mut View) -> Response {
    Response::new(200, "text/html; charset=utf-8", page(view))
}

pub(super) fn page(view: &mut View) -> String {
    let (running, last_run, now) = (view.running, view.last_run, view.now);
    let services = view.public_services();
    let posts = view.posts();
    let windows = view.windows(now);
    let notices = super::posts::notices(view, &posts, &windows);
    let under_maintenance = |name: &str| windows.iter().any(|w| w.covers(name, now));
    // A service under maintenance is not counted as failing: it is expected to be down.
    let worst = services
        .iter()
        .filter(|s| !under_maintenance(&s.name))
        .map(|s| s.status)
        .max()
        .unwrap_or(Status::Passing);
    let maintained = services.iter().any(|s| under_maintenance(&s.name));
    let headline = match (running, worst) {
        (false, _) => "Status unknown: the monitor's checks are not running",
        (true, Status::Passing) if maintained => "Maintenance in progress",
        (true, Status::Passing) => "All services operational",
        (true, Status::Warning) => "Some services are degraded",
        (true, _) => "Some services are failing",
    };
    let mut run_line = match last_run {
        Some(r) => format!(
            "{} · last run {}",
            words(running),
            crate::clock::Ago(now.saturating_sub(r.finished_at))
        ),
        None => format!("{NOT_RUNNING} · no run has completed yet"),
    };
    if !view.cfg.network_checks.is_empty()
        && let Some((since, _)) = view.read(|s| crate::store::run::network_down(s.connection()))
    {
        run_line.push_str(&format!(
            " · the monitor's own network is down since {}: statuses may not be current",
            page_time(since)
        ));
    }
    let overall = match (running, worst) {
        (false, _) => "#6b7480",
        (true, Status::Passing) if maintained => super::posts::MAINTENANCE_COLOR,
        (true, worst) => color(worst),
    };
    let mut html = head("Status", overall);
    let _ = write!(
        html,
        "<header><h1>Service status</h1><p class=\"overall\">{headline}</p><p>{run_line}</p></header><main>{notices}",
    );
    if services.is_empty() {
        html.push_str(
            "<p>No public services. Mark a service <code>public: true</code> to list it here.</p>",
        );
    }
    // When checks are not running, the last status is no news: the page says unknown
    // since the last run, in grey, and the strip stops there.
    let known_until = if running {
        now
    } else {
        last_run.map_or(now - DAY, |r| r.finished_at)
    };
    for s in &services {
        let (name, status, since) = (&s.name, &s.status, &s.since);
        // One read: the strip's 24 hours are inside the uptime's 30 days.
        let changes = uptime::changes(view, name);
        let (uptimes, incidents) = uptime::figures(&changes, now);
        let (badge, word, since_text) = if running && under_maintenance(name) {
            (
                super::posts::MAINTENANCE_COLOR,
                "MAINTENANCE",
                format!(
                    "under maintenance; {} since {}",
                    status.as_str(),
                    page_time(*since)
                ),
            )
        } else if running {
            let blocked = match s.blocked_by.is_empty() {
                true => String::new(),
                false => format!(" · blocked by {}", s.blocked_by.join(", ")),
            };
            (
                color(*status),
                status.as_str(),
                format!(
                    "{} since {} ({}){blocked}",
                    status.as_str(),
                    page_time(*since),
                    format_age(now.saturating_sub(*since))
                ),
            )
        } else {
            let text = match last_run {
                Some(r) => format!(
                    "unknown since {} ({}), when the last run finished: it was {} then",
                    page_time(r.finished_at),
                    crate::clock::Ago(now.saturating_sub(r.finished_at)),
                    status.as_str()
                ),
                None => "unknown: no run has completed yet".to_string(),
            };
            (UNKNOWN, "UNKNOWN", text)
        };
        let _ = write!(
            html,
            "<section class=\"service\" id=\"service-{id}\"><h2><span class=\"name\">{name}</span>\
<span class=\"badge status\" style=\"background:{c}\">{st}</span></h2>\
<p class=\"since\">{since_text}</p>{notes}{strip}\
<div class=\"axis\"><span>24 hours ago</span><span>now</span></div>{uptimes}{incidents}</section>",
            id = xml_escape(name),
            name = xml_escape(name),
            c = badge,
            st = word,
            since_text = xml_escape(&since_text),
            notes = super::posts::service_notes(name, &posts, &windows, now),
            strip = strip(&changes, now, known_until),
            uptimes = uptime_line(&uptimes),
            incidents = incident_list(&incidents, now),
        );
    }
    let _ = writeln!(
        html,
        "</main><footer>Updated {} · this page refreshes every minute · \
<a href=\"history.html\">Incident history</a> · <a href=\"feed.atom\">Atom feed</a></footer></body></html>",
        page_time(now)
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The strip's rectangles after the background: (fill, x, width, title).
    fn rects(svg: &str) -> Vec<(String, i64, i64, String)> {
        svg.split("<rect x=\"")
            .skip(1)
            .map(|r| {
                let attr = |name: &str| -> String {
                    let from = r
                        .find(&format!("{name}=\""))
                        .map_or(0, |i| i + name.len() + 2);
                    r[from..].split('"').next().unwrap_or("").to_string()
                };
                let x: i64 = r.split('"').next().unwrap_or("0").parse().unwrap_or(-1);
                let title = r
                    .split("<title>")
                    .nth(1)
                    .and_then(|t| t.split("</title>").next())
                    .unwrap_or("")
                    .to_string();
                (attr("fill"), x, attr("width").parse().unwrap_or(-1), title)
            })
            .collect()
    }

    const NOW: i64 = 1_800_000_000;
    const H: i64 = 3_600;

    #[test]
    fn a_seven_minute_incident_is_drawn_over_the_passing_around_it() {
        let at = NOW - 6 * H;
        let changes = [
            (NOW - 30 * H, Status::Passing),
            (at, Status::Critical),
            (at + 7 * 60, Status::Passing),
        ];
        let drawn = rects(&strip(&changes, NOW, NOW));
        let critical = drawn
            .iter()
            .position(|r| r.0 == color(Status::Critical))
            .expect("the incident is drawn");
        let (_, x, w, title) = &drawn[critical];
        assert!(*w >= FAILING_WIDTH, "{drawn:?}");
        assert_eq!(*x, (DAY - 6 * H) * STRIP_WIDTH / DAY);
        assert_eq!(
            title,
            "CRITICAL from 2027-01-15 02:00 UTC to 2027-01-15 02:07 UTC"
        );
        // Drawn last: nothing after it covers it.
        assert_eq!(critical, drawn.len() - 1, "{drawn:?}");
        assert!(drawn.iter().any(|r| r.3.ends_with("to now")), "{drawn:?}");
    }

    #[test]
    fn an_incident_that_just_ended_is_not_covered_by_the_status_now() {
        let at = NOW - 10 * 60;
        let changes = [
            (NOW - 30 * H, Status::Passing),
            (at, Status::Critical),
            (at + 7 * 60, Status::Passing),
        ];
        let drawn = rects(&strip(&changes, NOW, NOW));
        let last = drawn.last().expect("rects");
        assert_eq!(last.0, color(Status::Critical), "{drawn:?}");
        assert!(
            last.1 + last.2 <= STRIP_WIDTH && last.2 >= FAILING_WIDTH,
            "{drawn:?}"
        );
    }

    #[test]
    fn worse_is_drawn_later_and_the_unknown_part_is_grey() {
        let changes = [
            (NOW - 20 * H, Status::Critical),
            (NOW - 19 * H, Status::Warning),
            (NOW - 18 * H, Status::Passing),
        ];
        let drawn = rects(&strip(&changes, NOW, NOW - 2 * H));
        let fills: Vec<&str> = drawn.iter().map(|r| r.0.as_str()).collect();
        assert_eq!(
            fills,
            [
                color(Status::Passing),
                color(Status::Warning),
                color(Status::Critical),
                UNKNOWN
            ]
        );
        let passing = &drawn[0];
        assert!(
            passing.3.ends_with("to 2027-01-15 06:00 UTC"),
            "{passing:?}"
        );
        let unknown = &drawn[3];
        assert_eq!(unknown.1, (DAY - 2 * H) * STRIP_WIDTH / DAY);
        assert!(
            unknown.3.starts_with("unknown from 2027-01-15 06:00 UTC"),
            "{unknown:?}"
        );
    }
}
