//! Which checks are due in this run.

use std::time::Duration;

/// Cron fires on the minute but processes start a little late or early; a check whose
/// next run falls within this much of now runs now rather than a whole period later.
pub const TOLERANCE: Duration = Duration::from_secs(5);

/// How long past a check's timeout the runner waits before it abandons the check.
pub const GRACE: Duration = Duration::from_secs(2);

/// How long a run's lease on a check outlives the check's deadline, so that a live run's
/// lease never lapses under it.
pub const LEASE_MARGIN: Duration = Duration::from_secs(10);

/// A stored time further ahead of now than this was written by a clock that has since
/// gone back (an NTP step, a wrong clock at boot, a resumed VM): runs share one machine's
/// clock, so nothing else writes a time ahead of it. Such a time is not trusted: it makes
/// nothing wait.
pub const CLOCK_STEP: Duration = Duration::from_secs(60);

/// Whether `t` is a time from a clock that has since gone back (see `CLOCK_STEP`).
pub fn ahead(t: i64, now: i64) -> bool {
    t > now.saturating_add(CLOCK_STEP.as_secs() as i64)
}

/// Whether a lease (if any) lets a run take its check or delivery at `now`: none, lapsed,
/// or taken by a run that started on a clock ahead of this one (its end is that clock's).
pub fn is_free(claim_until: Option<i64>, claimed_by: Option<&str>, now: i64) -> bool {
    claim_until.is_none_or(|until| until <= now)
        || claimed_by
            .and_then(run_started)
            .is_some_and(|t| ahead(t, now))
}

/// A name for a run in the leases it takes, unique among the runs alive at once: its
/// process id, its start (Unix seconds) and the start's nanoseconds.
pub fn run_id(started_at: i64, pid: u32, nanos: u32) -> String {
    format!("{pid}-{started_at}-{nanos}")
}

/// When the run named `id` (by `run_id`) started.
pub fn run_started(id: &str) -> Option<i64> {
    id.split('-').nth(1)?.parse().ok()
}

/// When a run's lease on a check lapses. The run starts `jobs` checks at once and the
/// others as those finish, so the check at `position` (0-based, in the order the run
/// starts them) waits at most `position / jobs` rounds of `longest` (the longest timeout
/// of the run) before its own `timeout`; each is bounded by the runner's grace.
pub fn lease_until(
    now: i64,
    position: usize,
    jobs: usize,
    timeout: Duration,
    longest: Duration,
) -> i64 {
    let secs = |d: Duration| i64::try_from(d.as_secs()).unwrap_or(i64::MAX);
    let rounds = i64::try_from(position / jobs.max(1)).unwrap_or(i64::MAX);
    let waiting = rounds.saturating_mul(secs(longest).saturating_add(secs(GRACE)));
    now.saturating_add(waiting)
        .saturating_add(secs(timeout))
        .saturating_add(secs(GRACE))
        .saturating_add(secs(LEASE_MARGIN))
}

/// A check is due when it never ran, or when `last_run + frequency <= now + 5 s`, or when
/// its last run is stamped ahead of this clock (the clock went back). Times are Unix seconds.
pub fn is_due(last_run: Option<i64>, frequency: Duration, now: i64) -> bool {
    match last_run {
        None => true,
        Some(last) if ahead(last, now) => true,
        Some(last) => {
            let next = last.saturating_add(frequency.as_secs() as i64);
            next <= now.saturating_add(TOLERANCE.as_secs() as i64)
        }
    }
}

/// When a check that is not due at `now` comes due (`is_due` turns true): `None` when it
/// is due already.
pub fn comes_due(last_run: Option<i64>, frequency: Duration, now: i64) -> Option<i64> {
    let next = last_run
        .filter(|last| !ahead(*last, now))?
        .saturating_add(frequency.as_secs() as i64)
        .saturating_sub(TOLERANCE.as_secs() as i64);
    (next > now).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_check_comes_due_when_is_due_turns_true() {
        let minute = Duration::from_secs(60);
        let t = 1_000;
        assert_eq!(comes_due(None, minute, t), None, "never ran: due now");
        assert_eq!(comes_due(Some(t), minute, t), Some(t + 55));
        assert!(!is_due(Some(t), minute, t + 54));
        assert!(is_due(Some(t), minute, t + 55));
        assert_eq!(comes_due(Some(t - 55), minute, t), None, "due now");
        // Stamped by a clock that went back: due now, not an hour from now.
        assert!(is_due(Some(t + 3600), minute, t));
        assert_eq!(comes_due(Some(t + 3600), minute, t), None);
        assert!(
            !is_due(Some(t + 30), minute, t),
            "a few seconds' slew is no step"
        );
    }

    #[test]
    fn leases() {
        let s = Duration::from_secs;
        let t = 1_000;
        assert!(is_free(None, None, t));
        assert!(is_free(Some(t), None, t), "lapses at its time");
        assert!(!is_free(Some(t + 1), None, t));
        // A lease taken by a run on this clock holds; one by a run on a clock an hour
        // ahead is void, whenever it says it ends.
        let here = run_id(t - 30, 42, 7);
        assert_eq!(run_started(&here), Some(t - 30));
        assert!(!is_free(Some(t + 100), Some(&here), t));
        let ahead_run = run_id(t + 3600, 42, 7);
        assert!(is_free(Some(t + 3700), Some(&ahead_run), t));
        assert!(!is_free(Some(t + 100), Some("not-a-run-id"), t));
        // (position, jobs, timeout, longest, lease until)
        let cases = [
            (0, 4, s(10), s(90), t + 10 + 2 + 10), // starts at once: its own deadline
            (3, 4, s(10), s(90), t + 22),
            (4, 4, s(10), s(90), t + 92 + 22), // after one round of the longest
            (9, 4, s(1), s(1), t + 2 * 3 + 13),
            (0, 0, s(1), s(1), t + 13), // jobs is at least 1
        ];
        for (position, jobs, timeout, longest, want) in cases {
            assert_eq!(
                lease_until(t, position, jobs, timeout, longest),
                want,
                "position {position} of {jobs} at once"
            );
        }
    }

    #[test]
    fn due_table() {
        let minute = Duration::from_secs(60);
        let five = Duration::from_secs(300);
        let t = 1_000_000;
        let cases: &[(Option<i64>, Duration, i64, bool)] = &[
            (None, minute, t, true),
            (Some(t), minute, t, false),
            (Some(t), minute, t + 30, false),
            (Some(t), minute, t + 54, false),
            (Some(t), minute, t + 55, true), // cron started 5 s early
            (Some(t), minute, t + 60, true),
            (Some(t), minute, t + 61, true), // cron started late
            (Some(t), five, t + 60, false),
            (Some(t), five, t + 294, false),
            (Some(t), five, t + 295, true),
            (Some(t), minute, t - 3600, true), // the clock went back: due, not in an hour
            (Some(t), minute, t - 30, false),  // a small slew is no step
        ];
        for (last, freq, now, want) in cases {
            assert_eq!(
                is_due(*last, *freq, *now),
                *want,
                "last {last:?} freq {freq:?} now {now}"
            );
        }
    }
}
