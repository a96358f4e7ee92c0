//! A rota's calendar: the events of an iCalendar text (RFC 5545) expanded into who is on
//! duty when. The `ical` crate reads the text (folded lines, parameters, components); this
//! module gives the properties their meaning: times in their zones, recurrences, exception
//! dates and moved instances. Pure: a text, the users, a zone and a window.
//!
//! An event names a user by its summary: the user's key under `users:` or their `name:`,
//! in any case (Unicode's, so `ÉLODIE` is `élodie`), the whole summary or one of its parts
//! between " - " (PagerDuty's feed says `On Call - Alice Smith - Primary`). When the
//! summary names nobody, an attendee whose address (`mailto:` or bare, as PagerDuty writes
//! it) is a user's `email` does. An event that names nobody is someone's meeting: skipped.

use std::collections::{BTreeMap, HashSet};

use jiff::civil::{Date, DateTime, Weekday};
use jiff::tz::TimeZone;
use jiff::{Span, Unit};

use crate::config::User;

/// At most this many events in a calendar, and this many occurrences in the window.
pub const MAX_EVENTS: usize = 10_000;
pub const MAX_OCCURRENCES: usize = 50_000;
/// A recurrence is followed at most this many steps from its start (a daily rule for 270
/// years), so no rule can keep the expansion going for long.
const MAX_STEPS: usize = 100_000;

/// One stretch on duty from the calendar, `[start, end)` in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Occurrence {
    pub start: i64,
    pub end: i64,
    pub user: String,
}

/// What a calendar yields in a window: the occurrences by start (a later-starting one
/// covers an earlier one where they overlap), and what it could not use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub occurrences: Vec<Occurrence>,
    pub warnings: Vec<String>,
}

/// A time as an event gives it: a wall-clock time in a zone, or a whole day.
#[derive(Debug, Clone)]
struct Moment {
    civil: DateTime,
    zone: TimeZone,
    date_only: bool,
}

impl Moment {
    fn at(&self, civil: DateTime) -> Option<i64> {
        Some(
            civil
                .to_zoned_datetime(self.zone.clone())
                .ok()?
                .timestamp()
                .as_second(),
        )
    }

    fn second(&self) -> Option<i64> {
        self.at(self.civil)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Freq {
    Daily,
    Weekly,
    Monthly,
    Yearly,
}

#[derive(Debug, Clone)]
struct Rule {
    freq: Freq,
    interval: i64,
    count: Option<usize>,
    until: Option<Moment>,
    by_day: Vec<Weekday>,
    week_start: Weekday,
}

struct Event {
    uid: String,
    summary: String,
    user: Option<String>,
    start: Moment,
    /// How long each occurrence lasts, as days (nominal) and time (exact).
    length: Span,
    rule: Option<Rule>,
    extra: Vec<Moment>,
    except: Vec<Moment>,
    moved_from: Option<Moment>,
}

/// The occurrences in `[from, to)` of the calendar `text`, or why it cannot be used. Times
/// without a zone are in `zone` (or the calendar's `X-WR-TIMEZONE`).
pub fn expand(
    text: &str,
    users: &BTreeMap<String, User>,
    zone: &TimeZone,
    from: i64,
    to: i64,
) -> Result<Expanded, String> {
    let mut calendars = ical::IcalParser::new(text.as_bytes());
    let calendar = match calendars.next() {
        Some(Ok(c)) => c,
        Some(Err(e)) => return Err(format!("not an iCalendar: {e}")),
        None => return Err("not an iCalendar: no BEGIN:VCALENDAR".into()),
    };
    if calendar.events.len() > MAX_EVENTS {
        return Err(format!("more than {MAX_EVENTS} events"));
    }
    let zone = calendar
        .properties
        .iter()
        .find(|p| p.name == "X-WR-TIMEZONE")
        .and_then(|p| p.value.as_deref())
        .and_then(|name| TimeZone::get(name.trim()).ok())
        .unwrap_or_else(|| zone.clone());
    let mut out = Expanded::default();
    let mut events = Vec::new();
    let mut meetings = 0;
    for raw in &calendar.events {
        match event(raw, users, &zone) {
            Ok(Some(e)) => events.push(e),
            Ok(None) => {}
            // One event cabot cannot use costs only its own shifts, and a word about
            // them; one that names nobody costs nothing.
            Err(Unusable::Named(why)) => out.warnings.push(why),
            Err(Unusable::Nameless) => meetings += 1,
        }
    }
    // A moved instance (RECURRENCE-ID) takes the place of the one its series had then.
    let moved: HashSet<(String, i64)> = events
        .iter()
        .filter_map(|e| Some((e.uid.clone(), e.moved_from.as_ref()?.second()?)))
        .collect();
    // Meetings may share the calendar: only a calendar where no event names anyone is
    // worth a word, and then one.
    if let Some(first) = events.first()
        && out.warnings.is_empty()
        && events.iter().all(|e| e.user.is_none())
    {
        out.warnings.push(format!(
            "none of its {} events names a user (the first: '{}' of {}): an event names one \
             by its summary (a user's key or `name:`, alone or as in 'On Call - NAME - \
             Primary') or by an attendee's email address",
            events.len() + meetings,
            first.summary,
            first.start.civil.date()
        ));
    }
    for e in &events {
        let Some(user) = &e.user else {
            continue;
        };
        let except = Exceptions::of(e);
        let starts = match starts(e, to) {
            Ok(starts) => starts,
            Err(why) => {
                out.warnings.push(left_out(&e.summary, &why));
                continue;
            }
        };
        for start in starts {
            let Some(begin) = e.start.at(start) else {
                continue;
            };
            if e.moved_from.is_none() && moved.contains(&(e.uid.clone(), begin)) {
                continue;
            }
            if except.remove(start, begin) {
                continue;
            }
            let Some(end) = start
                .to_zoned_datetime(e.start.zone.clone())
                .ok()
                .and_then(|z| z.checked_add(e.length).ok())
                .map(|z| z.timestamp().as_second())
            else {
                continue;
            };
            if end <= from || begin >= to || end <= begin {
                continue;
            }
            if out.occurrences.len() >= MAX_OCCURRENCES {
                return Err(format!(
                    "more than {MAX_OCCURRENCES} occurrences in the weeks around now"
                ));
            }
            out.occurrences.push(Occurrence {
                start: begin,
                end,
                user: user.clone(),
            });
        }
    }
    out.occurrences.sort_by_key(|o| o.start);
    Ok(out)
}

/// An event's exception dates, looked up in constant time: a calendar may list a great
/// many (one edit per cancelled day), and each occurrence is looked up once.
struct Exceptions {
    days: HashSet<Date>,
    times: HashSet<i64>,
}

impl Exceptions {
    fn of(e: &Event) -> Exceptions {
        let mut out = Exceptions {
            days: HashSet::new(),
            times: HashSet::new(),
        };
        for x in &e.except {
            if x.date_only {
                out.days.insert(x.civil.date());
            } else if let Some(t) = x.second() {
                out.times.insert(t);
            }
        }
        out
    }

    /// Whether an exception removes the occurrence starting at `start` (`begin`).
    fn remove(&self, start: DateTime, begin: i64) -> bool {
        self.days.contains(&start.date()) || self.times.contains(&begin)
    }
}

fn property<'e>(raw: &'e ical::parser::ical::component::IcalEvent, name: &str) -> Option<&'e str> {
    raw.properties
        .iter()
        .find(|p| p.name == name)
        .and_then(|p| p.value.as_deref())
}

fn param<'p>(p: &'p ical::property::Property, name: &str) -> Option<&'p str> {
    p.params
        .as_ref()?
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .and_then(|(_, v)| v.first())
        .map(String::as_str)
}

/// An event as cabot uses it; `None` for one that is cancelled.
/// Why an event is not used.
#[derive(Debug)]
enum Unusable {
    /// It names a user: this says why their shift is left out.
    Named(String),
    /// It names nobody: someone's meeting, none of the rota's business.
    Nameless,
}

/// The warning for an event left out.
fn left_out(summary: &str, why: &str) -> String {
    format!("the event '{summary}' is left out: {why}; the rest of the calendar is used")
}

fn event(
    raw: &ical::parser::ical::component::IcalEvent,
    users: &BTreeMap<String, User>,
    zone: &TimeZone,
) -> Result<Option<Event>, Unusable> {
    if property(raw, "STATUS").is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED")) {
        return Ok(None);
    }
    let summary = unescape(property(raw, "SUMMARY").unwrap_or(""));
    let user = user_named(raw, &summary, users);
    let named = user.is_some();
    match read_event(raw, zone, &summary, user) {
        Ok(e) => Ok(e),
        Err(_) if !named => Err(Unusable::Nameless),
        Err(why) => Err(Unusable::Named(left_out(&summary, &why))),
    }
}

/// The event's times and rules, or why they cannot be used.
fn read_event(
    raw: &ical::parser::ical::component::IcalEvent,
    zone: &TimeZone,
    summary: &str,
    user: Option<String>,
) -> Result<Option<Event>, String> {
    let summary = summary.to_string();
    let uid = property(raw, "UID").unwrap_or("").to_string();
    let moment_of = |name: &str| -> Result<Option<Moment>, String> {
        match raw.properties.iter().find(|p| p.name == name) {
            None => Ok(None),
            Some(p) => moment(p, p.value.as_deref().unwrap_or(""), zone)
                .map(Some)
                .map_err(|why| format!("{name}: {why}")),
        }
    };
    let start = moment_of("DTSTART")?.ok_or_else(|| "it has no DTSTART".to_string())?;
    let length = match (moment_of("DTEND")?, property(raw, "DURATION")) {
        (Some(end), _) => span_between(&start, &end)?,
        (None, Some(d)) => d
            .trim()
            .parse::<Span>()
            .ok()
            .filter(|s| s.is_positive())
            .ok_or_else(|| format!("DURATION: '{d}' is not a duration like P7D"))?,
        (None, None) if start.date_only => Span::new().days(1),
        // RFC 5545 3.6.1: without DTEND or DURATION an event ends when it starts.
        (None, None) => return Err(LASTS_NO_TIME.into()),
    };
    let rule = match property(raw, "RRULE") {
        Some(text) => Some(rule(text, &start).map_err(|why| format!("RRULE: {why}"))?),
        None => None,
    };
    let mut extra = Vec::new();
    let mut except = Vec::new();
    for p in &raw.properties {
        let into = match p.name.as_str() {
            "RDATE" => &mut extra,
            "EXDATE" => &mut except,
            _ => continue,
        };
        for value in p.value.as_deref().unwrap_or("").split(',') {
            into.push(moment(p, value, zone).map_err(|why| format!("{}: {why}", p.name))?);
        }
    }
    let moved_from = moment_of("RECURRENCE-ID")?;
    Ok(Some(Event {
        uid,
        summary,
        user,
        start,
        length,
        rule,
        extra,
        except,
        moved_from,
    }))
}

/// The user an event names: by its summary, else by an attendee's email address.
fn user_named(
    raw: &ical::parser::ical::component::IcalEvent,
    summary: &str,
    users: &BTreeMap<String, User>,
) -> Option<String> {
    let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
    let called = |text: &str| {
        users
            .iter()
            .find(|(key, user)| {
                same(key, text) || user.name.as_deref().is_some_and(|n| same(n, text))
            })
            .map(|(key, _)| key.clone())
    };
    if let Some(key) = called(summary) {
        return Some(key);
    }
    if let Some(key) = summary.split(" - ").find_map(called) {
        return Some(key);
    }
    raw.properties
        .iter()
        .filter(|p| p.name == "ATTENDEE")
        .filter_map(|p| p.value.as_deref())
        .map(|v| {
            let v = v.trim();
            match v.get(..7) {
                Some(scheme) if scheme.eq_ignore_ascii_case("mailto:") => &v[7..],
                _ => v,
            }
        })
        .filter(|address| address.contains('@'))
        .find_map(|address| {
            users
                .iter()
                .find(|(_, u)| u.contact("email").is_some_and(|e| same(e, address)))
                .map(|(key, _)| key.clone())
        })
}

/// RFC 5545 text escapes: `\,` `\;` `\\` `\n`.
fn unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n' | 'N') => out.push(' '),
            Some(other) => out.push(other),
            None => {}
        }
    }
    crate::text::one_line(&out, 200)
}

/// A DATE or DATE-TIME value: UTC with `Z`, in its `TZID` zone, else in `zone`.
fn moment(p: &ical::property::Property, value: &str, zone: &TimeZone) -> Result<Moment, String> {
    let value = value.trim();
    let date_only = param(p, "VALUE").is_some_and(|v| v.eq_ignore_ascii_case("DATE"))
        || (value.len() == 8 && value.bytes().all(|b| b.is_ascii_digit()));
    if date_only {
        let date = Date::strptime("%Y%m%d", value)
            .map_err(|_| format!("'{value}' is not a date like 20261130"))?;
        return Ok(Moment {
            civil: date.to_datetime(jiff::civil::Time::midnight()),
            zone: zone.clone(),
            date_only: true,
        });
    }
    let (text, utc) = match value.strip_suffix(['Z', 'z']) {
        Some(t) => (t, true),
        None => (value, false),
    };
    let civil = DateTime::strptime("%Y%m%dT%H%M%S", text)
        .map_err(|_| format!("'{value}' is not a time like 20261130T090000Z"))?;
    let zone = if utc {
        TimeZone::UTC
    } else if let Some(tzid) = param(p, "TZID") {
        let name = tzid.trim().trim_matches('"');
        // IANA names, with the prefixes some programs put before them; then the Windows
        // names Outlook and Exchange write.
        TimeZone::get(name)
            .or_else(|_| TimeZone::get(name.trim_start_matches('/')))
            .or_else(|e| super::windows_zones::iana(name).map_or(Err(e), TimeZone::get))
            .map_err(|_| {
                format!(
                    "unknown time zone '{name}' (cabot knows IANA names like Europe/London and Windows names like W. Europe Standard Time)"
                )
            })?
    } else {
        zone.clone()
    };
    Ok(Moment {
        civil,
        zone,
        date_only: false,
    })
}

/// How long from `start` to `end`: whole days on the calendar and exact time, so a shift
/// from Monday 09:00 to the next Monday 09:00 ends at 09:00 across a change of clocks.
/// Why an event that ends when it starts puts nobody on duty.
const LASTS_NO_TIME: &str = "it lasts no time (it ends when it starts), so it puts nobody on duty";

fn span_between(start: &Moment, end: &Moment) -> Result<Span, String> {
    let span = if start.zone == end.zone {
        end.civil
            .since((Unit::Day, start.civil))
            .map_err(|e| e.to_string())?
    } else {
        let (Some(a), Some(b)) = (start.second(), end.second()) else {
            return Err("its times are out of range".into());
        };
        Span::new()
            .try_seconds(b - a)
            .map_err(|_| "it lasts too long".to_string())?
    };
    if span.is_positive() {
        Ok(span)
    } else if span.is_zero() {
        Err(LASTS_NO_TIME.into())
    } else {
        Err("it ends before it starts".into())
    }
}

const RULE_PARTS: &str = "FREQ, INTERVAL, COUNT, UNTIL, BYDAY and WKST";

fn weekday(text: &str) -> Option<Weekday> {
    Some(match text {
        "MO" => Weekday::Monday,
        "TU" => Weekday::Tuesday,
        "WE" => Weekday::Wednesday,
        "TH" => Weekday::Thursday,
        "FR" => Weekday::Friday,
        "SA" => Weekday::Saturday,
        "SU" => Weekday::Sunday,
        _ => return None,
    })
}

fn rule(text: &str, start: &Moment) -> Result<Rule, String> {
    let mut freq = None;
    let mut r = Rule {
        freq: Freq::Daily,
        interval: 1,
        count: None,
        until: None,
        by_day: Vec::new(),
        week_start: Weekday::Monday,
    };
    for part in text.trim().split(';').filter(|p| !p.is_empty()) {
        let (key, value) = part
            .split_once('=')
            .ok_or_else(|| format!("'{part}' is not NAME=VALUE"))?;
        let value = value.trim();
        match key.trim().to_ascii_uppercase().as_str() {
            "FREQ" => {
                freq = Some(match value.to_ascii_uppercase().as_str() {
                    "DAILY" => Freq::Daily,
                    "WEEKLY" => Freq::Weekly,
                    "MONTHLY" => Freq::Monthly,
                    "YEARLY" => Freq::Yearly,
                    other => {
                        return Err(format!(
                            "FREQ={other} is not supported (DAILY, WEEKLY, MONTHLY, YEARLY)"
                        ));
                    }
                })
            }
            "INTERVAL" => {
                r.interval = value
                    .parse::<i64>()
                    .ok()
                    .filter(|n| (1..=1000).contains(n))
                    .ok_or_else(|| format!("INTERVAL={value} is not 1 to 1000"))?;
            }
            "COUNT" => {
                r.count = Some(
                    value
                        .parse::<usize>()
                        .ok()
                        .filter(|n| *n >= 1)
                        .ok_or_else(|| format!("COUNT={value} is not a count"))?,
                );
            }
            "UNTIL" => {
                let p = ical::property::Property::default();
                let mut until = moment(&p, value, &start.zone)?;
                if until.date_only {
                    // Inclusive: the whole of that day.
                    until.civil = until
                        .civil
                        .date()
                        .to_datetime(jiff::civil::Time::constant(23, 59, 59, 0));
                }
                r.until = Some(until);
            }
            "BYDAY" => {
                for day in value.split(',') {
                    let day = day.trim().to_ascii_uppercase();
                    r.by_day.push(weekday(&day).ok_or_else(|| {
                        format!("BYDAY={day} is not supported (plain days like MO,WE)")
                    })?);
                }
            }
            "WKST" => {
                r.week_start = weekday(&value.to_ascii_uppercase())
                    .ok_or_else(|| format!("WKST={value} is not a day like MO"))?;
            }
            other => {
                return Err(format!(
                    "{other} is not supported (cabot expands {RULE_PARTS})"
                ));
            }
        }
    }
    r.freq = freq.ok_or("it has no FREQ")?;
    if !r.by_day.is_empty() && matches!(r.freq, Freq::Monthly | Freq::Yearly) {
        let freq = if r.freq == Freq::Monthly {
            "MONTHLY"
        } else {
            "YEARLY"
        };
        return Err(format!(
            "BYDAY with FREQ={freq} is not supported (only with DAILY or WEEKLY)"
        ));
    }
    Ok(r)
}

/// The wall-clock starts of an event's occurrences, from its start until one at or past
/// `to` (Unix seconds), its COUNT or its UNTIL, plus its RDATEs.
fn starts(e: &Event, to: i64) -> Result<Vec<DateTime>, String> {
    let mut out: Vec<DateTime> = e.extra.iter().map(|m| m.civil).collect();
    let Some(rule) = &e.rule else {
        out.push(e.start.civil);
        return Ok(out);
    };
    let first = e.start.civil;
    let until = rule.until.as_ref().and_then(Moment::second);
    let mut count = 0usize;
    let mut emit = |civil: DateTime, out: &mut Vec<DateTime>| -> bool {
        let Some(at) = e.start.at(civil) else {
            return false;
        };
        if at >= to || until.is_some_and(|u| at > u) || rule.count.is_some_and(|c| count >= c) {
            return false;
        }
        count += 1;
        out.push(civil);
        true
    };
    let time = first.time();
    let date = first.date();
    for step in 0..MAX_STEPS as i64 {
        let n = step * rule.interval;
        let keep_going = match rule.freq {
            Freq::Daily => match date.checked_add(Span::new().days(n)) {
                Ok(d) if rule.by_day.is_empty() || rule.by_day.contains(&d.weekday()) => {
                    emit(d.to_datetime(time), &mut out)
                }
                Ok(d) => e.start.at(d.to_datetime(time)).is_some_and(|at| at < to),
                Err(_) => false,
            },
            Freq::Weekly if rule.by_day.is_empty() => {
                match date.checked_add(Span::new().weeks(n)) {
                    Ok(d) => emit(d.to_datetime(time), &mut out),
                    Err(_) => false,
                }
            }
            Freq::Weekly => {
                let back = i64::from(date.weekday().since(rule.week_start));
                let Ok(week) = date.checked_add(Span::new().days(7 * n - back)) else {
                    break;
                };
                let mut days: Vec<i64> = rule
                    .by_day
                    .iter()
                    .map(|d| i64::from(d.since(rule.week_start)))
                    .collect();
                days.sort_unstable();
                days.dedup();
                let mut go = true;
                for offset in days {
                    let Ok(d) = week.checked_add(Span::new().days(offset)) else {
                        go = false;
                        break;
                    };
                    let civil = d.to_datetime(time);
                    if civil < first {
                        continue;
                    }
                    if !emit(civil, &mut out) {
                        go = false;
                        break;
                    }
                }
                go
            }
            Freq::Monthly | Freq::Yearly => {
                let months = if rule.freq == Freq::Monthly {
                    n
                } else {
                    12 * n
                };
                let total = i64::from(date.year()) * 12 + i64::from(date.month() - 1) + months;
                let (year, month) = (total.div_euclid(12), total.rem_euclid(12) + 1);
                if year > 9999 {
                    break;
                }
                // A month without that day (the 31st, 29 February) has no occurrence.
                match Date::new(year as i16, month as i8, date.day()) {
                    Ok(d) => emit(d.to_datetime(time), &mut out),
                    Err(_) => true,
                }
            }
        };
        if !keep_going {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn users() -> BTreeMap<String, User> {
        let mut out = BTreeMap::new();
        for (name, email) in [("alice", "alice@example.com"), ("bob", "bob@example.com")] {
            let mut contacts = BTreeMap::new();
            contacts.insert("email".to_string(), email.to_string());
            out.insert(
                name.to_string(),
                User {
                    contacts,
                    ..User::default()
                },
            );
        }
        out
    }

    fn at(text: &str) -> i64 {
        text.parse::<jiff::Timestamp>().unwrap().as_second()
    }

    fn calendar(events: &str) -> String {
        format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n{events}END:VCALENDAR\r\n")
    }

    fn expand_utc(text: &str, from: &str, to: &str) -> Result<Expanded, String> {
        expand(text, &users(), &TimeZone::UTC, at(from), at(to))
    }

    /// Each occurrence's start and who is on duty for it.
    fn who_when(got: &Expanded) -> Vec<(i64, &str)> {
        got.occurrences
            .iter()
            .map(|o| (o.start, o.user.as_str()))
            .collect()
    }

    #[test]
    fn a_weekly_rule_in_a_zone_with_summer_time_keeps_its_wall_clock() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:1\r\nSUMMARY:Alice\r\n\
             DTSTART;TZID=Europe/Berlin:20261019T090000\r\n\
             DTEND;TZID=Europe/Berlin:20261026T090000\r\n\
             RRULE:FREQ=WEEKLY;INTERVAL=2\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-10-01T00:00:00Z", "2026-11-20T00:00:00Z").unwrap();
        let starts: Vec<i64> = got.occurrences.iter().map(|o| o.start).collect();
        // 09:00 in Berlin is 07:00 UTC in summer time and 08:00 after 25 October.
        assert_eq!(
            starts,
            vec![
                at("2026-10-19T07:00:00Z"),
                at("2026-11-02T08:00:00Z"),
                at("2026-11-16T08:00:00Z")
            ]
        );
        assert_eq!(got.occurrences[0].end, at("2026-10-26T08:00:00Z"));
        assert!(got.occurrences.iter().all(|o| o.user == "alice"));
    }

    #[test]
    fn an_exception_date_and_a_moved_instance_replace_their_occurrences() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:s\r\nSUMMARY:bob\r\nDTSTART:20261102T090000Z\r\n\
             DURATION:PT8H\r\nRRULE:FREQ=DAILY;COUNT=5\r\nEXDATE:20261103T090000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:s\r\nSUMMARY:alice\r\nRECURRENCE-ID:20261104T090000Z\r\n\
             DTSTART:20261104T100000Z\r\nDTEND:20261104T120000Z\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z").unwrap();
        let seen = who_when(&got);
        assert_eq!(
            seen,
            vec![
                (at("2026-11-02T09:00:00Z"), "bob"),
                (at("2026-11-04T10:00:00Z"), "alice"),
                (at("2026-11-05T09:00:00Z"), "bob"),
                (at("2026-11-06T09:00:00Z"), "bob"),
            ]
        );
    }

    #[test]
    fn weekly_by_day_until_and_all_day_events() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:w\r\nSUMMARY:alice\r\nDTSTART;VALUE=DATE:20261102\r\n\
             RRULE:FREQ=WEEKLY;BYDAY=MO,FR;UNTIL=20261113\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-12-31T00:00:00Z").unwrap();
        let starts: Vec<(i64, i64)> = got.occurrences.iter().map(|o| (o.start, o.end)).collect();
        assert_eq!(
            starts,
            vec![
                (at("2026-11-02T00:00:00Z"), at("2026-11-03T00:00:00Z")),
                (at("2026-11-06T00:00:00Z"), at("2026-11-07T00:00:00Z")),
                (at("2026-11-09T00:00:00Z"), at("2026-11-10T00:00:00Z")),
                (at("2026-11-13T00:00:00Z"), at("2026-11-14T00:00:00Z")),
            ]
        );
    }

    #[test]
    fn an_attendee_names_the_user_when_the_summary_does_not() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:a\r\nSUMMARY:On call\r\nDTSTART:20261102T090000Z\r\n\
             DTEND:20261109T090000Z\r\nATTENDEE;CN=Bob:mailto:BOB@example.com\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Team offsite\r\nDTSTART:20261110T090000Z\r\n\
             DTEND:20261111T090000Z\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z").unwrap();
        assert_eq!(got.occurrences.len(), 1);
        assert_eq!(got.occurrences[0].user, "bob");
        // The offsite is a meeting in a calendar that does name people: not worth a word.
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        // Where no event names anyone, one warning says so, and how an event names one.
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:Team offsite\r\nDTSTART:20261110T090000Z\r\n\
             DTEND:20261111T090000Z\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:c\r\nSUMMARY:Lunch\r\n\
             DTSTART:20261112T120000Z\r\nDTEND:20261112T130000Z\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-11-30T00:00:00Z").unwrap();
        assert_eq!(
            got.warnings,
            [
                "none of its 2 events names a user (the first: 'Team offsite' of 2026-11-10): an \
              event names one by its summary (a user's key or `name:`, alone or as in 'On Call - \
              NAME - Primary') or by an attendee's email address"
            ]
        );
    }

    /// PagerDuty's on-call feed as it publishes it: the person's name inside the summary,
    /// and a bare address as the attendee.
    #[test]
    fn pagerduty_s_feed_names_the_user_by_name_or_bare_address_in_any_case() {
        let mut users = users();
        users.get_mut("alice").unwrap().name = Some("Alice Smith".into());
        let mut elodie = BTreeMap::new();
        elodie.insert("email".to_string(), "elodie@example.com".to_string());
        users.insert(
            "élodie".into(),
            User {
                contacts: elodie,
                ..User::default()
            },
        );
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:p1\r\nSUMMARY:On Call - Alice Smith - Primary\r\n\
             DTSTART:20261102T090000Z\r\nDTEND:20261103T090000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:p2\r\nSUMMARY:On Call - Robert B. - Primary\r\n\
             DTSTART:20261103T090000Z\r\nDTEND:20261104T090000Z\r\n\
             ATTENDEE:Bob@Example.com\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:p3\r\nSUMMARY:ÉLODIE\r\n\
             DTSTART:20261104T090000Z\r\nDTEND:20261105T090000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:p4\r\nSUMMARY:On Call - Nobody Known - Primary\r\n\
             DTSTART:20261105T090000Z\r\nDTEND:20261106T090000Z\r\n\
             ATTENDEE:not-an-address\r\nEND:VEVENT\r\n",
        );
        let zone = TimeZone::get("Europe/London").unwrap();
        let got = expand(
            &text,
            &users,
            &zone,
            at("2026-11-01T00:00:00Z"),
            at("2026-11-30T00:00:00Z"),
        )
        .unwrap();
        let who: Vec<&str> = got.occurrences.iter().map(|o| o.user.as_str()).collect();
        assert_eq!(who, ["alice", "bob", "élodie"]);
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    }

    #[test]
    fn an_event_that_cannot_be_used_is_left_out_with_a_word_and_the_rest_is_used() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:good\r\nSUMMARY:bob\r\nDTSTART:20261102T090000Z\r\n\
             DTEND:20261103T090000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:setpos\r\nSUMMARY:alice\r\nDTSTART:20261104T090000Z\r\n\
             DTEND:20261104T170000Z\r\nRRULE:FREQ=MONTHLY;BYSETPOS=-1;BYDAY=MO\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:mars\r\nSUMMARY:alice\r\n\
             DTSTART;TZID=Mars/Olympus:20261105T090000\r\nDTEND:20261105T170000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:zero\r\nSUMMARY:alice\r\nDTSTART:20261106T090000Z\r\n\
             DTEND:20261106T090000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:back\r\nSUMMARY:alice\r\nDTSTART:20261107T090000Z\r\n\
             DTEND:20261107T080000Z\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:meeting\r\nSUMMARY:Planning\r\nDTSTART:20261108T090000Z\r\n\
             DTEND:20261108T100000Z\r\nRRULE:FREQ=HOURLY\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z").unwrap();
        assert_eq!(who_when(&got), [(at("2026-11-02T09:00:00Z"), "bob")]);
        let left_out = [
            "RRULE: BYSETPOS is not supported (cabot expands FREQ,",
            "DTSTART: unknown time zone 'Mars/Olympus' (cabot knows",
            "it lasts no time (it ends when it starts), so it puts nobody on duty;",
            "it ends before it starts;",
        ];
        assert_eq!(got.warnings.len(), left_out.len(), "{:#?}", got.warnings);
        for (warning, why) in got.warnings.iter().zip(left_out) {
            assert!(
                warning.starts_with(&format!("the event 'alice' is left out: {why}"))
                    && warning.ends_with("; the rest of the calendar is used"),
                "{warning}"
            );
        }
        let err = expand_utc("hello", "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z").unwrap_err();
        assert!(err.starts_with("not an iCalendar"), "{err}");
    }

    #[test]
    fn a_calendar_as_google_exports_it() {
        // A time zone block, an alarm inside the event, a long attendee line folded, a
        // weekly rule with WKST, BYDAY and a UTC UNTIL, and a summary that is not a name.
        let text = "BEGIN:VCALENDAR\r\nPRODID:-//Google Inc//Google Calendar 70.9054//EN\r\n\
VERSION:2.0\r\nCALSCALE:GREGORIAN\r\nMETHOD:PUBLISH\r\nX-WR-CALNAME:On call\r\n\
X-WR-TIMEZONE:Europe/London\r\nBEGIN:VTIMEZONE\r\nTZID:Europe/London\r\n\
X-LIC-LOCATION:Europe/London\r\nBEGIN:DAYLIGHT\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\n\
TZNAME:BST\r\nDTSTART:19700329T010000\r\nRRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
END:DAYLIGHT\r\nBEGIN:STANDARD\r\nTZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nTZNAME:GMT\r\n\
DTSTART:19701025T020000\r\nRRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU\r\nEND:STANDARD\r\n\
END:VTIMEZONE\r\nBEGIN:VEVENT\r\nDTSTART;TZID=Europe/London:20261019T090000\r\n\
DTEND;TZID=Europe/London:20261026T090000\r\n\
RRULE:FREQ=WEEKLY;WKST=MO;UNTIL=20261108T235959Z;BYDAY=MO\r\n\
DTSTAMP:20261120T120000Z\r\nUID:0a1b2c3d4e@google.com\r\n\
ATTENDEE;CUTYPE=INDIVIDUAL;ROLE=REQ-PARTICIPANT;PARTSTAT=ACCEPTED;CN=bob@exa\r\n mple.com;X-NUM-GUESTS=0:mailto:bob@example.com\r\n\
CREATED:20261001T000000Z\r\nDESCRIPTION:\r\nLAST-MODIFIED:20261001T000000Z\r\n\
SEQUENCE:0\r\nSTATUS:CONFIRMED\r\nSUMMARY:On call: Bob\r\nTRANSP:OPAQUE\r\n\
BEGIN:VALARM\r\nACTION:DISPLAY\r\nDESCRIPTION:This is an event reminder\r\n\
TRIGGER:-P0DT0H30M0S\r\nEND:VALARM\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let got = expand_utc(text, "2026-10-01T00:00:00Z", "2026-12-01T00:00:00Z").unwrap();
        let seen = who_when(&got);
        // 09:00 London: BST (08:00 UTC) on 19 October, GMT after 25 October; UNTIL ends it.
        assert_eq!(
            seen,
            vec![
                (at("2026-10-19T08:00:00Z"), "bob"),
                (at("2026-10-26T09:00:00Z"), "bob"),
                (at("2026-11-02T09:00:00Z"), "bob"),
            ]
        );
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
    }

    #[test]
    fn outlook_writes_windows_zone_names() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:o\r\nSUMMARY:alice\r\n\
             DTSTART;TZID=\"W. Europe Standard Time\":20261102T090000\r\n\
             DTEND;TZID=\"W. Europe Standard Time\":20261109T090000\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-12-01T00:00:00Z").unwrap();
        // 09:00 in Berlin in November is 08:00 UTC.
        assert_eq!(got.occurrences[0].start, at("2026-11-02T08:00:00Z"));
        assert_eq!(got.occurrences[0].end, at("2026-11-09T08:00:00Z"));
    }

    #[test]
    fn an_endless_daily_rule_stops_at_the_window() {
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:alice\r\nDTSTART:19700101T000000Z\r\n\
             DURATION:PT1H\r\nRRULE:FREQ=DAILY\r\nEND:VEVENT\r\n",
        );
        let got = expand_utc(&text, "2026-11-01T00:00:00Z", "2026-11-08T00:00:00Z").unwrap();
        assert_eq!(got.occurrences.len(), 7);
        assert_eq!(got.occurrences[0].start, at("2026-11-01T00:00:00Z"));
    }
}
