//! What staff tell customers, as the page, the history page and the feed show it: the
//! incident posts (open ones above the services, with their timelines) and the dated
//! maintenance windows (upcoming ones announced, ongoing ones marking their services).
//!
//! Posts are written by staff but shown to the public: every word is escaped, and the
//! author of an update (a Unix user name) is kept in the state and shown only to
//! `cabot incident list`.

use std::fmt::Write as _;

use super::View;
use super::page::page_time;
use crate::store::posts::{Post, Window};
use crate::text::xml_escape;

/// How far back the history page and the feed go.
pub const HISTORY: i64 = crate::cmd::incident::HISTORY_DAYS * 86_400;
pub const MAINTENANCE_COLOR: &str = "#2f6fb3";

impl View<'_> {
    /// The open incident posts and those resolved within `HISTORY`, newest first.
    pub fn posts(&mut self) -> Vec<Post> {
        let since = self.now - HISTORY;
        self.read(|s| s.incidents(since))
    }

    /// The dated maintenance windows ending after `since`, of the state and the config,
    /// soonest first.
    pub fn windows(&mut self, since: i64) -> Vec<Window> {
        let mut windows = self.read(|s| s.maintenance_windows(since));
        windows.extend(self.cfg.scheduled.iter().filter(|w| w.to > since).cloned());
        windows.sort_by_key(|w| (w.from, w.to));
        windows
    }
}

/// The names of `services` a stranger may read: the public ones, then "other services"
/// when some are not.
pub fn public_names(view: &View, services: &[String]) -> String {
    let public = public_only(view, services);
    let mut names = public.join(", ");
    if public.len() < services.len() {
        if !names.is_empty() {
            names.push_str(" and ");
        }
        names.push_str("other services");
    }
    names
}

/// The public ones of `services`.
pub fn public_only(view: &View, services: &[String]) -> Vec<String> {
    services
        .iter()
        .filter(|s| view.cfg.service(s).is_some_and(|s| s.public))
        .cloned()
        .collect()
}

/// `Sat 12 Dec 02:00-04:00 UTC` (the end's date too when it is another day), in the
/// window's time zone.
pub fn window_time(w: &Window) -> String {
    let zone = jiff::tz::TimeZone::get(&w.time_zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let at = |t: i64| {
        jiff::Timestamp::from_second(t)
            .unwrap_or(jiff::Timestamp::UNIX_EPOCH)
            .to_zoned_datetime(zone.clone())
    };
    let (from, to) = (at(w.from), at(w.to));
    let end = match from.date() == to.date() {
        true => to.strftime("%H:%M %Z").to_string(),
        false => to.strftime("%a %-d %b %H:%M %Z").to_string(),
    };
    format!("{}-{end}", from.strftime("%a %-d %b %H:%M"))
}

/// One post with its timeline, newest update first.
pub fn post_html(view: &View, post: &Post) -> String {
    let mut html = format!(
        "<section class=\"post\" id=\"incident-{id}\"><h2><span>{title}</span>\
<span class=\"badge\" style=\"background:{color}\">{status}</span></h2>\
<p class=\"since\">Affects {names} · opened {opened}{resolved}</p><ol class=\"timeline\" reversed>",
        id = post.id,
        title = xml_escape(&post.title),
        color = match post.resolved_at {
            Some(_) => "#2e9d4f",
            None => "#e0542b",
        },
        status = post.status().title(),
        names = xml_escape(&public_names(view, &post.services)),
        opened = page_time(post.opened_at),
        resolved = post
            .resolved_at
            .map(|t| format!(" · resolved {}", page_time(t)))
            .unwrap_or_default(),
    );
    for u in post.updates.iter().rev() {
        let _ = write!(
            html,
            "<li id=\"incident-{}-update-{}\"><b>{}</b> · <time>{}</time><br>{}</li>",
            post.id,
            u.id,
            u.status.title(),
            page_time(u.at),
            xml_escape(&u.message)
        );
    }
    html.push_str("</ol></section>");
    html
}

/// The page's part above the services: open incidents, maintenance in progress and
/// planned.
pub fn notices(view: &mut View, posts: &[Post], windows: &[Window]) -> String {
    let now = view.now;
    let mut html = String::new();
    for post in posts.iter().filter(|p| p.resolved_at.is_none()) {
        html.push_str(&post_html(view, post));
    }
    let (ongoing, upcoming): (Vec<&Window>, Vec<&Window>) = windows
        .iter()
        .filter(|w| w.to > now)
        .partition(|w| w.is_open(now));
    for (heading, list) in [
        ("Maintenance in progress", ongoing),
        ("Scheduled maintenance", upcoming),
    ] {
        if list.is_empty() {
            continue;
        }
        let _ = write!(
            html,
            "<section class=\"maintenance\"><h2>{heading}</h2><ul>"
        );
        for w in list {
            html.push_str(&window_item(view, w, ""));
        }
        html.push_str("</ul></section>");
    }
    html
}

/// The services a window covers, for the public: `every service`, or their names.
pub fn covered(view: &View, w: &Window) -> String {
    match w.services.is_empty() {
        true => "every service".to_string(),
        false => public_names(view, &w.services),
    }
}

/// `<li><b>Sat 12 Dec 02:00-04:00 UTC</b>{when}: Database upgrade (db)</li>`.
fn window_item(view: &View, w: &Window, when: &str) -> String {
    format!(
        "<li><b>{}</b>{when}: {} ({})</li>",
        xml_escape(&window_time(w)),
        xml_escape(&w.message),
        xml_escape(&covered(view, w))
    )
}

/// A service's own lines about them: the open posts that concern it (linked), and the
/// window it is under now.
pub fn service_notes(service: &str, posts: &[Post], windows: &[Window], now: i64) -> String {
    let mut html = String::new();
    for post in posts
        .iter()
        .filter(|p| p.resolved_at.is_none() && p.services.iter().any(|s| s == service))
    {
        let _ = write!(
            html,
            "<p class=\"note\">Incident: <a href=\"#incident-{}\">{}</a> ({})</p>",
            post.id,
            xml_escape(&post.title),
            post.status().as_str()
        );
    }
    if let Some(w) = windows.iter().find(|w| w.covers(service, now)) {
        let _ = write!(
            html,
            "<p class=\"note\">Under maintenance ({}): {}</p>",
            xml_escape(&window_time(w)),
            xml_escape(&w.message)
        );
    }
    html
}

/// `GET /history.html`: every incident post of the last 90 days with its timeline, and the
/// maintenance of that time, newest first.
pub fn history_page(view: &mut View) -> String {
    let now = view.now;
    let posts = view.posts();
    let mut windows = view.windows(now - HISTORY);
    windows.reverse();
    let mut html = super::page::head("Incident history", "#56606b");
    html.push_str(
        "<header><h1>Incident history</h1><p><a href=\"./\">Service status</a> · the last \
         90 days</p></header><main>",
    );
    if posts.is_empty() {
        html.push_str("<p>No incidents posted in the last 90 days.</p>");
    }
    for post in &posts {
        html.push_str(&post_html(view, post));
    }
    if !windows.is_empty() {
        html.push_str("<section class=\"maintenance\"><h2>Maintenance</h2><ul>");
        for w in &windows {
            let when = match (w.is_open(now), w.from > now) {
                (true, _) => " (in progress)",
                (_, true) => " (scheduled)",
                _ => "",
            };
            html.push_str(&window_item(view, w, when));
        }
        html.push_str("</ul></section>");
    }
    let _ = writeln!(
        html,
        "</main><footer>Updated {} · <a href=\"feed.atom\">Atom feed</a></footer></body></html>",
        page_time(now)
    );
    html
}
