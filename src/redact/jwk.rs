//! Private JSON Web Keys (RFC 7517, 7518): the members of a key object
//! that hold its private part. The names are one or two letters (`d`,
//! `p`, `k`), far too short to be secret keys on their own, so they are
//! secret only inside an object that has a `kty` member, as every JWK
//! has. The public members (`kty`, `n`, `e`, `x`, `y`, `crv`, `kid`,
//! `alg`, `use`) stay.

use std::cell::Cell;

use super::keyval::is_key_char;

/// The private members: RSA's exponent, primes, CRT values and other
/// primes (`d`, `p`, `q`, `dp`, `dq`, `qi`, `oth`), the EC and OKP private
/// key (`d`), the symmetric key of an `oct` key (`k`).
pub(super) const PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The member every JWK has.
pub(super) const KTY: &str = "kty";

/// Whether `key` names a private member of a JWK.
pub(super) fn is_private(key: &str) -> bool {
    key.len() <= 3 && PRIVATE.contains(&key)
}

/// How far from a member its object's `kty` is looked for, each way: an
/// RSA-4096 private key is some 3,200 bytes of text.
const REACH: usize = 4096;

/// The fewest base64url characters of a private member's value in text
/// (a 128-bit `oct` key has 22; an EC P-256 `d` 43).
const SHORTEST_VALUE: usize = 16;

thread_local! {
    /// The last span of text between braces searched for `kty`: the
    /// text's address and length, the span, and the answer. Members of
    /// one key share it, so an object of many members is searched once.
    static LAST: Cell<(usize, usize, usize, usize, bool)> = const { Cell::new((0, 0, 0, 0, false)) };
}

/// Forgets the last span searched: called when the scan of a text
/// starts, so an answer is reused only within the text it was found in.
pub(super) fn forget() {
    LAST.with(|l| l.set((0, 0, 0, 0, false)));
}

/// In text, for the key `key` of the member whose key starts at `start`
/// and whose value starts at `v`: whether it is a private member of a JWK
/// written as JSON or `Debug` text (`{"kty":"EC", …, "d":"…"}`,
/// `Jwk { kty: "RSA", …, d: "…" }`): its name is one of [`PRIVATE`], its
/// value a quoted base64url text of 16 or more characters, and the text
/// between the braces around it (at most [`REACH`] bytes each way) holds
/// a `kty` key.
pub(super) fn private_in_text(s: &[u8], key: &str, start: usize, v: usize) -> bool {
    if !is_private(key) {
        return false;
    }
    // The value: `"…"` or `\"…\"` (JSON text inside a JSON string).
    let from = match s.get(v..v + 2) {
        Some([b'"', _]) => v + 1,
        Some(b"\\\"") => v + 2,
        _ => return false,
    };
    let len = s[from..]
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        .count();
    if len < SHORTEST_VALUE {
        return false;
    }
    // The span between the nearest braces around the member.
    let low = start.saturating_sub(REACH);
    let open = s[low..start]
        .iter()
        .rposition(|&b| b == b'{' || b == b'}')
        .map_or(low, |i| low + i);
    let high = (v + REACH).min(s.len());
    let close = s[v..high]
        .iter()
        .position(|&b| b == b'{' || b == b'}')
        .map_or(high, |i| v + i);
    let here = (s.as_ptr() as usize, s.len());
    let (ptr, n, o, c, answer) = LAST.with(Cell::get);
    if (ptr, n, o, c) == (here.0, here.1, open, close) {
        return answer;
    }
    let answer = has_kty(&s[open..close]);
    LAST.with(|l| l.set((here.0, here.1, open, close, answer)));
    answer
}

/// Whether `span` has `kty` as a key: the word, not inside a longer one,
/// followed (after a closing quote) by `:` or `=`.
fn has_kty(span: &[u8]) -> bool {
    let word = KTY.as_bytes();
    span.windows(word.len()).enumerate().any(|(i, w)| {
        if !w.eq_ignore_ascii_case(word) || (i > 0 && is_key_char(span[i - 1])) {
            return false;
        }
        let rest = &span[i + word.len()..];
        let after = rest
            .iter()
            .position(|&b| !matches!(b, b'"' | b'\'' | b'\\' | b' '))
            .map(|j| rest[j]);
        matches!(after, Some(b':' | b'='))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kty_is_found_as_a_key_only() {
        assert!(has_kty(br#""kty":"RSA""#));
        assert!(has_kty(br#"\"kty\":\"RSA\""#));
        assert!(has_kty(b"kty: \"EC\""));
        assert!(!has_kty(br#""ktype":"RSA""#));
        assert!(!has_kty(br#""note":"kty""#));
        assert!(!has_kty(br#""xkty":"RSA""#));
    }
}
