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

/// Where a check stands at `now`, from its consecutive failures (`None` before its first
/// result), its debounce and where it stood before. Decided for every check, not only
/// those run now, so that a debounce changed in the config applies at once.
pub fn standing(
    consecutive_failures: Option<u64>,
    debounce: u32,
    before: Standing,
    now: i64,
) -> Standing {
    let Some(failures) = consecutive_failures else {
        return Standing {
            failing: false,
            since: before.since,
        };
    };
    let failing = is_failing(failures, debounce);
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
        // (consecutive failures, debounce, before, expected)
        let cases = [
            (None, 0, was(false, None), was(false, None)), // no result yet
            (Some(0), 0, was(false, None), was(false, Some(T))), // first result: passing since now
            (Some(1), 0, was(false, Some(10)), was(true, Some(T))), // fails at once
            (Some(1), 1, was(false, Some(10)), was(false, Some(10))), // debounced
            (Some(2), 1, was(false, Some(10)), was(true, Some(T))),
            (Some(3), 1, was(true, Some(20)), was(true, Some(20))), // still failing since then
            (Some(0), 1, was(true, Some(20)), was(false, Some(T))), // passes again
            (Some(3), 5, was(true, Some(20)), was(false, Some(T))), // debounce raised in the config
        ];
        for (failures, debounce, before, want) in cases {
            assert_eq!(
                standing(failures, debounce, before, T),
                want,
                "{failures:?} failures, debounce {debounce}, before {before:?}"
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
