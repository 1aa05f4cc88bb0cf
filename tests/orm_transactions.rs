//! SeaORM transactions and bulk statements on a real SQLite file: records
//! made inside `audited_transaction` are written only if the database
//! commits; the bulk helpers write one `BULK_*` record with the ids of the
//! rows the statement touched.

#![cfg(feature = "sea-orm")]

mod common;
mod orm_support;

use common::records::{Logs, Record};
use orm_support::{account, block_on, new_account, open};
use sea_orm::sea_query::Expr;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel,
    ModelTrait, PaginatorTrait, QueryFilter, TransactionError, TransactionTrait,
};
use tracing::Instrument;
use tracing_audit::orm::audited_transaction;
use tracing_audit::Kind;

fn kinds(records: &[Record]) -> Vec<(String, String)> {
    records
        .iter()
        .map(|r| {
            (
                r["event_type"].as_str().unwrap().to_owned(),
                r["instance_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

#[test]
fn a_committed_transaction_writes_all_its_records_a_rolled_back_one_none() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let (kept, gone) = block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let span = tracing::info_span!("request", request_id = "r-tx", user_id = "9");
        async {
            let kept = audited_transaction(&db, |txn| {
                Box::pin(async move {
                    let a = new_account("a@example.com").insert(txn).await?;
                    let mut active = a.clone().into_active_model();
                    active.role = Set("owner".to_owned());
                    active.update(txn).await?;
                    let b = new_account("b@example.com").insert(txn).await?;
                    b.delete(txn).await?;
                    Ok::<_, DbErr>(a.id)
                })
            })
            .await
            .unwrap();
            // Rolled back by the callback's error: the row and the records
            // are both gone.
            let failed = audited_transaction(&db, |txn| {
                Box::pin(async move {
                    let c = new_account("c@example.com").insert(txn).await?;
                    let mut active = c.into_active_model();
                    active.name = Set("never".to_owned());
                    active.update(txn).await?;
                    Err::<i32, _>(DbErr::Custom("payment declined".to_owned()))
                })
            })
            .await;
            assert!(matches!(failed, Err(TransactionError::Transaction(_))));
            let rows = account::Entity::find().count(&db).await.unwrap();
            (kept, rows)
        }
        .instrument(span)
        .await
    });
    assert_eq!(gone, 1, "only the committed account is in the database");
    let records = logs.records(Kind::Audit);
    let k = kinds(&records);
    assert_eq!(k.len(), 4, "{k:?}");
    assert_eq!(k[0], ("CREATE".to_owned(), kept.to_string()));
    assert_eq!(k[1], ("UPDATE".to_owned(), kept.to_string()));
    assert_eq!(k[2].0, "CREATE");
    assert_eq!(k[3].0, "DELETE");
    for r in &records {
        assert_eq!(r["user_id"], "9");
        assert_eq!(r["request_id"], "r-tx");
        assert_ne!(r["instance_repr"]["email"], "c@example.com");
    }
}

#[test]
fn records_inside_a_transaction_are_held_until_the_database_commits() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let path = logs.path(Kind::Audit);
    let (inserted_tx, inserted_rx) = tokio::sync::oneshot::channel::<()>();
    let (checked_tx, checked_rx) = tokio::sync::oneshot::channel::<usize>();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let transaction = audited_transaction(&db, |txn| {
            Box::pin(async move {
                new_account("held@example.com").insert(txn).await?;
                inserted_tx.send(()).unwrap();
                // The other side flushes and reads the file meanwhile.
                let seen = checked_rx.await.unwrap();
                assert_eq!(seen, 0, "a record was written before the commit");
                Ok::<_, DbErr>(())
            })
        });
        let checker = async {
            inserted_rx.await.unwrap();
            logs.guard.flush().unwrap();
            checked_tx
                .send(common::records::read_records(&path).len())
                .unwrap();
        };
        let (result, ()) = tokio::join!(transaction, checker);
        result.unwrap();
    });
    assert_eq!(kinds(&logs.records(Kind::Audit)).len(), 1);
}

#[test]
fn a_panicking_transaction_body_writes_no_record() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let task = tokio::spawn(
            tracing::instrument::WithSubscriber::with_current_subscriber({
                let db = db.clone();
                async move {
                    let _ = audited_transaction(&db, |txn| {
                        Box::pin(async move {
                            new_account("p@example.com").insert(txn).await?;
                            if std::hint::black_box(true) {
                                panic!("the handler failed");
                            }
                            Ok::<_, DbErr>(())
                        })
                    })
                    .await;
                }
            }),
        );
        assert!(task.await.is_err());
        new_account("after@example.com").insert(&db).await.unwrap();
    });
    let records = logs.records(Kind::Audit);
    assert_eq!(records.len(), 1);
    assert_eq!(records[0]["instance_repr"]["email"], "after@example.com");
}

#[test]
fn bulk_helpers_write_one_bulk_record_with_the_ids_they_touched() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let ids = block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let inserted = account::AUDIT
            .insert_many(
                &db,
                account::Entity::insert_many(
                    (0..4).map(|n| new_account(&format!("bulk{n}@example.com"))),
                ),
            )
            .await
            .unwrap();
        let ids: Vec<i32> = inserted.iter().map(|m| m.id).collect();
        let updated = account::AUDIT
            .update_many(
                &db,
                account::Entity::update_many()
                    .col_expr(account::Column::Role, Expr::value("archived"))
                    .filter(account::Column::Id.is_in(ids[..2].to_vec())),
            )
            .await
            .unwrap();
        assert_eq!(updated.len(), 2);
        let deleted = account::AUDIT
            .delete_many(
                &db,
                account::Entity::delete_many().filter(account::Column::Role.eq("archived")),
            )
            .await
            .unwrap();
        assert_eq!(deleted.len(), 2);
        // Matching nothing: no record.
        account::AUDIT
            .delete_many(
                &db,
                account::Entity::delete_many().filter(account::Column::Id.eq(-1)),
            )
            .await
            .unwrap();
        // Plain SeaORM bulk statements bypass the hooks: no record.
        account::Entity::delete_many()
            .filter(account::Column::Id.eq(ids[3]))
            .exec(&db)
            .await
            .unwrap();
        ids
    });
    let records = logs.records(Kind::Audit);
    let k: Vec<_> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(k, ["BULK_CREATE", "BULK_UPDATE", "BULK_DELETE"]);
    let ids: Vec<String> = ids.iter().map(|i| i.to_string()).collect();
    assert_eq!(records[0]["instance_ids"], serde_json::json!(ids));
    assert_eq!(records[0]["count"], 4);
    assert_eq!(records[1]["instance_ids"], serde_json::json!(ids[..2]));
    assert_eq!(records[1]["instance_repr"][0]["role"], "archived");
    assert_eq!(records[2]["instance_ids"], serde_json::json!(ids[..2]));
    for r in &records {
        assert_eq!(r["model"], "account");
        assert!(!r.values().any(|v| v.to_string().contains("SECRETHASH")));
    }
}

/// The future of an audited transaction is dropped (its task aborted)
/// while its `COMMIT` waits for a lock; the database then commits. The
/// records are written, marked `"tx_outcome":"unknown"`, not lost.
#[test]
fn a_transaction_dropped_while_its_commit_is_in_flight_keeps_its_records_marked() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let rows = block_on(&logs.dispatch, async {
        // A rollback journal (the default for a new file): a COMMIT needs
        // every reader gone, so an open read transaction holds it.
        let db = open(dir.path()).await;
        let probe = orm_support::connect_one(dir.path()).await;
        probe
            .execute_unprepared("PRAGMA busy_timeout = 0")
            .await
            .unwrap();
        let reader = db.begin().await.unwrap();
        account::Entity::find().all(&reader).await.unwrap();
        let writer = tokio::spawn(
            tracing::instrument::WithSubscriber::with_current_subscriber({
                let db = db.clone();
                let span = tracing::info_span!("request", request_id = "r-drop", user_id = "5");
                async move {
                    audited_transaction(&db, |txn| {
                        Box::pin(async move {
                            // Wait for the reader for as long as the test needs.
                            txn.execute_unprepared("PRAGMA busy_timeout = 120000")
                                .await?;
                            new_account("inflight@example.com").insert(txn).await?;
                            Ok::<_, DbErr>(())
                        })
                    })
                    .instrument(span)
                    .await
                }
            }),
        );
        // A waiting COMMIT holds SQLite's PENDING lock: a new reader that
        // does not wait is refused. That is how the test knows the COMMIT
        // was sent.
        let mut tries = 0;
        while account::Entity::find().count(&probe).await.is_ok() {
            tries += 1;
            assert!(tries < 12_000, "the COMMIT never started waiting");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        writer.abort();
        assert!(writer.await.unwrap_err().is_cancelled());
        // The reader goes: the COMMIT, still running, goes through.
        reader.rollback().await.unwrap();
        let mut rows = 0;
        for _ in 0..12_000 {
            rows = account::Entity::find().count(&db).await.unwrap_or(0);
            if rows > 0 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        rows
    });
    assert_eq!(rows, 1, "the dropped transaction committed");
    let records = logs.records(Kind::Audit);
    assert_eq!(kinds(&records).len(), 1, "{records:?}");
    let r = &records[0];
    assert_eq!(r["event_type"], "CREATE");
    assert_eq!(r["instance_repr"]["email"], "inflight@example.com");
    assert_eq!(r["tx_outcome"], "unknown");
    assert_eq!(r["user_id"], "5");
    assert_eq!(r["request_id"], "r-drop");
}

/// A pet belongs to an account: `owner_id` references it, the check
/// deferred to `COMMIT`.
mod pet {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "pet")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub name: String,
        pub owner_id: i32,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new();
    tracing_audit::audited_behavior!(AUDIT);
}

/// A `COMMIT` the database refuses (a deferred foreign key violated, with
/// `PRAGMA foreign_keys=ON`): SQLite does not commit, the error is
/// returned, and the transaction's records are not written; a later one
/// that commits on the same connection writes its own.
#[test]
fn a_commit_the_database_refuses_writes_no_record() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let (failed, pets) = block_on(&logs.dispatch, async {
        open(dir.path()).await;
        let db = orm_support::connect_one(dir.path()).await;
        db.execute_unprepared("PRAGMA foreign_keys=ON")
            .await
            .unwrap();
        db.execute_unprepared(
            "CREATE TABLE pet (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
             owner_id INTEGER NOT NULL REFERENCES account(id) DEFERRABLE INITIALLY DEFERRED)",
        )
        .await
        .unwrap();
        let failed = audited_transaction(&db, |txn| {
            Box::pin(async move {
                let owner = new_account("o@example.com").insert(txn).await?;
                let pet = pet::ActiveModel {
                    name: Set("Rex".to_owned()),
                    // No such account: accepted now, refused at COMMIT.
                    owner_id: Set(owner.id + 1000),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                let mut active = pet.into_active_model();
                active.name = Set("Rex II".to_owned());
                active.update(txn).await?;
                Ok::<_, DbErr>(())
            })
        })
        .await;
        // The connection is usable again, and a commit writes its records.
        audited_transaction(&db, |txn| {
            Box::pin(async move {
                new_account("kept@example.com").insert(txn).await?;
                Ok::<_, DbErr>(())
            })
        })
        .await
        .unwrap();
        let pets = pet::Entity::find().count(&db).await.unwrap();
        (failed, pets)
    });
    match failed {
        Err(TransactionError::Connection(e)) => {
            assert!(e.to_string().contains("FOREIGN KEY"), "{e}");
        }
        other => panic!("the COMMIT should have failed: {other:?}"),
    }
    assert_eq!(pets, 0, "SQLite did not keep the pet");
    let records = logs.records(Kind::Audit);
    assert_eq!(records.len(), 1, "{records:?}");
    assert_eq!(records[0]["instance_repr"]["email"], "kept@example.com");
    assert!(records[0].get("tx_outcome").is_none(), "{:?}", records[0]);
}
