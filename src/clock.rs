//! UTC time formatting shared by every part of the crate that stamps bytes.
//!
//! Two formats only: RFC 3339 with exactly six decimals and `Z` (record and
//! summary-line timestamps), and the compact ISO 8601 basic form used in the
//! names of rotated files, which sorts by time as plain text.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;

/// Broken-down UTC time, microsecond precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Utc {
    pub(crate) year: i32,
    pub(crate) month: u8,
    pub(crate) day: u8,
    pub(crate) hour: u8,
    pub(crate) minute: u8,
    pub(crate) second: u8,
    pub(crate) micros: u32,
}

impl Utc {
    pub(crate) fn from_system(t: SystemTime) -> Self {
        let dt = OffsetDateTime::from(t);
        let (year, month, day) = dt.to_calendar_date();
        let (hour, minute, second, micros) = dt.to_hms_micro();
        Utc {
            year,
            month: month as u8,
            day,
            hour,
            minute,
            second,
            micros,
        }
    }

    /// `2026-11-22T10:00:00.123456Z`
    pub(crate) fn write_rfc3339(&self, out: &mut Vec<u8>) {
        push_digits(out, self.year.clamp(0, 9999) as u32, 4);
        out.push(b'-');
        push_digits(out, self.month as u32, 2);
        out.push(b'-');
        push_digits(out, self.day as u32, 2);
        out.push(b'T');
        push_digits(out, self.hour as u32, 2);
        out.push(b':');
        push_digits(out, self.minute as u32, 2);
        out.push(b':');
        push_digits(out, self.second as u32, 2);
        out.push(b'.');
        push_digits(out, self.micros, 6);
        out.push(b'Z');
    }

    /// `20261122T100000.123456Z`: the suffix of a rotated file's name.
    pub(crate) fn compact(&self) -> String {
        let mut out = Vec::with_capacity(23);
        push_digits(&mut out, self.year.clamp(0, 9999) as u32, 4);
        push_digits(&mut out, self.month as u32, 2);
        push_digits(&mut out, self.day as u32, 2);
        out.push(b'T');
        push_digits(&mut out, self.hour as u32, 2);
        push_digits(&mut out, self.minute as u32, 2);
        push_digits(&mut out, self.second as u32, 2);
        out.push(b'.');
        push_digits(&mut out, self.micros, 6);
        out.push(b'Z');
        // Only ASCII digits and punctuation were pushed.
        String::from_utf8(out).unwrap_or_default()
    }
}

/// Writes the present time as RFC 3339 UTC with six decimals, as every
/// record's `timestamp`. The calendar part is computed once per second per
/// thread.
/// Returns the time written, as a duration since the Unix epoch.
pub(crate) fn write_now_rfc3339(out: &mut String) -> Duration {
    use std::cell::RefCell;
    // "2026-11-22T10:00:00." for the second in `.0`.
    thread_local!(static PREFIX: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) });
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    let secs = since.as_secs();
    PREFIX.with(|cell| {
        let Ok(mut prefix) = cell.try_borrow_mut() else {
            // Not reachable (nothing runs in between), but never leave the
            // timestamp without its date.
            let mut full = Vec::with_capacity(27);
            Utc::from_system(UNIX_EPOCH + Duration::from_secs(secs)).write_rfc3339(&mut full);
            out.push_str(&String::from_utf8_lossy(&full[..20]));
            return;
        };
        if prefix.0 != secs {
            let mut full = Vec::with_capacity(27);
            Utc::from_system(UNIX_EPOCH + Duration::from_secs(secs)).write_rfc3339(&mut full);
            prefix.1 = String::from_utf8_lossy(&full[..20]).into_owned();
            prefix.0 = secs;
        }
        out.push_str(&prefix.1);
    });
    let mut v = since.subsec_micros();
    let mut digits = [b'0'; 6];
    for slot in digits.iter_mut().rev() {
        *slot = b'0' + (v % 10) as u8;
        v /= 10;
    }
    for d in digits {
        out.push(char::from(d));
    }
    out.push('Z');
    since
}

fn push_digits(out: &mut Vec<u8>, mut value: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
}

/// Seconds since the Unix epoch (0 for times before it).
pub(crate) fn unix_seconds(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The first multiple of `period` (counted from the epoch, so UTC-aligned)
/// strictly after `t`.
pub(crate) fn next_boundary(t: SystemTime, period: Duration) -> SystemTime {
    let p = period.as_secs().max(1);
    let next = (unix_seconds(t) / p + 1) * p;
    UNIX_EPOCH + Duration::from_secs(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(secs: u64, micros: u32) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(secs) + Duration::from_micros(micros as u64)
    }

    #[test]
    fn rfc3339_has_six_decimals_and_z() {
        // 2026-11-22T10:00:00Z
        let t = at(1_795_341_600, 123);
        let mut out = Vec::new();
        Utc::from_system(t).write_rfc3339(&mut out);
        assert_eq!(out, b"2026-11-22T10:00:00.000123Z");
    }

    #[test]
    fn now_is_rfc3339_utc_with_six_decimals() {
        let mut out = String::new();
        write_now_rfc3339(&mut out);
        write_now_rfc3339(&mut out);
        assert_eq!(out.len(), 54, "{out}");
        let first = &out[..27];
        assert!(
            first.ends_with('Z') && first.as_bytes()[19] == b'.',
            "{first}"
        );
        let parsed =
            time::OffsetDateTime::parse(first, &time::format_description::well_known::Rfc3339);
        assert!(parsed.is_ok(), "{first}: {parsed:?}");
    }

    #[test]
    fn compact_sorts_by_time() {
        let a = Utc::from_system(at(1_795_341_600, 999_999)).compact();
        let b = Utc::from_system(at(1_795_341_601, 0)).compact();
        assert_eq!(a, "20261122T100000.999999Z");
        assert!(a < b);
    }

    #[test]
    fn boundaries_are_utc_aligned() {
        let t = at(1_795_341_600 + 1_234, 5);
        assert_eq!(
            next_boundary(t, Duration::from_secs(3600)),
            at(1_795_341_600 + 3600, 0)
        );
        assert_eq!(
            next_boundary(at(1_795_341_600, 0), Duration::from_secs(86_400)),
            at(1_795_392_000, 0)
        );
    }
}
