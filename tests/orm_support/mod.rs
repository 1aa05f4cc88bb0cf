//! An audited SeaORM entity (`account`) on a real SQLite file in a
//! temporary directory, and a runtime whose tasks write through the
//! crate's layer.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::path::Path;

use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};
use tracing::instrument::WithSubscriber;
use tracing::Dispatch;

/// An account: `password_hash` is a secret, `updated_at` is excluded.
pub mod account {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "account")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub email: String,
        pub name: String,
        pub role: String,
        pub password_hash: String,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    pub const AUDIT: EntityAudit = EntityAudit::new().exclude(&["updated_at"]);

    #[async_trait::async_trait]
    impl ActiveModelBehavior for ActiveModel {
        async fn before_save<C: ConnectionTrait>(
            self,
            db: &C,
            insert: bool,
        ) -> Result<Self, DbErr> {
            AUDIT.before_save(self, db, insert).await
        }
        async fn after_save<C: ConnectionTrait>(
            model: Model,
            db: &C,
            insert: bool,
        ) -> Result<Model, DbErr> {
            AUDIT.after_save(model, db, insert)
        }
        async fn after_delete<C: ConnectionTrait>(self, _db: &C) -> Result<Self, DbErr> {
            AUDIT.after_delete(self)
        }
    }
}

/// A note: audited with the one-line macro, under its own model name,
/// its snapshot two columns.
pub mod note {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::{EntityAudit, Snapshot};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "note")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub title: String,
        pub body: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new()
        .model("Note")
        .snapshot(Snapshot::Columns(&["id", "title"]));

    tracing_audit::audited_behavior!(AUDIT);
}

/// The `note` table again, audited without reading old values.
pub mod quick_note {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::{EntityAudit, OldValues};

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "note")]
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

/// The secret every account is given: it must never reach a file.
pub const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$SECRETHASHVALUE";

/// Opens (creating) `dir/app.db` with the `account` table.
pub async fn open(dir: &Path) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    let mut options = ConnectOptions::new(url);
    options.max_connections(4).sqlx_logging(false);
    let db = Database::connect(options).await.unwrap();
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS account (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            email TEXT NOT NULL, name TEXT NOT NULL, role TEXT NOT NULL,
            password_hash TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    )
    .await
    .unwrap();
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS note (
            id INTEGER PRIMARY KEY AUTOINCREMENT, title TEXT NOT NULL, body TEXT NOT NULL)",
    )
    .await
    .unwrap();
    db
}

/// A second handle on `dir/app.db`: a pool of one connection, on which
/// a `PRAGMA` holds for every statement.
pub async fn connect_one(dir: &Path) -> DatabaseConnection {
    let url = format!("sqlite://{}?mode=rwc", dir.join("app.db").display());
    let mut options = ConnectOptions::new(url);
    options
        .max_connections(1)
        .min_connections(1)
        .sqlx_logging(false);
    Database::connect(options).await.unwrap()
}

/// A new account's active model.
pub fn new_account(email: &str) -> account::ActiveModel {
    use sea_orm::ActiveValue::Set;
    account::ActiveModel {
        email: Set(email.to_owned()),
        name: Set(email.split('@').next().unwrap_or("").to_owned()),
        role: Set("member".to_owned()),
        password_hash: Set(HASH.to_owned()),
        updated_at: Set(1),
        ..Default::default()
    }
}

/// Runs `f` on a two-thread runtime, its tasks writing through `dispatch`.
pub fn block_on<F: Future>(dispatch: &Dispatch, f: F) -> F::Output {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
        .block_on(f.with_subscriber(dispatch.clone()))
}
