//! `GET /feed.atom`: the incident posts, each update an entry, and the maintenance
//! announcements of the last 90 days, as an Atom feed (RFC 4287) that customers follow
//! without logging in.
//!
//! Entry ids are tag URIs (RFC 4151) made of what never changes: the post's and update's
//! ids and the day each was written, under the host of `status.public_url` (`cabot`
//! without one). Links start at `status.public_url`, so they are right behind a reverse
//! proxy; without it they are relative to the feed's own address.

use std::fmt::Write as _;

use super::View;
use super::posts::{HISTORY, covered, public_names, window_time};
use super::wire::Response;
use crate::clock::format_time;
use crate::text::xml_escape;

/// One entry, before it is written.
struct Entry {
    id: String,
    title: String,
    updated: i64,
    link: String,
    content: String,
}

pub fn answer(view: &mut View) -> Response {
    Response::new(200, "application/atom+xml; charset=utf-8", feed(view))
}

pub fn feed(view: &mut View) -> String {
    let now = view.now;
    let base = view
        .cfg
        .status
        .public_url
        .as_deref()
        .map(|u| format!("{}/", u.trim_end_matches('/')))
        .unwrap_or_default();
    let authority = view
        .cfg
        .status
        .public_url
        .as_deref()
        .and_then(|u| u.parse::<ureq::http::Uri>().ok())
        .and_then(|u| u.host().map(str::to_ascii_lowercase))
        .unwrap_or_else(|| "cabot".into());
    let tag = |at: i64, what: &str| {
        let day = jiff::Timestamp::from_second(at)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .strftime("%Y-%m-%d");
        format!("tag:{authority},{day}:{what}")
    };
    let mut entries = Vec::new();
    for post in view.posts() {
        let names = public_names(view, &post.services);
        for u in &post.updates {
            entries.push(Entry {
                id: tag(u.at, &format!("incident-{}-update-{}", post.id, u.id)),
                title: format!("{}: {}", post.title, u.status.title()),
                updated: u.at,
                link: format!("{base}history.html#incident-{}-update-{}", post.id, u.id),
                content: format!("{} (affects {names})", u.message),
            });
        }
    }
    for w in view.windows(now - HISTORY) {
        // Those of the config have no id, nor a time they were written: their start is
        // what identifies them.
        let (what, written) = match w.id {
            Some(id) => (format!("maintenance-{id}"), w.created_at.unwrap_or(w.from)),
            None => (format!("maintenance-config-{}-{}", w.from, w.to), w.from),
        };
        let services = covered(view, &w);
        entries.push(Entry {
            id: tag(written, &what),
            title: format!("Scheduled maintenance: {}", window_time(&w)),
            updated: written,
            link: format!("{base}history.html"),
            content: format!("{} ({services})", w.message),
        });
    }
    entries.sort_by_key(|e| std::cmp::Reverse(e.updated));
    let updated = entries.first().map_or(now, |e| e.updated);
    let mut xml = String::with_capacity(2048);
    let _ = write!(
        xml,
        "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n\
<feed xmlns=\"http://www.w3.org/2005/Atom\">\n\
<title>Service status</title>\n<id>{id}</id>\n<updated>{updated}</updated>\n\
<link rel=\"self\" type=\"application/atom+xml\" href=\"{base}feed.atom\"/>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{home}\"/>\n\
<author><name>Service status</name></author>\n",
        id = xml_escape(&format!("tag:{authority},2026:status")),
        updated = format_time(updated),
        base = xml_escape(&base),
        home = xml_escape(if base.is_empty() { "./" } else { &base }),
    );
    for e in &entries {
        let _ = write!(
            xml,
            "<entry>\n<id>{}</id>\n<title>{}</title>\n<updated>{}</updated>\n\
<link rel=\"alternate\" type=\"text/html\" href=\"{}\"/>\n<content type=\"text\">{}</content>\n</entry>\n",
            xml_escape(&e.id),
            xml_escape(&e.title),
            format_time(e.updated),
            xml_escape(&e.link),
            xml_escape(&e.content),
        );
    }
    xml.push_str("</feed>\n");
    xml
}
