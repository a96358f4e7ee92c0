//! Debounce: a check is failing only when its newest `debounce + 1` results all failed.
//!
//! Cabot capped the look-back at 10 results; here there is no cap, and the count of
//! consecutive failures is kept with the check so that deciding costs O(1).

/// The count of failed results at the newest end of a check's history.
pub fn consecutive_failures(results_newest_first: &[bool]) -> u64 {
    results_newest_first.iter().take_while(|ok| !**ok).count() as u64
}

/// The count after one more result.
pub fn after_result(consecutive_failures: u64, ok: bool) -> u64 {
    if ok { 0 } else { consecutive_failures + 1 }
}

/// Whether a check with this many consecutive failures is failing.
pub fn is_failing(consecutive_failures: u64, debounce: u32) -> bool {
    consecutive_failures > u64::from(debounce)
}

/// Where a check stands: failing or not after debounce, and since when.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Standing {
    pub failing: bool,
    /// When it last became failing or passing; `None` before its first result.
    pub since: Option<i64>,
}

/// The results in a row at the newest end of a check's history: failures, or passes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Streak {
    pub failures: u64,
    pub passes: u64,
}

impl Streak {
    /// The streak after one more result.
    pub fn after(self, ok: bool) -> Streak {
        Streak {
            failures: after_result(self.failures, ok),
            passes: if ok { self.passes.saturating_add(1) } else { 0 },
        }
    }
}

/// A check's thresholds: failing after more than `debounce` failures in a row, passing
/// again after more than `recover_after` passes in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Thresholds {
    pub debounce: u32,
    pub recover_after: u32,
}

/// Where a check stands at `now`, from its streak (`None` before its first result), its
/// thresholds and where it stood before. Decided for every check, not only those run now,
/// so that a threshold changed in the config applies at once.
///
/// With `recover_after`, a failing check that passes stays failing until the passes in a
/// row exceed it; a failure before then keeps it failing, however few in a row. Without
/// it, a failing check passes on its first passing result, and a debounce raised in the
/// config clears a failure that no longer exceeds it.
pub fn standing(
    streak: Option<Streak>,
    thresholds: Thresholds,
    before: Standing,
    now: i64,
) -> Standing {
    let Some(streak) = streak else {
        return Standing {
            failing: false,
            since: before.since,
        };
    };
    let failing = if is_failing(streak.failures, thresholds.debounce) {
        true
    } else if streak.failures > 0 {
        before.failing && thresholds.recover_after > 0
    } else {
        before.failing && streak.passes <= u64::from(thresholds.recover_after)
    };
    let changed = failing != before.failing || before.since.is_none();
    Standing {
        failing,
        since: if changed { Some(now) } else { before.since },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn standing_table() {
        const T: i64 = 1_000;
        let was = |failing, since| Standing { failing, since };
        // A streak of failures (0: the newest result passed, once).
        let f = |failures| {
            Some(Streak {
                failures,
                passes: u64::from(failures == 0),
            })
        };
        // (streak, debounce, before, expected)
        let cases = [
            (None, 0, was(false, None), was(false, None)), // no result yet
            (f(0), 0, was(false, None), was(false, Some(T))), // first result: passing since now
            (f(1), 0, was(false, Some(10)), was(true, Some(T))), // fails at once
            (f(1), 1, was(false, Some(10)), was(false, Some(10))), // debounced
            (f(2), 1, was(false, Some(10)), was(true, Some(T))),
            (f(3), 1, was(true, Some(20)), was(true, Some(20))), // still failing since then
            (f(0), 1, was(true, Some(20)), was(false, Some(T))), // passes again
            (f(3), 5, was(true, Some(20)), was(false, Some(T))), // debounce raised in the config
        ];
        for (streak, debounce, before, want) in cases {
            let thresholds = Thresholds {
                debounce,
                recover_after: 0,
            };
            assert_eq!(
                standing(streak, thresholds, before, T),
                want,
                "{streak:?}, debounce {debounce}, before {before:?}"
            );
        }
    }

    /// Whether a check is failing after each result of `results` (oldest first), with
    /// these thresholds, one result a minute.
    fn failing_after_each(results: &str, debounce: u32, recover_after: u32) -> String {
        let thresholds = Thresholds {
            debounce,
            recover_after,
        };
        let mut streak = Streak {
            failures: 0,
            passes: 0,
        };
        let mut stood = Standing::default();
        results
            .chars()
            .enumerate()
            .map(|(i, r)| {
                streak = streak.after(r == 'P');
                stood = standing(Some(streak), thresholds, stood, i as i64 * 60);
                if stood.failing { 'x' } else { '.' }
            })
            .collect()
    }

    #[test]
    fn recover_after_needs_that_many_passes_in_a_row_plus_one() {
        // results (P pass, F fail), debounce, recover_after, failing after each (x)
        let cases = [
            ("PFPFP", 0, 0, ".x.x."),
            ("PFPPP", 0, 2, ".xxx."),
            ("PFPFPPP", 0, 2, ".xxxxx."), // a failure in the recovery starts it again
            ("PFFPPP", 1, 1, "..xx.."),
            ("PFPFFPP", 1, 1, "....xx."), // a lone failure is debounced, not held
            ("PFPPFPP", 0, 1, ".xx.xx."),
        ];
        for (results, debounce, recover_after, want) in cases {
            assert_eq!(
                failing_after_each(results, debounce, recover_after),
                want,
                "{results}, debounce {debounce}, recover_after {recover_after}"
            );
        }
    }

    fn failing(results_newest_first: &[bool], debounce: u32) -> bool {
        is_failing(consecutive_failures(results_newest_first), debounce)
    }

    #[test]
    fn debounce_table() {
        const P: bool = true;
        const F: bool = false;
        let cases: &[(&[bool], u32, bool)] = &[
            // newest first
            (&[], 0, false),
            (&[P], 0, false),
            (&[F], 0, true),
            (&[F, P], 0, true),  // [older pass, newest fail], debounce 0: failing
            (&[F, P], 1, false), // ... debounce 1: passing
            (&[F, F], 1, true),
            (&[F, F, P], 1, true),
            (&[P, F, F, F], 1, false), // passes again on the first passing result
            (&[F], 5, false),          // a new check with debounce 5 after one failure
            (&[F; 5], 5, false),
            (&[F; 6], 5, true),
            (&[F; 12], 12, false), // no cap at 10
            (&[F; 13], 12, true),
            (&[F; 11], 10, true),
            (&[F; 10], 10, false),
        ];
        for (results, debounce, want) in cases {
            assert_eq!(
                failing(results, *debounce),
                *want,
                "results {results:?} debounce {debounce}"
            );
        }
    }

    #[test]
    fn counting_one_result_at_a_time_matches_the_history() {
        let history = [false, true, false, false, false, true, false];
        let mut count = 0;
        for (i, ok) in history.iter().enumerate() {
            count = after_result(count, *ok);
            let newest_first: Vec<bool> = history[..=i].iter().rev().copied().collect();
            assert_eq!(count, consecutive_failures(&newest_first));
        }
    }
}
