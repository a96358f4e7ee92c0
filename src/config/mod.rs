//! The YAML configuration: what to check, who to tell, where state lives.
//!
//! `load` reads the file once and reports every problem it finds, each with the
//! file, line, column and key, rather than stopping at the first.

pub(crate) mod read;
mod suggest;
pub mod yaml;

use std::collections::BTreeMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::alerts::channels::ChannelKind;
use crate::checks::CheckKind;
use crate::core::Importance;

/// Where the config is looked for when neither `-c` nor `$CABOT_CONFIG` says.
pub const DEFAULT_PATH: &str = "/etc/cabot/checks.yaml";
/// Where state is kept when the config has no `state:`.
pub const DEFAULT_STATE: &str = "/var/lib/cabot/cabot.db";
pub const DEFAULT_LISTEN: &str = "127.0.0.1:5001";

#[derive(Debug, Clone)]
pub struct Config {
    pub path: PathBuf,
    pub state: PathBuf,
    pub stale_after: Duration,
    pub retention: Duration,
    pub status: StatusSettings,
    pub heartbeat_url: Option<String>,
    /// Whether `heartbeat_url/start` is sent as a run begins.
    pub heartbeat_start: bool,
    /// Every `*_env` secret: what needs it fails where its variable is unset.
    pub env_secrets: Vec<EnvSecret>,
    pub defaults: Defaults,
    pub alerting: Alerting,
    pub users: BTreeMap<String, User>,
    pub channels: BTreeMap<String, Channel>,
    pub services: Vec<Service>,
    /// Where each service is in `services`, by name: a lookup by name is not a scan. A
    /// table of positions, hashed by the names `services` holds, rather than a map of
    /// copies of them (5,000 strings at 5,000 services).
    pub(crate) service_index: hashbrown::HashTable<usize>,
    pub maintenance: Vec<Maintenance>,
    /// Dated maintenance windows written in the config (those of `cabot maintenance add`
    /// are in the state).
    pub scheduled: Vec<crate::store::posts::Window>,
    /// Duty rotas, by name.
    pub oncall: BTreeMap<String, Rota>,
    /// The other node, when this one is half of a pair.
    pub peer: Option<Peer>,
    /// What this run does as half of a pair, from what the peer said (set by `cabot run`).
    pub pair: crate::peer::Now,
    /// Checks of things that are always up: when all of them fail, cabot's own network is
    /// down, and the run's failures say nothing of the services.
    pub network_checks: Vec<Check>,
}

/// `peer:`: the other node of a pair, the key both sign with, and this node's part.
#[derive(Debug, Clone)]
pub struct Peer {
    /// This node's name.
    pub name: String,
    /// The other node's `serve-status`.
    pub url: String,
    pub key: crate::peer::PeerKey,
    pub role: crate::peer::Role,
    /// How long a primary's silence lasts before the standby takes over.
    pub takeover_after: Duration,
    /// A third view of the primary, for a link down between the two.
    pub witness: Option<String>,
}

/// A duty rota: each of `users` on duty for a week in turn, from one handoff to the next,
/// or whoever its calendar names; and `fallback` whenever the rota yields nobody.
#[derive(Debug, Clone)]
pub struct Rota {
    pub name: String,
    /// The weekly rotation's users; empty for a calendar rota.
    pub users: Vec<String>,
    pub handoff_day: jiff::civil::Weekday,
    pub handoff_time: jiff::civil::Time,
    pub time_zone: jiff::tz::TimeZone,
    pub fallback: String,
    /// Where a calendar rota's events come from.
    pub calendar: Option<CalendarSource>,
    /// One-off overrides from the state (`cabot oncall override`), oldest first; not
    /// config, filled in by the commands that decide who is told.
    pub overrides: Vec<Override>,
    /// A calendar rota's occurrences around now; not config, filled in like `overrides`.
    /// `None` until read: the rota then yields its fallback.
    pub from_calendar: Option<std::sync::Arc<CalendarRead>>,
}

/// An iCalendar for a rota: fetched over HTTPS or read from a file.
#[derive(Debug, Clone)]
pub struct CalendarSource {
    pub location: CalendarLocation,
    pub timeout: Duration,
    /// How long a fetched copy serves `cabot run` before it fetches again.
    pub refresh: Duration,
    /// CA certificates (PEM) trusted instead of the public roots.
    pub ca_pem: Option<Vec<u8>>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CalendarLocation {
    Url(String),
    File(PathBuf),
}

impl std::fmt::Display for CalendarLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            // A calendar's address often holds its secret (a private iCal link): only the
            // host is shown.
            CalendarLocation::Url(url) => {
                let rest = url.split_once("://").map_or(url.as_str(), |(_, r)| r);
                let host = rest.split(['/', '?', '#']).next().unwrap_or("");
                let host = host.rsplit_once('@').map_or(host, |(_, h)| h);
                write!(f, "the calendar at https://{host}/…")
            }
            CalendarLocation::File(path) => write!(f, "the calendar {}", path.display()),
        }
    }
}

/// The most of a calendar that is read, from a file or over HTTPS.
pub const CALENDAR_MAX: u64 = 4 * 1024 * 1024;

/// A calendar file's text, or why not: at most `CALENDAR_MAX`, UTF-8, and only from a
/// regular file (opening a FIFO would wait for a writer, holding up the run).
pub fn read_calendar_file(path: &Path) -> Result<String, String> {
    use std::io::Read as _;
    match std::fs::metadata(path) {
        Err(e) => return Err(e.to_string()),
        Ok(m) if !m.is_file() => return Err("it is not a regular file".into()),
        Ok(_) => {}
    }
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(CALENDAR_MAX + 1).read_to_end(&mut bytes))
        .map_err(|e| e.to_string())?;
    calendar_text(bytes)
}

/// A calendar's bytes as text, read as `CALENDAR_MAX + 1` at most: too large, or not
/// UTF-8, is why not.
pub fn calendar_text(bytes: Vec<u8>) -> Result<String, String> {
    if bytes.len() as u64 > CALENDAR_MAX {
        return Err("it is larger than 4 MiB".into());
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".into())
}

/// A calendar rota's occurrences, and whether they come from the copy kept in the state
/// because the calendar itself could not be read (`problem` says why).
#[derive(Debug, Clone, Default)]
pub struct CalendarShifts {
    pub occurrences: Vec<crate::core::ical::Occurrence>,
    pub cached: bool,
    /// When the copy in use was read; `None` when there is none (never read).
    pub read_at: Option<i64>,
    pub problem: Option<String>,
    pub warnings: Vec<String>,
}

/// A calendar rota's shifts as a command comes to know them. `cabot run` reads calendars
/// beside its checks, not before them: until the read is done (or its deadline passes,
/// the calendar's timeout from the run's start) the rota's copy kept in the state stands
/// in, and only a reader of this rota waits for it.
#[derive(Debug, Default)]
pub struct CalendarRead {
    /// What stands in while the read is under way, and after its deadline.
    standing: CalendarShifts,
    fresh: std::sync::OnceLock<CalendarShifts>,
    /// How long a reader waits for `fresh`; `None`: not at all.
    wait_until: Option<std::time::Instant>,
    signal: (std::sync::Mutex<()>, std::sync::Condvar),
}

impl CalendarRead {
    /// Shifts known already.
    pub fn ready(shifts: CalendarShifts) -> std::sync::Arc<CalendarRead> {
        let read = CalendarRead::default();
        let _ = read.fresh.set(shifts);
        std::sync::Arc::new(read)
    }

    /// Shifts a reader waits for until `wait_until`, `standing` in for them after that.
    pub fn pending(
        standing: CalendarShifts,
        wait_until: std::time::Instant,
    ) -> std::sync::Arc<CalendarRead> {
        std::sync::Arc::new(CalendarRead {
            standing,
            wait_until: Some(wait_until),
            ..CalendarRead::default()
        })
    }

    /// The read is done: its shifts replace the standing ones, and waiting readers go on.
    pub fn settle(&self, shifts: CalendarShifts) {
        let _ = self.fresh.set(shifts);
        let _guard = self.signal.0.lock();
        self.signal.1.notify_all();
    }

    /// When a reader of this rota would stop waiting: `None` when it would not wait.
    pub fn settles_at(&self) -> Option<std::time::Instant> {
        if self.fresh.get().is_some() {
            return None;
        }
        self.wait_until
            .filter(|until| *until > std::time::Instant::now())
    }

    /// The shifts, waiting for the read until its deadline.
    pub fn shifts(&self) -> &CalendarShifts {
        if let Some(until) = self.settles_at() {
            let mut guard = self.signal.0.lock().unwrap_or_else(|e| e.into_inner());
            while self.fresh.get().is_none() {
                let left = until.saturating_duration_since(std::time::Instant::now());
                if left.is_zero() {
                    break;
                }
                guard = match self.signal.1.wait_timeout(guard, left) {
                    Ok((g, _)) => g,
                    Err(e) => e.into_inner().0,
                };
            }
        }
        self.fresh.get().unwrap_or(&self.standing)
    }
}

/// USER on duty for a rota in `[start, until)`, whatever its rotation says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Override {
    pub user: String,
    pub start: i64,
    pub until: i64,
    pub by: Option<String>,
}

/// `text` (`2026-12-12 02:00`) as a time in `zone`, in Unix seconds.
pub fn local_time(text: &str, zone: &jiff::tz::TimeZone) -> Result<i64, String> {
    let civil = text
        .trim()
        .parse::<jiff::civil::DateTime>()
        .map_err(|_| format!("'{text}' is not a date and time like \"2026-12-12 02:00\""))?;
    zone.to_timestamp(civil)
        .map(|t| t.as_second())
        .map_err(|e| format!("'{text}': {e}"))
}

/// A weekly window in which alerts for some services are muted (checks still run).
#[derive(Debug, Clone)]
pub struct Maintenance {
    /// The services it covers; empty means all.
    pub services: Vec<String>,
    /// The days it starts on; empty means every day.
    pub days: Vec<jiff::civil::Weekday>,
    pub start: jiff::civil::Time,
    pub duration: Duration,
    pub time_zone: jiff::tz::TimeZone,
}

impl Maintenance {
    /// Whether this window covers `service` at `now` (Unix seconds).
    pub fn covers(&self, service: &str, now: i64) -> bool {
        if !self.services.is_empty() && !self.services.iter().any(|s| s == service) {
            return false;
        }
        let Ok(ts) = jiff::Timestamp::from_second(now) else {
            return false;
        };
        let today = ts.to_zoned_datetime(self.time_zone.clone()).date();
        let length = self.duration.as_secs() as i64;
        // A window that began on an earlier day may still be open.
        (0..=length / 86_400 + 1).any(|back| {
            let Ok(day) = today.checked_sub(jiff::Span::new().days(back)) else {
                return false;
            };
            if !self.days.is_empty() && !self.days.contains(&day.weekday()) {
                return false;
            }
            let Ok(start) = day
                .to_datetime(self.start)
                .to_zoned_datetime(self.time_zone.clone())
            else {
                return false;
            };
            let start = start.timestamp().as_second();
            start <= now && now < start + length
        })
    }
}

#[derive(Debug, Clone)]
pub struct StatusSettings {
    pub listen: String,
    pub metrics: bool,
    /// Ack links in alerts, with `public_url` and `ack_secret_file`.
    pub ack: Option<crate::alerts::ack_link::AckLinks>,
    /// Where people reach the status page (behind a proxy): the feed's links start here.
    pub public_url: Option<String>,
    /// Channels told of each incident post's update and each dated window's start and end.
    pub announce: Vec<String>,
    /// Where the static status site is written after runs, and how it is sent on.
    pub publish: Option<Publish>,
}

/// `status.publish`.
#[derive(Debug, Clone)]
pub struct Publish {
    pub dir: std::path::PathBuf,
    /// Run after each publication, within `timeout`: a program and its arguments.
    pub command: Option<Vec<String>>,
    pub timeout: Duration,
    /// The variables the command gets from cabot's environment, beside PATH and HOME.
    pub env: Vec<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Defaults {
    pub frequency: Duration,
    pub timeout: Duration,
    pub importance: Importance,
    pub debounce: u32,
    pub recover_after: u32,
}

impl Default for Defaults {
    fn default() -> Self {
        Defaults {
            frequency: Duration::from_secs(60),
            timeout: Duration::from_secs(10),
            importance: Importance::Error,
            debounce: 0,
            recover_after: 0,
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Alerting {
    /// How long after the last alert a still-failing service is alerted again, by status.
    pub repeat_warning: Duration,
    pub repeat_error: Duration,
    pub repeat_critical: Duration,
    pub ack_expiry: Duration,
    pub give_up_after: Duration,
}

impl Default for Alerting {
    fn default() -> Self {
        Alerting {
            repeat_warning: Duration::from_secs(2 * 3600),
            repeat_error: Duration::from_secs(600),
            repeat_critical: Duration::from_secs(600),
            ack_expiry: Duration::from_secs(20 * 60),
            give_up_after: Duration::from_secs(24 * 3600),
        }
    }
}

/// A person alerts reach, by the contacts the channels need (`email`, `phone`, `slack`).
#[derive(Debug, Clone, Default)]
pub struct User {
    /// Contact key to value, e.g. `email` to `alice@example.com`.
    pub contacts: BTreeMap<String, String>,
    /// The person's full name (`name: Alice Smith`), as a calendar's events may call them.
    pub name: Option<String>,
}

impl User {
    pub fn contact(&self, key: &str) -> Option<&str> {
        self.contacts.get(key).map(String::as_str)
    }
}

/// A secret written inline, named by an environment variable, or kept in a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Secret {
    Inline(String),
    Env(String),
    File(PathBuf),
}

impl Secret {
    /// The secret's value, read now (so a rotated file or variable is picked up).
    pub fn resolve(&self) -> anyhow::Result<String> {
        match self {
            Secret::Inline(s) => Ok(s.clone()),
            Secret::Env(var) => std::env::var(var)
                .map_err(|_| anyhow::anyhow!("environment variable {var} is not set")),
            Secret::File(path) => std::fs::read_to_string(path)
                .map(|s| s.trim_end_matches(['\n', '\r']).to_string())
                .map_err(|e| anyhow::anyhow!("cannot read secret file {}: {e}", path.display())),
        }
    }
}

/// A secret read from an environment variable, and the key that names it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvSecret {
    pub key: String,
    pub var: String,
}

impl EnvSecret {
    /// Whether its variable is unset here.
    pub fn is_unset(&self) -> bool {
        std::env::var_os(&self.var).is_none()
    }

    /// What is wrong when it is unset.
    pub fn unset_message(&self) -> String {
        format!(
            "environment variable {} is not set here: anything that needs it will fail \
             wherever it is not set",
            self.var
        )
    }
}

#[derive(Debug, Clone)]
pub struct Channel {
    pub name: String,
    pub min_importance: Option<Importance>,
    /// Extra recipients beyond the services' users.
    pub to: Vec<String>,
    /// How long one provider, server or command gets before the next is tried.
    pub timeout: Duration,
    pub kind: ChannelKind,
    /// A rota whose user on duty this channel always reaches too.
    pub oncall: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub url: Option<String>,
    pub runbook: Option<String>,
    pub users: Vec<String>,
    /// A rota whose user on duty is told too.
    pub oncall: Option<String>,
    pub channels: Vec<String>,
    /// Who else is told, and how, as an incident goes on unacknowledged.
    pub escalation: Vec<EscalationStep>,
    pub public: bool,
    /// `confirm: peer`: a failure this node sees alone does not page while the other
    /// node of the pair is fresh and sees the service pass.
    pub confirm_peer: bool,
    /// Services this one needs: while one of them fails, this one's new alerts wait.
    pub depends_on: Vec<String>,
    /// `flap: { changes, within }`: more status changes than that within that long, and
    /// the service is flapping.
    pub flap: Option<Flap>,
    pub checks: Vec<Check>,
}

/// One escalation step: `after` the incident's first alert, still failing and not
/// acknowledged, tell `notify` through `channels` (the service's when empty).
#[derive(Debug, Clone)]
pub struct EscalationStep {
    pub after: Duration,
    pub notify: Vec<Notify>,
    pub channels: Vec<String>,
}

/// Someone an escalation step tells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notify {
    /// Whoever the service's rota has on duty then.
    OnCall,
    User(String),
}

/// A service that changes status more than `changes` times within `within` flaps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flap {
    pub changes: u32,
    pub within: Duration,
}

/// `retry: { count: 2, after: 10s }`: a failed check is tried again up to `count` times,
/// `after` apart, within the same run; only the last try is its result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retry {
    pub count: u32,
    pub after: Duration,
}

impl Check {
    /// The longest a run of the check can take: its tries, each within its timeout, and
    /// the waits between them.
    pub fn worst_case(&self) -> Duration {
        match self.retry {
            None => self.timeout,
            Some(r) => self.timeout + (self.timeout + r.after) * r.count,
        }
    }

    /// When it counts as failing, and as passing again.
    pub fn thresholds(&self) -> crate::core::debounce::Thresholds {
        crate::core::debounce::Thresholds {
            debounce: self.debounce,
            recover_after: self.recover_after,
        }
    }
}

impl Service {
    /// Whether a failure of `check` needs the peer to see it too (`confirm: peer`).
    pub fn confirm_by_peer(&self, check: &str) -> bool {
        self.confirm_peer
            || self
                .checks
                .iter()
                .any(|c| c.name == check && c.confirm_peer)
    }

    /// Whether any failure of this service needs the peer to see it too.
    pub fn any_confirm_by_peer(&self) -> bool {
        self.confirm_peer || self.checks.iter().any(|c| c.confirm_peer)
    }

    /// The user the service's rota has on duty at `now`, if it names a rota.
    pub fn on_duty(&self, cfg: &Config, now: i64) -> Option<String> {
        cfg.on_duty(self.oncall.as_deref()?, now)
    }

    /// Until when deciding this service's alerts would wait for a calendar being read
    /// (its rota's, or a rota of a channel it alerts through); `None`: it would not wait.
    pub fn calendars_settle_at(&self, cfg: &Config) -> Option<std::time::Instant> {
        self.calendars(cfg).filter_map(|c| c.settles_at()).max()
    }

    /// The calendars deciding this service's alerts reads: its rota's, and those of the
    /// rotas of the channels it alerts through.
    pub fn calendars<'c>(&'c self, cfg: &'c Config) -> impl Iterator<Item = &'c CalendarRead> {
        let channels = self
            .channels
            .iter()
            .chain(self.escalation.iter().flat_map(|s| s.channels.iter()));
        self.oncall
            .iter()
            .chain(channels.filter_map(|c| cfg.channels.get(c)?.oncall.as_ref()))
            .filter_map(|r| cfg.oncall.get(r)?.from_calendar.as_deref())
    }

    /// Who is told at `now`: the service's users, and whoever its rota has on duty.
    pub fn people(&self, cfg: &Config, now: i64) -> Vec<String> {
        let mut people = self.users.clone();
        if let Some(user) = self.on_duty(cfg, now)
            && !people.contains(&user)
        {
            people.push(user);
        }
        people
    }
}

#[derive(Debug, Clone)]
pub struct Check {
    pub name: String,
    pub importance: Importance,
    pub frequency: Duration,
    pub timeout: Duration,
    pub debounce: u32,
    /// A failing check passes again only after this many passing results in a row, plus
    /// one (the mirror of debounce).
    pub recover_after: u32,
    /// Tries again within the run before a failure counts.
    pub retry: Option<Retry>,
    pub active: bool,
    /// `confirm: peer` on the check (or on its service): its failure, seen by this node
    /// alone while the peer is fresh and sees it pass, does not page.
    pub confirm_peer: bool,
    pub kind: CheckKind,
}

/// The hash `service_index` files a service name under.
fn name_hash(name: &str) -> u64 {
    use std::hash::BuildHasher as _;
    foldhash::fast::FixedState::default().hash_one(name)
}

impl Config {
    /// Whether a run can use what the secret at `key` belongs to: a channel that a service
    /// with an active check alerts through, an active check, or anything at the top level.
    /// An example's unused channels and inactive checks need no variable set.
    pub fn secret_in_use(&self, key: &str) -> bool {
        if let Some(rest) = key.strip_prefix("channels.") {
            return self
                .channels
                .keys()
                .filter(|name| rest.starts_with(&format!("{name}.")))
                .any(|name| self.alerting_through(name));
        }
        if let Some(rest) = key.strip_prefix("services[") {
            for s in &self.services {
                if let Some(after) = rest.strip_prefix(&format!("{}].checks[", s.name)) {
                    return s
                        .checks
                        .iter()
                        .any(|c| c.active && after.starts_with(&format!("{}]", c.name)));
                }
            }
        }
        true
    }

    /// Whether a service with an active check alerts through `channel`.
    fn alerting_through(&self, channel: &str) -> bool {
        self.services.iter().any(|s| {
            s.checks.iter().any(|c| c.active)
                && (s.channels.iter().any(|c| c == channel)
                    || s.escalation
                        .iter()
                        .any(|e| e.channels.iter().any(|c| c == channel)))
        })
    }

    /// The channels whose providers keep incidents open, which acknowledgements reach.
    pub fn incident_channels(&self) -> Vec<&str> {
        self.channels
            .iter()
            .filter(|(_, c)| c.kind.incidents())
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

impl Config {
    pub fn service(&self, name: &str) -> Option<&Service> {
        self.position_of(name).map(|i| &self.services[i])
    }

    /// Where the service `name` is in `services`.
    pub fn position_of(&self, name: &str) -> Option<usize> {
        let named = |&i: &usize| self.services.get(i).is_some_and(|s| s.name == name);
        self.service_index.find(name_hash(name), named).copied()
    }

    /// The services `name` depends on, directly or through others, nearest first.
    pub fn dependencies_of(&self, name: &str) -> Vec<&str> {
        let mut found: Vec<&str> = Vec::new();
        let mut walked = 0;
        let mut walking = name;
        loop {
            if let Some(service) = self.service(walking) {
                for d in &service.depends_on {
                    if d != name && !found.contains(&d.as_str()) {
                        found.push(d);
                    }
                }
            }
            let Some(&next) = found.get(walked) else {
                return found;
            };
            walking = next;
            walked += 1;
        }
    }

    /// The services `name` depends on that are failing now, by `failing`.
    pub fn failing_dependencies<'a>(
        &'a self,
        name: &str,
        failing: impl Fn(&str) -> bool,
    ) -> Vec<&'a str> {
        match self.service(name) {
            Some(s) if !s.depends_on.is_empty() => self
                .dependencies_of(name)
                .into_iter()
                .filter(|d| failing(d))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The services that depend on `name`, directly or through others, in config order.
    pub fn dependents_of(&self, name: &str) -> Vec<&str> {
        self.services
            .iter()
            .filter(|s| !s.depends_on.is_empty() && s.name != name)
            .filter(|s| self.dependencies_of(&s.name).contains(&name))
            .map(|s| s.name.as_str())
            .collect()
    }

    /// Indexes `services` by name; each name is in it once.
    pub(crate) fn index_services(&mut self) {
        let services = &self.services;
        let mut index = hashbrown::HashTable::with_capacity(services.len());
        for (i, s) in services.iter().enumerate() {
            index.insert_unique(name_hash(&s.name), i, |&j| name_hash(&services[j].name));
        }
        self.service_index = index;
    }

    /// The service named on the command line, or a usage error that lists the services.
    pub fn service_named(&self, name: &str) -> anyhow::Result<&Service> {
        self.service(name).ok_or_else(|| {
            let names: Vec<&str> = self.services.iter().map(|s| s.name.as_str()).collect();
            crate::exit_codes::Exit::error(
                crate::exit_codes::ExitCode::Usage,
                format!(
                    "no service named '{name}' in the config (services: {})",
                    names.join(", ")
                ),
            )
        })
    }

    /// The user the rota named `rota` has on duty at `t` (its fallback when it yields
    /// nobody); `None` for a rota the config does not have.
    pub fn on_duty(&self, rota: &str, t: i64) -> Option<String> {
        Some(crate::core::oncall::on_duty(self.oncall.get(rota)?, t).0)
    }

    /// `on_duty`, with where the answer comes from when that is worth a word: the copy
    /// of a calendar that could not be read (when it was read, and why not since), or a
    /// fallback standing in.
    pub fn on_duty_said(&self, rota: &str, t: i64) -> Option<(String, Option<String>)> {
        use crate::core::oncall::Source;
        let r = self.oncall.get(rota)?;
        let (user, source) = crate::core::oncall::on_duty(r, t);
        let read = r.from_calendar.as_deref().map(CalendarRead::shifts);
        let why = read.and_then(|c| c.problem.as_deref());
        let said = match source {
            Source::Cache => Some(format!(
                "from the kept copy of its calendar{}{}",
                read.and_then(|c| c.read_at)
                    .map(|at| format!(", read {}", crate::clock::format_time(at)))
                    .unwrap_or_default(),
                why.map(|w| format!(": the calendar could not be read since: {w}"))
                    .unwrap_or_default()
            )),
            Source::Fallback => Some(format!(
                "the fallback of {rota}{}",
                why.map(|w| format!(": its calendar could not be read: {w}"))
                    .unwrap_or_default()
            )),
            _ => None,
        };
        Some((user, said))
    }

    /// Whether a maintenance window covers `service` at `now`.
    pub fn in_maintenance(&self, service: &str, now: i64) -> bool {
        self.maintenance.iter().any(|m| m.covers(service, now))
            || self.scheduled.iter().any(|w| w.covers(service, now))
    }
}

/// One problem found in the config, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub line: usize,
    pub col: usize,
    pub key: String,
    pub message: String,
}

/// A config that could not be used: every error found, and the warnings.
#[derive(Debug, thiserror::Error)]
pub struct ConfigError {
    pub file: PathBuf,
    pub errors: Vec<Diagnostic>,
    /// What was worth a warning too, so that `validate` shows it with the errors rather
    /// than only once they are fixed.
    pub warnings: Vec<Diagnostic>,
    /// Set when the file could not be read at all.
    pub io: Option<String>,
}

impl ConfigError {
    /// One line per error, `file:line:col: key: message`.
    pub fn lines(&self) -> Vec<String> {
        if let Some(io) = &self.io {
            return vec![format!("{}: {io}", self.file.display())];
        }
        self.errors
            .iter()
            .map(|d| format_diagnostic(&self.file, d, false))
            .collect()
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lines = self.lines();
        match lines.as_slice() {
            [one] => write!(f, "{one}"),
            _ => write!(
                f,
                "{} has {} errors; the first: {}",
                self.file.display(),
                lines.len(),
                lines.first().map(String::as_str).unwrap_or("")
            ),
        }
    }
}

pub fn format_diagnostic(file: &Path, d: &Diagnostic, warning: bool) -> String {
    format!(
        "{}:{}:{}: {}: {}{}",
        file.display(),
        d.line,
        d.col,
        d.key,
        if warning { "warning: " } else { "" },
        d.message
    )
}

/// A usable config and what was not wrong enough to refuse it.
#[derive(Debug)]
pub struct Loaded {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
}

/// The largest config read: 10,000 checks take about 1.5 MB.
pub const MAX_CONFIG_BYTES: u64 = 8 * 1024 * 1024;

/// The config's text: at most `MAX_CONFIG_BYTES` of UTF-8, or why not (a file that cannot
/// be read, is too large, or is not UTF-8 where it says).
fn read_text(path: &Path) -> Result<String, ConfigError> {
    use std::io::Read;
    let cannot = |why: String| ConfigError {
        file: path.to_path_buf(),
        errors: Vec::new(),
        warnings: Vec::new(),
        io: Some(why),
    };
    let file =
        std::fs::File::open(path).map_err(|e| cannot(format!("cannot read the config: {e}")))?;
    if !file.metadata().is_ok_and(|m| m.is_file()) {
        return Err(cannot(
            "cannot read the config: it is not a regular file".into(),
        ));
    }
    let mut bytes = Vec::new();
    file.take(MAX_CONFIG_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| cannot(format!("cannot read the config: {e}")))?;
    if bytes.len() as u64 > MAX_CONFIG_BYTES {
        return Err(cannot(format!(
            "the config is larger than {} MiB; that is no config",
            MAX_CONFIG_BYTES >> 20
        )));
    }
    String::from_utf8(bytes).map_err(|e| {
        let good = &e.as_bytes()[..e.utf8_error().valid_up_to()];
        let line = good.iter().filter(|b| **b == b'\n').count() + 1;
        let line_start = good.iter().rposition(|b| *b == b'\n').map_or(0, |i| i + 1);
        let col = String::from_utf8_lossy(&good[line_start..]).chars().count() + 1;
        ConfigError {
            file: path.to_path_buf(),
            errors: vec![Diagnostic {
                line,
                col,
                key: "yaml".into(),
                message: format!(
                    "byte 0x{:02x} is not UTF-8: save the config as UTF-8",
                    e.as_bytes()[good.len()]
                ),
            }],
            warnings: Vec::new(),
            io: None,
        }
    })
}

/// Reads and checks the config at `path`; relative paths inside resolve against its folder.
pub fn load(path: &Path) -> Result<Loaded, ConfigError> {
    load_with(path, false)
}

/// `load` for `validate`: also the warnings that need other files read (whether a rota's
/// calendar file can be used), which only `validate` shows.
pub fn load_thorough(path: &Path) -> Result<Loaded, ConfigError> {
    load_with(path, true)
}

fn load_with(path: &Path, thorough: bool) -> Result<Loaded, ConfigError> {
    let text = read_text(path)?;
    judge(&text, path, thorough)
}

/// What `validate` would say of `text` as the config at `path`, which need not exist yet:
/// for `cabot import`, before it writes the file.
pub fn check_text(text: &str, path: &Path) -> Result<Loaded, ConfigError> {
    if text.len() as u64 > MAX_CONFIG_BYTES {
        return Err(ConfigError {
            file: path.to_path_buf(),
            errors: Vec::new(),
            warnings: Vec::new(),
            io: Some(format!(
                "the config would be larger than {} MiB; that is no config",
                MAX_CONFIG_BYTES >> 20
            )),
        });
    }
    judge(text, path, true)
}

/// The config in `text`, read from `path`, with the warnings that depend on where it is.
fn judge(text: &str, path: &Path, thorough: bool) -> Result<Loaded, ConfigError> {
    let mut loaded = read::parse_with(text, path, thorough)?;
    if !loaded.inline_secret_marks.is_empty()
        && let Some(advice) = who_else_reads(path)
    {
        loaded.warnings.extend(
            loaded
                .inline_secret_marks
                .iter()
                .map(|(mark, key)| Diagnostic {
                    line: mark.line as usize,
                    col: mark.col as usize,
                    key: key.clone(),
                    message: advice.clone(),
                }),
        );
    }
    // Whether a variable is set depends on where cabot runs, so this is a warning: validate
    // says it here, and each run says it where it is so.
    for (mark, key, var) in &loaded.env_secret_marks {
        if std::env::var_os(var).is_none() {
            let secret = EnvSecret {
                key: key.clone(),
                var: var.clone(),
            };
            loaded.warnings.push(Diagnostic {
                line: mark.line as usize,
                col: mark.col as usize,
                key: key.clone(),
                message: secret.unset_message(),
            });
        }
    }
    loaded.warnings.sort_by_key(|d| (d.line, d.col));
    Ok(Loaded {
        config: loaded.config,
        warnings: loaded.warnings,
    })
}

/// Parses config text as if it were the file at `path`.
pub fn parse(text: &str, path: &Path) -> Result<read::Parsed, ConfigError> {
    read::parse(text, path)
}

#[cfg(unix)]
/// Who besides its owner can read the config, and what to do about it, when that matters
/// for an inline secret. A file that only its owner and cabot's own group read (the
/// package's `root:cabot` 0640) is fine: `chmod 600` would lock cabot out of it.
fn who_else_reads(path: &Path) -> Option<String> {
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let m = std::fs::metadata(path).ok()?;
    let mode = m.permissions().mode();
    let start = "inline secret in a config that";
    let instead = "use the *_env or *_file form, or";
    if mode & 0o004 != 0 {
        return Some(format!(
            "{start} every user can read; {instead} `chmod o-r {}`",
            path.display()
        ));
    }
    // SAFETY: getegid has no arguments and cannot fail.
    let own_group = unsafe { libc::getegid() };
    if mode & 0o040 != 0 && m.gid() != own_group {
        return Some(format!(
            "{start} group {} can read; {instead} `chmod g-r {}` if cabot runs as its owner",
            group_name(m.gid()),
            path.display()
        ));
    }
    None
}

/// A group's name, or its number when it has none.
fn group_name(gid: u32) -> String {
    let mut buf = vec![0u8; 4096];
    let mut group: libc::group = unsafe { std::mem::zeroed() };
    let mut found: *mut libc::group = std::ptr::null_mut();
    // SAFETY: getgrgid_r writes into `group` and `buf`, both ours and as large as given.
    let rc = unsafe {
        libc::getgrgid_r(
            gid,
            &mut group,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &mut found,
        )
    };
    if rc != 0 || found.is_null() || group.gr_name.is_null() {
        return gid.to_string();
    }
    // SAFETY: on success gr_name points at a NUL-terminated name inside `buf`.
    let name = unsafe { std::ffi::CStr::from_ptr(group.gr_name) };
    format!("'{}'", name.to_string_lossy())
}

#[cfg(not(unix))]
fn who_else_reads(_: &Path) -> Option<String> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(zone: &str) -> Maintenance {
        Maintenance {
            services: vec!["web".into()],
            days: vec![jiff::civil::Weekday::Sunday],
            start: jiff::civil::time(23, 0, 0, 0),
            duration: Duration::from_secs(2 * 3600),
            time_zone: jiff::tz::TimeZone::get(zone).expect("zone"),
        }
    }

    #[test]
    fn services_are_found_by_their_exact_name() {
        let mut text = String::from("services:\n");
        for (i, name) in ["web", "Web", "web-2", "api", "a", "é"].iter().enumerate() {
            text += &format!(
                "  - name: {name}\n    url: http://127.0.0.1/{i}\n    checks: [{{ name: c, type: tcp, host: '127.0.0.1:1' }}]\n"
            );
        }
        for i in 0..300 {
            text += &format!(
                "  - name: s{i}\n    checks: [{{ name: c, type: tcp, host: '127.0.0.1:1' }}]\n"
            );
        }
        let cfg = parse(&text, Path::new("checks.yaml"))
            .expect("config")
            .config;
        let url = |name: &str| cfg.service(name).map(|s| s.url.clone());
        assert_eq!(url("web"), Some(Some("http://127.0.0.1/0".into())));
        assert_eq!(url("Web"), Some(Some("http://127.0.0.1/1".into())));
        assert_eq!(url("web-2"), Some(Some("http://127.0.0.1/2".into())));
        assert_eq!(url("a"), Some(Some("http://127.0.0.1/4".into())));
        assert_eq!(url("é"), Some(Some("http://127.0.0.1/5".into())));
        for i in 0..300 {
            let name = format!("s{i}");
            assert_eq!(
                cfg.service(&name).map(|s| s.name.as_str()),
                Some(name.as_str())
            );
        }
        for missing in ["WEB", "web ", "", "s300", "w"] {
            assert!(cfg.service(missing).is_none(), "{missing}");
        }
    }

    #[test]
    fn maintenance_windows_cross_midnight_and_follow_the_time_zone() {
        // (UTC time, covered in London summer time, covered in UTC)
        let cases = [
            (1_783_290_600, true, false),  // Sun 22:30 UTC = 23:30 BST
            (1_783_294_200, true, true),   // Sun 23:30 UTC = Mon 00:30 BST
            (1_783_297_800, false, true),  // Mon 00:30 UTC = 01:30 BST: London's window is over
            (1_783_301_400, false, false), // Mon 01:30 UTC
            (1_783_204_200, false, false), // Sat 22:30 UTC
        ];
        let london = window("Europe/London");
        let utc = window("UTC");
        for (now, in_london, in_utc) in cases {
            assert_eq!(london.covers("web", now), in_london, "London at {now}");
            assert_eq!(utc.covers("web", now), in_utc, "UTC at {now}");
            assert!(!london.covers("api", now), "only the services it names");
        }
    }
}
