//! `heartbeat`: a passive check for cron jobs and backups, like healthchecks.io. It fails
//! when no ping arrived within `period + grace`, or when the last ping was a failure.
//! Pings come from `cabot ping NAME` or `POST /ping/NAME` to `serve-status`.

use std::time::Duration;

use super::{CheckKind, CheckResult, CheckType, Context};
use crate::clock::{format_age, format_time};
use crate::config::read::{self, Fields, Reader};
use crate::config::{Check, Config, Secret};

/// A passive check: pings must arrive within `period + grace`.
#[derive(Debug, Clone)]
pub struct HeartbeatCheck {
    pub period: Duration,
    pub grace: Duration,
    /// The token an HTTP ping must carry; without one, only `cabot ping` can ping.
    pub token: Option<Secret>,
}

impl CheckType for HeartbeatCheck {
    const NAME: &'static str = "heartbeat";
    const KEYS: &'static [&'static str] = &["period", "grace", "token", "token_env", "token_file"];
    const PASSIVE: bool = true;

    fn read(r: &mut Reader, f: &Fields) -> Option<HeartbeatCheck> {
        Some(HeartbeatCheck {
            period: r
                .require(f, "period")
                .and_then(|n| r.duration(n, &f.path("period"), read::FREQUENCY))?,
            grace: r.opt_duration(f, "grace", Duration::from_secs(60), read::LONG),
            token: r.secret(f, "token"),
        })
    }

    /// Never called: a heartbeat is judged from its pings by `judge`.
    fn run(&self, _: &Check, _: Option<i64>, _: &Context<'_>) -> CheckResult {
        CheckResult::fail("a heartbeat is judged from its pings", Duration::ZERO)
    }
}

/// The last ping a heartbeat received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ping {
    pub at: i64,
    pub ok: bool,
    pub message: Option<String>,
}

/// The verdict at `now`, given the last ping and when the check was added to the config
/// (not when its status last changed: a heartbeat never pinged fails once `period + grace`
/// after it was added, and stays failing).
pub fn judge(check: &HeartbeatCheck, last: Option<&Ping>, first_seen: i64, now: i64) -> CheckResult {
    let allowed = (check.period + check.grace).as_secs() as i64;
    let window = crate::text::duration(check.period + check.grace);
    // `: what the job said`, when it said something
    let said = |p: &Ping| {
        p.message
            .as_ref()
            .map(|m| format!(": {m}"))
            .unwrap_or_default()
    };
    match last {
        Some(p) if !p.ok => CheckResult::fail(
            format!(
                "the last ping ({} ago) reported a failure{}",
                format_age(now.saturating_sub(p.at)),
                said(p)
            ),
            Duration::ZERO,
        ),
        Some(p) if now.saturating_sub(p.at) > allowed => CheckResult::fail(
            format!(
                "no ping for {} (period + grace is {window}); the last was at {}",
                format_age(now.saturating_sub(p.at)),
                format_time(p.at)
            ),
            Duration::ZERO,
        ),
        Some(p) => CheckResult::pass(
            format!("last ping {} ago{}", format_age(now.saturating_sub(p.at)), said(p)),
            Duration::ZERO,
        ),
        None if now.saturating_sub(first_seen) > allowed => CheckResult::fail(
            format!(
                "no ping received since the check was added {} ago (period + grace is {window})",
                format_age(now.saturating_sub(first_seen))
            ),
            Duration::ZERO,
        ),
        None => CheckResult::pass("waiting for the first ping", Duration::ZERO),
    }
}

/// The heartbeat a ping names: `service/check`, or a check name that only one heartbeat has.
pub fn find<'a>(
    cfg: &'a Config,
    name: &str,
) -> Result<(&'a str, &'a Check, &'a HeartbeatCheck), String> {
    let all: Vec<(&str, &Check, &HeartbeatCheck)> = cfg
        .services
        .iter()
        .flat_map(|s| s.checks.iter().map(move |c| (s.name.as_str(), c)))
        .filter_map(|(s, c)| match &c.kind {
            CheckKind::Heartbeat(h) => Some((s, c, h.as_ref())),
            _ => None,
        })
        .collect();
    let found: Vec<_> = match name.split_once('/') {
        Some((service, check)) => all
            .iter()
            .filter(|(s, c, _)| *s == service && c.name == check)
            .collect(),
        None => all.iter().filter(|(_, c, _)| c.name == name).collect(),
    };
    match found.as_slice() {
        [one] => Ok(**one),
        [] => Err(format!("no heartbeat check named '{name}'")),
        _ => Err(format!(
            "several heartbeat checks are named '{name}': say SERVICE/{name}"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR: i64 = 3600;

    fn hb() -> HeartbeatCheck {
        HeartbeatCheck {
            period: Duration::from_secs(3600),
            grace: Duration::from_secs(300),
            token: None,
        }
    }

    fn ping(at: i64, ok: bool) -> Ping {
        Ping {
            at,
            ok,
            message: None,
        }
    }

    #[test]
    fn heartbeat_table() {
        let t = 1_000_000;
        let cases = [
            (
                Some(ping(t - 10, true)),
                t - 10 * HOUR,
                true,
                "last ping 10s ago",
            ),
            (
                Some(ping(t - HOUR - 299, true)),
                t - 10 * HOUR,
                true,
                "last ping",
            ),
            (
                Some(ping(t - HOUR - 301, true)),
                t - 10 * HOUR,
                false,
                "no ping for 1h 5m",
            ),
            (
                Some(ping(t - 10, false)),
                t - 10 * HOUR,
                false,
                "reported a failure",
            ),
            (None, t - 60, true, "waiting for the first ping"),
            (None, t - 2 * HOUR, false, "no ping received"),
        ];
        for (last, first_seen, ok, words) in cases {
            let o = judge(&hb(), last.as_ref(), first_seen, t);
            assert_eq!(o.ok, ok, "{last:?}: {}", o.message);
            assert!(o.message.contains(words), "{}", o.message);
        }
    }
}
