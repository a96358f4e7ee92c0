//! A regex from a check's config (`text_match`, `headers_match`, a JSON `matches`), in
//! Python's dialect (fancy-regex: look-around and backreferences), bounded in how far it
//! may backtrack.
//!
//! A compiled regex holds about 13 KB, and a config read by `status`, `validate` or
//! `serve-status` runs no check: so a pattern is checked when the config is read (each
//! distinct pattern compiled once, then dropped), and compiled when its check runs, for
//! that run only: a process runs a check once, so keeping it would hold the memory of
//! every check in the config for nothing (150 MB at 10,000 checks with a `text_match`).

use fancy_regex::{Regex, RegexBuilder};

use crate::config::read::Reader;
use crate::config::yaml::Node;

/// How far a pattern with look-around or backreferences may backtrack in one search
/// before the check gives up (fails): milliseconds of work, not the minutes a pattern
/// like `(a+)+b` would take on a long body.
const BACKTRACK_LIMIT: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pattern {
    source: String,
}

fn compile(source: &str) -> Result<Regex, fancy_regex::Error> {
    RegexBuilder::new(source)
        .backtrack_limit(BACKTRACK_LIMIT)
        .build()
}

impl Pattern {
    /// A pattern that is known to compile (tests, and `read`).
    pub fn new(source: &str) -> Result<Pattern, String> {
        compile(source).map_err(|e| e.to_string())?;
        Ok(Pattern {
            source: source.to_string(),
        })
    }

    /// The pattern at `node`, or an error at its line when it does not compile.
    pub(crate) fn read(r: &mut Reader, node: &Node, path: &str) -> Option<Pattern> {
        let source = r.string(node, path)?;
        if !r.seen_patterns.contains(&source) {
            if let Err(e) = compile(&source) {
                let why = e.to_string();
                let why = why
                    .lines()
                    .last()
                    .unwrap_or("")
                    .trim_start_matches("error: ");
                r.error(
                    node.mark,
                    path,
                    format!("'{source}' is not a valid regex: {why}"),
                );
                return None;
            }
            r.seen_patterns.insert(source.clone());
        }
        Some(Pattern { source })
    }

    pub fn as_str(&self) -> &str {
        &self.source
    }

    /// Whether `text` has a match; an error when the search gave up (backtracked too far).
    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        let re = compile(&self.source).map_err(|e| e.to_string())?;
        re.is_match(text).map_err(|e| e.to_string())
    }
}
