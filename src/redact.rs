//! One redaction policy for every record kind.
//!
//! A [`Policy`] decides three things:
//!
//! - which **keys** hold secrets: a JSON key (in a snapshot, a diff, `extra`,
//!   `user_info`, a body) or a field name whose normalized form *contains*
//!   one of the policy's words. Normalizing lower-cases the name and drops
//!   `_`, `-`, `.` and spaces, so `api_key`, `X-Api-Key` and `apiKey` all
//!   match `apikey`;
//! - which **headers** are secret (`authorization`, `cookie`, …), by exact
//!   name, case-insensitively;
//! - whether **values** that look like payment card numbers (13 to 19
//!   digits, spaces or dashes between them allowed, passing the Luhn check)
//!   are masked wherever they appear.
//!
//! A secret is replaced by the mask (`"[REDACTED]"` by default); the key
//! stays, so a changed password shows as
//! `{"password":{"old":"[REDACTED]","new":"[REDACTED]"}}`.
//!
//! ```
//! use tracing_audit::redact::Policy;
//!
//! let policy = Policy::default()
//!     .with_key("pin")           // also redact keys containing "pin"
//!     .without_key("token")      // but keep "token_count" and friends
//!     .with_header("x-session");
//! assert!(policy.is_secret_key("card_PIN"));
//! assert!(!policy.is_secret_key("token_count"));
//! assert!(policy.is_secret_header("X-Session"));
//! assert!(policy.is_secret_value("4111 1111 1111 1111"));
//! ```

use std::fmt;

/// The words a key is checked against by default (normalized).
const DEFAULT_KEYS: &[&str] = &[
    "password",
    "passwd",
    "secret",
    "token",
    "authorization",
    "apikey",
    "accesskey",
    "privatekey",
    "creditcard",
    "cardnumber",
    "cvv",
    "cvc",
    "ssn",
    "cookie",
];

/// The headers redacted by default.
const DEFAULT_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
    "x-api-key",
    "x-auth-token",
    "x-csrf-token",
];

/// What secrets are replaced with by default.
pub const DEFAULT_MASK: &str = "[REDACTED]";

/// A redaction policy: secret keys, secret headers, card numbers, and the
/// mask put in their place. See the [module docs](self).
///
/// | setting | default |
/// |---|---|
/// | key words | `password`, `passwd`, `secret`, `token`, `authorization`, `apikey`, `accesskey`, `privatekey`, `creditcard`, `cardnumber`, `cvv`, `cvc`, `ssn`, `cookie` |
/// | headers | `authorization`, `proxy-authorization`, `cookie`, `set-cookie`, `x-api-key`, `x-auth-token`, `x-csrf-token` |
/// | card numbers | masked |
/// | mask | `"[REDACTED]"` |
#[derive(Clone)]
pub struct Policy {
    /// Names this set of key words (new for every change to it), for the
    /// per-thread memo of answers.
    keys_id: u64,
    keys: Vec<String>,
    headers: Vec<String>,
    cards: bool,
    mask: String,
}

impl PartialEq for Policy {
    fn eq(&self, other: &Self) -> bool {
        self.keys == other.keys
            && self.headers == other.headers
            && self.cards == other.cards
            && self.mask == other.mask
    }
}

impl Eq for Policy {}

fn next_keys_id() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            keys_id: next_keys_id(),
            keys: DEFAULT_KEYS.iter().map(|k| k.to_string()).collect(),
            headers: DEFAULT_HEADERS.iter().map(|h| h.to_string()).collect(),
            cards: true,
            mask: DEFAULT_MASK.to_string(),
        }
    }
}

impl fmt::Debug for Policy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Policy")
            .field("keys", &self.keys)
            .field("headers", &self.headers)
            .field("cards", &self.cards)
            .field("mask", &self.mask)
            .finish()
    }
}

impl Policy {
    /// A policy that redacts nothing. Use with care: secrets then reach the
    /// files.
    pub fn none() -> Self {
        Policy {
            keys_id: next_keys_id(),
            keys: Vec::new(),
            headers: Vec::new(),
            cards: false,
            mask: DEFAULT_MASK.to_string(),
        }
    }

    /// Also treats keys containing `word` (normalized) as secret.
    pub fn with_key(mut self, word: &str) -> Self {
        let word = normalize(word);
        if !word.is_empty() && !self.keys.contains(&word) {
            self.keys.push(word);
            self.keys_id = next_keys_id();
        }
        self
    }

    /// Stops treating keys containing `word` as secret.
    pub fn without_key(mut self, word: &str) -> Self {
        let word = normalize(word);
        self.keys.retain(|k| *k != word);
        self.keys_id = next_keys_id();
        self
    }

    /// Also treats the header `name` as secret (case-insensitive).
    pub fn with_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        if !self.headers.contains(&name) {
            self.headers.push(name);
        }
        self
    }

    /// Stops treating the header `name` as secret.
    pub fn without_header(mut self, name: &str) -> Self {
        let name = name.to_ascii_lowercase();
        self.headers.retain(|h| *h != name);
        self
    }

    /// Whether values that look like card numbers are masked (default on).
    pub fn mask_card_numbers(mut self, on: bool) -> Self {
        self.cards = on;
        self
    }

    /// What a secret is replaced with (default `"[REDACTED]"`).
    pub fn mask_with(mut self, mask: impl Into<String>) -> Self {
        self.mask = mask.into();
        self
    }

    /// The mask.
    pub fn mask(&self) -> &str {
        &self.mask
    }

    /// Whether a value under the key `key` is secret.
    pub fn is_secret_key(&self, key: &str) -> bool {
        if self.keys.is_empty() {
            return false;
        }
        // Records repeat the same few keys: remember the last answers.
        let cache_key = (self.keys_id, fxhash(key));
        if let Some(answer) = KEY_CACHE.with(|c| c.get(cache_key, key)) {
            return answer;
        }
        let answer = self.check_key(key);
        KEY_CACHE.with(|c| c.put(cache_key, key, answer));
        answer
    }

    fn check_key(&self, key: &str) -> bool {
        let mut buf = [0u8; 64];
        let normalized = normalize_into(key, &mut buf);
        match normalized {
            Some(n) => self.keys.iter().any(|k| contains(n, k.as_bytes())),
            None => {
                let n = normalize(key);
                self.keys.iter().any(|k| n.contains(k.as_str()))
            }
        }
    }

    /// Whether the header `name` is secret.
    pub fn is_secret_header(&self, name: &str) -> bool {
        self.headers.iter().any(|h| h.eq_ignore_ascii_case(name)) || self.is_secret_key(name)
    }

    /// Whether `value` must be masked whatever its key (a card number).
    pub fn is_secret_value(&self, value: &str) -> bool {
        self.cards && looks_like_card_number(value)
    }
}

/// A small per-thread memo of [`Policy::is_secret_key`] answers, keyed by
/// the policy's key-word set and the key. Short keys only (the text is kept to compare).
struct KeyCache {
    entries: std::cell::RefCell<[MemoEntry; 16]>,
}

/// Key-word set id, key hash, key text, key length, answer.
type MemoEntry = (u64, u64, [u8; 24], u8, bool);

thread_local! {
    static KEY_CACHE: KeyCache = const {
        KeyCache {
            entries: std::cell::RefCell::new([(0, 0, [0; 24], 0, false); 16]),
        }
    };
}

impl KeyCache {
    fn get(&self, (policy, hash): (u64, u64), key: &str) -> Option<bool> {
        if key.len() > 24 {
            return None;
        }
        let entries = self.entries.try_borrow().ok()?;
        let e = &entries[(hash % 16) as usize];
        (e.0 == policy
            && e.1 == hash
            && usize::from(e.3) == key.len()
            && &e.2[..key.len()] == key.as_bytes())
        .then_some(e.4)
    }

    fn put(&self, (policy, hash): (u64, u64), key: &str, answer: bool) {
        if key.len() > 24 {
            return;
        }
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            let mut text = [0u8; 24];
            text[..key.len()].copy_from_slice(key.as_bytes());
            entries[(hash % 16) as usize] = (policy, hash, text, key.len() as u8, answer);
        }
    }
}

fn fxhash(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Lower-cases and drops separators.
fn normalize(s: &str) -> String {
    s.chars()
        .filter(|c| !matches!(c, '_' | '-' | '.' | ' '))
        .flat_map(char::to_lowercase)
        .collect()
}

/// [`normalize`] for short ASCII keys, without allocating.
fn normalize_into<'b>(s: &str, buf: &'b mut [u8; 64]) -> Option<&'b [u8]> {
    let mut n = 0;
    for &b in s.as_bytes() {
        if !b.is_ascii() {
            return None;
        }
        if matches!(b, b'_' | b'-' | b'.' | b' ') {
            continue;
        }
        *buf.get_mut(n)? = b.to_ascii_lowercase();
        n += 1;
    }
    Some(&buf[..n])
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let Some((&first, rest)) = needle.split_first() else {
        return true;
    };
    if haystack.len() < needle.len() {
        return false;
    }
    (0..=haystack.len() - needle.len())
        .any(|i| haystack[i] == first && &haystack[i + 1..i + needle.len()] == rest)
}

/// 13 to 19 digits, optionally grouped by single spaces or dashes, that
/// pass the Luhn check: the whole value, not a number inside a sentence.
fn looks_like_card_number(s: &str) -> bool {
    // Cheap rejections first: most values are far shorter or longer.
    if s.len() < 13 || s.len() > 64 {
        return false;
    }
    let s = s.trim();
    if s.len() < 13 || s.len() > 23 || !s.as_bytes()[0].is_ascii_digit() {
        return false;
    }
    let mut digits = [0u8; 19];
    let mut n = 0;
    let mut last_sep = false;
    for &b in s.as_bytes() {
        match b {
            b'0'..=b'9' => {
                if n == digits.len() {
                    return false;
                }
                digits[n] = b - b'0';
                n += 1;
                last_sep = false;
            }
            b' ' | b'-' if !last_sep => last_sep = true,
            _ => return false,
        }
    }
    if n < 13 || last_sep || !is_card_range(&digits[..n]) {
        return false;
    }
    let sum: u32 = digits[..n]
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            let d = u32::from(d);
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 {
                    doubled - 9
                } else {
                    doubled
                }
            } else {
                d
            }
        })
        .sum();
    sum % 10 == 0
}

/// Whether the leading digits and the length are those of a card brand
/// (Visa, Mastercard, American Express, Discover, JCB, Diners Club,
/// UnionPay): numbers of the right length outside these ranges, such as
/// most numeric ids, are left alone.
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

    #[test]
    fn default_keys_match_common_spellings() {
        let p = Policy::default();
        for key in [
            "password",
            "Password",
            "new_password",
            "api_key",
            "X-Api-Key",
            "apiKey",
            "access_token",
            "client_secret",
            "credit_card",
            "authorization",
            "pässword_token",
        ] {
            assert!(p.is_secret_key(key), "{key} should be secret");
        }
        for key in ["email", "name", "price", "id", "user_id"] {
            assert!(!p.is_secret_key(key), "{key} should not be secret");
        }
    }

    #[test]
    fn card_numbers_need_a_valid_luhn_sum() {
        let p = Policy::default();
        assert!(p.is_secret_value("4111111111111111"));
        assert!(p.is_secret_value("4111-1111-1111-1111"));
        assert!(p.is_secret_value("5500 0000 0000 0004"));
        assert!(p.is_secret_value("378282246310005"), "Amex");
        assert!(p.is_secret_value("6011111111111117"), "Discover");
        assert!(
            !p.is_secret_value("1234567890123452"),
            "Luhn-valid, but no card brand starts with 1"
        );
        assert!(!p.is_secret_value("4111111111111112"), "bad checksum");
        assert!(!p.is_secret_value("1234"));
        assert!(!p.is_secret_value("order 4111111111111111"));
        assert!(!p.is_secret_value("4111--1111111111111"));
        assert!(!Policy::default()
            .mask_card_numbers(false)
            .is_secret_value("4111111111111111"));
    }

    #[test]
    fn headers_are_matched_case_insensitively() {
        let p = Policy::default();
        assert!(p.is_secret_header("Authorization"));
        assert!(p.is_secret_header("set-cookie"));
        assert!(!p.is_secret_header("content-type"));
        assert!(!Policy::none().is_secret_header("authorization"));
    }

    #[test]
    fn remembered_answers_follow_changes_to_the_policy() {
        let p = Policy::default();
        assert!(!p.is_secret_key("pin"));
        assert!(!p.is_secret_key("pin"), "from the memo");
        let p = p.with_key("pin");
        assert!(p.is_secret_key("pin"));
        let p = p.without_key("pin");
        assert!(!p.is_secret_key("pin"));
        assert!(p.clone().is_secret_key("password"));
        assert!(!Policy::none().is_secret_key("password"));
    }

    #[test]
    fn long_keys_are_checked_too() {
        let key = format!("{}password", "x".repeat(100));
        assert!(Policy::default().is_secret_key(&key));
    }
}
