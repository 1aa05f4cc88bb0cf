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
/// callback, a panic, or a `COMMIT` the database refused rolls both
/// back: no record.
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
///
/// A `COMMIT` that returns an error is told apart the same way: refused
/// by the database (an error the database returned, such as a deferred
/// foreign key violated, or a serialization failure), the transaction did
/// not commit and no record is written; failed without the database's
/// answer (the connection lost, an I/O or protocol error, the driver's
/// worker gone, or an error not from SQLx), the outcome cannot be known
/// and the records are written marked `"tx_outcome":"unknown"`. Either
/// way the error is returned.
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
                if let Err(e) = committed {
                    match commit_failure(&e) {
                        CommitFailure::Refused => audit.end(Transaction::rollback),
                        CommitFailure::Unknown => audit.end(Transaction::outcome_unknown),
                    }
                    return Err(TransactionError::Connection(e));
                }
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

/// How a `COMMIT` that returned an error ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum CommitFailure {
    /// The database answered with an error: the transaction did not
    /// commit (it rolled back, or is rolled back as SeaORM drops it).
    Refused,
    /// No answer from the database: it may have committed.
    Unknown,
}

fn commit_failure(e: &sea_orm::DbErr) -> CommitFailure {
    use sea_orm::{DbErr, RuntimeErr};
    match e {
        DbErr::Conn(RuntimeErr::SqlxError(e))
        | DbErr::Exec(RuntimeErr::SqlxError(e))
        | DbErr::Query(RuntimeErr::SqlxError(e))
            if matches!(**e, sea_orm::sqlx::Error::Database(_)) =>
        {
            CommitFailure::Refused
        }
        _ => CommitFailure::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use sea_orm::{sqlx, DbErr, RuntimeErr};

    use super::{commit_failure, CommitFailure};

    fn sqlx_err(e: sqlx::Error) -> DbErr {
        DbErr::Query(RuntimeErr::SqlxError(Arc::new(e)))
    }

    #[test]
    fn errors_without_the_databases_answer_leave_the_outcome_unknown() {
        let lost = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset");
        for e in [
            sqlx_err(sqlx::Error::Io(lost)),
            sqlx_err(sqlx::Error::WorkerCrashed),
            sqlx_err(sqlx::Error::PoolClosed),
            sqlx_err(sqlx::Error::Protocol("cut short".to_owned())),
            DbErr::Conn(RuntimeErr::Internal("gone".to_owned())),
            DbErr::Custom("a proxy's error".to_owned()),
        ] {
            assert_eq!(commit_failure(&e), CommitFailure::Unknown, "{e}");
        }
    }
}
