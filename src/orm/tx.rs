//! A SeaORM transaction tied to the crate's [`Transaction`]: its CRUD
//! records are written when the database commits, and never otherwise.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use sea_orm::{TransactionError, TransactionTrait};

use crate::Transaction;

/// Runs `callback` in a database transaction (SeaORM's
/// [`TransactionTrait::transaction`]) and in an audit
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
    let audit = Transaction::begin();
    let result = audit.in_future(db.transaction(callback)).await;
    match result {
        Ok(value) => {
            audit.commit();
            Ok(value)
        }
        Err(e) => {
            audit.rollback();
            Err(e)
        }
    }
}
