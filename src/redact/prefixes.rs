//! Keys and tokens recognized by their well-known prefix. The prefix is
//! kept (it says what leaked); the rest of the token is masked:
//! `sk_live_[REDACTED]`.
//!
//! The list is in the [policy's docs](super#well-known-prefixes).
//!
//! "Characters" are ASCII letters, digits, `_` and `-` (and `.` for `SG.`
//! and `ya29.`). A prefix counts only at the start of a word: not after a
//! letter or a digit (`disk_test_…` is not `sk_test_…`).

use std::ops::Range;

/// A prefix, the fewest characters after it, and whether `.` is one of them.
struct Prefix {
    text: &'static [u8],
    min: usize,
    dots: bool,
}

const fn p(text: &'static str, min: usize) -> Prefix {
    Prefix {
        text: text.as_bytes(),
        min,
        dots: false,
    }
}

const fn p_dots(text: &'static str, min: usize) -> Prefix {
    Prefix {
        text: text.as_bytes(),
        min,
        dots: true,
    }
}

/// Prefixes that contain `_`, `-` or `.`, by their first letter: found
/// from their first such byte, looking back at the word before it. Longer
/// ones first.
fn starting_with(first: u8) -> &'static [Prefix] {
    const S: &[Prefix] = &[
        p("sk_live_", 16),
        p("sk_test_", 16),
        p("sk-ant-", 20),
        p("sk-proj-", 20),
        p("sk-", 32),
        p("shpat_", 20),
        p("shpss_", 20),
        p("shpca_", 20),
        p("shppa_", 20),
    ];
    const G: &[Prefix] = &[
        p("ghp_", 20),
        p("gho_", 20),
        p("ghu_", 20),
        p("ghs_", 20),
        p("ghr_", 20),
        p("github_pat_", 20),
        p("glpat-", 20),
        // GitLab's other tokens: deploy, runner, pipeline trigger, OAuth
        // application secret, CI/CD job, incoming mail, feed, service
        // account, agent, feature flags client.
        p("gldt-", 20),
        p("glrt-", 20),
        p("glptt-", 20),
        p("gloas-", 20),
        p("glcbt-", 20),
        p("glimt-", 20),
        p("glft-", 20),
        p("glsoat-", 20),
        p("glagent-", 20),
        p("glffct-", 20),
    ];
    const X: &[Prefix] = &[
        p("xoxb-", 10),
        p("xoxp-", 10),
        p("xoxa-", 10),
        p("xoxs-", 10),
        p("xoxr-", 10),
        p("xapp-", 10),
        // Slack's refresh tokens (`xoxe-1-…`; `xoxe.xoxp-…` is found by
        // its `xoxp-`).
        p("xoxe-", 10),
    ];
    const R: &[Prefix] = &[p("rk_live_", 16), p("rk_test_", 16)];
    const W: &[Prefix] = &[p("whsec_", 16)];
    const N: &[Prefix] = &[p("npm_", 30)];
    const P: &[Prefix] = &[p("pypi-", 50)];
    // Hugging Face; HashiCorp Vault's service, batch and recovery tokens.
    const H: &[Prefix] = &[p("hf_", 30), p("hvs.", 20), p("hvb.", 20), p("hvr.", 20)];
    const D: &[Prefix] = &[p("dop_v1_", 32)];
    const SG: &[Prefix] = &[p_dots("SG.", 16)];
    const Y: &[Prefix] = &[p_dots("ya29.", 20)];
    match first {
        b's' => S,
        b'g' => G,
        b'x' => X,
        b'r' => R,
        b'w' => W,
        b'n' => N,
        b'p' => P,
        b'h' => H,
        b'd' => D,
        b'S' => SG,
        b'y' => Y,
        _ => &[],
    }
}

/// Every prefix made of word characters only (letters, digits, `_`),
/// with the fewest characters after it, and the capital-`A` ones: for the
/// scan's fast path test.
#[cfg(test)]
pub(super) fn word_prefixes() -> Vec<(&'static str, usize)> {
    let mut out = vec![("AKIA", 16), ("ASIA", 16), ("AIza", 30)];
    for first in 0..=255u8 {
        for p in starting_with(first) {
            if p.text
                .iter()
                .all(|&b| b.is_ascii_alphanumeric() || b == b'_')
            {
                out.push((std::str::from_utf8(p.text).unwrap_or(""), p.min));
            }
        }
    }
    out
}

/// The longest word before the first separator of a prefix (`glagent`).
const LONGEST_WORD: usize = 7;

fn is_word(b: u8) -> bool {
    b.is_ascii_alphanumeric()
}

fn is_token(b: u8, dots: bool) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || (dots && b == b'.')
}

/// At a `_`, `-` or `.` at `at`: the masked part of a prefixed token whose
/// first separator this is.
pub(super) fn at_separator(s: &[u8], at: usize) -> Option<Range<usize>> {
    let mut start = at;
    while start > 0 && at - start <= LONGEST_WORD && is_word(s[start - 1]) {
        start -= 1;
    }
    if start == at || (start > 0 && is_word(s[start - 1])) {
        return None;
    }
    let word_len = at - start;
    let rest = &s[start..];
    starting_with(s[start]).iter().find_map(|prefix| {
        if prefix.text.get(word_len) != Some(&s[at]) || !rest.starts_with(prefix.text) {
            return None;
        }
        let body = start + prefix.text.len();
        let end = body
            + s[body..]
                .iter()
                .take_while(|&&b| is_token(b, prefix.dots))
                .count();
        (end - body >= prefix.min).then_some(body..end)
    })
}

/// At an `A` at `at`: an AWS access key id (`AKIA`/`ASIA` and 16 capitals
/// or digits), a Google API key (`AIza` and 30 or more characters) or an
/// age secret key (`AGE-SECRET-KEY-1` and 50 or more).
pub(super) fn at_capital_a(s: &[u8], at: usize) -> Option<Range<usize>> {
    if at > 0 && is_word(s[at - 1]) {
        return None;
    }
    // SMTP's `AUTH PLAIN <base64 of \0user\0password>` and `AUTH
    // XOAUTH2 <base64 of a bearer token>`: the base64.
    for command in [&b"AUTH PLAIN "[..], b"AUTH XOAUTH2 "] {
        if s[at..].starts_with(command) {
            let body = at + command.len();
            let n = s[body..]
                .iter()
                .take_while(|&&b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'='))
                .count();
            return (n >= 4).then_some(body..body + n);
        }
    }
    let head = s.get(at..at + 4).and_then(|w| <[u8; 4]>::try_from(w).ok());
    let body = at + 4;
    if head == Some(*b"AKIA") || head == Some(*b"ASIA") {
        let n = s[body..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .count();
        let glued = s.get(body + n).is_some_and(|&b| is_word(b));
        return (n == 16 && !glued).then_some(body..body + n);
    }
    // An age encryption tool's secret key: `AGE-SECRET-KEY-1` and its
    // Bech32 characters.
    const AGE: &[u8] = b"AGE-SECRET-KEY-1";
    if head == Some(*b"AGE-") && s[at..].starts_with(AGE) {
        let body = at + AGE.len();
        let n = s[body..]
            .iter()
            .take_while(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            .count();
        return (n >= 50).then_some(body..body + n);
    }
    if head == Some(*b"AIza") {
        let n = s[body..]
            .iter()
            .take_while(|&&b| is_token(b, false))
            .count();
        return (n >= 30).then_some(body..body + n);
    }
    None
}

/// At a `~` at `at`: a Microsoft Entra ID (Azure AD) client secret, three
/// characters, a digit, `Q~` and 31 to 34 characters
/// (`abc8Q~…`), masked whole: its start says nothing.
pub(super) fn at_tilde(s: &[u8], at: usize) -> Option<Range<usize>> {
    let secret_char = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.' | b'-');
    if at < 5 || s[at - 1] != b'Q' || !s[at - 2].is_ascii_digit() {
        return None;
    }
    let start = at - 5;
    if !s[start..at - 2]
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'~' | b'.'))
        || (start > 0 && secret_char(s[start - 1]))
    {
        return None;
    }
    let n = s[at + 1..].iter().take_while(|&&b| secret_char(b)).count();
    (31..=34).contains(&n).then_some(start..at + 1 + n)
}

/// At a `-` at `at`: a private key block, from after its header line to
/// its end line: PEM (`-----BEGIN … PRIVATE KEY-----`, OpenSSH's and
/// encrypted ones included), OpenPGP (`-----BEGIN PGP PRIVATE KEY
/// BLOCK-----`), SSH2 (`---- BEGIN SSH2 ENCRYPTED PRIVATE KEY ----`); or
/// the private lines of a PuTTY key file (after `Private-Lines: N`, up to
/// `Private-MAC` or `Private-Hash`).
pub(super) fn at_pem(s: &[u8], at: usize) -> Option<Range<usize>> {
    if s.get(at + 1) != Some(&b'-') {
        return at_putty(s, at);
    }
    let (header, close, end_mark): (usize, &[u8], &[u8]) = if s[at..].starts_with(b"-----BEGIN ") {
        (at + 11, b"-----", b"-----END")
    } else if s[at..].starts_with(b"---- BEGIN ") {
        (at + 11, b" ----", b"---- END")
    } else {
        return None;
    };
    let label_len = find(&s[header..(header + 48).min(s.len())], close)?;
    // Only private keys: a certificate or a public key is not secret.
    find(&s[header..header + label_len], b"PRIVATE")?;
    let body = header + label_len + close.len();
    let end = find(&s[body..], end_mark).map_or(s.len(), |e| body + e);
    (end > body).then_some(body..end)
}

/// At the `-` of `Private-Lines:` in a PuTTY key file: its private lines.
fn at_putty(s: &[u8], at: usize) -> Option<Range<usize>> {
    if at < 7 || !s[at - 7..at].eq_ignore_ascii_case(b"Private") || !s[at..].starts_with(b"-Lines:")
    {
        return None;
    }
    // The lines start after the count's line.
    let body = at + find(&s[at..], b"\n")? + 1;
    let end = [&b"Private-MAC"[..], b"Private-Hash"]
        .iter()
        .filter_map(|m| find(&s[body..], m))
        .min()
        .map_or(s.len(), |e| body + e);
    (end > body).then_some(body..end)
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}
