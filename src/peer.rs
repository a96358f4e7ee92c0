//! The pair: two cabots on separate machines, each with its own state, that talk only
//! HTTP. This module is what passes between them: `GET /peer/state`, signed with the key
//! both nodes hold, and the document it answers with (what this node knows: its runs, its
//! services and their open incidents, its recent deliveries, acks, silences and overrides).
//!
//! A request is signed with HMAC-SHA256 over the method, the path, the sending node and
//! the time; the answering node refuses a signature that is wrong, a time more than
//! `SKEW` from its own clock, and a signature it has seen already (a replay within the
//! skew). Wrong signatures are held back as wrong heartbeat tokens are.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::hmac;

/// The header that carries the signature.
pub const HEADER: &str = "X-Cabot-Peer";
/// How far a request's time may be from the answering node's clock, in seconds.
pub const SKEW: i64 = 30;
/// What the MAC covers besides the request, so that a key shared with something else
/// cannot sign for a peer.
const CONTEXT: &[u8] = b"cabot peer v1\n";
/// At most this many recent deliveries in a document, and this far back.
pub const LOG_MAX: usize = 1_000;
pub const LOG_AGE: i64 = 86_400;
/// A document larger than this is not read (a bounded answer from a peer that is ours
/// is far smaller: 1,000 deliveries are about 300 KB).
pub const DOCUMENT_MAX: u64 = 4 << 20;
/// How long a run waits for its peer's document.
pub const PULL_TIMEOUT: Duration = Duration::from_secs(3);

/// The key both nodes sign with.
#[derive(Clone)]
pub struct PeerKey(hmac::Key);

impl std::fmt::Debug for PeerKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PeerKey(secret)")
    }
}

impl PeerKey {
    pub fn new(secret: &[u8]) -> PeerKey {
        PeerKey(hmac::Key::new(hmac::HMAC_SHA256, secret))
    }

    fn input(method: &str, path: &str, node: &str, at: i64) -> Vec<u8> {
        [
            CONTEXT,
            format!("{method}\n{path}\n{node}\n{at}\n").as_bytes(),
        ]
        .concat()
    }

    /// The header value for a request by `node` at `at`.
    pub fn sign(&self, method: &str, path: &str, node: &str, at: i64) -> String {
        let tag = hmac::sign(&self.0, &Self::input(method, path, node, at));
        format!(
            "node={}, t={at}, sig={}",
            URL_SAFE_NO_PAD.encode(node),
            URL_SAFE_NO_PAD.encode(tag.as_ref())
        )
    }

    /// A digest only holders of the key can make or test: of the config's checks and
    /// channels, so that two nodes can tell their configs differ without showing them.
    pub fn digest(&self, text: &str) -> String {
        let tag = hmac::sign(
            &self.0,
            &[b"cabot config digest\n", text.as_bytes()].concat(),
        );
        URL_SAFE_NO_PAD.encode(&tag.as_ref()[..16])
    }

    /// Who signed `header` for `method` and `path`, if this key did, at a time within
    /// `SKEW` of `now`.
    pub fn verify(
        &self,
        header: &str,
        method: &str,
        path: &str,
        now: i64,
    ) -> Result<Signed, Refused> {
        let mut node = None;
        let mut at = None;
        let mut sig = None;
        for part in header.split(',').map(str::trim) {
            match part.split_once('=') {
                Some(("node", v)) => node = URL_SAFE_NO_PAD.decode(v).ok(),
                Some(("t", v)) => at = v.parse::<i64>().ok(),
                Some(("sig", v)) => sig = URL_SAFE_NO_PAD.decode(v).ok(),
                _ => {}
            }
        }
        let (Some(node), Some(at), Some(sig)) = (node, at, sig) else {
            return Err(Refused::Forged);
        };
        let node = String::from_utf8(node).map_err(|_| Refused::Forged)?;
        hmac::verify(&self.0, &Self::input(method, path, &node, at), &sig)
            .map_err(|_| Refused::Forged)?;
        if (now - at).abs() > SKEW {
            return Err(Refused::Stale { off: now - at });
        }
        Ok(Signed { node, at, sig })
    }
}

/// A request signed with the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Signed {
    pub node: String,
    pub at: i64,
    pub sig: Vec<u8>,
}

/// Why a signed request is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// No signature, or one this key did not make.
    Forged,
    /// Made with the key, but its time is this many seconds behind this node's clock
    /// (ahead, when negative). (A replay within the skew is `Seen`'s to refuse.)
    Stale { off: i64 },
}

/// Signatures seen within the skew, so that each is accepted once.
#[derive(Default)]
pub struct Seen(std::sync::Mutex<std::collections::HashMap<Vec<u8>, i64>>);

/// At most this many remembered: far more than two nodes make in a minute.
const SEEN_MAX: usize = 10_000;

impl Seen {
    /// Whether `signed` is new (and now seen); a replay is not.
    pub fn first_time(&self, signed: &Signed, now: i64) -> bool {
        let Ok(mut seen) = self.0.lock() else {
            return false;
        };
        seen.retain(|_, at| now - *at <= 2 * SKEW);
        if seen.len() >= SEEN_MAX || seen.contains_key(&signed.sig) {
            return false;
        }
        seen.insert(signed.sig.clone(), signed.at);
        true
    }
}

/// The part a node plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Primary,
    Standby,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Primary => "primary",
            Role::Standby => "standby",
        }
    }
}

/// What a node tells its peer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Document {
    pub node: String,
    pub role: Role,
    pub config_digest: String,
    /// The node's clock when it answered.
    pub clock: i64,
    pub last_run: Option<LastRun>,
    /// The run before the last: a primary back from an outage is fresh again only from
    /// its second run (its first read the standby's log).
    #[serde(default)]
    pub run_before: Option<LastRun>,
    pub services: Vec<ServiceState>,
    /// Its deliveries of the last day, newest first, at most `LOG_MAX`.
    pub log: Vec<Delivery>,
    /// Its acks, silences and overrides made or changed in the last day, ended or not.
    pub acks: Vec<Ack>,
    pub silences: Vec<Silence>,
    pub overrides: Vec<Override>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LastRun {
    pub started_at: i64,
    pub finished_at: i64,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct ServiceState {
    pub name: String,
    pub status: String,
    pub since: i64,
    /// The open incident's key (`cabot/web/1795514531`), while one is open.
    pub incident: Option<String>,
    /// The names of its failing checks (absent from a node that does not say).
    #[serde(default)]
    pub failing: Option<Vec<String>>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Delivery {
    /// The delivery's own key, kept across its retries.
    pub key: String,
    pub incident: String,
    pub service: String,
    pub kind: String,
    pub status: String,
    pub decided_at: i64,
    /// `pending`, `delivered`, `given_up` or `superseded`.
    pub state: String,
    pub delivered_at: Option<i64>,
    pub channel: String,
    pub recipient: String,
}

/// An ack as made (or ended: `until` at `at`), so that the newer of two wins.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Ack {
    pub service: String,
    pub at: i64,
    pub until: i64,
    pub by: Option<String>,
    pub note: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Silence {
    pub service: String,
    /// When it was made, or ended.
    pub at: i64,
    pub until: i64,
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Override {
    pub id: i64,
    pub rota: String,
    pub user: String,
    pub start: i64,
    pub until: i64,
    pub by: Option<String>,
    /// When it was arranged: with the rota and user, what names it on both nodes.
    pub at: i64,
}

impl Document {
    /// What a node that has no state yet says.
    pub fn empty(cfg: &crate::config::Config, peer: &crate::config::Peer, now: i64) -> Document {
        Document {
            node: peer.name.clone(),
            role: peer.role,
            config_digest: config_digest(cfg, &peer.key),
            clock: now,
            last_run: None,
            run_before: None,
            services: Vec::new(),
            log: Vec::new(),
            acks: Vec::new(),
            silences: Vec::new(),
            overrides: Vec::new(),
        }
    }
}

/// The document this node gives at `now`, from its state.
pub fn document(
    cfg: &crate::config::Config,
    peer: &crate::config::Peer,
    store: &crate::store::Store,
    now: i64,
) -> rusqlite::Result<Document> {
    let mut failing = store.failing_check_names()?;
    let services = store
        .services()?
        .iter()
        .map(|s| ServiceState {
            failing: Some(failing.remove(&s.name).unwrap_or_default()),
            name: s.name.clone(),
            status: s.status.as_str().to_string(),
            since: s.since,
            incident: s
                .memory
                .incident_at
                .map(|at| crate::alerts::decide::incident_id(&s.name, at)),
        })
        .collect();
    Ok(Document {
        node: peer.name.clone(),
        role: peer.role,
        config_digest: config_digest(cfg, &peer.key),
        clock: now,
        last_run: store.last_run()?.map(|r| LastRun {
            started_at: r.started_at,
            finished_at: r.finished_at,
        }),
        run_before: store.run_before_last()?,
        services,
        log: store.peer_log(now - LOG_AGE, LOG_MAX)?,
        acks: store.peer_acks(now - LOG_AGE)?,
        silences: store.peer_silences(now - LOG_AGE)?,
        overrides: store.peer_overrides(now - LOG_AGE)?,
    })
}

/// The digest of what both nodes of a pair should have alike: the services, their checks
/// and the channels (the node's own `peer:` and `state` aside).
pub fn config_digest(cfg: &crate::config::Config, key: &PeerKey) -> String {
    let text = format!(
        "{:?}\n{:?}\n{:?}\n{:?}",
        cfg.services, cfg.channels, cfg.users, cfg.alerting
    );
    key.digest(&text)
}

/// Whether the witness sees the primary running: a 2xx answer says it does, any other
/// answer that it does not; no answer within `PULL_TIMEOUT` is why not.
pub fn ask_witness(url: &str) -> Result<bool, String> {
    let client = crate::http_client::Client::new();
    let request = crate::http_client::Request::get(url.to_string());
    let response = client
        .send(&request, PULL_TIMEOUT)
        .map_err(|why| why.replace(url, "its address"))?;
    Ok(response.status().is_success())
}

/// The peer's document, pulled once within `PULL_TIMEOUT`.
pub fn pull(peer: &crate::config::Peer, now: i64) -> Result<Document, String> {
    let url = format!("{}/peer/state", peer.url.trim_end_matches('/'));
    let client = crate::http_client::Client::new();
    let mut request = crate::http_client::Request::get(url.clone());
    request.headers.push((
        HEADER.into(),
        peer.key.sign("GET", "/peer/state", &peer.name, now),
    ));
    let mut response = client
        .send(&request, PULL_TIMEOUT)
        .map_err(|why| why.replace(&url, "its address"))?;
    let status = response.status().as_u16();
    let (bytes, _) =
        crate::http_client::Client::read_body(&mut response, DOCUMENT_MAX + 1, PULL_TIMEOUT)?;
    if status != 200 {
        let said = String::from_utf8_lossy(&bytes[..bytes.len().min(200)]).into_owned();
        return Err(format!(
            "it answered HTTP {status}: {}",
            crate::text::one_line(&said, 200)
        ));
    }
    if bytes.len() as u64 > DOCUMENT_MAX {
        return Err("its answer is larger than 4 MiB".into());
    }
    serde_json::from_slice(&bytes).map_err(|e| format!("its answer is not a peer's: {e}"))
}

/// A delivery still pending this long after it was decided (by the peer's clock) is past
/// its first retry, which comes a minute after the first try: the peer cannot deliver.
const STUCK: i64 = 60;

/// What this run does as half of a pair, from what the peer said.
#[derive(Debug, Clone, Default)]
pub struct Now {
    /// A standby whose primary is fresh (or seen running by the witness) holds its
    /// deliveries in its outbox; so does a fenced primary.
    pub hold: bool,
    /// A primary that reached neither its peer nor the witness for takeover_after.
    pub fenced: bool,
    /// The line each delivery carries while a standby delivers: who sent it, and why.
    pub sent_by: Option<String>,
    /// The peer's open incidents: when each began, by service.
    pub incidents: std::collections::HashMap<String, i64>,
    /// The peer's deliveries that were delivered.
    pub delivered: Vec<Delivery>,
    /// How long the peer's silence lasts before this node takes over.
    pub takeover_after: i64,
    /// What the peer, reached by this run and fresh, sees of each service: its status,
    /// and its failing checks when it says them. A failure there that only this node
    /// sees is not confirmed.
    pub peer_sees: std::collections::HashMap<String, (String, Option<Vec<String>>)>,
    /// The peer, seen running before, has not finished a run within takeover_after: its
    /// name and its last run's end.
    pub peer_down: Option<(String, i64)>,
    /// When the peer, reached by this run, decided the last failure alert it delivered,
    /// by incident: repeats are counted from it.
    pub last_delivered: std::collections::HashMap<String, i64>,
}

impl Now {
    /// What this run does, from the peer's last pull.
    pub fn of(peer: &crate::config::Peer, pull: &crate::store::peer::PeerPull, now: i64) -> Now {
        let doc = pull.document.as_ref();
        let view = View::of(pull, "", peer.takeover_after, now);
        let stuck = doc.and_then(|d| {
            d.log
                .iter()
                .filter(|l| l.state == "pending" && d.clock - l.decided_at > STUCK)
                .map(|l| l.decided_at)
                .min()
        });
        let primary = doc.is_some_and(|d| d.role == Role::Primary);
        // Two runs in a row, the last within takeover_after: a primary back from an
        // outage has read the standby's log in the first before the standby stops.
        let twice = doc.is_some_and(|d| match (d.last_run, d.run_before) {
            (Some(last), Some(before)) => {
                last.finished_at - before.finished_at <= peer.takeover_after.as_secs() as i64
            }
            _ => false,
        });
        let fresh = view.fresh && twice && stuck.is_none() && primary;
        // With a witness, a standby takes over only when the witness does not see the
        // primary running either (asked by this run); a primary that reached neither its
        // peer nor the witness for takeover_after fences itself: it holds too.
        let takeover = peer.takeover_after.as_secs() as i64;
        let witness_sees = peer.witness.is_some()
            && pull.witness_at == Some(pull.tried_at)
            && pull.witness_running == Some(true);
        let reached = pull.pulled_at.max(pull.witness_at);
        let fenced = peer.role == Role::Primary
            && peer.witness.is_some()
            && reached.is_none_or(|at| now - at > takeover);
        let hold = match peer.role {
            Role::Standby => fresh || witness_sees,
            Role::Primary => fenced,
        };
        let name = doc.map_or("the primary", |d| d.node.as_str());
        let why = match (doc.and_then(|d| d.last_run), stuck) {
            (_, Some(at)) => format!(
                "{name} has not delivered an alert of {}",
                crate::clock::rfc3339(at)
            ),
            (Some(_), None) if view.fresh && !twice => {
                format!("{name} is back, and has run once since it was down")
            }
            (Some(run), None) => format!(
                "{name} is not running since {}",
                crate::clock::rfc3339(run.finished_at)
            ),
            (None, None) => format!("{name} is not running"),
        };
        Now {
            hold,
            fenced,
            sent_by: (peer.role == Role::Standby && !hold)
                .then(|| format!("sent by {}; {why}", peer.name)),
            incidents: doc
                .map(|d| {
                    d.services
                        .iter()
                        .filter_map(|s| {
                            let key = s.incident.as_deref()?;
                            let at = key.rsplit('/').next()?.parse::<i64>().ok()?;
                            Some((s.name.clone(), at))
                        })
                        .collect()
                })
                .unwrap_or_default(),
            delivered: doc
                .map(|d| {
                    d.log
                        .iter()
                        .filter(|l| l.state == "delivered")
                        .cloned()
                        .collect()
                })
                .unwrap_or_default(),
            takeover_after: peer.takeover_after.as_secs() as i64,
            peer_down: doc
                .filter(|_| !view.fresh)
                .and_then(|d| Some((d.node.clone(), d.last_run?.finished_at))),
            last_delivered: doc
                .filter(|_| pull.pulled_at == Some(pull.tried_at))
                .map(|d| {
                    let mut last = std::collections::HashMap::new();
                    for l in d.log.iter().filter(|l| {
                        l.state == "delivered" && (l.kind == "alert" || l.kind == "repeat")
                    }) {
                        let at = last.entry(l.incident.clone()).or_insert(l.decided_at);
                        *at = l.decided_at.max(*at);
                    }
                    last
                })
                .unwrap_or_default(),
            peer_sees: doc
                .filter(|_| view.fresh && pull.pulled_at == Some(pull.tried_at))
                .map(|d| {
                    d.services
                        .iter()
                        .map(|s| (s.name.clone(), (s.status.clone(), s.failing.clone())))
                        .collect()
                })
                .unwrap_or_default(),
        }
    }

    /// Whether the peer, fresh, sees `check` of `service` pass: a failure of it here alone
    /// is not confirmed. Not when the peer does not know the service, or does not say
    /// which of its checks fail while it fails.
    pub fn peer_passes(&self, service: &str, check: &str) -> bool {
        match self.peer_sees.get(service) {
            None => false,
            Some((status, _)) if status == "PASSING" => true,
            Some((_, Some(failing))) => !failing.iter().any(|c| c == check),
            Some((_, None)) => false,
        }
    }

    /// The incident a service's alert belongs to: the peer's, when it opened one for the
    /// same failure first (or in the same second and its key sorts first), so that both
    /// nodes' alerts of one incident carry one key; else `mine`. A peer's incident that
    /// began well before this node saw the service fail is another failure's.
    pub fn incident_at(&self, service: &str, mine: i64, failing_since: i64) -> i64 {
        match self.incidents.get(service) {
            Some(&theirs)
                if theirs < mine && theirs.saturating_add(self.takeover_after) >= failing_since =>
            {
                theirs
            }
            _ => mine,
        }
    }
}

/// How this node sees its peer at `now`, from the last pull.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct View {
    /// The peer's name and role, as it said last.
    pub name: Option<String>,
    pub role: Option<Role>,
    /// Seconds since the peer's last finished run, as of now.
    pub last_run_age_seconds: Option<i64>,
    /// Whether the peer finished a run within `takeover_after`.
    pub fresh: bool,
    /// Why the last pull failed, and when the peer was last reached.
    pub problem: Option<String>,
    pub last_reached: Option<i64>,
    /// The peer's services, checks, channels, users or alerting differ from this node's.
    pub config_differs: bool,
    /// How far the peer's clock was ahead of this node's (behind when negative), when
    /// more than `SKEW`.
    pub clock_skew_seconds: Option<i64>,
    /// Whether the witness saw the primary running when it was last reached, and how long
    /// ago that was; absent without a witness.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness_sees_primary: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness_age_seconds: Option<i64>,
    /// This node is a primary that reached neither its peer nor the witness for
    /// takeover_after: it holds its alerts.
    pub fenced: bool,
}

impl View {
    pub fn of(
        pull: &crate::store::peer::PeerPull,
        own_digest: &str,
        takeover_after: Duration,
        now: i64,
    ) -> View {
        let doc = pull.document.as_ref();
        let pulled_at = pull.pulled_at.unwrap_or(pull.tried_at);
        let age = doc.and_then(|d| {
            let finished = d.last_run?.finished_at;
            Some((d.clock - finished).max(0) + (now - pulled_at).max(0))
        });
        let skew = doc
            .map(|d| d.clock - pulled_at)
            .filter(|off| off.abs() > SKEW);
        View {
            name: doc.map(|d| d.node.clone()),
            role: doc.map(|d| d.role),
            last_run_age_seconds: age,
            fresh: age.is_some_and(|a| a <= takeover_after.as_secs() as i64),
            problem: pull.problem.clone(),
            last_reached: pull.pulled_at,
            config_differs: doc.is_some_and(|d| d.config_digest != own_digest),
            clock_skew_seconds: skew,
            witness_sees_primary: pull.witness_running,
            witness_age_seconds: pull.witness_at.map(|at| (now - at).max(0)),
            fenced: false,
        }
    }

    /// `of`, with what only the node's own `peer:` tells: whether it is fenced.
    pub fn of_node(
        peer: &crate::config::Peer,
        pull: &crate::store::peer::PeerPull,
        own_digest: &str,
        now: i64,
    ) -> View {
        View {
            fenced: Now::of(peer, pull, now).fenced,
            ..View::of(pull, own_digest, peer.takeover_after, now)
        }
    }

    /// The lines `cabot status` shows.
    pub fn lines(&self) -> Vec<String> {
        let who = match (&self.name, self.role) {
            (Some(name), Some(role)) => format!("{name} ({})", role.as_str()),
            _ => "the other node".to_string(),
        };
        let run = match self.last_run_age_seconds {
            Some(age) => format!("last run {}", crate::clock::Ago(age)),
            None => "no run known".to_string(),
        };
        let fresh = if self.fresh { "fresh" } else { "not fresh" };
        let mut out = vec![format!("peer: {who}, {fresh}: {run}")];
        if let Some(why) = &self.problem {
            let since = match self.last_reached {
                Some(at) => format!("since {}", crate::clock::rfc3339(at)),
                None => "ever".to_string(),
            };
            out.push(format!("  not reached {since}: {why}"));
        }
        if self.config_differs {
            out.push(
                "  warning: its config differs from this node's (services, checks, channels, \
                 users or alerting)"
                    .to_string(),
            );
        }
        if let (Some(sees), Some(age)) = (self.witness_sees_primary, self.witness_age_seconds) {
            let saw = if sees { "saw" } else { "did not see" };
            out.push(format!(
                "  witness: {saw} the primary running, {}",
                crate::clock::Ago(age)
            ));
        }
        if self.fenced {
            out.push(
                "  warning: this primary has reached neither its peer nor the witness for \
                 takeover_after: it holds its alerts (fenced), as the standby delivers"
                    .to_string(),
            );
        }
        if let Some(off) = self.clock_skew_seconds {
            out.push(format!(
                "  warning: its clock is {} {} this node's; check both (NTP)",
                crate::clock::format_age(off.abs()),
                if off > 0 { "ahead of" } else { "behind" }
            ));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_holds_for_its_request_its_node_and_its_time_only() {
        let key = PeerKey::new(&[7u8; 32]);
        let header = key.sign("GET", "/peer/state", "a", 1_000);
        let signed = key.verify(&header, "GET", "/peer/state", 1_010).unwrap();
        assert_eq!((signed.node.as_str(), signed.at), ("a", 1_000));
        // Another key, path, method, or a changed node or time: forged.
        let other = PeerKey::new(&[8u8; 32]);
        assert_eq!(
            other.verify(&header, "GET", "/peer/state", 1_000),
            Err(Refused::Forged)
        );
        assert_eq!(
            key.verify(&header, "GET", "/status.json", 1_000),
            Err(Refused::Forged)
        );
        assert_eq!(
            key.verify(&header, "POST", "/peer/state", 1_000),
            Err(Refused::Forged)
        );
        let moved = header.replace("t=1000", "t=1020");
        assert_eq!(
            key.verify(&moved, "GET", "/peer/state", 1_020),
            Err(Refused::Forged)
        );
        let renamed = header.replace(&URL_SAFE_NO_PAD.encode("a"), &URL_SAFE_NO_PAD.encode("b"));
        assert_eq!(
            key.verify(&renamed, "GET", "/peer/state", 1_000),
            Err(Refused::Forged)
        );
        assert_eq!(
            key.verify("", "GET", "/peer/state", 1_000),
            Err(Refused::Forged)
        );
        // Right, but too old or too far ahead.
        assert_eq!(
            key.verify(&header, "GET", "/peer/state", 1_031),
            Err(Refused::Stale { off: 31 })
        );
        assert_eq!(
            key.verify(&header, "GET", "/peer/state", 969),
            Err(Refused::Stale { off: -31 })
        );
    }

    #[test]
    fn a_signature_is_taken_once() {
        let key = PeerKey::new(&[7u8; 32]);
        let signed_at = |at: i64| {
            let header = key.sign("GET", "/peer/state", "a", at);
            key.verify(&header, "GET", "/peer/state", at).unwrap()
        };
        let seen = Seen::default();
        let first = signed_at(1_000);
        assert!(seen.first_time(&first, 1_000));
        assert!(!seen.first_time(&first, 1_005));
        assert!(seen.first_time(&signed_at(1_001), 1_001));
    }

    #[test]
    fn a_peer_is_fresh_while_its_last_run_is_within_takeover_after() {
        let mut doc = Document {
            node: "a".into(),
            role: Role::Primary,
            config_digest: "same".into(),
            clock: 1_000,
            last_run: Some(LastRun {
                started_at: 950,
                finished_at: 960,
            }),
            run_before: None,
            services: Vec::new(),
            log: Vec::new(),
            acks: Vec::new(),
            silences: Vec::new(),
            overrides: Vec::new(),
        };
        let pull = |doc: &Document, at: i64, problem: Option<&str>| crate::store::peer::PeerPull {
            tried_at: at,
            pulled_at: Some(at),
            document: Some(doc.clone()),
            problem: problem.map(str::to_string),
            witness_at: None,
            witness_running: None,
        };
        let two = Duration::from_secs(120);
        // Pulled at 1,000: its run ended 40 s before; 80 s later it is 120 s old.
        let v = View::of(&pull(&doc, 1_000, None), "same", two, 1_080);
        assert_eq!(v.last_run_age_seconds, Some(120));
        assert!(v.fresh && !v.config_differs && v.clock_skew_seconds.is_none());
        let v = View::of(&pull(&doc, 1_000, None), "same", two, 1_081);
        assert!(!v.fresh);
        // Its clock 45 s ahead of ours when pulled, and another config.
        doc.clock = 1_045;
        let v = View::of(&pull(&doc, 1_000, Some("down")), "other", two, 1_000);
        assert_eq!(v.clock_skew_seconds, Some(45));
        assert!(v.config_differs);
        let lines = v.lines();
        assert_eq!(lines[0], "peer: a (primary), fresh: last run 1m ago");
        assert!(lines[1].starts_with("  not reached since "), "{lines:?}");
        assert!(lines[2].contains("its config differs"), "{lines:?}");
        assert_eq!(
            lines[3],
            "  warning: its clock is 45s ahead of this node's; check both (NTP)"
        );
    }

    #[test]
    fn a_standby_holds_only_for_a_primary_fresh_for_two_runs() {
        let peer = crate::config::Peer {
            name: "b".into(),
            url: "http://127.0.0.1:1".into(),
            key: PeerKey::new(&[7u8; 32]),
            role: Role::Standby,
            takeover_after: Duration::from_secs(120),
            witness: None,
        };
        let run = |at: i64| LastRun {
            started_at: at - 5,
            finished_at: at,
        };
        let doc = |before: Option<i64>, pending_since: Option<i64>| Document {
            node: "a".into(),
            role: Role::Primary,
            config_digest: String::new(),
            clock: 1_000,
            last_run: Some(run(990)),
            run_before: before.map(run),
            services: vec![ServiceState {
                name: "web".into(),
                status: "ERROR".into(),
                since: 900,
                incident: Some("cabot/web/930".into()),
                failing: Some(vec!["home".into()]),
            }],
            log: pending_since
                .map(|at| Delivery {
                    key: "k".into(),
                    incident: "cabot/web/930".into(),
                    service: "web".into(),
                    kind: "alert".into(),
                    status: "ERROR".into(),
                    decided_at: at,
                    state: "pending".into(),
                    delivered_at: None,
                    channel: "hook".into(),
                    recipient: String::new(),
                })
                .into_iter()
                .collect(),
            acks: Vec::new(),
            silences: Vec::new(),
            overrides: Vec::new(),
        };
        let pull = |d: Document| crate::store::peer::PeerPull {
            tried_at: 1_000,
            pulled_at: Some(1_000),
            document: Some(d),
            problem: None,
            witness_at: None,
            witness_running: None,
        };
        // Two runs a minute apart: hold.
        let now = Now::of(&peer, &pull(doc(Some(930), None)), 1_010);
        assert!(now.hold && now.sent_by.is_none());
        assert_eq!(now.incidents.get("web"), Some(&930));
        // Back from an outage: its first run only; the standby still delivers.
        let now = Now::of(&peer, &pull(doc(Some(300), None)), 1_010);
        assert!(!now.hold);
        assert_eq!(
            now.sent_by.as_deref(),
            Some("sent by b; a is back, and has run once since it was down")
        );
        // Running, but a delivery pending over a minute: it cannot deliver.
        let now = Now::of(&peer, &pull(doc(Some(930), Some(939))), 1_010);
        assert!(!now.hold);
        assert_eq!(
            now.sent_by.as_deref(),
            Some("sent by b; a has not delivered an alert of 1970-01-01T00:15:39Z")
        );
        let now = Now::of(&peer, &pull(doc(Some(930), Some(940))), 1_010);
        assert!(now.hold, "a minute exactly is not past its first retry");
        // The peer's incident is taken for the same failure, not an older one.
        assert_eq!(now.incident_at("web", 1_005, 1_000), 930);
        assert_eq!(now.incident_at("web", 1_005, 1_100), 1_005);
        assert_eq!(now.incident_at("db", 1_005, 1_000), 1_005);
        // The peer, fresh, sees home fail and api pass; it knows nothing of db.
        assert!(!now.peer_passes("web", "home"));
        assert!(now.peer_passes("web", "api"));
        assert!(!now.peer_passes("db", "home"));
        // A peer that does not say which checks fail confirms its failing service's.
        let mut quiet = doc(Some(930), Some(940));
        quiet.services[0].failing = None;
        let now = Now::of(&peer, &pull(quiet), 1_010);
        assert!(!now.peer_passes("web", "api"));
    }
}
