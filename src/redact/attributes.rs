//! XML and HTML attributes that hold a secret: the `value` (or
//! `content`) of an element named by a secret key, by its tag or by a
//! naming attribute (`<add key="Password" value="…"/>`,
//! `<input type="password" value="…">`).

use super::keyval::{is_key_char, MAX_KEY};

/// Whether an attribute named `key` holds an element's value (`value=`,
/// `content=`).
pub(super) fn is_value_attribute(key: &str) -> bool {
    key.eq_ignore_ascii_case("value") || key.eq_ignore_ascii_case("content")
}

/// The attributes that name what an element holds: `.NET`'s `<add
/// key="…">`, HTML's `<input name="…" type="password">`, Spring's
/// `<property name="…">`.
const NAMING_ATTRIBUTES: &[&[u8]] = &[b"key", b"name", b"id", b"type", b"property"];

/// Whether the attribute starting at `attr` sits in an XML or HTML tag
/// named by a secret key (`<password value="…"/>`) or whose naming
/// attribute's value is one (`<add key="Password" value="…"/>`,
/// `<input type="password" value="…">`), in either order.
pub(super) fn in_secret_element(
    s: &[u8],
    attr: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
) -> bool {
    let from = attr.saturating_sub(4 * MAX_KEY);
    let Some(open) = s[from..attr]
        .iter()
        .rposition(|&b| b == b'<')
        .map(|i| from + i)
    else {
        return false;
    };
    if s[open..attr].contains(&b'>') {
        return false;
    }
    let to = (attr + 4 * MAX_KEY).min(s.len());
    let close = s[attr..to]
        .iter()
        .position(|&b| b == b'>')
        .map_or(to, |i| attr + i);
    let tag = &s[open + 1..close];
    let name_len = tag
        .iter()
        .position(|&b| !is_key_char(b) && b != b':')
        .unwrap_or(tag.len());
    let local = |name: &[u8]| match name.iter().rposition(|&b| b == b':') {
        Some(colon) => name[colon + 1..].to_vec(),
        None => name.to_vec(),
    };
    let secret = |text: &[u8]| std::str::from_utf8(text).is_ok_and(is_secret_key);
    if name_len > 0 && secret(&local(&tag[..name_len])) {
        return true;
    }
    // Each `name="text"` of the tag.
    let mut i = name_len;
    while let Some(eq) = tag[i..].iter().position(|&b| b == b'=').map(|n| i + n) {
        let name_start = tag[..eq]
            .iter()
            .rposition(|&b| !is_key_char(b) && b != b':')
            .map_or(0, |n| n + 1);
        let quote = tag.get(eq + 1).copied();
        let Some(q @ (b'"' | b'\'')) = quote else {
            i = eq + 1;
            continue;
        };
        let text_start = eq + 2;
        let text_end = tag[text_start..]
            .iter()
            .position(|&b| b == q)
            .map_or(tag.len(), |n| text_start + n);
        let attr_name = local(&tag[name_start..eq]);
        if NAMING_ATTRIBUTES
            .iter()
            .any(|n| attr_name.eq_ignore_ascii_case(n))
            && secret(&tag[text_start..text_end])
        {
            return true;
        }
        i = (text_end + 1).min(tag.len());
    }
    false
}
