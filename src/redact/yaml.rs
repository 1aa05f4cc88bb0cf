//! YAML blocks under a secret key: a block scalar (`password: |` and its
//! indented lines) or the indented lines (or list) after a key with
//! nothing on its line. Their lines are the value masked.

use std::ops::Range;

/// After a YAML key starting at `key` whose value would start at `v`:
/// when the value is a block scalar's indicator (`|`, `>`, with `-`, `+`
/// or a digit) or nothing, the lines of the block that follows (more
/// indented than the key's line, or, for nothing, a list at its
/// indentation), blank lines included.
pub(super) fn yaml_block(s: &[u8], key: usize, v: usize) -> Option<Range<usize>> {
    let mut i = v;
    let scalar = matches!(s.get(i), Some(b'|' | b'>'));
    if scalar {
        i += 1;
        i += s[i..]
            .iter()
            .take_while(|b| matches!(b, b'-' | b'+') || b.is_ascii_digit())
            .count();
        i += s[i..].iter().take_while(|&&b| b == b' ').count();
    }
    if s.get(i) == Some(&b'\r') {
        i += 1;
    }
    if s.get(i) != Some(&b'\n') {
        return None;
    }
    let line_start = s[..key]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |n| n + 1);
    let key_indent = s[line_start..].iter().take_while(|&&b| b == b' ').count();
    let first = i + 1;
    let mut end = first;
    let mut line = first;
    while line < s.len() {
        let len = s[line..]
            .iter()
            .position(|&b| b == b'\n')
            .unwrap_or(s.len() - line);
        let text = &s[line..line + len];
        let indent = text.iter().take_while(|&&b| b == b' ').count();
        let blank = text.iter().all(|b| b.is_ascii_whitespace());
        let list_item = !scalar && indent == key_indent && text[indent..].starts_with(b"- ");
        if !blank && indent <= key_indent && !list_item {
            break;
        }
        if !blank {
            end = line + len;
            if s[..end].ends_with(b"\r") {
                end -= 1;
            }
        }
        line += len + 1;
    }
    (end > first).then_some(first..end)
}
