//! A record that names its own user (`login!(user: X)`, `create!(…, user:
//! X)`, or a `user_id` field on the event) takes the span context's
//! `user_info` only when the context's user is X too: the details of user
//! Y are never written beside user X.

/// The JSON text of the member `quoted_key` (`"user_id":`) of the object
/// `line` is writing (a top-level member; the object may be unfinished).
pub(crate) fn top_level_value<'a>(line: &'a str, quoted_key: &str) -> Option<&'a str> {
    let bytes = line.as_bytes();
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    // Just after the `{` or a `,` of the top-level object: a key comes.
    let mut at_key = false;
    for (i, &c) in bytes.iter().enumerate() {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => {
                if at_key && line[i..].starts_with(quoted_key) {
                    let start = i + quoted_key.len();
                    return Some(&line[start..value_end(bytes, start)]);
                }
                in_string = true;
            }
            b'{' | b'[' => depth += 1,
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
        at_key = depth == 1 && (c == b'{' || c == b',');
    }
    None
}

/// Where the JSON value starting at `start` ends: the next `,`, `}` or `]`
/// outside strings and nested values, or the end of the text.
fn value_end(bytes: &[u8], start: usize) -> usize {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, &c) in bytes.iter().enumerate().skip(start) {
        if in_string {
            if escaped {
                escaped = false;
            } else if c == b'\\' {
                escaped = true;
            } else if c == b'"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => in_string = true,
            b'{' | b'[' => depth += 1,
            b'}' | b']' if depth == 0 => return i,
            b'}' | b']' => depth -= 1,
            b',' if depth == 0 => return i,
            _ => {}
        }
    }
    bytes.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_the_top_level_member() {
        let key = "\"user_id\":";
        let line =
            r#"{"a":{"user_id":"inner"},"s":"\",\"user_id\":","user_id":"7","b":[1,{"user_id":2}]"#;
        assert_eq!(top_level_value(line, key), Some("\"7\""));
        assert_eq!(
            top_level_value(r#"{"x":1,"user_id":{"a":[1,2]}"#, key),
            Some(r#"{"a":[1,2]}"#)
        );
        assert_eq!(top_level_value(r#"{"user_id":"9"}"#, key), Some("\"9\""));
        assert_eq!(
            top_level_value(r#"{"user_idx":"9","y":{"user_id":1}}"#, key),
            None
        );
    }
}
