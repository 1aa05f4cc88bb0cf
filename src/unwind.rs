//! Panics in the caller's code (a `Debug`, `Display` or `Serialize` impl)
//! while the crate formats a record: caught where the crate calls that
//! code, so that the record is still written, with the value replaced by
//! `"[panicked: <message>]"`, and the panic never reaches the caller.

use std::any::Any;
use std::panic::{self, AssertUnwindSafe};

/// Runs `f` (which calls the caller's code); a panic in it comes back as
/// the marker text that replaces the value.
///
/// `AssertUnwindSafe` is sound here: what `f` may leave half-written (a
/// scratch string, the line) is cleared or cut back by whoever called
/// `catch`, and the crate's per-thread state is restored by guards on
/// unwind.
pub(crate) fn catch<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    panic::catch_unwind(AssertUnwindSafe(f)).map_err(marker)
}

/// `[panicked: <message>]` for a panic's payload, which is then dropped
/// (a payload whose own `Drop` panics is caught too, not let out).
pub(crate) fn marker(payload: Box<dyn Any + Send>) -> String {
    let message = describe(&*payload);
    if let Err(inner) = panic::catch_unwind(AssertUnwindSafe(move || drop(payload))) {
        // Leaked rather than dropped: its drop could panic again.
        std::mem::forget(inner);
    }
    message
}

/// `[panicked: <message>]` for a panic's payload, left to the caller
/// (to resume the panic with, say).
pub(crate) fn describe(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        format!("[panicked: {s}]")
    } else if let Some(s) = payload.downcast_ref::<String>() {
        format!("[panicked: {s}]")
    } else {
        "[panicked: a payload that is not a string]".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_panic_becomes_its_marker() {
        assert_eq!(catch(|| 1), Ok(1));
        let r: Result<(), _> = catch(|| panic!("boom {}", 7));
        assert_eq!(r, Err("[panicked: boom 7]".to_owned()));
        let r: Result<(), _> = catch(|| panic!("static"));
        assert_eq!(r, Err("[panicked: static]".to_owned()));
        let r: Result<(), _> = catch(|| std::panic::panic_any(42u8));
        assert_eq!(
            r,
            Err("[panicked: a payload that is not a string]".to_owned())
        );
    }
}
