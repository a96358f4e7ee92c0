//! Runs many checks at once, at most `jobs` at a time, each bounded by its own timeout.
//!
//! Each check runs on its own thread. The runner keeps a deadline for each one and,
//! should a check overrun it (a resolver that ignores timeouts, say), records it as
//! failed and moves on: the stuck thread is abandoned and ends with the process, so one
//! hostile target can never hold up the run.

use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::{CheckResult, Context, Job};
use crate::config::Check;

/// Extra time beyond a check's own timeout before the runner gives up on it.
const GRACE: Duration = Duration::from_secs(2);
const STACK_SIZE: usize = 512 * 1024;

/// Runs `checks` and returns their outcomes in the same order; `on_done` is called as each finishes.
pub fn run_all(
    work: Vec<Job>,
    jobs: usize,
    now: i64,
    mut on_done: impl FnMut(&Check, &CheckResult),
) -> Vec<CheckResult> {
    let jobs = jobs.max(1);
    let ctx = Arc::new(Context::new(now));
    let work: Vec<Arc<Job>> = work.into_iter().map(Arc::new).collect();
    let checks: Vec<&Check> = work.iter().map(|j| &j.check).collect();
    let mut outcomes: Vec<Option<CheckResult>> = vec![None; checks.len()];
    let (tx, rx) = mpsc::channel::<(usize, CheckResult)>();
    // (index, started, deadline) of the checks in flight
    let mut running: Vec<(usize, Instant, Instant)> = Vec::new();
    let mut next = 0;
    let mut done = 0;

    while done < checks.len() {
        while running.len() < jobs && next < checks.len() {
            let index = next;
            next += 1;
            let job = Arc::clone(&work[index]);
            let ctx = Arc::clone(&ctx);
            let tx = tx.clone();
            let started = Instant::now();
            let spawned = std::thread::Builder::new()
                .name(format!("check-{index}"))
                .stack_size(STACK_SIZE)
                .spawn(move || {
                    let outcome = super::run(&job, &ctx);
                    let _ = tx.send((index, outcome));
                });
            match spawned {
                Ok(_) => running.push((index, started, started + checks[index].timeout + GRACE)),
                Err(e) => {
                    let outcome =
                        CheckResult::fail(format!("cannot start the check: {e}"), Duration::ZERO);
                    on_done(checks[index], &outcome);
                    outcomes[index] = Some(outcome);
                    done += 1;
                }
            }
        }
        let Some(earliest) = running.iter().map(|r| r.2).min() else {
            continue;
        };
        let wait = earliest.saturating_duration_since(Instant::now());
        match rx.recv_timeout(wait) {
            Ok((index, outcome)) => {
                if let Some(pos) = running.iter().position(|r| r.0 == index) {
                    running.swap_remove(pos);
                    on_done(checks[index], &outcome);
                    outcomes[index] = Some(outcome);
                    done += 1;
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout | mpsc::RecvTimeoutError::Disconnected) => {
                let now = Instant::now();
                running.retain(|&(index, started, deadline)| {
                    if deadline > now {
                        return true;
                    }
                    let timeout = checks[index].timeout;
                    let outcome = CheckResult::fail(
                        format!(
                            "timed out after {} (the check did not stop; abandoned)",
                            humantime::format_duration(timeout)
                        ),
                        now - started,
                    );
                    on_done(checks[index], &outcome);
                    outcomes[index] = Some(outcome);
                    done += 1;
                    false
                });
            }
        }
    }
    outcomes
        .into_iter()
        .map(|o| o.unwrap_or_else(|| CheckResult::fail("the check did not run", Duration::ZERO)))
        .collect()
}
