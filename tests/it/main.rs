//! cabot's integration tests: one binary, one module per subject, each driving the real
//! `cabot` binary against real servers on 127.0.0.1 and a real SQLite file in a temp folder.
//!
//! Where a new test goes:
//! - `checks/<type>.rs`: one check type's behaviour (a new type gets a new file);
//! - `channels/`: one channel's wire format and failover (a new channel gets a new file);
//! - `alerts.rs`: when alerts happen (the policy, acks, silences, the outbox's retries);
//! - `serve/`: `serve-status`'s answers and its behaviour under hostile clients;
//! - `cli.rs`: commands as a user runs them (`run`'s flags, `status`, `history`, completions);
//! - `runs.rs`: every check on its own clock: overlapping runs, leases, results and alerts
//!   as they finish;
//! - `config.rs`: config errors, each with its line and column;
//! - `state.rs`: the state file (schemas, migrate, corrupt, read-only, full disk);
//! - `backup.rs`: `cabot backup` and the backups `migrate` takes;
//! - `crash.rs`: runs killed at random moments lose no alert;
//! - `oncall.rs`: duty rotas, who is told, `cabot oncall`;
//! - `pages.rs`: pages that are right: dependencies, cabot's own network, retries within
//!   a run, `recover_after`, flapping.
//!
//! Tests that need root, Chromium, aiosmtpd or system tools are `#[ignore = "needs ..."]`:
//! a plain `cargo test` lists them as ignored, and `.ci/run` (which installs what they
//! need) runs them with `--include-ignored`.

mod alerts;
mod backup;
mod channels;
mod checks;
mod cli;
mod config;
mod crash;
mod fuzz;
mod import;
mod oncall;
mod pages;
mod pair;
mod runs;
mod serve;
mod state;
mod support;
