//! Running one check: each type in its own file, one arm here.

mod cabot;
mod http;
pub mod runner;
mod tcp;

use std::time::{Duration, Instant};

use crate::config::{Check, CheckKind};

/// What one run of a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    /// One line for humans: what was seen, or what went wrong.
    pub message: String,
    pub duration: Duration,
}

/// The longest message kept for a result; check output can be anything.
pub const MAX_MESSAGE: usize = 500;

impl Outcome {
    pub fn pass(message: impl Into<String>, duration: Duration) -> Outcome {
        Outcome {
            ok: true,
            message: clean_message(&message.into()),
            duration,
        }
    }

    pub fn fail(message: impl Into<String>, duration: Duration) -> Outcome {
        Outcome {
            ok: false,
            message: clean_message(&message.into()),
            duration,
        }
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

/// Shared by every check in a run: the HTTP agent and its connection settings.
pub struct Context {
    http: http::Client,
}

impl Context {
    pub fn new() -> Context {
        Context {
            http: http::Client::new(),
        }
    }
}

impl Default for Context {
    fn default() -> Self {
        Context::new()
    }
}

/// Runs one check, bounded by its timeout. Never panics on anything the target does.
pub fn run(check: &Check, ctx: &Context) -> Outcome {
    let started = Instant::now();
    let outcome = match &check.kind {
        CheckKind::Http(h) => ctx.http.run(h, check.timeout),
        CheckKind::Tcp(t) => tcp::run(t, check.timeout),
        CheckKind::Cabot(c) => cabot::run(&ctx.http, c, check.timeout),
    };
    Outcome {
        duration: started.elapsed(),
        ..outcome
    }
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
