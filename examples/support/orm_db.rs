//! The SQLite database of the SeaORM cost examples (`orm_overhead`,
//! `orm_calls`), configured as a careful user would: one connection,
//! WAL with `synchronous=NORMAL`, SQLx's statement cache on, no ping
//! before each statement; the `item` table every arm writes, and its
//! three entities: `plain` (SeaORM's default behavior), `audited` (the
//! crate's defaults: the old row read before an update) and `not_read`
//! (`OldValues::NotRead`), `updated_at` excluded from both audits; and
//! `plain_read`, no audit but the read the default adds: before every
//! update, the same `SELECT` of the row by its primary key, decoded into
//! a `Model` (the floor of what reading the old row costs).

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

item_entity! {
    plain_read,
    #[async_trait::async_trait]
    impl ActiveModelBehavior for ActiveModel {
        async fn before_save<C>(self, db: &C, insert: bool) -> Result<Self, DbErr>
        where
            C: ConnectionTrait,
        {
            use sea_orm::{ActiveValue, FromQueryResult, QueryTrait, Statement};

            /// The `SELECT` the crate's read runs (built as it builds it,
            /// once).
            static READ_SQL: std::sync::OnceLock<String> = std::sync::OnceLock::new();
            let id = match &self.id {
                ActiveValue::Set(id) | ActiveValue::Unchanged(id) => *id,
                ActiveValue::NotSet => return Ok(self),
            };
            if !insert {
                let backend = db.get_database_backend();
                let sql = READ_SQL
                    .get_or_init(|| Entity::find().filter(Column::Id.eq(0)).build(backend).sql);
                let stmt = Statement::from_sql_and_values(backend, sql.as_str(), [id.into()]);
                if let Some(row) = db.query_one_raw(stmt).await? {
                    std::hint::black_box(Model::from_query_result(&row, "")?);
                }
            }
            Ok(self)
        }
    }
}
