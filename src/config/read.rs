//! Turns the marked YAML tree into a `Config`, collecting every error on the way.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::http::{HeaderName, HeaderValue, Uri};

use super::suggest::closest;
use super::yaml::{self, Mark, Node, Value};
use super::*;
use crate::alerts::channels::{self, ChannelKind};
use crate::checks::{self, CheckKind};

const TOP_KEYS: &[&str] = &[
    "peer",
    "state",
    "stale_after",
    "retention",
    "status",
    "heartbeat_url",
    "heartbeat_start",
    "defaults",
    "alerting",
    "users",
    "channels",
    "services",
    "maintenance",
    "oncall",
    "network_checks",
];
const SERVICE_KEYS: &[&str] = &[
    "name",
    "url",
    "runbook",
    "users",
    "oncall",
    "channels",
    "escalation",
    "public",
    "confirm",
    "depends_on",
    "flap",
    "checks",
];
const ROTA_KEYS: &[&str] = &[
    "users",
    "handoff",
    "time_zone",
    "fallback",
    "ical_url",
    "ical_file",
    "timeout",
    "refresh",
    "ca_file",
];
const CHECK_KEYS: &[&str] = &[
    "name",
    "type",
    "importance",
    "frequency",
    "timeout",
    "debounce",
    "recover_after",
    "retry",
    "active",
    "confirm",
];
const CHANNEL_KEYS: &[&str] = &["type", "min_importance", "to", "timeout", "oncall"];

const DEFAULT_CHANNEL_TIMEOUT: Duration = Duration::from_secs(10);

/// The durations a key may take, both ends included.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Range {
    pub min: Duration,
    pub max: Duration,
}

/// Why this user could not write the state at `path`, if so: the file itself when it is
/// there, else the nearest folder that is (where it would be created).
fn unwritable(path: &Path) -> Option<String> {
    use std::os::unix::ffi::OsStrExt;
    let mut at = path;
    while !at.exists() {
        at = at.parent().filter(|p| !p.as_os_str().is_empty())?;
    }
    let c = std::ffi::CString::new(at.as_os_str().as_bytes()).ok()?;
    // SAFETY: access(2) only reads the NUL-terminated path.
    let writable = unsafe { libc::access(c.as_ptr(), libc::W_OK) } == 0;
    (!writable).then(|| {
        format!(
            "{} cannot be written by this user (uid {}): cabot run, as this user, could not keep its state",
            at.display(),
            // SAFETY: getuid has no preconditions.
            unsafe { libc::getuid() }
        )
    })
}

/// A duration as the config writes it, in its largest whole unit: `3650d`, `10m` (a
/// range's ends in errors, and what `cabot import` writes).
pub(crate) fn whole(d: Duration) -> String {
    let s = d.as_secs();
    if d.subsec_nanos() != 0 || s == 0 {
        return format!("{}ms", d.as_millis());
    }
    match s {
        s if s % DAY == 0 => format!("{}d", s / DAY),
        s if s % HOUR == 0 => format!("{}h", s / HOUR),
        s if s % MINUTE == 0 => format!("{}m", s / MINUTE),
        s => format!("{s}s"),
    }
}

/// A range from `min` to `max` seconds.
pub(crate) const fn range(min: u64, max: u64) -> Range {
    Range {
        min: Duration::from_secs(min),
        max: Duration::from_secs(max),
    }
}

const MINUTE: u64 = 60;
const HOUR: u64 = 3_600;
const DAY: u64 = 86_400;
/// The ranges of the durations every config has (the README lists them).
pub(crate) const STALE_AFTER: Range = range(MINUTE, 7 * DAY);
pub(crate) const TAKEOVER_AFTER: Range = range(30, HOUR);
pub(crate) const RETENTION: Range = range(HOUR, 3_650 * DAY);
pub(crate) const FREQUENCY: Range = range(10, 30 * DAY);
pub(crate) const TIMEOUT: Range = range(1, 10 * MINUTE);
/// The wait between a check's tries within a run.
pub(crate) const RETRY_AFTER: Range = range(1, 5 * MINUTE);
/// How long a service's status changes are counted for flapping.
pub(crate) const FLAP_WITHIN: Range = range(MINUTE, DAY);
/// The most tries again of a check within a run.
const RETRY_MAX: u64 = 5;
pub(crate) const CHANNEL_TIMEOUT: Range = range(1, 5 * MINUTE);
pub(crate) const ALERTING: Range = range(MINUTE, 30 * DAY);
pub(crate) const MAINTENANCE: Range = range(MINUTE, 30 * DAY);
/// An escalation step's `after` when not 0 (the incident's first alert): up to a month.
pub(crate) const ESCALATION: Range = range(1, 30 * DAY);
/// For keys a check type adds: thresholds up to its own timeout's bound.
pub(crate) const SHORT: Range = Range {
    min: Duration::from_millis(1),
    max: Duration::from_secs(10 * MINUTE),
};
pub(crate) const CALENDAR_TIMEOUT: Range = range(1, MINUTE);
pub(crate) const CALENDAR_REFRESH: Range = range(MINUTE, DAY);
pub(crate) const LONG: Range = range(1, 30 * DAY);
pub(crate) const YEAR: Range = range(HOUR, 365 * DAY);

/// The result of parsing, before the file's permissions are looked at.
#[derive(Debug)]
pub struct Parsed {
    pub config: Config,
    pub warnings: Vec<Diagnostic>,
    /// Where each inline secret is, and its key.
    pub inline_secret_marks: Vec<(Mark, String)>,
    /// Where each `*_env` secret is, its key, and the variable it names.
    pub env_secret_marks: Vec<(Mark, String, String)>,
}

pub fn parse(text: &str, path: &Path) -> Result<Parsed, ConfigError> {
    parse_with(text, path, false)
}

/// `parse`, and with `thorough` the checks whose findings only `validate` shows, which
/// read other files (a rota's calendar): no other command pays for them.
pub fn parse_with(text: &str, path: &Path, thorough: bool) -> Result<Parsed, ConfigError> {
    let root = yaml::parse(text).map_err(|e| ConfigError {
        file: path.to_path_buf(),
        errors: vec![Diagnostic {
            line: e.mark.line as usize,
            col: e.mark.col as usize,
            key: "yaml".into(),
            message: e.message,
        }],
        warnings: Vec::new(),
        io: None,
    })?;
    let dir = path
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_else(|| PathBuf::from("."));
    let mut r = Reader {
        thorough,
        rota_names: Vec::new(),
        depends_on: Vec::new(),
        confirms: Vec::new(),
        dir,
        errors: Vec::new(),
        warnings: Vec::new(),
        inline_secrets: Vec::new(),
        env_secrets: Vec::new(),
        seen_patterns: Default::default(),
    };
    let mut config = r.config(&root, path);
    config.env_secrets = r
        .env_secrets
        .iter()
        .map(|(_, key, var)| EnvSecret {
            key: key.clone(),
            var: var.clone(),
        })
        .collect();
    if !r.errors.is_empty() {
        r.errors.sort_by_key(|d| (d.line, d.col));
        return Err(ConfigError {
            file: path.to_path_buf(),
            errors: r.errors,
            warnings: r.warnings,
            io: None,
        });
    }
    Ok(Parsed {
        config,
        warnings: r.warnings,
        inline_secret_marks: r.inline_secrets,
        env_secret_marks: r.env_secrets,
    })
}

/// The fields of one mapping, with unknown and duplicate keys already reported.
pub(crate) struct Fields<'a> {
    pub(crate) path: &'a str,
    pub(crate) mark: Mark,
    pub(crate) entries: Vec<(&'a str, &'a Node<'a>)>,
}

impl<'a> Fields<'a> {
    pub(crate) fn get(&self, key: &str) -> Option<&'a Node<'a>> {
        self.entries
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, v)| *v)
            .filter(|v| !v.is_null())
    }

    pub(crate) fn path(&self, key: &str) -> String {
        // Made for every key read, error or not: joined by hand, which costs a fraction
        // of format!'s machinery.
        if self.path.is_empty() {
            return key.to_string();
        }
        let mut out = String::with_capacity(self.path.len() + 1 + key.len());
        out.push_str(self.path);
        out.push('.');
        out.push_str(key);
        out
    }
}

/// The names seen so far in one mapping or list, and where each was first written. Most
/// have a handful, compared in place without allocating; past `FEW`, a set keeps a
/// mapping of thousands (`users:`, `services:`) from costing its square.
struct Seen<'a> {
    few: [(&'a str, Mark); Seen::FEW],
    len: usize,
    /// How many names there can be: the set's size when it is needed.
    most: usize,
    many: Option<foldhash::HashMap<&'a str, Mark>>,
}

impl<'a> Seen<'a> {
    const FEW: usize = 8;

    fn new(most: usize) -> Seen<'a> {
        Seen {
            few: [("", Mark::default()); Seen::FEW],
            len: 0,
            most,
            many: None,
        }
    }

    /// Where `name` was first seen, or `None` when this is its first time (and it is
    /// remembered at `mark`).
    fn first(&mut self, name: &'a str, mark: Mark) -> Option<Mark> {
        if self.len < Self::FEW {
            let few = &self.few[..self.len];
            if let Some((_, first)) = few.iter().find(|(seen, _)| *seen == name) {
                return Some(*first);
            }
            self.few[self.len] = (name, mark);
            self.len += 1;
            return None;
        }
        let many = self.many.get_or_insert_with(|| {
            let mut many: foldhash::HashMap<_, _> = foldhash::HashMapExt::with_capacity(self.most);
            many.extend(self.few);
            many
        });
        match many.entry(name) {
            std::collections::hash_map::Entry::Occupied(e) => Some(*e.get()),
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(mark);
                None
            }
        }
    }
}

pub(crate) struct Reader {
    /// Whether to run the checks only `validate` reports (see `parse_with`).
    thorough: bool,
    dir: PathBuf,
    /// Every rota the config names, also those with errors, for services that refer to one.
    rota_names: Vec<String>,
    errors: Vec<Diagnostic>,
    warnings: Vec<Diagnostic>,
    inline_secrets: Vec<(Mark, String)>,
    env_secrets: Vec<(Mark, String, String)>,
    /// The regexes already found to compile, each checked once however many checks use it.
    pub(crate) seen_patterns: std::collections::HashSet<String>,
    /// Each service's `depends_on` as written, checked once every service is known.
    depends_on: Vec<DependsOn>,
    /// Where each `confirm: peer` is: a warning when there is no `peer:`.
    confirms: Vec<(Mark, String)>,
}

/// A service's `depends_on` as written: the service, the key's path, where its value is,
/// and each name with where it is.
type DependsOn = (String, String, Mark, Vec<(String, Mark)>);

impl Reader {
    /// A `frequency` given below a minute: runs come once a minute (cron, the timer), so
    /// the check cannot run more often than that.
    fn warn_sub_minute(&mut self, f: &Fields, path: &str, frequency: Duration) {
        if let Some(n) = f.get("frequency")
            && frequency < Duration::from_secs(60)
        {
            self.warn(
                n.mark,
                path,
                format!(
                    "runs come once a minute (cron or the systemd timer), so this check runs \
                     about every minute, not every {}",
                    crate::text::duration(frequency)
                ),
            );
        }
    }

    pub(crate) fn warn(&mut self, mark: Mark, key: &str, message: impl Into<String>) {
        self.warnings.push(Diagnostic {
            line: mark.line as usize,
            col: mark.col as usize,
            key: key.to_string(),
            message: message.into(),
        });
    }

    pub(crate) fn error(&mut self, mark: Mark, key: &str, message: impl Into<String>) {
        // The top level has no key of its own; say so rather than print an empty one.
        let key = if key.is_empty() { "(top level)" } else { key };
        self.errors.push(Diagnostic {
            line: mark.line as usize,
            col: mark.col as usize,
            key: key.to_string(),
            message: message.into(),
        });
    }

    /// Reports a node that is not a mapping; its keys are not looked at.
    pub(crate) fn is_mapping(&mut self, node: &Node, path: &str) -> bool {
        if matches!(node.value, Value::Map(_)) {
            return true;
        }
        self.error(
            node.mark,
            path,
            format!("expected a mapping, found {}", node.kind()),
        );
        false
    }

    /// Reads a mapping whose keys must be among `allowed`.
    pub(crate) fn fields<'a>(
        &mut self,
        node: &'a Node,
        path: &'a str,
        allowed: &[&str],
    ) -> Option<Fields<'a>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node.mark,
                path,
                format!("expected a mapping, found {}", node.kind()),
            );
            return None;
        };
        let mut fields = Fields {
            path,
            mark: node.mark,
            entries: Vec::with_capacity(entries.len()),
        };
        let mut seen = Seen::new(entries.len());
        for (k, v) in entries {
            let Value::Scalar { text: key, .. } = &k.value else {
                self.error(k.mark, path, "keys must be plain words");
                continue;
            };
            if let Some(first) = seen.first(key, k.mark) {
                let line = first.line;
                self.error(
                    k.mark,
                    &fields.path(key),
                    format!("duplicate key (first at line {line})"),
                );
                continue;
            }
            if !allowed.contains(&key.as_ref()) {
                let hint = match closest(key, allowed.iter().copied()) {
                    Some(s) => format!("; did you mean '{s}'?"),
                    None => format!(" (known keys: {})", allowed.join(", ")),
                };
                self.error(k.mark, &fields.path(key), format!("unknown key{hint}"));
                continue;
            }
            fields.entries.push((key.as_ref(), v));
        }
        Some(fields)
    }

    pub(crate) fn required_string(&mut self, f: &Fields, key: &str) -> Option<String> {
        let node = self.require(f, key)?;
        self.string_at(node, f, key)
    }

    /// `scalar` of `node`, the value of `key` in `f`: the key's path is joined only for an
    /// error (this is read for nearly every key of every check).
    fn scalar_at<'a>(
        &mut self,
        node: &'a Node,
        f: &Fields,
        key: &str,
        what: &str,
    ) -> Option<(&'a str, bool)> {
        match &node.value {
            Value::Scalar { text, plain } if !node.is_null() => Some((text.as_ref(), *plain)),
            _ => self.scalar(node, &f.path(key), what),
        }
    }

    /// `node`, the value of `key` in `f`, as a string (see `scalar_at`).
    pub(crate) fn string_at(&mut self, node: &Node, f: &Fields, key: &str) -> Option<String> {
        self.scalar_at(node, f, key, "a string")
            .map(|(s, _)| s.to_string())
    }

    pub(crate) fn required_url(
        &mut self,
        f: &Fields,
        key: &str,
        schemes: &[&str],
    ) -> Option<String> {
        let node = self.require(f, key)?;
        self.url(node, &f.path(key), schemes)
    }

    pub(crate) fn require<'a>(&mut self, f: &Fields<'a>, key: &str) -> Option<&'a Node<'a>> {
        let node = f.get(key);
        if node.is_none() {
            self.error(f.mark, &f.path(key), "missing required key");
        }
        node
    }

    pub(crate) fn scalar<'a>(
        &mut self,
        node: &'a Node,
        path: &str,
        what: &str,
    ) -> Option<(&'a str, bool)> {
        match &node.value {
            Value::Scalar { text, plain } if !node.is_null() => Some((text.as_ref(), *plain)),
            _ => {
                self.error(
                    node.mark,
                    path,
                    format!("expected {what}, found {}", node.kind()),
                );
                None
            }
        }
    }

    pub(crate) fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        self.scalar(node, path, "a string")
            .map(|(s, _)| s.to_string())
    }

    pub(crate) fn opt_string(&mut self, f: &Fields, key: &str) -> Option<String> {
        f.get(key).and_then(|n| self.string_at(n, f, key))
    }

    /// The required `name:` of `f`: a name used in `service/check` identifiers and on the
    /// command line.
    fn required_name(&mut self, f: &Fields) -> Option<String> {
        let node = self.require(f, "name")?;
        let name = self.string_at(node, f, "name")?;
        if !usable_name(&name) {
            self.error(
                node.mark,
                &f.path("name"),
                format!("'{name}' is not a usable name: it must not be empty or contain '/'"),
            );
            return None;
        }
        Some(name)
    }

    pub(crate) fn bool(&mut self, f: &Fields, key: &str, default: bool) -> bool {
        let Some(node) = f.get(key) else {
            return default;
        };
        let Some((word, plain)) = self.scalar_at(node, f, key, "true or false") else {
            return default;
        };
        let truth = match word {
            "true" | "True" | "TRUE" => Some(true),
            "false" | "False" | "FALSE" => Some(false),
            _ => None,
        };
        let why = match (truth, plain) {
            (Some(value), true) => return value,
            (Some(_), false) => {
                format!("'{word}' is quoted, which makes it a string; write {word} without quotes")
            }
            (None, _) => format!("expected true or false, found '{word}'"),
        };
        self.error(node.mark, &f.path(key), why);
        default
    }

    pub(crate) fn uint(&mut self, node: &Node, path: &str, max: u64) -> Option<u64> {
        let (text, _) = self.scalar(node, path, "a whole number")?;
        match text.parse::<u64>() {
            Ok(n) if n <= max => Some(n),
            Ok(_) => {
                self.error(
                    node.mark,
                    path,
                    format!("{text} is too large (at most {max})"),
                );
                None
            }
            Err(_) => {
                self.error(
                    node.mark,
                    path,
                    format!("expected a whole number, found '{text}'"),
                );
                None
            }
        }
    }

    /// A duration within `range`: one outside it is an error that gives the range, so no
    /// duration from a config can overflow the arithmetic it goes into.
    pub(crate) fn duration(&mut self, node: &Node, path: &str, range: Range) -> Option<Duration> {
        let d = self.any_duration(node, path)?;
        if d < range.min || d > range.max {
            let text = match &node.value {
                Value::Scalar { text, .. } => text.as_ref(),
                _ => "",
            };
            self.error(
                node.mark,
                path,
                format!(
                    "'{text}' is out of range: {} to {}",
                    whole(range.min),
                    whole(range.max)
                ),
            );
            return None;
        }
        Some(d)
    }

    fn any_duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        let (text, _) = self.scalar(node, path, "a duration like 30s, 5m or 2h")?;
        if text.chars().all(|c| c.is_ascii_digit()) {
            self.error(
                node.mark,
                path,
                format!("'{text}' has no unit; write a duration like {text}s or {text}m"),
            );
            return None;
        }
        match humantime::parse_duration(text) {
            Ok(d) if d.is_zero() => {
                self.error(node.mark, path, "must be longer than zero");
                None
            }
            Ok(d) => Some(d),
            Err(e) => {
                // humantime's other errors name a byte offset, which helps nobody here.
                let why = match e {
                    humantime::DurationError::UnknownUnit { unit, .. } => {
                        format!(" (unknown unit '{unit}')")
                    }
                    _ => String::new(),
                };
                self.error(
                    node.mark,
                    path,
                    format!("'{text}' is not a duration{why}; write e.g. 30s, 5m, 2h, 7d"),
                );
                None
            }
        }
    }

    pub(crate) fn opt_duration(
        &mut self,
        f: &Fields,
        key: &str,
        default: Duration,
        range: Range,
    ) -> Duration {
        f.get(key)
            .and_then(|n| self.duration(n, &f.path(key), range))
            .unwrap_or(default)
    }

    pub(crate) fn importance(&mut self, node: &Node, path: &str) -> Option<Importance> {
        let (text, _) = self.scalar(node, path, "an importance")?;
        match text.parse() {
            Ok(i) => Some(i),
            Err(e) => {
                let hint = closest(text, Importance::NAMES)
                    .map(|s| format!("; did you mean '{s}'?"))
                    .unwrap_or_default();
                self.error(node.mark, path, format!("{e}{hint}"));
                None
            }
        }
    }

    pub(crate) fn url(&mut self, node: &Node, path: &str, schemes: &[&str]) -> Option<String> {
        let text = self.string(node, path)?;
        match check_url(&text, schemes) {
            Ok(()) => Some(text),
            Err(why) => {
                self.error(
                    node.mark,
                    path,
                    format!("'{text}' is not a valid URL: {why}"),
                );
                None
            }
        }
    }

    /// A program and its arguments, as a list (a single word is a list of one). A string
    /// with spaces is an error, as cabot runs no shell to split it; a program that cannot
    /// be found or run here is a warning (it may be installed where cabot runs).
    pub(crate) fn argv(&mut self, f: &Fields, key: &str) -> Option<Vec<String>> {
        let node = self.require(f, key)?;
        let path = f.path(key);
        if let Value::Scalar { text, .. } = &node.value
            && text.trim().contains(char::is_whitespace)
        {
            let words: Vec<String> = text.split_whitespace().map(|w| format!("'{w}'")).collect();
            self.error(
                node.mark,
                &path,
                format!(
                    "give the program and its arguments as a list, like [{}]: cabot runs no shell to split a string",
                    words.join(", ")
                ),
            );
            return None;
        }
        let argv: Vec<String> = self
            .string_list(node, &path)
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        let Some(program) = argv.first().filter(|p| !p.is_empty()) else {
            self.error(
                node.mark,
                &path,
                "give the program and its arguments, like [/usr/lib/nagios/plugins/check_tcp, -H, db, -p, '5432']",
            );
            return None;
        };
        if crate::process::find_program(program).is_none() {
            let mark = match &node.value {
                Value::Seq(items) => items.first().map_or(node.mark, |n| n.mark),
                _ => node.mark,
            };
            self.warn(
                mark,
                &path,
                format!("'{program}' is not an executable file here (nor in PATH): it will fail until it is"),
            );
        }
        Some(argv)
    }

    /// `env:`, the names of the variables a program is given from cabot's environment.
    pub(crate) fn env_names(&mut self, f: &Fields, key: &str) -> Vec<String> {
        let Some(node) = f.get(key) else {
            return Vec::new();
        };
        let path = f.path(key);
        let mut names = Vec::new();
        for (name, mark) in self.string_list(node, &path) {
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if valid {
                names.push(name);
            } else {
                self.error(
                    mark,
                    &path,
                    format!("'{name}' is not an environment variable's name"),
                );
            }
        }
        names
    }

    pub(crate) fn string_list(&mut self, node: &Node, path: &str) -> Vec<(String, Mark)> {
        match &node.value {
            Value::Seq(items) => items
                .iter()
                .enumerate()
                .filter_map(|(i, item)| {
                    self.string(item, &format!("{path}[{i}]"))
                        .map(|s| (s, item.mark))
                })
                .collect(),
            // A single word is taken as a list of one.
            Value::Scalar { .. } if !node.is_null() => self
                .string(node, path)
                .map(|s| vec![(s, node.mark)])
                .unwrap_or_default(),
            _ => {
                self.error(
                    node.mark,
                    path,
                    format!("expected a list, found {}", node.kind()),
                );
                Vec::new()
            }
        }
    }

    pub(crate) fn seq<'a>(&mut self, node: &'a Node<'a>, path: &str) -> &'a [Node<'a>] {
        match &node.value {
            Value::Seq(items) => items,
            _ => {
                self.error(
                    node.mark,
                    path,
                    format!("expected a list, found {}", node.kind()),
                );
                &[]
            }
        }
    }

    /// `key`, `key_env` or `key_file`: at most one of them.
    pub(crate) fn secret(&mut self, f: &Fields, key: &str) -> Option<Secret> {
        // Most secrets are not given: say so before making the keys' names.
        if !f.entries.iter().any(|(k, _)| k.starts_with(key)) {
            return None;
        }
        let env_key = format!("{key}_env");
        let file_key = format!("{key}_file");
        let given: Vec<(&str, &Node)> = [key, env_key.as_ref(), file_key.as_ref()]
            .into_iter()
            .filter_map(|k| f.get(k).map(|n| (k, n)))
            .collect();
        let (which, node) = match given.as_slice() {
            [] => return None,
            [one] => *one,
            [_, (second, node), ..] => {
                self.error(
                    node.mark,
                    &f.path(second),
                    format!("give only one of {key}, {env_key} and {file_key}"),
                );
                return None;
            }
        };
        let path = f.path(which);
        let value = self.string(node, &path)?;
        if which == key {
            self.inline_secrets.push((node.mark, path));
            Some(Secret::Inline(value))
        } else if which == env_key {
            self.env_secrets.push((node.mark, path, value.clone()));
            Some(Secret::Env(value))
        } else {
            Some(Secret::File(self.dir.join(value)))
        }
    }

    pub(crate) fn required_secret(&mut self, f: &Fields, key: &str) -> Option<Secret> {
        let secret = self.secret(f, key);
        if secret.is_none()
            && ![key, &format!("{key}_env"), &format!("{key}_file")]
                .iter()
                .any(|k| f.get(k).is_some())
        {
            self.error(
                f.mark,
                &f.path(key),
                format!("missing required key (give {key}, {key}_env or {key}_file)"),
            );
        }
        secret
    }

    pub(crate) fn headers(&mut self, f: &Fields, key: &str) -> Vec<(String, String)> {
        let Some(node) = f.get(key) else {
            return Vec::new();
        };
        let path = f.path(key);
        let Value::Map(entries) = &node.value else {
            self.error(
                node.mark,
                &path,
                format!(
                    "expected a mapping of header names to values, found {}",
                    node.kind()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (k, v) in entries {
            let Some(name) = self.string(k, &path) else {
                continue;
            };
            let hpath = format!("{path}.{name}");
            let Some(value) = self.string(v, &hpath) else {
                continue;
            };
            if HeaderName::from_bytes(name.as_bytes()).is_err() {
                self.error(k.mark, &hpath, "not a valid HTTP header name");
            } else if HeaderValue::from_str(&value).is_err() {
                self.error(
                    v.mark,
                    &hpath,
                    "not a valid HTTP header value (no newlines or control characters)",
                );
            } else {
                out.push((name, value));
            }
        }
        out
    }

    fn config(&mut self, root: &Node, path: &Path) -> Config {
        let defaults_config = Config {
            path: path.to_path_buf(),
            state: PathBuf::from(DEFAULT_STATE),
            stale_after: Duration::from_secs(600),
            retention: Duration::from_secs(30 * 86400),
            status: StatusSettings {
                listen: DEFAULT_LISTEN.to_string(),
                metrics: false,
                ack: None,
                public_url: None,
                announce: Vec::new(),
                publish: None,
            },
            heartbeat_url: None,
            heartbeat_start: false,
            env_secrets: Vec::new(),
            defaults: Defaults::default(),
            alerting: Alerting::default(),
            users: BTreeMap::new(),
            channels: BTreeMap::new(),
            services: Vec::new(),
            service_index: Default::default(),
            maintenance: Vec::new(),
            scheduled: Vec::new(),
            oncall: BTreeMap::new(),
            peer: None,
            pair: crate::peer::Now::default(),
            network_checks: Vec::new(),
        };
        let Some(f) = self.fields(root, "", TOP_KEYS) else {
            return defaults_config;
        };
        let mut c = defaults_config;
        if let Some(state) = self.opt_string(&f, "state") {
            c.state = self.dir.join(state);
            if let (Some(why), Some(n)) = (unwritable(&c.state), f.get("state")) {
                self.warn(n.mark, "state", why);
            }
        }
        c.stale_after = self.opt_duration(&f, "stale_after", c.stale_after, STALE_AFTER);
        c.retention = self.opt_duration(&f, "retention", c.retention, RETENTION);
        let status = f.get("status").and_then(|node| {
            self.fields(
                node,
                "status",
                &[
                    "listen",
                    "metrics",
                    "public_url",
                    "ack_secret_file",
                    "announce",
                    "publish",
                ],
            )
        });
        if let Some(s) = &status {
            c.status.public_url = s
                .get("public_url")
                .and_then(|n| self.url(n, "status.public_url", &["http", "https"]));
            c.status.ack = self.ack_links(s, c.status.public_url.clone());
            c.status.publish = s.get("publish").and_then(|n| self.publish(n));
            if let Some(listen) = self.opt_string(s, "listen") {
                if listen.parse::<std::net::SocketAddr>().is_err() {
                    self.error(
                        s.get("listen").map(|n| n.mark).unwrap_or(s.mark),
                        "status.listen",
                        format!("'{listen}' is not an address like 127.0.0.1:5001"),
                    );
                }
                c.status.listen = listen;
            }
            c.status.metrics = self.bool(s, "metrics", false);
        }
        c.heartbeat_url = f
            .get("heartbeat_url")
            .and_then(|n| self.url(n, "heartbeat_url", &["http", "https"]));
        c.heartbeat_start = self.bool(&f, "heartbeat_start", false);
        if let Some(node) = f.get("defaults") {
            c.defaults = self.defaults(node);
        }
        if let Some(node) = f.get("alerting") {
            c.alerting = self.alerting(node);
        }
        if let Some(node) = f.get("users") {
            c.users = self.users(node);
        }
        // Rotas before channels: a channel may name one.
        if let Some(node) = f.get("oncall") {
            c.oncall = self.rotas(node, &c);
        }
        if let Some(node) = f.get("channels") {
            c.channels = self.channels(node);
        }
        if let Some(s) = &status {
            c.status.announce = self.announce(s, &c.channels);
        }
        match f.get("services") {
            Some(node) => {
                c.services = self.services(node, &c);
                c.index_services();
            }
            None => self.error(
                f.mark,
                "services",
                "no services: add at least one service with a check",
            ),
        }
        if let Some(node) = f.get("maintenance") {
            (c.maintenance, c.scheduled) = self.maintenance(node, &c.services);
        }
        if let Some(node) = f.get("peer") {
            c.peer = self.peer(node);
        }
        if c.peer.is_none() {
            for (mark, path) in std::mem::take(&mut self.confirms) {
                self.warn(
                    mark,
                    &path,
                    "no `peer:` to confirm with: every failure pages as if this were not set",
                );
            }
        }
        if let Some(node) = f.get("network_checks") {
            c.network_checks = self.network_checks(node, &c.defaults);
        }
        c
    }

    /// `network_checks:`: checks of what is always up, that tell whether cabot's own
    /// network works. Not heartbeats: nothing of cabot's network reaches them.
    fn network_checks(&mut self, node: &Node, defaults: &Defaults) -> Vec<Check> {
        let items = self.seq(node, "network_checks");
        let checks = self.unique(
            items,
            |r, i, item| r.check(item, i, "network_checks", defaults),
            |name| {
                (
                    format!("network_checks[{name}].name"),
                    format!("duplicate check name '{name}' in network_checks"),
                )
            },
        );
        for c in &checks {
            if c.kind.is_passive() {
                self.error(
                    node.mark,
                    &format!("network_checks[{}].type", c.name),
                    "a heartbeat is pinged from outside: it cannot tell whether cabot reaches out",
                );
            }
            if let CheckKind::Domain(_) = c.kind {
                self.error(
                    node.mark,
                    &format!("network_checks[{}].type", c.name),
                    "a domain's registry is asked once a day: it cannot tell whether cabot's \
                     network works now",
                );
            }
        }
        checks
    }

    /// `peer:`: the other node's address and the shared key are required; the key is read
    /// now and must be long enough that nobody guesses it.
    fn peer(&mut self, node: &Node) -> Option<Peer> {
        let f = self.fields(
            node,
            "peer",
            &[
                "name",
                "url",
                "secret_file",
                "role",
                "takeover_after",
                "witness",
            ],
        )?;
        let name = match self.opt_string(&f, "name") {
            Some(name) => name,
            None => host_name(),
        };
        if name.is_empty() || name.len() > 64 || name.chars().any(char::is_control) {
            self.error(
                f.get("name").map_or(f.mark, |n| n.mark),
                "peer.name",
                "a node's name is 1 to 64 characters (the host name when not given)",
            );
        }
        let url = self
            .require(&f, "url")
            .and_then(|n| self.url(n, "peer.url", &["http", "https"]));
        let witness = f
            .get("witness")
            .and_then(|n| self.url(n, "peer.witness", &["http", "https"]));
        let role = match f.get("role") {
            None => {
                self.error(
                    f.mark,
                    "peer.role",
                    "say which node this is: primary or standby",
                );
                None
            }
            Some(n) => match self.string(n, "peer.role")?.as_str() {
                "primary" => Some(crate::peer::Role::Primary),
                "standby" => Some(crate::peer::Role::Standby),
                other => {
                    self.error(
                        n.mark,
                        "peer.role",
                        format!("'{other}' is not primary or standby"),
                    );
                    None
                }
            },
        };
        let takeover_after = self.opt_duration(
            &f,
            "takeover_after",
            Duration::from_secs(120),
            TAKEOVER_AFTER,
        );
        let key = self.require(&f, "secret_file").and_then(|n| {
            let name = self.string(n, "peer.secret_file")?;
            let file = self.dir.join(name);
            match std::fs::read(&file) {
                Ok(bytes) if bytes.trim_ascii().len() >= 32 => {
                    Some(crate::peer::PeerKey::new(bytes.trim_ascii()))
                }
                Ok(bytes) => {
                    self.error(
                        n.mark,
                        "peer.secret_file",
                        format!(
                            "{} holds {} bytes: the pair's key needs at least 32, the same on both nodes (`head -c 48 /dev/urandom | base64 > {}`)",
                            file.display(),
                            bytes.trim_ascii().len(),
                            file.display()
                        ),
                    );
                    None
                }
                Err(e) => {
                    self.error(
                        n.mark,
                        "peer.secret_file",
                        format!("cannot read {}: {e}", file.display()),
                    );
                    None
                }
            }
        });
        Some(Peer {
            name,
            url: url?,
            key: key?,
            role: role?,
            takeover_after,
            witness,
        })
    }

    fn defaults(&mut self, node: &Node) -> Defaults {
        let mut d = Defaults::default();
        let Some(f) = self.fields(
            node,
            "defaults",
            &[
                "frequency",
                "timeout",
                "importance",
                "debounce",
                "recover_after",
            ],
        ) else {
            return d;
        };
        d.frequency = self.opt_duration(&f, "frequency", d.frequency, FREQUENCY);
        self.warn_sub_minute(&f, "defaults.frequency", d.frequency);
        d.timeout = self.opt_duration(&f, "timeout", d.timeout, TIMEOUT);
        if let Some(i) = f
            .get("importance")
            .and_then(|n| self.importance(n, "defaults.importance"))
        {
            d.importance = i;
        }
        if let Some(n) = f
            .get("debounce")
            .and_then(|n| self.uint(n, "defaults.debounce", u32::MAX.into()))
        {
            d.debounce = n as u32;
        }
        if let Some(n) = f
            .get("recover_after")
            .and_then(|n| self.uint(n, "defaults.recover_after", u32::MAX.into()))
        {
            d.recover_after = n as u32;
        }
        d
    }

    fn alerting(&mut self, node: &Node) -> Alerting {
        let mut a = Alerting::default();
        let Some(f) = self.fields(node, "alerting", &["repeat", "ack_expiry", "give_up_after"])
        else {
            return a;
        };
        if let Some(node) = f.get("repeat")
            && let Some(r) = self.fields(node, "alerting.repeat", &Importance::NAMES)
        {
            a.repeat_warning = self.opt_duration(&r, "warning", a.repeat_warning, ALERTING);
            a.repeat_error = self.opt_duration(&r, "error", a.repeat_error, ALERTING);
            a.repeat_critical = self.opt_duration(&r, "critical", a.repeat_critical, ALERTING);
        }
        a.ack_expiry = self.opt_duration(&f, "ack_expiry", a.ack_expiry, ALERTING);
        a.give_up_after = self.opt_duration(&f, "give_up_after", a.give_up_after, ALERTING);
        a
    }

    fn users(&mut self, node: &Node) -> BTreeMap<String, User> {
        let mut users = BTreeMap::new();
        let Some(f) = self.any_keys(node, "users") else {
            return users;
        };
        let contacts = channels::contacts();
        let mut keys: Vec<&str> = contacts.iter().map(|c| c.key).collect();
        keys.push("name");
        for (name, node) in f.entries {
            let path = format!("users.{name}");
            let Some(u) = self.fields(node, &path, &keys) else {
                continue;
            };
            let mut user = User {
                name: self.opt_string(&u, "name"),
                ..User::default()
            };
            for contact in &contacts {
                let Some(value) = self.opt_string(&u, contact.key) else {
                    continue;
                };
                if let Some(n) = u.get(contact.key) {
                    self.judge_contact(contact, &value, n.mark, &u.path(contact.key));
                }
                user.contacts.insert(contact.key.to_string(), value);
            }
            users.insert(name.to_string(), user);
        }
        users
    }

    /// Reports what `contact`'s check makes of `value`, found at `mark`.
    fn judge_contact(&mut self, contact: &channels::Contact, value: &str, mark: Mark, path: &str) {
        match (contact.check)(value) {
            channels::Verdict::Usable => {}
            channels::Verdict::Doubtful(why) => self.warn(mark, path, why),
            channels::Verdict::Unusable(why) => self.error(mark, path, why),
        }
    }

    /// A mapping whose keys are names chosen by the user.
    pub(crate) fn any_keys<'a>(&mut self, node: &'a Node, path: &'a str) -> Option<Fields<'a>> {
        let Value::Map(entries) = &node.value else {
            self.error(
                node.mark,
                path,
                format!("expected a mapping of names, found {}", node.kind()),
            );
            return None;
        };
        let keys: Vec<&str> = entries
            .iter()
            .filter_map(|(k, _)| match &k.value {
                Value::Scalar { text, .. } => Some(text.as_ref()),
                _ => None,
            })
            .collect();
        let f = self.fields(node, path, &keys)?;
        let mut named = Fields {
            path: f.path,
            mark: f.mark,
            entries: Vec::new(),
        };
        for (name, value) in f.entries {
            if name.trim().is_empty() || name.contains('/') {
                self.error(value.mark, path, format!("'{name}' is not a usable name"));
                continue;
            }
            named.entries.push((name, value));
        }
        Some(named)
    }

    fn channels(&mut self, node: &Node) -> BTreeMap<String, Channel> {
        let mut channels = BTreeMap::new();
        let Some(f) = self.any_keys(node, "channels") else {
            return channels;
        };
        for (name, node) in f.entries {
            let path = format!("channels.{name}");
            if let Some(channel) = self.channel(name, node, &path) {
                channels.insert(name.to_string(), channel);
            }
        }
        channels
    }

    fn channel(&mut self, name: &str, node: &Node, path: &str) -> Option<Channel> {
        let Some((type_name, type_mark)) = scalar_field(node, "type") else {
            if self.is_mapping(node, path) {
                self.error(
                    node.mark,
                    &format!("{path}.type"),
                    format!(
                        "missing required key (one of: {})",
                        channels::TYPES.join(", ")
                    ),
                );
            }
            return None;
        };
        let Some(extra) = ChannelKind::keys_of(type_name) else {
            let hint = closest(type_name, channels::TYPES.iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_else(|| format!(" (one of: {})", channels::TYPES.join(", ")));
            self.error(
                type_mark,
                &format!("{path}.type"),
                format!("unknown channel type '{type_name}'{hint}"),
            );
            return None;
        };
        let allowed: Vec<&str> = CHANNEL_KEYS.iter().chain(extra).copied().collect();
        let f = self.fields(node, path, &allowed)?;
        let min_importance = f
            .get("min_importance")
            .and_then(|n| self.importance(n, &f.path("min_importance")));
        let to_marked = f
            .get("to")
            .map(|n| self.string_list(n, &f.path("to")))
            .unwrap_or_default();
        let kind = ChannelKind::read(type_name, self, &f)?;
        // `to:` entries are what the channel's users' contacts are: judged the same way.
        if let Some(contact) = kind.reach().contact() {
            for (value, mark) in &to_marked {
                self.judge_contact(&contact, value, *mark, &f.path("to"));
            }
        }
        let to = to_marked.into_iter().map(|(s, _)| s).collect();
        let timeout = self.opt_duration(&f, "timeout", DEFAULT_CHANNEL_TIMEOUT, CHANNEL_TIMEOUT);
        let oncall = f
            .get("oncall")
            .and_then(|n| self.rota_name(n, &f.path("oncall")));
        Some(Channel {
            name: name.to_string(),
            min_importance,
            to,
            timeout,
            kind,
            oncall,
        })
    }

    /// `time_zone:` of a mapping, UTC when not given; `None` (reported) when unknown.
    fn time_zone(&mut self, f: &Fields) -> Option<jiff::tz::TimeZone> {
        let Some(n) = f.get("time_zone") else {
            return Some(jiff::tz::TimeZone::UTC);
        };
        let name = self.string(n, &f.path("time_zone"))?;
        match jiff::tz::TimeZone::get(&name) {
            Ok(tz) => Some(tz),
            Err(_) => {
                self.error(
                    n.mark,
                    &f.path("time_zone"),
                    format!("unknown time zone '{name}' (write e.g. UTC or Europe/London)"),
                );
                None
            }
        }
    }

    /// `status.publish`: the folder the static status site is written into, and the
    /// command that sends it elsewhere (a list, run as it is; a string, run by `sh -c`).
    fn publish(&mut self, node: &Node) -> Option<Publish> {
        let f = self.fields(
            node,
            "status.publish",
            &["dir", "command", "timeout", "env"],
        )?;
        let dir = self
            .require(&f, "dir")
            .and_then(|n| self.string(n, "status.publish.dir"))
            .map(|d| self.dir.join(d));
        let command = match f.get("command") {
            None => None,
            Some(n) => match &n.value {
                Value::Scalar { text, .. } if text.trim().contains(char::is_whitespace) => {
                    Some(vec!["/bin/sh".into(), "-c".into(), text.to_string()])
                }
                _ => self.argv(&f, "command"),
            },
        };
        let timeout = self.opt_duration(&f, "timeout", Duration::from_secs(60), TIMEOUT);
        let env = self.env_names(&f, "env");
        Some(Publish {
            dir: dir?,
            command,
            timeout,
            env,
        })
    }

    /// `status.announce`: the channels told of each incident post's update and each
    /// maintenance window's start and end. Not those that open incidents of their own.
    fn announce(&mut self, s: &Fields, channels: &BTreeMap<String, Channel>) -> Vec<String> {
        let names = self.references(s, "announce", "channel", channels.keys());
        for name in &names {
            let Some(channel) = channels.get(name) else {
                continue;
            };
            if channel.kind.incidents() {
                let mark = s.get("announce").map_or(s.mark, |n| n.mark);
                self.error(
                    mark,
                    "status.announce",
                    format!(
                        "'{name}' opens incidents at its provider: announce to a chat, \
                         email or webhook channel"
                    ),
                );
            }
        }
        names
    }

    /// `status.public_url` and `status.ack_secret_file`, both or neither: the key is read
    /// now, and must be long enough that nobody guesses it.
    fn ack_links(
        &mut self,
        f: &Fields,
        url: Option<String>,
    ) -> Option<crate::alerts::ack_link::AckLinks> {
        let Some(node) = f.get("ack_secret_file") else {
            if let Some(n) = f.get("public_url") {
                self.warn(
                    n.mark,
                    "status.public_url",
                    "alerts carry ack links only with ack_secret_file as well",
                );
            }
            return None;
        };
        let name = self.string(node, "status.ack_secret_file")?;
        let file = self.dir.join(name);
        let secret = match std::fs::read(&file) {
            Ok(bytes) => bytes.trim_ascii().to_vec(),
            Err(e) => {
                self.error(
                    node.mark,
                    "status.ack_secret_file",
                    format!("cannot read {}: {e}", file.display()),
                );
                return None;
            }
        };
        if secret.len() < 32 {
            self.error(
                node.mark,
                "status.ack_secret_file",
                format!(
                    "{} holds {} bytes: an ack key needs at least 32 (`head -c 48 /dev/urandom | base64 > {}`)",
                    file.display(),
                    secret.len(),
                    file.display()
                ),
            );
            return None;
        }
        let Some(url) = url else {
            if f.get("public_url").is_none() {
                self.error(
                    node.mark,
                    "status.public_url",
                    "ack links need public_url: where serve-status is reached from outside, e.g. https://status.example.com",
                );
            }
            return None;
        };
        Some(crate::alerts::ack_link::AckLinks::new(url, &secret))
    }

    /// A rota's `ical_url` (HTTPS) or `ical_file` (read now, so that validate says when it
    /// cannot be read), with how long a fetch may take and how often `run` fetches.
    fn calendar(&mut self, f: &Fields, users: &BTreeMap<String, User>) -> Option<CalendarSource> {
        let location = match (f.get("ical_url"), f.get("ical_file")) {
            (None, None) => {
                for key in ["timeout", "refresh", "ca_file"] {
                    if let Some(n) = f.get(key) {
                        self.error(
                            n.mark,
                            &f.path(key),
                            format!("{key} is for a calendar rota (ical_url)"),
                        );
                    }
                }
                return None;
            }
            (Some(n), Some(_)) => {
                self.error(
                    n.mark,
                    &f.path("ical_url"),
                    "give ical_url or ical_file, not both",
                );
                return None;
            }
            (Some(n), None) => {
                CalendarLocation::Url(self.url(n, &f.path("ical_url"), &["https"])?)
            }
            (None, Some(n)) => {
                let name = self.string(n, &f.path("ical_file"))?;
                let file = self.dir.join(name);
                // Warnings, not errors: a run goes on with the copy kept in the state.
                if self.thorough {
                    self.judge_calendar_file(n.mark, &f.path("ical_file"), &file, users);
                }
                CalendarLocation::File(file)
            }
        };
        Some(CalendarSource {
            location,
            timeout: self.opt_duration(f, "timeout", Duration::from_secs(10), CALENDAR_TIMEOUT),
            refresh: self.opt_duration(f, "refresh", Duration::from_secs(600), CALENDAR_REFRESH),
            ca_pem: self.ca_file(f),
        })
    }

    /// Whether a rota's calendar file can be read and used, as warnings at `mark`.
    fn judge_calendar_file(
        &mut self,
        mark: Mark,
        key: &str,
        file: &Path,
        users: &BTreeMap<String, User>,
    ) {
        match super::read_calendar_file(file) {
            Err(e) => self.warn(mark, key, format!("cannot read {}: {e}", file.display())),
            Ok(text) => {
                let now = crate::clock::now();
                let zone = jiff::tz::TimeZone::UTC;
                match crate::core::ical::expand(&text, users, &zone, now, now + 1) {
                    Err(why) => self.warn(
                        mark,
                        key,
                        format!("{} cannot be used: {why}", file.display()),
                    ),
                    Ok(read) => {
                        for why in read.warnings {
                            self.warn(mark, key, format!("{}: {why}", file.display()));
                        }
                    }
                }
            }
        }
    }

    /// `oncall:`: named rotas, each a weekly rotation of known users or a calendar, with a
    /// fallback.
    fn rotas(&mut self, node: &Node, c: &Config) -> BTreeMap<String, Rota> {
        let mut out = BTreeMap::new();
        let Some(rotas) = self.any_keys(node, "oncall") else {
            return out;
        };
        for (name, item) in rotas.entries.iter().copied() {
            self.rota_names.push(name.to_string());
            let path = rotas.path(name);
            let Some(f) = self.fields(item, &path, ROTA_KEYS) else {
                continue;
            };
            let users = self.references(&f, "users", "user", c.users.keys());
            let calendar = self.calendar(&f, &c.users);
            if calendar.is_some()
                && let Some(n) = f.get("users").or(f.get("handoff"))
            {
                self.error(
                    n.mark,
                    &path,
                    "a rota takes its people from users: and handoff:, or from a calendar (ical_url or ical_file), not both",
                );
            }
            let fallback = match f.get("fallback") {
                None => {
                    self.error(
                        f.mark,
                        &f.path("fallback"),
                        "a rota needs a fallback user, who is on duty whenever it yields nobody",
                    );
                    None
                }
                Some(n) => self.string(n, &f.path("fallback")).and_then(|user| {
                    if c.users.contains_key(&user) {
                        return Some(user);
                    }
                    let hint = closest(&user, c.users.keys().map(String::as_str))
                        .map(|s| format!("; did you mean '{s}'?"))
                        .unwrap_or_else(|| " is defined under users:".to_string());
                    self.error(
                        n.mark,
                        &f.path("fallback"),
                        format!("no user named '{user}'{hint}"),
                    );
                    None
                }),
            };
            let handoff = match f.get("handoff") {
                None => Some((
                    jiff::civil::Weekday::Monday,
                    jiff::civil::Time::constant(9, 0, 0, 0),
                )),
                Some(n) => self.string(n, &f.path("handoff")).and_then(|text| {
                    let parsed = text.split_once(' ').and_then(|(day, time)| {
                        Some((
                            parse_weekday(day)?,
                            time.trim().parse::<jiff::civil::Time>().ok()?,
                        ))
                    });
                    if parsed.is_none() {
                        self.error(
                            n.mark,
                            &f.path("handoff"),
                            format!("'{text}' is not a weekly handoff like \"mon 09:00\""),
                        );
                    }
                    parsed
                }),
            };
            let time_zone = self.time_zone(&f);
            if let (Some(fallback), Some((handoff_day, handoff_time)), Some(time_zone)) =
                (fallback, handoff, time_zone)
            {
                out.insert(
                    name.to_string(),
                    Rota {
                        name: name.to_string(),
                        users,
                        handoff_day,
                        handoff_time,
                        time_zone,
                        fallback,
                        calendar,
                        overrides: Vec::new(),
                        from_calendar: None,
                    },
                );
            }
        }
        out
    }

    /// `maintenance:`: weekly windows (`days`, `start`, `duration`) and dated ones (`from`,
    /// `to`, `message`).
    fn maintenance(
        &mut self,
        node: &Node,
        known: &[Service],
    ) -> (Vec<Maintenance>, Vec<crate::store::posts::Window>) {
        let mut out = Vec::new();
        let mut dated = Vec::new();
        for (i, item) in self.seq(node, "maintenance").iter().enumerate() {
            let path = format!("maintenance[{i}]");
            let Some(f) = self.fields(
                item,
                &path,
                &[
                    "name",
                    "services",
                    "days",
                    "start",
                    "duration",
                    "time_zone",
                    "from",
                    "to",
                    "message",
                ],
            ) else {
                continue;
            };
            let services = f
                .get("services")
                .map(|n| self.string_list(n, &f.path("services")))
                .unwrap_or_default();
            for (name, mark) in &services {
                if !known.iter().any(|s| &s.name == name) {
                    let hint = closest(name, known.iter().map(|s| s.name.as_str()))
                        .map(|s| format!("; did you mean '{s}'?"))
                        .unwrap_or_default();
                    self.error(
                        *mark,
                        &f.path("services"),
                        format!("no service named '{name}'{hint}"),
                    );
                }
            }
            if f.get("from").is_some() || f.get("to").is_some() {
                let names = services.into_iter().map(|(s, _)| s).collect();
                dated.extend(self.dated_window(&f, names));
                continue;
            }
            let mut days = Vec::new();
            if let Some(n) = f.get("days") {
                for (day, mark) in self.string_list(n, &f.path("days")) {
                    match parse_weekday(&day) {
                        Some(d) => days.push(d),
                        None => self.error(
                            mark,
                            &f.path("days"),
                            format!("'{day}' is not a day of the week (mon, tue, ..., sun)"),
                        ),
                    }
                }
            }
            let start = self.require(&f, "start").and_then(|n| {
                let text = self.string(n, &f.path("start"))?;
                match text.parse::<jiff::civil::Time>() {
                    Ok(t) => Some(t),
                    Err(_) => {
                        self.error(
                            n.mark,
                            &f.path("start"),
                            format!("'{text}' is not a time of day like \"02:30\""),
                        );
                        None
                    }
                }
            });
            let duration = self
                .require(&f, "duration")
                .and_then(|n| self.duration(n, &f.path("duration"), MAINTENANCE));
            let time_zone = self.time_zone(&f);
            if let (Some(start), Some(duration), Some(time_zone)) = (start, duration, time_zone) {
                out.push(Maintenance {
                    services: services.into_iter().map(|(s, _)| s).collect(),
                    days,
                    start,
                    duration,
                    time_zone,
                });
            }
        }
        (out, dated)
    }

    /// A dated window of `maintenance:`: `from` and `to` (`"2026-12-12 02:00"`, in
    /// `time_zone`), and the `message` the status page shows.
    fn dated_window(
        &mut self,
        f: &Fields,
        services: Vec<String>,
    ) -> Option<crate::store::posts::Window> {
        for weekly in ["days", "start", "duration"] {
            if let Some(n) = f.get(weekly) {
                self.error(
                    n.mark,
                    &f.path(weekly),
                    "a dated window (from, to) has no days, start or duration",
                );
            }
        }
        let zone = self.time_zone(f)?;
        let at = |r: &mut Reader, key: &str| {
            let node = r.require(f, key)?;
            let text = r.string(node, &f.path(key))?;
            super::local_time(&text, &zone)
                .map_err(|why| r.error(node.mark, &f.path(key), why))
                .ok()
        };
        let from = at(self, "from");
        let to = at(self, "to");
        let message = self.opt_string(f, "message").unwrap_or_default();
        let (from, to) = (from?, to?);
        if to <= from {
            let mark = f.get("to").map_or(f.mark, |n| n.mark);
            self.error(mark, &f.path("to"), "the window ends before it starts");
            return None;
        }
        Some(crate::store::posts::Window {
            id: None,
            services,
            from,
            to,
            time_zone: zone.iana_name().unwrap_or("UTC").to_string(),
            message,
            by: None,
            created_at: None,
        })
    }

    fn services(&mut self, node: &Node, c: &Config) -> Vec<Service> {
        let items = self.seq(node, "services");
        if items.is_empty() && matches!(node.value, Value::Seq(_)) {
            self.error(
                node.mark,
                "services",
                "no services: add at least one service with a check",
            );
        }
        let services = self.unique(
            items,
            |r, i, item| r.service(item, i, c),
            |name| {
                (
                    format!("services[{name}].name"),
                    format!("duplicate service name '{name}'"),
                )
            },
        );
        self.check_dependencies(&services);
        services
    }

    /// Reads each item with `read`, keeping the first of each name and reporting the others
    /// at their name, with the key and words `describe` gives for it.
    fn unique<'a, T>(
        &mut self,
        items: &'a [Node<'a>],
        mut read: impl FnMut(&mut Self, usize, &'a Node<'a>) -> Option<T>,
        describe: impl Fn(&str) -> (String, String),
    ) -> Vec<T> {
        let mut kept: Vec<T> = Vec::with_capacity(items.len());
        // Each item read has a name, its `name:` as written: borrowed from the tree.
        let mut seen = Seen::new(items.len());
        for (i, item) in items.iter().enumerate() {
            let Some(value) = read(self, i, item) else {
                continue;
            };
            let Some((name, name_mark)) = scalar_field(item, "name") else {
                kept.push(value);
                continue;
            };
            if let Some(first) = seen.first(name, name_mark) {
                let (key, words) = describe(name);
                self.error(
                    name_mark,
                    &key,
                    format!("{words} (first at line {})", first.line),
                );
                continue;
            }
            kept.push(value);
        }
        kept
    }

    fn service(&mut self, node: &Node, index: usize, c: &Config) -> Option<Service> {
        // Name the service in paths as soon as its name is known, for its own keys too.
        let path = match scalar_field(node, "name") {
            Some((n, _)) => ["services[", n, "]"].concat(),
            None => format!("services[{index}]"),
        };
        let f = self.fields(node, &path, SERVICE_KEYS)?;
        let name = self.required_name(&f);
        let url = f
            .get("url")
            .and_then(|n| self.url(n, &f.path("url"), &["http", "https"]));
        let runbook = f
            .get("runbook")
            .and_then(|n| self.url(n, &f.path("runbook"), &["http", "https"]));
        let users = self.references(&f, "users", "user", c.users.keys());
        let oncall = f
            .get("oncall")
            .and_then(|n| self.rota_name(n, &f.path("oncall")));
        let channels = self.references(&f, "channels", "channel", c.channels.keys());
        self.warn_missing_contacts(&f, &users, &channels, c);
        let escalation = match f.get("escalation") {
            None => Vec::new(),
            Some(n) => self.escalation(n, &f.path("escalation"), oncall.is_some(), c),
        };
        let public = self.bool(&f, "public", false);
        let confirm_peer = self.confirm(&f);
        let depends_on = match (f.get("depends_on"), &name) {
            (Some(n), Some(me)) => {
                let path = f.path("depends_on");
                let names = self.string_list(n, &path);
                self.depends_on
                    .push((me.clone(), path, n.mark, names.clone()));
                names.into_iter().map(|(d, _)| d).collect()
            }
            _ => Vec::new(),
        };
        let flap = f.get("flap").and_then(|n| {
            let path = f.path("flap");
            let g = self.fields(n, &path, &["changes", "within"])?;
            let changes = self
                .require(&g, "changes")
                .and_then(|n| self.uint(n, &g.path("changes"), 1000));
            let within = self
                .require(&g, "within")
                .and_then(|n| self.duration(n, &g.path("within"), FLAP_WITHIN));
            if changes == Some(0)
                && let Some(n) = g.get("changes")
            {
                self.error(n.mark, &g.path("changes"), "at least 1");
            }
            Some(Flap {
                changes: changes.filter(|c| *c > 0)? as u32,
                within: within?,
            })
        });
        let checks = match f.get("checks") {
            None => {
                self.error(f.mark, &f.path("checks"), "this service has no checks");
                Vec::new()
            }
            Some(node) => self.checks(node, &f, &c.defaults),
        };
        Some(Service {
            name: name?,
            url,
            runbook,
            users,
            oncall,
            channels,
            escalation,
            public,
            confirm_peer,
            depends_on,
            flap,
            checks,
        })
    }

    /// Every `depends_on` names a service, and no service depends on itself, even through
    /// others: each mistake at its line and column.
    fn check_dependencies(&mut self, services: &[Service]) {
        let written = std::mem::take(&mut self.depends_on);
        let known: Vec<&str> = services.iter().map(|s| s.name.as_str()).collect();
        for (service, path, _, names) in &written {
            for (i, (name, mark)) in names.iter().enumerate() {
                if name == service {
                    self.error(
                        *mark,
                        &format!("{path}[{i}]"),
                        "a service cannot depend on itself",
                    );
                } else if !known.contains(&name.as_str()) {
                    let hint = closest(name, known.iter().copied())
                        .map(|s| format!("; did you mean '{s}'?"))
                        .unwrap_or_default();
                    self.error(
                        *mark,
                        &format!("{path}[{i}]"),
                        format!("no service named '{name}'{hint}"),
                    );
                }
            }
        }
        // A cycle through two or more services, reported once, at the first of them.
        let deps = |name: &str| {
            services
                .iter()
                .find(|s| s.name == name)
                .map_or(&[][..], |s| s.depends_on.as_slice())
        };
        let mut reported: Vec<String> = Vec::new();
        for (service, path, mark, _) in &written {
            if reported.contains(service) {
                continue;
            }
            if let Some(cycle) = Self::cycle_from(service, &deps) {
                reported.extend(cycle.iter().cloned());
                self.error(
                    *mark,
                    path,
                    format!(
                        "the dependencies go round in a circle: {}",
                        cycle.join(" -> ")
                    ),
                );
            }
        }
    }

    /// `oncall: ROTA` in a service or a channel: a rota defined under `oncall:`.
    fn rota_name(&mut self, n: &Node, path: &str) -> Option<String> {
        let rota = self.string(n, path)?;
        if self.rota_names.contains(&rota) {
            return Some(rota);
        }
        let names = self.rota_names.clone();
        let hint = closest(&rota, names.iter().map(String::as_str))
            .map(|s| format!("; did you mean '{s}'?"))
            .unwrap_or_else(|| " is defined under oncall:".to_string());
        self.error(n.mark, path, format!("no rota named '{rota}'{hint}"));
        None
    }

    /// `escalation:`: steps in order of `after`, each naming users (or `oncall`, the
    /// service's rota) and optionally its own channels.
    fn escalation(
        &mut self,
        node: &Node,
        path: &str,
        has_rota: bool,
        c: &Config,
    ) -> Vec<EscalationStep> {
        let mut out: Vec<EscalationStep> = Vec::new();
        for (i, item) in self.seq(node, path).iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(f) = self.fields(item, &ipath, &["after", "notify", "channels"]) else {
                continue;
            };
            // `after: 0m` is the incident's first alert; other durations must be positive.
            let after = self.require(&f, "after").and_then(|n| match &n.value {
                Value::Scalar { text, .. }
                    if humantime::parse_duration(text).ok() == Some(Duration::ZERO) =>
                {
                    Some(Duration::ZERO)
                }
                _ => self.duration(n, &f.path("after"), ESCALATION),
            });
            if let (Some(after), Some(last)) = (after, out.last())
                && after < last.after
            {
                let mark = f.get("after").map_or(f.mark, |n| n.mark);
                self.error(
                    mark,
                    &f.path("after"),
                    "steps go in order: this one comes before the one above it",
                );
            }
            let mut notify = Vec::new();
            if let Some(n) = self.require(&f, "notify") {
                let npath = f.path("notify");
                let names = match &n.value {
                    Value::Seq(_) => self.string_list(n, &npath),
                    _ => self
                        .string(n, &npath)
                        .map(|s| vec![(s, n.mark)])
                        .unwrap_or_default(),
                };
                for (name, mark) in names {
                    if name == "oncall" {
                        if has_rota {
                            notify.push(Notify::OnCall);
                        } else {
                            self.error(
                                mark,
                                &npath,
                                "'oncall' needs the service to name a rota: add oncall: ROTA",
                            );
                        }
                    } else if c.users.contains_key(&name) {
                        notify.push(Notify::User(name));
                    } else {
                        let hint = closest(&name, c.users.keys().map(String::as_str))
                            .map(|s| format!("; did you mean '{s}'?"))
                            .unwrap_or_else(|| " (a user under users:, or oncall)".to_string());
                        self.error(mark, &npath, format!("no user named '{name}'{hint}"));
                    }
                }
            }
            let channels = self.references(&f, "channels", "channel", c.channels.keys());
            if let Some(after) = after {
                out.push(EscalationStep {
                    after,
                    notify,
                    channels,
                });
            }
        }
        out
    }

    /// A user who lacks the contact a channel of the service needs would never hear of it.
    fn warn_missing_contacts(
        &mut self,
        f: &Fields,
        users: &[String],
        channels: &[String],
        c: &Config,
    ) {
        let mark = f.get("users").map_or(f.mark, |n| n.mark);
        for channel_name in channels {
            let Some(channel) = c.channels.get(channel_name) else {
                continue;
            };
            let Some(contact) = channel.kind.reach().contact() else {
                continue;
            };
            let what = contact.key;
            for user in users {
                if c.users.get(user).is_some_and(|u| u.contact(what).is_none()) {
                    self.warn(
                        mark,
                        &f.path("users"),
                        format!("user '{user}' has no {what}, so channel '{channel_name}' cannot reach them"),
                    );
                }
            }
        }
    }

    fn references<'k>(
        &mut self,
        f: &Fields,
        key: &str,
        what: &str,
        known: impl Iterator<Item = &'k String> + Clone,
    ) -> Vec<String> {
        let Some(node) = f.get(key) else {
            return Vec::new();
        };
        let path = f.path(key);
        let mut out = Vec::new();
        for (name, mark) in self.string_list(node, &path) {
            if known.clone().any(|k| *k == name) {
                out.push(name);
                continue;
            }
            let hint = closest(&name, known.clone().map(String::as_str))
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_else(|| format!(" is defined under {key}:"));
            self.error(mark, &path, format!("no {what} named '{name}'{hint}"));
        }
        out
    }

    /// The `checks:` list of the service whose fields are `f`; its path is joined only
    /// for an error.
    fn checks(&mut self, node: &Node, f: &Fields, defaults: &Defaults) -> Vec<Check> {
        let Value::Seq(items) = &node.value else {
            // Not a list: `seq` says so.
            self.seq(node, &f.path("checks"));
            return Vec::new();
        };
        if items.is_empty() {
            self.error(node.mark, &f.path("checks"), "this service has no checks");
        }
        let list = f.path("checks");
        self.unique(
            items,
            |r, i, item| r.check(item, i, &list, defaults),
            |name| {
                (
                    format!("{}.checks[{name}].name", f.path),
                    format!("duplicate check name '{name}' in this service"),
                )
            },
        )
    }

    /// A check in the list at `list_path` (`services[web].checks`, `network_checks`).
    fn check(&mut self, node: &Node, index: usize, list_path: &str, d: &Defaults) -> Option<Check> {
        // Name the check in paths as soon as its name is known (joined by hand: this is
        // made for every check).
        let path = match scalar_field(node, "name") {
            Some((n, _)) => [list_path, "[", n, "]"].concat(),
            None => format!("{list_path}[{index}]"),
        };
        let type_field = scalar_field(node, "type");
        let type_name = type_field.map(|(t, _)| t);
        let Some(type_name) = type_name else {
            if self.is_mapping(node, &path) {
                self.error(
                    node.mark,
                    &format!("{path}.type"),
                    format!(
                        "missing required key (one of: {})",
                        checks::TYPES.join(", ")
                    ),
                );
            }
            return None;
        };
        let Some(extra) = CheckKind::keys_of(type_name) else {
            let hint = closest(type_name, checks::TYPES.iter().copied())
                .map(|s| format!("; did you mean '{s}'?"))
                .unwrap_or_else(|| format!(" (supported: {})", checks::TYPES.join(", ")));
            let mark = type_field.as_ref().map_or(node.mark, |(_, m)| *m);
            self.error(
                mark,
                &format!("{path}.type"),
                format!("unknown check type '{type_name}'{hint}"),
            );
            return None;
        };
        let allowed: Vec<&str> = CHECK_KEYS.iter().chain(extra).copied().collect();
        let f = self.fields(node, &path, &allowed)?;
        let name = self.required_name(&f);
        let importance = f
            .get("importance")
            .and_then(|n| self.importance(n, &f.path("importance")))
            .unwrap_or(d.importance);
        let frequency = self.opt_duration(&f, "frequency", d.frequency, FREQUENCY);
        self.warn_sub_minute(&f, &f.path("frequency"), frequency);
        let timeout = self.opt_duration(&f, "timeout", d.timeout, TIMEOUT);
        if timeout >= frequency
            && let Some(n) = f.get("timeout").or_else(|| f.get("frequency"))
        {
            self.warn(
                n.mark,
                &f.path("timeout"),
                format!(
                    "the timeout ({}) is not below the frequency ({}): a slow target keeps this check from running every {}",
                    crate::text::duration(timeout),
                    crate::text::duration(frequency),
                    crate::text::duration(frequency)
                ),
            );
        }
        let debounce = f
            .get("debounce")
            .and_then(|n| self.uint(n, &f.path("debounce"), u32::MAX.into()))
            .map_or(d.debounce, |n| n as u32);
        let recover_after = f
            .get("recover_after")
            .and_then(|n| self.uint(n, &f.path("recover_after"), u32::MAX.into()))
            .map_or(d.recover_after, |n| n as u32);
        let retry = f
            .get("retry")
            .and_then(|n| self.retry(n, &f, timeout, frequency));
        let active = self.bool(&f, "active", true);
        let confirm_peer = self.confirm(&f);
        let kind = CheckKind::read(type_name, self, &f)?;
        Some(Check {
            name: name?,
            importance,
            frequency,
            timeout,
            debounce,
            recover_after,
            retry,
            active,
            confirm_peer,
            kind,
        })
    }

    /// `retry: { count, after }` of a check; its tries must fit within its frequency.
    fn retry(
        &mut self,
        node: &Node,
        check: &Fields,
        timeout: Duration,
        frequency: Duration,
    ) -> Option<Retry> {
        let path = check.path("retry");
        let f = self.fields(node, &path, &["count", "after"])?;
        let count = self
            .require(&f, "count")
            .and_then(|n| self.uint(n, &f.path("count"), RETRY_MAX))
            .map(|n| n as u32);
        let after = self
            .require(&f, "after")
            .and_then(|n| self.duration(n, &f.path("after"), RETRY_AFTER));
        let retry = Retry {
            count: count?,
            after: after?,
        };
        if retry.count == 0 {
            return None;
        }
        let worst = timeout + (timeout + retry.after) * retry.count;
        if worst >= frequency {
            self.error(
                node.mark,
                &path,
                format!(
                    "its tries take up to {} (the first, then {} x (timeout {} + after {})), not below the frequency ({}): lower count, after or timeout, or run the check less often",
                    crate::text::duration(worst),
                    retry.count,
                    crate::text::duration(timeout),
                    crate::text::duration(retry.after),
                    crate::text::duration(frequency)
                ),
            );
        }
        Some(retry)
    }

    /// `confirm: peer` on a service or a check.
    fn confirm(&mut self, f: &Fields) -> bool {
        let Some(n) = f.get("confirm") else {
            return false;
        };
        match self.string(n, &f.path("confirm")).as_deref() {
            Some("peer") => {
                self.confirms.push((n.mark, f.path("confirm")));
                true
            }
            Some(other) => {
                self.error(
                    n.mark,
                    &f.path("confirm"),
                    format!("'{other}' is not 'peer' (the other node of the pair)"),
                );
                false
            }
            None => false,
        }
    }

    /// The services from `start` round to `start` again through `depends_on`, if its
    /// dependencies lead back to it (`[web, api, web]`).
    fn cycle_from<'a>(start: &str, deps: &dyn Fn(&str) -> &'a [String]) -> Option<Vec<String>> {
        // Depth first, keeping the path; a name seen before on another branch is not walked again.
        let mut path: Vec<(String, usize)> = vec![(start.to_string(), 0)];
        let mut seen: std::collections::HashSet<String> = std::collections::HashSet::new();
        while let Some((name, next)) = path.last().cloned() {
            let children = deps(&name);
            if next >= children.len() {
                path.pop();
                continue;
            }
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let child = &children[next];
            if child == start && path.len() > 1 {
                let mut cycle: Vec<String> = path.iter().map(|(n, _)| n.clone()).collect();
                cycle.push(start.to_string());
                return Some(cycle);
            }
            if seen.insert(child.clone()) && child != start {
                path.push((child.clone(), 0));
            }
        }
        None
    }

    /// `host: "name:port"` (or `[v6]:port`), or `host:` and `port:`; `default_port` when
    /// neither gives a port, else an error. Returns the host, the port and where `host` is.
    pub(crate) fn host_and_port(
        &mut self,
        f: &Fields,
        default_port: Option<u16>,
    ) -> Option<(String, u16, Mark)> {
        let host_node = self.require(f, "host")?;
        let host = self.string_at(host_node, f, "host")?;
        let port = match f.get("port") {
            Some(n) => Some(self.uint(n, &f.path("port"), u16::MAX.into())? as u16),
            None => None,
        };
        let bare = || host.trim_matches(['[', ']']).to_string();
        let (name, port) = match (split_host_port(&host), port.or(default_port)) {
            (Some(_), Some(_)) if port.is_some() => {
                self.error(
                    host_node.mark,
                    &f.path("host"),
                    "the port is given twice: in host and in port",
                );
                return None;
            }
            (Some((h, p)), _) => (h, p),
            (None, Some(p)) => (bare(), p),
            (None, None) => {
                self.error(
                    host_node.mark,
                    &f.path("host"),
                    format!("'{host}' has no port: write host: \"{host}:PORT\" or add port:"),
                );
                return None;
            }
        };
        Some((name, port, host_node.mark))
    }

    /// `ca_file`: a PEM file with at least one certificate, read now.
    pub(crate) fn ca_file(&mut self, f: &Fields) -> Option<Vec<u8>> {
        let node = f.get("ca_file")?;
        let path = f.path("ca_file");
        let name = self.string(node, &path)?;
        let file = self.dir.join(name);
        match read_ca_file(&file) {
            Ok(pem) => Some(pem),
            Err(why) => {
                self.error(node.mark, &path, why);
                None
            }
        }
    }

    pub(crate) fn number(&mut self, node: &Node, path: &str) -> Option<f64> {
        let (text, _) = self.scalar(node, path, "a number")?;
        match text.trim_end_matches('%').parse::<f64>() {
            Ok(n) if n.is_finite() => Some(n),
            _ => {
                self.error(
                    node.mark,
                    path,
                    format!("expected a number, found '{text}'"),
                );
                None
            }
        }
    }
}

/// Whether `name` may name a service or a check: `service/check` identifies one.
pub(crate) fn usable_name(name: &str) -> bool {
    !name.trim().is_empty() && !name.contains('/') && !name.chars().any(char::is_control)
}

/// A scalar field's text and mark, looked up before the mapping is read in full.
fn scalar_field<'a>(node: &'a Node, key: &str) -> Option<(&'a str, Mark)> {
    match &node.value {
        Value::Map(entries) => entries
            .iter()
            .find_map(|(k, v)| match (&k.value, &v.value) {
                (Value::Scalar { text, .. }, Value::Scalar { text: value, .. }) if text == key => {
                    Some((value.as_ref(), v.mark))
                }
                _ => None,
            }),
        _ => None,
    }
}

pub(crate) fn check_url(text: &str, schemes: &[&str]) -> Result<(), String> {
    // Scheme and host are looked at by hand first: for those, the URI parser only
    // says "invalid format" or "empty string".
    let Some((scheme, rest)) = text.split_once("://") else {
        return Err(format!("it has no scheme; start it with {}://", schemes[0]));
    };
    if !schemes.iter().any(|s| s.eq_ignore_ascii_case(scheme)) {
        return Err(format!("the scheme must be {}", schemes.join(" or ")));
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    if host.is_empty() || host.starts_with(':') {
        return Err("it has no host".into());
    }
    let uri: Uri = text
        .parse()
        .map_err(|e: ureq::http::uri::InvalidUri| e.to_string())?;
    match uri.host() {
        Some(h) if !h.is_empty() => Ok(()),
        _ => Err("it has no host".into()),
    }
}

/// A PEM file of certificates to trust instead of the public roots, checked to hold one.
fn read_ca_file(path: &Path) -> Result<Vec<u8>, String> {
    let pem = std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
    let has_cert = ureq::tls::parse_pem(&pem)
        .any(|item| matches!(item, Ok(ureq::tls::PemItem::Certificate(_))));
    if !has_cert {
        return Err(format!("{} holds no PEM certificate", path.display()));
    }
    Ok(pem)
}

fn parse_weekday(s: &str) -> Option<jiff::civil::Weekday> {
    use jiff::civil::Weekday::*;
    let lower = s.to_ascii_lowercase();
    let day = match lower.get(..3)? {
        "mon" => Monday,
        "tue" => Tuesday,
        "wed" => Wednesday,
        "thu" => Thursday,
        "fri" => Friday,
        "sat" => Saturday,
        "sun" => Sunday,
        _ => return None,
    };
    // "mon" or the whole name, nothing else
    let full = [
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ];
    (lower.len() == 3 || full.contains(&lower.as_str())).then_some(day)
}

/// `host:port` or `[v6]:port`.
fn split_host_port(s: &str) -> Option<(String, u16)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, port) = rest.split_once("]:")?;
        return Some((host.to_string(), port.parse().ok()?));
    }
    let (host, port) = s.rsplit_once(':')?;
    if host.contains(':') {
        return None;
    }
    Some((host.to_string(), port.parse().ok()?))
}

/// This machine's name, a node's name when `peer.name` is not given.
fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: gethostname writes at most `buf.len()` bytes into the buffer it is given.
    let ok = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) } == 0;
    let end = buf.iter().position(|b| *b == 0).unwrap_or(buf.len());
    match ok {
        true => String::from_utf8_lossy(&buf[..end]).into_owned(),
        false => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::http::StatusMatch;

    fn errors(text: &str) -> Vec<String> {
        match parse(text, Path::new("c.yaml")) {
            Ok(_) => Vec::new(),
            Err(e) => e.lines(),
        }
    }

    const GOOD: &str = "
state: cabot.db
users:
  alice: { email: alice@example.com, phone: '+15551230001', slack: '@alice' }
channels:
  hook: { type: webhook, url: 'http://127.0.0.1:9/hook' }
services:
  - name: website
    users: [alice]
    channels: [hook]
    checks:
      - { name: home, type: http, url: 'http://127.0.0.1:8080/', expect_status: [200, 3xx], text_match: 'Welc.me' }
      - { name: db, type: tcp, host: '127.0.0.1:5432', frequency: 5m, debounce: 12 }
";

    #[test]
    fn a_good_config_parses() {
        let parsed = parse(GOOD, Path::new("/etc/cabot/c.yaml")).expect("good config");
        let c = parsed.config;
        assert_eq!(c.state, Path::new("/etc/cabot/cabot.db"));
        assert_eq!(c.services.len(), 1);
        let checks = &c.services[0].checks;
        assert_eq!(checks[1].frequency, Duration::from_secs(300));
        assert_eq!(checks[1].debounce, 12);
        let CheckKind::Http(h) = &checks[0].kind else {
            panic!("http")
        };
        assert_eq!(
            h.expect_status,
            vec![StatusMatch::Code(200), StatusMatch::Class(3)]
        );
        // a webhook URL is a secret: it is often its own credential
        assert_eq!(parsed.inline_secret_marks.len(), 1);
    }

    #[test]
    fn every_error_is_reported_with_its_position() {
        let text = "services:\n  - name: a\n    checks:\n      - { name: x, type: http, url: 'http://h/', timout: 5s }\n      - { name: y, type: tcp, host: 'h:1', frequency: soon }\n";
        let errs = errors(text);
        assert_eq!(
            errs,
            [
                "c.yaml:4:50: services[a].checks[x].timout: unknown key; did you mean 'timeout'?",
                "c.yaml:5:55: services[a].checks[y].frequency: 'soon' is not a duration; write e.g. 30s, 5m, 2h, 7d",
            ]
        );
    }

    #[test]
    fn urls() {
        let web = ["http", "https"];
        assert_eq!(check_url("https://example.com/x", &web), Ok(()));
        assert_eq!(check_url("http://u:p@[::1]:80/", &web), Ok(()));
        assert_eq!(
            check_url("example.com/x", &web),
            Err("it has no scheme; start it with http://".into())
        );
        assert_eq!(
            check_url("ftp://example.com/", &web),
            Err("the scheme must be http or https".into())
        );
        for no_host in ["http://", "http:///x", "https://:443/", "http://u@/"] {
            assert_eq!(
                check_url(no_host, &web),
                Err("it has no host".into()),
                "{no_host}"
            );
        }
    }

    #[test]
    fn host_port() {
        assert_eq!(split_host_port("db:5432"), Some(("db".into(), 5432)));
        assert_eq!(split_host_port("[::1]:80"), Some(("::1".into(), 80)));
        assert_eq!(split_host_port("::1"), None);
        assert_eq!(split_host_port("db"), None);
    }
}
