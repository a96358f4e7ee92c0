//! Importance of a check and status of a service, and how one makes the other.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// How much a failing check matters; decides its service's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Importance {
    Warning,
    Error,
    Critical,
}

impl Importance {
    pub const NAMES: [&'static str; 3] = ["warning", "error", "critical"];

    pub fn as_str(self) -> &'static str {
        match self {
            Importance::Warning => "warning",
            Importance::Error => "error",
            Importance::Critical => "critical",
        }
    }
}

impl FromStr for Importance {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "warning" => Ok(Importance::Warning),
            "error" => Ok(Importance::Error),
            "critical" => Ok(Importance::Critical),
            _ => Err(format!(
                "'{s}' is not an importance (one of: warning, error, critical)"
            )),
        }
    }
}

impl fmt::Display for Importance {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A service's status, worst last so that `max` picks the worst.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Status {
    Passing,
    Warning,
    Error,
    Critical,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Passing => "PASSING",
            Status::Warning => "WARNING",
            Status::Error => "ERROR",
            Status::Critical => "CRITICAL",
        }
    }

    /// The status a failing check of this importance gives its service.
    pub fn from_importance(importance: Importance) -> Status {
        match importance {
            Importance::Warning => Status::Warning,
            Importance::Error => Status::Error,
            Importance::Critical => Status::Critical,
        }
    }
}

impl FromStr for Status {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "PASSING" => Ok(Status::Passing),
            "WARNING" => Ok(Status::Warning),
            "ERROR" => Ok(Status::Error),
            "CRITICAL" => Ok(Status::Critical),
            _ => Err(format!("unknown status '{s}'")),
        }
    }
}

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where one check stands: no result yet, or passing or failing after debounce.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckState {
    Pending,
    Passing,
    Failing,
}

impl CheckState {
    pub fn as_str(self) -> &'static str {
        match self {
            CheckState::Pending => "pending",
            CheckState::Passing => "passing",
            CheckState::Failing => "failing",
        }
    }
}

/// One check as the service status sees it.
#[derive(Debug, Clone, Copy)]
pub struct CheckView {
    pub importance: Importance,
    pub active: bool,
    pub failing: bool,
}

/// A service's status: the importance of its worst failing active check, else PASSING.
pub fn service_status(checks: impl IntoIterator<Item = CheckView>) -> Status {
    checks
        .into_iter()
        .filter(|c| c.active && c.failing)
        .map(|c| Status::from_importance(c.importance))
        .max()
        .unwrap_or(Status::Passing)
}

/// A service's status at `now` and since when: the status of its checks, since `now` when
/// it differs from the stored one (`previous`: status and since), else since then.
pub fn service_standing(
    checks: impl IntoIterator<Item = CheckView>,
    previous: Option<(Status, i64)>,
    now: i64,
) -> (Status, i64) {
    let status = service_status(checks);
    match previous {
        Some((before, since)) if before == status => (status, since),
        _ => (status, now),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Importance::*;

    fn view(importance: Importance, failing: bool) -> CheckView {
        CheckView {
            importance,
            active: true,
            failing,
        }
    }

    #[test]
    fn service_status_table() {
        let cases: &[(&[CheckView], Status)] = &[
            (&[], Status::Passing),
            (
                &[view(Critical, false), view(Error, false)],
                Status::Passing,
            ),
            (&[view(Warning, true)], Status::Warning),
            (&[view(Warning, true), view(Error, true)], Status::Error),
            (&[view(Error, true), view(Critical, true)], Status::Critical),
            (
                &[view(Critical, false), view(Warning, true)],
                Status::Warning,
            ),
            (
                &[view(Critical, true), view(Warning, true)],
                Status::Critical,
            ),
            (
                &[CheckView {
                    importance: Critical,
                    active: false,
                    failing: true,
                }],
                Status::Passing,
            ),
        ];
        for (checks, want) in cases {
            assert_eq!(service_status(checks.iter().copied()), *want, "{checks:?}");
        }
    }

    #[test]
    fn a_service_keeps_its_since_until_its_status_changes() {
        let failing = [view(Error, true)];
        assert_eq!(service_standing(failing, None, 100), (Status::Error, 100));
        assert_eq!(
            service_standing(failing, Some((Status::Error, 40)), 100),
            (Status::Error, 40)
        );
        assert_eq!(
            service_standing(failing, Some((Status::Passing, 40)), 100),
            (Status::Error, 100)
        );
        assert_eq!(
            service_standing([], Some((Status::Passing, 40)), 100),
            (Status::Passing, 40)
        );
    }

    #[test]
    fn names_round_trip() {
        for s in [
            Status::Passing,
            Status::Warning,
            Status::Error,
            Status::Critical,
        ] {
            assert_eq!(s.as_str().parse::<Status>(), Ok(s));
            let json = serde_json::to_string(&s).expect("status json");
            assert_eq!(json, format!("\"{}\"", s.as_str()));
        }
        for i in [Warning, Error, Critical] {
            assert_eq!(i.as_str().parse::<Importance>(), Ok(i));
            let json = serde_json::to_string(&i).expect("importance json");
            assert_eq!(json, format!("\"{}\"", i.as_str()));
        }
        assert!("fatal".parse::<Importance>().is_err());
    }
}
