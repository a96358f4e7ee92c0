//! The pure decisions: debounce and where each check stands, service status, which checks
//! are due, whether checks are running, how long acks and silences hold, incidents and
//! uptime. Plain functions of data and `now`, tested as tables without I/O.

pub mod debounce;
pub mod history;
pub mod ical;
pub mod oncall;
pub mod quiet;
pub mod running;
pub mod schedule;
pub mod status;
pub mod vtimezone;
pub mod windows_zones;

pub use status::{CheckState, Importance, Status};
