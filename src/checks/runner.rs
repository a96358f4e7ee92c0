//! Runs many checks at once on a fixed set of worker threads, at most `jobs` at a time,
//! each bounded by its own timeout, and hands back each result as it finishes.
//!
//! The runner keeps a deadline for each check in flight and, should a check overrun it (a
//! resolver that ignores timeouts, say), reports it as failed and moves on: the stuck
//! worker is retired and ends when its check does (or with the process), and a new worker
//! takes its place, so one hostile target can never hold up the others.
//!
//! Work can be added while the runner runs (checks that came due while a slow one is still
//! running), numbered on from the work it was given.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::{CheckMemory, CheckResult, Context, Job};
use crate::clock;
use crate::config::Config;
use crate::core::schedule::GRACE;
use crate::http_client::Client;

const STACK_SIZE: usize = 512 * 1024;

/// One check that finished (or was abandoned).
#[derive(Debug, Clone)]
pub struct Finished {
    /// Its place in the work the runner was given.
    pub index: usize,
    /// When it started (Unix seconds): its `last_run`.
    pub started_at: i64,
    pub result: CheckResult,
}

enum Event {
    Started {
        worker: usize,
        index: usize,
        at: Instant,
        unix: i64,
    },
    Done {
        index: usize,
        result: CheckResult,
    },
    /// A worker found the queue empty and ended.
    Ended {
        worker: usize,
    },
}

/// What is known of a check in flight.
struct Running {
    worker: usize,
    started: Instant,
    unix: i64,
    deadline: Instant,
}

struct Shared {
    cfg: Arc<Config>,
    /// Each check waiting for a worker, with its place in the work.
    queue: Mutex<VecDeque<(usize, Job)>>,
    http: Client,
    memory: Arc<CheckMemory>,
}

pub struct Runner {
    shared: Arc<Shared>,
    /// All the work given, in order: a check's index is its place here.
    work: Vec<Job>,
    /// At most this many workers at once.
    jobs: usize,
    events: Receiver<Event>,
    sender: Sender<Event>,
    running: HashMap<usize, Running>,
    /// The deadlines of the checks in flight, soonest on top; an entry whose check is no
    /// longer in `running` is stale and dropped when it comes up.
    deadlines: BinaryHeap<Reverse<(Instant, usize)>>,
    /// Each worker's flag: set when the runner gave up on its check.
    retired: Vec<Arc<AtomicBool>>,
    /// Workers started, and neither retired nor ended.
    alive: usize,
    /// Checks not handed back yet.
    left: usize,
}

impl Runner {
    /// Starts running `work` (checks of `cfg`) on at most `jobs` workers; the checks
    /// read and write `memory`.
    pub fn start(
        cfg: Arc<Config>,
        work: Vec<Job>,
        jobs: usize,
        memory: Arc<CheckMemory>,
    ) -> Runner {
        let (sender, events) = mpsc::channel();
        let shared = Arc::new(Shared {
            cfg,
            queue: Mutex::new(VecDeque::new()),
            http: Client::new(),
            memory,
        });
        let mut runner = Runner {
            shared,
            work: Vec::new(),
            jobs: jobs.max(1),
            events,
            sender,
            running: HashMap::new(),
            deadlines: BinaryHeap::new(),
            retired: Vec::new(),
            alive: 0,
            left: 0,
        };
        runner.add(work);
        runner
    }

    /// Adds checks to run, numbered on from the work so far, and starts workers for them
    /// (up to `jobs` at once).
    pub fn add(&mut self, work: Vec<Job>) {
        let added = work.len();
        if let Ok(mut queue) = self.shared.queue.lock() {
            for job in work {
                queue.push_back((self.work.len(), job));
                self.work.push(job);
            }
        }
        self.left += added;
        self.spawn_for_queue();
    }

    /// The latest moment a check in flight may still finish: its start, timeout and grace.
    pub fn last_deadline(&self) -> Option<Instant> {
        self.running.values().map(|r| r.deadline).max()
    }

    /// Whether checks wait for a worker.
    pub fn has_queued(&self) -> bool {
        self.shared.queue.lock().is_ok_and(|q| !q.is_empty())
    }

    /// Starts workers while checks wait and fewer than `jobs` are alive.
    fn spawn_for_queue(&mut self) {
        let queued = self.shared.queue.lock().map_or(0, |q| q.len());
        for _ in 0..queued.min(self.jobs.saturating_sub(self.alive)) {
            self.spawn_worker();
        }
    }

    /// Whether every check has been handed back.
    pub fn is_done(&self) -> bool {
        self.left == 0
    }

    /// The next check that finishes, waiting at most until `until` (for ever when `None`);
    /// `None` when none finished by then, or when all are done.
    pub fn next(&mut self, until: Option<Instant>) -> Option<Finished> {
        loop {
            if self.left == 0 {
                return None;
            }
            if self.alive == 0 {
                // No worker could be started: what is queued cannot run.
                let (index, _) = self.shared.queue.lock().ok()?.pop_front()?;
                self.left -= 1;
                return Some(Finished {
                    index,
                    started_at: clock::now(),
                    result: CheckResult::fail(
                        "cannot start a thread for the check",
                        Duration::ZERO,
                    ),
                });
            }
            let earliest = self.earliest_deadline();
            let wake = match (earliest, until) {
                (Some(d), Some(u)) => Some(d.min(u)),
                (d, u) => d.or(u),
            };
            let event = match wake {
                None => self
                    .events
                    .recv()
                    .map_err(|_| RecvTimeoutError::Disconnected),
                Some(at) => self
                    .events
                    .recv_timeout(at.saturating_duration_since(Instant::now())),
            };
            match event {
                Ok(Event::Started {
                    worker,
                    index,
                    at,
                    unix,
                }) => {
                    let worst = self.work[index].check(&self.shared.cfg).worst_case();
                    let deadline = at + worst + GRACE;
                    self.deadlines.push(Reverse((deadline, index)));
                    self.running.insert(
                        index,
                        Running {
                            worker,
                            started: at,
                            unix,
                            deadline,
                        },
                    );
                }
                Ok(Event::Ended { worker }) => {
                    // A worker the runner retired was counted out then.
                    if self
                        .retired
                        .get(worker)
                        .is_some_and(|r| !r.load(Ordering::SeqCst))
                    {
                        self.alive -= 1;
                        // Work added as it looked at an empty queue still needs a worker.
                        self.spawn_for_queue();
                    }
                }
                Ok(Event::Done { index, result }) => {
                    // A check given up on already was handed back then.
                    if let Some(r) = self.running.remove(&index) {
                        self.left -= 1;
                        return Some(Finished {
                            index,
                            started_at: r.unix,
                            result,
                        });
                    }
                }
                Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => {
                    let now = Instant::now();
                    if self.earliest_deadline().is_some_and(|d| d <= now)
                        && let Some(Reverse((_, index))) = self.deadlines.pop()
                        && let Some(r) = self.running.remove(&index)
                    {
                        return Some(self.abandon(index, r, now));
                    }
                    if until.is_some_and(|u| u <= now) {
                        return None;
                    }
                }
            }
        }
    }

    /// The soonest deadline of a check in flight, dropping stale entries off the top.
    fn earliest_deadline(&mut self) -> Option<Instant> {
        while let Some(Reverse((deadline, index))) = self.deadlines.peek() {
            if self
                .running
                .get(index)
                .is_some_and(|r| r.deadline == *deadline)
            {
                return Some(*deadline);
            }
            self.deadlines.pop();
        }
        None
    }

    /// Hands back a check that overran its deadline as failed, and replaces its worker.
    fn abandon(&mut self, index: usize, r: Running, now: Instant) -> Finished {
        if let Some(flag) = self.retired.get(r.worker) {
            flag.store(true, Ordering::SeqCst);
        }
        self.alive -= 1;
        self.left -= 1;
        self.spawn_for_queue();
        let timeout = self.work[index].check(&self.shared.cfg).worst_case();
        Finished {
            index,
            started_at: r.unix,
            result: CheckResult::fail(
                format!(
                    "timed out after {} (the check did not stop; abandoned)",
                    crate::text::duration(timeout)
                ),
                now - r.started,
            ),
        }
    }

    fn spawn_worker(&mut self) {
        let worker = self.retired.len();
        let retired = Arc::new(AtomicBool::new(false));
        self.retired.push(Arc::clone(&retired));
        let shared = Arc::clone(&self.shared);
        let sender = self.sender.clone();
        let spawned = std::thread::Builder::new()
            .name(format!("check-worker-{worker}"))
            .stack_size(STACK_SIZE)
            .spawn(move || work(worker, &shared, &sender, &retired));
        if spawned.is_ok() {
            self.alive += 1;
        }
    }
}

/// Runs a check, and tries a failed one again as its `retry` says: the last try is the
/// result, saying how many tries it took.
fn run_with_retries(job: Job, shared: &Shared, retired: &AtomicBool, unix: i64) -> CheckResult {
    let check = job.check(&shared.cfg);
    let context = |now| Context {
        http: &shared.http,
        memory: &shared.memory,
        now,
    };
    let mut result = super::run(check, job.last_run, &context(unix));
    let Some(retry) = check.retry else {
        return result;
    };
    let first = crate::text::one_line(&result.message, 200);
    for tried in 1..=retry.count {
        if result.ok || retired.load(Ordering::SeqCst) {
            break;
        }
        std::thread::sleep(retry.after);
        result = super::run(check, job.last_run, &context(clock::now()));
        result.message = match result.ok {
            true => format!(
                "{} (passed on try {} of {}; the first failed: {first})",
                result.message,
                tried + 1,
                retry.count + 1
            ),
            false if tried == retry.count => {
                format!("{} (failed all {} tries)", result.message, retry.count + 1)
            }
            false => result.message,
        };
    }
    result
}

/// A worker: takes the next check off the queue until there are none, or until the
/// runner gave up on one of its checks.
fn work(worker: usize, shared: &Shared, sender: &Sender<Event>, retired: &AtomicBool) {
    while !retired.load(Ordering::SeqCst) {
        let Some((index, job)) = shared.queue.lock().ok().and_then(|mut q| q.pop_front()) else {
            let _ = sender.send(Event::Ended { worker });
            return;
        };
        let unix = clock::now();
        let started = Event::Started {
            worker,
            index,
            at: Instant::now(),
            unix,
        };
        if sender.send(started).is_err() {
            return;
        }
        let result = run_with_retries(job, shared, retired, unix);
        if sender.send(Event::Done { index, result }).is_err() {
            return;
        }
    }
}
