//! `cabot`: another cabot's `/status/` says "Checks running", so two instances on separate
//! infrastructure can watch each other.

use std::time::{Duration, Instant};

use super::Outcome;
use super::http::Client;
use crate::config::{CabotCheck, HttpCheck};
use crate::server::{NOT_RUNNING, RUNNING};

pub fn run(client: &Client, check: &CabotCheck, timeout: Duration) -> Outcome {
    let started = Instant::now();
    let request = HttpCheck {
        verify_tls: check.verify_tls,
        max_body: 4096,
        ..HttpCheck::get(check.url.clone())
    };
    match client.fetch(&request, timeout) {
        Ok((200, body)) if body.trim() == RUNNING => Outcome::pass(
            format!("{RUNNING} (in {} ms)", started.elapsed().as_millis()),
            started.elapsed(),
        ),
        Ok((code, body)) if body.trim() == NOT_RUNNING => Outcome::fail(
            format!("the other cabot says: {NOT_RUNNING} (HTTP {code})"),
            started.elapsed(),
        ),
        Ok((code, _)) => Outcome::fail(
            format!("HTTP {code}, and not a cabot status answer"),
            started.elapsed(),
        ),
        Err(e) => Outcome::fail(e, started.elapsed()),
    }
}
