//! Attack on how an update's old row (read in `before_save`) is paired
//! with its saved model (in `after_save`): an update the database refuses
//! between the two hooks (a CHECK or UNIQUE constraint, a row gone) never
//! reaches `after_save`, and what it kept must not be taken by the next
//! update of that row, which would then record another update's old
//! values, or, with `OldValues::NotRead`, list the refused update's
//! columns instead of its own. A real SQLite file through SeaORM.

#![cfg(feature = "sea-orm")]

mod common;

use std::path::Path;

use common::records::{Logs, Record};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    IntoActiveModel,
};
use serde_json::json;
use tracing::instrument::WithSubscriber;
use tracing_audit::Kind;

mod doc {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "doc")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new();

    tracing_audit::audited_behavior!(AUDIT);
}

mod quick_doc {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::{EntityAudit, OldValues};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "doc")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new().old_values(OldValues::NotRead);

    tracing_audit::audited_behavior!(AUDIT);
}

/// A SQLite file with a `doc` table whose title may not be `refused`.
async fn open(dir: &Path) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join("docs.db").display());
    let mut options = ConnectOptions::new(url);
    options.max_connections(1).sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE doc (id INTEGER PRIMARY KEY AUTOINCREMENT,
            title TEXT NOT NULL CHECK (title <> 'refused'), body TEXT NOT NULL)",
    )
    .await
    .unwrap();
    db
}

fn run<F: std::future::Future>(logs: &Logs, f: F) -> F::Output {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(f.with_subscriber(logs.dispatch.clone()))
}

fn updates(logs: &Logs) -> Vec<Record> {
    logs.records(Kind::Audit)
        .into_iter()
        .filter(|r| r["event_type"] == "UPDATE")
        .collect()
}

#[test]
fn an_update_refused_by_the_database_does_not_lend_its_old_row_to_later_updates() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    run(&logs, async {
        let db = open(dir.path()).await;
        let row = doc::ActiveModel {
            title: Set("v1".into()),
            body: Set("b".into()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let mut refused = row.clone().into_active_model();
        refused.title = Set("refused".into());
        assert!(refused.update(&db).await.is_err(), "the CHECK refuses it");
        let mut second = row.into_active_model();
        second.title = Set("v2".into());
        let row = second.update(&db).await.unwrap();
        let mut third = row.into_active_model();
        third.title = Set("v3".into());
        third.update(&db).await.unwrap();
    });
    let updates = updates(&logs);
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(
        updates[0]["changes"],
        json!({"title": {"old": "v1", "new": "v2"}})
    );
    assert_eq!(
        updates[1]["changes"],
        json!({"title": {"old": "v2", "new": "v3"}}),
        "the third update's old value is the second's new one"
    );
}

#[test]
fn with_old_values_not_read_a_refused_update_does_not_replace_the_next_ones_columns() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    run(&logs, async {
        let db = open(dir.path()).await;
        let row = quick_doc::ActiveModel {
            title: Set("v1".into()),
            body: Set("b1".into()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let mut refused = row.clone().into_active_model();
        refused.title = Set("refused".into());
        assert!(refused.update(&db).await.is_err(), "the CHECK refuses it");
        let mut body_only = row.into_active_model();
        body_only.body = Set("b2".into());
        body_only.update(&db).await.unwrap();
    });
    let updates = updates(&logs);
    assert_eq!(updates.len(), 1, "{updates:?}");
    assert_eq!(
        updates[0]["changes"],
        json!({"body": {"old": "[not read]", "new": "b2"}}),
        "the body changed, not the title"
    );
}

mod tag {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tag")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub label: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new();

    tracing_audit::audited_behavior!(AUDIT);
}

mod quick_tag {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::{EntityAudit, OldValues};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "tag")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub code: String,
        pub label: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new().old_values(OldValues::NotRead);

    tracing_audit::audited_behavior!(AUDIT);
}

/// A string primary key compared without case by the database (SQLite's
/// `COLLATE NOCASE`, MySQL's default collations, PostgreSQL's `citext`):
/// an update addressed as `BOB` changes the row `bob`, and the database
/// returns the row as stored. The update is recorded all the same, under
/// the key as stored.
#[test]
fn an_update_addressed_by_a_key_in_another_case_is_recorded() {
    use sea_orm::ActiveValue::Unchanged;
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    run(&logs, async {
        let db = open(dir.path()).await;
        db.execute_unprepared(
            "CREATE TABLE tag (code TEXT PRIMARY KEY COLLATE NOCASE, label TEXT NOT NULL)",
        )
        .await
        .unwrap();
        tag::ActiveModel {
            code: Set("bob".into()),
            label: Set("one".into()),
        }
        .insert(&db)
        .await
        .unwrap();
        let saved = tag::ActiveModel {
            code: Unchanged("BOB".into()),
            label: Set("two".into()),
        }
        .update(&db)
        .await
        .unwrap();
        assert_eq!(saved.code, "bob", "the row as stored");
        quick_tag::ActiveModel {
            code: Unchanged("Bob".into()),
            label: Set("three".into()),
        }
        .update(&db)
        .await
        .unwrap();
    });
    let updates = updates(&logs);
    assert_eq!(updates.len(), 2, "{updates:?}");
    assert_eq!(updates[0]["instance_id"], "bob");
    assert_eq!(
        updates[0]["changes"],
        json!({"label": {"old": "one", "new": "two"}})
    );
    assert_eq!(
        updates[1]["changes"],
        json!({"label": {"old": "[not read]", "new": "three"}})
    );
}

/// A savepoint (an audited transaction inside another) that fails: its
/// records go with it, the outer transaction's stay and are written once
/// it commits; a savepoint that succeeds has its records written with
/// the outer commit, not before.
#[test]
fn a_failed_savepoint_drops_only_its_own_records() {
    use sea_orm::DbErr;
    use tracing_audit::orm::audited_transaction;
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    run(&logs, async {
        let db = open(dir.path()).await;
        let inner_failed = audited_transaction(&db, |txn| {
            Box::pin(async move {
                doc::ActiveModel {
                    title: Set("outer".into()),
                    body: Set("o".into()),
                    ..Default::default()
                }
                .insert(txn)
                .await?;
                let failed = audited_transaction(txn, |sp| {
                    Box::pin(async move {
                        doc::ActiveModel {
                            title: Set("in-failed-savepoint".into()),
                            body: Set("x".into()),
                            ..Default::default()
                        }
                        .insert(sp)
                        .await?;
                        Err::<(), DbErr>(DbErr::Custom("give up".into()))
                    })
                })
                .await;
                assert!(failed.is_err());
                audited_transaction(txn, |sp| {
                    Box::pin(async move {
                        doc::ActiveModel {
                            title: Set("in-kept-savepoint".into()),
                            body: Set("y".into()),
                            ..Default::default()
                        }
                        .insert(sp)
                        .await?;
                        Ok::<(), DbErr>(())
                    })
                })
                .await
                .map_err(|e| DbErr::Custom(e.to_string()))?;
                Ok::<(), DbErr>(())
            })
        })
        .await;
        assert!(inner_failed.is_ok(), "{inner_failed:?}");
    });
    let titles: Vec<String> = logs
        .records(Kind::Audit)
        .iter()
        .map(|r| {
            r["instance_repr"]["title"]
                .as_str()
                .unwrap_or("")
                .to_owned()
        })
        .collect();
    assert_eq!(titles, ["outer", "in-kept-savepoint"]);
}
