//! Acknowledgements and silences: how long they hold.

use super::Status;

/// An acknowledgement or a silence holds until it expires (Unix seconds).
pub fn in_force(until: i64, now: i64) -> bool {
    until > now
}

/// An acknowledgement is of the current incident: it ends when the service recovers.
pub fn ack_ends(status: Status) -> bool {
    status == Status::Passing
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acks_end_on_expiry_or_recovery() {
        assert!(in_force(101, 100));
        assert!(!in_force(100, 100), "expires at its time");
        assert!(!in_force(99, 100));
        assert!(ack_ends(Status::Passing));
        for failing in [Status::Warning, Status::Error, Status::Critical] {
            assert!(!ack_ends(failing), "{failing}");
        }
    }
}
