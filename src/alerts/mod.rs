//! Alerts: the policy that decides them, the outbox that keeps them, the channels that send them.

pub mod policy;
