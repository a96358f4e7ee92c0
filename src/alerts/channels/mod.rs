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

    /// Reads the type's keys from `f`; every problem goes to `r` with its position.
    fn read(r: &mut Reader, f: &Fields) -> Option<Self>;

    /// Sends `alert` to `recipient` (empty for `Reach::Destination`), trying its providers
    /// or servers in order until one accepts, each for at most `timeout`; every attempt.
    fn send(&self, alert: &Alert, recipient: &str, timeout: Duration) -> Vec<Attempt>;
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
}

impl Attempt {
    pub fn new(provider: &str, ok: bool, detail: impl Into<String>) -> Attempt {
        Attempt {
            provider: provider.to_string(),
            ok,
            detail: crate::text::one_line(&detail.into(), 300),
        }
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

/// An API's answer: its status and (the first 64 KiB of) its body; or the failed attempt
/// when there was none.
type Answered = Result<(u16, String), Attempt>;

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
    Ok((response.status().as_u16(), body))
}

/// Reads an API's answer: 2xx with a body of type `T` in which `accept` finds the proof
/// of delivery (a message id) is delivered; anything else is a failure that says why.
pub(crate) fn judge<T: DeserializeOwned>(
    provider: &str,
    result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    accept: impl Fn(&T) -> Option<String>,
) -> Attempt {
    let (code, body) = match answer(provider, result) {
        Ok(a) => a,
        Err(failed) => return failed,
    };
    if !(200..300).contains(&code) {
        return Attempt::new(provider, false, format!("HTTP {code}: {body}"));
    }
    match serde_json::from_str::<T>(&body)
        .ok()
        .as_ref()
        .and_then(accept)
    {
        Some(id) => Attempt::new(provider, true, format!("accepted ({id})")),
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
    let (code, body) = match answer(provider, result) {
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
}
