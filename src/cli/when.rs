//! Times on the command line (`--since`, `--until`) and in records.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime, UtcOffset};

/// A point in time to compare records' `timestamp` with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct When {
    at: OffsetDateTime,
    /// `at` in the crate's own form (`2026-11-29T10:00:00.123456Z`): the
    /// records' timestamps compare with it as plain text.
    text: String,
}

impl When {
    /// Reads RFC 3339 (any offset) or an age back from `now`: a number
    /// and a unit, `s`, `m`, `h`, `d` or `w` (`90s`, `1h`, `7d`).
    pub fn parse(arg: &str, now: OffsetDateTime) -> Result<When, String> {
        let arg = arg.trim();
        let at = match age(arg) {
            Some(age) => now.checked_sub(age).ok_or_else(|| format!("{arg:?}: too far back"))?,
            None => OffsetDateTime::parse(arg, &Rfc3339).map_err(|e| {
                format!("{arg:?}: not RFC 3339 (2026-11-29T10:00:00Z) nor an age (90s, 15m, 1h, 7d, 2w): {e}")
            })?,
        };
        Ok(When::at(at))
    }

    /// The time `at`.
    pub fn at(at: OffsetDateTime) -> When {
        let at = at.to_offset(UtcOffset::UTC);
        let text = format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}Z",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second(),
            at.microsecond()
        );
        When { at, text }
    }

    /// Compares a record's `timestamp` with this time: `None` when it is
    /// not a time at all.
    pub fn cmp_timestamp(&self, timestamp: &str) -> Option<std::cmp::Ordering> {
        if is_canonical(timestamp) {
            return Some(timestamp.cmp(self.text.as_str()));
        }
        let t = OffsetDateTime::parse(timestamp, &Rfc3339).ok()?;
        Some(t.cmp(&self.at))
    }
}

/// The crate's own form, which sorts as text: `YYYY-MM-DDTHH:MM:SS.ffffffZ`.
fn is_canonical(t: &str) -> bool {
    let b = t.as_bytes();
    b.len() == 27
        && b[4] == b'-'
        && b[10] == b'T'
        && b[19] == b'.'
        && b[26] == b'Z'
        && b.iter()
            .enumerate()
            .all(|(i, c)| matches!(i, 4 | 7 | 10 | 13 | 16 | 19 | 26) || c.is_ascii_digit())
}

/// `90s`, `15m`, `1h`, `7d`, `2w`.
fn age(arg: &str) -> Option<Duration> {
    let unit = arg.chars().last()?;
    let number: i64 = arg[..arg.len() - unit.len_utf8()].parse().ok()?;
    if number < 0 {
        return None;
    }
    let seconds = match unit {
        's' => 1,
        'm' => 60,
        'h' => 3600,
        'd' => 86_400,
        'w' => 604_800,
        _ => return None,
    };
    Some(Duration::seconds(number.checked_mul(seconds)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cmp::Ordering;
    use time::macros::datetime;

    #[test]
    fn ages_and_rfc3339() {
        let now = datetime!(2026-11-29 10:00:00 UTC);
        assert_eq!(
            When::parse("1h", now).unwrap().text,
            "2026-11-29T09:00:00.000000Z"
        );
        assert_eq!(
            When::parse("7d", now).unwrap().text,
            "2026-11-22T10:00:00.000000Z"
        );
        assert_eq!(
            When::parse("90s", now).unwrap().text,
            "2026-11-29T09:58:30.000000Z"
        );
        assert_eq!(
            When::parse("2026-11-29T12:00:00.5+02:00", now)
                .unwrap()
                .text,
            "2026-11-29T10:00:00.500000Z"
        );
        for bad in [
            "",
            "h",
            "1y",
            "-1h",
            "yesterday",
            "2026-11-29",
            "99999999999999999w",
        ] {
            assert!(When::parse(bad, now).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn compares_canonical_text_and_other_rfc3339() {
        let when = When::parse("2026-11-29T10:00:00Z", OffsetDateTime::now_utc()).unwrap();
        assert_eq!(
            when.cmp_timestamp("2026-11-29T09:59:59.999999Z"),
            Some(Ordering::Less)
        );
        assert_eq!(
            when.cmp_timestamp("2026-11-29T10:00:00.000000Z"),
            Some(Ordering::Equal)
        );
        assert_eq!(
            when.cmp_timestamp("2026-11-29T11:00:00+02:00"),
            Some(Ordering::Less)
        );
        assert_eq!(when.cmp_timestamp("not a time"), None);
    }
}
