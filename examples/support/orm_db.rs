//! The SQLite database of the SeaORM cost examples (`orm_overhead`,
//! `orm_calls`), configured as a careful user would: one connection,
//! WAL with `synchronous=NORMAL`, SQLx's statement cache on, no ping
//! before each statement; the `item` table every arm writes, and its
//! three entities: `plain` (SeaORM's default behavior), `audited` (the
//! crate's defaults: the old row read before an update) and `not_read`
//! (`OldValues::NotRead`), `updated_at` excluded from both audits.

use std::path::Path;

use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{ConnectOptions, ConnectionTrait, Database, DatabaseConnection};

/// A fresh database file at `path` holding an empty `item` table.
pub async fn item_db(path: &Path) -> Result<DatabaseConnection, sea_orm::DbErr> {
    let mut options = ConnectOptions::new(format!("sqlite://{}?mode=rwc", path.display()));
    options
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false)
        .sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| {
            o.journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        });
    let db = Database::connect(options).await?;
    db.execute_unprepared(
        "CREATE TABLE item (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL,
         price INTEGER NOT NULL, updated_at INTEGER NOT NULL)",
    )
    .await?;
    Ok(db)
}

macro_rules! item_entity {
    ($name:ident, $($behavior:tt)*) => {
        pub mod $name {
            use sea_orm::entity::prelude::*;

            #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
            #[sea_orm(table_name = "item")]
            pub struct Model {
                #[sea_orm(primary_key)]
                pub id: i32,
                pub name: String,
                pub price: i64,
                pub updated_at: i64,
            }

            #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
            pub enum Relation {}

            $($behavior)*
        }
    };
}

item_entity!(plain, impl ActiveModelBehavior for ActiveModel {});
item_entity!(audited,
    const AUDIT: tracing_audit::orm::EntityAudit =
        tracing_audit::orm::EntityAudit::new().exclude(&["updated_at"]);
    tracing_audit::audited_behavior!(AUDIT);
);
item_entity!(not_read,
    const AUDIT: tracing_audit::orm::EntityAudit = tracing_audit::orm::EntityAudit::new()
        .exclude(&["updated_at"])
        .old_values(tracing_audit::orm::OldValues::NotRead);
    tracing_audit::audited_behavior!(AUDIT);
);
