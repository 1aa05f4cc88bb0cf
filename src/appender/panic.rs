//! Flushing appenders from a panic hook.

use std::panic;
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::Duration;

use super::Shared;

static REGISTERED: Mutex<Vec<Weak<Shared>>> = Mutex::new(Vec::new());
static INSTALL: Once = Once::new();

/// How long the hook waits for each appender.
const PANIC_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Adds `shared` to the appenders flushed on panic, installing the hook the
/// first time. The hook flushes, then calls whatever hook was installed
/// before it.
pub(crate) fn register(shared: &Arc<Shared>) {
    INSTALL.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            flush_registered();
            previous(info);
        }));
    });
    if let Ok(mut registered) = REGISTERED.lock() {
        registered.retain(|w| w.strong_count() > 0);
        registered.push(Arc::downgrade(shared));
    }
}

fn flush_registered() {
    // try_lock: a panic while the list is being edited must not deadlock.
    let appenders: Vec<Arc<Shared>> = match REGISTERED.try_lock() {
        Ok(registered) => registered.iter().filter_map(Weak::upgrade).collect(),
        Err(_) => return,
    };
    let current = std::thread::current().id();
    for shared in appenders {
        // The writer thread cannot wait for itself.
        if shared.writer_thread.get() != Some(&current) {
            let _ = shared.flush_within(PANIC_FLUSH_TIMEOUT);
        }
    }
}
