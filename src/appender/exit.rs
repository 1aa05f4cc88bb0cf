//! Draining appenders from an exit hook, so that `std::process::exit`
//! (which runs no destructor) loses no accepted line.

use std::sync::Arc;
#[cfg(unix)]
use std::sync::{Mutex, Weak};

use super::Shared;

#[cfg(unix)]
static REGISTERED: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
/// The process that registered the hook. A child made by `fork` inherits
/// the hook but not the writer threads: there it does nothing.
#[cfg(unix)]
static OWNER: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Adds `shared` to the appenders closed when the process exits,
/// registering the hook with `atexit` the first time.
///
/// The crate's one `unsafe` call: the standard library offers no hook that
/// runs at `std::process::exit`, and `atexit` has no safe wrapper in the
/// crates the crate uses.
#[cfg(unix)]
#[allow(unsafe_code)]
pub(crate) fn register(shared: &Arc<Shared>) {
    static INSTALL: std::sync::Once = std::sync::Once::new();
    INSTALL.call_once(|| {
        OWNER.store(std::process::id(), std::sync::atomic::Ordering::Relaxed);
        // SAFETY: `at_exit` is a plain `extern "C" fn()` that never
        // unwinds (it catches panics); registering it has no other effect.
        unsafe {
            libc::atexit(at_exit);
        }
    });
    if let Ok(mut registered) = REGISTERED.lock() {
        registered.retain(|w| w.strong_count() > 0);
        registered.push(Arc::downgrade(shared));
    }
}

/// Without `atexit` there is no hook: the option does nothing.
#[cfg(not(unix))]
pub(crate) fn register(shared: &Arc<Shared>) {
    let _ = shared;
}

/// Set when the exit hook begins: appenders not started by then stay so.
static EXITING: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// True once the exit hook has begun closing the appenders.
pub(crate) fn exiting() -> bool {
    EXITING.load(std::sync::atomic::Ordering::SeqCst)
}

#[cfg(unix)]
extern "C" fn at_exit() {
    if OWNER.load(std::sync::atomic::Ordering::Relaxed) == std::process::id() {
        EXITING.store(true, std::sync::atomic::Ordering::SeqCst);
        let _ = std::panic::catch_unwind(close_registered);
    }
}

/// Closes every live registered appender in parallel: new lines refused,
/// queues drained, files fsynced, each within its shutdown timeout. An
/// appender whose guard was already dropped is closed already and ends at
/// once.
#[cfg(unix)]
fn close_registered() {
    let appenders: Vec<Arc<Shared>> = match REGISTERED.lock() {
        Ok(registered) => registered.iter().filter_map(Weak::upgrade).collect(),
        Err(_) => return,
    };
    let deadlines: Vec<_> = appenders.iter().map(|s| s.begin_close()).collect();
    for (shared, deadline) in appenders.iter().zip(deadlines) {
        let finished = shared.wait_closed(deadline);
        shared.report_close(finished);
    }
}
