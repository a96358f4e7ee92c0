//! `domain`: a registered domain does not expire within `warn_before` (a WARNING) or
//! `error_before` (at the check's importance). The expiry is read over RDAP (RFC 9083) from
//! the registry that IANA's bootstrap file (RFC 9224) names for the domain's TLD, or from
//! `rdap_url`; or it is written in the config (`expires:`) for a TLD without RDAP.
//!
//! A registry is asked at most once a day per domain (an hour after a lookup that failed):
//! what it said is kept in the state (`CheckMemory`), and the check judges from it between
//! lookups. A lookup that fails is its own message, a WARNING at most, never an expiry;
//! when an earlier lookup read the expiry, the check judges from that and says the last
//! lookup failed.
//!
//! The bootstrap file is shipped in the binary and refreshed from IANA (at most weekly)
//! when a lookup needs it; `CABOT_RDAP_BOOTSTRAP_URL` names another copy (the tests' own).

use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use icann_rdap_common::iana::{
    BootstrapRegistry, IanaRegistry, RdapBootstrapRegistry, get_preferred_url,
};
use icann_rdap_common::prelude::{Domain, RdapResponse};
use serde::{Deserialize, Serialize};

use super::{CheckMemory, CheckResult, CheckType, Context};
use crate::clock::format_time;
use crate::config::Check;
use crate::config::read::{self, Fields, Reader};
use crate::core::Importance;
use crate::http_client::{Client, Request};

/// IANA's RDAP bootstrap file for domains, as published on the date it names.
const SHIPPED_BOOTSTRAP: &str = include_str!("rdap_dns.json");
const IANA_BOOTSTRAP: &str = "https://data.iana.org/rdap/dns.json";
/// Names another bootstrap file to fetch instead of IANA's.
pub const BOOTSTRAP_URL_VAR: &str = "CABOT_RDAP_BOOTSTRAP_URL";
const BOOTSTRAP_KEY: &str = "rdap:bootstrap:dns";
/// A bootstrap copy older than this is fetched again (seconds)...
const BOOTSTRAP_FRESH: i64 = 7 * 86_400;
/// ...but not sooner than this after a fetch that failed.
const BOOTSTRAP_RETRY: i64 = 86_400;
/// A lookup that read the expiry is repeated after this long (seconds)...
const LOOKED_UP_AGAIN: i64 = 86_400;
/// ...and one that failed, after this long.
const TRIED_AGAIN: i64 = 3_600;
/// At most this much of a registry's answer (or of the bootstrap file) is read.
const MAX_ANSWER: u64 = 1024 * 1024;

/// A domain's registration: not expiring within `warn_before` or `error_before`.
#[derive(Debug, Clone)]
pub struct DomainCheck {
    /// The domain as the registry knows it: ASCII (an IDN in its `xn--` form), lower case.
    pub domain: String,
    pub warn_before: Duration,
    pub error_before: Duration,
    /// The RDAP server's base URL; the domain is asked at `<rdap_url>/domain/<domain>`.
    pub rdap_url: Option<String>,
    /// The expiry written in the config (Unix seconds: the start of that day, UTC).
    pub expires: Option<i64>,
}

impl CheckType for DomainCheck {
    const NAME: &'static str = "domain";
    const KEYS: &'static [&'static str] =
        &["domain", "warn_before", "error_before", "rdap_url", "expires"];

    fn read(r: &mut Reader, f: &Fields) -> Option<DomainCheck> {
        let domain = f.get("domain").and_then(|node| {
            let text = r.string_at(node, f, "domain")?;
            ascii_domain(&text)
                .map_err(|why| r.error(node.mark, &f.path("domain"), why))
                .ok()
        });
        if f.get("domain").is_none() {
            r.error(f.mark, &f.path("domain"), "missing required key");
        }
        let warn_before = r.opt_duration(f, "warn_before", 30 * DAY, read::YEAR);
        let error_before = r.opt_duration(f, "error_before", 7 * DAY, read::YEAR);
        if error_before >= warn_before {
            let mark = f.get("error_before").map_or(f.mark, |n| n.mark);
            r.error(
                mark,
                &f.path("error_before"),
                format!(
                    "error_before ({}) must be shorter than warn_before ({})",
                    crate::text::duration(error_before),
                    crate::text::duration(warn_before)
                ),
            );
        }
        let rdap_url = f
            .get("rdap_url")
            .and_then(|n| r.url(n, &f.path("rdap_url"), &["http", "https"]));
        let expires = f.get("expires").and_then(|node| {
            let (text, _) = r.scalar(node, &f.path("expires"), "a date")?;
            match text.parse::<jiff::civil::Date>() {
                Ok(date) => utc(date.to_datetime(jiff::civil::Time::midnight())),
                Err(_) => {
                    r.error(
                        node.mark,
                        &f.path("expires"),
                        format!("'{text}' is not a date; write it as 2027-03-01"),
                    );
                    None
                }
            }
        });
        let domain = domain?;
        if let (Some(_), Some(_)) = (&rdap_url, expires) {
            r.warn(
                f.mark,
                &f.path("rdap_url"),
                "expires: is set, so the registry is never asked: rdap_url does nothing",
            );
        }
        if f.get("rdap_url").is_none()
            && f.get("expires").is_none()
            && shipped().is_some_and(|b| b.server_for(&domain).is_none())
        {
            r.warn(
                f.mark,
                &f.path("domain"),
                format!(
                    "IANA's RDAP bootstrap names no server for .{}: set rdap_url: if the \
                     registry has one, or expires: with the date the registry gives",
                    tld(&domain)
                ),
            );
        }
        Some(DomainCheck {
            domain,
            warn_before,
            error_before,
            rdap_url,
            expires,
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        let started = Instant::now();
        let known = match self.expires {
            Some(at) => Lookup {
                expires_at: Some(at),
                ..Lookup::default()
            },
            None => look_up(self, ctx, started + check.timeout),
        };
        judge(self, &known, ctx.now, started.elapsed())
    }
}

const DAY: Duration = Duration::from_secs(86_400);

/// What the last lookup of a domain found; kept in `CheckMemory` between runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
struct Lookup {
    /// When a lookup was last tried (Unix seconds).
    tried_at: i64,
    /// The expiry the registry last gave, and when it was read.
    expires_at: Option<i64>,
    read_at: Option<i64>,
    /// The RDAP server last asked (its base URL).
    server: Option<String>,
    /// Why the last lookup failed; `None` when it read the expiry.
    problem: Option<String>,
}

impl Lookup {
    /// Whether the registry is to be asked again at `now`.
    fn is_due(&self, now: i64) -> bool {
        let wait = match self.problem {
            None => LOOKED_UP_AGAIN,
            Some(_) => TRIED_AGAIN,
        };
        // A clock set back (a restored machine) asks again rather than trust the future.
        now >= self.tried_at + wait || now < self.tried_at
    }
}

/// The verdict on what is known of the domain's expiry.
fn judge(check: &DomainCheck, known: &Lookup, now: i64, took: Duration) -> CheckResult {
    let name = &check.domain;
    let Some(expires_at) = known.expires_at else {
        let why = known.problem.as_deref().unwrap_or("no answer");
        return CheckResult::fail(format!("cannot look up {name}'s expiry: {why}"), took)
            .at_most(Importance::Warning);
    };
    let from = match (&known.problem, known.read_at, check.expires) {
        (_, _, Some(_)) => " (expires: in the config)".to_string(),
        (Some(why), Some(read_at), _) => format!(
            " (as the registry said on {}; the last lookup failed: {why})",
            format_time(read_at)
        ),
        _ => String::new(),
    };
    let days_left = (expires_at - now).div_euclid(86_400);
    let expiry = format_time(expires_at);
    let within = |limit: Duration| expires_at - now < limit.as_secs() as i64;
    if expires_at <= now {
        return CheckResult::fail(
            format!(
                "{name} expired on {expiry} ({} days ago){from}",
                (now - expires_at) / 86_400
            ),
            took,
        );
    }
    let expires_in = |key: &str, limit: Duration| {
        format!(
            "{name} expires on {expiry}, in {days_left} days (within {key} {}){from}",
            crate::text::duration(limit)
        )
    };
    if within(check.error_before) {
        return CheckResult::fail(expires_in("error_before", check.error_before), took);
    }
    if within(check.warn_before) {
        return CheckResult::fail(expires_in("warn_before", check.warn_before), took)
            .at_most(Importance::Warning);
    }
    CheckResult::pass(
        format!("{name} registered until {expiry} ({days_left} days left){from}"),
        took,
    )
}

/// What is known of the domain's expiry: what was kept, or, when a lookup is due, what the
/// registry says now (kept for the next runs). Finishes by `deadline`.
fn look_up(check: &DomainCheck, ctx: &Context<'_>, deadline: Instant) -> Lookup {
    let key = format!("rdap:domain:{}", check.domain);
    let kept: Option<Lookup> = ctx
        .memory
        .get(&key)
        .and_then(|v| serde_json::from_str(&v).ok());
    if let Some(kept) = &kept
        && !kept.is_due(ctx.now)
    {
        return kept.clone();
    }
    let mut next = Lookup {
        tried_at: ctx.now,
        ..kept.unwrap_or_default()
    };
    let server = match &check.rdap_url {
        Some(url) => Ok(url.clone()),
        None => bootstrap(ctx, deadline).server_for(&check.domain).ok_or_else(|| {
            format!(
                "IANA's RDAP bootstrap names no server for .{}; set expires: on the check \
                 (or rdap_url: if the registry has one)",
                tld(&check.domain)
            )
        }),
    };
    let answer = server.and_then(|server| {
        next.server = Some(server.clone());
        ask(ctx.http, &server, &check.domain, deadline)
    });
    match answer {
        Ok(expires_at) => {
            next.expires_at = Some(expires_at);
            next.read_at = Some(ctx.now);
            next.problem = None;
        }
        Err(why) => next.problem = Some(why),
    }
    remember(ctx.memory, &key, &next);
    next
}

/// The expiry (Unix seconds) the RDAP server at `base` gives for `domain`.
fn ask(http: &Client, base: &str, domain: &str, deadline: Instant) -> Result<i64, String> {
    let url = format!("{}/domain/{domain}", base.trim_end_matches('/'));
    let mut request = Request::get(url.clone());
    request.headers.push((
        "Accept".into(),
        "application/rdap+json, application/json;q=0.9".into(),
    ));
    let body = get(http, &request, deadline)?;
    let status = body.0;
    let answer = serde_json::from_slice::<RdapResponse>(&body.1);
    let said = |e: &icann_rdap_common::prelude::Rfc9083Error| {
        let mut text = e.title().unwrap_or_default().to_string();
        for line in e.description() {
            text = [text.as_str(), line.as_str()]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(": ");
        }
        match text.is_empty() {
            true => String::new(),
            false => format!(", \"{}\"", crate::text::one_line(&text, 200)),
        }
    };
    match (status, answer) {
        (200, Ok(RdapResponse::Domain(d))) => expiration(&d),
        (200, Ok(other)) => Err(format!(
            "{url} answered with an RDAP {} object, not a domain",
            other
        )),
        (404, Ok(RdapResponse::ErrorResponse(e))) => Err(format!(
            "the registry has no domain {domain} (HTTP 404{}); is it the registered name, \
             not a subdomain?",
            said(&e)
        )),
        (404, _) => Err(format!(
            "the registry has no domain {domain} (HTTP 404); is it the registered name, \
             not a subdomain?"
        )),
        (429, _) => Err(format!(
            "{url} is limiting requests (HTTP 429); asked again in an hour"
        )),
        (200, Err(e)) => Err(format!(
            "{url} answered with what is not RDAP JSON: {}",
            crate::text::one_line(&e.to_string(), 200)
        )),
        (status, Ok(RdapResponse::ErrorResponse(e))) => {
            Err(format!("{url} answered HTTP {status}{}", said(&e)))
        }
        (status, _) => Err(format!("{url} answered HTTP {status}")),
    }
}

/// GETs `request` by `deadline`: its status and at most `MAX_ANSWER` bytes of its body.
fn get(http: &Client, request: &Request, deadline: Instant) -> Result<(u16, Vec<u8>), String> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(format!("no time left to ask {}", request.url));
    }
    let mut response = http.send(request, left)?;
    let status = response.status().as_u16();
    let left = deadline
        .saturating_duration_since(Instant::now())
        .max(Duration::from_millis(1));
    let (body, cut) = Client::read_body(&mut response, MAX_ANSWER, left)?;
    if cut {
        return Err(format!(
            "{} answered with more than {} KiB",
            request.url,
            MAX_ANSWER / 1024
        ));
    }
    Ok((status, body))
}

/// The date of the domain's `expiration` event (RFC 9083 §4.5).
fn expiration(domain: &Domain) -> Result<i64, String> {
    let date = domain
        .object_common
        .events
        .iter()
        .flatten()
        .find(|e| {
            e.event_action
                .as_deref()
                .is_some_and(|a| a.eq_ignore_ascii_case("expiration"))
        })
        .and_then(|e| e.event_date.as_deref())
        .ok_or(
            "the registry's answer has no expiration event (some registries keep it back); \
             set expires: on the check",
        )?;
    if let Ok(t) = date.parse::<jiff::Timestamp>() {
        return Ok(t.as_second());
    }
    // A date and time without an offset: some registries leave out the Z.
    date.parse::<jiff::civil::DateTime>()
        .ok()
        .and_then(utc)
        .ok_or_else(|| {
            format!(
                "the registry's expiration date '{}' is not an RFC 3339 date",
                crate::text::one_line(date, 60)
            )
        })
}

/// `t` read as UTC, in Unix seconds.
fn utc(t: jiff::civil::DateTime) -> Option<i64> {
    let at = jiff::tz::TimeZone::UTC.to_timestamp(t).ok()?;
    Some(at.as_second())
}

/// One copy of IANA's bootstrap file, read.
struct Bootstrap {
    /// Its services with each TLD written with its leading dot (see `server_for`).
    dotted: IanaRegistry,
    /// When IANA published it (Unix seconds).
    published: i64,
}

impl Bootstrap {
    fn parse(text: &str) -> Result<Bootstrap, String> {
        let registry: RdapBootstrapRegistry =
            serde_json::from_str(text).map_err(|e| format!("not a bootstrap file: {e}"))?;
        if registry.services.is_empty() {
            return Err("a bootstrap file without services".into());
        }
        let published = registry
            .publication
            .parse::<jiff::Timestamp>()
            .map_err(|_| format!("publication '{}' is not a date", registry.publication))?
            .as_second();
        let services = registry
            .services
            .iter()
            .map(|service| match service.as_slice() {
                [tlds, urls] => vec![
                    tlds.iter()
                        .map(|t| format!(".{}", t.to_ascii_lowercase()))
                        .collect(),
                    urls.clone(),
                ],
                _ => service.clone(),
            })
            .collect();
        Ok(Bootstrap {
            dotted: IanaRegistry::RdapBootstrapRegistry(RdapBootstrapRegistry {
                services,
                ..registry
            }),
            published,
        })
    }

    /// The RDAP server for `domain` (ASCII, lower case), preferring HTTPS. The crate
    /// matches a name that merely ends with a TLD's letters (a TLD without RDAP, .thing,
    /// would get .ing's server), so both the TLDs (when read) and the name are given their
    /// leading dot.
    fn server_for(&self, domain: &str) -> Option<String> {
        let urls = self
            .dotted
            .get_dns_bootstrap_urls(&format!(".{domain}"))
            .ok()
            .flatten()?;
        get_preferred_url(urls).ok()
    }
}

/// The bootstrap file shipped in the binary.
fn shipped() -> Option<&'static Bootstrap> {
    static SHIPPED: OnceLock<Option<Bootstrap>> = OnceLock::new();
    SHIPPED
        .get_or_init(|| Bootstrap::parse(SHIPPED_BOOTSTRAP).ok())
        .as_ref()
}

/// The bootstrap copy kept in `CheckMemory`: the last one fetched, and the last attempt.
#[derive(Debug, Default, Serialize, Deserialize)]
struct KeptBootstrap {
    /// The file as last fetched, and when.
    body: Option<String>,
    fetched_at: Option<i64>,
    /// When a fetch was last tried, and why it failed, if it did.
    tried_at: i64,
    problem: Option<String>,
}

/// The freshest bootstrap at hand: the copy last fetched, or the shipped one; fetched
/// again first when it is over a week old (not more than daily), using at most half the
/// time left before `deadline`, so that the lookup itself still has time.
fn bootstrap(ctx: &Context<'_>, deadline: Instant) -> Bootstrap {
    // Checks running at once fetch it once.
    static FETCHING: Mutex<()> = Mutex::new(());
    let _one = FETCHING.lock();
    let kept: KeptBootstrap = ctx
        .memory
        .get(BOOTSTRAP_KEY)
        .and_then(|v| serde_json::from_str(&v).ok())
        .unwrap_or_default();
    let copy = kept
        .body
        .as_deref()
        .and_then(|b| Bootstrap::parse(b).ok())
        .or_else(|| Bootstrap::parse(SHIPPED_BOOTSTRAP).ok())
        .expect("the shipped bootstrap file reads");
    let fetched = kept.fetched_at.unwrap_or(copy.published);
    let now = ctx.now;
    let tried_lately = kept.tried_at <= now && now < kept.tried_at + BOOTSTRAP_RETRY;
    if now - fetched < BOOTSTRAP_FRESH || tried_lately {
        return copy;
    }
    let url = std::env::var(BOOTSTRAP_URL_VAR).unwrap_or_else(|_| IANA_BOOTSTRAP.into());
    let half = deadline.saturating_duration_since(Instant::now()) / 2;
    let fetch = get(ctx.http, &Request::get(url.clone()), Instant::now() + half).and_then(
        |(status, body)| {
            if status != 200 {
                return Err(format!("{url} answered HTTP {status}"));
            }
            let text = String::from_utf8(body).map_err(|_| format!("{url}: not UTF-8"))?;
            let read = Bootstrap::parse(&text).map_err(|e| format!("{url}: {e}"))?;
            Ok((text, read))
        },
    );
    let (next, copy) = match fetch {
        Ok((text, read)) => (
            KeptBootstrap {
                body: Some(text),
                fetched_at: Some(now),
                tried_at: now,
                problem: None,
            },
            read,
        ),
        Err(why) => (
            KeptBootstrap {
                tried_at: now,
                problem: Some(why),
                ..kept
            },
            copy,
        ),
    };
    remember(ctx.memory, BOOTSTRAP_KEY, &next);
    copy
}

fn remember(memory: &CheckMemory, key: &str, value: &impl Serialize) {
    if let Ok(text) = serde_json::to_string(value) {
        memory.set(key, text);
    }
}

/// `text` as a registry knows it: lower case, without a trailing dot, an IDN in its
/// ASCII (`xn--`) form; at least two labels.
fn ascii_domain(text: &str) -> Result<String, String> {
    let trimmed = text.trim().trim_end_matches('.');
    let ascii = idna::domain_to_ascii(trimmed)
        .map_err(|_| format!("'{text}' is not a domain name"))?;
    let labels: Vec<&str> = ascii.split('.').collect();
    let usable = labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    match usable {
        true => Ok(ascii),
        false => Err(format!(
            "'{text}' is not a registered domain name; write it as example.com"
        )),
    }
}

/// The domain's top-level label.
fn tld(domain: &str) -> &str {
    domain.rsplit('.').next().unwrap_or(domain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn registry(services: &str) -> Bootstrap {
        Bootstrap::parse(&format!(
            r#"{{"version": "1.0", "publication": "2026-07-23T02:00:03Z",
                "description": "test", "services": {services}}}"#
        ))
        .expect("bootstrap")
    }

    #[test]
    fn a_tld_matches_only_whole_labels() {
        let b = registry(
            r#"[[["ing"], ["https://ing.test/"]],
                [["booking", "BANK"], ["http://booking.test/", "https://booking.test/"]]]"#,
        );
        // The crate alone gives .ing's server to a name in .thing, which has none.
        let undotted: IanaRegistry = serde_json::from_str(
            r#"{"version": "1.0", "publication": "2026-07-23T02:00:03Z",
                "services": [[["ing"], ["https://ing.test/"]]]}"#,
        )
        .expect("registry");
        assert_eq!(
            undotted.get_dns_bootstrap_urls("x.thing").expect("urls"),
            Some(vec!["https://ing.test/".to_string()]),
            "the crate's matching changed: the dots may no longer be needed"
        );
        assert_eq!(
            b.server_for("hotel.booking").as_deref(),
            Some("https://booking.test/")
        );
        assert_eq!(b.server_for("x.ing").as_deref(), Some("https://ing.test/"));
        assert_eq!(b.server_for("x.bank").as_deref(), Some("https://booking.test/"));
        assert_eq!(b.server_for("sing"), None, "no dot, no TLD");
        assert_eq!(b.server_for("x.thing"), None);
    }

    #[test]
    fn the_shipped_bootstrap_names_servers_for_common_tlds() {
        let b = shipped().expect("shipped");
        assert_eq!(
            b.server_for("example.com").as_deref(),
            Some("https://rdap.verisign.com/com/v1/")
        );
        assert_eq!(
            b.server_for("afnic.fr").as_deref(),
            Some("https://rdap.nic.fr/")
        );
        assert_eq!(b.server_for("example.invalid"), None);
    }

    #[test]
    fn names_are_what_a_registry_knows() {
        assert_eq!(ascii_domain("Example.COM.").as_deref(), Ok("example.com"));
        assert_eq!(
            ascii_domain("bücher.de").as_deref(),
            Ok("xn--bcher-kva.de")
        );
        for bad in ["localhost", "a..b", "exa mple.com", "-a.com", "", "."] {
            assert!(ascii_domain(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_lookup_is_repeated_a_day_after_it_worked_and_an_hour_after_it_failed() {
        let worked = Lookup {
            tried_at: 1_000_000,
            expires_at: Some(2_000_000),
            read_at: Some(1_000_000),
            ..Lookup::default()
        };
        assert!(!worked.is_due(1_000_000 + 86_399));
        assert!(worked.is_due(1_000_000 + 86_400));
        assert!(worked.is_due(999_000), "a clock set back asks again");
        let failed = Lookup {
            problem: Some("HTTP 503".into()),
            ..worked
        };
        assert!(!failed.is_due(1_000_000 + 3_599));
        assert!(failed.is_due(1_000_000 + 3_600));
    }

    #[test]
    fn expiry_dates_with_and_without_an_offset() {
        let domain = |date: &str| {
            let json = format!(
                r#"{{"objectClassName": "domain", "ldhName": "example.com",
                    "events": [{{"eventAction": "registration", "eventDate": "2001-01-01T00:00:00Z"}},
                               {{"eventAction": "expiration", "eventDate": "{date}"}}]}}"#
            );
            match serde_json::from_str::<RdapResponse>(&json).expect("rdap") {
                RdapResponse::Domain(d) => expiration(&d),
                other => panic!("{other:?}"),
            }
        };
        // 2029-07-18T08:26:59Z, as `date -u -d 2029-07-18T08:26:59Z +%s` gives it.
        assert_eq!(domain("2029-07-18T08:26:59Z"), Ok(1_879_057_619));
        assert_eq!(domain("2029-07-18T10:26:59+02:00"), Ok(1_879_057_619));
        assert_eq!(domain("2029-07-18T08:26:59"), Ok(1_879_057_619));
        assert!(domain("18/07/2029").is_err());
    }
}
