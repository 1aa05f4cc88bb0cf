//! `key=value` and `key: value` inside text, where the key is secret by the
//! policy: `password=hunter2` in a message, `?access_token=…` in a URL,
//! `"password":"…"` in JSON text, `password: "…"` in `Debug` output. The
//! value is masked, the key stays.

use std::ops::Range;

/// Authorization schemes, kept before the credentials they introduce.
const SCHEMES: &[&[u8]] = &[b"bearer", b"basic", b"token", b"digest", b"negotiate"];

/// The longest key looked at.
const MAX_KEY: usize = 64;

fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// At a `:` or `=` at `at`: the value after it, when the key before it
/// (bare or in quotes) is secret by `is_secret_key`.
pub(super) fn at_separator(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
) -> Option<Range<usize>> {
    // The key, bare (`password=`) or quoted (`"password":`).
    let quote = at
        .checked_sub(1)
        .map(|i| s[i])
        .filter(|&b| b == b'"' || b == b'\'');
    let end = at - usize::from(quote.is_some());
    let mut start = end;
    while start > 0 && end - start < MAX_KEY && is_key_char(s[start - 1]) {
        start -= 1;
    }
    // A key starts with a letter or `_` (not `05` of `05:17`, not `8443`).
    let starts_like_a_key = s
        .get(start)
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_');
    if start == end
        || !starts_like_a_key
        || (quote.is_some() && (start == 0 || Some(s[start - 1]) != quote))
    {
        return None;
    }
    // The value: quoted up to its closing quote, or bare up to a delimiter.
    let mut v = at + 1;
    while v < s.len() && matches!(s[v], b' ' | b'\t') {
        v += 1;
    }
    // `Authorization: Bearer …`: the scheme stays, the credentials go.
    let word = s[v..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let spaces = s[v + word..].iter().take_while(|&&b| b == b' ').count();
    if spaces > 0
        && SCHEMES
            .iter()
            .any(|scheme| s[v..v + word].eq_ignore_ascii_case(scheme))
    {
        v += word + spaces;
    }
    let range = match *s.get(v)? {
        b'{' | b'[' | b'/' => return None,
        q @ (b'"' | b'\'') => {
            let mut j = v + 1;
            while j < s.len() && s[j] != q {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            v + 1..j.min(s.len())
        }
        _ => {
            let len = s[v..]
                .iter()
                .take_while(|&&b| {
                    !b.is_ascii_whitespace()
                        && !matches!(
                            b,
                            b',' | b';' | b'&' | b')' | b'}' | b']' | b'"' | b'\'' | b'<' | b'>'
                        )
                })
                .count();
            v..v + len
        }
    };
    if range.is_empty() {
        return None;
    }
    let key = std::str::from_utf8(&s[start..end]).ok()?;
    is_secret_key(key).then_some(range)
}
