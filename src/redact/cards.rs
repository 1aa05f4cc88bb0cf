//! Payment card numbers inside text: 13 to 19 digits of a card brand's
//! ranges that pass the Luhn check, written in one piece or in groups of
//! at least 3 digits separated by single spaces or dashes
//! (`4111 1111 1111 1111`, `3782-822463-10005`).
//!
//! A number glued to a letter or a digit on either side (`x4111…`, part of
//! a hex hash) is not one; neither is a piece of a longer run of digits.

use std::ops::Range;

/// Groups remembered while walking a run: a card spans at most 6 groups
/// of 3 or more digits.
const WINDOW: usize = 7;

/// Looks at the run of digits and separators starting at `start` (a
/// digit). Returns the first card number in it, if any, and where the run
/// ends (where scanning goes on).
pub(super) fn in_run(s: &[u8], start: usize) -> (Option<Range<usize>>, usize) {
    // Most runs are short numbers: counted, and skipped, first.
    let (digits, end) = count_run(s, start);
    if digits < 13 {
        return (None, end);
    }
    let glued_before = start > 0 && s[start - 1].is_ascii_alphanumeric();
    // The last groups: (start, end) of their digits.
    let mut groups = [(0usize, 0usize); WINDOW];
    let mut count = 0usize;
    let mut i = start;
    loop {
        let g_start = i;
        while i < s.len() && s[i].is_ascii_digit() {
            i += 1;
        }
        groups[count % WINDOW] = (g_start, i);
        count += 1;
        let continues = i + 1 < s.len() && matches!(s[i], b' ' | b'-') && s[i + 1].is_ascii_digit();
        let glued_after = !continues && i < s.len() && s[i].is_ascii_alphabetic();
        // Windows ending at this group, the longest first.
        let newest = count - 1;
        let oldest = newest.saturating_sub(WINDOW - 2);
        for first in oldest..=newest {
            if (first == 0 && glued_before) || (!continues && glued_after) {
                continue;
            }
            if let Some(range) = window(s, &groups, first, newest) {
                return (Some(range), range_end(&groups, newest));
            }
        }
        if !continues {
            return (None, i);
        }
        i += 1;
    }
}

/// How many digits the run at `start` has, and where it ends.
#[inline]
pub(super) fn count_run(s: &[u8], start: usize) -> (usize, usize) {
    let mut digits = 0;
    let mut i = start;
    while i < s.len() {
        if s[i].is_ascii_digit() {
            digits += 1;
        } else if !(matches!(s[i], b' ' | b'-') && s.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            break;
        }
        i += 1;
    }
    (digits, i)
}

fn range_end(groups: &[(usize, usize); WINDOW], last: usize) -> usize {
    groups[last % WINDOW].1
}

/// Whether groups `first..=last` make a card number.
fn window(
    s: &[u8],
    groups: &[(usize, usize); WINDOW],
    first: usize,
    last: usize,
) -> Option<Range<usize>> {
    let mut digits = [0u8; 19];
    let mut n = 0;
    for g in first..=last {
        let (a, b) = groups[g % WINDOW];
        if first != last && b - a < 3 {
            return None;
        }
        for &d in &s[a..b] {
            *digits.get_mut(n)? = d - b'0';
            n += 1;
        }
    }
    let digits = &digits[..n];
    (n >= 13 && is_card_range(digits) && luhn(digits))
        .then(|| groups[first % WINDOW].0..groups[last % WINDOW].1)
}

fn luhn(digits: &[u8]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            match (i % 2 == 1, d * 2) {
                (true, doubled) if doubled > 9 => doubled - 9,
                (true, doubled) => doubled,
                (false, _) => d,
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// Whether the leading digits and the length are those of a card brand
/// (Visa, Mastercard, American Express, Discover, JCB, Diners Club,
/// UnionPay): numbers of the right length outside these ranges, such as
/// most numeric ids and timestamps, are left alone.
fn is_card_range(d: &[u8]) -> bool {
    let prefix = |k: usize| d[..k].iter().fold(0u32, |n, &x| n * 10 + u32::from(x));
    let len = d.len();
    match d[0] {
        4 => matches!(len, 13 | 16 | 19),
        5 => (51..=55).contains(&prefix(2)) && len == 16,
        2 => (2221..=2720).contains(&prefix(4)) && len == 16,
        3 => match prefix(2) {
            34 | 37 => len == 15,
            35 => (3528..=3589).contains(&prefix(4)) && (16..=19).contains(&len),
            36 => (14..=19).contains(&len),
            30 => (300..=305).contains(&prefix(3)) && (14..=19).contains(&len),
            38 | 39 => (16..=19).contains(&len),
            _ => false,
        },
        6 => {
            (prefix(4) == 6011
                || prefix(2) == 65
                || prefix(2) == 62
                || (644..=649).contains(&prefix(3)))
                && (16..=19).contains(&len)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn find(s: &str) -> Option<&str> {
        let b = s.as_bytes();
        let mut i = 0;
        while i < b.len() {
            if b[i].is_ascii_digit() {
                let (found, end) = in_run(b, i);
                if let Some(r) = found {
                    return Some(&s[r]);
                }
                i = end;
            }
            i += 1;
        }
        None
    }

    #[test]
    fn finds_card_numbers_in_text() {
        assert_eq!(find("card 4111111111111111 ok"), Some("4111111111111111"));
        assert_eq!(find("4111-1111-1111-1111."), Some("4111-1111-1111-1111"));
        assert_eq!(find("amex 3782 822463 10005"), Some("3782 822463 10005"));
        assert_eq!(
            find("ref 12 4111 1111 1111 1111"),
            Some("4111 1111 1111 1111")
        );
        assert_eq!(find("(5500000000000004)"), Some("5500000000000004"));
    }

    #[test]
    fn leaves_other_numbers_alone() {
        assert_eq!(find("4111111111111112"), None, "Luhn");
        assert_eq!(find("1234567890123452"), None, "no brand starts with 1");
        assert_eq!(find("x4111111111111111"), None, "glued to a letter");
        assert_eq!(find("4111111111111111abc"), None, "glued to a letter");
        assert_eq!(find("41111111111111110"), None, "17 digits, Visa has 16");
        assert_eq!(find("4111--1111111111111"), None);
        assert_eq!(find("4 8 15 16 23 42 4 8 15 16 23 42"), None);
        assert_eq!(find("1732812345678901234 2024-01-02"), None);
        assert_eq!(find("12345678-1234-4123-8123-123456789012"), None);
    }
}
