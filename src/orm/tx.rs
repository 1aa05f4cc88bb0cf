//! A SeaORM transaction tied to the crate's [`Transaction`]: its CRUD
//! records are written when the database commits, and never otherwise.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use sea_orm::{TransactionError, TransactionSession, TransactionTrait};

use crate::Transaction;

/// Runs `callback` in a database transaction (`BEGIN`, the callback,
/// then `COMMIT`, or `ROLLBACK` on an `Err`, as SeaORM's
/// [`TransactionTrait::transaction`] does) and in an audit
/// [`Transaction`]: the records its hooks and macros make are held, and
/// written only after the database has committed. An `Err` from the
/// callback, a failed `COMMIT` or a panic rolls both back: no record.
///
/// ```ignore
/// use tracing_audit::orm::audited_transaction;
///
/// audited_transaction(&db, |txn| {
///     Box::pin(async move {
///         order.insert(txn).await?;
///         stock.update(txn).await?;
///         Ok::<_, DbErr>(())
///     })
/// })
/// .await?;
/// ```
///
/// Called inside another audited transaction (`audited_transaction(txn, …)`
/// with the outer `txn`, a savepoint), its records join the outer one's
/// and are written when the outermost commits.
///
/// Dropped while its `COMMIT` is in flight (a `select!` or a timeout that
/// gave up on it, a task aborted), it cannot know whether the database
/// kept the work: it writes the held records then, each marked
/// `"tx_outcome":"unknown"` (see [`Transaction::outcome_unknown`]), rather
/// than lose the records of a transaction that committed. Dropped before
/// the callback finished, it writes none (the database rolls back).
pub async fn audited_transaction<C, F, T, E>(db: &C, callback: F) -> Result<T, TransactionError<E>>
where
    C: TransactionTrait,
    F: for<'c> FnOnce(
            &'c C::Transaction,
        ) -> Pin<Box<dyn Future<Output = Result<T, E>> + Send + 'c>>
        + Send,
    T: Send,
    E: fmt::Display + fmt::Debug + Send,
{
    let mut audit = Ending {
        audit: Some(Transaction::begin()),
        committing: false,
    };
    let span = audit.span();
    let work = async {
        let txn = db.begin().await.map_err(TransactionError::Connection)?;
        match callback(&txn).await {
            Ok(value) => {
                audit.committing = true;
                let committed = txn.commit().await;
                audit.committing = false;
                committed.map_err(TransactionError::Connection)?;
                audit.end(Transaction::commit);
                Ok(value)
            }
            Err(e) => {
                // No record, whether or not the rollback succeeds.
                audit.end(Transaction::rollback);
                txn.rollback().await.map_err(TransactionError::Connection)?;
                Err(TransactionError::Transaction(e))
            }
        }
    };
    tracing::Instrument::instrument(work, span).await
}

/// The audit side of a running [`audited_transaction`]: dropped before it
/// ended (the future dropped, a panic), it rolls back, or, while the
/// `COMMIT` is in flight, writes the records marked as of unknown outcome.
struct Ending {
    audit: Option<Transaction>,
    committing: bool,
}

impl Ending {
    fn span(&self) -> tracing::Span {
        self.audit
            .as_ref()
            .map_or_else(tracing::Span::none, |a| a.span().clone())
    }

    fn end(&mut self, how: fn(Transaction)) {
        if let Some(audit) = self.audit.take() {
            how(audit);
        }
    }
}

impl Drop for Ending {
    fn drop(&mut self) {
        if self.committing {
            self.end(Transaction::outcome_unknown);
        }
        // Otherwise the transaction, if still open, rolls back as it drops.
    }
}
