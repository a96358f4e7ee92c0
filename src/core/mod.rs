//! The pure decisions: debounce, service status and which checks are due.
//! Plain functions of data and `now`, tested as tables without I/O.

pub mod debounce;
pub mod history;
pub mod running;
pub mod schedule;
pub mod status;

pub use status::{CheckState, Importance, Status};
