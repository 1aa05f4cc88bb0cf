//! Which keys are secret: matching a key's *segments* against words, and
//! its normalized text against substrings.
//!
//! A key is cut into segments at every character that is not a letter or
//! a digit (`_`, `-`, `.`, spaces, brackets …), between a lower-case letter
//! and an upper-case one (`refreshToken`), before the last capital of a run
//! of capitals followed by a lower-case letter (`APIKey` is `api` `key`),
//! and between letters and digits (`password2`). Segments are compared
//! lower-cased.
//!
//! A *word* matches when a run of consecutive segments spells it exactly
//! (`api` `key` spells `apikey`, and so does `apikey` alone), or, for the
//! run that ends the key, the word followed by `s` (`tokens`, `api_keys`).
//! So `authorId` is not `auth`, `shipping` is not `pin`, `passenger` is not
//! `pass`, and `sessions_count` is not `session` (a plural counts only at
//! the end of the key).
//!
//! A *substring* matches anywhere in the key lower-cased with its
//! separators dropped: `newpassword` contains `password`.

/// Splits `key` into lower-cased segments: `on_char(c, starts_segment)` is
/// called for every kept character. Returns early when `on_char` says so.
fn split(key: &str, mut on_char: impl FnMut(char, bool) -> bool) {
    let mut chars = key.chars().peekable();
    let mut prev: Option<char> = None;
    let mut new_segment = true;
    while let Some(c) = chars.next() {
        if !c.is_alphanumeric() {
            new_segment = true;
            prev = None;
            continue;
        }
        if let Some(p) = prev {
            let next_lower = chars.peek().is_some_and(|n| n.is_lowercase());
            let boundary = (p.is_lowercase() && c.is_uppercase())
                || (p.is_uppercase() && c.is_uppercase() && next_lower)
                || (p.is_numeric() != c.is_numeric());
            new_segment |= boundary;
        }
        let mut first = new_segment;
        for l in c.to_lowercase() {
            if !on_char(l, first) {
                return;
            }
            first = false;
        }
        new_segment = false;
        prev = Some(c);
    }
}

/// A key cut into segments: its lower-cased characters without separators,
/// and where each segment starts.
pub(super) struct Segments<'b> {
    text: &'b [u8],
    starts: &'b [bool],
}

/// Room for the segments of a key, on the stack for short ASCII keys.
pub(super) struct SegmentBuf {
    text: [u8; 64],
    starts: [bool; 64],
    heap: Option<(Vec<u8>, Vec<bool>)>,
}

impl SegmentBuf {
    pub(super) fn new() -> Self {
        SegmentBuf {
            text: [0; 64],
            starts: [false; 64],
            heap: None,
        }
    }

    /// Cuts `key` into segments.
    pub(super) fn segments(&mut self, key: &str) -> Segments<'_> {
        let mut n = 0;
        let mut fits = key.is_ascii();
        if fits {
            split(key, |c, first| {
                if n == self.text.len() {
                    fits = false;
                    return false;
                }
                self.text[n] = c as u8;
                self.starts[n] = first;
                n += 1;
                true
            });
        }
        if fits {
            return Segments {
                text: &self.text[..n],
                starts: &self.starts[..n],
            };
        }
        let (mut text, mut starts) = (Vec::new(), Vec::new());
        split(key, |c, first| {
            let mut utf8 = [0u8; 4];
            for (i, &b) in c.encode_utf8(&mut utf8).as_bytes().iter().enumerate() {
                text.push(b);
                starts.push(first && i == 0);
            }
            true
        });
        let (text, starts) = self.heap.insert((text, starts));
        Segments { text, starts }
    }
}

impl Segments<'_> {
    fn ends_segment(&self, at: usize) -> bool {
        at == self.text.len() || self.starts[at]
    }

    /// Whether a run of segments spells `word` (see the module docs).
    pub(super) fn has_word(&self, word: &[u8]) -> bool {
        let t = self.text;
        let Some(&first) = word.first() else {
            return false;
        };
        (0..t.len()).any(|i| {
            if !self.starts[i] || t[i] != first || !t[i..].starts_with(word) {
                return false;
            }
            let end = i + word.len();
            self.ends_segment(end) || (end + 1 == t.len() && t[end] == b's')
        })
    }

    /// Whether the whole key spells `word`, or its plural.
    pub(super) fn is_whole_word(&self, word: &[u8]) -> bool {
        let t = self.text;
        t == word || (t.len() == word.len() + 1 && t.starts_with(word) && t.ends_with(b"s"))
    }

    /// Whether the key, lower-cased without separators, contains `part`.
    pub(super) fn has_substring(&self, part: &[u8]) -> bool {
        part.is_empty() || self.text.windows(part.len()).any(|w| w == part)
    }
}

/// A word or substring as the policy keeps it: lower-cased, separators
/// dropped.
pub(super) fn normalize(word: &str) -> String {
    let mut out = String::new();
    split(word, |c, _| {
        out.push(c);
        true
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn segs(key: &str) -> Vec<String> {
        let mut buf = SegmentBuf::new();
        let s = buf.segments(key);
        let mut out: Vec<String> = Vec::new();
        for (i, &b) in s.text.iter().enumerate() {
            if s.starts[i] || out.is_empty() {
                out.push(String::new());
            }
            out.last_mut().unwrap().push(b as char);
        }
        out
    }

    #[test]
    fn cuts_at_separators_case_changes_and_digits() {
        assert_eq!(segs("refreshToken"), ["refresh", "token"]);
        assert_eq!(segs("X-Api-Key"), ["x", "api", "key"]);
        assert_eq!(segs("APIKey"), ["api", "key"]);
        assert_eq!(segs("client_secret"), ["client", "secret"]);
        assert_eq!(segs("password2"), ["password", "2"]);
        assert_eq!(segs("user.pass word"), ["user", "pass", "word"]);
        assert_eq!(segs("PASSWORD"), ["password"]);
        assert_eq!(segs("user[password]"), ["user", "password"]);
    }

    #[test]
    fn long_and_non_ascii_keys_are_cut_alike() {
        let long = format!("{}_password", "x".repeat(100));
        assert!(SegmentBuf::new().segments(&long).has_word(b"password"));
        let mut buf = SegmentBuf::new();
        let s = buf.segments("pässwordToken");
        assert!(s.has_word(b"token"));
        assert!(!s.has_word(b"password"));
    }

    #[test]
    fn words_match_whole_segment_runs_and_a_final_plural() {
        let has = |key: &str, word: &str| SegmentBuf::new().segments(key).has_word(word.as_bytes());
        assert!(has("X-Api-Key", "apikey"));
        assert!(has("apikey", "apikey"));
        assert!(has("api_keys", "apikey"));
        assert!(has("refresh_tokens", "token"));
        assert!(!has("authorId", "auth"));
        assert!(!has("shipping", "pin"));
        assert!(!has("passenger", "pass"));
        assert!(!has("sessions_count", "session"));
        assert!(has("session_count", "session"));
    }
}
