//! The chain's bytes: how `seq`, `prev_hash` and `hash` are put into a
//! line, how the hash is computed, and how they are read back. The writer
//! (`transform.rs`) and the verifier (`verify.rs`) both go through here,
//! so there is one definition of the canonical bytes.
//!
//! A chained line is the record's JSON object with three last members:
//!
//! ```text
//! {…the record…,"seq":42,"prev_hash":"<64 hex>","hash":"<64 hex>"}\n
//! ```
//!
//! `hash` is SHA-256 (or HMAC-SHA256 with the key) of the line's bytes up
//! to the `,"hash":` member, followed by the closing `}`: the line with its
//! `hash` member and its `\n` removed. Those bytes hold `seq` and
//! `prev_hash`, so each hash covers the record, its place and everything
//! before it.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// `prev_hash` of the first record of a chain.
pub(crate) const GENESIS: [u8; 64] = [b'0'; 64];

const HASH_KEY: &[u8] = b",\"hash\":\"";
const PREV_KEY: &[u8] = b"\"prev_hash\":\"";
const SEQ_KEY: &[u8] = b"\"seq\":";

/// The most bytes [`append_chained`] adds to a record's line: a comma,
/// `seq` (up to 20 digits), `prev_hash` and `hash`. The layer sizes
/// records of a chained file this much under `max_line_bytes`, so that no
/// chained line is longer.
pub(crate) const MAX_ADDED: usize =
    1 + SEQ_KEY.len() + 20 + 1 + PREV_KEY.len() + 64 + 1 + HASH_KEY.len() + 64 + 1;

/// How hashes are made: SHA-256, or HMAC-SHA256 with a key.
#[derive(Clone)]
pub(crate) enum Hasher {
    Sha256,
    Hmac(Hmac<Sha256>),
}

impl Hasher {
    pub(crate) fn new(key: Option<&[u8]>) -> Hasher {
        match key {
            // HMAC takes a key of any length.
            Some(key) => match Hmac::<Sha256>::new_from_slice(key) {
                Ok(mac) => Hasher::Hmac(mac),
                Err(_) => Hasher::Sha256,
            },
            None => Hasher::Sha256,
        }
    }

    /// The name written in chain start records (`chain_alg`).
    pub(crate) fn alg(&self) -> &'static str {
        match self {
            Hasher::Sha256 => "sha256",
            Hasher::Hmac(_) => "hmac-sha256",
        }
    }

    /// The hash of `body` (a line without its `hash` member and its
    /// `\n`), in lowercase hex.
    pub(crate) fn hex(&self, body: &[&[u8]]) -> [u8; 64] {
        let digest: [u8; 32] = match self {
            Hasher::Sha256 => {
                let mut h = Sha256::new();
                for part in body {
                    h.update(part);
                }
                h.finalize().into()
            }
            Hasher::Hmac(mac) => {
                let mut mac = mac.clone();
                for part in body {
                    mac.update(part);
                }
                mac.finalize().into_bytes().into()
            }
        };
        hex64(&digest)
    }
}

/// `digest` in lowercase hex, into a stack buffer (a table lookup per
/// nibble: this runs once per record on the writer thread).
fn hex64(digest: &[u8; 32]) -> [u8; 64] {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (pair, byte) in out.chunks_exact_mut(2).zip(digest) {
        pair[0] = DIGITS[usize::from(byte >> 4)];
        pair[1] = DIGITS[usize::from(byte & 0x0f)];
    }
    out
}

/// Appends `object` (a JSON object's bytes, `{…}`, without `\n`) to `out`
/// with `seq`, `prev_hash` and `hash` added as its last members, and a
/// `\n`; returns the new hash.
pub(crate) fn append_chained(
    out: &mut Vec<u8>,
    object: &[u8],
    seq: u64,
    prev_hash: &[u8; 64],
    hasher: &Hasher,
) -> [u8; 64] {
    let start = out.len();
    // `object` ends in `}`; an empty object takes no comma.
    let inner = &object[..object.len() - 1];
    out.extend_from_slice(inner);
    if inner.iter().rev().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        out.push(b',');
    }
    out.extend_from_slice(SEQ_KEY);
    out.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
    out.push(b',');
    out.extend_from_slice(PREV_KEY);
    out.extend_from_slice(prev_hash);
    out.push(b'"');
    let hash = hasher.hex(&[&out[start..], b"}"]);
    out.extend_from_slice(HASH_KEY);
    out.extend_from_slice(&hash);
    out.extend_from_slice(b"\"}\n");
    hash
}

/// The chain members of one line, read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Link<'a> {
    pub(crate) seq: u64,
    pub(crate) prev_hash: &'a [u8],
    pub(crate) hash: &'a [u8],
    /// The bytes the hash is over, less the closing `}` that follows them.
    pub(crate) body: &'a [u8],
}

impl Link<'_> {
    /// Whether `hash` is the hash of the line's bytes.
    pub(crate) fn hash_matches(&self, hasher: &Hasher) -> bool {
        hasher.hex(&[self.body, b"}"]) == self.hash
    }
}

/// Reads the chain members at the end of `line` (without `\n`); `None`
/// when the line does not end with them exactly as
/// [`append_chained`] writes them.
pub(crate) fn parse(line: &[u8]) -> Option<Link<'_>> {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    let rest = line.strip_suffix(b"\"}")?;
    let hash_at = rest.len().checked_sub(64)?;
    let hash = &rest[hash_at..];
    let body = rest[..hash_at].strip_suffix(HASH_KEY)?;
    let before_prev = body.strip_suffix(b"\"")?;
    let prev_at = before_prev.len().checked_sub(64)?;
    let prev_hash = &before_prev[prev_at..];
    let before = before_prev[..prev_at]
        .strip_suffix(PREV_KEY)?
        .strip_suffix(b",")?;
    let digits_at = before
        .iter()
        .rposition(|b| !b.is_ascii_digit())
        .map_or(0, |i| i + 1);
    let digits = &before[digits_at..];
    let seq = std::str::from_utf8(digits).ok()?.parse().ok()?;
    let opener = before[..digits_at].strip_suffix(SEQ_KEY)?;
    if !matches!(opener.last(), Some(b',' | b'{')) || !is_hex(hash) || !is_hex(prev_hash) {
        return None;
    }
    Some(Link {
        seq,
        prev_hash,
        hash,
        body,
    })
}

fn is_hex(s: &[u8]) -> bool {
    s.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chained_line_reads_back_and_its_hash_is_over_the_documented_bytes() {
        let hasher = Hasher::new(None);
        let mut out = Vec::new();
        let hash = append_chained(&mut out, br#"{"a":1}"#, 7, &GENESIS, &hasher);
        let zeros = "0".repeat(64);
        let body = format!(r#"{{"a":1,"seq":7,"prev_hash":"{zeros}"}}"#);
        let expected = hex::encode(Sha256::digest(body.as_bytes()));
        assert_eq!(hash, expected.as_bytes());
        let all: [u8; 32] = std::array::from_fn(|i| (i * 8 + 7) as u8);
        assert_eq!(hex64(&all), hex::encode(all).as_bytes());
        let line = format!(r#"{{"a":1,"seq":7,"prev_hash":"{zeros}","hash":"{expected}"}}"#);
        assert_eq!(out, format!("{line}\n").as_bytes());
        let link = parse(line.as_bytes()).unwrap();
        assert_eq!(
            (link.seq, link.prev_hash, link.hash),
            (7, &GENESIS[..], hash.as_slice())
        );
        assert!(link.hash_matches(&hasher));
        assert!(!link.hash_matches(&Hasher::new(Some(b"key"))));
    }

    #[test]
    fn an_empty_object_takes_no_comma_and_broken_tails_are_refused() {
        let hasher = Hasher::new(None);
        let mut out = Vec::new();
        append_chained(&mut out, b"{}", 1, &GENESIS, &hasher);
        assert!(out.starts_with(b"{\"seq\":1,"));
        let line = &out[..out.len() - 1];
        assert!(parse(line).is_some());
        for bad in [
            &line[..line.len() - 1],
            &line[1..],
            b"{\"seq\":1}".as_slice(),
            b"".as_slice(),
            b"\"}".as_slice(),
        ] {
            if bad.starts_with(b"{") || bad.len() < 10 {
                assert!(parse(bad).is_none(), "{}", String::from_utf8_lossy(bad));
            }
        }
    }
}
