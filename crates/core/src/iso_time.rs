//! ISO 8601 times as the new gateway writes and reads them (`2021-01-06T11:47:37Z`), to and from
//! epoch milliseconds, in the proleptic Gregorian calendar. Only what DingTalk's APIs use:
//! seconds precision out; in, seconds with optional fraction, and `Z`, `±hh:mm` or no zone (UTC).

const MS_PER_DAY: i64 = 86_400_000;

/// Days since 1970-01-01 of a civil date.
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// The calendar month holding `ms` in a zone `offset_ms` ahead of UTC: its first and the next
/// month's first instant, in ms since the epoch.
pub fn month_of(ms: i64, offset_ms: i64) -> (i64, i64) {
    let (year, month, _) = civil_from_days((ms + offset_ms).div_euclid(MS_PER_DAY));
    let (next_year, next_month) = if month == 12 { (year + 1, 1) } else { (year, month + 1) };
    (
        days_from_civil(year, month, 1) * MS_PER_DAY - offset_ms,
        days_from_civil(next_year, next_month, 1) * MS_PER_DAY - offset_ms,
    )
}

/// `2021-01-06T11:47:37Z` for an instant in epoch milliseconds (the fraction is dropped).
pub fn format_utc(ms: i64) -> String {
    let (days, rest) = (ms.div_euclid(MS_PER_DAY), ms.rem_euclid(MS_PER_DAY) / 1000);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rest / 3600,
        rest / 60 % 60,
        rest % 60
    )
}

/// Reads `YYYY-MM-DDTHH:MM[:SS[.fff]]` followed by `Z`, `±hh:mm`, `±hhmm` or nothing (UTC), or a
/// date alone (midnight UTC); `None` for anything else or an impossible date.
pub fn parse(text: &str) -> Option<i64> {
    let t = text.trim();
    let num = |s: &str| -> Option<i64> { s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse().ok()).flatten() };
    let (date, time) = match t.split_once(['T', 't', ' ']) {
        Some((d, tm)) => (d, Some(tm)),
        None => (t, None),
    };
    let mut parts = date.split('-');
    let (year, month, day) = (num(parts.next()?)?, num(parts.next()?)?, num(parts.next()?)?);
    if parts.next().is_some() || date.len() != 10 || !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let month_days = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if day < 1 || day > month_days[usize::try_from(month - 1).ok()?] {
        return None;
    }
    let mut ms = days_from_civil(year, month, day) * MS_PER_DAY;
    let Some(time) = time else { return Some(ms) };
    let (clock, offset_min) = if let Some(c) = time.strip_suffix(['Z', 'z']) {
        (c, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (c, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let z = zone[1..].replace(':', "");
        if z.len() != 4 {
            return None;
        }
        let (h, m) = (num(&z[..2])?, num(&z[2..])?);
        if h > 23 || m > 59 {
            return None;
        }
        (c, sign * (h * 60 + m))
    } else {
        (time, 0)
    };
    let (whole, fraction) = clock.split_once('.').unwrap_or((clock, ""));
    if !fraction.is_empty() && num(fraction).is_none() {
        return None;
    }
    let hms: Vec<&str> = whole.split(':').collect();
    if !(2..=3).contains(&hms.len()) || hms.iter().any(|p| p.len() != 2) {
        return None;
    }
    let (h, m) = (num(hms[0])?, num(hms[1])?);
    let s = match hms.get(2) {
        Some(x) => num(x)?,
        None => 0,
    };
    if h > 23 || m > 59 || s > 59 {
        return None;
    }
    let millis = match fraction.len() {
        0 => 0,
        n => num(&format!("{:0<3}", &fraction[..n.min(3)]))?,
    };
    ms += ((h * 60 + m - offset_min) * 60 + s) * 1000 + millis;
    Some(ms)
}

#[cfg(test)]
mod tests {
    use super::{format_utc, parse};

    #[test]
    fn formats_as_the_gateway_writes_times() {
        assert_eq!(format_utc(0), "1970-01-01T00:00:00Z");
        assert_eq!(format_utc(1_609_933_657_000), "2021-01-06T11:47:37Z");
        assert_eq!(format_utc(951_782_400_999), "2000-02-29T00:00:00Z");
        assert_eq!(format_utc(-1000), "1969-12-31T23:59:59Z");
    }

    #[test]
    fn parses_the_forms_sdks_send() {
        let at = 1_609_933_657_000;
        for text in [
            "2021-01-06T11:47:37Z",
            "2021-01-06T11:47:37",
            "2021-01-06T19:47:37+08:00",
            "2021-01-06T19:47:37+0800",
            "2021-01-06T03:47:37-08:00",
            "2021-01-06 11:47:37Z",
        ] {
            assert_eq!(parse(text), Some(at), "{text}");
        }
        assert_eq!(parse("2021-01-06T11:47:37.25Z"), Some(at + 250));
        assert_eq!(parse("2021-01-06T11:47Z"), Some(at - 37_000));
        assert_eq!(parse("2021-01-06"), Some(1_609_891_200_000));
        for round in [0, 951_782_400_000, 1_700_000_000_000, 4_102_444_799_000] {
            assert_eq!(parse(&format_utc(round)), Some(round));
        }
    }

    #[test]
    fn refuses_what_is_not_a_time() {
        for text in [
            "",
            "yesterday",
            "2021-13-01T00:00:00Z",
            "2021-02-29T00:00:00Z",
            "2021-01-06T24:00:00Z",
            "2021-01-06T11:60:00Z",
            "2021-1-6T11:47:37Z",
            "2021-01-06T11:47:37+8",
            "1609933657000",
            "2021-01-06T11:47:37.xZ",
            "２０２１-01-06",
        ] {
            assert_eq!(parse(text), None, "{text:?}");
        }
    }
}

#[cfg(test)]
mod month_tests {
    use super::*;

    #[test]
    fn a_month_in_china_time_starts_at_16_00_utc_the_day_before() {
        let china = 8 * 3_600_000;
        // 2026-12-07T04:00:00Z is December in Beijing.
        let (start, end) = month_of(parse("2026-12-07T04:00:00Z").unwrap(), china);
        assert_eq!(format_utc(start), "2026-11-30T16:00:00Z");
        assert_eq!(format_utc(end), "2026-12-31T16:00:00Z");
        // 2026-12-31T17:00:00Z is already January 2027 in Beijing.
        let (start, _) = month_of(parse("2026-12-31T17:00:00Z").unwrap(), china);
        assert_eq!(format_utc(start), "2026-12-31T16:00:00Z");
        let (start, end) = month_of(parse("2028-02-10T00:00:00Z").unwrap(), 0);
        assert_eq!(
            (format_utc(start), format_utc(end)),
            ("2028-02-01T00:00:00Z".into(), "2028-03-01T00:00:00Z".into())
        );
    }
}
