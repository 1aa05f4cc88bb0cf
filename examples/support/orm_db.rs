//! The SQLite database of the SeaORM cost examples (`orm_overhead`,
//! `orm_calls`), configured as a careful user would: one connection,
//! WAL with `synchronous=NORMAL`, SQLx's statement cache on, no ping
//! before each statement; and the `item` table every arm writes.

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
