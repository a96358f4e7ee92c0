//! `heartbeat_url`: a dead man's switch (healthchecks.io and the like) told how each run
//! went, by healthchecks.io's convention: the plain URL when the run completed and every
//! alert it owed went out, `URL/fail` when it could not run its checks or an alert it owed
//! is still waiting after a failed try, and with `heartbeat_start: true`, `URL/start` as it
//! begins, so that a run that hangs shows as one.

use std::thread::JoinHandle;
use std::time::Duration;

use crate::config::Config;

/// How long the dead man's switch gets; it must never hold up the next run.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How the run went, for the switch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Success,
    Fail,
}

/// The switch of one run: `/start` on its way in the background, the verdict at the end.
pub struct Heartbeat {
    url: Option<String>,
    quiet: bool,
    start: Option<JoinHandle<Result<(), String>>>,
}

impl Heartbeat {
    /// Sends `/start` without waiting for it, when the config asks.
    pub fn begin(cfg: &Config, quiet: bool) -> Heartbeat {
        let url = cfg.heartbeat_url.clone();
        let start = match (&url, cfg.heartbeat_start) {
            (Some(url), true) => {
                let url = with_suffix(url, "start");
                std::thread::Builder::new()
                    .name("heartbeat".into())
                    .spawn(move || ping(&url))
                    .ok()
            }
            _ => None,
        };
        Heartbeat { url, quiet, start }
    }

    /// Sends the verdict (after `/start` has been answered, so they arrive in order) and
    /// says on stderr, unless quiet, when the switch did not take it.
    pub fn end(self, outcome: Outcome) {
        let Some(url) = &self.url else { return };
        let started = self.start.map(|t| {
            t.join()
                .unwrap_or_else(|_| Err("the heartbeat thread panicked".into()))
        });
        if let Some(Err(why)) = started
            && !self.quiet
        {
            eprintln!("cabot: heartbeat_url did not answer /start: {why}");
        }
        let url = match outcome {
            Outcome::Success => url.clone(),
            Outcome::Fail => with_suffix(url, "fail"),
        };
        if let Err(why) = ping(&url)
            && !self.quiet
        {
            eprintln!("cabot: heartbeat_url did not answer: {why}");
        }
    }
}

/// `url` with `/suffix` added to its path, before any query.
fn with_suffix(url: &str, suffix: &str) -> String {
    let (path, query) = match url.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (url, None),
    };
    let mut out = format!("{}/{suffix}", path.trim_end_matches('/'));
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

fn ping(url: &str) -> Result<(), String> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(TIMEOUT))
        .build()
        .into();
    match agent.get(url).call() {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => Err(format!("HTTP {}", r.status().as_u16())),
        Err(e) => Err(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suffixes_go_on_the_path() {
        assert_eq!(
            with_suffix("https://hc-ping.com/5f2b", "fail"),
            "https://hc-ping.com/5f2b/fail"
        );
        assert_eq!(
            with_suffix("https://hc-ping.com/5f2b/", "start"),
            "https://hc-ping.com/5f2b/start"
        );
        assert_eq!(
            with_suffix("https://hc.example/ping/key/web?create=1", "fail"),
            "https://hc.example/ping/key/web/fail?create=1"
        );
    }
}
