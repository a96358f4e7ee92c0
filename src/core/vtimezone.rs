//! A time zone a calendar defines for itself in a VTIMEZONE (RFC 5545 3.6.5), for a TZID
//! that is neither an IANA nor a Windows name: Outlook desktop's `(UTC+00:00) Dublin,
//! Edinburgh, Lisbon, London`, its `Customized Time Zone`, `tzone://Microsoft/Utc`.
//!
//! Such a definition is a standard and a daylight rule ("the last Sunday of March at
//! 01:00"), which is what a POSIX TZ string says too: the definition's current rules are
//! written as one, and jiff, which implements POSIX TZ, computes the transitions. A
//! definition without rules is its fixed offset; one whose rules a POSIX string cannot say
//! (by day of the month, of the year) is refused with why, and only the events in that
//! zone are left out.

use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

/// One STANDARD or DAYLIGHT part of a definition.
struct Part {
    daylight: bool,
    start: DateTime,
    offset: i32,
    rule: Option<String>,
}

/// The zone that `definition` describes.
pub fn zone(definition: &ical::parser::ical::component::IcalTimeZone) -> Result<TimeZone, String> {
    let mut parts = Vec::new();
    for t in &definition.transitions {
        let value = |name: &str| {
            t.properties
                .iter()
                .find(|p| p.name == name)
                .and_then(|p| p.value.as_deref())
                .map(str::trim)
        };
        let start = value("DTSTART").ok_or("a part of it has no DTSTART")?;
        let start = DateTime::strptime("%Y%m%dT%H%M%S", start.trim_end_matches(['Z', 'z']))
            .map_err(|_| format!("DTSTART '{start}' is not a time like 16010101T020000"))?;
        let offset = value("TZOFFSETTO").ok_or("a part of it has no TZOFFSETTO")?;
        parts.push(Part {
            daylight: matches!(
                t.transition,
                ical::parser::ical::component::IcalTimeZoneTransitionType::DAYLIGHT
            ),
            start,
            offset: offset_seconds(offset)
                .ok_or_else(|| format!("TZOFFSETTO '{offset}' is not an offset like +0100"))?,
            rule: value("RRULE").map(str::to_string),
        });
    }
    // The parts in force now are the latest of each kind; the latest of all says whether
    // the zone still changes its clocks.
    let latest = |daylight: bool| {
        parts
            .iter()
            .filter(|p| p.daylight == daylight)
            .max_by_key(|p| p.start)
    };
    let last = parts
        .iter()
        .max_by_key(|p| p.start)
        .ok_or("it has no STANDARD or DAYLIGHT part")?;
    let fixed = || {
        Offset::from_seconds(last.offset)
            .map(TimeZone::fixed)
            .map_err(|e| e.to_string())
    };
    let (Some(standard), Some(daylight)) = (latest(false), latest(true)) else {
        return fixed();
    };
    match (&standard.rule, &daylight.rule) {
        (None, None) => fixed(),
        (Some(to_standard), Some(to_daylight)) if last.rule.is_some() => {
            let posix = format!(
                "<STD>{}<DST>{},{}/{},{}/{}",
                posix_offset(standard.offset),
                posix_offset(daylight.offset),
                posix_rule(to_daylight)?,
                daylight.start.time(),
                posix_rule(to_standard)?,
                standard.start.time(),
            );
            TimeZone::posix(&posix).map_err(|e| format!("its rules ({posix}): {e}"))
        }
        _ if last.rule.is_none() => fixed(),
        _ => Err("only one of its STANDARD and DAYLIGHT parts has a rule".into()),
    }
}

/// `+0100`, `-0500`, `+053000` in seconds east of UTC.
fn offset_seconds(text: &str) -> Option<i32> {
    let (sign, digits) = match text.as_bytes().first()? {
        b'+' => (1, &text[1..]),
        b'-' => (-1, &text[1..]),
        _ => return None,
    };
    if !(digits.len() == 4 || digits.len() == 6) || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let field = |i: usize| digits.get(i..i + 2).map_or(Ok(0), str::parse::<i32>).ok();
    let (h, m, s) = (field(0)?, field(2)?, field(4)?);
    (h < 24 && m < 60 && s < 60).then_some(sign * (h * 3600 + m * 60 + s))
}

/// A POSIX TZ offset: hours west of UTC, so the sign is the other way round.
fn posix_offset(east: i32) -> String {
    let west = -east;
    let sign = if west < 0 { "-" } else { "" };
    let a = west.abs();
    format!("{sign}{}:{:02}:{:02}", a / 3600, a / 60 % 60, a % 60)
}

/// A yearly rule `FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU` as POSIX's `M3.5.0` (the month, the
/// week 1 to 4 or 5 for the last, the day from Sunday 0).
fn posix_rule(rule: &str) -> Result<String, String> {
    let (mut month, mut day, mut yearly) = (None, None, false);
    for part in rule.split(';').map(str::trim).filter(|p| !p.is_empty()) {
        let (key, value) = part.split_once('=').unwrap_or((part, ""));
        match key.to_ascii_uppercase().as_str() {
            "FREQ" => yearly = value.eq_ignore_ascii_case("YEARLY"),
            "BYMONTH" => month = value.parse::<u8>().ok().filter(|m| (1..=12).contains(m)),
            "BYDAY" => day = Some(value.to_ascii_uppercase()),
            "INTERVAL" if value == "1" => {}
            // A rule that has ended is the one in force until then: the latest part wins.
            "UNTIL" | "WKST" => {}
            _ => {
                return Err(format!(
                    "its rule '{rule}' says {key}, which cabot cannot read"
                ));
            }
        }
    }
    let cannot = || format!("its rule '{rule}' is not 'FREQ=YEARLY;BYMONTH=M;BYDAY=nDD'");
    let (Some(month), Some(day), true) = (month, day, yearly) else {
        return Err(cannot());
    };
    let split = day.len().checked_sub(2).ok_or_else(cannot)?;
    let (nth, name) = day.split_at(split);
    let week = match nth.trim_start_matches('+') {
        "-1" => 5,
        n => n
            .parse::<u8>()
            .ok()
            .filter(|w| (1..=4).contains(w))
            .ok_or_else(cannot)?,
    };
    let weekday = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"]
        .iter()
        .position(|d| *d == name)
        .ok_or_else(cannot)?;
    Ok(format!("M{month}.{week}.{weekday}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn definition(text: &str) -> ical::parser::ical::component::IcalTimeZone {
        let calendar = format!("BEGIN:VCALENDAR\r\nVERSION:2.0\r\n{text}END:VCALENDAR\r\n");
        let mut parsed = ical::IcalParser::new(calendar.as_bytes());
        parsed.next().unwrap().unwrap().timezones.remove(0)
    }

    /// Every hour of two years, and each minute around the changes, agree with the IANA
    /// zone the definition describes: jiff's tzdb is the reference.
    fn agrees(defined: &TimeZone, iana: &str) {
        let iana = TimeZone::get(iana).unwrap();
        let mut at = jiff::Timestamp::from_second(1_767_225_600).unwrap(); // 2026-01-01
        let end = jiff::Timestamp::from_second(1_830_297_600).unwrap(); // 2028-01-01
        while at < end {
            assert_eq!(defined.to_offset(at), iana.to_offset(at), "at {at}");
            let changes_soon =
                iana.to_offset(at) != iana.to_offset(at + jiff::Span::new().hours(1));
            at += if changes_soon {
                jiff::Span::new().minutes(1)
            } else {
                jiff::Span::new().hours(1)
            };
        }
        for civil in [
            "2026-03-29T01:30:00",
            "2026-10-25T01:30:00",
            "2026-07-01T12:00:00",
        ] {
            let civil: DateTime = civil.parse().unwrap();
            assert_eq!(
                civil
                    .to_zoned_datetime(defined.clone())
                    .unwrap()
                    .timestamp(),
                civil.to_zoned_datetime(iana.clone()).unwrap().timestamp(),
                "{civil}"
            );
        }
    }

    #[test]
    fn outlook_desktop_s_london_is_europe_london() {
        let zone = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:(UTC+00:00) Dublin\\, Edinburgh\\, Lisbon\\, London\r\n\
             BEGIN:STANDARD\r\nDTSTART:16011028T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:-0000\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:16010325T010000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3\r\n\
             TZOFFSETFROM:-0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap();
        agrees(&zone, "Europe/London");
    }

    #[test]
    fn southern_and_western_rules_and_a_rule_changed_over_the_years() {
        let sydney = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:(UTC+10:00) Canberra\\, Melbourne\\, Sydney\r\n\
             BEGIN:STANDARD\r\nDTSTART:16010401T030000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4\r\n\
             TZOFFSETFROM:+1100\r\nTZOFFSETTO:+1000\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:16011001T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=10\r\n\
             TZOFFSETFROM:+1000\r\nTZOFFSETTO:+1100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap();
        agrees(&sydney, "Australia/Sydney");
        // New York's rules before 2007 and since: the latest of each kind is in force.
        let new_york = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:Customized Time Zone\r\n\
             BEGIN:STANDARD\r\nDTSTART:19671029T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10;UNTIL=20061029T060000Z\r\n\
             TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n\
             BEGIN:STANDARD\r\nDTSTART:20071104T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=11\r\n\
             TZOFFSETFROM:-0400\r\nTZOFFSETTO:-0500\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:19870405T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=1SU;BYMONTH=4;UNTIL=20060402T070000Z\r\n\
             TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:20070311T020000\r\n\
             RRULE:FREQ=YEARLY;BYDAY=2SU;BYMONTH=3\r\n\
             TZOFFSETFROM:-0500\r\nTZOFFSETTO:-0400\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap();
        agrees(&new_york, "America/New_York");
        // Kolkata, and Microsoft's UTC: one part, no rule.
        let kolkata = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:(UTC+05:30) Chennai\\, Kolkata\\, Mumbai\\, New Delhi\r\n\
             BEGIN:STANDARD\r\nDTSTART:16010101T000000\r\nTZOFFSETFROM:+0530\r\n\
             TZOFFSETTO:+0530\r\nEND:STANDARD\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap();
        agrees(&kolkata, "Asia/Kolkata");
        let utc = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:tzone://Microsoft/Utc\r\nBEGIN:STANDARD\r\n\
             DTSTART:16010101T000000\r\nTZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\n\
             END:STANDARD\r\nBEGIN:DAYLIGHT\r\nDTSTART:16010101T000000\r\n\
             TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0000\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap();
        agrees(&utc, "UTC");
    }

    #[test]
    fn a_rule_no_posix_string_can_say_is_refused_with_why() {
        let err = zone(&definition(
            "BEGIN:VTIMEZONE\r\nTZID:Odd\r\nBEGIN:STANDARD\r\nDTSTART:20001029T020000\r\n\
             RRULE:FREQ=YEARLY;BYMONTH=10;BYMONTHDAY=25,26,27,28,29,30,31;BYDAY=SU\r\n\
             TZOFFSETFROM:+0100\r\nTZOFFSETTO:+0000\r\nEND:STANDARD\r\n\
             BEGIN:DAYLIGHT\r\nDTSTART:20000326T010000\r\n\
             RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU\r\n\
             TZOFFSETFROM:+0000\r\nTZOFFSETTO:+0100\r\nEND:DAYLIGHT\r\nEND:VTIMEZONE\r\n",
        ))
        .unwrap_err();
        assert!(
            err.contains("says BYMONTHDAY, which cabot cannot read"),
            "{err}"
        );
        assert_eq!(offset_seconds("+0530"), Some(19_800));
        assert_eq!(offset_seconds("-000000"), Some(0));
        assert_eq!(offset_seconds("0100"), None);
        assert_eq!(offset_seconds("+2500"), None);
    }
}
