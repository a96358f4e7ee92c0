//! The SMS and voice providers that `sms` and `phone` channels try in order: each provider
//! in one file with its own settings, read here from a channel's `providers:` list.

pub mod plivo;
pub mod twilio;

use std::time::Duration;

use crate::alerts::alert::Alert;
use crate::alerts::channels::{Attempt, Contact, Verdict, agent, until_accepted};
use crate::config::read::{Fields, Reader};
use crate::config::yaml::{Node, Value};

/// A user's phone number, in E.164 form.
pub const PHONE: Contact = Contact {
    key: "phone",
    check: |value| {
        let digits = value.strip_prefix('+').unwrap_or("");
        if digits.len() >= 6 && digits.chars().all(|c| c.is_ascii_digit()) {
            Verdict::Usable
        } else {
            Verdict::Unusable(format!(
                "'{value}' is not a phone number in E.164 form, like +15551230001"
            ))
        }
    },
};

#[derive(Debug, Clone)]
pub enum Provider {
    Twilio(twilio::Twilio),
    Plivo(plivo::Plivo),
}

impl Provider {
    fn sms(&self, api: &ureq::Agent, to: &str, alert: &Alert) -> Attempt {
        match self {
            Provider::Twilio(t) => t.sms(api, to, alert),
            Provider::Plivo(p) => p.sms(api, to, alert),
        }
    }

    fn call(&self, api: &ureq::Agent, to: &str, alert: &Alert) -> Attempt {
        match self {
            Provider::Twilio(t) => t.call(api, to, alert),
            Provider::Plivo(p) => p.call(api, to, alert),
        }
    }
}

/// An SMS to `to`, through each provider in turn until one accepts.
pub fn sms(providers: &[Provider], to: &str, alert: &Alert, timeout: Duration) -> Vec<Attempt> {
    until_accepted(providers, |p| p.sms(&agent(timeout), to, alert))
}

/// A call to `to`, through each provider in turn until one accepts.
pub fn call(providers: &[Provider], to: &str, alert: &Alert, timeout: Duration) -> Vec<Attempt> {
    until_accepted(providers, |p| p.call(&agent(timeout), to, alert))
}

/// What a channel's providers are for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Sms,
    Calls,
}

/// The `providers:` of an `sms` or `phone` channel: a missing or empty list is an error.
pub(crate) fn read(r: &mut Reader, f: &Fields, used_for: Use) -> Vec<Provider> {
    let providers = r
        .require(f, "providers")
        .map(|n| read_list(r, n, &f.path("providers"), used_for))
        .unwrap_or_default();
    // A missing list is already reported, and a list of broken entries reports each one.
    if let Some(n) = f.get("providers")
        && matches!(&n.value, Value::Seq(items) if items.is_empty())
    {
        r.error(
            n.mark,
            &f.path("providers"),
            "this channel has no providers: add twilio or plivo",
        );
    }
    providers
}

fn read_list(r: &mut Reader, node: &Node, path: &str, used_for: Use) -> Vec<Provider> {
    let mut out = Vec::new();
    for (i, item) in r.seq(node, path).iter().enumerate() {
        let ipath = format!("{path}[{i}]");
        let Some(f) = r.fields(item, &ipath, &[twilio::NAME, plivo::NAME]) else {
            continue;
        };
        let [(which, node)] = f.entries[..] else {
            r.error(
                f.mark,
                &ipath,
                "each provider is one of twilio: {...} or plivo: {...}",
            );
            continue;
        };
        let ppath = f.path(which);
        let provider = if which == twilio::NAME {
            r.fields(node, &ppath, twilio::KEYS)
                .and_then(|p| twilio::Twilio::read(r, &p))
                .map(Provider::Twilio)
        } else {
            r.fields(node, &ppath, plivo::KEYS)
                .and_then(|p| {
                    let plivo = plivo::Plivo::read(r, &p)?;
                    // Plivo's Call API fetches what to say from answer_url: without one,
                    // every call fails.
                    if used_for == Use::Calls && plivo.answer_url.is_none() {
                        r.error(
                            p.mark,
                            &p.path("answer_url"),
                            "a plivo provider of a phone channel needs answer_url: Plivo's \
                             Call API fetches what the call says from it",
                        );
                    }
                    Some(plivo)
                })
                .map(Provider::Plivo)
        };
        out.extend(provider);
    }
    out
}

/// What every provider has: an account id, a token, the number it sends from, its API.
pub(crate) struct Account {
    pub id: String,
    pub token: crate::config::Secret,
    pub from: String,
    pub base_url: String,
}

/// Reads the keys every provider has; the account id under `id_key`.
pub(crate) fn read_account(
    r: &mut Reader,
    p: &Fields,
    id_key: &str,
    default_base: &str,
) -> Option<Account> {
    let id = r
        .require(p, id_key)
        .and_then(|n| r.string(n, &p.path(id_key)));
    let token = r.required_secret(p, "auth_token");
    let from = r.required_string(p, "from");
    let base_url = p
        .get("base_url")
        .and_then(|n| r.url(n, &p.path("base_url"), &["http", "https"]))
        .unwrap_or_else(|| default_base.to_string());
    Some(Account {
        id: id?,
        token: token?,
        from: from?,
        base_url,
    })
}
