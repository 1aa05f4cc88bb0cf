//! `key=value` and `key: value` inside text, where the key is secret by the
//! policy: `password=hunter2` in a message, `?access_token=…` in a URL,
//! `"password":"…"` in JSON text, `password: "…"` in `Debug` output,
//! `<password>…</password>` in XML or HTML. The value is masked, the key
//! stays.

use std::ops::Range;

use super::attributes;

/// Authorization schemes, kept before the credentials they introduce.
const SCHEMES: &[&[u8]] = &[b"bearer", b"basic", b"token", b"digest", b"negotiate"];

/// The longest key looked at.
pub(super) const MAX_KEY: usize = 64;

/// The most spaces or tabs between a key and its separator.
const MAX_GAP: usize = 4;

/// The end of the bracketed value opening at `open` (`(`, `[` or `{`):
/// just after its closing bracket, skipping nested brackets and strings in
/// double quotes, and whether it is closed (if not, the end of `s`).
fn balanced(s: &[u8], open: usize) -> (usize, bool) {
    let mut depth = 0usize;
    let mut i = open;
    while i < s.len() {
        match s[i] {
            b'(' | b'[' | b'{' => depth += 1,
            b')' | b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return (i + 1, true);
                }
            }
            b'"' => {
                i += 1;
                while i < s.len() && s[i] != b'"' {
                    i += if s[i] == b'\\' { 2 } else { 1 };
                }
            }
            _ => {}
        }
        i += 1;
    }
    (s.len(), false)
}

pub(super) fn is_key_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')
}

/// At a `>` at `at` that closes an opening tag (`<password>`,
/// `<ns:Token attr="x">`): the element's text up to the next `<`, when the
/// tag's name (without a namespace prefix) is a secret key.
pub(super) fn at_tag_end(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
) -> Option<Range<usize>> {
    // The tag: back from `>` to its `<`, within the longest key and some
    // attributes.
    let from = at.saturating_sub(4 * MAX_KEY);
    let open = from + s[from..at].iter().rposition(|&b| b == b'<')?;
    element_text(s, &s[open + 1..at], at + 1, b"<", is_secret_key)
}

/// The escaped forms of `<` and `>` a tag may be written with: HTML's
/// (`&lt;password&gt;`, XML shown in a page) and JSON's (`\u003c…\u003e`,
/// as encoders that escape HTML characters write them).
const ESCAPED_TAGS: &[(&[u8], &[u8])] = &[(b"&lt;", b"&gt;"), (b"\\u003c", b"\\u003e")];

/// At the `;` of `&gt;` or the `\` of `\u003e` at `at`, closing an
/// escaped opening tag (`&lt;password&gt;`): the element's text up to
/// the next escaped `<`, when the tag's name is a secret key.
pub(super) fn at_escaped_tag_end(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
) -> Option<Range<usize>> {
    let (opener, close_start, text_start) = ESCAPED_TAGS.iter().find_map(|&(lt, gt)| {
        let close_start = if s[at] == b';' {
            at.checked_sub(gt.len() - 1)?
        } else {
            at
        };
        let close = s.get(close_start..close_start + gt.len())?;
        close
            .eq_ignore_ascii_case(gt)
            .then_some((lt, close_start, close_start + gt.len()))
    })?;
    let from = close_start.saturating_sub(4 * MAX_KEY);
    let open = from
        + s[from..close_start]
            .windows(opener.len())
            .rposition(|w| w.eq_ignore_ascii_case(opener))?;
    let tag = &s[open + opener.len()..close_start];
    element_text(s, tag, text_start, opener, is_secret_key)
}

/// The text of the element whose opening tag's inside is `tag` and whose
/// text starts at `start`, up to the next `opener` (`<`, or its escaped
/// form) or `<`: when the tag's name (without a namespace prefix) is a
/// secret key.
fn element_text(
    s: &[u8],
    tag: &[u8],
    start: usize,
    opener: &[u8],
    is_secret_key: &dyn Fn(&str) -> bool,
) -> Option<Range<usize>> {
    if tag.last() == Some(&b'/') {
        return None;
    }
    let name_len = tag
        .iter()
        .position(|&b| !is_key_char(b) && b != b':')
        .unwrap_or(tag.len());
    let name = &tag[..name_len];
    let local = match name.iter().rposition(|&b| b == b':') {
        Some(colon) => &name[colon + 1..],
        None => name,
    };
    if local.is_empty() || local.len() > MAX_KEY || !is_secret_key(std::str::from_utf8(local).ok()?)
    {
        return None;
    }
    // `<password><![CDATA[…]]></password>`: the section's text, up to its
    // `]]>`.
    const CDATA: &[u8] = b"<![CDATA[";
    if s[start..].starts_with(CDATA) {
        let body = start + CDATA.len();
        let end = s[body..]
            .windows(3)
            .position(|w| w == b"]]>")
            .map_or(s.len(), |n| body + n);
        return (end > body).then_some(body..end);
    }
    let end = (start..s.len())
        .find(|&i| {
            s[i] == b'<'
                || s.get(i..i + opener.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(opener))
        })
        .unwrap_or(s.len());
    (end > start).then_some(start..end)
}

/// At a `%` at `at`: a percent-encoded `=` or `:` (`%3D`, `%3A`), as in a
/// URL inside a query (`?next=%2Fcb%3Faccess_token%3D…`): the value after
/// it, when the key before it is secret. The value ends at an encoded
/// delimiter (`%26` …) too.
pub(super) fn at_percent(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    let is_separator =
        |code: &[u8]| code.eq_ignore_ascii_case(b"3d") || code.eq_ignore_ascii_case(b"3a");
    let code = s.get(at + 1..at + 3)?;
    if is_separator(code) {
        return at_separator_of(s, at, 3, is_secret_key, mask);
    }
    // Encoded twice (`password%253D…`, a query inside a query).
    if code == b"25" && s.get(at + 3..at + 5).is_some_and(is_separator) {
        return at_separator_of(s, at, 5, is_secret_key, mask);
    }
    None
}

/// At the `%3A` of a percent-encoded URL (`https%3A%2F%2Fbob%3Apw%40host`,
/// a redirect target inside a query): its userinfo, up to the encoded `@`.
pub(super) fn encoded_userinfo(s: &[u8], at: usize) -> Option<Range<usize>> {
    if !s.get(at + 1..at + 3)?.eq_ignore_ascii_case(b"3a") {
        return None;
    }
    let slashes = s.get(at + 3..at + 9)?;
    if !slashes.eq_ignore_ascii_case(b"%2F%2F") || at == 0 || !s[at - 1].is_ascii_alphanumeric() {
        return None;
    }
    let start = at + 9;
    let mut i = start;
    let mut userinfo_end = None;
    while i < s.len() {
        match s[i] {
            b'%' => {
                let Some(code) = s.get(i + 1..i + 3) else {
                    break;
                };
                if code == b"40" {
                    userinfo_end = Some(i);
                } else if [&b"2F"[..], b"3F", b"23", b"26", b"20"]
                    .iter()
                    .any(|c| code.eq_ignore_ascii_case(c))
                {
                    break;
                }
                i += 3;
                continue;
            }
            b if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+') => {}
            _ => break,
        }
        i += 1;
    }
    userinfo_end.filter(|&e| e > start).map(|e| start..e)
}

/// `%XX` at `i`, one of the encoded delimiters that end a bare value in
/// percent-encoded text: `&`, space, `,`, `;`, `"`, `'`.
fn encoded_delimiter(s: &[u8], i: usize) -> bool {
    s[i] == b'%'
        && s.get(i + 1..i + 3).is_some_and(|c| {
            [b"26", b"20", b"2c", b"3b", b"22", b"27"]
                .iter()
                .any(|d| c.eq_ignore_ascii_case(*d))
        })
}

/// Percent-encoded spaces (`%20`, and `+` of a form) at `i`: their length.
fn encoded_spaces(s: &[u8], mut i: usize) -> usize {
    let start = i;
    loop {
        if s.get(i) == Some(&b'+') {
            i += 1;
        } else if s.get(i..i + 3) == Some(b"%20") {
            i += 3;
        } else {
            return i - start;
        }
    }
}

/// At a `:` or `=` at `at`: the value after it, when the key before it
/// (bare or in quotes) is secret by `is_secret_key`.
pub(super) fn at_separator(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    at_separator_of(s, at, 1, is_secret_key, mask)
}

/// As [`at_separator`], for a separator `sep_len` bytes long (3 when
/// percent-encoded).
fn at_separator_of(
    s: &[u8],
    at: usize,
    sep_len: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    let encoded = sep_len > 1;
    // The key, bare (`password=`) or quoted (`"password":`), maybe with
    // spaces or tabs before the separator (`password = …` in TOML or INI,
    // `"password" : …` from a pretty printer).
    let mut key_end = at;
    while key_end > 0 && at - key_end < MAX_GAP && matches!(s[key_end - 1], b' ' | b'\t') {
        key_end -= 1;
    }
    let quote = key_end
        .checked_sub(1)
        .map(|i| s[i])
        .filter(|&b| b == b'"' || b == b'\'');
    // An escaped quote (`\"password\":`, JSON text inside a JSON string).
    let escaped = quote.is_some() && key_end >= 2 && s[key_end - 2] == b'\\';
    // A percent-encoded quote (`%22password%22%3A%22…`, JSON text in a
    // query).
    let encoded_quote = encoded
        && quote.is_none()
        && key_end >= 3
        && s[key_end - 3..key_end].eq_ignore_ascii_case(b"%22");
    let end = key_end
        - usize::from(quote.is_some())
        - usize::from(escaped)
        - 3 * usize::from(encoded_quote);
    let mut start = end;
    let mut encoded_brackets = false;
    let mut unicode_escapes = false;
    while start > 0 && end - start < MAX_KEY {
        if start >= 3 && is_encoded_bracket(&s[start - 3..start]) {
            start -= 3;
            encoded_brackets = true;
        } else if s[start - 1] == b'\\' && is_unicode_escape(&s[start..]) {
            // A JSON `\uXXXX` escape inside the key (`"\u0070assword"`),
            // its backslash doubled in JSON text inside a JSON string.
            start -= 1;
            if start > 0 && s[start - 1] == b'\\' {
                start -= 1;
            }
            unicode_escapes = true;
        } else if is_key_char(s[start - 1]) || matches!(s[start - 1], b'[' | b']') {
            start -= 1;
        } else {
            break;
        }
    }
    // After an encoded delimiter (`%3Faccess_token`), the key starts past
    // its two hex digits.
    if start >= 1
        && end - start > 2
        && s[start - 1] == b'%'
        && s[start..start + 2].iter().all(u8::is_ascii_hexdigit)
    {
        start += 2;
    }
    // A command-line option's dashes are not part of its key
    // (`--password=…`, `-token=…`).
    while start < end && s[start] == b'-' {
        start += 1;
    }
    // Nor the brackets that open it (`<![CDATA[password=…]]>`, `[token]=`).
    while start < end && s[start] == b'[' {
        start += 1;
    }
    // A key starts with a letter or `_` (not `05` of `05:17`, not `8443`).
    let starts_like_a_key = s
        .get(start)
        .is_some_and(|&b| b.is_ascii_alphabetic() || b == b'_' || (unicode_escapes && b == b'\\'));
    if start == end
        || !starts_like_a_key
        || (quote.is_some() && (start == 0 || Some(s[start - 1]) != quote))
    {
        return None;
    }
    // The key decides before the value is measured: measuring values
    // under keys that are not secret made `a=a=a=…` quadratic.
    let key = std::str::from_utf8(&s[start..end]).ok()?;
    let secret = if encoded_brackets {
        is_secret_key(&decode_brackets(key))
    } else if unicode_escapes {
        is_secret_key(&decode_unicode_escapes(key))
    } else {
        is_secret_key(key)
    };
    // `<add key="Password" value="…"/>`: the value of an element whose
    // name or naming attribute is a secret key.
    let secret_attribute = || {
        attributes::is_value_attribute(key)
            && attributes::in_secret_element(s, start, is_secret_key)
    };
    // `"d":"…"` inside an object with a `kty` (a private JSON Web Key),
    // `code=…` next to `grant_type=` (OAuth).
    let by_neighbours = || {
        let mut v = at + sep_len;
        while v < s.len() && matches!(s[v], b' ' | b'\t') {
            v += 1;
        }
        !encoded && super::context::secret_in_text(s, key, v)
    };
    if !secret && !secret_attribute() && !by_neighbours() {
        // `X-Raw: dXNlcjpwYXNz`: `Basic` credentials without the scheme.
        let mut v = at + sep_len;
        while v < s.len() && matches!(s[v], b' ' | b'\t') {
            v += 1;
        }
        return if encoded {
            None
        } else {
            super::scan::bare_basic_credentials(s, v)
        };
    }
    // The value: quoted up to its closing quote, or bare up to a delimiter.
    let mut v = at + sep_len;
    // `password => "…"` (a Ruby or Perl hash).
    if !encoded && s[at] == b'=' && s.get(v) == Some(&b'>') {
        v += 1;
    }
    while v < s.len() && matches!(s[v], b' ' | b'\t') {
        v += 1;
    }
    if encoded {
        v += encoded_spaces(s, v);
        if s.get(v..v + 3)
            .is_some_and(|q| q.eq_ignore_ascii_case(b"%22"))
        {
            v += 3;
        }
    }
    // `Authorization: Bearer …`: the scheme stays, the credentials go.
    let word = s[v..]
        .iter()
        .take_while(|b| b.is_ascii_alphabetic())
        .count();
    let mut spaces = s[v + word..]
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    if spaces == 0 && encoded {
        spaces = encoded_spaces(s, v + word);
    }
    if spaces > 0
        && SCHEMES
            .iter()
            .any(|scheme| s[v..v + word].eq_ignore_ascii_case(scheme))
    {
        // Digest's parameters (`username="…", nonce="…", response="…"`)
        // are credentials together: the response hashes the password, and
        // can be cracked offline. Masked to the end of the line.
        let digest = s[v..v + word].eq_ignore_ascii_case(b"digest");
        v += word + spaces;
        if digest {
            let len = s[v..]
                .iter()
                .take_while(|&&b| b != b'\n' && b != b'\r')
                .count();
            return (len > 0 && !s[v..].starts_with(mask.as_bytes())).then_some(v..v + len);
        }
    } else if is_authorization(key) {
        // Any other scheme of an `Authorization` header (`ApiKey`, Okta's
        // `SSWS`, `DeepL-Auth-Key`, `AWS4-HMAC-SHA256`) stays too: taken
        // for the value, it was masked and the credentials after it kept.
        let scheme = s[v..]
            .iter()
            .take_while(|b| b.is_ascii_alphanumeric() || **b == b'-')
            .count();
        let gap = s[v + scheme..]
            .iter()
            .take_while(|&&b| b == b' ' || b == b'\t')
            .count();
        let credentials = s
            .get(v + scheme + gap)
            .is_some_and(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\''));
        if scheme > 0 && gap > 0 && credentials {
            v += scheme + gap;
        }
    }
    // Already masked (text redacted once, then scanned again).
    if !mask.is_empty() && s[v..].starts_with(mask.as_bytes()) {
        return None;
    }
    // YAML: a block scalar (`password: |`) or a nested block under the key
    // (`password:` and indented lines): those lines.
    if s[at] == b':' && !encoded {
        if let Some(block) = super::yaml::yaml_block(s, start, v) {
            return Some(block);
        }
    }
    let range = match *s.get(v)? {
        // A list or an object under a secret key is secret whole, as it is
        // in structured data: its inside is masked, the brackets stay.
        b'{' | b'[' => match balanced(s, v) {
            (end, true) => v + 1..end - 1,
            (end, false) => v + 1..end,
        },
        // JSON text inside a JSON string: `{\"password\":\"…\"}`.
        b'\\' if s.get(v + 1) == Some(&b'"') => {
            let mut j = v + 2;
            while j < s.len() && !(s[j] == b'\\' && s.get(j + 1) == Some(&b'"')) {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            v + 2..j.min(s.len())
        }
        b'/' => return None,
        q @ (b'"' | b'\'') => {
            let mut j = v + 1;
            while j < s.len() && s[j] != q {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            v + 1..j.min(s.len())
        }
        _ if encoded => {
            let mut j = v;
            while j < s.len()
                && !s[j].is_ascii_whitespace()
                && !matches!(s[j], b'&' | b'"' | b'\'' | b'<' | b'>')
                && !encoded_delimiter(s, j)
            {
                j += 1;
            }
            v..j
        }
        // A key after `;` is one of a connection string's
        // (`Server=x;Password=my pw;`, ADO.NET): its value runs to the next
        // `;`, spaces included.
        _ if s[at] == b'=' && after_semicolon(s, start) => {
            let len = s[v..]
                .iter()
                .take_while(|&&b| !matches!(b, b';' | b'\n' | b'\r' | b'"'))
                .count();
            let mut end = v + len;
            while end > v && matches!(s[end - 1], b' ' | b'\t') {
                end -= 1;
            }
            v..end
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
            // `Debug` of a wrapper: `Secret("…")`, `Some("…")`,
            // `SecretBox { inner: "…" }`: masked up to its closing bracket.
            let word = s[v..v + len]
                .iter()
                .take_while(|b| b.is_ascii_alphanumeric() || **b == b'_' || **b == b':')
                .count();
            let after = v + word;
            if word > 0 && s.get(after) == Some(&b'(') {
                v..balanced(s, after).0
            } else if word == len && word > 0 && s[after..].starts_with(b" {") {
                v..balanced(s, after + 1).0
            } else {
                v..v + len
            }
        }
    };
    (!range.is_empty()).then_some(range)
}

/// Whether `key` names an `Authorization` header (`Proxy-Authorization`
/// too).
fn is_authorization(key: &str) -> bool {
    const NAME: &str = "authorization";
    key.len() >= NAME.len()
        && key.is_char_boundary(key.len() - NAME.len())
        && key[key.len() - NAME.len()..].eq_ignore_ascii_case(NAME)
}

/// Whether the key starting at `start` follows a `;` (spaces between
/// allowed), as in a connection string.
fn after_semicolon(s: &[u8], start: usize) -> bool {
    s[..start]
        .iter()
        .rev()
        .find(|&&b| b != b' ' && b != b'\t')
        .is_some_and(|&b| b == b';')
}

/// The options that take `user:password` (curl's `-u`/`--user`,
/// `-U`/`--proxy-user`, wget's and others' alike).
const USER_OPTIONS: &[&str] = &["u", "U", "user", "proxy-user"];

/// For an option of [`USER_OPTIONS`] whose value starts at `v`
/// (`curl -u bob:hunter2`, `--user "bob:hunter2"`): the password after
/// the first `:`.
fn user_colon_password(s: &[u8], option: &str, v: usize) -> Option<Range<usize>> {
    if !USER_OPTIONS.contains(&option) {
        return None;
    }
    let quote = matches!(s[v], b'"' | b'\'').then_some(s[v]);
    let from = v + usize::from(quote.is_some());
    let len = s[from..]
        .iter()
        .take_while(|&&b| match quote {
            Some(q) => b != q,
            None => !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b',' | b')' | b']'),
        })
        .count();
    // `user:password`, or Samba's `user%password` (`smbclient -U`).
    let user = &s[from..from + len];
    let colon = user
        .iter()
        .position(|&b| b == b':')
        .or_else(|| user.iter().position(|&b| b == b'%'))?;
    let range = from + colon + 1..from + len;
    (!range.is_empty()).then_some(range)
}

/// Whether `s` starts with `uXXXX` (four hex digits): the rest of a JSON
/// `\uXXXX` escape.
fn is_unicode_escape(s: &[u8]) -> bool {
    s.len() >= 5 && s[0] == b'u' && s[1..5].iter().all(u8::is_ascii_hexdigit)
}

/// A key with its `\uXXXX` escapes (one or two backslashes) decoded;
/// an escape that is no character (a lone surrogate) is dropped.
fn decode_unicode_escapes(key: &str) -> String {
    let b = key.as_bytes();
    let mut out = String::with_capacity(key.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\' {
            let mut j = i;
            while j < b.len() && b[j] == b'\\' {
                j += 1;
            }
            if is_unicode_escape(&b[j..]) {
                let hex = std::str::from_utf8(&b[j + 1..j + 5]).unwrap_or("0");
                if let Some(c) = u32::from_str_radix(hex, 16).ok().and_then(char::from_u32) {
                    out.push(c);
                }
                i = j + 5;
                continue;
            }
            i = j;
            continue;
        }
        // Whole characters: `key` is text, and `i` is at a char boundary.
        let c = key[i..].chars().next().unwrap_or(' ');
        out.push(c);
        i += c.len_utf8();
    }
    out
}

/// `%5B` or `%5D` (a percent-encoded `[` or `]`, as in
/// `user%5Bpassword%5D=…`).
fn is_encoded_bracket(s: &[u8]) -> bool {
    s[0] == b'%' && (s[1..].eq_ignore_ascii_case(b"5b") || s[1..].eq_ignore_ascii_case(b"5d"))
}

/// A key with its percent-encoded brackets decoded.
fn decode_brackets(key: &str) -> String {
    key.replace("%5B", "[")
        .replace("%5b", "[")
        .replace("%5D", "]")
        .replace("%5d", "]")
}

/// At a `,` at `at`: the value of a `("key", "value")` pair, as `Debug`
/// writes a header list (`[("X-Api-Key", "…")]`), when the key is secret.
pub(super) fn at_comma(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    let quote = *s.get(at.checked_sub(1)?)?;
    if quote != b'"' && quote != b'\'' {
        return None;
    }
    let end = at - 1;
    let mut start = end;
    while start > 0 && end - start < MAX_KEY && is_key_char(s[start - 1]) {
        start -= 1;
    }
    if start == end || start < 2 || s[start - 1] != quote {
        return None;
    }
    // A tuple (`("password", "…")`), or a list of exactly two texts
    // (`["password", "…"]`, checked once the value's end is known).
    let list = match s[start - 2] {
        b'(' => false,
        b'[' => true,
        _ => return None,
    };
    let mut v = at + 1;
    while v < s.len() && s[v] == b' ' {
        v += 1;
    }
    if s.get(v) != Some(&quote) || s[v + 1..].starts_with(mask.as_bytes()) {
        return None;
    }
    // The key first: the value is measured under a secret key only.
    let key = std::str::from_utf8(&s[start..end]).ok()?;
    if !is_secret_key(key) {
        // `("x-raw", "dXNlcjpwYXNz")`: `Basic` credentials without the
        // scheme.
        return super::scan::bare_basic_credentials(s, v);
    }
    let mut j = v + 1;
    while j < s.len() && s[j] != quote {
        j += if s[j] == b'\\' { 2 } else { 1 };
    }
    // A longer list is a list of names (`["token", "expires_at", …]`).
    if list && s.get(j + 1).is_some_and(|&b| b != b']') {
        return None;
    }
    let range = v + 1..j.min(s.len());
    (!range.is_empty()).then_some(range)
}

/// At a `-` at `at` that starts a command-line option given its value
/// after a space (`--password hunter2`, `-token "a b"`), or as the next
/// text of a `Debug` list of arguments (`"--password", "hunter2"`): that
/// value, when the option's name is a secret key. The `=` form is
/// [`at_separator`]'s.
pub(super) fn at_option(
    s: &[u8],
    at: usize,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    // An option starts a word: not `re-token`, not a UUID's `-`.
    if at > 0
        && !matches!(
            s[at - 1],
            b' ' | b'\t' | b'\n' | b'\r' | b'"' | b'\'' | b'(' | b'['
        )
    {
        return None;
    }
    let start = at + if s.get(at + 1) == Some(&b'-') { 2 } else { 1 };
    if !s.get(start)?.is_ascii_alphabetic() {
        return None;
    }
    // `mysql -pS3cret`: a tool's one-letter password option, glued.
    let short = start == at + 1;
    if short {
        if let Some(range) = super::commands::glued_password(s, at, mask) {
            return Some(range);
        }
    }
    let mut end = start;
    while end < s.len() && end - start < MAX_KEY && is_key_char(s[end]) {
        end += 1;
    }
    // The value: after spaces, or after `", "` in a list of arguments.
    let mut v = end;
    let quoted_list = at > 0
        && matches!(s[at - 1], b'"' | b'\'')
        && s.get(end) == Some(&s[at - 1])
        && s.get(end + 1) == Some(&b',');
    if quoted_list {
        v = end + 2;
    }
    let gap = v;
    while v < s.len() && v - gap < MAX_GAP && s[v] == b' ' {
        v += 1;
    }
    if v == end || v >= s.len() {
        return None;
    }
    let first = s[v];
    if (quoted_list && first != s[at - 1])
        || first == b'-'
        || first.is_ascii_whitespace()
        || s[v..].starts_with(mask.as_bytes())
    {
        return None;
    }
    // The key first: the value is measured under a secret key only.
    let key = std::str::from_utf8(&s[start..end]).ok()?;
    let tool_password = short && super::commands::spaced_password(s, at, key);
    if !(is_secret_key(key) || tool_password) {
        return user_colon_password(s, key, v);
    }
    let range = if first == b'"' || first == b'\'' {
        if s[v + 1..].starts_with(mask.as_bytes()) {
            return None;
        }
        let mut j = v + 1;
        while j < s.len() && s[j] != first {
            j += if s[j] == b'\\' { 2 } else { 1 };
        }
        v + 1..j.min(s.len())
    } else {
        let len = s[v..]
            .iter()
            .position(|&b| {
                b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b',' | b')' | b']')
            })
            .unwrap_or(s.len() - v);
        v..v + len
    };
    (!range.is_empty()).then_some(range)
}
