//! The layer's side of [`Transaction`](crate::Transaction): CRUD records
//! held in the transaction's span until it commits (written, or handed to
//! the enclosing transaction) or rolls back (dropped).

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

use tracing_core::span::Id;
use tracing_core::{Dispatch, Event, Subscriber};
use tracing_subscriber::layer::Context;
use tracing_subscriber::registry::{Extensions, LookupSpan, SpanRef};

use crate::layer::AuditLayer;
use crate::peers::{self, Peer};
use crate::record::Kind;
use crate::span_data::{self, LayerId};

/// Records held by an open [`Transaction`](crate::Transaction).
pub(crate) struct TxBuffer {
    lines: Vec<Vec<u8>>,
}

/// Open transactions, in every layer: while there is none, a CRUD record
/// need not look for one.
static OPEN_TRANSACTIONS: AtomicUsize = AtomicUsize::new(0);

/// Gives the span a buffer for layer `id`: a transaction opens.
pub(crate) fn open<S>(span: &SpanRef<'_, S>, id: LayerId)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let mut extensions = span.extensions_mut();
    let tx = span_data::get_or_insert_with(&mut extensions, id, || TxBuffer { lines: Vec::new() });
    if tx.is_some() {
        OPEN_TRANSACTIONS.fetch_add(1, Relaxed);
    }
}

/// Drops the span's buffer for layer `id`, if it has one: the span closed
/// without the transaction finishing (its records were not committed).
pub(crate) fn close<S>(span: &SpanRef<'_, S>, id: LayerId)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if span_data::remove::<TxBuffer>(&mut span.extensions_mut(), id).is_some() {
        OPEN_TRANSACTIONS.fetch_sub(1, Relaxed);
    }
}

/// Holds `line`, a CRUD record of layer `id`, in the innermost open
/// transaction around `event`; gives it back if there is none.
pub(crate) fn hold<'l, S>(
    line: &'l [u8],
    id: LayerId,
    event: &Event<'_>,
    ctx: &Context<'_, S>,
) -> Option<&'l [u8]>
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    if OPEN_TRANSACTIONS.load(Relaxed) == 0 {
        return Some(line);
    }
    if let Some(scope) = ctx.event_scope(event) {
        for span in scope {
            let mut extensions = span.extensions_mut();
            if let Some(tx) = span_data::get_mut::<TxBuffer>(&mut extensions, id) {
                tx.lines.push(line.to_vec());
                return None;
            }
        }
    }
    Some(line)
}

/// The audit layers holding records in a span (given its extensions).
pub(crate) fn holders(extensions: &Extensions<'_>) -> Vec<LayerId> {
    span_data::layers::<TxBuffer>(extensions)
}

/// How a transaction ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// Committed: its records are written (or handed to the outer one).
    Commit,
    /// Rolled back: its records are dropped.
    Rollback,
    /// Not known (a `COMMIT` was sent and no answer came): its records
    /// are written as for a commit, each marked `"tx_outcome":"unknown"`.
    Unknown,
}

/// The key and value that mark a record whose transaction's outcome is
/// not known.
const UNKNOWN_MARK: &[u8] = br#","tx_outcome":"unknown""#;

/// Marks one held record (a JSON object, maybe ending in a newline) as
/// written without knowing whether its transaction committed: once, even
/// when an inner transaction and the outer one both end so.
fn mark_unknown(line: &mut Vec<u8>) {
    let Some(end) = line.iter().rposition(|&b| b == b'}') else {
        return;
    };
    if !line[..end].ends_with(UNKNOWN_MARK) {
        line.splice(end..end, UNKNOWN_MARK.iter().copied());
    }
}

pub(crate) fn finish_in<S>(dispatch: &Dispatch, id: &Id, layer: &AuditLayer, outcome: Outcome)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    let Some(subscriber) = dispatch.downcast_ref::<S>() else {
        return;
    };
    let Some(span) = subscriber.span(id) else {
        return;
    };
    // Every audit layer of the subscriber holds its own records: those
    // this one knows of, and any other that holds a buffer in the span.
    let mut all: Vec<Peer> = layer.all_peers();
    peers::extend_with(&mut all, holders(&span.extensions()));
    for peer in &all {
        finish_of(&span, peer, outcome);
    }
}

fn finish_of<S>(span: &SpanRef<'_, S>, peer: &Peer, outcome: Outcome)
where
    S: Subscriber + for<'a> LookupSpan<'a>,
{
    // Finished: records made in its span from now on are not held.
    let removed = span_data::remove::<TxBuffer>(&mut span.extensions_mut(), peer.id);
    let mut lines = match removed {
        Some(tx) => {
            OPEN_TRANSACTIONS.fetch_sub(1, Relaxed);
            tx.lines
        }
        None => return,
    };
    match outcome {
        Outcome::Rollback => return,
        Outcome::Unknown => lines.iter_mut().for_each(mark_unknown),
        Outcome::Commit => {}
    }
    // A transaction inside another hands its records to the outer one.
    if let Some(parent) = span.parent() {
        for outer in parent.scope() {
            if let Some(tx) = span_data::get_mut::<TxBuffer>(&mut outer.extensions_mut(), peer.id) {
                tx.lines.extend(lines);
                return;
            }
        }
    }
    for line in lines {
        peer.sinks
            .write(Kind::Audit, crate::record::target::CRUD, &line);
    }
}
