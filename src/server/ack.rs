//! `/ack/TOKEN`: the link in an alert. GET shows what it would acknowledge and a button;
//! only POST acknowledges, so a chat's or a mail scanner's link preview never does. A
//! wrong, expired, used or stale link is a 404; wrong guesses are held back like a
//! heartbeat's wrong tokens.

use super::db::Db;
use super::ping::Pings;
use super::wire::{Request, Response};
use crate::alerts::ack_link::Claim;
use crate::config::Config;
use crate::store::outbox::{Ack, LinkUse};
use crate::text::xml_escape;

pub fn answer(
    request: &Request,
    path: &str,
    cfg: &Config,
    db: &mut Db,
    pings: &Pings,
    now: i64,
) -> Response {
    let ip = request.peer.ip();
    if let Some(refused) = pings.refuse_guesser(ip, now) {
        return refused;
    }
    let token = path.strip_prefix("/ack/").unwrap_or("");
    let Some(claim) = cfg
        .status
        .ack
        .as_ref()
        .and_then(|links| links.verify(token))
    else {
        pings.guessed_wrong(ip, now);
        return Response::text(404, "Not Found\n");
    };
    // Signed by this installation: say plainly why it does nothing.
    if claim.expires <= now {
        return page(
            404,
            "This link has expired",
            "Acknowledge with `cabot ack` instead.",
        );
    }
    if !pings.allow(&format!("ack/{}", claim.service), now) {
        return Response::text(429, "Too Many Requests\n");
    }
    if request.method == "POST" {
        return acknowledge(token, &claim, cfg, db, now);
    }
    // A used or stale link says so on GET too, rather than offer a button that cannot work.
    let dead = db.session().and_then(|mut s| {
        s.read(|store| {
            store.ack_link_state(
                &crate::store::secret_digest(token),
                &claim.service,
                claim.incident_at,
            )
        })
    });
    match dead.flatten() {
        Some(dead) => dead_page(&dead, &claim.service),
        None => confirm(&claim),
    }
}

/// The 404 for a link that was used or whose incident is over.
fn dead_page(dead: &LinkUse, service: &str) -> Response {
    match dead {
        LinkUse::Used => page(404, "This link has been used", "It acknowledges once."),
        _ => page(
            404,
            "This incident is over",
            &format!("{service} has recovered or a new incident began since."),
        ),
    }
}

/// The page a GET shows: what the link acknowledges, and the button that does it.
fn confirm(claim: &Claim) -> Response {
    let service = xml_escape(&claim.service);
    let by = xml_escape(&claim.by);
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <meta name=\"robots\" content=\"noindex\"><title>Acknowledge {service}</title>\
         <style>body{{font-family:sans-serif;margin:2em}}button{{font-size:1.4em;padding:.5em 1em}}</style>\
         </head><body><h1>Acknowledge {service}?</h1>\
         <p>The incident that began {began} will be acknowledged by {by}: its alerts and \
         escalation stop until it recovers or the acknowledgement ends.</p>\
         <form method=\"post\"><button type=\"submit\">Acknowledge</button></form>\
         </body></html>",
        began = crate::clock::format_time(claim.incident_at),
    );
    Response::new(200, "text/html; charset=utf-8", body)
}

fn acknowledge(token: &str, claim: &Claim, cfg: &Config, db: &mut Db, now: i64) -> Response {
    let ack = Ack {
        until: now.saturating_add(cfg.alerting.ack_expiry.as_secs() as i64),
        by: Some(claim.by.clone()),
        note: Some("ack link".into()),
        created_at: now,
    };
    let used = db.writer().and_then(|w| {
        Ok(w.use_ack_link(
            &crate::store::secret_digest(token),
            &claim.service,
            claim.incident_at,
            claim.expires,
            &ack,
            &cfg.incident_channels(),
        )?)
    });
    let service = &claim.service;
    match used {
        Ok(LinkUse::Acked) => page(
            200,
            &format!("{service} is acknowledged"),
            &format!(
                "By {} until {}.",
                claim.by,
                crate::clock::format_time(ack.until)
            ),
        ),
        Ok(LinkUse::AlreadyAcked(by)) => page(
            200,
            &format!("{service} was already acknowledged"),
            &format!(
                "By {}; nothing was changed.",
                by.as_deref().unwrap_or("someone")
            ),
        ),
        Ok(dead @ (LinkUse::Used | LinkUse::Over)) => dead_page(&dead, service),
        Err(_) => {
            db.drop_writer();
            Response::text(503, "cannot record the acknowledgement now\n")
        }
    }
}

fn page(status: u16, title: &str, text: &str) -> Response {
    let body = format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><meta name=\"robots\" content=\"noindex\">\
         <title>{t}</title></head><body><h1>{t}</h1><p>{p}</p></body></html>",
        t = xml_escape(title),
        p = xml_escape(text)
    );
    Response::new(status, "text/html; charset=utf-8", body)
}
