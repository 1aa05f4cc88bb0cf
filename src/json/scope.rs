//! The per-thread part of the record path, in one place: the options in
//! force while the layer formats a record, the line being built (and lent
//! to a record body while it writes itself), and the strings reused from
//! one record to the next.
//!
//! A [`Scope`] owns the options while it lives: it puts its own in force
//! when made and the outer ones back when dropped, on return or on unwind,
//! so that a record body that logs while it is written (a `Serialize` impl,
//! say) opens a scope of its own inside without disturbing the outer one.
//! The loan of the line ([`Lend`], [`Borrowed`]) restores itself the same
//! way. Nothing here is saved and restored by hand.

use std::cell::{Cell, RefCell};
use std::fmt;
use std::sync::{Arc, LazyLock};

use super::{write, Flags, Limits, Opts, Out, DEFAULT_STRING_CAP};
use crate::nesting::{self, DEFAULT_MAX_DEPTH};
use crate::redact::Policy;
use crate::unwind;

/// Everything the record path keeps per thread. Only cells: whatever runs
/// inside (the caller's `Debug`, `Display` and `Serialize` impls) may log,
/// and the event it makes passes through here again.
struct Thread {
    /// Whether a [`Scope`] is open.
    active: Cell<bool>,
    /// The open scope's policy; outside a scope, the policy of the audit
    /// layer that last saw an event dispatched on this thread (see
    /// [`set_print_policy`]). Kept from one record to the next, so that
    /// the common case costs no reference count.
    policy: Cell<Option<Arc<Policy>>>,
    string_cap: Cell<usize>,
    value_depth: Cell<usize>,
    minimal: Cell<bool>,
    truncated: Cell<bool>,
    wrote_context: Cell<u64>,
    body: Cell<bool>,
    /// The line lent to a record body (see [`Lend`]).
    lent: Cell<Option<String>>,
    /// The line the layer builds (see [`with_line`]).
    line: RefCell<String>,
    /// Text formatted before it is checked and escaped (see `Out for
    /// String`).
    scratch: RefCell<String>,
    /// See [`with_texts`].
    texts: RefCell<[String; 3]>,
}

thread_local! {
    static THREAD: Thread = const {
        Thread {
            active: Cell::new(false),
            policy: Cell::new(None),
            string_cap: Cell::new(DEFAULT_STRING_CAP),
            value_depth: Cell::new(nesting::value_depth(DEFAULT_MAX_DEPTH)),
            minimal: Cell::new(false),
            truncated: Cell::new(false),
            wrote_context: Cell::new(0),
            body: Cell::new(false),
            lent: Cell::new(None),
            line: RefCell::new(String::new()),
            scratch: RefCell::new(String::new()),
            texts: RefCell::new([String::new(), String::new(), String::new()]),
        }
    };
}

static DEFAULT_POLICY: LazyLock<Arc<Policy>> = LazyLock::new(|| Arc::new(Policy::default()));

/// Strings that grew past this are given back to the allocator after use.
const KEEP: usize = 64 * 1024;

/// The options of one record in progress on this thread. Made by
/// [`scope()`]; dropping it puts back the options it replaced.
struct Scope<'t> {
    thread: &'t Thread,
    limits: Limits,
    /// What was in force before: put back on drop.
    outer: Saved,
}

/// The thread's options outside a [`Scope`].
struct Saved {
    active: bool,
    limits: Limits,
    truncated: bool,
    wrote_context: u64,
    body: bool,
    /// The policy the scope replaced, if it was another one.
    policy: Option<Arc<Policy>>,
}

impl<'t> Scope<'t> {
    fn open(thread: &'t Thread, policy: &Arc<Policy>, limits: Limits) -> Scope<'t> {
        let replaced = match thread.policy.take() {
            Some(p) if Arc::ptr_eq(&p, policy) => {
                thread.policy.set(Some(p));
                None
            }
            other => {
                thread.policy.set(Some(Arc::clone(policy)));
                other
            }
        };
        let outer = Saved {
            active: thread.active.replace(true),
            limits: Limits {
                string_cap: thread.string_cap.replace(limits.string_cap),
                value_depth: thread.value_depth.replace(limits.value_depth),
                minimal: thread.minimal.replace(limits.minimal),
            },
            truncated: thread.truncated.replace(false),
            wrote_context: thread.wrote_context.replace(0),
            body: thread.body.replace(false),
            policy: replaced,
        };
        Scope {
            thread,
            limits,
            outer,
        }
    }

    fn opts<'a>(&'a self, policy: &'a Policy) -> Opts<'a> {
        self.thread.opts(policy, self.limits)
    }

    fn flags(&self) -> Flags {
        Flags {
            truncated: self.thread.truncated.get(),
        }
    }
}

impl Drop for Scope<'_> {
    fn drop(&mut self) {
        let (t, outer) = (self.thread, &mut self.outer);
        t.active.set(outer.active);
        t.string_cap.set(outer.limits.string_cap);
        t.value_depth.set(outer.limits.value_depth);
        t.minimal.set(outer.limits.minimal);
        t.truncated.set(outer.truncated);
        t.wrote_context.set(outer.wrote_context);
        t.body.set(outer.body);
        if let Some(policy) = outer.policy.take() {
            t.policy.set(Some(policy));
        }
    }
}

impl Thread {
    fn opts<'a>(&'a self, policy: &'a Policy, limits: Limits) -> Opts<'a> {
        Opts {
            policy,
            string_cap: limits.string_cap,
            value_depth: limits.value_depth,
            minimal: limits.minimal,
            truncated: &self.truncated,
            wrote_context: &self.wrote_context,
            body: &self.body,
        }
    }

    fn limits(&self) -> Limits {
        Limits {
            string_cap: self.string_cap.get(),
            value_depth: self.value_depth.get(),
            minimal: self.minimal.get(),
        }
    }
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
    THREAD.with(|t| {
        let scope = Scope::open(t, policy, limits);
        let result = f(&scope.opts(policy));
        (result, scope.flags())
    })
}

/// Makes `policy` the one a record body printed on this thread outside a
/// [`scope()`] is redacted with (by another layer's `Debug` output, say):
/// the audit layer calls it for each event dispatched to it, before any
/// layer formats the event. Inside a scope, the scope's policy stays.
pub(crate) fn set_print_policy(policy: &Arc<Policy>) {
    THREAD.with(|t| {
        if t.active.get() {
            return;
        }
        let same = t.policy.take().filter(|p| Arc::ptr_eq(p, policy));
        t.policy
            .set(Some(same.unwrap_or_else(|| Arc::clone(policy))));
    });
}

/// Calls `f` with the options in force on this thread, or, outside a
/// [`scope()`], the defaults: the policy of the audit layer dispatching the
/// event (see [`set_print_policy`]; else the default policy) and the
/// default caps.
pub(crate) fn with_opts<R>(f: impl FnOnce(&Opts<'_>) -> R) -> R {
    THREAD.with(|t| {
        // Taken out of its cell while `f` runs (a nested scope may put
        // another in) and put back after, on unwind too.
        let held = Held {
            thread: t,
            policy: t.policy.take(),
        };
        let policy = held.policy.as_ref().unwrap_or(&DEFAULT_POLICY);
        if t.active.get() {
            return f(&t.opts(policy, t.limits()));
        }
        let (truncated, wrote_context, body) = (Cell::new(false), Cell::new(0), Cell::new(false));
        f(&Opts {
            policy,
            string_cap: DEFAULT_STRING_CAP,
            value_depth: nesting::value_depth(DEFAULT_MAX_DEPTH),
            minimal: false,
            truncated: &truncated,
            wrote_context: &wrote_context,
            body: &body,
        })
    })
}

/// The thread's policy while [`with_opts`] uses it: put back when dropped
/// (if there was none, whatever was put in meanwhile stays).
struct Held<'t> {
    thread: &'t Thread,
    policy: Option<Arc<Policy>>,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        let mine = self.policy.take();
        let theirs = self.thread.policy.take();
        self.thread.policy.set(mine.or(theirs));
    }
}

/// Runs `f` with the line the layer builds on this thread, cleared (a fresh
/// one for an event made while this thread builds another).
pub(crate) fn with_line<R>(f: impl FnOnce(&mut String) -> R) -> R {
    THREAD.with(|t| match t.line.try_borrow_mut() {
        Ok(mut line) => {
            line.clear();
            let result = f(&mut line);
            if line.capacity() > KEEP {
                *line = String::with_capacity(1024);
            }
            result
        }
        Err(_) => f(&mut String::new()),
    })
}

/// Into the line itself: formatted once into the thread's scratch string,
/// then checked and escaped in one piece.
impl Out for String {
    fn as_line(&mut self) -> Option<&mut String> {
        Some(self)
    }

    fn formatted(&mut self, args: fmt::Arguments<'_>, opts: &Opts<'_>) -> fmt::Result {
        if let Some(s) = args.as_str() {
            return write::value_string(self, s, opts);
        }
        THREAD.with(|t| match t.scratch.try_borrow_mut() {
            Ok(mut scratch) => {
                scratch.clear();
                let result = write::formatted_into(self, &mut scratch, args, opts);
                if scratch.capacity() > KEEP {
                    *scratch = String::new();
                }
                result
            }
            // Formatting inside formatting (a `Display` impl that logs).
            Err(_) => write::formatted_into(self, &mut String::new(), args, opts),
        })
    }
}

/// Runs `f` with three cleared scratch strings, reused on this thread (fresh
/// ones if this thread is already using them).
pub(crate) fn with_texts<R>(f: impl FnOnce(&mut [String; 3]) -> R) -> R {
    THREAD.with(|t| match t.texts.try_borrow_mut() {
        Ok(mut texts) => {
            for text in texts.iter_mut() {
                text.clear();
            }
            let result = f(&mut texts);
            for text in texts.iter_mut() {
                if text.capacity() > KEEP {
                    *text = String::new();
                }
            }
            result
        }
        Err(_) => f(&mut [String::new(), String::new(), String::new()]),
    })
}

/// What [`print_body`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Printed {
    /// A record body: it appended its members to the line.
    Body,
    /// Something else under the body's name: nothing was written.
    NotBody,
    /// Its `Debug` impl panicked: nothing was written, and the context
    /// fields it claimed are free again.
    Panicked,
}

/// Prints `value`, the field a record body travels in, inside a
/// [`scope()`]: a record body appends `,` and its members to `line` (lent
/// to it, see [`take_lent`]); anything else prints to nowhere and leaves
/// `line` as it was.
pub(crate) fn print_body(line: &mut String, value: &dyn fmt::Debug, opts: &Opts<'_>) -> Printed {
    let start = line.len();
    line.push(',');
    let probe = Probe {
        opts,
        body: opts.body.replace(false),
        wrote_context: opts.wrote_context.get(),
    };
    let lent = Lend::new(std::mem::take(line));
    let panicked = unwind::catch(|| fmt::write(&mut Discard, format_args!("{value:#?}"))).is_err();
    *line = lent.reclaim().unwrap_or_default();
    let printed = if panicked {
        // Whatever it claimed is taken back.
        opts.wrote_context.set(probe.wrote_context);
        Printed::Panicked
    } else if opts.body.get() && line.len() > start + 1 {
        Printed::Body
    } else {
        Printed::NotBody
    };
    if printed != Printed::Body {
        line.truncate(start);
    }
    printed
}

/// Puts the body flag of the enclosing record back when dropped.
struct Probe<'a, 'o> {
    opts: &'a Opts<'o>,
    body: bool,
    wrote_context: u64,
}

impl Drop for Probe<'_, '_> {
    fn drop(&mut self) {
        self.opts.body.set(self.body);
    }
}

/// Where a non-body field printed by [`print_body`] goes.
struct Discard;

impl fmt::Write for Discard {
    fn write_str(&mut self, _: &str) -> fmt::Result {
        Ok(())
    }
}

/// The line being built, lent to the record body about to be formatted on
/// this thread: the body appends its members straight into it (see
/// [`take_lent`]) instead of going through a `fmt::Formatter`. Dropping
/// the loan (on return or on unwind) puts back what it replaced: the line
/// lent by an outer record on this thread, if any.
struct Lend {
    outer: Option<String>,
}

impl Lend {
    /// Lends `line`.
    fn new(line: String) -> Lend {
        Lend {
            outer: THREAD.with(|t| t.lent.replace(Some(line))),
        }
    }

    /// Takes the line back (as the body left it), ending the loan.
    fn reclaim(self) -> Option<String> {
        THREAD.with(|t| t.lent.take())
    }
}

impl Drop for Lend {
    fn drop(&mut self) {
        let outer = self.outer.take();
        THREAD.with(|t| t.lent.set(outer));
    }
}

/// For a record body: the lent line, if there is one, handed back to the
/// loan when dropped (on return or on unwind).
pub(crate) fn take_lent() -> Option<Borrowed> {
    THREAD
        .with(|t| t.lent.take())
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
            THREAD.with(|t| t.lent.set(Some(line)));
        }
    }
}

static EMPTY: String = String::new();

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(string_cap: usize, value_depth: usize, minimal: bool) -> Limits {
        Limits {
            string_cap,
            value_depth,
            minimal,
        }
    }

    #[test]
    fn scopes_nest_and_restore() {
        let outer = Arc::new(Policy::default());
        let ((), flags) = scope(&outer, limits(5, DEFAULT_MAX_DEPTH, false), |_| {
            with_opts(|o| assert_eq!(o.string_cap, 5));
            let ((), inner) = scope(&outer, limits(7, DEFAULT_MAX_DEPTH, true), |_| {
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
        let outer = Lend::new("outer".to_owned());
        let r = std::panic::catch_unwind(|| {
            scope(&policy, limits(5, 3, true), |o| {
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
        THREAD.with(|t| {
            assert!(!t.active.get());
            assert!(!t.minimal.get() && !t.body.get());
            assert_eq!(t.wrote_context.get(), 0);
            assert_eq!(t.string_cap.get(), DEFAULT_STRING_CAP);
            assert_eq!(t.value_depth.get(), nesting::value_depth(DEFAULT_MAX_DEPTH));
        });
        assert!(take_lent().is_none());
    }

    #[test]
    fn outside_a_scope_bodies_use_the_policy_of_the_dispatching_layer() {
        let custom = Arc::new(Policy::default().with_key("colour"));
        std::thread::spawn(move || {
            with_opts(|o| assert!(!o.policy.is_secret_key("colour"), "default first"));
            set_print_policy(&custom);
            with_opts(|o| assert!(o.policy.is_secret_key("colour")));
            // A scope of another layer leaves it as it was.
            let other = Arc::new(Policy::default());
            scope(&other, limits(5, 3, false), |o| {
                set_print_policy(&custom);
                assert!(!o.policy.is_secret_key("colour"));
                with_opts(|o| assert!(!o.policy.is_secret_key("colour")));
            });
            with_opts(|o| assert!(o.policy.is_secret_key("colour")));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn print_body_tells_a_body_from_another_field_and_undoes_a_panic() {
        struct Body;
        impl fmt::Debug for Body {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                with_opts(|o| o.body.set(true));
                if let Some(mut line) = take_lent() {
                    line.push_str("\"k\":1");
                }
                Ok(())
            }
        }
        struct Panics;
        impl fmt::Debug for Panics {
            fn fmt(&self, _: &mut fmt::Formatter<'_>) -> fmt::Result {
                with_opts(|o| o.mark_written(1));
                panic!("no")
            }
        }
        let policy = Arc::new(Policy::default());
        scope(&policy, limits(100, 5, false), |o| {
            let mut line = String::from("{\"a\":0");
            assert_eq!(print_body(&mut line, &Body, o), Printed::Body);
            assert_eq!(line, "{\"a\":0,\"k\":1");
            assert_eq!(print_body(&mut line, &"text", o), Printed::NotBody);
            assert_eq!(print_body(&mut line, &Panics, o), Printed::Panicked);
            assert_eq!(line, "{\"a\":0,\"k\":1");
            assert_eq!(o.wrote_context.get(), 0);
            assert!(!o.body.get());
        });
    }
}
