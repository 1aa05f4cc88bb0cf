//! Rows loaded by `before_save`, waiting for `after_save` to compare them
//! with the saved model.
//!
//! Both hooks run in the same `update` call, given the same connection
//! (or transaction) reference, in the same task and span: a row is kept
//! under that connection's address, the current span, its entity type
//! and its key, so two databases with the same table each find their
//! own. Two
//! updates of the same row at once on one connection and span share the
//! key: their rows queue up, so neither update goes unrecorded.
//!
//! Each row waits with the values its update sets. An update the database
//! refuses between the hooks (a constraint, a row gone) never reaches
//! `after_save`, and its row stays behind: `after_save` takes the newest
//! row whose update set the values the saved model has, so a later update
//! of the row never takes the refused one's (it recorded the refused
//! update's old values, or, without the read, its columns); with none
//! that fits (a trigger rewrote a value), the oldest.

use std::any::{Any, TypeId};
use std::collections::hash_map::Entry;
use std::collections::HashMap;
use std::sync::{LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

type Key = (usize, u64, TypeId, String);

/// The values an update sets, by the column's position in the entity's
/// `Column::iter()`.
pub(super) type SetValues = Vec<(usize, sea_orm::Value)>;

/// What `before_save` keeps for `after_save`.
pub(super) enum Kept {
    /// The row as read before the update: the entity's `Model`.
    Row(Box<dyn Any + Send>),
    /// The columns the update sets (old values not read).
    Set(Vec<&'static str>),
}

/// Rows whose update failed between the hooks are never taken: past this
/// many waiting keys, rows older than [`STALE`] are dropped; under one
/// key, those older than [`STALE`] are dropped whenever a row joins it,
/// and no more than [`MOST_UNDER_ONE_KEY`] wait (a row refused over and
/// over in a loop grew the list without end).
const SWEEP_ABOVE: usize = 4096;
const STALE: Duration = Duration::from_secs(60);
const MOST_UNDER_ONE_KEY: usize = 64;

/// A row waiting for its `after_save`.
struct Waiting {
    at: Instant,
    set: SetValues,
    kept: Kept,
}

/// The rows waiting under each key, oldest first.
type Rows = HashMap<Key, Vec<Waiting>>;

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

/// Keeps the row as it was before an update, with the values the update
/// sets, behind any other waiting under the same key.
pub(super) fn put(db: usize, entity: TypeId, id: String, set: SetValues, row: Kept) {
    let mut pending = pending();
    if pending.len() >= SWEEP_ABOVE {
        pending.retain(|_, rows| {
            rows.retain(|w| w.at.elapsed() < STALE);
            !rows.is_empty()
        });
    }
    let rows = pending.entry((db, span_key(), entity, id)).or_default();
    if !rows.is_empty() {
        rows.retain(|w| w.at.elapsed() < STALE);
        if rows.len() >= MOST_UNDER_ONE_KEY {
            rows.drain(..=rows.len() - MOST_UNDER_ONE_KEY);
        }
    }
    rows.push(Waiting {
        at: Instant::now(),
        set,
        kept: row,
    });
}

/// The row kept for this update, if any: of several waiting, the newest
/// whose update set values that `saved` says the saved model has, else
/// the oldest. With none under `id`, a row waiting under the same key
/// written otherwise (other case, trailing spaces) whose update set what
/// the model holds: the database found the row by a collation that
/// ignores them (`COLLATE NOCASE`, MySQL's defaults, `citext`), and
/// returned it as stored.
pub(super) fn take(
    db: usize,
    entity: TypeId,
    id: String,
    saved: impl Fn(&SetValues) -> bool,
) -> Option<Kept> {
    let mut key = (db, span_key(), entity, id);
    let mut pending = pending();
    let mut exact = true;
    if !pending.contains_key(&key) {
        let folded = fold(&key.3);
        key = pending
            .iter()
            .find(|(k, rows)| {
                (k.0, k.1, k.2) == (key.0, key.1, key.2)
                    && fold(&k.3) == folded
                    && rows.iter().any(|w| saved(&w.set))
            })
            .map(|(k, _)| k.clone())?;
        exact = false;
    }
    let Entry::Occupied(mut rows) = pending.entry(key) else {
        return None;
    };
    let list = rows.get_mut();
    let at = if list.len() > 1 || !exact {
        list.iter().rposition(|w| saved(&w.set)).unwrap_or(0)
    } else {
        0
    };
    let taken = list.remove(at).kept;
    if list.is_empty() {
        rows.remove();
    }
    Some(taken)
}

/// A key's text as a collation that ignores case and trailing spaces
/// compares it.
fn fold(id: &str) -> String {
    id.trim_end_matches(' ').to_lowercase()
}
