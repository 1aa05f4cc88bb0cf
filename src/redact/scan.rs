//! The value scan: finds secrets inside any text.
//!
//! One branch-free pass over the text says which classes it can hold at
//! all (most text holds none). If any remain, a second pass looks each
//! byte up in a table of the *triggers* of those classes, and checks the
//! candidates at a trigger in place; the first secret found is the one
//! reported:
//!
//! | trigger | looks for |
//! |---|---|
//! | `B`, `b` | `Bearer <token>`, `Basic <base64 of user:password>` (any case) |
//! | `J` (of `eyJ`) | a JWT: `eyJ…` and two or more `.`-separated parts |
//! | `:` (of `://`) | URL userinfo: `scheme://user:password@host`, a webhook's token, a Telegram bot's `bot<id>:<token>` |
//! | `/` | a path segment after `/reset/`, `/magic/`, `/verify-email/` … that looks like a token |
//! | `_`, `-`, `.`, `A` | a [well-known prefix](super::prefixes), a PEM private key |
//! | digits (13 or more in the text) | a [card number](super::cards) |
//! | `:`, `=` | the value of a [secret key](super::keyval) (`password=…`) |
//! | `,` | the value of a `("secret key", "…")` pair (`Debug` of a header list) |
//! | `%` (of `%3D`, `%3A`) | the value of a secret key, percent-encoded (`%3Ftoken%3D…`) |
//! | `>` | the text of an element whose tag is a secret key (`<password>…<`) |
//! | `;`, `\` (of `&gt;`, `\u003e`) | the same, its tag escaped (`&lt;password&gt;…`) |
//!
//! Only the secret part is reported: `Bearer [REDACTED]`,
//! `https://[REDACTED]@host/path`, `sk_live_[REDACTED]`.

use std::ops::Range;

use super::{cards, keyval, prefixes};

/// `Bearer` and `Basic` credentials.
pub(super) const AUTH: u8 = 1;
/// JSON Web Tokens.
pub(super) const JWT: u8 = 2;
/// The userinfo of URLs.
pub(super) const URL: u8 = 4;
/// Tokens with a well-known prefix, PEM private keys.
pub(super) const PREFIX: u8 = 8;
/// Card numbers.
pub(super) const CARD: u8 = 16;
/// `key=value` and `key: value` with a secret key.
pub(super) const KEYVAL: u8 = 32;
/// Every class.
pub(super) const ALL: u8 = AUTH | JWT | URL | PREFIX | CARD | KEYVAL;

/// The classes `s` can hold at all, from one branch-free pass over it:
/// no `:` means no URL, fewer than 13 digits no card number, and so on.
/// Most text stops here.
///
/// Each byte is looked up in [`TRIGGER`] (the classes it can start) and
/// the answers OR-ed, digits counted aside (a card needs 13): a few
/// instructions a byte, where comparing each byte with every trigger took
/// about four times as many.
pub(super) fn possible(s: &[u8]) -> u8 {
    let mut seen = 0u8;
    let mut digits = 0usize;
    for &c in s {
        seen |= TRIGGER[usize::from(c)];
        digits += usize::from(c.wrapping_sub(b'0') < 10);
    }
    possible_from(seen, digits)
}

/// What [`possible`] answers for a text whose bytes' [`TRIGGERS`] OR-ed
/// give `seen`, with `digits` ASCII digits: for a caller that makes the
/// pass itself (the JSON writer, which learns in the same pass whether
/// the text needs an escape).
pub(crate) fn possible_from(seen: u8, digits: usize) -> u8 {
    let mut classes = seen & ALL & !CARD;
    if digits >= 13 {
        classes |= CARD;
    }
    classes
}

/// For each byte, the classes it is a trigger of.
static TRIGGER: [u8; 256] = TRIGGERS;

/// [`TRIGGER`] as a constant, for tables built from it.
pub(crate) const TRIGGERS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut d = b'0';
    while d <= b'9' {
        t[d as usize] = CARD;
        d += 1;
    }
    t[b'B' as usize] = AUTH;
    t[b'b' as usize] = AUTH;
    t[b'J' as usize] = JWT;
    t[b':' as usize] = URL | KEYVAL;
    t[b'=' as usize] = KEYVAL;
    t[b',' as usize] = KEYVAL;
    t[b'%' as usize] = URL | KEYVAL;
    // A path segment after `/reset/`, `/magic/` …
    t[b'/' as usize] = URL;
    t[b'>' as usize] = KEYVAL;
    // `&gt;` and `\u003e`: an escaped tag's end.
    t[b';' as usize] = KEYVAL;
    t[b'\\' as usize] = KEYVAL;
    t[b'_' as usize] = PREFIX;
    t[b'-' as usize] = PREFIX | KEYVAL;
    t[b'.' as usize] = PREFIX;
    t[b'A' as usize] = PREFIX;
    t[b'~' as usize] = PREFIX;
    t
};

/// The first secret of the `classes` in `s` starting at or after `from`:
/// the bytes to replace with the mask (never empty). `classes` are those
/// [`possible`] allows in `s` (a superset is correct, only slower).
pub(super) fn next_of(
    s: &[u8],
    from: usize,
    classes: u8,
    is_secret_key: &dyn Fn(&str) -> bool,
    mask: &str,
) -> Option<Range<usize>> {
    if from == 0 {
        super::context::forget();
    }
    let mut i = from;
    while i < s.len() {
        let b = s[i];
        let t = TRIGGER[b as usize] & classes;
        if t == 0 {
            i += 1;
            continue;
        }
        let found = match b {
            b'0'..=b'9' => {
                if i > 0 && s[i - 1].is_ascii_alphanumeric() {
                    None
                } else if i > 0 && s[i - 1] == b'+' {
                    // A phone number (`+4915112345678`): no card number is
                    // written with a leading `+`. Its digits are skipped.
                    i += count(s, i, |b| b.is_ascii_digit());
                    continue;
                } else {
                    // Most runs are short numbers, skipped whole.
                    let (digits, end) = cards::count_run(s, i);
                    if digits < 13 {
                        i = end.max(i + 1);
                        continue;
                    }
                    let (found, end) = cards::in_run(s, i);
                    if found.is_none() {
                        i = end.max(i + 1);
                        continue;
                    }
                    found
                }
            }
            b'B' | b'b' => auth(s, i),
            b'J' => i
                .checked_sub(2)
                .filter(|&start| start >= from)
                .and_then(|start| jwt(s, start)),
            b':' => {
                let url = if t & URL != 0 {
                    url(s, i)
                        .or_else(|| oracle_password(s, i))
                        .or_else(|| telegram_token(s, i))
                } else {
                    None
                };
                url.or_else(|| {
                    (t & KEYVAL != 0)
                        .then(|| keyval::at_separator(s, i, is_secret_key, mask))
                        .flatten()
                })
            }
            b'=' => keyval::at_separator(s, i, is_secret_key, mask),
            b',' => keyval::at_comma(s, i, is_secret_key, mask),
            b'%' => (t & URL != 0)
                .then(|| keyval::encoded_userinfo(s, i))
                .flatten()
                .or_else(|| {
                    (t & KEYVAL != 0)
                        .then(|| keyval::at_percent(s, i, is_secret_key, mask))
                        .flatten()
                }),
            b'/' => path_token(s, i),
            b'>' => keyval::at_tag_end(s, i, is_secret_key),
            b';' | b'\\' => keyval::at_escaped_tag_end(s, i, is_secret_key),
            b'-' => (t & PREFIX != 0)
                .then(|| prefixes::at_pem(s, i).or_else(|| prefixes::at_separator(s, i)))
                .flatten()
                .or_else(|| {
                    (t & KEYVAL != 0)
                        .then(|| keyval::at_option(s, i, is_secret_key, mask))
                        .flatten()
                }),
            b'_' | b'.' => prefixes::at_separator(s, i),
            b'A' => prefixes::at_capital_a(s, i),
            b'~' => prefixes::at_tilde(s, i),
            _ => None,
        };
        if let Some(range) = found.filter(|r| r.start < r.end && r.start >= from) {
            return Some(range);
        }
        i += 1;
    }
    None
}

fn is_b64url(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
}

fn count(s: &[u8], at: usize, class: impl Fn(u8) -> bool) -> usize {
    s[at.min(s.len())..]
        .iter()
        .take_while(|&&b| class(b))
        .count()
}

/// A JWT starting at `start` (its `eyJ`): a header of 10 or more base64url
/// characters, then two to four more parts after dots (the last may be
/// empty, as in an unsigned token).
fn jwt(s: &[u8], start: usize) -> Option<Range<usize>> {
    if &s[start..start + 2] != b"ey" || (start > 0 && is_b64url(s[start - 1])) {
        return None;
    }
    let mut i = start + count(s, start, is_b64url);
    if i - start < 10 {
        return None;
    }
    let mut parts = 1;
    while parts < 5 && s.get(i) == Some(&b'.') {
        let n = count(s, i + 1, is_b64url);
        if n == 0 && parts != 2 {
            break;
        }
        i += 1 + n;
        parts += 1;
    }
    (parts >= 3).then_some(start..i)
}

/// At the `:` of `scheme://`: the userinfo before the host, up to the last
/// `@` of the authority.
fn url(s: &[u8], colon: usize) -> Option<Range<usize>> {
    if colon == 0 || !s[colon - 1].is_ascii_alphanumeric() {
        return None;
    }
    // `//`, or `\/\/` in JSON text whose writer escapes slashes (PHP's
    // `json_encode`).
    let start = if s[colon + 1..].starts_with(b"//") {
        colon + 3
    } else if s[colon + 1..].starts_with(b"\\/\\/") {
        colon + 5
    } else {
        return None;
    };
    let mut at = None;
    for (i, &b) in s[start..].iter().enumerate() {
        match b {
            b'@' => at = Some(start + i),
            b'-' | b'.' | b'_' | b'~' | b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+'
            | b',' | b';' | b'=' | b':' | b'%' => {}
            _ if b.is_ascii_alphanumeric() || b >= 0x80 => {}
            b'/' | b'?' | b'#' if at.is_none() => {
                at = unencoded_password_end(s, start, start + i);
                break;
            }
            _ => break,
        }
    }
    at.filter(|&at| at > start)
        .map(|at| start..at)
        .or_else(|| webhook_token(s, start))
}

/// How far past a delimiter the `@` that ends a password is looked for
/// (a password is short; looking to the end of a long word for every URL
/// in it made a text of many URLs with no space quadratic).
const LONGEST_USERINFO: usize = 256;

/// At the `:` that ends `jdbc:oracle:thin` or `jdbc:oracle:oci`: the
/// password of Oracle's `user/password@host` that follows
/// (`jdbc:oracle:thin:scott/[REDACTED]@db:1521:orcl`).
fn oracle_password(s: &[u8], colon: usize) -> Option<Range<usize>> {
    let head = &s[..colon];
    let oracle = [&b"oracle:thin"[..], b"oracle:oci"]
        .iter()
        .any(|p| head.len() >= p.len() && head[head.len() - p.len()..].eq_ignore_ascii_case(p));
    if !oracle {
        return None;
    }
    let user = count(s, colon + 1, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'_' | b'$' | b'#' | b'.')
    });
    let slash = colon + 1 + user;
    if user == 0 || s.get(slash) != Some(&b'/') {
        return None;
    }
    let start = slash + 1;
    let word = count(&s[..(start + LONGEST_USERINFO).min(s.len())], start, |b| {
        !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
    });
    let at = s[start..start + word].iter().rposition(|&b| b == b'@')?;
    (at > 0).then_some(start..start + at)
}

/// A URL's authority that stops at a `/`, `?` or `#` at `stop` after a
/// `:` that starts no port (`postgres://app:pa/ss@db/shop`: a password
/// written without its percent-encoding, as people write it in a
/// connection string): the `@` that ends its userinfo, if one follows
/// before the end of the word.
fn unencoded_password_end(s: &[u8], start: usize, stop: usize) -> Option<usize> {
    let colon = start + s[start..stop].iter().position(|&b| b == b':')?;
    let after = &s[colon + 1..stop];
    if after.is_empty() || after.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let word = count(&s[..(stop + LONGEST_USERINFO).min(s.len())], stop, |b| {
        !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'`')
    });
    s[stop..stop + word]
        .iter()
        .position(|&b| b == b'@')
        .map(|n| stop + n)
}

/// Hosts whose URLs carry their credential in the path, and the path
/// before it: a webhook URL is its own password (Slack, Discord, Microsoft
/// Teams, their older Office 365 connectors, Zapier, IFTTT). A host
/// matches itself or any subdomain of it.
const WEBHOOK_PATHS: &[(&[u8], &[u8])] = &[
    // Telegram's bot API: `/bot<id>:<token>/<method>`.
    (b"api.telegram.org", b"/bot"),
    (b"api.telegram.org", b"/file/bot"),
    (b"hooks.slack.com", b"/services/"),
    (b"hooks.slack.com", b"/workflows/"),
    (b"discord.com", b"/api/webhooks/"),
    (b"discordapp.com", b"/api/webhooks/"),
    (b"webhook.office.com", b"/webhookb2/"),
    // Microsoft's older connector URLs, Zapier's catch hooks, IFTTT's
    // Maker key.
    (b"outlook.office.com", b"/webhook/"),
    (b"outlook.office365.com", b"/webhook/"),
    (b"hooks.zapier.com", b"/hooks/catch/"),
    (b"maker.ifttt.com", b"/use/"),
];

/// The credential in the path of a webhook URL whose host starts at
/// `start` (just after `://`): what follows the known path, up to the
/// end of the path.
fn webhook_token(s: &[u8], start: usize) -> Option<Range<usize>> {
    let host_len = count(s, start, |b| {
        b.is_ascii_alphanumeric() || b == b'.' || b == b'-'
    });
    let host = &s[start..start + host_len];
    let path = start + host_len;
    WEBHOOK_PATHS.iter().find_map(|&(name, prefix)| {
        let subdomain = host.len() > name.len() && host[host.len() - name.len() - 1] == b'.';
        let matches = (host.len() == name.len() || subdomain)
            && host[host.len() - name.len()..].eq_ignore_ascii_case(name)
            && s[path..].starts_with(prefix);
        if !matches {
            return None;
        }
        let from = path + prefix.len();
        // Telegram's token is one segment: the method after it stays.
        let one_segment = prefix.ends_with(b"/bot");
        let len = count(s, from, |b| {
            b.is_ascii_alphanumeric() || b"-_.~%@:".contains(&b) || (b == b'/' && !one_segment)
        });
        (len > 0).then_some(from..from + len)
    })
}

/// Path segments after which the next one or two segments are a
/// one-time token (`/reset/<token>`, Django's
/// `/reset/<uidb64>/<token>/`, `/magic/<token>`, `/verify-email/<token>`):
/// password-reset, magic-link, e-mail verification, account activation
/// and invitation links, which log in or change a password by themselves.
const TOKEN_PATH_WORDS: &[&[u8]] = &[
    b"reset",
    b"password-reset",
    b"reset-password",
    b"password_reset",
    b"reset_password",
    b"magic",
    b"magic-link",
    b"magic_link",
    b"magiclink",
    b"verify",
    b"verify-email",
    b"verify_email",
    b"email-verification",
    b"confirm",
    b"confirm-email",
    b"confirm_email",
    b"activate",
    b"activation",
    b"invite",
    b"invitation",
];

/// The longest of [`TOKEN_PATH_WORDS`].
const LONGEST_PATH_WORD: usize = 18;

/// At a `/` at `slash`: the path segment after it, when it looks like a
/// token ([`looks_random`]: 8 or more characters with a digit, or 16 or
/// more mixed) and one of the two segments before it is one of
/// [`TOKEN_PATH_WORDS`]. Only that segment is masked: `/reset/MQ/[REDACTED]/`.
fn path_token(s: &[u8], slash: usize) -> Option<Range<usize>> {
    let from = slash + 1;
    let len = count(s, from, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'%')
    });
    if len < 8 || !looks_random(&s[from..from + len]) {
        return None;
    }
    let mut end = slash;
    for _ in 0..2 {
        let low = end.saturating_sub(LONGEST_PATH_WORD + 1);
        let start = low + s[low..end].iter().rposition(|&b| b == b'/')?;
        let segment = &s[start + 1..end];
        if TOKEN_PATH_WORDS
            .iter()
            .any(|w| segment.eq_ignore_ascii_case(w))
        {
            return Some(from..from + len);
        }
        end = start;
    }
    None
}

/// At a `:` at `colon`: the token of a Telegram bot (`bot<id>:<35
/// characters>`, as in `/bot123456:AA…/sendMessage`) with no host before
/// it; the bot's id stays.
fn telegram_token(s: &[u8], colon: usize) -> Option<Range<usize>> {
    let digits = s[..colon]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let bot = colon.checked_sub(digits + 3)?;
    if !(5..=12).contains(&digits)
        || !s[bot..bot + 3].eq_ignore_ascii_case(b"bot")
        || (bot > 0 && s[bot - 1].is_ascii_alphanumeric())
    {
        return None;
    }
    let n = count(s, colon + 1, is_b64url);
    (n == 35).then_some(colon + 1..colon + 1 + n)
}

/// The fewest bytes of a text made of word characters only (ASCII
/// letters, digits, `_`) that holds a secret value: a whole `Basic`
/// credential without its scheme has 12 ([`whole_bare_basic`]), a card
/// number 13, a prefixed token 20 or more (`AKIA` and 16); every other
/// detector needs a byte that is not a word character (a space, `:`,
/// `=`, `.`, `-`, `/`, `~` …). Checked for every detector by
/// `tests::no_word_text_shorter_than_the_fast_path_limit_is_secret`.
pub(super) const SHORTEST_WORD_SECRET: usize = 12;

/// Whether `s` cannot hold a secret value at all: shorter than
/// [`SHORTEST_WORD_SECRET`] and made of word characters only, as most
/// object keys and field names are (`id`, `user_id`, `price`). No scan,
/// no memo.
#[inline]
pub(super) fn too_short_for_a_secret(s: &[u8]) -> bool {
    s.len() < SHORTEST_WORD_SECRET && s.iter().all(|&b| b.is_ascii_alphanumeric() || b == b'_')
}

/// At a `B` or `b`: the credentials after `Bearer ` or `Basic `.
fn auth(s: &[u8], at: usize) -> Option<Range<usize>> {
    if at > 0 && s[at - 1].is_ascii_alphanumeric() {
        return None;
    }
    let rest = &s[at + 1..];
    let (basic, word) = if starts_with_ignore_case(rest, b"earer") {
        (false, 6)
    } else if starts_with_ignore_case(rest, b"asic") {
        (true, 5)
    } else {
        return None;
    };
    let mut spaces = count(s, at + word, |b| b == b' ' || b == b'\t');
    if spaces == 0 {
        // Percent-encoded (`Bearer%20…`, in a URL) or form-encoded
        // (`Bearer+…`).
        let rest = &s[at + word..];
        if rest.starts_with(b"%20") {
            spaces = 3;
        } else if rest.starts_with(b"\\u0020") {
            // A JSON escape, in JSON text.
            spaces = 6;
        } else if rest.starts_with(b"+") {
            spaces = 1;
        } else {
            return None;
        }
    }
    let start = at + word + spaces;
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b);
    let mut end = start + count(s, start, token);
    // A sentence's full stop is not part of the token.
    while end > start && s[end - 1] == b'.' {
        end -= 1;
    }
    end += count(s, end, |b| b == b'=');
    let credentials = &s[start..end];
    let secret = if basic {
        is_basic_credentials(credentials, false)
    } else {
        looks_random(credentials)
    };
    secret.then_some(start..end)
}

fn starts_with_ignore_case(s: &[u8], word: &[u8]) -> bool {
    s.len() >= word.len() && s[..word.len()].eq_ignore_ascii_case(word)
}

/// A bearer token, not an English word: 8 or more characters with a
/// digit, or 16 or more with mixed case or punctuation.
fn looks_random(t: &[u8]) -> bool {
    if t.len() < 8 {
        return false;
    }
    let digit = t.iter().any(u8::is_ascii_digit);
    let upper = t.iter().any(u8::is_ascii_uppercase);
    let lower = t.iter().any(u8::is_ascii_lowercase);
    let punct = t.iter().any(|b| !b.is_ascii_alphanumeric());
    digit || (t.len() >= 16 && ((upper && lower) || punct))
}

/// Base64 (standard or URL-safe, padded or not) of printable text with a
/// `:` in it, as `Basic` credentials are. `bare` (no `Basic` before it)
/// asks for `user:password` itself: no space before the `:`, and not
/// JSON (`{"id":5}`, a pagination cursor).
fn is_basic_credentials(t: &[u8], bare: bool) -> bool {
    let t = t.strip_suffix(b"==").or(t.strip_suffix(b"=")).unwrap_or(t);
    if t.len() < 4 || t.len() % 4 == 1 {
        return false;
    }
    let mut colon = false;
    let mut first = true;
    let mut acc = 0u32;
    let mut bits = 0;
    for &b in t {
        let v = match b {
            b'A'..=b'Z' => b - b'A',
            b'a'..=b'z' => b - b'a' + 26,
            b'0'..=b'9' => b - b'0' + 52,
            b'+' | b'-' => 62,
            b'/' | b'_' => 63,
            _ => return false,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            let byte = (acc >> bits) as u8;
            acc &= (1 << bits) - 1;
            if byte < 0x20 || byte == 0x7f || (bare && byte >= 0x80) {
                return false;
            }
            if bare && !colon && (byte == b' ' || (first && matches!(byte, b'{' | b'[' | b'"'))) {
                return false;
            }
            first = false;
            colon |= byte == b':';
        }
    }
    colon
}

/// A text that is nothing but the base64 of `user:password` (a header
/// or field holding `Basic` credentials without the scheme, or split from
/// it into another field): all of it, 12 characters or more (fewer
/// decode to 8 bytes, too few to tell from a word). Most texts fail at
/// once: short, or a byte that is not base64 early on.
pub(super) fn whole_bare_basic(s: &[u8]) -> Option<Range<usize>> {
    let body = s.len() - s.iter().rev().take_while(|&&b| b == b'=').count().min(2);
    ((SHORTEST_WORD_SECRET..=LONGEST_BARE_BASIC).contains(&s.len())
        && body % 4 != 1
        && is_basic_credentials(s, true))
    .then_some(0..s.len())
}

/// The longest bare `user:password` in base64 looked at: 256 bytes
/// decoded.
const LONGEST_BARE_BASIC: usize = 344;

/// At `v`, the start of a value (quoted or bare) under a key that is not
/// secret (`X-Raw: dXNlcjpwYXNz`, `"auth":"…"` in JSON text): the value,
/// when it is wholly the base64 of `user:password` without its `Basic`
/// scheme (8 to 344 characters).
pub(super) fn bare_basic_credentials(s: &[u8], v: usize) -> Option<Range<usize>> {
    let quote = matches!(s.get(v)?, b'"' | b'\'');
    let from = v + usize::from(quote);
    let limit = (from + LONGEST_BARE_BASIC + 1).min(s.len());
    let mut len = count(&s[..limit], from, |b| {
        b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'-' | b'_')
    });
    len += count(&s[..limit], from + len, |b| b == b'=').min(2);
    let ends = s
        .get(from + len)
        .is_none_or(|&b| b.is_ascii_whitespace() || b"\"',;&)]}<>\\".contains(&b));
    let t = &s[from..from + len];
    (ends && (8..=LONGEST_BARE_BASIC).contains(&len) && is_basic_credentials(t, true))
        .then_some(from..from + len)
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    /// What [`possible`] answers, spelled out byte by byte.
    fn possible_spelled_out(s: &[u8]) -> u8 {
        let mut classes = 0;
        for &c in s {
            classes |= match c {
                b':' => URL | KEYVAL,
                b'J' => JWT,
                b'B' | b'b' => AUTH,
                b'-' => PREFIX | KEYVAL,
                b'_' | b'.' | b'A' | b'~' => PREFIX,
                b'%' => URL | KEYVAL,
                b'/' => URL,
                b'=' | b',' | b'>' | b';' | b'\\' => KEYVAL,
                _ => 0,
            };
        }
        if s.iter().filter(|c| c.is_ascii_digit()).count() >= 13 {
            classes |= CARD;
        }
        classes
    }

    proptest! {
        #[test]
        fn possible_classes_are_those_of_the_bytes(
            s in prop::collection::vec(prop_oneof![
                any::<u8>(),
                prop::sample::select(b":JBb_-.A=,%>;\\/0123456789".to_vec()),
            ], 0..64)
        ) {
            prop_assert_eq!(possible(&s), possible_spelled_out(&s));
        }
    }

    /// The shortest secret of each detector that word characters alone
    /// can spell, and every prefix made of word characters: none is
    /// shorter than the fast path's limit, and each is found.
    #[test]
    fn no_word_text_shorter_than_the_fast_path_limit_is_secret() {
        let is_key = |k: &str| super::super::Policy::default().is_secret_key(k);
        let found = |s: &str| {
            whole_bare_basic(s.as_bytes()).is_some()
                || next_of(s.as_bytes(), 0, ALL, &is_key, "#").is_some()
        };
        let shortest = [
            // base64 of `bob:hunt2`, unpadded.
            "Ym9iOmh1bnQy".to_string(),
            // A 13-digit Visa test number.
            "4222222222222".to_string(),
            format!("AKIA{}", "A".repeat(16)),
            format!("AIza{}", "a".repeat(30)),
        ];
        for s in &shortest {
            assert!(found(s), "{s} should be found");
            assert!(s.len() >= SHORTEST_WORD_SECRET, "{s}");
            assert!(!too_short_for_a_secret(s.as_bytes()));
        }
        // One character less is not found (the fast path would be wrong
        // only if it were).
        assert!(!found("Ym9iOmh1bnQ"));
        assert!(!found("422222222222"));
        for prefix in super::super::prefixes::word_prefixes() {
            assert!(
                prefix.0.len() + prefix.1 >= SHORTEST_WORD_SECRET,
                "{prefix:?}"
            );
            let token = format!("{}{}", prefix.0, "A1".repeat(prefix.1).split_at(prefix.1).0);
            assert!(found(&token), "{token} should be found");
        }
    }

    proptest! {
        /// Word texts below the limit, mixed from the pieces detectors
        /// start with: the full scan finds nothing in any.
        #[test]
        fn the_scan_agrees_with_the_fast_path(
            parts in prop::collection::vec(prop_oneof![
                prop::sample::select(vec![
                    "sk_", "live_", "ghp_", "AKIA", "AIza", "hf_", "npm_", "whsec_",
                    "Bearer", "Basic", "eyJ", "4111", "5500", "Ym9i", "Om", "_", "A", "b",
                ]).prop_map(str::to_string),
                "[A-Za-z0-9_]{1,4}",
            ], 0..6)
        ) {
            let text: String = parts.concat();
            let text = &text[..text.len().min(SHORTEST_WORD_SECRET - 1)];
            let is_key = |k: &str| super::super::Policy::default().is_secret_key(k);
            prop_assert!(too_short_for_a_secret(text.as_bytes()));
            prop_assert!(whole_bare_basic(text.as_bytes()).is_none(), "{}", text);
            prop_assert!(next_of(text.as_bytes(), 0, ALL, &is_key, "#").is_none(), "{}", text);
        }
    }

    /// `s` with every secret replaced by `#`.
    fn masked(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = String::new();
        let (mut last, mut from) = (0, 0);
        let is_key = |k: &str| super::super::Policy::default().is_secret_key(k);
        while let Some(r) = next_of(b, from, ALL, &is_key, "#") {
            out.push_str(&s[last..r.start]);
            out.push('#');
            last = r.end;
            from = r.end;
        }
        out.push_str(&s[last..]);
        out
    }

    const JWT_TOKEN: &str =
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

    #[test]
    fn masks_only_the_secret_part() {
        let cases = [
            (
                "Authorization: Bearer abc123def456",
                "Authorization: Bearer #",
            ),
            ("bearer abcDEFghiJKLmnoPQR.", "bearer #."),
            ("Basic dXNlcjpwYXNz", "Basic #"),
            ("Basic dXNlcjpwYXNzd29yZA==", "Basic #"),
            (&format!("token {JWT_TOKEN} here"), "token # here"),
            ("postgres://app:hunter2@db:5432/x", "postgres://#@db:5432/x"),
            ("see https://u:p@ss@h.io/a?b", "see https://#@h.io/a?b"),
            ("key=sk_live_4eC39HqLyjWDarjtT1zdp7dc", "key=sk_live_#"),
            ("AKIAIOSFODNN7EXAMPLE!", "AKIA#!"),
            ("ghp_16C7e42F292c6912E7710c838347Ae178B4a", "ghp_#"),
            ("xoxb-1234567890-abcdefghij", "xoxb-#"),
            ("paid 4111 1111 1111 1111 today", "paid # today"),
            (
                "login password=hunter2 user=bob",
                "login password=# user=bob",
            ),
            (
                "GET /cb?access_token=abc&state=1",
                "GET /cb?access_token=#&state=1",
            ),
            (
                r##"{"userPassword":"x\"y","n":1}"##,
                r##"{"userPassword":"#","n":1}"##,
            ),
            (
                r##"User { name: "a", password: "hunter2" }"##,
                r##"User { name: "a", password: "#" }"##,
            ),
            ("refresh: rt-1, next", "refresh: #, next"),
            (
                "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----",
                "-----BEGIN RSA PRIVATE KEY-----#-----END RSA PRIVATE KEY-----",
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(masked(input), expected, "{input}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "The bearer of this letter",
            "Bearer authentication is described in RFC 6750",
            "Basic idea: keep it simple",
            "basic auth failed for user alice",
            "https://example.com/path?q=1",
            "mail me at a@b.c, see http://x.io",
            "disk_test_case_number_one_is_long_enough",
            "task-1234567890abcdefghijklmnopqrstuvwxyz0123",
            "AKIA is a prefix",
            "order 1234567890123452 shipped",
            "request 0193a2b4-7c1e-7000-8000-000000000001",
            "eyJ alone",
            "UPDATE event for Product (id: 42)",
            "2024-01-02T03:04:05.678901Z",
            "error: connection refused; retry=3",
            "author: Ann, shipping=express, {name: {x: 1}}",
        ] {
            assert_eq!(masked(text), text);
        }
    }
}
