//! `POST /ping/NAME`: a `heartbeat` check's ping, with its token; the one request that writes.

use super::db::Db;
use super::wire::{Request, Response};
use crate::checks::heartbeat;
use crate::config::Config;

/// Pings accepted per heartbeat per second; more are answered 429.
const PINGS_PER_SECOND: u32 = 5;
/// The most of a ping's body that is read, as its message.
const PING_BODY_MAX: usize = 1024;

/// What the ping endpoint shares between workers: the rate limit's counters.
#[derive(Default)]
pub struct Pings {
    recent: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
}

impl Pings {
    /// Counts a ping for `name` at `now`; false when over the limit.
    fn allow(&self, name: &str, now: i64) -> bool {
        let Ok(mut recent) = self.recent.lock() else {
            return false;
        };
        if recent.len() > 10_000 {
            recent.retain(|_, (second, _)| *second == now);
        }
        let entry = recent.entry(name.to_string()).or_insert((now, 0));
        if entry.0 != now {
            *entry = (now, 0);
        }
        entry.1 += 1;
        entry.1 <= PINGS_PER_SECOND
    }
}

/// Compares without stopping at the first difference, so timing tells nothing of the token.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// `POST /ping/NAME` (or `/ping/NAME/fail`) with the heartbeat's token: the one write.
/// A wrong or missing token is a 404, exactly like a heartbeat that does not exist.
pub fn answer(
    request: &Request,
    path: &str,
    cfg: &Config,
    db: &mut Db,
    pings: &Pings,
    now: i64,
) -> Response {
    let not_found = || Response::text(404, "Not Found\n");
    let Some(name) = path.strip_prefix("/ping/") else {
        return not_found();
    };
    let (found, failed) = match heartbeat::find(cfg, name) {
        Ok(f) => (f, false),
        Err(_) => match name
            .strip_suffix("/fail")
            .and_then(|n| heartbeat::find(cfg, n).ok())
        {
            Some(f) => (f, true),
            None => return not_found(),
        },
    };
    let (service, check, heartbeat) = found;
    let Some(expected) = heartbeat.token.as_ref().and_then(|t| t.resolve().ok()) else {
        return not_found();
    };
    let given = request
        .header("Authorization")
        .and_then(|v| v.strip_prefix("Bearer "))
        .or_else(|| request.header("X-Cabot-Token"))
        .unwrap_or_default();
    if !same_secret(given.trim().as_bytes(), expected.as_bytes()) {
        return not_found();
    }
    if !pings.allow(&format!("{service}/{}", check.name), now) {
        return Response::text(429, "Too Many Requests\n");
    }
    let body = &request.body[..request.body.len().min(PING_BODY_MAX)];
    let message = crate::text::message(String::from_utf8_lossy(body).trim());
    let source = request.peer.ip().to_string();
    let recorded = db.writer().and_then(|w| {
        let message = (!message.is_empty()).then_some(message.as_str());
        Ok(w.record_ping(service, &check.name, now, !failed, message, &source)?)
    });
    match recorded {
        Ok(()) => Response::text(200, "OK\n"),
        Err(_) => {
            db.drop_writer();
            Response::text(503, "cannot record the ping now\n")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_pings_a_second_per_heartbeat() {
        let pings = Pings::default();
        let t = 1_000;
        let answers: Vec<bool> = (0..7).map(|_| pings.allow("s/backup", t)).collect();
        assert_eq!(answers, [true, true, true, true, true, false, false]);
        assert!(
            pings.allow("s/other", t),
            "each heartbeat has its own count"
        );
        assert!(
            pings.allow("s/backup", t + 1),
            "the next second starts afresh"
        );
    }
}
