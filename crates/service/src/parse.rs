//! Dates, times and years as people write them (on the command line, in a query), parsed
//! strictly, in one place for the CLI and the server. A refusal is [`ServiceError::bad_input`]
//! whose message starts with the accepted form (`expected …`) and, when the mistake is a common
//! one (a day-first date, a time where a date goes, a time without its offset), says what to
//! write instead; never a parser's own message. The caller names the field: the CLI through
//! its usage error (`invalid value '…' for '--as-of <DATE>': expected …`), the server as
//! `as_of=…: expected …`.

use jiff::Timestamp;
use jiff::civil::Date;

use crate::{Result, ServiceError};

/// The accepted form of a date.
pub const DATE_FORM: &str = "a date such as 2026-04-30 (YYYY-MM-DD)";

/// The accepted forms of a time.
pub const TIME_FORMS: &str = "2024-01-12 (midnight UTC), 2024-01-12T10:00:00Z, or 2024-01-12T13:00:00+03:00 (RFC 3339 with its offset, kept: stored as 10:00:00Z), in whole seconds";

/// The accepted form of a year.
pub const YEAR_FORM: &str = "a year such as 2025";

/// The refusal: the accepted form, and what to write instead when there is something to say.
fn refused(form: &str, hint: Option<String>) -> ServiceError {
    ServiceError::bad_input(match hint {
        Some(h) => format!("expected {form}; {h}"),
        None => format!("expected {form}"),
    })
}

/// `YYYY-MM-DD` exactly: `Ok(None)` when the text is not of that shape, an error naming the
/// part out of range when it is but no such day exists.
fn iso_date(s: &str) -> std::result::Result<Option<Date>, String> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b.iter().enumerate().all(|(i, c)| {
            if i == 4 || i == 7 {
                *c == b'-'
            } else {
                c.is_ascii_digit()
            }
        });
    if !shaped {
        return Ok(None);
    }
    let number = |r: std::ops::Range<usize>| s.get(r).and_then(|p| p.parse::<i16>().ok());
    let (Some(y), Some(m), Some(d)) = (number(0..4), number(5..7), number(8..10)) else {
        return Ok(None);
    };
    if !(1..=12).contains(&m) {
        return Err(format!("{s} has no month {m}: months run from 01 to 12"));
    }
    let month = i8::try_from(m).map_err(|_| format!("{s}: no month {m}"))?;
    let days = Date::new(y, month, 1)
        .map(|first| first.days_in_month())
        .map_err(|_| format!("{s}: no such year"))?;
    let day = i8::try_from(d).ok().filter(|d| (1..=days).contains(d));
    let Some(day) = day else {
        return Err(format!(
            "{s} is no day of the calendar: {y:04}-{m:02} has {days} days"
        ));
    };
    Date::new(y, month, day)
        .map(Some)
        .map_err(|_| format!("{s} is no day of the calendar"))
}

/// What a text that is not `YYYY-MM-DD` was probably meant to be, as advice.
fn date_hint(s: &str) -> Option<String> {
    if s.is_empty() {
        return Some("it is empty".to_owned());
    }
    // A time where a date goes.
    if s.len() > 10
        && let (Some(day), Some(rest)) = (s.get(..10), s.get(10..))
        && matches!(iso_date(day), Ok(Some(_)))
        && rest.starts_with(['T', 't', ' '])
    {
        return Some(format!(
            "`{s}` is a time, and a date is asked for: give the day alone, {day}"
        ));
    }
    // A year alone.
    if s.len() == 4 && s.bytes().all(|c| c.is_ascii_digit()) {
        return Some(format!(
            "`{s}` is a year, and a day is asked for: e.g. {s}-12-31 for the year's end"
        ));
    }
    let parts: Vec<&str> = s.split(['/', '.', '-']).collect();
    let numbers: Option<Vec<u16>> = parts.iter().map(|p| p.parse::<u16>().ok()).collect();
    let [a, b, c] = numbers.as_deref()? else {
        return None;
    };
    let (a, b, c) = (*a, *b, *c);
    let lengths: Vec<usize> = parts.iter().map(|p| p.len()).collect();
    if lengths.first() == Some(&4) {
        // Year first, other separators or no leading zeros: 2026/04/30, 2026-4-30.
        let day = format!("{a:04}-{b:02}-{c:02}");
        return matches!(iso_date(&day), Ok(Some(_))).then(|| {
            format!("give `{s}` as {day}, with hyphens and two digits for the month and the day")
        });
    }
    if lengths.get(2) == Some(&4) {
        // Year last: day first (30/04/2026) or month first (04/30/2026).
        let day_first = format!("{c:04}-{b:02}-{a:02}");
        let month_first = format!("{c:04}-{a:02}-{b:02}");
        let ok = |d: &str| matches!(iso_date(d), Ok(Some(_)));
        return match (ok(&day_first), ok(&month_first)) {
            (true, false) => Some(format!(
                "`{s}` reads as day/month/year: give it year first, {day_first}"
            )),
            (false, true) => Some(format!(
                "`{s}` reads as month/day/year: give it year first, {month_first}"
            )),
            (true, true) if day_first == month_first => {
                Some(format!("give `{s}` year first, {day_first}"))
            }
            (true, true) => Some(format!(
                "`{s}` could be day/month or month/day: give it year first, {day_first} or {month_first}"
            )),
            (false, false) => None,
        };
    }
    None
}

/// A date: exactly `YYYY-MM-DD` (surrounding blanks aside).
pub fn date(text: &str) -> Result<Date> {
    let s = text.trim();
    match iso_date(s) {
        Ok(Some(d)) => Ok(d),
        Err(why) => Err(refused(DATE_FORM, Some(why))),
        Ok(None) => Err(refused(DATE_FORM, date_hint(s))),
    }
}

/// A time: a date alone (`2024-01-12`, midnight UTC), or RFC 3339 in whole seconds with `Z` or
/// a numeric offset (kept: the same instant, stored in UTC). Nothing is rounded or truncated:
/// a fraction of a second, a time without its offset or without its seconds is refused, with
/// the form to give.
pub fn time(text: &str) -> Result<Timestamp> {
    let s = text.trim();
    let refuse = |hint: Option<String>| refused(TIME_FORMS, hint);
    if s.len() <= 10 {
        return match iso_date(s) {
            Ok(Some(d)) => d
                .to_zoned_datetime(jiff::tz::TimeZone::UTC)
                .map(|z| z.timestamp())
                .map_err(|_| refuse(Some(format!("{s} is out of range")))),
            Err(why) => Err(refuse(Some(why))),
            Ok(None) => Err(refuse(date_hint(s))),
        };
    }
    let (Some(day), Some(rest)) = (s.get(..10), s.get(10..)) else {
        return Err(refuse(None));
    };
    match iso_date(day) {
        Ok(Some(_)) => {}
        Err(why) => return Err(refuse(Some(why))),
        Ok(None) => return Err(refuse(date_hint(day))),
    }
    let Some(clock) = rest.strip_prefix('T') else {
        let clock = rest.trim_start_matches([' ', 't']);
        return Err(refuse(Some(format!(
            "put a `T` between the date and the time: {day}T{clock}"
        ))));
    };
    // hh:mm:ss, then the offset.
    let hms = clock.get(..8).unwrap_or(clock);
    let offset = clock.get(8..).unwrap_or("");
    let shaped = |t: &str| {
        t.len() == 8
            && t.bytes().enumerate().all(|(i, c)| {
                if i == 2 || i == 5 {
                    c == b':'
                } else {
                    c.is_ascii_digit()
                }
            })
    };
    if !shaped(hms) {
        let short = clock.len() >= 5 && clock.as_bytes().get(2) == Some(&b':');
        let hm = clock.get(..5).unwrap_or(clock);
        return Err(refuse(
            short.then(|| format!("give the seconds too, e.g. {day}T{hm}:00Z")),
        ));
    }
    if offset.starts_with(['.', ',']) {
        return Err(refuse(Some(
            "a fraction of a second is not kept: give whole seconds".to_owned(),
        )));
    }
    if offset.is_empty() {
        return Err(refuse(Some(format!(
            "`{s}` has no offset: add `Z` for UTC ({day}T{hms}Z) or the offset from UTC (e.g. {day}T{hms}+03:00)"
        ))));
    }
    let offset_ok = offset == "Z"
        || offset.len() == 6
            && offset.starts_with(['+', '-'])
            && offset.as_bytes().get(3) == Some(&b':')
            && offset
                .bytes()
                .enumerate()
                .all(|(i, c)| i == 0 || i == 3 || c.is_ascii_digit());
    if !offset_ok {
        return Err(refuse(Some(format!(
            "the offset `{offset}` is neither `Z` nor ±hh:mm"
        ))));
    }
    let full = format!("{day}T{hms}{offset}");
    full.parse::<Timestamp>().map_err(|_| {
        refuse(Some(format!(
            "{hms} is no time of day, or {offset} no offset"
        )))
    })
}

/// A year: four digits, 1000 to 9999 (surrounding blanks aside).
pub fn year(text: &str) -> Result<i16> {
    let s = text.trim();
    if let Some(y) = s
        .parse::<i16>()
        .ok()
        .filter(|y| s.len() == 4 && (1000..=9999).contains(y))
    {
        return Ok(y);
    }
    let hint = if let Ok(Some(d)) = s.get(..10).map_or(Ok(None), iso_date) {
        Some(format!(
            "`{s}` is a date, and a year is asked for: give the year alone, {}",
            d.year()
        ))
    } else if s.len() == 2 && s.bytes().all(|c| c.is_ascii_digit()) {
        Some(format!(
            "`{s}` is cut short: give the whole year, e.g. 20{s}"
        ))
    } else {
        None
    };
    Err(refused(YEAR_FORM, hint))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(e: ServiceError) -> String {
        assert_eq!(e.kind(), crate::ErrorKind::BadInput);
        e.to_string()
    }

    /// No parser's own words reach the user.
    fn own_words(m: &str) {
        for leak in [
            "jiff",
            "failed to parse",
            "four digit",
            "parameter",
            "invalid",
        ] {
            assert!(!m.contains(leak), "{m}");
        }
    }

    #[test]
    fn a_date_is_yyyy_mm_dd() {
        assert_eq!(date("2026-04-30").unwrap(), jiff::civil::date(2026, 4, 30));
        assert_eq!(
            date(" 2024-02-29 ").unwrap(),
            jiff::civil::date(2024, 2, 29)
        );
        for (bad, says) in [
            (
                "30/04/2026",
                "reads as day/month/year: give it year first, 2026-04-30",
            ),
            (
                "04/30/2026",
                "reads as month/day/year: give it year first, 2026-04-30",
            ),
            (
                "03.04.2026",
                "could be day/month or month/day: give it year first, 2026-04-03 or 2026-03-04",
            ),
            ("31.12.2024", "2024-12-31"),
            ("2026-4-30", "give `2026-4-30` as 2026-04-30"),
            ("2026/04/30", "as 2026-04-30"),
            (
                "2026-04-30T00:00:00Z",
                "is a time, and a date is asked for: give the day alone, 2026-04-30",
            ),
            ("2026-04-30 10:00", "give the day alone, 2026-04-30"),
            ("2024", "is a year, and a day is asked for"),
            ("2026-02-30", "2026-02 has 28 days"),
            ("2026-13-01", "no month 13"),
            ("", "it is empty"),
            ("tomorrow", ""),
            ("+002026-04-30", ""),
            ("20260430", ""),
        ] {
            let m = message(date(bad).unwrap_err());
            assert!(
                m.starts_with("expected a date such as 2026-04-30 (YYYY-MM-DD)"),
                "{bad}: {m}"
            );
            assert!(m.contains(says), "{bad}: {m}");
            own_words(&m);
        }
    }

    #[test]
    fn a_time_is_a_date_or_rfc_3339_in_whole_seconds() {
        let t = |s: &str| time(s).unwrap().to_string();
        assert_eq!(t("2024-01-12"), "2024-01-12T00:00:00Z");
        assert_eq!(t("2024-01-12T10:00:00Z"), "2024-01-12T10:00:00Z");
        assert_eq!(t("2024-01-12T13:00:00+03:00"), "2024-01-12T10:00:00Z");
        assert_eq!(t("2024-01-12T08:00:00-02:00"), "2024-01-12T10:00:00Z");
        for (bad, says) in [
            ("2026-05-01T04:00:00.5Z", "whole seconds"),
            (
                "2026-05-01T04:00:00",
                "no offset: add `Z` for UTC (2026-05-01T04:00:00Z)",
            ),
            (
                "2026-05-01T04:00Z",
                "give the seconds too, e.g. 2026-05-01T04:00:00Z",
            ),
            (
                "2026-05-01 04:00:00Z",
                "put a `T` between the date and the time: 2026-05-01T04:00:00Z",
            ),
            (
                "2026-05-01T04:00:00+0300",
                "the offset `+0300` is neither `Z` nor ±hh:mm",
            ),
            ("2026-05-01T25:00:00Z", "25:00:00 is no time of day"),
            ("30/04/2026", "2026-04-30"),
            ("2026-02-30T00:00:00Z", "2026-02 has 28 days"),
            ("tomorrow", ""),
            ("", "it is empty"),
        ] {
            let m = message(time(bad).unwrap_err());
            assert!(
                m.starts_with(&format!("expected {TIME_FORMS}")),
                "{bad}: {m}"
            );
            assert!(m.contains(says), "{bad}: {m}");
            own_words(&m);
        }
    }

    #[test]
    fn a_year_is_four_digits() {
        assert_eq!(year("2025").unwrap(), 2025);
        assert_eq!(year(" 1999 ").unwrap(), 1999);
        for (bad, says) in [
            ("25", "give the whole year, e.g. 2025"),
            ("125", ""),
            (
                "2025-01-01",
                "is a date, and a year is asked for: give the year alone, 2025",
            ),
            ("next", ""),
            ("0999", ""),
            ("+2025", ""),
            ("99999", ""),
        ] {
            let m = message(year(bad).unwrap_err());
            assert!(m.starts_with("expected a year such as 2025"), "{bad}: {m}");
            assert!(m.contains(says), "{bad}: {m}");
            own_words(&m);
        }
    }
}
