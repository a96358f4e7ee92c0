//! `GET /peer/state`: what this node tells the other node of its pair, only to a request
//! signed with the pair's key, recent (within 30 s of this node's clock) and not seen
//! before. A wrong signature is a 404 and counts as a wrong guess, as a heartbeat's wrong
//! token does; a right one that is stale or replayed is told why, since only a holder of
//! the key can make one.

use super::db::Db;
use super::ping::Pings;
use super::wire::{Request, Response};
use crate::config::Config;
use crate::peer::{HEADER, Refused, SKEW};

pub fn answer(request: &Request, cfg: &Config, db: &mut Db, pings: &Pings, now: i64) -> Response {
    let Some(peer) = &cfg.peer else {
        return Response::text(404, "Not Found\n");
    };
    let ip = request.peer.ip();
    if let Some(refused) = pings.refuse_guesser(ip, now) {
        return refused;
    }
    let header = request.header(HEADER).unwrap_or("");
    let signed = match peer.key.verify(header, &request.method, "/peer/state", now) {
        Ok(signed) => signed,
        Err(Refused::Forged) => {
            pings.guessed_wrong(ip, now);
            return Response::text(404, "Not Found\n");
        }
        Err(Refused::Stale { off }) => {
            return Response::text(
                401,
                &format!(
                    "The request was signed {} s {} this node's clock; at most {SKEW} s is \
                     taken. Check both clocks (NTP).\n",
                    off.abs(),
                    if off > 0 { "behind" } else { "ahead of" }
                ),
            );
        }
    };
    if !pings.peer_seen.first_time(&signed, now) {
        return Response::text(
            401,
            "This signed request was answered already: each is answered once.\n",
        );
    }
    let doc = match db.session() {
        Some(mut s) => s.read(|store| crate::peer::document(cfg, peer, store, now)),
        // No state yet (this node has not run): it knows nothing yet, and says so.
        None if !cfg.state.exists() => Some(crate::peer::Document::empty(cfg, peer, now)),
        None => None,
    };
    match doc.and_then(|d| serde_json::to_vec(&d).ok()) {
        Some(body) => Response::new(200, "application/json", body),
        None => Response::text(503, "The state cannot be read.\n"),
    }
}
