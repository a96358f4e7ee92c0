//! Which checks are due in this run.

use std::time::Duration;

/// Cron fires on the minute but processes start a little late or early; a check whose
/// next run falls within this much of now runs now rather than a whole period later.
pub const TOLERANCE: Duration = Duration::from_secs(5);

/// A check is due when it never ran, or when `last_run + frequency <= now + 5 s`.
/// Times are Unix seconds.
pub fn is_due(last_run: Option<i64>, frequency: Duration, now: i64) -> bool {
    match last_run {
        None => true,
        Some(last) => {
            let next = last.saturating_add(frequency.as_secs() as i64);
            next <= now.saturating_add(TOLERANCE.as_secs() as i64)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            (Some(t), minute, t - 3600, false), // clock went backwards
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
