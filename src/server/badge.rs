//! `GET /badge/SERVICE.svg`: a small status badge of a public service, for a README or a
//! wiki, like those of Gatus and Uptime Kuma. A service that is not public is not found.

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

/// The badge for `rest` (`NAME.svg`, percent-encoded), or 404.
pub fn answer(view: &mut View, rest: &str) -> Response {
    let not_found = || Response::text(404, "Not Found\n");
    let Some(encoded) = rest.strip_suffix(".svg") else {
        return not_found();
    };
    let name = percent_encoding::percent_decode_str(encoded).decode_utf8_lossy();
    let running = view.running;
    let Some(status) = view
        .public_services()
        .into_iter()
        .find(|s| s.name == name)
        .map(|s| s.status)
    else {
        return not_found();
    };
    // A stale monitor knows nothing now: grey, "unknown", as on the page.
    let (word, fill) = if running {
        (status.as_str().to_ascii_lowercase(), color(Some(status)))
    } else {
        ("unknown".to_string(), color(None))
    };
    let label = name.to_string();
    let (lw, vw) = (text_width(&label), text_width(&word));
    let svg = format!(
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
    );
    Response::new(200, "image/svg+xml", svg)
}
