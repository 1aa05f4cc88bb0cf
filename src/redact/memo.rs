//! Small per-thread memos of the policy's answers: records repeat the same
//! keys (`password`, `content-type`) and the same values (a header value,
//! the request id in the span and in the echoed header) from one record to
//! the next.
//!
//! An entry is found only by the policy's rules (a number that changes
//! with every change to them) and the whole text, compared byte for byte:
//! a hash collision or another policy can never hand out another text's
//! answer. Texts longer than an entry holds are not remembered.

use std::cell::RefCell;

/// A two-way memo of `SLOTS` (even) answers about texts of at most `LEN`
/// bytes.
pub(super) struct Memo<const SLOTS: usize, const LEN: usize> {
    entries: RefCell<[Entry<LEN>; SLOTS]>,
}

#[derive(Clone, Copy)]
struct Entry<const LEN: usize> {
    rules: u64,
    hash: u64,
    len: u8,
    text: [u8; LEN],
    answer: bool,
}

impl<const SLOTS: usize, const LEN: usize> Memo<SLOTS, LEN> {
    /// An empty memo (`rules` 0 is never a policy's number).
    pub(super) const fn new() -> Self {
        assert!(LEN <= u8::MAX as usize && SLOTS.is_multiple_of(2));
        Memo {
            entries: RefCell::new(
                [Entry {
                    rules: 0,
                    hash: 0,
                    len: 0,
                    text: [0; LEN],
                    answer: false,
                }; SLOTS],
            ),
        }
    }

    /// The answer remembered for `text` under `rules`, if any.
    pub(super) fn get(&self, rules: u64, text: &str) -> Option<bool> {
        if text.len() > LEN {
            return None;
        }
        let hash = hash(text);
        let entries = self.entries.try_borrow().ok()?;
        let set = slot::<SLOTS>(hash) & !1;
        [set, set + 1].into_iter().find_map(|i| {
            let e = &entries[i];
            (e.hash == hash
                && e.rules == rules
                && usize::from(e.len) == text.len()
                && &e.text[..text.len()] == text.as_bytes())
            .then_some(e.answer)
        })
    }

    /// Remembers `answer` for `text` under `rules`. Two-way: a text has
    /// two places (a pair of slots); the newest answer takes the first,
    /// the one it displaces moves to the second, so two texts of one pair
    /// (a record checks some twenty keys) do not push each other out on
    /// every record.
    pub(super) fn put(&self, rules: u64, text: &str, answer: bool) {
        if text.len() > LEN {
            return;
        }
        let hash = hash(text);
        if let Ok(mut entries) = self.entries.try_borrow_mut() {
            let set = slot::<SLOTS>(hash) & !1;
            entries[set + 1] = entries[set];
            let e = &mut entries[set];
            e.rules = rules;
            e.hash = hash;
            e.len = text.len() as u8;
            e.text[..text.len()].copy_from_slice(text.as_bytes());
            e.answer = answer;
        }
    }
}

/// The one text the crate vouches for on this thread (see
/// [`made_here`](super::made_here)): at most 64 bytes, empty when none.
pub(super) struct Made {
    text: RefCell<(usize, [u8; 64])>,
}

impl Made {
    pub(super) const fn new() -> Self {
        Made {
            text: RefCell::new((0, [0; 64])),
        }
    }

    /// Whether `text` is the vouched-for text.
    pub(super) fn is(&self, text: &str) -> bool {
        self.text.try_borrow().is_ok_and(|made| {
            made.0 != 0 && made.0 == text.len() && &made.1[..made.0] == text.as_bytes()
        })
    }

    /// Vouches for `text` (a longer or empty text is not vouched for);
    /// returns what was vouched for before, for [`restore`](Self::restore).
    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(super) fn vouch(&self, text: &str) -> (usize, [u8; 64]) {
        let mut previous = (0, [0; 64]);
        if let Ok(mut made) = self.text.try_borrow_mut() {
            previous = *made;
            *made = (0, [0; 64]);
            if !text.is_empty() && text.len() <= made.1.len() {
                made.1[..text.len()].copy_from_slice(text.as_bytes());
                made.0 = text.len();
            }
        }
        previous
    }

    #[cfg_attr(not(feature = "http"), allow(dead_code))]
    pub(super) fn restore(&self, previous: (usize, [u8; 64])) {
        if let Ok(mut made) = self.text.try_borrow_mut() {
            *made = previous;
        }
    }
}

fn slot<const SLOTS: usize>(hash: u64) -> usize {
    (hash % SLOTS as u64) as usize
}

/// Eight bytes at a time, the last (or only) few read as one or two
/// overlapping words (a byte at a time took about four times as many
/// instructions): no seed needed, entries are checked whole.
fn hash(s: &str) -> u64 {
    const K: u64 = 0x9e37_79b9_7f4a_7c15;
    let mix = |h: u64, word: u64| (h ^ word).wrapping_mul(K).rotate_left(29);
    let bytes = s.as_bytes();
    let n = bytes.len();
    let mut h = (n as u64).wrapping_mul(K);
    if n >= 8 {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            h = mix(h, word8(chunk));
        }
        if !chunks.remainder().is_empty() {
            h = mix(h, word8(&bytes[n - 8..]));
        }
    } else if n >= 4 {
        let low = u64::from(word4(&bytes[..4]));
        let high = u64::from(word4(&bytes[n - 4..]));
        h = mix(h, low | high << 32);
    } else if n > 0 {
        let word =
            u64::from(bytes[0]) | u64::from(bytes[n / 2]) << 8 | u64::from(bytes[n - 1]) << 16;
        h = mix(h, word);
    }
    h ^ (h >> 32)
}

/// The first eight bytes of `b` (it has eight or more) as a word.
fn word8(b: &[u8]) -> u64 {
    let mut word = [0u8; 8];
    word.copy_from_slice(&b[..8]);
    u64::from_le_bytes(word)
}

/// The first four bytes of `b` (it has four or more) as a word.
fn word4(b: &[u8]) -> u32 {
    let mut word = [0u8; 4];
    word.copy_from_slice(&b[..4]);
    u32::from_le_bytes(word)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answers_only_for_the_same_rules_and_text() {
        let memo: Memo<4, 8> = Memo::new();
        memo.put(1, "abc", true);
        assert_eq!(memo.get(1, "abc"), Some(true));
        assert_eq!(memo.get(2, "abc"), None, "another policy");
        assert_eq!(memo.get(1, "abd"), None);
        assert_eq!(memo.get(1, "ab"), None);
        // Two texts of one slot are both kept.
        let memo: Memo<2, 8> = Memo::new();
        memo.put(1, "a", true);
        memo.put(1, "b", false);
        assert_eq!(memo.get(1, "a"), Some(true));
        assert_eq!(memo.get(1, "b"), Some(false));
        // Texts of every length that differ in one byte anywhere.
        let memo: Memo<64, 24> = Memo::new();
        for len in 1..=24 {
            let base = "k".repeat(len);
            memo.put(1, &base, true);
            for at in 0..len {
                let mut other = base.clone().into_bytes();
                other[at] = b'x';
                let other = String::from_utf8(other).unwrap();
                assert_eq!(memo.get(1, &other), None, "{other}");
            }
            assert_eq!(memo.get(1, &base), Some(true), "{base}");
        }
        let memo: Memo<4, 8> = Memo::new();
        memo.put(1, "123456789", true);
        assert_eq!(memo.get(1, "123456789"), None, "too long to keep");
    }
}
