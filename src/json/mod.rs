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
//! Four files:
//!
//! - [`write`](mod@write): the writers themselves, pure functions of their arguments
//!   and the [`Opts`] they are given;
//! - [`scope`](mod@scope): the per-thread part, one value that owns it: the options
//!   in force while the layer formats a record ([`scope()`]), what a
//!   record body printed by someone else gets ([`with_opts`]), the line
//!   lent to a record body, and the reused strings. Whatever a scope
//!   changes is put back when it ends, on return or on unwind;
//! - [`transcode`](mod@transcode): JSON text (a captured body) written as
//!   [`value`] would write it once parsed, straight from its bytes.
//!   The common body is read by [`quick`](mod@quick), a one-pass reader of
//!   our own that gives up on anything unusual, which `serde_json` then
//!   reads.

mod context;
mod quick;
mod scope;
mod transcode;
mod write;

use std::cell::Cell;

use crate::redact::Policy;

pub(crate) use scope::{
    print_body, scope, set_print_policy, take_lent, with_line, with_opts, with_texts, Printed,
};
pub(crate) use transcode::{
    json_text as json_text_of_line, through_serde as json_text_through_serde,
};
pub(crate) use write::{
    capped_string, data_key, debug, display, display_into, escape, float, int, json_text, key, lit,
    plain_string, quoted_int, serialize, string, value, value_at, value_string, CutKeys, Out,
};

/// The longest string value written whole, in bytes, by default.
pub(crate) const DEFAULT_STRING_CAP: usize = 16 * 1024;

/// What the writer functions need to know about the record in progress.
#[derive(Debug)]
pub(crate) struct Opts<'a> {
    pub(crate) policy: &'a Policy,
    /// The longest string written whole; longer ones are cut and marked.
    pub(crate) string_cap: usize,
    /// How many levels a value written as a member of the record may open
    /// (see [`nesting::value_depth`](crate::nesting::value_depth)); deeper parts are written as
    /// [`DEPTH_MARKER`](crate::nesting::DEPTH_MARKER).
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

    /// Runs `f`, which writes one value, and says whether it cut anything;
    /// what the record was marked before is kept (put back when `f`
    /// returns or unwinds).
    pub(crate) fn cuts_of<R>(&self, f: impl FnOnce() -> R) -> (R, bool) {
        let outer = Outer {
            truncated: self.truncated,
            was: self.truncated.replace(false),
        };
        let result = f();
        (result, outer.truncated.get())
    }

    /// Whether the keys of `bit` were already written.
    pub(crate) fn written(&self, bit: u64) -> bool {
        self.wrote_context.get() & bit != 0
    }
}

/// The record's `truncated` mark while [`Opts::cuts_of`] watches one value.
struct Outer<'a> {
    truncated: &'a Cell<bool>,
    was: bool,
}

impl Drop for Outer<'_> {
    fn drop(&mut self) {
        self.truncated.set(self.was);
    }
}

/// What happened while a record was written in a [`scope()`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Flags {
    pub(crate) truncated: bool,
}

/// The limits a [`scope()`] puts in force.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// See [`Opts::string_cap`].
    pub(crate) string_cap: usize,
    /// See [`Opts::value_depth`].
    pub(crate) value_depth: usize,
    /// See [`Opts::minimal`].
    pub(crate) minimal: bool,
}

/// Runs `f` with options of its own (`policy`, string `cap`, value
/// `depth`): what `f` returns, and whether something was cut. For the
/// writers' tests.
#[cfg(test)]
pub(crate) fn with_own_opts<R>(
    policy: &Policy,
    cap: usize,
    depth: usize,
    f: impl FnOnce(&Opts<'_>) -> R,
) -> (R, bool) {
    let (truncated, wrote_context, body) = (Cell::new(false), Cell::new(0), Cell::new(false));
    let opts = Opts {
        policy,
        string_cap: cap,
        value_depth: depth,
        minimal: false,
        truncated: &truncated,
        wrote_context: &wrote_context,
        body: &body,
    };
    let r = f(&opts);
    (r, truncated.get())
}
