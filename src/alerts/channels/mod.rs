//! Alert channels. Each lives in one file, `alerts/channels/<type>.rs`, that owns its
//! config struct, its keys, how it is read, who it reaches and how it sends. The registry
//! at the bottom of this file names every type once; the list of types in error messages,
//! `type_name`, the user contacts `validate` knows, `test-alert` and dispatch all come from it.
//!
//! To add a channel: write `alerts/channels/<type>.rs` with a struct that implements
//! [`ChannelType`], and add one line to `channel_types!` below.

use std::time::Duration;

use serde::de::DeserializeOwned;

use crate::alerts::alert::Alert;
use crate::config::read::{Fields, Reader};
use crate::config::{Channel, Secret};
use crate::core::Importance;

/// One channel type: its config, who it reaches and how it sends.
pub(crate) trait ChannelType: Sized {
    /// The `type:` that selects it.
    const NAME: &'static str;
    /// Its own keys, besides those every channel has (`type`, `min_importance`, `to`, `timeout`).
    const KEYS: &'static [&'static str];
    /// Who one alert goes to.
    const REACH: Reach;
    /// The least importance it takes when `min_importance` does not say.
    const DEFAULT_MIN_IMPORTANCE: Importance = Importance::Warning;
    /// Whether it is told of recoveries.
    const SENDS_RECOVERY: bool = true;
    /// Whether its provider keeps each incident open until told (PagerDuty, Opsgenie,
    /// Pushover's emergencies): acknowledgements reach it, and a recovery supersedes
    /// the triggers and repeats still waiting before it.
    const INCIDENTS: bool = false;
    /// The keys to look at when the provider refuses for good (a 401, a 404).
    const FIX: &'static str = "the channel's settings";

    /// Reads the type's keys from `f`; every problem goes to `r` with its position.
    fn read(r: &mut Reader, f: &Fields) -> Option<Self>;

    /// Sends `alert` to `recipient` (empty for `Reach::Destination`), trying its providers
    /// or servers in order until one accepts, each for at most `timeout`; every attempt.
    fn send(&self, alert: &Alert, recipient: &str, timeout: Duration) -> Vec<Attempt>;

    /// Reads a request its provider sent to `serve-status` (`POST /hooks/CHANNEL`): an
    /// acknowledgement made there, authenticated as the provider documents. A channel
    /// that takes none says `NotHere`.
    fn hook(&self, _request: &Hooked) -> Hook {
        Hook::NotHere
    }
}

/// A request a provider sent to `serve-status`.
pub struct Hooked<'a> {
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl Hooked<'_> {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// What a provider's request to `serve-status` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hook {
    /// This channel takes no requests (or is not set up to): as if there were no such page.
    NotHere,
    /// Not from the provider: its signature or token is wrong or missing.
    Refused,
    /// From the provider, but nothing for cabot to do (another event, a ping).
    Ignored(String),
    /// Someone acknowledged cabot's incident `incident` there. `event` names the event
    /// once (a provider may send it again).
    Acked {
        event: String,
        incident: String,
        by: String,
    },
}

/// A way to reach a user, kept under a key of the user's entry in `users:` (and the form
/// of a channel's `to:` entries).
#[derive(Debug, Clone, Copy)]
pub struct Contact {
    /// The key: `email`, `phone`, `slack`.
    pub key: &'static str,
    /// Whether a value can be used.
    pub check: fn(&str) -> Verdict,
}

/// What a contact's check makes of a value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Usable,
    /// Usable, but probably not what the user meant (`validate` warns).
    Doubtful(String),
    /// Every alert to it would fail (an error).
    Unusable(String),
}

/// Who one alert through a channel goes to.
#[derive(Debug, Clone, Copy)]
pub enum Reach {
    /// One delivery per recipient: each of the service's users by this contact, and each `to:`.
    EachUser(Contact),
    /// One delivery naming every user by this contact, and the `to:` entries (a chat post).
    Mentions(Contact),
    /// One delivery to the channel's own destination.
    Destination,
}

impl Reach {
    /// The contact it needs from a user, if any.
    pub fn contact(self) -> Option<Contact> {
        match self {
            Reach::EachUser(c) | Reach::Mentions(c) => Some(c),
            Reach::Destination => None,
        }
    }
}

/// One try through one provider, server or program.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    pub provider: String,
    pub ok: bool,
    /// The provider's answer, or what went wrong.
    pub detail: String,
    /// What the answer says about the next request.
    pub retry: Retry,
}

/// What an answer says about sending again.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Retry {
    /// Nothing: after a failure, the usual backoff.
    #[default]
    Backoff,
    /// Send nothing more to this destination before this long: a 429 (or a 503) with its
    /// `Retry-After` or the provider's own field, or, after a success, a rate limit used up.
    After(Duration),
    /// Refused for good (400, 401, 403, 404, 410, 422): nothing goes through until the
    /// config is fixed.
    Permanent,
}

impl Attempt {
    pub fn new(provider: &str, ok: bool, detail: impl Into<String>) -> Attempt {
        Attempt {
            provider: provider.to_string(),
            ok,
            detail: crate::text::one_line(&detail.into(), 300),
            retry: Retry::Backoff,
        }
    }

    /// The same, with what the answer says about sending again.
    pub fn with_retry(self, retry: Retry) -> Attempt {
        Attempt { retry, ..self }
    }
}

/// A 429 that says nothing of when to come back waits this long.
const RATE_LIMITED: Duration = Duration::from_secs(30);
/// A wait a provider asks for is taken up to this long.
pub(crate) const LONGEST_WAIT: Duration = Duration::from_secs(24 * 3600);

/// What an HTTP answer says about sending again: `Retry-After` (seconds or a date),
/// Discord's `X-RateLimit-Reset-After` with `X-RateLimit-Remaining: 0`, and in the body
/// Discord's `retry_after` (seconds), Telegram's `parameters.retry_after` (seconds) and
/// Matrix's `retry_after_ms`.
pub(crate) fn retry_of(code: u16, headers: &ureq::http::HeaderMap, body: &str) -> Retry {
    let header = |name: &str| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::trim)
    };
    let seconds = |s: f64| {
        (s.is_finite() && s >= 0.0)
            .then(|| Duration::from_secs_f64(s.min(LONGEST_WAIT.as_secs_f64())))
    };
    let retry_after = header("retry-after").and_then(|v| match v.parse::<f64>() {
        Ok(s) => seconds(s),
        Err(_) => {
            let at = jiff::fmt::rfc2822::parse(v).ok()?.timestamp().as_second();
            seconds((at - crate::clock::now()).max(0) as f64)
        }
    });
    let reset_after = header("x-ratelimit-reset-after").and_then(|v| seconds(v.parse().ok()?));
    let used_up = header("x-ratelimit-remaining") == Some("0");
    if (200..300).contains(&code) {
        return match reset_after {
            Some(wait) if used_up => Retry::After(wait),
            _ => Retry::Backoff,
        };
    }
    let said = serde_json::from_str::<serde_json::Value>(body).ok();
    let in_body = said.as_ref().and_then(|b| {
        let field = |v: &serde_json::Value| v.as_f64();
        field(&b["retry_after"])
            .or_else(|| field(&b["parameters"]["retry_after"]))
            .and_then(seconds)
            .or_else(|| seconds(field(&b["retry_after_ms"])? / 1000.0))
    });
    let wait = retry_after.or(in_body).or(reset_after);
    match code {
        429 => Retry::After(wait.unwrap_or(RATE_LIMITED)),
        400 | 401 | 403 | 404 | 410 | 422 => Retry::Permanent,
        _ => wait.map_or(Retry::Backoff, Retry::After),
    }
}

/// Sends `alert` to `recipient` through `channel`; every attempt, the last one the answer.
pub fn send(channel: &Channel, alert: &Alert, recipient: &str) -> Vec<Attempt> {
    channel.kind.send(alert, recipient, channel.timeout)
}

/// Tries `each` in order until one accepts; every attempt.
pub(crate) fn until_accepted<T>(items: &[T], mut each: impl FnMut(&T) -> Attempt) -> Vec<Attempt> {
    let mut attempts = Vec::new();
    for item in items {
        let attempt = each(item);
        let ok = attempt.ok;
        attempts.push(attempt);
        if ok {
            break;
        }
    }
    attempts
}

/// An HTTP agent for provider APIs: bounded, and 4xx/5xx are answers, not errors.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent(concat!("cabot/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// An API's answer: its status, (the first 64 KiB of) its body and what it says about
/// sending again; or the failed attempt when there was none.
type Answered = Result<(u16, String, Retry), Attempt>;

fn answer(
    provider: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Answered {
    let mut response = result.map_err(|e| Attempt::new(provider, false, e.to_string()))?;
    let body = response
        .body_mut()
        .with_config()
        .limit(64 * 1024)
        .read_to_string()
        .unwrap_or_default();
    let code = response.status().as_u16();
    let retry = retry_of(code, response.headers(), &body);
    Ok((code, body, retry))
}

/// Reads an API's answer: 2xx with a body of type `T` in which `accept` finds the proof
/// of delivery (a message id) is delivered; anything else is a failure that says why.
pub(crate) fn judge<T: DeserializeOwned>(
    provider: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    accept: impl Fn(&T) -> Option<String>,
) -> Attempt {
    let (code, body, retry) = match answer(provider, result) {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    if !(200..300).contains(&code) {
        return Attempt::new(provider, false, format!("HTTP {code}: {body}")).with_retry(retry);
    }
    match serde_json::from_str::<T>(&body)
        .ok()
        .as_ref()
        .and_then(accept)
    {
        Some(id) => Attempt::new(provider, true, format!("accepted ({id})")).with_retry(retry),
        None => Attempt::new(
            provider,
            false,
            format!("HTTP {code} but not the answer expected: {body}"),
        ),
    }
}

/// Reads an answer whose success is its status alone (204 No Content, or a body that is
/// no proof of anything): 2xx is delivered; anything else a failure with what was said.
pub(crate) fn judge_status(
    provider: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Attempt {
    let (code, body, retry) = match answer(provider, result) {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    let said = if body.trim().is_empty() {
        String::new()
    } else {
        format!(": {}", body.trim())
    };
    Attempt::new(
        provider,
        (200..300).contains(&code),
        format!("HTTP {code}{said}"),
    )
    .with_retry(retry)
}

/// A channel's `base_url`: where its provider's API is, the public one unless it says.
pub(crate) fn base_url(r: &mut Reader, f: &Fields, public: &str) -> String {
    f.get("base_url")
        .and_then(|n| r.url(n, &f.path("base_url"), &["http", "https"]))
        .unwrap_or_else(|| public.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The key that ties an incident's alert, repeats and recovery together at a provider
/// (PagerDuty's dedup key, Opsgenie's alias), at most `max` bytes. An alert stored before
/// incidents had ids falls back to its service.
pub(crate) fn incident_key(alert: &Alert, max: usize) -> String {
    let key = alert
        .incident
        .clone()
        .unwrap_or_else(|| format!("cabot/{}", alert.service));
    if key.len() <= max {
        return key;
    }
    // Keep the end, where the incident's start time is.
    let mut start = key.len() - max;
    while !key.is_char_boundary(start) {
        start += 1;
    }
    key[start..].to_string()
}

/// A secret's value, or the attempt that failed for want of it.
pub(crate) fn secret(provider: &str, s: &Secret) -> Result<String, Attempt> {
    s.resolve()
        .map_err(|e| Attempt::new(provider, false, e.to_string()))
}

/// Names every channel type once: `Variant(module::Type)`. Makes the `ChannelKind` enum,
/// the list of type names and contacts, and the dispatch of reading and sending.
macro_rules! channel_types {
    ($($variant:ident($module:ident::$ty:ident)),+ $(,)?) => {
        $(pub mod $module;)+

        /// A channel's type and its own settings; one arm per type.
        #[derive(Debug, Clone)]
        pub enum ChannelKind {
            $($variant($module::$ty),)+
        }

        /// Every channel type's name, in the order the docs list them.
        pub const TYPES: &[&str] = &[$(<$module::$ty as ChannelType>::NAME,)+];

        /// Every type's reach, in the same order.
        const REACHES: &[Reach] = &[$(<$module::$ty as ChannelType>::REACH,)+];

        impl ChannelKind {
            pub fn type_name(&self) -> &'static str {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::NAME,)+
                }
            }

            /// The own keys of the type called `name`; `None` when there is no such type.
            pub fn keys_of(name: &str) -> Option<&'static [&'static str]> {
                $(if name == <$module::$ty as ChannelType>::NAME {
                    return Some(<$module::$ty as ChannelType>::KEYS);
                })+
                None
            }

            /// Reads a channel of the type called `name`; `None` when it cannot be used or
            /// there is no such type.
            pub(crate) fn read(name: &str, r: &mut Reader, f: &Fields) -> Option<ChannelKind> {
                $(if name == <$module::$ty as ChannelType>::NAME {
                    return <$module::$ty as ChannelType>::read(r, f).map(ChannelKind::$variant);
                })+
                None
            }

            pub fn reach(&self) -> Reach {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::REACH,)+
                }
            }

            pub fn default_min_importance(&self) -> Importance {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::DEFAULT_MIN_IMPORTANCE,)+
                }
            }

            /// Whether its provider keeps incidents open (see `ChannelType::INCIDENTS`).
            pub fn incidents(&self) -> bool {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::INCIDENTS,)+
                }
            }

            /// The keys to look at when its provider refuses for good.
            pub fn fix(&self) -> &'static str {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::FIX,)+
                }
            }

            pub fn sends_recovery(&self) -> bool {
                match self {
                    $(ChannelKind::$variant(_) => <$module::$ty as ChannelType>::SENDS_RECOVERY,)+
                }
            }

            fn send(&self, alert: &Alert, recipient: &str, timeout: Duration) -> Vec<Attempt> {
                match self {
                    $(ChannelKind::$variant(c) => c.send(alert, recipient, timeout),)+
                }
            }

            /// What a request its provider sent to `serve-status` says.
            pub fn hook(&self, request: &Hooked) -> Hook {
                match self {
                    $(ChannelKind::$variant(c) => c.hook(request),)+
                }
            }
        }
    };
}

/// The contacts users can have: one per key, in the order the channel types name them.
pub fn contacts() -> Vec<Contact> {
    let mut out: Vec<Contact> = Vec::new();
    for contact in REACHES.iter().filter_map(|r| r.contact()) {
        if !out.iter().any(|c| c.key == contact.key) {
            out.push(contact);
        }
    }
    out
}

channel_types! {
    Email(email::Email),
    Sms(sms::Sms),
    Phone(phone::Phone),
    Slack(slack::Slack),
    Webhook(webhook::Webhook),
    Command(command::Command),
    Ntfy(ntfy::Ntfy),
    PagerDuty(pagerduty::PagerDuty),
    Pushover(pushover::Pushover),
    Discord(discord::Discord),
    Teams(teams::Teams),
    Telegram(telegram::Telegram),
    Opsgenie(opsgenie::Opsgenie),
    Gotify(gotify::Gotify),
    Matrix(matrix::Matrix),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_type_is_named_once_and_users_have_each_contact_once() {
        for (i, name) in TYPES.iter().enumerate() {
            assert!(!TYPES[..i].contains(name), "{name} is registered twice");
            assert!(ChannelKind::keys_of(name).is_some(), "{name}");
        }
        assert!(ChannelKind::keys_of("mail").is_none());
        let keys: Vec<&str> = contacts().iter().map(|c| c.key).collect();
        for (i, key) in keys.iter().enumerate() {
            assert!(!keys[..i].contains(key), "contact {key} twice");
        }
        assert_eq!(keys[..3], ["email", "phone", "slack"]);
    }

    #[test]
    fn what_answers_say_about_sending_again() {
        use ureq::http::HeaderMap;
        let headers = |pairs: &[(&'static str, &str)]| {
            let mut h = HeaderMap::new();
            for (name, value) in pairs {
                h.insert(*name, value.parse().expect("header value"));
            }
            h
        };
        let secs = |s: f64| Retry::After(Duration::from_secs_f64(s));
        let none = headers(&[]);
        let cases: &[(u16, HeaderMap, &str, Retry)] = &[
            (200, none.clone(), "", Retry::Backoff),
            (503, none.clone(), "", Retry::Backoff),
            (429, none.clone(), "", Retry::After(RATE_LIMITED)),
            (429, headers(&[("Retry-After", "120")]), "", secs(120.0)),
            (503, headers(&[("Retry-After", "7")]), "", secs(7.0)),
            // Telegram: {"ok":false,"error_code":429,"parameters":{"retry_after":3600}}
            (
                429,
                none.clone(),
                r#"{"ok":false,"error_code":429,"description":"Too Many Requests: retry after 3600","parameters":{"retry_after":3600}}"#,
                secs(3600.0),
            ),
            // Discord: the body's seconds, with a fraction.
            (
                429,
                headers(&[
                    ("X-RateLimit-Reset-After", "1.5"),
                    ("X-RateLimit-Remaining", "0"),
                ]),
                r#"{"message":"You are being rate limited.","retry_after":1.234,"global":false}"#,
                secs(1.234),
            ),
            // Matrix: milliseconds.
            (
                429,
                none.clone(),
                r#"{"errcode":"M_LIMIT_EXCEEDED","error":"Too many requests","retry_after_ms":2500}"#,
                secs(2.5),
            ),
            // A success that used the last request of a window.
            (
                200,
                headers(&[
                    ("X-RateLimit-Reset-After", "2"),
                    ("X-RateLimit-Remaining", "0"),
                ]),
                "{}",
                secs(2.0),
            ),
            (
                200,
                headers(&[
                    ("X-RateLimit-Reset-After", "2"),
                    ("X-RateLimit-Remaining", "3"),
                ]),
                "{}",
                Retry::Backoff,
            ),
            (401, none.clone(), "", Retry::Permanent),
            (
                403,
                none.clone(),
                r#"{"ok":false,"error_code":403,"description":"Forbidden: bot was kicked from the group chat"}"#,
                Retry::Permanent,
            ),
            (404, none.clone(), "", Retry::Permanent),
            (410, none.clone(), "", Retry::Permanent),
            (
                400,
                none.clone(),
                r#"{"ok":false,"error_code":400,"description":"Bad Request: chat not found"}"#,
                Retry::Permanent,
            ),
            (422, none.clone(), "", Retry::Permanent),
            // Nonsense waits are no waits; a huge one is capped at a day.
            (503, headers(&[("Retry-After", "-5")]), "", Retry::Backoff),
            (
                429,
                headers(&[("Retry-After", "999999999")]),
                "",
                Retry::After(LONGEST_WAIT),
            ),
        ];
        for (code, h, body, want) in cases {
            assert_eq!(retry_of(*code, h, body), *want, "{code} {h:?} {body}");
        }
        // An HTTP date a minute from now.
        let at = jiff::Timestamp::from_second(crate::clock::now() + 60).expect("time");
        let date = jiff::fmt::rfc2822::DateTimePrinter::new()
            .timestamp_to_rfc9110_string(&at)
            .expect("an HTTP date");
        match retry_of(429, &headers(&[("Retry-After", &date)]), "") {
            Retry::After(d) => assert!((58..=60).contains(&d.as_secs()), "{d:?} from {date}"),
            other => panic!("{other:?} from {date}"),
        }
    }
}
