//! Check types. Each lives in one file, `checks/<type>.rs`, that owns everything about it:
//! its config struct, its keys, how it is read from the config and how it runs. The
//! registry at the bottom of this file names every type once; the list of types in error
//! messages, `type_name`, reading and running all come from it.
//!
//! To add a check type: write `checks/<type>.rs` with a struct that implements
//! [`CheckType`], and add one line to `check_types!` below.

pub mod json_conditions;
pub mod pattern;
pub mod perfdata;
pub mod runner;

use std::collections::{BTreeSet, HashMap};
use std::sync::Mutex;
use std::time::Duration;

use crate::config::read::{Fields, Reader};
use crate::config::{Check, Config};
use crate::core::Importance;
use crate::http_client::Client;
use perfdata::Perfdata;

/// One check type: what its config holds and how it runs.
pub(crate) trait CheckType: Sized {
    /// The `type:` that selects it.
    const NAME: &'static str;
    /// Its own keys, besides those every check has (`name`, `type`, `importance`, ...).
    const KEYS: &'static [&'static str];
    /// Judged from the state (pings), never run by the runner.
    const PASSIVE: bool = false;

    /// Reads the type's keys from `f`; every problem goes to `r` with its position. `None`
    /// when the check cannot be used.
    fn read(r: &mut Reader, f: &Fields) -> Option<Self>;

    /// Runs the check once, within `check.timeout`. Never panics on anything the target does.
    fn run(&self, check: &Check, last_run: Option<i64>, ctx: &Context<'_>) -> CheckResult;
}

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckResult {
    pub ok: bool,
    /// One line for humans: what was seen, or what went wrong.
    pub message: String,
    pub duration: Duration,
    /// A failure less grave than the check's importance (a Nagios WARNING), if so.
    pub importance: Option<Importance>,
    /// Performance data the check reported (a Nagios plugin's perfdata).
    pub perfdata: Option<Perfdata>,
    /// For a failure: how many failures in a row it stands for, when the target counts
    /// them itself (a Jenkins job's failed builds, however many runs saw them). `None`:
    /// one more than the check's results before it.
    pub in_a_row: Option<u64>,
}

impl CheckResult {
    pub fn pass(message: impl Into<String>, duration: Duration) -> CheckResult {
        CheckResult {
            ok: true,
            message: crate::text::message(&message.into()),
            duration,
            importance: None,
            perfdata: None,
            in_a_row: None,
        }
    }

    pub fn fail(message: impl Into<String>, duration: Duration) -> CheckResult {
        CheckResult {
            ok: false,
            ..CheckResult::pass(message, duration)
        }
    }

    /// This failure counts at `importance` at most.
    pub fn at_most(mut self, importance: Importance) -> CheckResult {
        self.importance = Some(importance);
        self
    }

    /// A failure that stands for `n` failures in a row (`in_a_row`).
    pub fn in_a_row(mut self, n: u64) -> CheckResult {
        self.in_a_row = Some(n);
        self
    }

    pub fn with_perfdata(mut self, perfdata: Option<Perfdata>) -> CheckResult {
        self.perfdata = perfdata;
        self
    }
}

/// What a check runs with: the run's HTTP client, what checks remember between runs, and
/// `now` (Unix seconds) as it starts.
pub struct Context<'a> {
    pub http: &'a Client,
    pub memory: &'a CheckMemory,
    pub now: i64,
}

/// What checks remember from one run to the next, by key (a domain's last RDAP lookup):
/// read from the state as a run starts, and what changed written back as it ends.
#[derive(Debug, Default)]
pub struct CheckMemory {
    entries: Mutex<HashMap<String, String>>,
    changed: Mutex<BTreeSet<String>>,
}

impl CheckMemory {
    pub fn new(entries: HashMap<String, String>) -> CheckMemory {
        CheckMemory {
            entries: Mutex::new(entries),
            changed: Mutex::default(),
        }
    }

    pub fn get(&self, key: &str) -> Option<String> {
        self.entries.lock().ok()?.get(key).cloned()
    }

    pub fn set(&self, key: &str, value: String) {
        if let (Ok(mut entries), Ok(mut changed)) = (self.entries.lock(), self.changed.lock()) {
            entries.insert(key.to_string(), value);
            changed.insert(key.to_string());
        }
    }

    /// The entries set since it was made, by key.
    pub fn changed(&self) -> Vec<(String, String)> {
        let (Ok(entries), Ok(changed)) = (self.entries.lock(), self.changed.lock()) else {
            return Vec::new();
        };
        changed
            .iter()
            .filter_map(|k| entries.get(k).map(|v| (k.clone(), v.clone())))
            .collect()
    }
}

/// One check to run: where it is in the config, and when it last ran.
#[derive(Debug, Clone, Copy)]
pub struct Job {
    pub service: usize,
    pub check: usize,
    pub last_run: Option<i64>,
}

impl Job {
    pub fn check<'a>(&self, cfg: &'a Config) -> &'a Check {
        &cfg.services[self.service].checks[self.check]
    }
}

/// Runs one check that starts at `now`, bounded by its timeout; the result's duration is
/// measured here.
pub fn run(check: &Check, last_run: Option<i64>, ctx: &Context<'_>) -> CheckResult {
    let started = std::time::Instant::now();
    let result = check.kind.run(check, last_run, ctx);
    CheckResult {
        duration: started.elapsed(),
        ..result
    }
}

/// Names every check type once: `Variant(module::Type)`. Makes the `CheckKind` enum, the
/// list of type names, and the dispatch of reading and running.
macro_rules! check_types {
    ($($variant:ident($module:ident::$ty:ident)),+ $(,)?) => {
        $(pub mod $module;)+

        /// A check's type and its own settings; one arm per type.
        #[derive(Debug, Clone)]
        pub enum CheckKind {
            $($variant(Box<$module::$ty>),)+
        }

        /// Every check type's name, in the order the docs list them.
        pub const TYPES: &[&str] = &[$(<$module::$ty as CheckType>::NAME,)+];

        impl CheckKind {
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(CheckKind::$variant(_) => <$module::$ty as CheckType>::NAME,)+
                }
            }

            /// The own keys of the type called `name`; `None` when there is no such type.
            pub fn keys_of(name: &str) -> Option<&'static [&'static str]> {
                $(if name == <$module::$ty as CheckType>::NAME {
                    return Some(<$module::$ty as CheckType>::KEYS);
                })+
                None
            }

            /// Reads a check of the type called `name`; `None` when it cannot be used or
            /// there is no such type.
            pub(crate) fn read(name: &str, r: &mut Reader, f: &Fields) -> Option<CheckKind> {
                $(if name == <$module::$ty as CheckType>::NAME {
                    return <$module::$ty as CheckType>::read(r, f)
                        .map(|c| CheckKind::$variant(Box::new(c)));
                })+
                None
            }

            fn run(&self, check: &Check, last_run: Option<i64>, ctx: &Context<'_>) -> CheckResult {
                match self {
                    $(CheckKind::$variant(c) => c.run(check, last_run, ctx),)+
                }
            }

            /// Judged from the state rather than run.
            pub fn is_passive(&self) -> bool {
                match self {
                    $(CheckKind::$variant(_) => <$module::$ty as CheckType>::PASSIVE,)+
                }
            }

        }
    };
}

check_types! {
    Http(http::HttpCheck),
    Tcp(tcp::TcpCheck),
    Cabot(cabot::CabotCheck),
    Icmp(icmp::IcmpCheck),
    Jenkins(jenkins::JenkinsCheck),
    Graphite(graphite::GraphiteCheck),
    Tls(tls::TlsCheck),
    Dns(dns::DnsCheck),
    Command(command::CommandCheck),
    Heartbeat(heartbeat::HeartbeatCheck),
    Domain(domain::DomainCheck),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_named_once_and_found_by_its_name() {
        for (i, name) in TYPES.iter().enumerate() {
            assert!(!TYPES[..i].contains(name), "{name} is registered twice");
            assert!(CheckKind::keys_of(name).is_some(), "{name}");
        }
        assert!(CheckKind::keys_of("htp").is_none());
    }
}
