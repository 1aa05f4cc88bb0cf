//! Rows loaded by `before_save`, waiting for `after_save` to compare them
//! with the saved model.
//!
//! Both hooks run in the same `update` call, given the same connection
//! (or transaction) reference, in the same task and span: a row is kept
//! under that connection's address, the current span, its table and its
//! key, so two databases with the same table, or two requests updating the
//! same row at once, each find their own.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

type Key = (usize, u64, &'static str, String);

/// Rows whose update failed between the hooks are never taken: past this
/// many waiting rows, those older than [`STALE`] are dropped.
const SWEEP_ABOVE: usize = 4096;
const STALE: Duration = Duration::from_secs(60);

/// Each row with the time it was kept.
type Rows = HashMap<Key, (Instant, Map<String, Value>)>;

static PENDING: LazyLock<Mutex<Rows>> = LazyLock::new(Default::default);

fn pending() -> MutexGuard<'static, Rows> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn span_key() -> u64 {
    tracing::Span::current().id().map_or(0, |id| id.into_u64())
}

/// The identity of the connection the hooks are given: its address.
pub(super) fn connection<C>(db: &C) -> usize {
    std::ptr::from_ref(db) as *const () as usize
}

/// Keeps the row as it was before an update (a newer one replaces it).
pub(super) fn put(db: usize, table: &'static str, id: String, row: Map<String, Value>) {
    let mut pending = pending();
    if pending.len() >= SWEEP_ABOVE {
        pending.retain(|_, (at, _)| at.elapsed() < STALE);
    }
    pending.insert((db, span_key(), table, id), (Instant::now(), row));
}

/// The row kept for this update, if any.
pub(super) fn take(db: usize, table: &'static str, id: &str) -> Option<Map<String, Value>> {
    pending()
        .remove(&(db, span_key(), table, id.to_owned()))
        .map(|(_, row)| row)
}
