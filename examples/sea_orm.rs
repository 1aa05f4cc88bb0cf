//! SeaORM with an audited entity: every insert, update and delete writes
//! its CRUD record to `audit.log` with no call in the application code.
//!
//! ```text
//! cargo run --features sea-orm --example sea_orm
//! ```
//!
//! The SQLite file and the audit files go to a fresh temporary directory
//! (`<tmp>/app.db`, `<tmp>/audit/audit.log`), removed at the end; the
//! records are printed. Exits 1 if `audit.log` does not hold exactly the
//! records this program expects.

use sea_orm::sea_query::Expr;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectOptions, ConnectionTrait, Database, DbErr, EntityTrait,
    IntoActiveModel, ModelTrait, QueryFilter,
};
use tracing::Instrument;
use tracing_audit::orm::audited_transaction;

/// The entity: one `const` and one line make it audited.
mod account {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "account")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i32,
        pub email: String,
        pub role: String,
        pub password_hash: String,
        pub updated_at: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    /// `updated_at` changes on every save: left out of the records.
    pub const AUDIT: EntityAudit = EntityAudit::new().exclude(&["updated_at"]);

    tracing_audit::audited_behavior!(AUDIT);
}

fn new_account(email: &str, now: i64) -> account::ActiveModel {
    account::ActiveModel {
        email: Set(email.to_owned()),
        role: Set("member".to_owned()),
        // A secret column: written as "[REDACTED]", never as its value.
        password_hash: Set("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".to_owned()),
        updated_at: Set(now),
        ..Default::default()
    }
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = tempfile::tempdir()?;
    let guard = tracing_audit::builder()
        .service_name("sea_orm_example")
        .log_dir(dir.path().join("audit"))
        .console(false)
        .init()?;

    let url = format!("sqlite://{}?mode=rwc", dir.path().join("app.db").display());
    let mut options = ConnectOptions::new(url);
    options.sqlx_logging(false);
    let db = Database::connect(options).await?;
    db.execute_unprepared(
        "CREATE TABLE account (id INTEGER PRIMARY KEY AUTOINCREMENT, email TEXT NOT NULL,
         role TEXT NOT NULL, password_hash TEXT NOT NULL, updated_at INTEGER NOT NULL)",
    )
    .await?;

    // A request: its span gives every record the request id and the user.
    let request = tracing::info_span!("request", request_id = "r-1", user_id = "7");
    async {
        // CREATE, UPDATE (changes: role), DELETE.
        let ada = new_account("ada@example.com", 1).insert(&db).await?;
        let mut active = ada.into_active_model();
        active.role = Set("admin".to_owned());
        active.updated_at = Set(2);
        let ada = active.update(&db).await?;

        // Written only because the transaction commits: two CREATEs.
        audited_transaction(&db, |txn| {
            Box::pin(async move {
                new_account("bob@example.com", 3).insert(txn).await?;
                new_account("cy@example.com", 3).insert(txn).await?;
                Ok::<_, DbErr>(())
            })
        })
        .await?;

        // Rolled back: neither the row nor its record exists.
        let rolled_back = audited_transaction(&db, |txn| {
            Box::pin(async move {
                new_account("eve@example.com", 4).insert(txn).await?;
                Err::<(), _>(DbErr::Custom("payment declined".into()))
            })
        })
        .await;
        assert!(rolled_back.is_err());

        // A bulk statement bypasses the hooks: the helper writes one
        // BULK_UPDATE with the ids it touched.
        account::AUDIT
            .update_many(
                &db,
                account::Entity::update_many()
                    .col_expr(account::Column::Role, Expr::value("guest"))
                    .filter(account::Column::Email.ne("ada@example.com")),
            )
            .await?;

        ada.delete(&db).await?;
        Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
    }
    .instrument(request)
    .await
    .map_err(|e| e as Box<dyn std::error::Error>)?;

    let report = guard.shutdown();
    let audit = std::fs::read_to_string(dir.path().join("audit/audit.log"))?;
    let mut kinds = Vec::new();
    for line in audit.lines() {
        println!("{line}");
        let record: serde_json::Value = serde_json::from_str(line)?;
        kinds.push(record["event_type"].as_str().unwrap_or("?").to_owned());
    }
    let expected = [
        "CREATE",
        "UPDATE",
        "CREATE",
        "CREATE",
        "BULK_UPDATE",
        "DELETE",
    ];
    if kinds != expected || audit.contains("argon2") || report.lost() > 0 {
        eprintln!("audit.log holds {kinds:?}, expected {expected:?} without the password hash");
        std::process::exit(1);
    }
    eprintln!("{} records in audit.log, as expected", kinds.len());
    Ok(())
}
