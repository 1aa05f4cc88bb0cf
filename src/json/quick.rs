//! The common JSON body written in one pass by a small reader of our own,
//! without `serde`'s visitor machinery: [`write`].
//!
//! It takes only text it is sure of: plain strings (no backslash, no
//! control character, valid UTF-8), integers of at most 18 digits written
//! without a leading zero, the three literals, any other number `serde_json`
//! reads alone (so its value is exactly what the parse of the whole text
//! gives), and nesting within the record's depth limit. Anything else
//! (an escape, a broken text, a value nested as deep as the limit) is
//! given up with [`Bail`], and the caller writes the text through
//! `serde_json` instead ([`transcode`](super::transcode)), which then
//! decides whether it is JSON at all. So every text is accepted or
//! refused by `serde_json`'s rules, and written the same either way: the
//! members of an object in the order of their keys, a repeated key's last
//! value kept (the same rewrite, [`reorder`]), secret keys masked, string
//! values scanned and capped.

use std::cell::Cell;
use std::ops::Range;

use super::transcode::{reorder, Keys, Member};
use super::write::{
    clean_data_key, float, int, plain_string, surveyed_string, CutKeys, Survey, NEEDS_ESCAPE,
    SURVEY,
};
use super::Opts;

/// Nesting deeper than this is left to `serde_json` (whose own limit is
/// 128), whatever the record's depth limit.
const MAX_DEPTH: usize = 64;

/// The text is not one this reader takes: nothing it wrote counts.
#[derive(Debug)]
pub(super) struct Bail;

impl From<std::fmt::Error> for Bail {
    fn from(_: std::fmt::Error) -> Bail {
        Bail
    }
}

/// Appends the JSON text `bytes` to `out` as
/// [`json_text`](super::transcode::json_text) would; on [`Bail`], `out`
/// holds a part of it and the record's `truncated` mark may be set: the
/// caller puts both back.
pub(super) fn write(out: &mut String, bytes: &[u8], opts: &Opts<'_>) -> Result<(), Bail> {
    // Checked whole once (every string then lies between ASCII quotes, so
    // on character boundaries).
    let text = std::str::from_utf8(bytes).map_err(|_| Bail)?;
    let mut reader = Reader {
        text,
        bytes,
        at: 0,
        out,
        opts,
        members: MEMBERS.with(Cell::take),
    };
    reader.members.clear();
    reader.space();
    let mut read = reader.value(opts.value_depth, 0);
    reader.space();
    if read.is_ok() && reader.at != bytes.len() {
        read = Err(Bail);
    }
    // Kept for the next body on this thread, unless it grew large.
    if reader.members.capacity() <= 1024 {
        let members = std::mem::take(&mut reader.members);
        MEMBERS.with(|m| m.set(members));
    }
    read
}

thread_local! {
    /// The members list of the last body read on this thread, reused (its
    /// allocation) by the next.
    static MEMBERS: Cell<Vec<Member<Range<usize>>>> = const { Cell::new(Vec::new()) };
}

/// Keys as where they lie in the text.
struct In<'t>(&'t str);

impl Keys<Range<usize>> for In<'_> {
    fn key<'a>(&'a self, key: &'a Range<usize>) -> &'a str {
        self.0.get(key.clone()).unwrap_or("")
    }
}

/// `12.5`, `1234567.000001`: one to seven digits before the point (the
/// first not `0`), one to seven after it (the last not `0`). `serde_json`
/// reads such a number exactly (both parts fit a double's mantissa, the
/// power of ten is at most 7), and as no two decimals of fifteen or fewer
/// digits share a double, the shortest text the float writer gives for it
/// is these same digits.
fn is_short_decimal(digits: &[u8]) -> bool {
    let Some(point) = digits.iter().position(|&c| c == b'.') else {
        return false;
    };
    let (whole, fraction) = (&digits[..point], &digits[point + 1..]);
    (1..=7).contains(&whole.len())
        && (1..=7).contains(&fraction.len())
        && whole[0] != b'0'
        && fraction.last() != Some(&b'0')
        && whole.iter().chain(fraction).all(u8::is_ascii_digit)
}

struct Reader<'t, 'a, 'o> {
    text: &'t str,
    bytes: &'t [u8],
    at: usize,
    out: &'a mut String,
    opts: &'a Opts<'o>,
    /// The members of the objects open around the reader, innermost last
    /// (keys as where they lie in the text).
    members: Vec<Member<Range<usize>>>,
}

impl<'t> Reader<'t, '_, '_> {
    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.at).copied()
    }

    /// Skips what JSON calls whitespace.
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\t' | b'\r') = self.peek() {
            self.at += 1;
        }
    }

    /// Reads `byte`, or gives up.
    fn expect(&mut self, byte: u8) -> Result<(), Bail> {
        if self.peek() != Some(byte) {
            return Err(Bail);
        }
        self.at += 1;
        Ok(())
    }

    /// One value, with `room` levels it may still open (see
    /// [`value_at`](super::value_at)) at nesting `depth`.
    fn value(&mut self, room: usize, depth: usize) -> Result<(), Bail> {
        match self.peek() {
            Some(b'"') => {
                let (range, survey) = self.string()?;
                let s = self.str_at(range)?;
                Ok(surveyed_string(self.out, s, survey, self.opts)?)
            }
            Some(b'{') => self.object(room, depth),
            Some(b'[') => self.array(room, depth),
            Some(b't') => self.literal("true"),
            Some(b'f') => self.literal("false"),
            Some(b'n') => self.literal("null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => Err(Bail),
        }
    }

    fn literal(&mut self, word: &'static str) -> Result<(), Bail> {
        if !self.bytes[self.at..].starts_with(word.as_bytes()) {
            return Err(Bail);
        }
        self.at += word.len();
        self.out.push_str(word);
        Ok(())
    }

    /// A string with nothing to unescape: where it lies in the text, and
    /// its [`Survey`].
    fn string(&mut self) -> Result<(Range<usize>, Survey), Bail> {
        self.expect(b'"')?;
        let start = self.at;
        let mut survey = Survey::default();
        let mut end = start;
        for &c in &self.bytes[start..] {
            if SURVEY[usize::from(c)] & NEEDS_ESCAPE != 0 {
                break;
            }
            survey.add(c);
            end += 1;
        }
        if self.bytes.get(end) != Some(&b'"') {
            return Err(Bail);
        }
        self.at = end + 1;
        Ok((start..end, survey))
    }

    /// The text at `range` (always on character boundaries: between ASCII
    /// quotes of text checked as UTF-8).
    fn str_at(&self, range: Range<usize>) -> Result<&'t str, Bail> {
        self.text.get(range).ok_or(Bail)
    }

    fn number(&mut self) -> Result<(), Bail> {
        let rest = &self.bytes[self.at..];
        let len = rest
            .iter()
            .position(|c| !matches!(c, b'0'..=b'9' | b'-' | b'+' | b'.' | b'e' | b'E'))
            .unwrap_or(rest.len());
        let token = &rest[..len];
        self.at += len;
        let digits = token.strip_prefix(b"-").unwrap_or(token);
        let plain = !digits.is_empty()
            && digits.len() <= 18
            && digits.iter().all(u8::is_ascii_digit)
            && (digits[0] != b'0' || digits.len() == 1)
            && token != b"-0";
        if plain || is_short_decimal(digits) {
            // An integer `serde_json` reads as a `u64` or `i64`, whose
            // digits are these; or a short decimal, which it reads exactly
            // and whose shortest form is itself.
            self.out
                .push_str(std::str::from_utf8(token).map_err(|_| Bail)?);
            return Ok(());
        }
        // Any other number (a fraction, an exponent, `-0`, many digits):
        // read by `serde_json` alone, as it reads it inside the text.
        let n: serde_json::Number = serde_json::from_slice(token).map_err(|_| Bail)?;
        if let Some(u) = n.as_u64() {
            int(self.out, u)?;
        } else if let Some(i) = n.as_i64() {
            int(self.out, i)?;
        } else {
            float(self.out, n.as_f64().unwrap_or(f64::NAN))?;
        }
        Ok(())
    }

    fn array(&mut self, room: usize, depth: usize) -> Result<(), Bail> {
        if room == 0 || depth >= MAX_DEPTH {
            return Err(Bail);
        }
        self.expect(b'[')?;
        self.out.push('[');
        self.space();
        if self.peek() == Some(b']') {
            self.at += 1;
            self.out.push(']');
            return Ok(());
        }
        loop {
            self.value(room - 1, depth + 1)?;
            self.space();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.out.push(',');
                    self.space();
                }
                Some(b']') => {
                    self.at += 1;
                    self.out.push(']');
                    return Ok(());
                }
                _ => return Err(Bail),
            }
        }
    }

    fn object(&mut self, room: usize, depth: usize) -> Result<(), Bail> {
        if room == 0 || depth >= MAX_DEPTH {
            return Err(Bail);
        }
        self.expect(b'{')?;
        self.out.push('{');
        let open = self.out.len();
        let outer_cut = self.opts.truncated.get();
        let base = self.members.len();
        let mut in_order = true;
        let (mut first, mut cut_keys) = (true, CutKeys::new());
        self.space();
        if self.peek() == Some(b'}') {
            self.at += 1;
            self.out.push('}');
            return Ok(());
        }
        loop {
            let (range, _) = self.string()?;
            let key = self.str_at(range.clone())?;
            self.space();
            self.expect(b':')?;
            self.space();
            if let Some(last) = self.members[base..].last() {
                if self.text.get(last.key.clone()).is_none_or(|k| k >= key) {
                    in_order = false;
                }
            }
            clean_data_key(self.out, &mut first, key, self.opts, &mut cut_keys)?;
            let start = self.out.len();
            let before = self.opts.truncated.replace(false);
            self.value(room - 1, depth + 1)?;
            let cut = if self.opts.policy.is_secret_key(key) {
                // Read (so that broken text is given up) but not kept.
                self.out.truncate(start);
                plain_string(self.out, self.opts.policy.mask())?;
                false
            } else {
                self.opts.truncated.get()
            };
            self.opts.truncated.set(before || cut);
            self.members.push(Member {
                key: range,
                value: start..self.out.len(),
                cut,
            });
            self.space();
            match self.peek() {
                Some(b',') => {
                    self.at += 1;
                    self.space();
                }
                Some(b'}') => {
                    self.at += 1;
                    break;
                }
                _ => return Err(Bail),
            }
        }
        let text = In(self.text);
        super::context::mask_private(self.out, open, &mut self.members[base..], &text, self.opts)?;
        if !in_order {
            let members = &mut self.members[base..];
            reorder(
                self.out,
                open,
                members,
                &In(self.text),
                self.opts,
                outer_cut,
            )?;
        }
        self.members.truncate(base);
        self.out.push('}');
        Ok(())
    }
}

#[cfg(test)]
mod tests {

    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::json::transcode::{json_text, through_serde};
    use crate::redact::Policy;

    /// Runs `f` with the default policy and these caps: (output, truncated)
    /// when it says yes.
    fn run(
        cap: usize,
        depth: usize,
        f: impl FnOnce(&mut String, &Opts<'_>) -> bool,
    ) -> Option<(String, bool)> {
        let (out, truncated) = crate::json::with_own_opts(&Policy::default(), cap, depth, |opts| {
            let mut out = String::from("x");
            f(&mut out, opts).then_some(out)
        });
        out.map(|out| (out, truncated))
    }

    /// What the reader takes is JSON to `serde_json`, and written as the
    /// `serde_json` path writes it; `json_text` (the reader, else
    /// `serde_json`) agrees with the `serde_json` path on every text.
    fn check(text: &[u8], cap: usize, depth: usize) -> bool {
        let quick = run(cap, depth, |out, opts| write(out, text, opts).is_ok());
        let serde = run(cap, depth, |out, opts| through_serde(out, text, opts));
        let both = run(cap, depth, |out, opts| json_text(out, text, opts));
        let shown = String::from_utf8_lossy(text);
        assert_eq!(both, serde, "{shown}");
        if let Some(quick) = &quick {
            assert!(serde_json::from_slice::<Value>(text).is_ok(), "{shown}");
            assert_eq!(Some(quick), serde.as_ref(), "{shown}");
        }
        quick.is_some()
    }

    #[test]
    fn takes_the_common_bodies() {
        for text in [
            r#"{"name":"widget","price":12.5,"tags":["a","b"]}"#,
            r#"{"id":1,"name":"widget","price":12.5,"tags":["a","b"]}"#,
            r#"{"username":"alice","password":"hunter2","remember":true,"username":"bob"}"#,
            r#"{"user":{"name":"bob","id":7},"access_token":"abc","expires":3600}"#,
            r#" [ 1 , -2 , 0 , 3.25e-3 , -0 , null , false , "é" , {} , [] ] "#,
            "[12.5,-1.25,9999999.9999999,1000000.1,1.0,10.50,0.5,12345678.5]",
            r#"{"big":123456789012345678901234,"max":18446744073709551615,"min":-9223372036854775808}"#,
            r#"{"k":"Bearer abcdefghijkl1","url":"https://u:p@h.io/x","c":"4111 1111 1111 1111"}"#,
            r#"{"kkkkkkkkkkkkkkkkkx":1,"kkkkkkkkkkkkkkkky":{"a":"a long string value, longer than the cap"}}"#,
        ] {
            assert!(check(text.as_bytes(), 12, 5), "{text}");
        }
    }

    #[test]
    fn gives_up_on_the_rest_and_serde_json_decides() {
        let mut texts: Vec<Vec<u8>> = [
            // Escapes.
            r#"{"a":"\n"}"#,
            r#"{"\u0062":1,"a":2}"#,
            r#"{"a":"\ud800"}"#,
            r#"{"a":"\ud83d\ude00"}"#,
            // Numbers that are not JSON or do not fit.
            "1e400",
            "[-1e400]",
            "01",
            "-",
            "1.",
            ".5",
            "1e",
            "+1",
            "--1",
            "1.5.5",
            "18446744073709551616",
            "-9223372036854775809",
            // Broken text.
            "",
            " ",
            "{",
            r#"{"a":1,}"#,
            r#"{"a" 1}"#,
            r#"[1,]"#,
            r#"[1 2]"#,
            r#"{"a":1} x"#,
            "tru",
            "nulll",
            "\u{feff}{}",
            r#"{"a":"x"#,
            "{\"a\":\"tab\there\"}",
        ]
        .iter()
        .map(|t| t.as_bytes().to_vec())
        .collect();
        // Invalid UTF-8 in a value and in a key.
        texts.push(b"{\"a\":\"\xff\"}".to_vec());
        texts.push(b"{\"\xc3\":1}".to_vec());
        texts.push(b"\"\xed\xa0\x80\"".to_vec());
        for text in &texts {
            check(text, 12, 5);
        }
        // Deep nesting: past the record's limit, past the reader's, past
        // `serde_json`'s.
        for n in [3, 6, 63, 64, 65, 127, 128, 129, 300] {
            for (open, close) in [("[", "]"), ("{\"a\":", "}")] {
                let deep = open.repeat(n) + "1" + &close.repeat(n);
                check(deep.as_bytes(), 12, 5);
                check(deep.as_bytes(), 12, 1000);
            }
        }
    }

    proptest! {
        #[test]
        fn short_decimals_are_written_as_serde_json_reads_them(
            sign in prop::bool::ANY,
            whole in "[0-9]{0,9}",
            fraction in "[0-9]{0,9}",
        ) {
            let text = format!("[{}{whole}.{fraction}]", if sign { "-" } else { "" });
            check(text.as_bytes(), 12, 5);
        }

        #[test]
        fn accepts_and_writes_as_serde_json_does(
            text in crate::json::transcode::tests::text(),
            cap in 4usize..40,
            depth in 1usize..8,
            cut in any::<prop::sample::Index>(),
            flip in any::<prop::sample::Index>(),
            byte in any::<u8>(),
            mutate in 0u8..3,
        ) {
            let mut bytes = text.into_bytes();
            if !bytes.is_empty() {
                match mutate {
                    1 => bytes.truncate(cut.index(bytes.len())),
                    2 => {
                        let at = flip.index(bytes.len());
                        bytes[at] = byte;
                    }
                    _ => {}
                }
            }
            check(&bytes, cap, depth);
        }
    }
}
