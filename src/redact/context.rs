//! Members secret only next to others: names too common to be secret
//! keys on their own, which are secret in the object (or query, or form)
//! that shows what they are.
//!
//! - Private JSON Web Keys (RFC 7517, 7518): the members of a key object
//!   that hold its private part. The names are one or two letters (`d`,
//!   `p`, `k`), so they are secret only inside an object that has a `kty`
//!   member, as every JWK has. The public members (`kty`, `n`, `e`, `x`,
//!   `y`, `crv`, `kid`, `alg`, `use`) stay.
//! - OAuth's authorization code (`code`), next to the parameters of the
//!   exchange that spends it or of the redirect that brings it
//!   (`grant_type`, `redirect_uri`, `code_verifier`, `state`): not an
//!   error's `code`.

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

/// The key of OAuth's authorization code.
pub(super) const CODE: &str = "code";

/// The keys that make `code` an authorization code: those of the token
/// request (RFC 6749 4.1.3, RFC 7636) and of the redirect (4.1.2).
pub(super) const OAUTH: &[&str] = &["grant_type", "redirect_uri", "code_verifier", "state"];

/// The members secret in an object with the keys `keys`: one pass.
pub(super) fn secret_members<'k>(keys: impl IntoIterator<Item = &'k str>) -> Secret {
    let mut found = Secret::default();
    for key in keys {
        if key == KTY {
            found.jwk = true;
        } else if OAUTH.contains(&key) {
            found.oauth = true;
        }
    }
    found
}

/// Which members of an object are secret by their neighbours.
#[derive(Clone, Copy, Default)]
pub(crate) struct Secret {
    jwk: bool,
    oauth: bool,
}

impl Secret {
    /// Whether any member is.
    pub(crate) fn any(self) -> bool {
        self.jwk || self.oauth
    }

    /// `self` without the JWK members.
    pub(super) fn without_jwk(self) -> Secret {
        Secret { jwk: false, ..self }
    }

    /// `self` without OAuth's code.
    pub(super) fn without_oauth(self) -> Secret {
        Secret {
            oauth: false,
            ..self
        }
    }

    /// Whether the member `key` is.
    pub(crate) fn has(self, key: &str) -> bool {
        (self.jwk && is_private(key)) || (self.oauth && key == CODE)
    }
}

/// The fewest base64url characters of a private member's value in text
/// (a 128-bit `oct` key has 22; an EC P-256 `d` 43).
const SHORTEST_VALUE: usize = 16;

thread_local! {
    /// The last text searched for `kty` and OAuth's keys: its address
    /// and length, and the answers.
    static LAST: Cell<(usize, usize, bool, bool)> = const { Cell::new((0, 0, false, false)) };
}

/// Forgets the last span searched: called when the scan of a text
/// starts, so an answer is reused only within the text it was found in.
pub(super) fn forget() {
    LAST.with(|l| l.set((0, 0, false, false)));
}

/// In text, for the key `key` of the member whose value starts at `v`:
/// whether it is secret by its neighbours,
/// written as JSON, `Debug` text, a query or a form. A private member of
/// a JWK (`{"kty":"EC", …, "d":"…"}`, `Jwk { kty: "RSA", …, d: "…" }`)
/// needs a quoted base64url value of 16 or more characters; `code`, any
/// value. The neighbours are looked for in the whole text, once per
/// text (so a text with a JWK masks a long base64url `d` of another
/// object in it too: on the safe side).
pub(super) fn secret_in_text(s: &[u8], key: &str, v: usize) -> bool {
    let jwk = is_private(key);
    if !jwk && key != CODE {
        return false;
    }
    if jwk {
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
    }
    // The neighbours are looked for in the whole text, once per text: a
    // search around each member made text of many members quadratic.
    let here = (s.as_ptr() as usize, s.len());
    let (ptr, n, kty, oauth) = LAST.with(Cell::get);
    let (kty, oauth) = if (ptr, n) == here {
        (kty, oauth)
    } else {
        let found = (has_key(s, KTY), OAUTH.iter().any(|k| has_key(s, k)));
        LAST.with(|l| l.set((here.0, here.1, found.0, found.1)));
        found
    };
    if jwk {
        kty
    } else {
        oauth
    }
}

/// Whether `span` has `word` as a key: the word, not inside a longer one,
/// followed (after a closing quote) by `:` or `=`.
fn has_key(span: &[u8], word: &str) -> bool {
    let word = word.as_bytes();
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
        assert!(has_key(br#""kty":"RSA""#, KTY));
        assert!(has_key(br#"\"kty\":\"RSA\""#, KTY));
        assert!(has_key(b"kty: \"EC\"", KTY));
        assert!(has_key(b"code=1&state=x", "state"));
        assert!(!has_key(br#""ktype":"RSA""#, KTY));
        assert!(!has_key(br#""note":"kty""#, KTY));
        assert!(!has_key(br#""xkty":"RSA""#, KTY));
    }
}
