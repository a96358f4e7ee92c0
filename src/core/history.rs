//! Incidents and uptime over a range, from a service's status changes or a check's results.

use super::Status;

/// A stretch of time a service was not PASSING.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Incident {
    pub start: i64,
    /// `None` while it goes on.
    pub end: Option<i64>,
    pub worst: Status,
}

/// A service's incidents, uptime (percent of time PASSING) and the seconds it was watched
/// in `[from, now]`: the uptime is over those seconds, which are fewer than the range
/// for a service watched for less time than that.
///
/// `changes` are (time, new status), oldest first; the first may be before `from`, giving
/// the status the range starts in. Time before the first change is not counted, nor are
/// changes after `now` (a clock set back since they were recorded).
pub fn service_incidents(
    changes: &[(i64, Status)],
    from: i64,
    now: i64,
) -> (Vec<Incident>, Option<f64>, i64) {
    let mut incidents: Vec<Incident> = Vec::new();
    let mut counted = 0i64;
    let mut passing = 0i64;
    for (i, &(at, status)) in changes.iter().enumerate() {
        if at > now {
            break;
        }
        let start = at.max(from);
        let end = changes.get(i + 1).map_or(now, |next| next.0).min(now);
        if end > start {
            counted += end - start;
            if status == Status::Passing {
                passing += end - start;
            }
        }
        if status == Status::Passing {
            if let Some(open) = incidents.last_mut().filter(|x| x.end.is_none()) {
                open.end = Some(at);
            }
            continue;
        }
        // A stretch that ended by the time the range starts is not in it, not even as an
        // incident of no length at `from`.
        let in_range = changes.get(i + 1).is_none_or(|next| next.0 > from);
        match incidents.last_mut().filter(|x| x.end.is_none()) {
            Some(open) => open.worst = open.worst.max(status),
            None if in_range => incidents.push(Incident {
                start,
                end: None,
                worst: status,
            }),
            None => {}
        }
    }
    let uptime = (counted > 0).then(|| passing as f64 * 100.0 / counted as f64);
    (incidents, uptime, counted)
}

/// A run of failed results: from the first failure to the next pass.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Problem {
    pub start: i64,
    pub end: Option<i64>,
}

/// Cabot's check report: the problem intervals, and the percent of results that passed.
pub fn check_report(results: &[(i64, bool)]) -> (Vec<Problem>, Option<f64>) {
    let mut problems: Vec<Problem> = Vec::new();
    for &(at, ok) in results {
        let open = problems.last_mut().filter(|p| p.end.is_none());
        match (ok, open) {
            (false, None) => problems.push(Problem {
                start: at,
                end: None,
            }),
            (true, Some(p)) => p.end = Some(at),
            _ => {}
        }
    }
    let passed = results.iter().filter(|r| r.1).count();
    let rate = (!results.is_empty()).then(|| passed as f64 * 100.0 / results.len() as f64);
    (problems, rate)
}

#[cfg(test)]
mod tests {
    use super::*;
    use Status::*;

    #[test]
    fn cabot_check_report() {
        // one failing and one passing result in range: 1 problem interval, 50 %
        let (problems, rate) = check_report(&[(100, false), (160, true)]);
        assert_eq!(
            problems,
            [Problem {
                start: 100,
                end: Some(160)
            }]
        );
        assert_eq!(rate, Some(50.0));
        let (problems, rate) =
            check_report(&[(1, true), (2, false), (3, false), (4, true), (5, false)]);
        assert_eq!(
            problems,
            [
                Problem {
                    start: 2,
                    end: Some(4)
                },
                Problem {
                    start: 5,
                    end: None
                }
            ]
        );
        assert_eq!(rate, Some(40.0));
        assert_eq!(check_report(&[]), (vec![], None));
    }

    #[test]
    fn service_incidents_and_uptime() {
        let changes = [
            (0, Passing),
            (100, Error),
            (150, Critical),
            (200, Passing),
            (900, Warning),
        ];
        let (incidents, uptime, watched) = service_incidents(&changes, 0, 1000);
        assert_eq!(watched, 1000);
        assert_eq!(
            incidents,
            [
                Incident {
                    start: 100,
                    end: Some(200),
                    worst: Critical
                },
                Incident {
                    start: 900,
                    end: None,
                    worst: Warning
                },
            ]
        );
        assert_eq!(uptime, Some(80.0));
        // a range starting mid-incident starts the incident there
        let (incidents, uptime, watched) = service_incidents(&changes, 120, 1000);
        assert_eq!(watched, 880);
        // watched for the last 500 seconds of a range of 1000: the uptime is over those
        let (_, uptime_late, late) = service_incidents(&[(500, Passing), (800, Error)], 0, 1000);
        assert_eq!((late, uptime_late), (500, Some(60.0)));
        assert_eq!(
            incidents[0],
            Incident {
                start: 120,
                end: Some(200),
                worst: Critical
            }
        );
        assert_eq!(uptime.map(|u| (u * 10.0).round() / 10.0), Some(79.5));
        // incidents that ended before the range are left out
        let (incidents, _, _) = service_incidents(&changes, 300, 1000);
        assert_eq!(
            incidents,
            [Incident {
                start: 900,
                end: None,
                worst: Warning
            }]
        );
        // an incident that ended just as the range starts is not in it
        let (incidents, uptime, _) = service_incidents(&changes, 200, 800);
        assert_eq!(incidents, []);
        assert_eq!(uptime, Some(100.0));
        // one that started as the range ends is, ongoing
        let (incidents, _, _) = service_incidents(&changes, 300, 900);
        assert_eq!(
            incidents,
            [Incident {
                start: 900,
                end: None,
                worst: Warning
            }]
        );
        assert_eq!(service_incidents(&[], 0, 10), (vec![], None, 0));
    }
}
