//! UTC calendar days as `YYYY-MM-DD`, for reports over periods of block
//! time and for block times in receipts. Day n is the n-th day since
//! 1970-01-01, which is how the state buckets obligation totals
//! (`block time / DAY_MS`).
//!
//! The conversion is the proleptic Gregorian calendar, by Howard Hinnant's
//! days-from-civil algorithm: integer arithmetic only, no time zone data.

/// Why a date was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a date between 1970-01-01 and 9999-12-31 in the form YYYY-MM-DD")]
pub struct DateError {
    /// The text given.
    pub text: String,
}

/// The day number of `text` (`YYYY-MM-DD`, UTC).
pub fn day_of_date(text: &str) -> Result<u32, DateError> {
    let error = || DateError {
        text: text.chars().take(32).collect(),
    };
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return Err(error());
    }
    let number = |range: std::ops::Range<usize>| -> Result<u32, DateError> {
        let part = &text[range];
        if !part.bytes().all(|b| b.is_ascii_digit()) {
            return Err(error());
        }
        part.parse().map_err(|_| error())
    };
    let (year, month, day) = (number(0..4)?, number(5..7)?, number(8..10)?);
    if year < 1970 || !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
        return Err(error());
    }
    let days = days_from_civil(i64::from(year), month, day);
    u32::try_from(days).map_err(|_| error())
}

/// The `YYYY-MM-DD` of day number `day`.
pub fn date_of_day(day: u32) -> String {
    let (year, month, day) = civil_from_days(i64::from(day));
    format!("{year:04}-{month:02}-{day:02}")
}

/// Block time as `2027-03-01 14:05:09.120 UTC`.
pub fn utc(timestamp_ms: u64) -> String {
    let seconds = timestamp_ms / 1000;
    let (year, month, day) = civil_from_days((seconds / 86_400) as i64);
    let second_of_day = seconds % 86_400;
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}.{:03} UTC",
        second_of_day / 3600,
        second_of_day / 60 % 60,
        second_of_day % 60,
        timestamp_ms % 1000
    )
}

fn is_leap(year: u32) -> bool {
    (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400)
}

/// Days in `month` (1–12) of `year`.
pub fn days_in_month(year: u32, month: u32) -> u32 {
    match month {
        2 if is_leap(year) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days from 1970-01-01 to `year-month-day` (negative before).
pub fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let month = i64::from(month);
    let day_of_year =
        (153 * (if month > 2 { month - 3 } else { month + 9 }) + 2) / 5 + i64::from(day) - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let days = days + 719_468;
    let era = days.div_euclid(146_097);
    let day_of_era = days - era * 146_097;
    let year_of_era =
        (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_index = (5 * day_of_year + 2) / 153;
    let day = (day_of_year - (153 * month_index + 2) / 5 + 1) as u32;
    let month = if month_index < 10 {
        month_index + 3
    } else {
        month_index - 9
    } as u32;
    let year = year_of_era + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_days() {
        let cases: &[(&str, u32)] = &[
            ("1970-01-01", 0),
            ("1970-01-02", 1),
            ("2000-02-29", 11_016),
            ("2000-03-01", 11_017),
            ("2026-12-01", 20_788),
            ("9999-12-31", 2_932_896),
        ];
        for (text, day) in cases {
            assert_eq!(day_of_date(text), Ok(*day), "{text}");
            assert_eq!(date_of_day(*day), *text);
        }
    }

    #[test]
    fn refuses_what_is_not_a_date() {
        for text in [
            "",
            "2026-1-01",
            "2026/12/01",
            "1969-12-31",
            "2026-02-29",
            "2024-02-30",
            "2026-13-01",
            "2026-00-10",
            "2026-12-00",
            "20x6-12-01",
            "+026-12-01",
            "2026-12-011",
        ] {
            assert!(day_of_date(text).is_err(), "{text:?}");
        }
        assert!(day_of_date("2024-02-29").is_ok());
    }

    #[test]
    fn utc_timestamps() {
        let cases = [
            (0, "1970-01-01 00:00:00.000 UTC"),
            (951_782_400_000, "2000-02-29 00:00:00.000 UTC"),
            (1_700_000_000_123, "2023-11-14 22:13:20.123 UTC"),
            (4_102_444_799_999, "2099-12-31 23:59:59.999 UTC"),
            (u64::MAX, "584556019-04-03 14:25:51.615 UTC"),
        ];
        for (timestamp_ms, expected) in cases {
            assert_eq!(utc(timestamp_ms), expected);
        }
    }

    #[test]
    fn every_day_round_trips() {
        for day in (0..1_000_000u32).step_by(97) {
            assert_eq!(day_of_date(&date_of_day(day)), Ok(day));
        }
    }
}
