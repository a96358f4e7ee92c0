//! `POST /ping/NAME`: a `heartbeat` check's ping, with its token; one of the two requests
//! that write (ack links are the other).

use super::db::Db;
use super::wire::{Request, Response};
use crate::checks::heartbeat;
use crate::config::Config;

/// Pings accepted per heartbeat per second; more are answered 429.
const PINGS_PER_SECOND: u32 = 5;
/// The most of a ping's body that is read, as its message.
const PING_BODY_MAX: usize = 1024;

/// Wrong guesses (a token or a name that is not there) one address may make in a window.
const GUESSES_PER_ADDRESS: u32 = 10;
/// Wrong guesses from everywhere in a window before every guesser is held back.
const GUESSES_IN_ALL: u32 = 100;
/// A token this long or longer is accepted even from an address held back for guessing:
/// 16 random characters are out of reach of ten guesses a minute, and a wrong guess from a
/// local user must not silence every local cron job's heartbeat. A shorter token could be
/// guessed, so a held-back address gets 429 for it whether right or not.
const UNGUESSABLE_TOKEN: usize = 16;
/// The window, in seconds.
const GUESS_WINDOW: i64 = 60;
/// Addresses remembered at once; past it, old windows are forgotten first.
const ADDRESSES_MAX: usize = 10_000;

/// What the ping endpoint shares between workers: the rate limit's counters.
#[derive(Default)]
pub struct Pings {
    recent: std::sync::Mutex<std::collections::HashMap<String, (i64, u32)>>,
    guesses: std::sync::Mutex<Guesses>,
    /// The peer's signatures answered already (`/peer/state`): each is answered once.
    pub(super) peer_seen: crate::peer::Seen,
}

/// Wrong guesses per address and in all, in the current window.
#[derive(Default)]
struct Guesses {
    window: i64,
    by_address: std::collections::HashMap<std::net::IpAddr, u32>,
    in_all: u32,
}

impl Guesses {
    fn roll(&mut self, now: i64) {
        let window = now.div_euclid(GUESS_WINDOW);
        if window != self.window {
            self.window = window;
            self.by_address.clear();
            self.in_all = 0;
        }
    }

    /// Whether `ip` is held back now: it guessed wrong too often, or everyone did and it
    /// is one of the guessers. An address that never guessed wrong always gets through.
    fn held_back(&mut self, ip: std::net::IpAddr, now: i64) -> bool {
        self.roll(now);
        let mine = self.by_address.get(&ip).copied().unwrap_or(0);
        mine >= GUESSES_PER_ADDRESS || (mine > 0 && self.in_all >= GUESSES_IN_ALL)
    }

    fn wrong(&mut self, ip: std::net::IpAddr, now: i64) {
        self.roll(now);
        self.in_all = self.in_all.saturating_add(1);
        if self.by_address.len() >= ADDRESSES_MAX && !self.by_address.contains_key(&ip) {
            // Too many addresses to remember: the count in all still holds them back.
            return;
        }
        *self.by_address.entry(ip).or_insert(0) += 1;
    }
}

impl Pings {
    /// A 429 for `ip` when its wrong guesses hold it back: given before anything is
    /// compared, so a held-back guesser learns nothing.
    pub(super) fn refuse_guesser(&self, ip: std::net::IpAddr, now: i64) -> Option<Response> {
        let held = self
            .guesses
            .lock()
            .map_or(true, |mut g| g.held_back(ip, now));
        held.then(|| Response::text(429, "Too Many Requests\n").with("Retry-After", "60"))
    }

    /// The 404 for a wrong guess from `ip`, counted.
    pub(super) fn miss(&self, ip: std::net::IpAddr, now: i64) -> Response {
        self.guessed_wrong(ip, now);
        Response::text(404, "Not Found\n")
    }

    /// Counts a wrong guess from `ip`.
    pub(super) fn guessed_wrong(&self, ip: std::net::IpAddr, now: i64) {
        if let Ok(mut g) = self.guesses.lock() {
            g.wrong(ip, now);
        }
    }

    /// Counts a ping (or an ack link's use) for `name` at `now`; false when over the limit.
    pub(super) fn allow(&self, name: &str, now: i64) -> bool {
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

/// `POST /ping/NAME` (or `/ping/NAME/fail`) with the heartbeat's token.
/// A wrong or missing token is a 404, exactly like a heartbeat that does not exist.
pub fn answer(
    request: &Request,
    path: &str,
    cfg: &Config,
    db: &mut Db,
    pings: &Pings,
    now: i64,
) -> Response {
    let ip = request.peer.ip();
    // A held-back guesser gets 429 for every wrong guess, so it learns nothing; only a
    // right token long enough not to be guessed gets through.
    let held_back = pings.refuse_guesser(ip, now);
    let not_found = || match &held_back {
        Some(refused) => {
            pings.guessed_wrong(ip, now);
            refused.clone()
        }
        None => pings.miss(ip, now),
    };
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
    if !crate::text::same_secret(given.trim().as_bytes(), expected.as_bytes()) {
        return not_found();
    }
    if let Some(refused) = held_back.filter(|_| expected.chars().count() < UNGUESSABLE_TOKEN) {
        return refused;
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
    fn wrong_guesses_hold_back_the_guesser_and_never_the_others() {
        let mut g = Guesses::default();
        let (a, b, quiet) = (
            "192.0.2.1".parse().expect("ip"),
            "192.0.2.2".parse().expect("ip"),
            "192.0.2.3".parse().expect("ip"),
        );
        let t = 6_000;
        for _ in 0..10 {
            assert!(!g.held_back(a, t));
            g.wrong(a, t);
        }
        assert!(g.held_back(a, t), "ten wrong guesses in the minute");
        assert!(!g.held_back(b, t) && !g.held_back(quiet, t));
        // Guessers spread over many addresses: at 100 in all, each guesser is held back.
        for i in 0..90u32 {
            let ip = std::net::IpAddr::from([10, 0, (i / 250) as u8, (i % 250) as u8]);
            g.wrong(ip, t);
        }
        g.wrong(b, t);
        assert!(g.held_back(b, t), "one wrong guess, when everyone guesses");
        assert!(!g.held_back(quiet, t), "never wrong: never held back");
        // The next minute starts afresh.
        assert!(!g.held_back(a, t + 60));
    }

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
