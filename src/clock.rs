//! The time `now`, which tests and dry runs can set.

use std::sync::OnceLock;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

/// Unix seconds now. When `$CABOT_NOW` (Unix seconds or RFC 3339) is set, the clock
/// starts there when the process starts and runs on in real time.
///
/// `CABOT_NOW` exists so that tests and rehearsals can run cabot at a chosen time
/// without waiting for the clock; it is never needed in production.
pub fn now() -> i64 {
    // Kept in milliseconds, so that two processes alive at once read the same second:
    // whole seconds at the start and whole seconds since would put one up to a second
    // behind the other.
    static START: OnceLock<(i64, Instant)> = OnceLock::new();
    let (base_ms, started) = START.get_or_init(|| {
        let base_ms = std::env::var("CABOT_NOW")
            .ok()
            .and_then(|t| parse_time(&t))
            .map(|secs| secs.saturating_mul(1000))
            .unwrap_or_else(|| {
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
                    .unwrap_or(0)
            });
        (base_ms, Instant::now())
    });
    let elapsed_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    base_ms.saturating_add(elapsed_ms).div_euclid(1000)
}

fn parse_time(text: &str) -> Option<i64> {
    if let Ok(secs) = text.trim().parse::<i64>() {
        return Some(secs);
    }
    let t = humantime::parse_rfc3339_weak(text.trim()).ok()?;
    t.duration_since(UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs() as i64)
}

/// The last second RFC 3339 can write: 9999-12-31T23:59:59Z.
const LAST_WRITABLE: i64 = 253_402_300_799;

/// `2026-11-24T10:02:11Z` for a Unix time; any value, even one a damaged or older state
/// holds, gives a time (clamped to 1970..9999), never a panic.
pub fn format_time(t: i64) -> String {
    rfc3339(t).to_string()
}

/// `t` as `format_time` writes it, for a `{}` that writes it in place.
pub fn rfc3339(t: i64) -> humantime::Rfc3339Timestamp {
    let st = UNIX_EPOCH + std::time::Duration::from_secs(t.clamp(0, LAST_WRITABLE) as u64);
    humantime::format_rfc3339_seconds(st)
}

/// A short age such as `42s`, `5m`, `3h 2m`, `2d 4h`.
pub fn format_age(secs: i64) -> String {
    Age(secs).to_string()
}

/// An age as `format_age` writes it, for a `{}` that writes it in place.
pub struct Age(pub i64);

impl std::fmt::Display for Age {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = self.0.max(0);
        match s {
            0..60 => write!(f, "{s}s"),
            60..3600 => write!(f, "{}m", s / 60),
            3600..86400 => match (s % 3600) / 60 {
                0 => write!(f, "{}h", s / 3600),
                m => write!(f, "{}h {m}m", s / 3600),
            },
            _ => match (s % 86400) / 3600 {
                0 => write!(f, "{}d", s / 86400),
                h => write!(f, "{}d {h}h", s / 86400),
            },
        }
    }
}

/// How long ago an age of `secs` was, as `3h 2m ago`; a negative age (a time stamped
/// ahead of this clock, which went back) as `3h 2m ahead of this clock`, never `0s ago`.
pub struct Ago(pub i64);

impl std::fmt::Display for Ago {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            s if s < 0 => write!(f, "{} ahead of this clock", Age(s.saturating_neg())),
            s => write!(f, "{} ago", Age(s)),
        }
    }
}

/// A Unix time as an RFC 3339 string in JSON: `#[serde(with = "crate::clock::rfc3339")]`.
pub mod rfc3339 {
    use serde::{Deserialize, Deserializer, Serializer, de::Error};

    pub fn serialize<S: Serializer>(t: &i64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&super::format_time(*t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
        let text = String::deserialize(d)?;
        super::parse_time(&text).ok_or_else(|| D::Error::custom(format!("not a time: {text}")))
    }
}

/// An optional Unix time as an RFC 3339 string or null: `#[serde(with = "crate::clock::rfc3339_opt")]`.
pub mod rfc3339_opt {
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<i64>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&super::format_time(*t)),
            None => s.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("1700000000"), Some(1_700_000_000));
        assert_eq!(parse_time("2023-11-14T22:13:20Z"), Some(1_700_000_000));
        assert_eq!(format_time(1_700_000_000), "2023-11-14T22:13:20Z");
        assert_eq!(parse_time("yesterday"), None);
        assert_eq!(format_time(i64::MAX), "9999-12-31T23:59:59Z");
        assert_eq!(format_time(i64::MIN), "1970-01-01T00:00:00Z");
    }

    #[test]
    fn ages() {
        assert_eq!(format_age(42), "42s");
        assert_eq!(format_age(300), "5m");
        assert_eq!(format_age(3600 * 3 + 120), "3h 2m");
        assert_eq!(format_age(86400 * 2 + 3600 * 4), "2d 4h");
        assert_eq!(format_age(-5), "0s");
    }
}
