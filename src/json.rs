//! The one JSON writer every record goes through.
//!
//! Records are written straight into the line being built (no intermediate
//! value, no re-parsing): the layer's buffer, or the `fmt::Formatter` of
//! whatever prints a record body. Everything that can carry caller data
//! goes through the functions here, so escaping, redaction and the size
//! caps are applied in one place:
//!
//! - strings are escaped (quotes, backslashes, every control character);
//! - a string longer than the cap is cut at a character boundary and marked
//!   `…[cut N bytes]`;
//! - object keys are checked against the redaction [`Policy`], and string
//!   values scanned for its secret values (credentials, tokens, card
//!   numbers), which are masked where they sit;
//! - object keys that are the caller's data are cut like strings, never
//!   into a key the object already has ([`data_key`]);
//! - floats that JSON cannot hold (NaN, ±inf) become `null`;
//! - values nested deeper than the limit are cut there (see
//!   [`crate::nesting`]);
//! - a `Debug`, `Display` or `Serialize` impl that panics is replaced by
//!   `"[panicked: <message>]"` (see [`crate::unwind`]).
//!
//! The options in force are set for the current thread by [`scope`] while
//! the layer formats a record; a record body printed elsewhere (by another
//! layer's `Debug` output, say) gets the defaults, which redact too. That
//! per-thread state, and the line lent to a record body ([`Lend`]), are
//! put back by guards when they are dropped, on return or on unwind.

use std::cell::{Cell, RefCell};
use std::fmt::{self, Write};
use std::sync::{Arc, LazyLock, RwLock};

use serde_json::Value;

use crate::nesting::{self, DEFAULT_MAX_DEPTH, DEPTH_MARKER};
use crate::redact::Policy;
use crate::unwind;

/// The longest string value written whole, in bytes, by default.
pub(crate) const DEFAULT_STRING_CAP: usize = 16 * 1024;

/// What the writer functions need to know about the record in progress.
#[derive(Debug)]
pub(crate) struct Opts<'a> {
    pub(crate) policy: &'a Policy,
    /// The longest string written whole; longer ones are cut and marked.
    pub(crate) string_cap: usize,
    /// How many levels a value written as a member of the record may open
    /// (see [`nesting::value_depth`]); deeper parts are written as
    /// [`DEPTH_MARKER`].
    pub(crate) value_depth: usize,
    /// Write only the identifying scalars of a record body: the last resort
    /// when a record does not fit in a line.
    pub(crate) minimal: bool,
    /// Set when anything was cut while writing.
    pub(crate) truncated: &'a Cell<bool>,
    /// The context fields (by index) a record body wrote itself.
    pub(crate) wrote_context: &'a Cell<u64>,
    /// Set by a record body when it writes itself: how the layer tells a
    /// body from another field that happens to share its name.
    pub(crate) body: &'a Cell<bool>,
}

impl Opts<'_> {
    /// Notes that the record body wrote the keys of `bits` itself (see
    /// [`Opts::wrote_context`]).
    pub(crate) fn mark_written(&self, bits: u64) {
        self.wrote_context.set(self.wrote_context.get() | bits);
    }

    /// Whether the keys of `bit` were already written.
    pub(crate) fn written(&self, bit: u64) -> bool {
        self.wrote_context.get() & bit != 0
    }
}

/// The per-thread state behind [`scope`] and [`with_opts`]. Only `Cell`s:
/// a record body that logs while it is written (a `Serialize` impl, say)
/// opens a scope of its own inside, which saves these and puts them back
/// when it ends (see [`Saved`]).
struct State {
    active: Cell<bool>,
    policy: Cell<Option<Arc<Policy>>>,
    string_cap: Cell<usize>,
    value_depth: Cell<usize>,
    minimal: Cell<bool>,
    truncated: Cell<bool>,
    wrote_context: Cell<u64>,
    body: Cell<bool>,
}

thread_local! {
    static STATE: State = const {
        State {
            active: Cell::new(false),
            policy: Cell::new(None),
            string_cap: Cell::new(DEFAULT_STRING_CAP),
            value_depth: Cell::new(nesting::value_depth(DEFAULT_MAX_DEPTH)),
            minimal: Cell::new(false),
            truncated: Cell::new(false),
            wrote_context: Cell::new(0),
            body: Cell::new(false),
        }
    };
}

static DEFAULT_POLICY: LazyLock<Arc<Policy>> = LazyLock::new(|| Arc::new(Policy::default()));

/// The policy of the most recently built layer: what a record body printed
/// outside the layer (by another crate's `fmt` layer, say) is redacted
/// with. The crate's own console does not need it: it renders records with
/// the layer's policy in scope (see [`scope`]).
static PRINT_POLICY: RwLock<Option<Arc<Policy>>> = RwLock::new(None);

/// Makes `policy` the one record bodies printed outside the layer use.
pub(crate) fn set_print_policy(policy: &Arc<Policy>) {
    if let Ok(mut p) = PRINT_POLICY.write() {
        *p = Some(Arc::clone(policy));
    }
}

/// What happened while a record was written in a [`scope`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) truncated: bool,
}

/// The limits a [`scope`] puts in force.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// See [`Opts::string_cap`].
    pub(crate) string_cap: usize,
    /// See [`Opts::value_depth`].
    pub(crate) value_depth: usize,
    /// See [`Opts::minimal`].
    pub(crate) minimal: bool,
}

/// Runs `f` with these options in force for every record body written on
/// this thread meanwhile, and reports what the bodies did. Nested scopes
/// (a `Serialize` impl that logs, say) restore the outer one, on return and
/// on unwind alike.
pub(crate) fn scope<R>(
    policy: &Arc<Policy>,
    limits: Limits,
    f: impl FnOnce(&Opts<'_>) -> R,
) -> (R, Flags) {
    STATE.with(|s| {
        // The cell keeps the layer's policy from one record to the next, so
        // that the common case costs no reference count.
        let replaced = match s.policy.take() {
            Some(p) if Arc::ptr_eq(&p, policy) => {
                s.policy.set(Some(p));
                None
            }
            other => {
                s.policy.set(Some(Arc::clone(policy)));
                other
            }
        };
        let _saved = Saved {
            state: s,
            active: s.active.replace(true),
            string_cap: s.string_cap.replace(limits.string_cap),
            value_depth: s.value_depth.replace(limits.value_depth),
            minimal: s.minimal.replace(limits.minimal),
            truncated: s.truncated.replace(false),
            wrote_context: s.wrote_context.replace(0),
            body: s.body.replace(false),
            policy: replaced,
        };
        let result = f(&Opts {
            policy,
            string_cap: limits.string_cap,
            value_depth: limits.value_depth,
            minimal: limits.minimal,
            truncated: &s.truncated,
            wrote_context: &s.wrote_context,
            body: &s.body,
        });
        let flags = Flags {
            truncated: s.truncated.get(),
        };
        (result, flags)
    })
}

/// The thread's state before a [`scope`]: put back when dropped, whether
/// the scope returns or a panic unwinds through it.
struct Saved<'s> {
    state: &'s State,
    active: bool,
    string_cap: usize,
    value_depth: usize,
    minimal: bool,
    truncated: bool,
    wrote_context: u64,
    body: bool,
    /// The outer scope's policy, if the scope replaced it.
    policy: Option<Arc<Policy>>,
}

impl Drop for Saved<'_> {
    fn drop(&mut self) {
        let s = self.state;
        s.active.set(self.active);
        s.string_cap.set(self.string_cap);
        s.value_depth.set(self.value_depth);
        s.minimal.set(self.minimal);
        s.truncated.set(self.truncated);
        s.wrote_context.set(self.wrote_context);
        s.body.set(self.body);
        if let Some(policy) = self.policy.take() {
            s.policy.set(Some(policy));
        }
    }
}

/// Puts the scope's policy back in its cell when dropped (see
/// [`with_opts`]).
struct PutBack<'s> {
    state: &'s State,
    policy: Option<Arc<Policy>>,
}

impl Drop for PutBack<'_> {
    fn drop(&mut self) {
        self.state.policy.set(self.policy.take());
    }
}

/// Calls `f` with the options in force on this thread, or, outside a
/// [`scope`], the defaults: the policy of the last layer built (else the
/// default policy) and the default cap.
pub(crate) fn with_opts<R>(f: impl FnOnce(&Opts<'_>) -> R) -> R {
    STATE.with(|s| {
        let scoped = if s.active.get() {
            s.policy.take()
        } else {
            None
        };
        if scoped.is_some() {
            let back = PutBack {
                state: s,
                policy: scoped,
            };
            if let Some(policy) = &back.policy {
                return f(&Opts {
                    policy,
                    string_cap: s.string_cap.get(),
                    value_depth: s.value_depth.get(),
                    minimal: s.minimal.get(),
                    truncated: &s.truncated,
                    wrote_context: &s.wrote_context,
                    body: &s.body,
                });
            }
        }
        let policy = PRINT_POLICY
            .read()
            .ok()
            .and_then(|p| p.clone())
            .unwrap_or_else(|| Arc::clone(&DEFAULT_POLICY));
        let (truncated, wrote_context, body) = (Cell::new(false), Cell::new(0), Cell::new(false));
        f(&Opts {
            policy: &policy,
            string_cap: DEFAULT_STRING_CAP,
            value_depth: nesting::value_depth(DEFAULT_MAX_DEPTH),
            minimal: false,
            truncated: &truncated,
            wrote_context: &wrote_context,
            body: &body,
        })
    })
}

/// Writes `s` as a JSON string, quotes included, its secret values masked
/// (see [`Policy`]), cut at `cap` bytes.
pub(crate) fn string<W: Write + ?Sized>(out: &mut W, s: &str, opts: &Opts<'_>) -> fmt::Result {
    if let Some(first) = opts.policy.first_secret(s) {
        return capped_string(out, &opts.policy.redact_from(s, first), opts);
    }
    capped_string(out, s, opts)
}

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
}

/// Into the line itself: formatted once into a reused scratch string, then
/// checked and escaped in one piece.
impl Out for String {
    fn formatted(&mut self, args: fmt::Arguments<'_>, opts: &Opts<'_>) -> fmt::Result {
        if let Some(s) = args.as_str() {
            return value_string(self, s, opts);
        }
        SCRATCH.with(|cell| match cell.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                let result = formatted_into(self, &mut scratch, args, opts);
                if scratch.capacity() > 64 * 1024 {
                    *scratch = String::new();
                }
                result
            }
            // Formatting inside formatting (a `Display` impl that logs).
            Err(_) => formatted_into(self, &mut String::new(), args, opts),
        })
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
fn formatted_into(
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

thread_local! {
    static SCRATCH: RefCell<String> = const { RefCell::new(String::new()) };
    static TEXTS: RefCell<[String; 3]> = const { RefCell::new([String::new(), String::new(), String::new()]) };
}

/// Runs `f` with three cleared scratch strings, reused on this thread (fresh
/// ones if this thread is already using them).
pub(crate) fn with_texts<R>(f: impl FnOnce(&mut [String; 3]) -> R) -> R {
    TEXTS.with(|cell| match cell.try_borrow_mut() {
        Ok(mut texts) => {
            for t in texts.iter_mut() {
                t.clear();
            }
            let result = f(&mut texts);
            for t in texts.iter_mut() {
                if t.capacity() > 64 * 1024 {
                    *t = String::new();
                }
            }
            result
        }
        Err(_) => f(&mut [String::new(), String::new(), String::new()]),
    })
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

thread_local! {
    /// The line being built, lent to a record body while it writes itself
    /// (see [`lend`]).
    static LENT: Cell<Option<String>> = const { Cell::new(None) };
}

/// The line being built, lent to the record body about to be formatted on
/// this thread: the body appends its members straight into it (see
/// [`take_lent`]) instead of going through a `fmt::Formatter`. Dropping
/// the loan (on return or on unwind) puts back what it replaced: the line
/// lent by an outer record on this thread, if any.
pub(crate) struct Lend {
    outer: Option<String>,
}

impl Lend {
    /// Lends `line`.
    pub(crate) fn new(line: String) -> Lend {
        Lend {
            outer: LENT.with(|l| l.replace(Some(line))),
        }
    }

    /// Takes the line back (as the body left it), ending the loan.
    pub(crate) fn reclaim(self) -> Option<String> {
        LENT.with(Cell::take)
    }
}

impl Drop for Lend {
    fn drop(&mut self) {
        let outer = self.outer.take();
        LENT.with(|l| l.set(outer));
    }
}

/// For a record body: the lent line, if there is one, handed back to the
/// loan when dropped (on return or on unwind).
pub(crate) fn take_lent() -> Option<Borrowed> {
    LENT.with(Cell::take)
        .map(|line| Borrowed { line: Some(line) })
}

/// The lent line in a record body's hands (see [`take_lent`]).
pub(crate) struct Borrowed {
    line: Option<String>,
}

impl std::ops::Deref for Borrowed {
    type Target = String;
    fn deref(&self) -> &String {
        self.line.as_ref().unwrap_or(&EMPTY)
    }
}

impl std::ops::DerefMut for Borrowed {
    fn deref_mut(&mut self) -> &mut String {
        self.line.get_or_insert_with(String::new)
    }
}

impl Drop for Borrowed {
    fn drop(&mut self) {
        if let Some(line) = self.line.take() {
            LENT.with(|l| l.set(Some(line)));
        }
    }
}

static EMPTY: String = String::new();

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
/// (`…[cut N bytes]`, the record marked `truncated`); `cut_keys` holds the
/// keys already cut in the same object, and a cut key that would repeat
/// one of them is numbered (`…[cut N bytes #2]`), so that no key appears
/// twice. (A key that was not cut cannot look like a cut one: it is
/// shorter.)
pub(crate) fn data_key<W: Write + ?Sized>(
    out: &mut W,
    first: &mut bool,
    key: &str,
    opts: &Opts<'_>,
    cut_keys: &mut Vec<String>,
) -> fmt::Result {
    if key.len() <= opts.string_cap {
        return self::key(out, first, key);
    }
    opts.truncated.set(true);
    let mut end = opts.string_cap;
    while !key.is_char_boundary(end) {
        end -= 1;
    }
    let stem = format!("{}…[cut {} bytes", &key[..end], key.len() - end);
    let mut cut = format!("{stem}]");
    let mut n = 1;
    while cut_keys.contains(&cut) {
        n += 1;
        cut = format!("{stem} #{n}]");
    }
    self::key(out, first, &cut)?;
    cut_keys.push(cut);
    Ok(())
}

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
            let mut cut_keys = Vec::new();
            for (k, item) in map {
                data_key(out, &mut first, k, opts, &mut cut_keys)?;
                if opts.policy.is_secret_key(k) {
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
    // Most text needs no escape at all: a branch-free pass over it (which
    // the compiler vectorizes) says so, and it is written in one piece.
    let needs = bytes.iter().fold(false, |acc, &b| {
        acc | (b < 0x20) | (b == b'"') | (b == b'\\')
    });
    if !needs {
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
    use super::*;

    fn opts_with<R>(cap: usize, f: impl FnOnce(&Opts<'_>) -> R) -> (R, bool) {
        let policy = Policy::default();
        let truncated = Cell::new(false);
        let (wrote_context, body) = (Cell::new(0), Cell::new(false));
        let opts = Opts {
            policy: &policy,
            string_cap: cap,
            value_depth: DEFAULT_MAX_DEPTH,
            minimal: false,
            truncated: &truncated,
            wrote_context: &wrote_context,
            body: &body,
        };
        let r = f(&opts);
        (r, truncated.get())
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
    fn scopes_nest_and_restore() {
        let outer = Arc::new(Policy::default());
        let limits = |string_cap, minimal| Limits {
            string_cap,
            value_depth: DEFAULT_MAX_DEPTH,
            minimal,
        };
        let ((), flags) = scope(&outer, limits(5, false), |_| {
            with_opts(|o| assert_eq!(o.string_cap, 5));
            let ((), inner) = scope(&outer, limits(7, true), |_| {
                with_opts(|o| {
                    assert_eq!(o.string_cap, 7);
                    o.truncated.set(true);
                });
            });
            assert!(inner.truncated);
            with_opts(|o| assert_eq!(o.string_cap, 5));
        });
        assert!(!flags.truncated, "the inner record's cut is its own");
        with_opts(|o| assert_eq!(o.string_cap, DEFAULT_STRING_CAP));
    }

    #[test]
    fn a_panic_inside_a_scope_or_a_loan_restores_the_thread_state() {
        let policy = Arc::new(Policy::default());
        let limits = Limits {
            string_cap: 5,
            value_depth: 3,
            minimal: true,
        };
        let outer = Lend::new("outer".to_owned());
        let r = std::panic::catch_unwind(|| {
            scope(&policy, limits, |o| {
                o.wrote_context.set(u64::MAX);
                o.body.set(true);
                let _inner = Lend::new("inner".to_owned());
                let mut line = take_lent().unwrap();
                line.push_str(" written");
                panic!("in a record body");
            })
        });
        assert!(r.is_err());
        assert_eq!(outer.reclaim().as_deref(), Some("outer"));
        STATE.with(|s| {
            assert!(!s.active.get());
            assert!(!s.minimal.get() && !s.body.get());
            assert_eq!(s.wrote_context.get(), 0);
            assert_eq!(s.string_cap.get(), DEFAULT_STRING_CAP);
            assert_eq!(s.value_depth.get(), nesting::value_depth(DEFAULT_MAX_DEPTH));
        });
        assert!(take_lent().is_none());
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
