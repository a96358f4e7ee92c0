//! Running one check: each type in its own file, one arm here.

mod cabot;
mod command;
mod dns;
mod graphite;
pub mod heartbeat;
mod http;
mod icmp;
mod jenkins;
pub mod runner;
mod tcp;
pub mod tls;

use std::time::{Duration, Instant};

use crate::config::{Check, CheckKind};
use crate::core::Importance;

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// One line for humans: what was seen, or what went wrong.
    pub message: String,
    pub duration: Duration,
    /// A failure less grave than the check's importance (a Nagios WARNING), if so.
    pub importance: Option<Importance>,
    /// Performance data the check reported, as JSON (a Nagios plugin's perfdata).
    pub perfdata: Option<String>,
}

/// The longest message kept for a result; check output can be anything.
pub const MAX_MESSAGE: usize = 500;

impl Outcome {
    pub fn pass(message: impl Into<String>, duration: Duration) -> Outcome {
        Outcome {
            ok: true,
            message: clean_message(&message.into()),
            duration,
            importance: None,
            perfdata: None,
        }
    }

    pub fn fail(message: impl Into<String>, duration: Duration) -> Outcome {
        Outcome {
            ok: false,
            ..Outcome::pass(message, duration)
        }
    }

    /// This failure counts at `importance` at most.
    pub fn at_most(mut self, importance: Importance) -> Outcome {
        self.importance = Some(importance);
        self
    }

    pub fn with_perfdata(mut self, perfdata: Option<String>) -> Outcome {
        self.perfdata = perfdata;
        self
    }
}

/// One line, no control characters, at most `MAX_MESSAGE` bytes.
pub fn clean_message(text: &str) -> String {
    let mut out = String::with_capacity(text.len().min(MAX_MESSAGE));
    for c in text.chars() {
        let c = if c.is_control() { ' ' } else { c };
        if out.len() + c.len_utf8() > MAX_MESSAGE - 3 {
            out.push_str("...");
            break;
        }
        out.push(c);
    }
    out
}

/// Shared by every check in a run: the HTTP agent, and the run's `now` (Unix seconds).
pub struct Context {
    http: http::Client,
    pub now: i64,
}

impl Context {
    pub fn new(now: i64) -> Context {
        Context {
            http: http::Client::new(),
            now,
        }
    }
}

/// One check to run, with when it last ran.
#[derive(Debug, Clone)]
pub struct Job {
    pub check: Check,
    pub last_run: Option<i64>,
}

/// Runs one check, bounded by its timeout. Never panics on anything the target does.
pub fn run(job: &Job, ctx: &Context) -> Outcome {
    let check = &job.check;
    let started = Instant::now();
    let outcome = match &check.kind {
        CheckKind::Http(h) => ctx.http.run(h, check.timeout),
        CheckKind::Tcp(t) => tcp::run(t, check.timeout),
        CheckKind::Cabot(c) => cabot::run(&ctx.http, c, check.timeout),
        CheckKind::Icmp(c) => icmp::run(c, check.timeout),
        CheckKind::Jenkins(c) => jenkins::run(&ctx.http, c, check.debounce, check.timeout, ctx.now),
        CheckKind::Graphite(c) => {
            let minutes = graphite::window_minutes(check.frequency, job.last_run, ctx.now);
            graphite::run(&ctx.http, c, minutes, check.timeout)
        }
        CheckKind::Tls(c) => tls::run(c, check.timeout, ctx.now),
        CheckKind::Dns(c) => dns::run(c, check.timeout, query_id(&check.name, ctx.now)),
        CheckKind::Command(c) => command::run(c, check.timeout),
        // Passive: judged from the state by the run, never sent here.
        CheckKind::Heartbeat(_) => {
            Outcome::fail("a heartbeat is judged from its pings", Duration::ZERO)
        }
    };
    Outcome {
        duration: started.elapsed(),
        ..outcome
    }
}

/// A DNS query id that differs between checks and runs (not a secret: answers are also
/// matched to their question by the connected socket).
fn query_id(name: &str, now: i64) -> u16 {
    let h = name
        .bytes()
        .fold(now as u32, |h, b| h.rotate_left(5) ^ u32::from(b));
    (h ^ (h >> 16)) as u16
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_one_bounded_line() {
        assert_eq!(clean_message("a\nb\tc"), "a b c");
        let long = "x".repeat(10_000);
        let m = clean_message(&long);
        assert!(m.len() <= MAX_MESSAGE && m.ends_with("..."));
        let wide = "é".repeat(1000);
        assert!(clean_message(&wide).len() <= MAX_MESSAGE);
    }
}
