//! `POST /hooks/CHANNEL`: a provider telling cabot that someone acknowledged one of its
//! incidents there (PagerDuty's webhooks, an Opsgenie Webhook integration), so that
//! cabot's other channels stop repeating too. The channel reads and authenticates the
//! request (`ChannelType::hook`); this page turns an acknowledgement into cabot's ack,
//! once per event, and tells the other providers that keep incidents open.

use super::db::Db;
use super::ping::Pings;
use super::wire::{Request, Response};
use crate::alerts::channels::{Hook, Hooked};
use crate::config::Config;
use crate::store::outbox::{Ack, LinkUse};

/// How long an event is remembered as done, against a provider sending it again.
const EVENT_MEMORY: i64 = 86_400;

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
    let not_found = || pings.miss(ip, now);
    let Some(name) = path.strip_prefix("/hooks/") else {
        return not_found();
    };
    let Some(channel) = cfg.channels.get(name) else {
        return not_found();
    };
    let hooked = Hooked {
        headers: &request.headers,
        body: &request.body,
    };
    let (event, incident, by) = match channel.kind.hook(&hooked) {
        Hook::NotHere => return not_found(),
        Hook::Refused => {
            pings.guessed_wrong(ip, now);
            return Response::text(401, "Unauthorized: the signature or token is wrong\n");
        }
        Hook::Ignored(why) => return Response::text(200, &format!("ignored: {why}\n")),
        Hook::Acked {
            event,
            incident,
            by,
        } => (event, incident, by),
    };
    // cabot's incidents are `cabot/SERVICE/START`; anything else is not cabot's.
    let Some((service, start)) = incident
        .strip_prefix("cabot/")
        .and_then(|rest| rest.rsplit_once('/'))
        .and_then(|(service, start)| Some((service, start.parse::<i64>().ok()?)))
        .filter(|(service, _)| cfg.services.iter().any(|s| s.name == *service))
    else {
        return Response::text(200, "ignored: not an incident of this cabot\n");
    };
    let ack = Ack {
        until: now.saturating_add(cfg.alerting.ack_expiry.as_secs() as i64),
        by: Some(crate::text::one_line(&by, 100)),
        note: Some(format!("acknowledged in {name}")),
        created_at: now,
    };
    // Told to the others that keep incidents open; the one that told cabot knows.
    let tell: Vec<&str> = cfg
        .incident_channels()
        .into_iter()
        .filter(|c| *c != name)
        .collect();
    let done = db.writer().and_then(|w| {
        Ok(w.use_ack_link(
            &crate::store::secret_digest(&format!("hook/{name}/{event}")),
            service,
            start,
            now.saturating_add(EVENT_MEMORY),
            &ack,
            &tell,
        )?)
    });
    match done {
        Ok(LinkUse::Acked) => Response::text(200, &format!("acknowledged {service}\n")),
        Ok(LinkUse::AlreadyAcked(_)) => Response::text(200, "already acknowledged\n"),
        Ok(LinkUse::Used) => Response::text(200, "already done\n"),
        Ok(LinkUse::Over) => Response::text(200, "ignored: the incident is over\n"),
        Err(_) => {
            db.drop_writer();
            // The provider tries again later.
            Response::text(503, "cannot record the acknowledgement now\n")
        }
    }
}
