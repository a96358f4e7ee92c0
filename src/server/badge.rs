//! `GET /badge/SERVICE.svg`: a small status badge of a public service, for a README or a
//! wiki, like those of Gatus and Uptime Kuma; `GET /badge/SERVICE.json`: the same as
//! shields.io's endpoint badge reads it (`https://img.shields.io/endpoint?url=...`). A
//! service that is not public is not found.

use super::View;
use super::wire::Response;
use crate::core::Status;
use crate::text::xml_escape;

fn color(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Passing) => "#2e9d4f",
        Some(Status::Warning) => "#d9a400",
        Some(Status::Error) => "#e0542b",
        Some(Status::Critical) => "#b3122e",
        None => "#9aa3ad",
    }
}

/// Roughly Verdana 11px: wide enough for the text, as shields.io sizes its badges.
fn text_width(text: &str) -> usize {
    text.chars().count() * 7 + 10
}

/// The badge for `rest` (`NAME.svg` or `NAME.json`, percent-encoded), or 404.
pub fn answer(view: &mut View, rest: &str) -> Response {
    let not_found = || Response::text(404, "Not Found\n");
    let (encoded, json) = match (rest.strip_suffix(".svg"), rest.strip_suffix(".json")) {
        (Some(name), _) => (name, false),
        (_, Some(name)) => (name, true),
        _ => return not_found(),
    };
    let name = percent_encoding::percent_decode_str(encoded)
        .decode_utf8_lossy()
        .to_string();
    let Some((word, fill)) = badge_of(view, &name) else {
        return not_found();
    };
    match json {
        true => Response::new(200, "application/json", endpoint(&name, &word, fill)),
        false => Response::new(200, "image/svg+xml", svg(&name, &word, fill)),
    }
}

/// The word and colour of a public service's badge; `None` for any other name.
pub fn badge_of(view: &mut View, name: &str) -> Option<(String, &'static str)> {
    let now = view.now;
    let status = view
        .public_services()
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.status)?;
    let maintained = view.windows(now).iter().any(|w| w.covers(name, now));
    Some(look(view.running, status, maintained))
}

/// A badge's word and colour: grey `unknown` when checks are not running (a stale
/// monitor knows nothing now, as on the page), blue `maintenance` under a window, else
/// the status.
pub fn look(running: bool, status: Status, maintained: bool) -> (String, &'static str) {
    if !running {
        ("unknown".to_string(), color(None))
    } else if maintained {
        ("maintenance".to_string(), super::posts::MAINTENANCE_COLOR)
    } else {
        (status.as_str().to_ascii_lowercase(), color(Some(status)))
    }
}

/// shields.io's endpoint schema (version 1): label, message and colour.
pub fn endpoint(name: &str, word: &str, fill: &str) -> String {
    serde_json::json!({
        "schemaVersion": 1,
        "label": name,
        "message": word,
        "color": fill.trim_start_matches('#'),
    })
    .to_string()
}

/// The badge as SVG.
pub fn svg(name: &str, word: &str, fill: &str) -> String {
    let label = name.to_string();
    let (lw, vw) = (text_width(&label), text_width(word));
    format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"20\" role=\"img\" aria-label=\"{l}: {v}\">\
<title>{l}: {v}</title>\
<rect width=\"{lw}\" height=\"20\" fill=\"#555\"/><rect x=\"{lw}\" width=\"{vw}\" height=\"20\" fill=\"{fill}\"/>\
<g fill=\"#fff\" text-anchor=\"middle\" font-family=\"Verdana,DejaVu Sans,sans-serif\" font-size=\"11\">\
<text x=\"{lx}\" y=\"14\">{l}</text><text x=\"{vx}\" y=\"14\">{v}</text></g></svg>",
        w = lw + vw,
        l = xml_escape(&label),
        v = word,
        lx = lw / 2,
        vx = lw + vw / 2,
    )
}
