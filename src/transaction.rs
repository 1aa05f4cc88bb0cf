//! Transactions: CRUD records held until the work they describe commits.

use std::fmt;
use std::future::Future;

use tracing::instrument::{Instrument, Instrumented};
use tracing::Span;

use crate::layer::AuditLayer;
use crate::record::target;

pub(crate) mod buffer;

use buffer::Outcome;

/// A scope whose CRUD records are held back and written only when it
/// commits. Rolling back, or dropping it without committing, discards
/// them: the audit trail then never claims a change the database did not
/// keep.
///
/// A transaction is a span (target `audit.transaction`): records made while
/// it is entered, or in futures run [in it](Transaction::in_future), belong to it. A transaction opened inside another hands its
/// records to the outer one when it commits; they reach the file when the
/// outermost commits. Only `audit.crud` records are held; login, API and
/// application records are written at once.
///
/// ```
/// use tracing_audit::Transaction;
///
/// let tx = Transaction::begin();
/// tx.in_scope(|| {
///     tracing_audit::create!(model: "Order", id: 9);
///     tracing_audit::update!(model: "Stock", id: 3);
/// });
/// // db.commit()? …
/// tx.commit();
/// ```
///
/// Without the crate's layer installed a transaction holds nothing and
/// records go wherever the subscriber sends them.
#[must_use = "a transaction that is dropped rolls back"]
pub struct Transaction {
    span: Span,
    finished: bool,
}

impl fmt::Debug for Transaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Transaction")
            .field("span", &self.span)
            .finish()
    }
}

impl Transaction {
    /// Opens a transaction inside the current span.
    pub fn begin() -> Transaction {
        Transaction {
            span: tracing::info_span!(target: target::TRANSACTION, "audit.transaction"),
            finished: false,
        }
    }

    /// Runs `f` inside the transaction.
    pub fn in_scope<R>(&self, f: impl FnOnce() -> R) -> R {
        self.span.in_scope(f)
    }

    /// Enters the transaction until the returned guard is dropped. Do not
    /// hold the guard across an `.await`; use
    /// [`in_future`](Transaction::in_future) there.
    pub fn enter(&self) -> tracing::span::Entered<'_> {
        self.span.enter()
    }

    /// Makes `future`'s records part of the transaction, across `.await`
    /// points (the future is instrumented with the transaction's span).
    pub fn in_future<F: Future>(&self, future: F) -> Instrumented<F> {
        future.instrument(self.span.clone())
    }

    /// The transaction's span.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Writes the held records (or hands them to the enclosing
    /// transaction).
    pub fn commit(mut self) {
        self.finish(Outcome::Commit);
    }

    /// Discards the held records.
    pub fn rollback(mut self) {
        self.finish(Outcome::Rollback);
    }

    /// The work's outcome is not known: a `COMMIT` was sent and its answer
    /// never came (the connection broke, or the future awaiting it was
    /// dropped). Writes the held records (or hands them to the enclosing
    /// transaction) each marked `"tx_outcome":"unknown"`: a change that
    /// may have been kept is not left out of the trail, and a reader can
    /// tell it from a committed one by checking the database.
    pub fn outcome_unknown(mut self) {
        self.finish(Outcome::Unknown);
    }

    fn finish(&mut self, outcome: Outcome) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        self.span.with_subscriber(|(id, dispatch)| {
            if let Some(layer) = dispatch.downcast_ref::<AuditLayer>() {
                layer.finish_tx(dispatch, id, outcome);
            }
        });
    }
}

impl Drop for Transaction {
    fn drop(&mut self) {
        self.finish(Outcome::Rollback);
    }
}
