//! Alerts: the policy that decides them, the outbox that keeps them, the channels that send them.

pub mod channels;
pub mod deliver;
pub mod message;
pub mod outbox;
pub mod policy;
