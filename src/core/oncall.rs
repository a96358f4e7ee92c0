//! Who is on duty: a rota's weekly rotation or its calendar, and its fallback whenever the
//! rota yields nobody, so that an alert never goes to nobody (Cabot #518). Pure: a rota
//! (with its calendar's occurrences read) and a time.

use jiff::civil::Date;

use crate::config::Rota;

const WEEK: i64 = 7;

/// Where an answer came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    Override,
    Rotation,
    /// The calendar, as just read.
    Calendar,
    /// The copy of the calendar kept in the state, the calendar itself unreadable.
    Cache,
    Fallback,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Source::Override => "override",
            Source::Rotation => "rotation",
            Source::Calendar => "calendar",
            Source::Cache => "cached calendar",
            Source::Fallback => "fallback",
        }
    }
}

/// One person's stretch on duty, `[start, end)` in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shift {
    pub start: i64,
    pub end: i64,
    pub user: String,
    pub source: Source,
}

/// Days since 1970-01-01 of a civil date.
fn day_number(d: Date) -> i64 {
    let epoch = Date::constant(1970, 1, 1);
    d.since((jiff::Unit::Day, epoch))
        .map_or(0, |span| i64::from(span.get_days()))
}

/// The handoff at or before `t`: its Unix time and its number (weeks since a fixed
/// handoff), which picks the user.
fn handoff_at_or_before(rota: &Rota, t: i64) -> Option<(i64, i64)> {
    let zoned = jiff::Timestamp::from_second(t)
        .ok()?
        .to_zoned_datetime(rota.time_zone.clone());
    let date = zoned.date();
    let back = (i64::from(date.weekday().to_monday_zero_offset())
        - i64::from(rota.handoff_day.to_monday_zero_offset()))
    .rem_euclid(WEEK);
    let mut day = date.checked_sub(jiff::Span::new().days(back)).ok()?;
    let mut at = handoff_time(rota, day)?;
    if at > t {
        day = day.checked_sub(jiff::Span::new().days(WEEK)).ok()?;
        at = handoff_time(rota, day)?;
    }
    Some((at, day_number(day).div_euclid(WEEK)))
}

fn handoff_time(rota: &Rota, day: Date) -> Option<i64> {
    let zoned = day
        .to_datetime(rota.handoff_time)
        .to_zoned_datetime(rota.time_zone.clone())
        .ok()?;
    Some(zoned.timestamp().as_second())
}

fn user_for_week(rota: &Rota, week: i64) -> Option<&str> {
    let n = rota.users.len() as i64;
    (n > 0).then(|| rota.users[week.rem_euclid(n) as usize].as_str())
}

/// Who is on duty at `t`, and where that came from: the newest override in force, else
/// the rotation or calendar, else the fallback.
pub fn on_duty(rota: &Rota, t: i64) -> (String, Source) {
    if let Some(o) = rota
        .overrides
        .iter()
        .rev()
        .find(|o| o.start <= t && t < o.until)
    {
        return (o.user.clone(), Source::Override);
    }
    scheduled(rota, t)
}

/// When the duty of whoever is on duty at `now` ends: the end of the override in force
/// (or of the shift, as far as `known`), or sooner, when an override starts before that.
pub fn duty_ends(rota: &Rota, now: i64, known: i64) -> i64 {
    let in_force = rota
        .overrides
        .iter()
        .rev()
        .find(|o| o.start <= now && now < o.until);
    let end = match in_force {
        Some(o) => o.until,
        None => shifts(rota, now, known).first().map_or(known, |s| s.end),
    };
    rota.overrides
        .iter()
        .filter(|o| o.start > now && o.start < end)
        .map(|o| o.start)
        .min()
        .unwrap_or(end)
}

/// Who the rota itself has on duty at `t`, overrides aside.
fn scheduled(rota: &Rota, t: i64) -> (String, Source) {
    if rota.calendar.is_some() {
        return from_calendar(rota, t);
    }
    match handoff_at_or_before(rota, t).and_then(|(_, week)| user_for_week(rota, week)) {
        Some(user) => (user.to_string(), Source::Rotation),
        None => (rota.fallback.clone(), Source::Fallback),
    }
}

/// The calendar's occurrence in force at `t` that began last (a swap entered over a
/// weekly series wins), else the fallback.
fn from_calendar(rota: &Rota, t: i64) -> (String, Source) {
    let Some(read) = rota.from_calendar.as_ref().map(|r| r.shifts()) else {
        return (rota.fallback.clone(), Source::Fallback);
    };
    // Occurrences are sorted by start: those that began by `t` come first.
    let began = read.occurrences.partition_point(|o| o.start <= t);
    match read.occurrences[..began].iter().rev().find(|o| t < o.end) {
        Some(o) if read.cached => (o.user.clone(), Source::Cache),
        Some(o) => (o.user.clone(), Source::Calendar),
        None => (rota.fallback.clone(), Source::Fallback),
    }
}

/// A calendar rota's shifts over `[from, to)`: who it has on duty between each start or
/// end of an occurrence and the next.
fn calendar_shifts(rota: &Rota, from: i64, to: i64) -> Vec<Shift> {
    let mut edges = vec![from, to];
    if let Some(read) = &rota.from_calendar {
        for o in &read.shifts().occurrences {
            edges.extend(
                [o.start, o.end]
                    .into_iter()
                    .filter(|t| from < *t && *t < to),
            );
        }
    }
    edges.sort_unstable();
    edges.dedup();
    let mut out: Vec<Shift> = Vec::new();
    for pair in edges.windows(2) {
        let (user, source) = scheduled(rota, pair[0]);
        match out.last_mut() {
            Some(last) if last.user == user && last.source == source => last.end = pair[1],
            _ => out.push(Shift {
                start: pair[0],
                end: pair[1],
                user,
                source,
            }),
        }
    }
    out
}

/// The shifts that cover `[from, to)`, in order.
pub fn shifts(rota: &Rota, from: i64, to: i64) -> Vec<Shift> {
    if rota.calendar.is_some() {
        return calendar_shifts(rota, from, to);
    }
    let Some((mut start, mut week)) = handoff_at_or_before(rota, from) else {
        return vec![Shift {
            start: from,
            end: to,
            user: rota.fallback.clone(),
            source: Source::Fallback,
        }];
    };
    let mut out = Vec::new();
    while start < to && out.len() < 1000 {
        let next_day = jiff::Timestamp::from_second(start)
            .ok()
            .map(|ts| ts.to_zoned_datetime(rota.time_zone.clone()).date())
            .and_then(|d| d.checked_add(jiff::Span::new().days(WEEK)).ok());
        let end = next_day.and_then(|d| handoff_time(rota, d)).unwrap_or(to);
        let (user, source) = match user_for_week(rota, week) {
            Some(u) => (u.to_string(), Source::Rotation),
            None => (rota.fallback.clone(), Source::Fallback),
        };
        out.push(Shift {
            start: start.max(from),
            end: end.min(to),
            user,
            source,
        });
        if end <= start {
            break;
        }
        start = end;
        week += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::{Time, Weekday};
    use jiff::tz::TimeZone;

    fn rota(users: &[&str], zone: &str) -> Rota {
        Rota {
            name: "ops".into(),
            users: users.iter().map(|u| u.to_string()).collect(),
            handoff_day: Weekday::Monday,
            handoff_time: Time::constant(9, 0, 0, 0),
            time_zone: TimeZone::get(zone).unwrap(),
            fallback: "duty".into(),
            calendar: None,
            overrides: Vec::new(),
            from_calendar: None,
        }
    }

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    #[test]
    fn a_weekly_rotation_hands_off_at_its_time_in_its_zone() {
        let r = rota(&["alice", "bob", "carol"], "Europe/London");
        // Monday 2026-11-23 09:00 London (UTC+0 in winter) is a handoff.
        let before = on_duty(&r, at("2026-11-23T08:59:59Z"));
        let after = on_duty(&r, at("2026-11-23T09:00:00Z"));
        assert_ne!(before.0, after.0);
        assert_eq!(after.1, Source::Rotation);
        // A week later, the next person; three weeks later, the same one again.
        let next = on_duty(&r, at("2026-11-30T09:00:00Z")).0;
        assert_ne!(next, after.0);
        assert_eq!(on_duty(&r, at("2026-12-14T09:00:00Z")).0, after.0);
        // In summer London is UTC+1: the handoff is at 08:00 UTC.
        let june_before = on_duty(&r, at("2026-06-01T07:59:00Z")).0;
        let june_after = on_duty(&r, at("2026-06-01T08:00:00Z")).0;
        assert_ne!(june_before, june_after);
    }

    #[test]
    fn the_newest_override_in_force_wins() {
        let mut r = rota(&["alice", "bob"], "UTC");
        let t = at("2026-11-25T12:00:00Z");
        let o = |user: &str, start: i64, until: i64| crate::config::Override {
            user: user.into(),
            start,
            until,
            by: None,
        };
        r.overrides = vec![o("carol", t - 3600, t + 3600), o("dave", t - 60, t + 60)];
        assert_eq!(on_duty(&r, t), ("dave".to_string(), Source::Override));
        assert_eq!(
            on_duty(&r, t + 600),
            ("carol".to_string(), Source::Override)
        );
        assert_eq!(
            on_duty(&r, t + 3600).1,
            Source::Rotation,
            "ended: the rotation again"
        );
    }

    #[test]
    fn an_empty_rota_falls_back_and_never_yields_nobody() {
        let r = rota(&[], "UTC");
        assert_eq!(
            on_duty(&r, at("2026-11-25T12:00:00Z")),
            ("duty".to_string(), Source::Fallback)
        );
        let week = shifts(&r, at("2026-11-25T12:00:00Z"), at("2026-12-02T12:00:00Z"));
        assert!(
            week.iter()
                .all(|s| s.user == "duty" && s.source == Source::Fallback)
        );
    }

    #[test]
    fn shifts_cover_the_range_without_gaps() {
        let r = rota(&["alice", "bob"], "America/New_York");
        let (from, to) = (at("2026-11-25T12:00:00Z"), at("2026-12-09T12:00:00Z"));
        let week = shifts(&r, from, to);
        assert_eq!(week.first().map(|s| s.start), Some(from));
        assert_eq!(week.last().map(|s| s.end), Some(to));
        for pair in week.windows(2) {
            assert_eq!(pair[0].end, pair[1].start);
            assert_ne!(pair[0].user, pair[1].user);
        }
        // Each shift's user is who on_duty names at its start.
        for s in &week {
            assert_eq!(on_duty(&r, s.start).0, s.user);
        }
        assert_eq!(week.len(), 3, "{week:?}");
    }
}

#[cfg(test)]
mod calendar_tests {
    use super::*;
    use crate::config::{CalendarLocation, CalendarRead, CalendarShifts, CalendarSource};
    use crate::core::ical::Occurrence;

    fn rota(occurrences: &[(i64, i64, &str)], cached: bool) -> Rota {
        Rota {
            name: "ops".into(),
            users: Vec::new(),
            handoff_day: jiff::civil::Weekday::Monday,
            handoff_time: jiff::civil::Time::midnight(),
            time_zone: jiff::tz::TimeZone::UTC,
            fallback: "duty".into(),
            calendar: Some(CalendarSource {
                location: CalendarLocation::File("ops.ics".into()),
                timeout: std::time::Duration::from_secs(10),
                refresh: std::time::Duration::from_secs(600),
                ca_pem: None,
            }),
            overrides: Vec::new(),
            from_calendar: Some(CalendarRead::ready(CalendarShifts {
                occurrences: occurrences
                    .iter()
                    .map(|(start, end, user)| Occurrence {
                        start: *start,
                        end: *end,
                        user: user.to_string(),
                    })
                    .collect(),
                cached,
                ..CalendarShifts::default()
            })),
        }
    }

    #[test]
    fn the_occurrence_that_began_last_wins_and_gaps_fall_back() {
        let r = rota(
            &[(0, 100, "alice"), (40, 60, "bob"), (150, 200, "carol")],
            false,
        );
        let who = |t| on_duty(&r, t);
        assert_eq!(who(10), ("alice".into(), Source::Calendar));
        assert_eq!(who(50), ("bob".into(), Source::Calendar));
        assert_eq!(who(60), ("alice".into(), Source::Calendar));
        assert_eq!(who(120), ("duty".into(), Source::Fallback));
        assert_eq!(who(150), ("carol".into(), Source::Calendar));
        let got: Vec<(i64, i64, String)> = shifts(&r, 10, 180)
            .into_iter()
            .map(|s| (s.start, s.end, s.user))
            .collect();
        let want = [
            (10, 40, "alice"),
            (40, 60, "bob"),
            (60, 100, "alice"),
            (100, 150, "duty"),
            (150, 180, "carol"),
        ];
        assert_eq!(got, want.map(|(a, b, u)| (a, b, u.to_string())).to_vec());
    }

    #[test]
    fn a_cached_copy_says_so_and_an_unread_calendar_falls_back() {
        let mut r = rota(&[(0, 100, "alice")], true);
        assert_eq!(on_duty(&r, 5), ("alice".into(), Source::Cache));
        r.from_calendar = None;
        assert_eq!(on_duty(&r, 5), ("duty".into(), Source::Fallback));
    }
}
