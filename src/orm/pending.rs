//! Rows loaded by `before_save`, waiting for `after_save` to compare them
//! with the saved model.
//!
//! Both hooks run in the same `update` call, given the same connection
//! (or transaction) reference, in the same task and span: a row is kept
//! under that connection's address, the current span, its entity type
//! and its key, so two databases with the same table each find their
//! own. Two
//! updates of the same row at once on one connection and span share the
//! key: their rows queue up, each `after_save` takes the oldest, so
//! neither update goes unrecorded.

use std::any::{Any, TypeId};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Key = (usize, u64, TypeId, String);

/// What `before_save` keeps for `after_save`.
pub(super) enum Kept {
    /// The row as read before the update: the entity's `Model`.
    Row(Box<dyn Any + Send>),
    /// The columns the update sets (old values not read).
    Set(Vec<&'static str>),
}

/// Rows whose update failed between the hooks are never taken: past this
/// many waiting rows, those older than [`STALE`] are dropped.
const SWEEP_ABOVE: usize = 4096;
const STALE: Duration = Duration::from_secs(60);

/// The rows waiting under each key, oldest first, with the time each
/// was kept.
type Rows = HashMap<Key, Vec<(Instant, Kept)>>;

static PENDING: LazyLock<Mutex<Rows>> = LazyLock::new(Default::default);

fn pending() -> MutexGuard<'static, Rows> {
    PENDING
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The current span's id, read from the dispatcher without the new
/// reference (and its release) that `Span::current()` takes.
fn span_key() -> u64 {
    tracing::dispatcher::get_default(|d| d.current_span().id().map_or(0, |id| id.into_u64()))
}

/// The identity of the connection the hooks are given: its address.
pub(super) fn connection<C>(db: &C) -> usize {
    std::ptr::from_ref(db) as *const () as usize
}

/// Keeps the row as it was before an update, behind any other waiting
/// under the same key.
pub(super) fn put(db: usize, entity: TypeId, id: String, row: Kept) {
    let mut pending = pending();
    if pending.len() >= SWEEP_ABOVE {
        pending.retain(|_, rows| {
            rows.retain(|(at, _)| at.elapsed() < STALE);
            !rows.is_empty()
        });
    }
    pending
        .entry((db, span_key(), entity, id))
        .or_default()
        .push((Instant::now(), row));
}

/// The row kept for this update, if any.
pub(super) fn take(db: usize, entity: TypeId, id: String) -> Option<Kept> {
    let key = (db, span_key(), entity, id);
    let mut pending = pending();
    match pending.entry(key) {
        Entry::Occupied(mut rows) if rows.get().len() > 1 => Some(rows.get_mut().remove(0).1),
        Entry::Occupied(rows) => rows.remove().pop().map(|(_, row)| row),
        Entry::Vacant(_) => None,
    }
}
