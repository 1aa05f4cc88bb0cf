//! The pure writers: escaping, the string cap, numbers, keys, `serde_json`
//! values and `Serialize` types. Each writes into any `fmt::Write` with the
//! [`Opts`] it is given and keeps no state of its own (the per-thread part
//! of the record path is in [`super::scope`](mod@super::scope)).

use std::fmt::{self, Write};

use serde_json::Value;

use super::Opts;
use crate::nesting::{self, DEPTH_MARKER};
use crate::redact;
use crate::unwind;

/// Writes `s` as a JSON string, quotes included, its secret values masked
/// (see [`Policy`](crate::redact::Policy)), cut at `cap` bytes.
pub(crate) fn string<W: Write + ?Sized>(out: &mut W, s: &str, opts: &Opts<'_>) -> fmt::Result {
    surveyed_string(out, s, Survey::of(s.as_bytes()), opts)
}

/// What one pass over a text found: the classes of secret value the scan
/// may find in it and whether it needs an escape.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Survey {
    /// The [`SURVEY`] entries of its bytes, OR-ed.
    pub(super) seen: u8,
    /// How many ASCII digits it has.
    pub(super) digits: usize,
}

impl Survey {
    pub(crate) fn of(bytes: &[u8]) -> Survey {
        let mut survey = Survey::default();
        for &c in bytes {
            survey.add(c);
        }
        survey
    }

    #[inline]
    pub(super) fn add(&mut self, c: u8) {
        self.seen |= SURVEY[usize::from(c)];
        self.digits += usize::from(c.wrapping_sub(b'0') < 10);
    }
}

/// [`string`] for a text whose [`Survey`] the caller made in a pass of
/// its own.
pub(super) fn surveyed_string<W: Write + ?Sized>(
    out: &mut W,
    s: &str,
    survey: Survey,
    opts: &Opts<'_>,
) -> fmt::Result {
    let possible = redact::possible_from(survey.seen, survey.digits);
    if let Some(first) = opts.policy.first_secret_among(s, possible) {
        return capped_string(out, &opts.policy.redact_from(s, first), opts);
    }
    if survey.seen & NEEDS_ESCAPE == 0 && s.len() <= opts.string_cap {
        out.write_char('"')?;
        out.write_str(s)?;
        return out.write_char('"');
    }
    capped_string(out, s, opts)
}

/// In [`SURVEY`]: a byte JSON escapes (the value scan's classes use the
/// low six bits).
pub(super) const NEEDS_ESCAPE: u8 = 0x80;

/// For each byte: the classes of secret value it may start
/// ([`redact::TRIGGERS`]), and [`NEEDS_ESCAPE`] for `"`, `\\` and the
/// control characters.
pub(super) static SURVEY: [u8; 256] = {
    let mut table = redact::TRIGGERS;
    let mut b = 0;
    while b < 256 {
        if b < 0x20 || b == b'"' as usize || b == b'\\' as usize {
            table[b] |= NEEDS_ESCAPE;
        }
        b += 1;
    }
    table
};

/// Writes `s` as a JSON string, quotes included, cut at `cap` bytes,
/// without the value scan: for text already redacted.
pub(crate) fn capped_string<W: Write + ?Sized>(
    out: &mut W,
    s: &str,
    opts: &Opts<'_>,
) -> fmt::Result {
    out.write_char('"')?;
    let mut w = StrWriter::new(out, opts.string_cap);
    w.write_str(s)?;
    w.finish(opts)?;
    out.write_char('"')
}

/// A destination for record text: the layer's line (`String`), or the
/// `fmt::Formatter` of whoever prints a record body.
pub(crate) trait Out: Write {
    /// Writes formatted text as a JSON string: escaped, cut at the cap,
    /// its secret values masked.
    fn formatted(&mut self, args: fmt::Arguments<'_>, opts: &Opts<'_>) -> fmt::Result;

    /// The line itself when the destination is one (members of JSON text
    /// are then put in order where they were written, see
    /// [`json_text`](super::json_text)).
    fn as_line(&mut self) -> Option<&mut String> {
        None
    }
}

/// Writes the JSON text `bytes` as [`value`] writes the `Value` it parses
/// into; `false`, nothing written, if it is not JSON.
pub(crate) fn json_text<W: Out + ?Sized>(
    out: &mut W,
    bytes: &[u8],
    opts: &Opts<'_>,
) -> Result<bool, fmt::Error> {
    match out.as_line() {
        Some(line) => Ok(super::transcode::json_text(line, bytes, opts)),
        None => super::transcode::json_text_into(out, bytes, opts),
    }
}

/// Appends the `Display` output of `v` (the caller's code) to `text`; if
/// it panics, `text` is the marker `[panicked: <message>]` instead.
pub(crate) fn display_into(text: &mut String, v: &dyn fmt::Display) {
    let start = text.len();
    // A `Display` impl that fails leaves its text so far.
    if let Err(panicked) = unwind::catch(|| write!(text, "{v}")) {
        text.truncate(start);
        text.push_str(&panicked);
    }
}

/// Formats `args` into `scratch`, then writes it as a checked string value;
/// a panic while formatting writes its marker instead.
pub(super) fn formatted_into(
    out: &mut String,
    scratch: &mut String,
    args: fmt::Arguments<'_>,
    opts: &Opts<'_>,
) -> fmt::Result {
    // A `Display` impl that fails leaves its text so far.
    match unwind::catch(|| fmt::write(scratch, args)) {
        Ok(_) => value_string(out, scratch, opts),
        Err(panicked) => value_string(out, &panicked, opts),
    }
}

/// Into a formatter, which cannot be read back: the text is formatted on
/// the stack first (on the heap when it is long), so that it can be
/// scanned for secret values as a whole.
impl Out for fmt::Formatter<'_> {
    fn formatted(&mut self, args: fmt::Arguments<'_>, opts: &Opts<'_>) -> fmt::Result {
        formatted_via_stack(self, args, opts)
    }
}

/// Writes the `Display` output of `v` as a JSON string (see
/// [`Out::formatted`]).
pub(crate) fn display<W: Out + ?Sized>(
    out: &mut W,
    v: &dyn fmt::Display,
    opts: &Opts<'_>,
) -> fmt::Result {
    out.formatted(format_args!("{v}"), opts)
}

/// [`display`] for `Debug` output.
pub(crate) fn debug<W: Out + ?Sized>(
    out: &mut W,
    v: &dyn fmt::Debug,
    opts: &Opts<'_>,
) -> fmt::Result {
    out.formatted(format_args!("{v:?}"), opts)
}

fn formatted_via_stack<W: Write + ?Sized>(
    out: &mut W,
    args: fmt::Arguments<'_>,
    opts: &Opts<'_>,
) -> fmt::Result {
    if let Some(s) = args.as_str() {
        return value_string(out, s, opts);
    }
    // Formatted once and whole (long text moves to the heap), so that a
    // secret is found wherever it sits; a `Display` impl that fails leaves
    // its text so far.
    let mut small = Small::default();
    match unwind::catch(|| fmt::write(&mut small, args)) {
        Ok(_) => value_string(out, small.as_str(), opts),
        Err(panicked) => value_string(out, &panicked, opts),
    }
}

/// Room for most messages and ids, formatted on the stack; longer text
/// moves to the heap.
struct Small {
    buf: [u8; 256],
    len: usize,
    long: Option<String>,
}

impl Default for Small {
    fn default() -> Self {
        Small {
            buf: [0; 256],
            len: 0,
            long: None,
        }
    }
}

impl Small {
    fn as_str(&self) -> &str {
        match &self.long {
            Some(long) => long,
            // Only whole `&str`s are copied in.
            None => std::str::from_utf8(&self.buf[..self.len]).unwrap_or(""),
        }
    }
}

impl Write for Small {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if let Some(long) = &mut self.long {
            long.push_str(s);
            return Ok(());
        }
        let end = self.len + s.len();
        if end > self.buf.len() {
            let mut long = String::with_capacity(end.max(2 * self.buf.len()));
            long.push_str(self.as_str());
            long.push_str(s);
            self.long = Some(long);
            return Ok(());
        }
        self.buf[self.len..end].copy_from_slice(s.as_bytes());
        self.len = end;
        Ok(())
    }
}

/// Writes `s` as a JSON string without the value scan (for names the
/// crate itself controls or already checked).
pub(crate) fn plain_string<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    out.write_char('"')?;
    escape(out, s)?;
    out.write_char('"')
}

/// Writes a string value, its secret values masked ([`string`]).
pub(crate) fn value_string<W: Write + ?Sized>(
    out: &mut W,
    s: &str,
    opts: &Opts<'_>,
) -> fmt::Result {
    string(out, s, opts)
}

/// Writes `"key":` (after a comma when `first` is false).
pub(crate) fn key<W: Write + ?Sized>(out: &mut W, first: &mut bool, key: &str) -> fmt::Result {
    if !std::mem::take(first) {
        out.write_char(',')?;
    }
    plain_string(out, key)?;
    out.write_char(':')
}

/// Writes `"key":` for a key that is the caller's data (an object key in a
/// value, a changed field's path), after a comma when `first` is false. A
/// key longer than the string cap is cut like a string value
/// (`…[cut N bytes]`, the record marked `truncated`); `cut_keys` counts
/// the keys already cut in the same object by their cut text, and a cut
/// key that would repeat one of them is numbered (`…[cut N bytes #2]`),
/// so that no key appears twice. (A key that was not cut cannot look like
/// a cut one: it is shorter. A numbered key cannot look like another cut
/// text: those end in `bytes`.) One lookup per key, so an object of many
/// long keys with one prefix costs no more than any other.
///
/// A key that holds a secret value (a token used as a map's key, a URL
/// with its password) is masked as a string value is
/// (`"sk_live_[REDACTED]"`), before any cut; a masked key that would
/// repeat one already written in the object is numbered the same way
/// (`"sk_live_[REDACTED] #2"`).
pub(crate) fn data_key<W: Write + ?Sized>(
    out: &mut W,
    first: &mut bool,
    key: &str,
    opts: &Opts<'_>,
    cut_keys: &mut CutKeys,
) -> fmt::Result {
    if let Some(secret) = opts.policy.first_secret(key) {
        let masked = opts.policy.redact_from(key, secret);
        if masked.len() <= opts.string_cap {
            return match seen(cut_keys, &masked) {
                1 => self::key(out, first, &masked),
                n => self::key(out, first, &format!("{masked} #{n}")),
            };
        }
        return cut_data_key(out, first, &masked, opts, cut_keys);
    }
    if key.len() <= opts.string_cap {
        return self::key(out, first, key);
    }
    cut_data_key(out, first, key, opts, cut_keys)
}

/// [`data_key`] for a key longer than the string cap: cut, and numbered
/// when its cut text repeats.
fn cut_data_key<W: Write + ?Sized>(
    out: &mut W,
    first: &mut bool,
    key: &str,
    opts: &Opts<'_>,
    cut_keys: &mut CutKeys,
) -> fmt::Result {
    opts.truncated.set(true);
    let mut end = opts.string_cap;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    let stem = format!("{}…[cut {} bytes", &key[..end], key.len() - end);
    match seen(cut_keys, &stem) {
        1 => self::key(out, first, &format!("{stem}]")),
        n => self::key(out, first, &format!("{stem} #{n}]")),
    }
}

/// How many times `text` has now been written as a key of the object
/// (this time included).
fn seen(cut_keys: &mut CutKeys, text: &str) -> u32 {
    match cut_keys.get_mut(text) {
        Some(n) => {
            *n += 1;
            *n
        }
        None => {
            cut_keys.insert(text.to_owned(), 1);
            1
        }
    }
}

/// [`data_key`] for a key known to hold nothing JSON escapes.
pub(super) fn clean_data_key<W: Write + ?Sized>(
    out: &mut W,
    first: &mut bool,
    key: &str,
    opts: &Opts<'_>,
    cut_keys: &mut CutKeys,
) -> fmt::Result {
    if key.len() > opts.string_cap || opts.policy.first_secret(key).is_some() {
        return data_key(out, first, key, opts, cut_keys);
    }
    out.write_str(if std::mem::take(first) { "\"" } else { ",\"" })?;
    out.write_str(key)?;
    out.write_str("\":")
}

/// The keys cut so far in one object: their cut text and how many.
pub(crate) type CutKeys = std::collections::HashMap<String, u32>;

/// Writes a float, `null` when JSON cannot hold it.
pub(crate) fn float<W: Write + ?Sized>(out: &mut W, v: f64) -> fmt::Result {
    if v.is_finite() {
        let mut buf = zmij::Buffer::new();
        out.write_str(buf.format_finite(v))
    } else {
        out.write_str("null")
    }
}

/// Writes an integer.
pub(crate) fn int<W: Write + ?Sized>(out: &mut W, v: impl itoa::Integer) -> fmt::Result {
    let mut buf = itoa::Buffer::new();
    out.write_str(buf.format(v))
}

/// Writes an integer as a string (ids and context values). Integers are
/// not scanned for card numbers: numeric ids of 13 to 19 digits pass the
/// check too often to be masked on sight.
pub(crate) fn quoted_int<W: Write + ?Sized>(out: &mut W, v: impl itoa::Integer) -> fmt::Result {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(v);
    out.write_char('"')?;
    out.write_str(digits)?;
    out.write_char('"')
}

/// Writes `value`, redacting secret keys and values, cutting long
/// strings, and writing [`DEPTH_MARKER`] for what is nested deeper than
/// [`Opts::value_depth`].
pub(crate) fn value<W: Write + ?Sized>(out: &mut W, v: &Value, opts: &Opts<'_>) -> fmt::Result {
    value_at(out, v, opts, opts.value_depth)
}

/// [`value`] with `room` levels left (the recursion is bounded by it): for
/// a value written further down than a member of the record.
pub(crate) fn value_at<W: Write + ?Sized>(
    out: &mut W,
    v: &Value,
    opts: &Opts<'_>,
    room: usize,
) -> fmt::Result {
    if room == 0 && matches!(v, Value::Array(_) | Value::Object(_)) {
        opts.truncated.set(true);
        return plain_string(out, DEPTH_MARKER);
    }
    match v {
        Value::Null => out.write_str("null"),
        Value::Bool(b) => out.write_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                int(out, u)
            } else if let Some(i) = n.as_i64() {
                int(out, i)
            } else {
                float(out, n.as_f64().unwrap_or(f64::NAN))
            }
        }
        Value::String(s) => value_string(out, s, opts),
        Value::Array(items) => {
            out.write_char('[')?;
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.write_char(',')?;
                }
                value_at(out, item, opts, room - 1)?;
            }
            out.write_char(']')
        }
        Value::Object(map) => {
            out.write_char('{')?;
            let mut first = true;
            let mut cut_keys = CutKeys::new();
            let by_neighbours = opts.policy.secret_members(map.keys().map(String::as_str));
            for (k, item) in map {
                data_key(out, &mut first, k, opts, &mut cut_keys)?;
                if opts.policy.is_secret_key(k) || by_neighbours.has(k) {
                    plain_string(out, opts.policy.mask())?;
                } else {
                    value_at(out, item, opts, room - 1)?;
                }
            }
            out.write_char('}')
        }
    }
}

/// Writes any `Serialize` value through [`value`], followed at most
/// [`Opts::value_depth`] levels deep; a value serde cannot turn into JSON (a
/// map with non-string keys, a failing impl) or whose impl panics becomes a
/// string saying why, so the record is still written (see
/// [`nesting::to_value`]).
pub(crate) fn serialize<W: Write + ?Sized, T: serde::Serialize + ?Sized>(
    out: &mut W,
    v: &T,
    opts: &Opts<'_>,
) -> fmt::Result {
    let v = nesting::to_value(v, opts.value_depth, opts.truncated);
    value(out, &v, opts)
}

/// Escapes `s` into `out`, without quotes: `"`, `\\` and the control
/// characters below U+0020, as JSON requires. Runs of bytes that need no
/// escape are written in one piece.
pub(crate) fn escape<W: Write + ?Sized>(out: &mut W, s: &str) -> fmt::Result {
    let bytes = s.as_bytes();
    // Most text needs no escape at all: one pass says so, and it is
    // written in one piece.
    if !needs_escape(bytes) {
        return out.write_str(s);
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let class = ESCAPE[b as usize];
        if class == 0 {
            continue;
        }
        if start < i {
            out.write_str(&s[start..i])?;
        }
        match class {
            b'u' => write!(out, "\\u{:04x}", b)?,
            c => {
                let pair = [b'\\', c];
                out.write_str(std::str::from_utf8(&pair).unwrap_or("\\u0000"))?;
            }
        }
        start = i + 1;
    }
    if start < bytes.len() {
        out.write_str(&s[start..])?;
    }
    Ok(())
}

/// Whether `bytes` holds a byte JSON escapes (`"`, `\\`, a control
/// character), eight bytes at a time: a byte below `n` in the word `x` is
/// told by the high bit of `(x - n·0x01…01) & !x` (exact for `n` up to
/// 0x80), and `"` and `\\` are the bytes below 1 once XOR-ed away. About
/// two instructions a byte where one comparison per kind of byte took
/// five.
fn needs_escape(bytes: &[u8]) -> bool {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let below = |x: u64, n: u64| x.wrapping_sub(ONES * n) & !x;
    let mut chunks = bytes.chunks_exact(8);
    let mut found = 0u64;
    for chunk in &mut chunks {
        let mut word = [0u8; 8];
        word.copy_from_slice(chunk);
        let x = u64::from_le_bytes(word);
        found |= below(x, 0x20)
            | below(x ^ (ONES * u64::from(b'"')), 1)
            | below(x ^ (ONES * u64::from(b'\\')), 1);
    }
    found & HIGH != 0
        || chunks
            .remainder()
            .iter()
            .any(|&b| ESCAPE[usize::from(b)] != 0)
}

/// For each byte: 0 if it is written as it is, else the letter after the
/// backslash (`u` for `\\u00XX`).
static ESCAPE: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut b = 0;
    while b < 0x20 {
        table[b] = b'u';
        b += 1;
    }
    table[b'\n' as usize] = b'n';
    table[b'\r' as usize] = b'r';
    table[b'\t' as usize] = b't';
    table[b'"' as usize] = b'"';
    table[b'\\' as usize] = b'\\';
    table
};

/// Writes a key the crate itself names (plain ASCII, nothing to escape),
/// given with its quotes and colon: `lit(out, first, "\"model\":")`.
pub(crate) fn lit<W: Write + ?Sized>(
    out: &mut W,
    first: &mut bool,
    quoted_key: &str,
) -> fmt::Result {
    if !std::mem::take(first) {
        out.write_char(',')?;
    }
    out.write_str(quoted_key)
}

/// A `fmt::Write` that escapes what it is given as the inside of a JSON
/// string and stops keeping text after `cap` bytes, counting the rest.
///
/// Used for `fmt::Arguments` and `Debug` output, which arrive in pieces.
pub(crate) struct StrWriter<'w, W: Write + ?Sized> {
    out: &'w mut W,
    room: usize,
    cut: usize,
}

impl<'w, W: Write + ?Sized> StrWriter<'w, W> {
    pub(crate) fn new(out: &'w mut W, cap: usize) -> Self {
        StrWriter {
            out,
            room: cap,
            cut: 0,
        }
    }

    /// Appends the cut marker if anything was cut.
    pub(crate) fn finish(self, opts: &Opts<'_>) -> fmt::Result {
        if self.cut > 0 {
            opts.truncated.set(true);
            write!(self.out, "…[cut {} bytes]", self.cut)?;
        }
        Ok(())
    }
}

impl<W: Write + ?Sized> Write for StrWriter<'_, W> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        if self.cut > 0 {
            self.cut += s.len();
            return Ok(());
        }
        if s.len() <= self.room {
            self.room -= s.len();
            return escape(self.out, s);
        }
        let mut end = self.room;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        escape(self.out, &s[..end])?;
        self.room = 0;
        self.cut = s.len() - end;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;
    use crate::nesting::DEFAULT_MAX_DEPTH;
    use crate::redact::Policy;

    fn opts_with<R>(cap: usize, f: impl FnOnce(&Opts<'_>) -> R) -> (R, bool) {
        crate::json::with_own_opts(&Policy::default(), cap, DEFAULT_MAX_DEPTH, f)
    }

    #[test]
    fn escapes_every_control_character() {
        let all: String = (0u8..0x80).map(char::from).collect();
        let mut out = String::new();
        plain_string(&mut out, &all).unwrap();
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, all);
        assert!(!out.bytes().any(|b| b < 0x20));
    }

    proptest::proptest! {
        #[test]
        fn escaping_agrees_with_serde_json_on_any_text(s in "(?s).{0,40}") {
            let mut out = String::new();
            plain_string(&mut out, &s).unwrap();
            proptest::prop_assert_eq!(out, serde_json::to_string(&s).unwrap());
        }
    }

    proptest::proptest! {
        #[test]
        fn string_values_agree_with_serde_json_when_nothing_is_secret(
            s in "(?s).{0,40}",
            cap in 0usize..50,
        ) {
            // No value classes: only the escape and the cap act.
            let policy = Policy::none();
            let ((fast, slow), _) = crate::json::with_own_opts(&policy, cap, DEFAULT_MAX_DEPTH, |opts| {
                let mut fast = String::new();
                string(&mut fast, &s, opts).unwrap();
                let mut slow = String::new();
                capped_string(&mut slow, &s, opts).unwrap();
                (fast, slow)
            });
            proptest::prop_assert_eq!(&fast, &slow);
            if s.len() <= cap {
                proptest::prop_assert_eq!(fast, serde_json::to_string(&s).unwrap());
            }
        }
    }

    #[test]
    fn escaping_agrees_with_serde_json_at_every_alignment() {
        let specials = [
            "\"", "\\", "\n", "\u{1}", "\u{1f}", "é", "€", "a", " ", "\u{7f}",
        ];
        for len in 0..20 {
            for special in specials {
                for at in 0..=len {
                    let mut s = "x".repeat(len);
                    s.insert_str(at, special);
                    let mut out = String::new();
                    plain_string(&mut out, &s).unwrap();
                    assert_eq!(out, serde_json::to_string(&s).unwrap(), "{s:?}");
                }
            }
        }
    }

    #[test]
    fn cuts_long_strings_at_a_char_boundary_and_says_so() {
        let s = "é".repeat(100); // 200 bytes
        let (out, truncated) = opts_with(11, |o| {
            let mut out = String::new();
            string(&mut out, &s, o).unwrap();
            out
        });
        assert!(truncated);
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, format!("{}…[cut 190 bytes]", "é".repeat(5)));
    }

    #[test]
    fn redacts_secret_keys_at_any_depth() {
        let v = serde_json::json!({"user": {"name": "a", "password": "hunter2"}, "n": 1});
        let (out, _) = opts_with(100, |o| {
            let mut out = String::new();
            value(&mut out, &v, o).unwrap();
            out
        });
        assert_eq!(
            out,
            r#"{"n":1,"user":{"name":"a","password":"[REDACTED]"}}"#
        );
    }

    #[test]
    fn card_numbers_are_masked_whatever_the_formatting_path() {
        let card = "4111 1111 1111 1111";
        let (outs, _) = opts_with(100, |o| {
            let mut a = String::new();
            display(&mut a, &card, o).unwrap();
            let mut b = String::new();
            debug(&mut b, &4111111111111111u64, o).unwrap();
            let mut c = String::new();
            formatted_via_stack(&mut c, format_args!("{}{}", "4111111111", "111111"), o).unwrap();
            let mut d = String::new();
            display(&mut d, &"x".repeat(40), o).unwrap();
            [a, b, c, d]
        });
        assert_eq!(outs[0], r#""[REDACTED]""#);
        assert_eq!(outs[1], r#""[REDACTED]""#);
        assert_eq!(outs[2], r#""[REDACTED]""#);
        assert_eq!(outs[3], format!("\"{}\"", "x".repeat(40)));
        let (tab, _) = opts_with(100, |o| {
            let mut t = String::new();
            display(&mut t, &"\t4111111111111111", o).unwrap();
            t
        });
        assert_eq!(
            tab, r#""\t[REDACTED]""#,
            "escaped text is checked unescaped; what is around the secret stays"
        );
        let (long, _) = opts_with(1000, |o| {
            let mut t = String::new();
            let text = format!(
                "{} Bearer abc123def456 {}",
                "x".repeat(300),
                "y".repeat(300)
            );
            let mut f = String::new();
            formatted_via_stack(&mut f, format_args!("{text}"), o).unwrap();
            display(&mut t, &text, o).unwrap();
            assert_eq!(t, f);
            t
        });
        assert!(
            long.contains("Bearer [REDACTED] yyy"),
            "long text is scanned too"
        );
    }

    #[test]
    fn a_panic_while_formatting_long_text_leaves_only_its_marker() {
        struct Long;
        impl fmt::Display for Long {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&"x".repeat(300))?;
                panic!("late")
            }
        }
        let (out, _) = opts_with(100, |o| {
            let mut out = String::new();
            formatted_via_stack(&mut out, format_args!("{}", Long), o).unwrap();
            out
        });
        let back: String = serde_json::from_str(&out).unwrap();
        assert_eq!(back, "[panicked: late]");
    }

    #[test]
    fn non_finite_floats_are_null() {
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY] {
            let mut out = String::new();
            float(&mut out, v).unwrap();
            assert_eq!(out, "null");
        }
    }

    #[test]
    fn long_keys_are_cut_and_never_repeat() {
        let (a, b) = ("k".repeat(40) + "a", "k".repeat(40) + "b");
        let v = serde_json::json!({a: 1, b: 2, "short": 3});
        let (out, truncated) = opts_with(20, |o| {
            let mut out = String::new();
            value(&mut out, &v, o).unwrap();
            out
        });
        assert!(truncated);
        let k = "k".repeat(20);
        assert_eq!(
            out,
            format!(r#"{{"{k}…[cut 21 bytes]":1,"{k}…[cut 21 bytes #2]":2,"short":3}}"#)
        );
    }

    #[test]
    fn values_deeper_than_the_limit_are_cut_with_the_marker() {
        let v = serde_json::json!({"a": [[1]], "b": 2});
        let policy = Policy::default();
        let (truncated, wrote_context, body) = (Cell::new(false), Cell::new(0), Cell::new(false));
        let opts = Opts {
            policy: &policy,
            string_cap: 100,
            value_depth: 2,
            minimal: false,
            truncated: &truncated,
            wrote_context: &wrote_context,
            body: &body,
        };
        let mut out = String::new();
        value(&mut out, &v, &opts).unwrap();
        assert_eq!(out, r#"{"a":["[depth limit]"],"b":2}"#);
        assert!(truncated.get());
    }
}
