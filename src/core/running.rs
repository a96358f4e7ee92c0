//! "Are checks running?": what `/status/`, `status` and the `cabot` check all decide the
//! same way, in the same words.

/// What `/status/` says while runs are happening.
pub const RUNNING: &str = "Checks running";
/// What `/status/` says when they are not.
pub const NOT_RUNNING: &str = "Checks not running";

/// Checks are running when the last completed run finished within `stale_after` of `now`.
/// Times are Unix seconds; no run yet is not running, nor is a last run stamped ahead of
/// this clock (`schedule::ahead`): the clock went back, and no run has finished since.
pub fn checks_running(
    last_finished_at: Option<i64>,
    stale_after: std::time::Duration,
    now: i64,
) -> bool {
    last_finished_at.is_some_and(|finished| {
        now.saturating_sub(finished) <= i64::try_from(stale_after.as_secs()).unwrap_or(i64::MAX)
            && !crate::core::schedule::ahead(finished, now)
    })
}

/// The words for `running`.
pub fn words(running: bool) -> &'static str {
    if running { RUNNING } else { NOT_RUNNING }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn running_table() {
        let ten = Duration::from_secs(600);
        let t = 1_000_000;
        let cases = [
            (None, t, false),
            (Some(t), t, true),
            (Some(t - 600), t, true),
            (Some(t - 601), t, false),
            (Some(t + 30), t, true), // a run stamped a little ahead of this clock
            (Some(t + 3600), t, false), // an hour ahead: the clock went back
            (Some(i64::MIN), t, false),
        ];
        for (finished, now, want) in cases {
            assert_eq!(
                checks_running(finished, ten, now),
                want,
                "{finished:?} at {now}"
            );
        }
        assert_eq!(words(true), "Checks running");
        assert_eq!(words(false), "Checks not running");
    }
}
