//! Alerts: the policy that decides them, the alert itself, the outbox entries it becomes,
//! their delivery, and the channels and providers that send them.

pub mod ack_link;
pub mod alert;
pub mod channels;
pub mod decide;
pub mod deliver;
pub mod order;
pub mod policy;
pub mod providers;
