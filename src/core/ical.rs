//! A rota's calendar: the events of an iCalendar text (RFC 5545) expanded into who is on
//! duty when. The `ical` crate reads the text (folded lines, parameters, components) and
//! the `rrule` crate expands recurrence rules; this module gives the rest its meaning:
//! times in their zones (IANA, Windows, or the calendar's own VTIMEZONE), which copy of an
//! event counts, moved and cancelled instances, and who an event names. Pure: a text, the
//! users, a zone and a window.
//!
//! An event names a user by its summary: the user's key under `users:`, their `name:` or
//! their email address (Opsgenie's usernames are addresses), in any case (Unicode's, so
//! `ÉLODIE` is `élodie`), the whole summary or one of its parts between " - " (PagerDuty's
//! feed says `On Call - Alice Smith - Primary`). When the
//! summary names nobody, an attendee whose address (`mailto:` or bare, as PagerDuty writes
//! it) is a user's `email` does. An event that names nobody is someone's meeting: skipped.
//!
//! The duty rule (the README's "Calendars"): of the copies of one event (one UID), the one
//! with the highest SEQUENCE counts, then the latest DTSTAMP, then the last in the file. An
//! instance given again with a RECURRENCE-ID replaces the series' instance (with
//! RANGE=THISANDFUTURE, that one and all after it); a cancelled one puts nobody on duty.
//! Where occurrences overlap, the one that began last is in force, and at the same start an
//! override (a single event or a moved instance) beats a series' occurrence.
//!
//! Recurrences are expanded in the series' wall-clock time, as RFC 5545 defines them (a
//! weekly 09:00 stays 09:00 across a change of clocks), and each start is then placed in
//! the series' zone by jiff; so `rrule` needs no time zone of its own.

use std::collections::{HashMap, HashSet};
use std::{borrow::Cow, cell::RefCell};

use jiff::civil::{Date, DateTime};
use jiff::tz::TimeZone;
use jiff::{Span, Unit};

use crate::config::User;

/// At most this many events in a calendar, and this many occurrences in the window.
pub const MAX_EVENTS: usize = 10_000;
pub const MAX_OCCURRENCES: usize = 50_000;
/// A series is followed at most this many occurrences from its start (a daily rule for 270
/// years), so no rule can keep the expansion going for long.
const MAX_STEPS: usize = 100_000;
/// And all the series of a calendar together at most this many (about a second), so that
/// a hostile calendar cannot cost minutes.
const MAX_CALENDAR_STEPS: usize = 5_000_000;

/// One stretch on duty from the calendar, `[start, end)` in Unix seconds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Occurrence {
    pub start: i64,
    pub end: i64,
    pub user: String,
}

/// What a calendar yields in a window: the occurrences in the order of the duty rule (by
/// start; where they overlap, a later one covers an earlier one), and what it could not
/// use.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expanded {
    pub occurrences: Vec<Occurrence>,
    pub warnings: Vec<String>,
    /// How many events the calendar holds, used or not.
    pub events: usize,
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

    /// This moment on the wall clock of `zone`; a whole day stays the day it names.
    fn civil_in(&self, zone: &TimeZone) -> Option<DateTime> {
        if self.date_only {
            return Some(self.civil);
        }
        let at = self.civil.to_zoned_datetime(self.zone.clone()).ok()?;
        Some(at.timestamp().to_zoned_datetime(zone.clone()).datetime())
    }
}

/// Which of two things on duty at one start counts: an override beats a series; then the
/// newer copy (SEQUENCE, DTSTAMP), then the later in the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Rank {
    single: bool,
    version: Version,
}

/// (SEQUENCE, DTSTAMP in Unix seconds, position in the file): the greater is the newer.
type Version = (i64, i64, usize);

/// An event as cabot uses it.
struct Event {
    uid: String,
    summary: String,
    user: Option<String>,
    version: Version,
    /// RECURRENCE-ID: the series' instance this one replaces, and whether all after it too.
    replaces: Option<(Moment, bool)>,
    /// `None` for a cancelled event.
    times: Option<Times>,
}

struct Times {
    start: Moment,
    /// How long each occurrence lasts, as days (nominal) and time (exact).
    length: Span,
    /// Its RRULEs, read by `rrule` (a rule that ends before the start is left out).
    rules: Vec<rrule::RRule>,
    /// RDATEs, each with its own length when it is a PERIOD.
    extra: Vec<(Moment, Option<Span>)>,
    except: Vec<Moment>,
}

/// The zones named by TZIDs, looked up once each: the calendar's own VTIMEZONE
/// definitions are used for names that are neither IANA nor Windows names.
struct Zones<'c> {
    defined: &'c [ical::parser::ical::component::IcalTimeZone],
    known: RefCell<HashMap<String, Result<TimeZone, String>>>,
}

impl Zones<'_> {
    fn named(&self, tzid: &str) -> Result<TimeZone, String> {
        let name = tzid.trim().trim_matches('"');
        if let Some(known) = self.known.borrow().get(name) {
            return known.clone();
        }
        let found = self.look_up(name);
        self.known
            .borrow_mut()
            .insert(name.to_string(), found.clone());
        found
    }

    fn look_up(&self, name: &str) -> Result<TimeZone, String> {
        if let Ok(zone) = TimeZone::get(name) {
            return Ok(zone);
        }
        // IANA names with a prefix before them (Evolution's
        // `/freeassociation.sourceforge.net/Europe/London`): the longest known tail.
        if let Some(zone) = name
            .match_indices('/')
            .find_map(|(i, _)| TimeZone::get(&name[i + 1..]).ok())
        {
            return Ok(zone);
        }
        if let Some(zone) = super::windows_zones::iana(name).and_then(|n| TimeZone::get(n).ok()) {
            return Ok(zone);
        }
        let definition = self.defined.iter().find(|d| {
            d.properties.iter().any(|p| {
                p.name == "TZID"
                    && p.value.as_deref().map(|v| unescape_raw(v.trim())) == Some(name.to_string())
            })
        });
        match definition {
            Some(d) => super::vtimezone::zone(d).map_err(|why| {
                format!("the calendar's own time zone '{name}' cannot be used: {why}")
            }),
            None => Err(format!(
                "unknown time zone '{name}' (cabot knows IANA names like Europe/London, Windows \
                 names like W. Europe Standard Time, and zones the calendar defines in a \
                 VTIMEZONE)"
            )),
        }
    }
}

/// The occurrences in `[from, to)` of the calendar `text`, or why it cannot be used. Times
/// without a zone are in `zone` (or the calendar's `X-WR-TIMEZONE`).
pub fn expand(
    text: &str,
    users: &std::collections::BTreeMap<String, User>,
    zone: &TimeZone,
    from: i64,
    to: i64,
) -> Result<Expanded, String> {
    let text = names_in_upper_case(text);
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
    let zones = Zones {
        defined: &calendar.timezones,
        known: RefCell::new(HashMap::new()),
    };
    let mut out = Expanded {
        events: calendar.events.len(),
        ..Expanded::default()
    };
    // The events by UID, in the order each UID first appears.
    let mut series: Vec<Vec<Event>> = Vec::new();
    let mut by_uid: HashMap<String, usize> = HashMap::new();
    let mut meetings = 0;
    for (index, raw) in calendar.events.iter().enumerate() {
        let e = match event(raw, users, &zone, &zones, index) {
            Ok(e) => e,
            // One event cabot cannot use costs only its own shifts, and a word about
            // them; one that names nobody costs nothing.
            Err(Unusable::Named(why)) => {
                out.warnings.push(why);
                continue;
            }
            Err(Unusable::Nameless) => {
                meetings += 1;
                continue;
            }
        };
        // An event without a UID is one of its own.
        let uid = if e.uid.is_empty() {
            format!("\0{index}")
        } else {
            e.uid.clone()
        };
        let slot = *by_uid.entry(uid).or_insert_with(|| {
            series.push(Vec::new());
            series.len() - 1
        });
        series[slot].push(e);
    }
    // Meetings may share the calendar: only a calendar where no event names anyone is
    // worth a word, and then one.
    let all: Vec<&Event> = series.iter().flatten().collect();
    if let Some(first) = all.first()
        && out.warnings.is_empty()
        && all.iter().all(|e| e.user.is_none())
    {
        let day = first
            .times
            .as_ref()
            .map_or(String::new(), |t| format!(" of {}", t.start.civil.date()));
        out.warnings.push(format!(
            "none of its {} events names a user (the first: '{}'{day}): an event names one \
             by its summary (a user's key or `name:`, alone or as in 'On Call - NAME - \
             Primary') or by an attendee's email address",
            all.len() + meetings,
            first.summary,
        ));
    }
    let mut found: Vec<(i64, Rank, Occurrence)> = Vec::new();
    let mut budget = Budget {
        left: MAX_CALENDAR_STEPS,
        exceeded: 0,
    };
    for events in series {
        one_series(
            events,
            (from, to),
            &mut budget,
            &mut found,
            &mut out.warnings,
        );
        if found.len() > MAX_OCCURRENCES {
            return Err(format!(
                "more than {MAX_OCCURRENCES} occurrences in the weeks around now"
            ));
        }
    }
    // One word for all the series the budget left out, not one each.
    if budget.exceeded > 0 {
        out.warnings.push(format!(
            "{} naming a user {} left out: the calendar's rules together repeat more than \
             {MAX_CALENDAR_STEPS} times before the weeks around now, more than cabot follows; \
             the rest of the calendar is used",
            crate::text::count(budget.exceeded, "event"),
            if budget.exceeded == 1 { "is" } else { "are" }
        ));
    }
    found.sort_by_key(|(start, rank, _)| (*start, *rank));
    out.occurrences = found.into_iter().map(|(_, _, o)| o).collect();
    Ok(out)
}

/// How many more steps the calendar's series may take together, and how many series
/// naming a user were left out for want of them.
struct Budget {
    left: usize,
    exceeded: usize,
}

/// The occurrences in `[from, to)` of one event (one UID): its series, with the instances
/// its overrides move or cancel, and the overrides.
fn one_series(
    events: Vec<Event>,
    (from, to): (i64, i64),
    budget: &mut Budget,
    found: &mut Vec<(i64, Rank, Occurrence)>,
    warnings: &mut Vec<String>,
) {
    if events.iter().all(|e| e.user.is_none()) {
        return;
    }
    let (masters, moved): (Vec<Event>, Vec<Event>) =
        events.into_iter().partition(|e| e.replaces.is_none());
    // Of several copies of the series, the newest replaces the others; so does the newest
    // copy of each moved instance.
    let master = masters.into_iter().max_by_key(|e| e.version);
    let mut newest: HashMap<i64, Event> = HashMap::new();
    for e in moved {
        let Some(key) = e.replaces.as_ref().and_then(|(m, _)| m.second()) else {
            continue;
        };
        match newest.get(&key) {
            Some(kept) if kept.version > e.version => {}
            _ => {
                newest.insert(key, e);
            }
        }
    }
    let mut overrides: Vec<Event> = newest.into_values().collect();
    overrides.sort_by_key(|e| e.version);
    let mut push = |start: i64, end: i64, rank: Rank, user: &Option<String>| {
        if let Some(user) = user
            && end > from
            && start < to
            && end > start
        {
            found.push((
                start,
                rank,
                Occurrence {
                    start,
                    end,
                    user: user.clone(),
                },
            ));
        }
    };
    let override_rank = |e: &Event| Rank {
        single: true,
        version: e.version,
    };
    // A cancelled series puts nobody on duty, its moved instances neither.
    if master.as_ref().is_some_and(|m| m.times.is_none()) {
        return;
    }
    for e in &overrides {
        if let Some(t) = &e.times
            && let Some((start, end)) = span_from(&t.start, t.start.civil, t.length)
        {
            push(start, end, override_rank(e), &e.user);
        }
    }
    let Some((master, Some(times))) = master.as_ref().map(|m| (m, m.times.as_ref())) else {
        return;
    };
    if times.rules.is_empty() && times.extra.is_empty() && overrides.is_empty() {
        let rank = Rank {
            single: true,
            version: master.version,
        };
        if let Some((start, end)) = span_from(&times.start, times.start.civil, times.length) {
            push(start, end, rank, &master.user);
        }
        return;
    }
    let starts = match starts(times, from, to, &mut budget.left) {
        Ok(starts) => starts,
        Err(why) => {
            match why {
                _ if master.user.is_none() => {}
                Some(why) => warnings.push(left_out(&master.summary, &why)),
                None => budget.exceeded += 1,
            }
            return;
        }
    };
    let zone = &times.start.zone;
    // The instances the overrides replace: exactly, or by day when the series is of whole
    // days (Exchange moves a week of an all-day series with a time in a Windows zone).
    let exact: HashMap<i64, &Event> = overrides
        .iter()
        .filter_map(|e| Some((replaced(e)?.0.second()?, e)))
        .collect();
    let by_day: HashMap<Date, &Event> = overrides
        .iter()
        .filter_map(|e| Some((replaced(e)?.0.civil.date(), e)))
        .collect();
    let mut from_here_on: Vec<(i64, &Event)> = overrides
        .iter()
        .filter(|e| replaced(e).is_some_and(|(_, future)| future))
        .filter_map(|e| Some((replaced(e)?.0.second()?, e)))
        .collect();
    from_here_on.sort_by_key(|(at, e)| (*at, e.version));
    let series_rank = |version| Rank {
        single: false,
        version,
    };
    for (civil, own_length) in starts {
        let Some(begin) = times.start.at(civil) else {
            continue;
        };
        let moved = exact.get(&begin).or_else(|| {
            times
                .start
                .date_only
                .then(|| by_day.get(&civil.date()))
                .flatten()
        });
        if moved.is_some() {
            continue;
        }
        let length = own_length.unwrap_or(times.length);
        // RANGE=THISANDFUTURE: the latest such override at or before this instance says
        // where it starts, how long it lasts and who is on duty, or that it is cancelled.
        let later = from_here_on.partition_point(|(at, _)| *at <= begin);
        match later.checked_sub(1).map(|i| from_here_on[i].1) {
            None => {
                if let Some((start, end)) = span_from(&times.start, civil, length) {
                    push(start, end, series_rank(master.version), &master.user);
                }
            }
            Some(e) => {
                let Some(t) = &e.times else {
                    continue;
                };
                let Some((rid, _)) = replaced(e) else {
                    continue;
                };
                // Shifted on the wall clock by as much as the override moved its own.
                let shifted = rid
                    .civil_in(zone)
                    .and_then(|rid| t.start.civil_in(zone)?.since((Unit::Day, rid)).ok())
                    .and_then(|shift| civil.checked_add(shift).ok());
                let Some(shifted) = shifted else {
                    continue;
                };
                let moment = Moment {
                    civil: shifted,
                    zone: zone.clone(),
                    date_only: times.start.date_only,
                };
                if let Some((start, end)) = span_from(&moment, shifted, t.length) {
                    push(start, end, series_rank(e.version), &e.user);
                }
            }
        }
    }
}

/// The instance an override replaces, and whether all after it too.
fn replaced(e: &Event) -> Option<(&Moment, bool)> {
    e.replaces.as_ref().map(|(m, future)| (m, *future))
}

/// `[start, end)` in Unix seconds of an occurrence starting at `civil` on the wall clock of
/// `start`'s zone and lasting `length`.
fn span_from(start: &Moment, civil: DateTime, length: Span) -> Option<(i64, i64)> {
    let begin = civil.to_zoned_datetime(start.zone.clone()).ok()?;
    let end = begin.checked_add(length).ok()?;
    Some((begin.timestamp().as_second(), end.timestamp().as_second()))
}

/// RFC 5545 3.1 lets a writer spell property and component names in any case; the `ical`
/// crate matches them as written, so they are put in upper case first. A name ends at the
/// first `;` or `:` of a line that does not continue the one before.
fn names_in_upper_case(text: &str) -> Cow<'_, str> {
    let lower = |line: &str| {
        let name = &line[..line.find([';', ':']).unwrap_or(line.len())];
        name.bytes().any(|b| b.is_ascii_lowercase())
            || (matches!(name, "BEGIN" | "END") && line.bytes().any(|b| b.is_ascii_lowercase()))
    };
    let continued = |line: &str| line.starts_with([' ', '\t']);
    if !text.lines().any(|l| !continued(l) && lower(l)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        if continued(line) {
            out.push_str(line);
            continue;
        }
        let end = line.find([';', ':']).unwrap_or(line.len());
        let name = line[..end].to_ascii_uppercase();
        if matches!(name.as_str(), "BEGIN" | "END") {
            out.push_str(&line.to_ascii_uppercase());
        } else {
            out.push_str(&name);
            out.push_str(&line[end..]);
        }
    }
    Cow::Owned(out)
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
    users: &std::collections::BTreeMap<String, User>,
    zone: &TimeZone,
    zones: &Zones,
    index: usize,
) -> Result<Event, Unusable> {
    let summary = unescape(property(raw, "SUMMARY").unwrap_or(""));
    let user = user_named(raw, &summary, users);
    let named = user.is_some();
    let why = |why: String| {
        if named {
            Unusable::Named(left_out(&summary, &why))
        } else {
            Unusable::Nameless
        }
    };
    let moment_of = |name: &str| -> Result<Option<Moment>, String> {
        match raw.properties.iter().find(|p| p.name == name) {
            None => Ok(None),
            Some(p) => moment(p, p.value.as_deref().unwrap_or(""), zone, zones)
                .map(Some)
                .map_err(|why| format!("{name}: {why}")),
        }
    };
    let replaces = moment_of("RECURRENCE-ID").map_err(why)?.map(|m| {
        let p = raw.properties.iter().find(|p| p.name == "RECURRENCE-ID");
        let future = p
            .and_then(|p| param(p, "RANGE"))
            .is_some_and(|r| r.trim().eq_ignore_ascii_case("THISANDFUTURE"));
        (m, future)
    });
    let sequence = property(raw, "SEQUENCE")
        .and_then(|s| s.trim().parse::<i64>().ok())
        .unwrap_or(0);
    let stamp = moment_of("DTSTAMP")
        .ok()
        .flatten()
        .and_then(|m| m.second())
        .unwrap_or(i64::MIN);
    let cancelled =
        property(raw, "STATUS").is_some_and(|s| s.trim().eq_ignore_ascii_case("CANCELLED"));
    let times = if cancelled {
        None
    } else {
        Some(times(raw, zone, zones).map_err(why)?)
    };
    Ok(Event {
        uid: property(raw, "UID").unwrap_or("").trim().to_string(),
        summary: summary.clone(),
        user,
        version: (sequence, stamp, index),
        replaces,
        times,
    })
}

/// The event's times and rules, or why they cannot be used.
fn times(
    raw: &ical::parser::ical::component::IcalEvent,
    zone: &TimeZone,
    zones: &Zones,
) -> Result<Times, String> {
    let moment_of = |name: &str| -> Result<Option<Moment>, String> {
        match raw.properties.iter().find(|p| p.name == name) {
            None => Ok(None),
            Some(p) => moment(p, p.value.as_deref().unwrap_or(""), zone, zones)
                .map(Some)
                .map_err(|why| format!("{name}: {why}")),
        }
    };
    let start = moment_of("DTSTART")?.ok_or_else(|| "it has no DTSTART".to_string())?;
    let length = match (moment_of("DTEND")?, property(raw, "DURATION")) {
        (Some(end), _) => span_between(&start, &end)?,
        (None, Some(d)) => duration(d).map_err(|why| format!("DURATION: {why}"))?,
        (None, None) if start.date_only => Span::new().days(1),
        // RFC 5545 3.6.1: without DTEND or DURATION an event ends when it starts.
        (None, None) => return Err(LASTS_NO_TIME.into()),
    };
    let mut rules = Vec::new();
    for text in raw
        .properties
        .iter()
        .filter(|p| p.name == "RRULE")
        .filter_map(|p| p.value.as_deref())
    {
        rules.extend(rule(text, &start)?);
    }
    let mut extra = Vec::new();
    let mut except = Vec::new();
    // A date without a zone of its own is on the series' wall clock.
    let zone = &start.zone;
    for p in &raw.properties {
        let is_rdate = match p.name.as_str() {
            "RDATE" => true,
            "EXDATE" => false,
            _ => continue,
        };
        for value in p.value.as_deref().unwrap_or("").split(',') {
            let bad = |why: String| format!("{}: {why}", p.name);
            if !is_rdate {
                except.push(moment(p, value, zone, zones).map_err(bad)?);
                continue;
            }
            // A PERIOD: a start and its end or its duration.
            let (at, own) = match value.split_once('/') {
                Some((at, end)) => {
                    let at = moment(p, at, zone, zones).map_err(bad)?;
                    let own = match end.trim().starts_with(['P', 'p', '+']) {
                        true => duration(end).map_err(bad)?,
                        false => span_between(&at, &moment(p, end, zone, zones).map_err(bad)?)
                            .map_err(bad)?,
                    };
                    (at, Some(own))
                }
                None => (moment(p, value, zone, zones).map_err(bad)?, None),
            };
            extra.push((at, own));
        }
    }
    Ok(Times {
        start,
        length,
        rules,
        extra,
        except,
    })
}

/// An ISO 8601 duration like `P7D` or `PT8H`, longer than nothing.
fn duration(text: &str) -> Result<Span, String> {
    text.trim()
        .trim_start_matches('+')
        .parse::<Span>()
        .ok()
        .filter(|s| s.is_positive())
        .ok_or_else(|| format!("'{}' is not a duration like P7D", text.trim()))
}

/// The user an event names: by its summary, else by an attendee's email address.
fn user_named(
    raw: &ical::parser::ical::component::IcalEvent,
    summary: &str,
    users: &std::collections::BTreeMap<String, User>,
) -> Option<String> {
    let same = |a: &str, b: &str| a.trim().to_lowercase() == b.trim().to_lowercase();
    let called = |text: &str| {
        users
            .iter()
            .find(|(key, user)| {
                same(key, text)
                    || user.name.as_deref().is_some_and(|n| same(n, text))
                    || email(user).is_some_and(|e| same(e, text))
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
                .find(|(_, u)| email(u).is_some_and(|e| same(e, address)))
                .map(|(key, _)| key.clone())
        })
}

/// A user's email address, also from `Name <address>`.
fn email(user: &User) -> Option<&str> {
    user.contact("email")
        .map(|e| match (e.rfind('<'), e.rfind('>')) {
            (Some(a), Some(b)) if a < b => &e[a + 1..b],
            _ => e,
        })
}

/// RFC 5545 text escapes: `\,` `\;` `\\` `\n`.
fn unescape_raw(text: &str) -> String {
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
    out
}

/// A summary as one bounded line of text.
fn unescape(text: &str) -> String {
    crate::text::one_line(&unescape_raw(text), 200)
}

/// A DATE or DATE-TIME value: UTC with `Z`, in its `TZID` zone, else in `zone`.
fn moment(
    p: &ical::property::Property,
    value: &str,
    zone: &TimeZone,
    zones: &Zones,
) -> Result<Moment, String> {
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
        zones.named(tzid)?
    } else {
        zone.clone()
    };
    Ok(Moment {
        civil,
        zone,
        date_only: false,
    })
}

/// Why an event that ends when it starts puts nobody on duty.
const LASTS_NO_TIME: &str = "it lasts no time (it ends when it starts), so it puts nobody on duty";

/// How long from `start` to `end`: whole days on the calendar and exact time, so a shift
/// from Monday 09:00 to the next Monday 09:00 ends at 09:00 across a change of clocks.
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

/// The wall-clock starts of a series' occurrences that may overlap `[from, to)`, each with
/// its own length when an RDATE gave one: its DTSTART, what its rules give (expanded by
/// `rrule`), its RDATEs, less its EXDATEs. An exception or extra date in another zone is
/// taken on the series' wall clock; one without a zone is on it already.
fn starts(
    t: &Times,
    from: i64,
    to: i64,
    budget: &mut usize,
) -> Result<Vec<(DateTime, Option<Span>)>, Option<String>> {
    let zone = &t.start.zone;
    let on_clock = |at: i64| {
        jiff::Timestamp::from_second(at)
            .ok()
            .map(|ts| ts.to_zoned_datetime(zone.clone()).datetime())
    };
    let two_days = Span::new().days(2);
    let horizon = on_clock(to)
        .and_then(|c| c.checked_add(two_days).ok())
        .unwrap_or(DateTime::MAX);
    // An occurrence that starts before this cannot reach `from`.
    let earliest = on_clock(from)
        .and_then(|c| c.checked_sub(t.length).ok())
        .and_then(|c| c.checked_sub(two_days).ok())
        .unwrap_or(DateTime::MIN);
    let mut out: Vec<(DateTime, Option<Span>)> = vec![(t.start.civil, None)];
    for (m, own) in &t.extra {
        if let Some(civil) = m.civil_in(zone) {
            out.push((civil, *own));
        }
    }
    if !t.rules.is_empty() {
        let set = rrule::RRuleSet::new(floating(t.start.civil).map_err(Some)?)
            .limit()
            .set_rrules(t.rules.clone());
        for (step, at) in set.into_iter().enumerate() {
            if step >= MAX_STEPS {
                return Err(Some(format!(
                    "its rule repeats more than {MAX_STEPS} times before the weeks around \
                     now, more than cabot follows"
                )));
            }
            if *budget == 0 {
                return Err(None);
            }
            *budget -= 1;
            let Some(civil) = civil(&at) else {
                break;
            };
            if civil > horizon {
                break;
            }
            if civil >= earliest {
                out.push((civil, None));
            }
        }
    }
    // Exceptions: at an instant (on the series' clock), or a whole day of a timed series.
    let mut times = HashSet::new();
    let mut days = HashSet::new();
    for x in &t.except {
        if x.date_only && !t.start.date_only {
            days.insert(x.civil.date());
        } else if let Some(civil) = x.civil_in(zone) {
            times.insert(civil);
        }
    }
    out.retain(|(c, _)| !times.contains(c) && !days.contains(&c.date()));
    // The same start twice (an RDATE on an instance of the rule) is one occurrence; a
    // PERIOD's own length is kept.
    out.sort_by_key(|(c, own)| (*c, own.is_none()));
    out.dedup_by_key(|(c, _)| *c);
    Ok(out)
}

/// One RRULE for `rrule`: parsed by it, with the UNTIL taken on the series' wall clock (a
/// date UNTIL on a timed series includes that whole day); `None` for a rule that ends
/// before the series starts.
fn rule(text: &str, start: &Moment) -> Result<Option<rrule::RRule>, String> {
    let bad = |e: rrule::RRuleError| {
        let why = match e {
            rrule::RRuleError::ParserError(e) => e.to_string(),
            rrule::RRuleError::ValidationError(e) => e.to_string(),
            other => other.to_string(),
        };
        format!("RRULE: {}", why.trim_end_matches('.'))
    };
    let mut until = None;
    let mut parts = Vec::new();
    for part in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        match part.split_once('=') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("UNTIL") => {
                until = Some(value.trim())
            }
            _ => parts.push(part.to_ascii_uppercase()),
        }
    }
    let mut rule: rrule::RRule<rrule::Unvalidated> = parts.join(";").parse().map_err(bad)?;
    if let Some(until) = until {
        let p = ical::property::Property::default();
        let no_zones = Zones {
            defined: &[],
            known: RefCell::new(HashMap::new()),
        };
        let m = moment(&p, until, &start.zone, &no_zones).map_err(|e| format!("RRULE: {e}"))?;
        let Some(mut civil) = m.civil_in(&start.zone) else {
            return Err(format!("RRULE: UNTIL={until} is out of range"));
        };
        if m.date_only && !start.date_only {
            civil = civil
                .date()
                .to_datetime(jiff::civil::Time::constant(23, 59, 59, 0));
        }
        if civil < start.civil {
            return Ok(None);
        }
        rule = rule.until(floating(civil)?);
    }
    rule.validate(floating(start.civil)?).map(Some).map_err(bad)
}

/// A wall-clock time for `rrule`, which is given no zone: it computes on the wall clock.
fn floating(c: DateTime) -> Result<chrono::DateTime<rrule::Tz>, String> {
    use chrono::TimeZone as _;
    let naive = chrono::NaiveDate::from_ymd_opt(
        i32::from(c.year()),
        c.month().unsigned_abs().into(),
        c.day().unsigned_abs().into(),
    )
    .and_then(|d| {
        d.and_hms_opt(
            c.hour().unsigned_abs().into(),
            c.minute().unsigned_abs().into(),
            c.second().unsigned_abs().into(),
        )
    })
    .ok_or_else(|| format!("{c} is out of range"))?;
    Ok(rrule::Tz::UTC.from_utc_datetime(&naive))
}

/// The wall-clock time `rrule` gave back.
fn civil(at: &chrono::DateTime<rrule::Tz>) -> Option<DateTime> {
    use chrono::{Datelike, Timelike};
    let n = at.naive_utc();
    DateTime::new(
        i16::try_from(n.year()).ok()?,
        n.month() as i8,
        n.day() as i8,
        n.hour() as i8,
        n.minute() as i8,
        n.second() as i8,
        0,
    )
    .ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

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
             DTEND:20261104T170000Z\r\nRRULE:FREQ=FORTNIGHTLY;BYDAY=MO\r\nEND:VEVENT\r\n\
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
            "RRULE: `FORTNIGHTLY` is not a valid frequency;",
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

    /// Who is on duty at `t` by the duty rule: of the occurrences in force, the last in
    /// order (they come sorted so that the one that began last, or the override, is last).
    fn on_duty(got: &Expanded, t: &str) -> Option<String> {
        let t = at(t);
        got.occurrences
            .iter()
            .rev()
            .find(|o| o.start <= t && t < o.end)
            .map(|o| o.user.clone())
    }

    /// Who is on duty at each time, by the duty rule, is as given.
    fn assert_duty(got: &Expanded, expected: &[(&str, Option<&str>)]) {
        for (t, user) in expected {
            assert_eq!(on_duty(got, t).as_deref(), *user, "at {t}");
        }
    }

    fn november(text: &str) -> Expanded {
        let got = expand_utc(text, "2026-10-01T00:00:00Z", "2027-01-31T00:00:00Z").unwrap();
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        got
    }

    const WEEKLY_ALICE: &str = "BEGIN:VEVENT\r\nUID:rota\r\nSUMMARY:alice\r\n\
        DTSTART:20261102T090000Z\r\nDURATION:P7D\r\nRRULE:FREQ=WEEKLY\r\nEND:VEVENT\r\n";

    #[test]
    fn a_week_cancelled_as_thunderbird_does_it_puts_nobody_on_duty() {
        let got = november(&calendar(&format!(
            "{WEEKLY_ALICE}BEGIN:VEVENT\r\nUID:rota\r\nSUMMARY:alice\r\n\
             RECURRENCE-ID:20261109T090000Z\r\nDTSTART:20261109T090000Z\r\n\
             DURATION:P7D\r\nSTATUS:CANCELLED\r\nSEQUENCE:1\r\nEND:VEVENT\r\n"
        )));
        assert_duty(
            &got,
            &[
                ("2026-11-09T08:59:59Z", Some("alice")),
                ("2026-11-09T09:00:00Z", None),
                ("2026-11-16T08:59:59Z", None),
                ("2026-11-16T09:00:00Z", Some("alice")),
            ],
        );
    }

    #[test]
    fn a_swap_at_the_series_start_wins_wherever_it_is_in_the_file() {
        let swap = "BEGIN:VEVENT\r\nUID:swap\r\nSUMMARY:bob\r\nDTSTART:20261109T090000Z\r\n\
            DTEND:20261116T090000Z\r\nEND:VEVENT\r\n";
        for text in [
            calendar(&format!("{WEEKLY_ALICE}{swap}")),
            calendar(&format!("{swap}{WEEKLY_ALICE}")),
        ] {
            let got = november(&text);
            assert_duty(
                &got,
                &[
                    ("2026-11-09T09:00:00Z", Some("bob")),
                    ("2026-11-16T08:59:59Z", Some("bob")),
                    ("2026-11-16T09:00:00Z", Some("alice")),
                ],
            );
        }
        // Two single events at one start: the newer copy (SEQUENCE, then DTSTAMP) wins.
        let one = |uid: &str, who: &str, sequence: u8, stamp: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{who}\r\nSEQUENCE:{sequence}\r\n\
                 DTSTAMP:{stamp}\r\nDTSTART:20261109T090000Z\r\nDTEND:20261110T090000Z\r\n\
                 END:VEVENT\r\n"
            )
        };
        let newer = one("b", "bob", 2, "20261101T000000Z");
        let older = one("a", "alice", 1, "20261105T000000Z");
        for text in [format!("{newer}{older}"), format!("{older}{newer}")] {
            let got = november(&calendar(&text));
            assert_eq!(
                on_duty(&got, "2026-11-09T12:00:00Z").as_deref(),
                Some("bob")
            );
        }
        let later_stamp = one("b", "bob", 0, "20261102T000000Z");
        let earlier_stamp = one("a", "alice", 0, "20261101T000000Z");
        for text in [
            format!("{later_stamp}{earlier_stamp}"),
            format!("{earlier_stamp}{later_stamp}"),
        ] {
            let got = november(&calendar(&text));
            assert_eq!(
                on_duty(&got, "2026-11-09T12:00:00Z").as_deref(),
                Some("bob")
            );
        }
    }

    #[test]
    fn exchange_moves_a_week_of_an_all_day_series_in_a_windows_zone() {
        // The rota is in New York; the moved week's RECURRENCE-ID is in Berlin's Windows
        // name, as Exchange writes it.
        let text = calendar(
            "BEGIN:VEVENT\r\nUID:ex\r\nSUMMARY:alice\r\nDTSTART;VALUE=DATE:20261102\r\n\
             DTEND;VALUE=DATE:20261109\r\nRRULE:FREQ=WEEKLY;INTERVAL=2\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:ex\r\nSUMMARY:alice\r\n\
             RECURRENCE-ID;TZID=\"W. Europe Standard Time\":20261116T000000\r\n\
             DTSTART;VALUE=DATE:20261118\r\nDTEND;VALUE=DATE:20261125\r\nEND:VEVENT\r\n",
        );
        let zone = TimeZone::get("America/New_York").unwrap();
        let got = expand(
            &text,
            &users(),
            &zone,
            at("2026-10-01T00:00:00Z"),
            at("2027-01-01T00:00:00Z"),
        )
        .unwrap();
        assert!(got.warnings.is_empty(), "{:?}", got.warnings);
        // Days begin at midnight in New York (05:00 UTC in November). The week of 16
        // November is gone; the moved one runs Wednesday to Wednesday.
        assert_duty(
            &got,
            &[
                ("2026-11-03T12:00:00Z", Some("alice")),
                ("2026-11-16T12:00:00Z", None),
                ("2026-11-18T04:59:59Z", None),
                ("2026-11-18T05:00:00Z", Some("alice")),
                ("2026-11-25T04:59:59Z", Some("alice")),
                ("2026-11-25T05:00:00Z", None),
                ("2026-11-30T12:00:00Z", Some("alice")),
            ],
        );
    }

    #[test]
    fn of_two_copies_of_a_series_the_highest_sequence_counts() {
        let copy = |sequence: u8, except: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:rota\r\nSUMMARY:alice\r\nSEQUENCE:{sequence}\r\n\
                 DTSTART:20261102T090000Z\r\nDURATION:P7D\r\nRRULE:FREQ=WEEKLY\r\n{except}\
                 END:VEVENT\r\n"
            )
        };
        let old = copy(3, "");
        let new = copy(4, "EXDATE:20261109T090000Z,20261123T090000Z\r\n");
        for text in [format!("{old}{new}"), format!("{new}{old}")] {
            let got = november(&calendar(&text));
            assert_duty(
                &got,
                &[
                    ("2026-11-03T12:00:00Z", Some("alice")),
                    ("2026-11-10T12:00:00Z", None),
                    ("2026-11-17T12:00:00Z", Some("alice")),
                    ("2026-11-24T12:00:00Z", None),
                ],
            );
        }
    }

    #[test]
    fn exception_and_extra_dates_are_taken_in_their_own_zones() {
        // EXDATE without a zone is on the series' wall clock; RDATE with Z or a TZID is
        // that instant.
        let got = november(&calendar(
            "BEGIN:VEVENT\r\nUID:d\r\nSUMMARY:alice\r\n\
             DTSTART;TZID=Europe/Berlin:20261102T090000\r\nDURATION:PT8H\r\n\
             RRULE:FREQ=DAILY;COUNT=3\r\nEXDATE:20261103T090000\r\n\
             RDATE:20261110T140000Z\r\nRDATE;TZID=America/New_York:20261112T090000\r\n\
             END:VEVENT\r\n",
        ));
        let starts: Vec<i64> = got.occurrences.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [
                at("2026-11-02T08:00:00Z"),
                at("2026-11-04T08:00:00Z"),
                at("2026-11-10T14:00:00Z"),
                at("2026-11-12T14:00:00Z"),
            ]
        );
        // Each lasts eight hours from its own start.
        assert_eq!(got.occurrences[3].end, at("2026-11-12T22:00:00Z"));
    }

    #[test]
    fn this_and_future_moves_every_later_week_and_a_second_rule_adds_its_days() {
        let got = november(&calendar(&format!(
            "{WEEKLY_ALICE}BEGIN:VEVENT\r\nUID:rota\r\nSUMMARY:bob\r\n\
             RECURRENCE-ID;RANGE=THISANDFUTURE:20261116T090000Z\r\n\
             DTSTART:20261116T120000Z\r\nDURATION:P7D\r\nSEQUENCE:1\r\nEND:VEVENT\r\n"
        )));
        assert_duty(
            &got,
            &[
                ("2026-11-16T08:59:59Z", Some("alice")),
                ("2026-11-16T10:00:00Z", None),
                ("2026-11-16T12:00:00Z", Some("bob")),
                ("2026-11-23T11:59:59Z", Some("bob")),
                ("2026-12-14T12:00:00Z", Some("bob")),
                ("2026-11-09T12:00:00Z", Some("alice")),
            ],
        );

        let got = november(&calendar(
            "BEGIN:VEVENT\r\nUID:two\r\nSUMMARY:alice\r\nDTSTART:20261102T090000Z\r\n\
             DURATION:PT8H\r\nRRULE:FREQ=WEEKLY;BYDAY=MO;COUNT=2\r\n\
             RRULE:FREQ=WEEKLY;BYDAY=TH;COUNT=2\r\nEND:VEVENT\r\n",
        ));
        let starts: Vec<i64> = got.occurrences.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [
                at("2026-11-02T09:00:00Z"),
                at("2026-11-05T09:00:00Z"),
                at("2026-11-09T09:00:00Z"),
                at("2026-11-12T09:00:00Z"),
            ]
        );
    }

    /// The starts, as wall-clock times in UTC, of an event for alice with `lines`.
    fn starts_of(lines: &str) -> Vec<String> {
        let got = november(&calendar(&format!(
            "BEGIN:VEVENT\r\nUID:x\r\nSUMMARY:alice\r\nDURATION:PT1H\r\n{lines}END:VEVENT\r\n"
        )));
        got.occurrences
            .iter()
            .map(|o| jiff::Timestamp::from_second(o.start).unwrap().to_string())
            .collect()
    }

    #[test]
    fn rules_calendars_use_and_cabot_once_refused() {
        // Google writes monthly and yearly rules; Outlook BYSETPOS.
        assert_eq!(
            starts_of("DTSTART:20261015T090000Z\r\nRRULE:FREQ=MONTHLY;BYMONTHDAY=15\r\n"),
            [
                "2026-10-15T09:00:00Z",
                "2026-11-15T09:00:00Z",
                "2026-12-15T09:00:00Z",
                "2027-01-15T09:00:00Z"
            ]
        );
        assert_eq!(
            starts_of("DTSTART:20251224T090000Z\r\nRRULE:FREQ=YEARLY;BYMONTH=12;BYMONTHDAY=24\r\n"),
            ["2026-12-24T09:00:00Z"]
        );
        assert_eq!(
            starts_of("DTSTART:20261017T090000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=3SA\r\n"),
            [
                "2026-10-17T09:00:00Z",
                "2026-11-21T09:00:00Z",
                "2026-12-19T09:00:00Z",
                "2027-01-16T09:00:00Z"
            ]
        );
        assert_eq!(
            starts_of("DTSTART:20261030T090000Z\r\nRRULE:FREQ=MONTHLY;BYDAY=-1FR\r\n"),
            [
                "2026-10-30T09:00:00Z",
                "2026-11-27T09:00:00Z",
                "2026-12-25T09:00:00Z",
                "2027-01-29T09:00:00Z"
            ]
        );
        assert_eq!(
            starts_of(
                "DTSTART:20261030T090000Z\r\n\
                 RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-1;COUNT=3\r\n"
            ),
            [
                "2026-10-30T09:00:00Z",
                "2026-11-30T09:00:00Z",
                "2026-12-31T09:00:00Z"
            ]
        );
        assert_eq!(
            starts_of("DTSTART:20261102T000000Z\r\nRRULE:FREQ=HOURLY;INTERVAL=8;COUNT=4\r\n"),
            [
                "2026-11-02T00:00:00Z",
                "2026-11-02T08:00:00Z",
                "2026-11-02T16:00:00Z",
                "2026-11-03T00:00:00Z"
            ]
        );
        // RDATE;VALUE=PERIOD: each extra shift with its own end or length.
        let got = november(&calendar(
            "BEGIN:VEVENT\r\nUID:p\r\nSUMMARY:alice\r\nDTSTART:20261102T090000Z\r\n\
             DURATION:PT1H\r\nRDATE;VALUE=PERIOD:20261120T090000Z/20261120T170000Z,\r\n \
             20261121T090000Z/PT4H\r\nEND:VEVENT\r\n",
        ));
        let spans: Vec<(i64, i64)> = got.occurrences.iter().map(|o| (o.start, o.end)).collect();
        assert_eq!(
            spans,
            [
                (at("2026-11-02T09:00:00Z"), at("2026-11-02T10:00:00Z")),
                (at("2026-11-20T09:00:00Z"), at("2026-11-20T17:00:00Z")),
                (at("2026-11-21T09:00:00Z"), at("2026-11-21T13:00:00Z")),
            ]
        );
    }

    #[test]
    fn names_in_lower_case_and_zones_the_calendar_defines() {
        let got = november(&calendar(
            "begin:vevent\r\nuid:l\r\nsummary:alice\r\n\
             dtstart;tzid=Europe/Berlin:20261102T090000\r\nduration:PT8H\r\n\
             rrule:freq=weekly;count=2\r\nend:vevent\r\n",
        ));
        let starts: Vec<i64> = got.occurrences.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [at("2026-11-02T08:00:00Z"), at("2026-11-09T08:00:00Z")]
        );
        // Outlook desktop's own definition of London, and Evolution's prefixed name.
        let text = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VTIMEZONE\r\n\
             TZID:(UTC+00:00) Dublin\\, Edinburgh\\, Lisbon\\, London\r\n\
             BEGIN:STANDARD\r\nDTSTART:16011028T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\nTZOFFSETFROM:+0100\r\n\
             TZOFFSETTO:-0000\r\nEND:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010325T010000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\nTZOFFSETFROM:-0000\r\n\
             TZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n\
             BEGIN:VEVENT\r\nUID:o\r\nSUMMARY:alice\r\n\
             DTSTART;TZID=\"(UTC+00:00) Dublin, Edinburgh, Lisbon, London\":20261019T090000\r\n\
             DURATION:PT8H\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\n\
             BEGIN:VEVENT\r\nUID:e\r\nSUMMARY:bob\r\n\
             DTSTART;TZID=/freeassociation.sourceforge.net/Tzfile/Europe/London:20261020T090000\r\n\
             DURATION:PT8H\r\nRRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n";
        let got = november(text);
        assert_eq!(
            who_when(&got),
            [
                (at("2026-10-19T08:00:00Z"), "alice"),
                (at("2026-10-20T08:00:00Z"), "bob"),
                (at("2026-10-26T09:00:00Z"), "alice"),
                (at("2026-10-27T09:00:00Z"), "bob"),
            ]
        );
    }

    /// RFC 5545 3.8.5.3's examples, each with the occurrences the RFC lists (in New York,
    /// 09:00 on each date given), against what cabot makes of them.
    #[test]
    fn the_rfc_s_own_examples_give_the_rfc_s_dates() {
        let ny = TimeZone::get("America/New_York").unwrap();
        let examples: &[(&str, &str, &str, &[&str])] = &[
            (
                "19970902",
                "RRULE:FREQ=DAILY;COUNT=10",
                "1997-12-31",
                &[
                    "1997-09-02",
                    "1997-09-03",
                    "1997-09-04",
                    "1997-09-05",
                    "1997-09-06",
                    "1997-09-07",
                    "1997-09-08",
                    "1997-09-09",
                    "1997-09-10",
                    "1997-09-11",
                ],
            ),
            (
                "19970902",
                "RRULE:FREQ=DAILY;INTERVAL=10;COUNT=5",
                "1997-12-31",
                &[
                    "1997-09-02",
                    "1997-09-12",
                    "1997-09-22",
                    "1997-10-02",
                    "1997-10-12",
                ],
            ),
            (
                "19970902",
                "RRULE:FREQ=WEEKLY;COUNT=10",
                "1997-12-31",
                &[
                    "1997-09-02",
                    "1997-09-09",
                    "1997-09-16",
                    "1997-09-23",
                    "1997-09-30",
                    "1997-10-07",
                    "1997-10-14",
                    "1997-10-21",
                    "1997-10-28",
                    "1997-11-04",
                ],
            ),
            (
                "19970901",
                "RRULE:FREQ=WEEKLY;INTERVAL=2;UNTIL=19971224T000000Z;WKST=SU;BYDAY=MO,WE,FR",
                "1998-12-31",
                &[
                    "1997-09-01",
                    "1997-09-03",
                    "1997-09-05",
                    "1997-09-15",
                    "1997-09-17",
                    "1997-09-19",
                    "1997-09-29",
                    "1997-10-01",
                    "1997-10-03",
                    "1997-10-13",
                    "1997-10-15",
                    "1997-10-17",
                    "1997-10-27",
                    "1997-10-29",
                    "1997-10-31",
                    "1997-11-10",
                    "1997-11-12",
                    "1997-11-14",
                    "1997-11-24",
                    "1997-11-26",
                    "1997-11-28",
                    "1997-12-08",
                    "1997-12-10",
                    "1997-12-12",
                    "1997-12-22",
                ],
            ),
            (
                "19970805",
                "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=MO",
                "1997-12-31",
                &["1997-08-05", "1997-08-10", "1997-08-19", "1997-08-24"],
            ),
            (
                "19970805",
                "RRULE:FREQ=WEEKLY;INTERVAL=2;COUNT=4;BYDAY=TU,SU;WKST=SU",
                "1997-12-31",
                &["1997-08-05", "1997-08-17", "1997-08-19", "1997-08-31"],
            ),
            (
                "19970905",
                "RRULE:FREQ=MONTHLY;COUNT=10;BYDAY=1FR",
                "1998-12-31",
                &[
                    "1997-09-05",
                    "1997-10-03",
                    "1997-11-07",
                    "1997-12-05",
                    "1998-01-02",
                    "1998-02-06",
                    "1998-03-06",
                    "1998-04-03",
                    "1998-05-01",
                    "1998-06-05",
                ],
            ),
            (
                "19970922",
                "RRULE:FREQ=MONTHLY;COUNT=6;BYDAY=-2MO",
                "1998-12-31",
                &[
                    "1997-09-22",
                    "1997-10-20",
                    "1997-11-17",
                    "1997-12-22",
                    "1998-01-19",
                    "1998-02-16",
                ],
            ),
            (
                "19970928",
                "RRULE:FREQ=MONTHLY;BYMONTHDAY=-3",
                "1998-03-01",
                &[
                    "1997-09-28",
                    "1997-10-29",
                    "1997-11-28",
                    "1997-12-29",
                    "1998-01-29",
                    "1998-02-26",
                ],
            ),
            (
                "19970902",
                "EXDATE;TZID=America/New_York:19970902T090000\r\n\
              RRULE:FREQ=MONTHLY;BYDAY=FR;BYMONTHDAY=13",
                "2000-12-31",
                &[
                    "1998-02-13",
                    "1998-03-13",
                    "1998-11-13",
                    "1999-08-13",
                    "2000-10-13",
                ],
            ),
            (
                "19970904",
                "RRULE:FREQ=MONTHLY;COUNT=3;BYDAY=TU,WE,TH;BYSETPOS=3",
                "1998-12-31",
                &["1997-09-04", "1997-10-07", "1997-11-06"],
            ),
            (
                "19970929",
                "RRULE:FREQ=MONTHLY;BYDAY=MO,TU,WE,TH,FR;BYSETPOS=-2",
                "1998-03-31",
                &[
                    "1997-09-29",
                    "1997-10-30",
                    "1997-11-27",
                    "1997-12-30",
                    "1998-01-29",
                    "1998-02-26",
                    "1998-03-30",
                ],
            ),
            (
                "19970902",
                "RRULE:FREQ=MONTHLY;INTERVAL=2;BYDAY=TU",
                "1998-03-31",
                &[
                    "1997-09-02",
                    "1997-09-09",
                    "1997-09-16",
                    "1997-09-23",
                    "1997-09-30",
                    "1997-11-04",
                    "1997-11-11",
                    "1997-11-18",
                    "1997-11-25",
                    "1998-01-06",
                    "1998-01-13",
                    "1998-01-20",
                    "1998-01-27",
                    "1998-03-03",
                    "1998-03-10",
                    "1998-03-17",
                    "1998-03-24",
                    "1998-03-31",
                ],
            ),
            (
                "19970610",
                "RRULE:FREQ=YEARLY;COUNT=10;BYMONTH=6,7",
                "2010-12-31",
                &[
                    "1997-06-10",
                    "1997-07-10",
                    "1998-06-10",
                    "1998-07-10",
                    "1999-06-10",
                    "1999-07-10",
                    "2000-06-10",
                    "2000-07-10",
                    "2001-06-10",
                    "2001-07-10",
                ],
            ),
            (
                "19970519",
                "RRULE:FREQ=YEARLY;BYDAY=20MO",
                "1999-12-31",
                &["1997-05-19", "1998-05-18", "1999-05-17"],
            ),
            (
                "19970512",
                "RRULE:FREQ=YEARLY;BYWEEKNO=20;BYDAY=MO",
                "1999-12-31",
                &["1997-05-12", "1998-05-11", "1999-05-17"],
            ),
            (
                "19961105",
                "RRULE:FREQ=YEARLY;INTERVAL=4;BYMONTH=11;BYDAY=TU;\
              BYMONTHDAY=2,3,4,5,6,7,8",
                "2004-12-31",
                &["1996-11-05", "2000-11-07", "2004-11-02"],
            ),
            (
                "20070115",
                "RRULE:FREQ=MONTHLY;BYMONTHDAY=15,30;COUNT=5",
                "2007-12-31",
                &[
                    "2007-01-15",
                    "2007-01-30",
                    "2007-02-15",
                    "2007-03-15",
                    "2007-03-30",
                ],
            ),
        ];
        for (start, lines, until, dates) in examples {
            let text = calendar(&format!(
                "BEGIN:VEVENT\r\nUID:rfc\r\nSUMMARY:alice\r\n\
                 DTSTART;TZID=America/New_York:{start}T090000\r\nDURATION:PT1H\r\n{lines}\r\n\
                 END:VEVENT\r\n"
            ));
            let got = expand(
                &text,
                &users(),
                &TimeZone::UTC,
                at("1996-01-01T00:00:00Z"),
                at(&format!("{until}T23:00:00Z")),
            )
            .unwrap();
            assert!(got.warnings.is_empty(), "{lines}: {:?}", got.warnings);
            let seen: Vec<String> = got
                .occurrences
                .iter()
                .map(|o| {
                    jiff::Timestamp::from_second(o.start)
                        .unwrap()
                        .to_zoned_datetime(ny.clone())
                        .strftime("%Y-%m-%d %H:%M")
                        .to_string()
                })
                .collect();
            let want: Vec<String> = dates.iter().map(|d| format!("{d} 09:00")).collect();
            assert_eq!(seen, want, "{lines}");
        }
        // 09:00 in New York across its change of clocks: 13:00 UTC in summer, 14:00 after.
        let got = expand(
            &calendar(
                "BEGIN:VEVENT\r\nUID:rfc\r\nSUMMARY:alice\r\n\
                 DTSTART;TZID=America/New_York:19971021T090000\r\nDURATION:PT1H\r\n\
                 RRULE:FREQ=WEEKLY;COUNT=2\r\nEND:VEVENT\r\n",
            ),
            &users(),
            &TimeZone::UTC,
            at("1997-01-01T00:00:00Z"),
            at("1998-01-01T00:00:00Z"),
        )
        .unwrap();
        let starts: Vec<i64> = got.occurrences.iter().map(|o| o.start).collect();
        assert_eq!(
            starts,
            [at("1997-10-21T13:00:00Z"), at("1997-10-28T14:00:00Z")]
        );
    }

    #[test]
    fn a_calendar_of_endless_rules_costs_a_bounded_time_and_a_few_words() {
        // Every second since 2020: each series is followed 100,000 steps at most, and all
        // of them 5,000,000, then the rest are left out with one word.
        let events: String = (0..60)
            .map(|i| {
                format!(
                    "BEGIN:VEVENT\r\nUID:s{i}\r\nSUMMARY:alice\r\nDTSTART:20200101T000000Z\r\n\
                     DURATION:PT1S\r\nRRULE:FREQ=SECONDLY\r\nEND:VEVENT\r\n"
                )
            })
            .collect();
        let got = expand_utc(
            &calendar(&format!(
                "{events}BEGIN:VEVENT\r\nUID:b\r\nSUMMARY:bob\r\nDTSTART:20261102T090000Z\r\n\
                 DTEND:20261103T090000Z\r\nEND:VEVENT\r\n"
            )),
            "2026-11-01T00:00:00Z",
            "2026-11-30T00:00:00Z",
        )
        .unwrap();
        assert_eq!(got.warnings.len(), 51, "{:#?}", &got.warnings[47..]);
        assert!(got.warnings[0].contains("repeats more than 100000 times"));
        assert!(
            got.warnings[50].starts_with(
                "10 events naming a user are left out: the calendar's rules together repeat \
                 more than 5000000 times"
            ),
            "{}",
            got.warnings[50]
        );
        // An event with no rule costs no steps and is used.
        assert_eq!(who_when(&got), [(at("2026-11-02T09:00:00Z"), "bob")]);
    }

    #[test]
    fn sydney_changes_its_clocks_the_other_way_and_kolkata_never() {
        let turn = |uid: &str, who: &str, zone: &str, start: &str| {
            format!(
                "BEGIN:VEVENT\r\nUID:{uid}\r\nSUMMARY:{who}\r\nDTSTART;TZID={zone}:{start}\r\n\
                 DURATION:P7D\r\nRRULE:FREQ=WEEKLY;INTERVAL=2\r\nEND:VEVENT\r\n"
            )
        };
        let got = november(&calendar(&format!(
            "{}{}",
            turn("a", "alice", "Australia/Sydney", "20260928T090000"),
            turn("b", "bob", "Australia/Sydney", "20261005T090000"),
        )));
        // 09:00 in Sydney: 23:00 UTC the day before in standard time, 22:00 from 4 October.
        assert_duty(
            &got,
            &[
                ("2026-10-04T21:59:59Z", Some("alice")),
                ("2026-10-04T22:00:00Z", Some("bob")),
                ("2026-10-11T21:59:59Z", Some("bob")),
                ("2026-10-11T22:00:00Z", Some("alice")),
            ],
        );
        let got = november(&calendar(&format!(
            "{}{}",
            turn("a", "alice", "Asia/Kolkata", "20261026T090000"),
            turn("b", "bob", "Asia/Kolkata", "20261102T090000"),
        )));
        assert_duty(
            &got,
            &[
                ("2026-11-02T03:29:59Z", Some("alice")),
                ("2026-11-02T03:30:00Z", Some("bob")),
            ],
        );
    }
}
