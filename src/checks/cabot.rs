//! `cabot`: another cabot's `/status/` says "Checks running", so two instances on separate
//! infrastructure can watch each other.

use std::time::{Duration, Instant};

use super::{CheckResult, CheckType, Context};
use crate::config::Check;
use crate::config::read::{Fields, Reader};
use crate::core::running::{NOT_RUNNING, RUNNING};
use crate::http_client::{Client, Request};

#[derive(Debug, Clone)]
pub struct CabotCheck {
    /// The other cabot's `/status/`.
    pub url: String,
    pub verify_tls: bool,
}

impl CheckType for CabotCheck {
    const NAME: &'static str = "cabot";
    const KEYS: &'static [&'static str] = &["url", "verify_tls"];

    fn read(r: &mut Reader, f: &Fields) -> Option<CabotCheck> {
        Some(CabotCheck {
            url: r.required_url(f, "url", &["http", "https"])?,
            verify_tls: r.bool(f, "verify_tls", true),
        })
    }

    fn run(&self, check: &Check, _: Option<i64>, ctx: &Context<'_>) -> CheckResult {
        ask(ctx.http, self, check.timeout)
    }
}

fn ask(client: &Client, check: &CabotCheck, timeout: Duration) -> CheckResult {
    let started = Instant::now();
    let request = Request {
        verify_tls: check.verify_tls,
        max_body: 4096,
        ..Request::get(check.url.clone())
    };
    match client.fetch(&request, timeout) {
        Ok((200, body)) if body.trim() == RUNNING => CheckResult::pass(
            format!("{RUNNING} (in {} ms)", started.elapsed().as_millis()),
            started.elapsed(),
        ),
        Ok((code, body)) if body.trim() == NOT_RUNNING => CheckResult::fail(
            format!("the other cabot says: {NOT_RUNNING} (HTTP {code})"),
            started.elapsed(),
        ),
        Ok((code, _)) => CheckResult::fail(
            format!("HTTP {code}, and not a cabot status answer"),
            started.elapsed(),
        ),
        Err(e) => CheckResult::fail(e, started.elapsed()),
    }
}
