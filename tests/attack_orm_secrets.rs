//! Attack on the SeaORM hooks with secrets in every place a row can put
//! them: a token as the primary key, secret-named columns, a JSON column
//! holding a secret, bytes holding one, a text column with a connection
//! URL; inserted, updated and deleted through SeaORM on a real SQLite
//! file, then every written file searched for the raw secrets.

#![cfg(feature = "sea-orm")]

mod common;

use common::records::Logs;
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ActiveModelTrait, ConnectOptions, ConnectionTrait, Database, IntoActiveModel, ModelTrait,
};
use tracing::instrument::WithSubscriber;
use tracing_audit::Kind;

mod vault_item {
    use sea_orm::entity::prelude::*;
    use tracing_audit::orm::EntityAudit;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "vault_item")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub api_token: String,
        pub secret: Option<String>,
        pub settings: Json,
        pub blob: Vec<u8>,
        pub notes: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    const AUDIT: EntityAudit = EntityAudit::new();

    tracing_audit::audited_behavior!(AUDIT);
}

#[test]
fn secrets_in_keys_columns_json_bytes_and_text_never_reach_a_file() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.path().join("v.db").display());
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(
            async {
                let mut options = ConnectOptions::new(url);
                options.max_connections(1).sqlx_logging(false);
                let db = Database::connect(options).await.unwrap();
                db.execute_unprepared(
                    "CREATE TABLE vault_item (id TEXT PRIMARY KEY, api_token TEXT NOT NULL,
                     secret TEXT, settings TEXT NOT NULL, blob BLOB NOT NULL, notes TEXT NOT NULL)",
                )
                .await
                .unwrap();
                let row = vault_item::ActiveModel {
                    id: Set("sk_live_ormkey0123456789ABCD".into()),
                    api_token: Set("orm-col-token-1".into()),
                    secret: Set(Some("orm-col-secret-2".into())),
                    settings: Set(serde_json::json!({
                        "theme": "dark",
                        "smtp": {"password": "orm-json-pw-3"},
                        "hooks": ["https://bob:orm-json-url-4@example.com/h"],
                    })),
                    blob: Set(b"orm-blob-5".to_vec()),
                    notes: Set("moved from postgres://app:orm-notes-6@db/shop".into()),
                }
                .insert(&db)
                .await
                .unwrap();
                let mut active = row.into_active_model();
                active.api_token = Set("orm-col-token-7".into());
                active.settings = Set(serde_json::json!({
                    "theme": "light",
                    "smtp": {"password": "orm-json-pw-8"},
                    "hooks": [],
                }));
                active.notes = Set("Authorization: Bearer ormNotesBearer9xyz".into());
                let row = active.update(&db).await.unwrap();
                row.delete(&db).await.unwrap();
            }
            .with_subscriber(logs.dispatch.clone()),
        );
    let audit = logs.records(Kind::Audit);
    let kinds: Vec<&str> = audit
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CREATE", "UPDATE", "DELETE"], "{audit:?}");
    let mut all = String::new();
    for entry in std::fs::read_dir(logs.dir.path()).unwrap() {
        let path = entry.unwrap().path();
        if path.is_file() {
            all.push_str(&String::from_utf8_lossy(&std::fs::read(&path).unwrap()));
        }
    }
    let leaked: Vec<&str> = [
        "ormkey0123456789",
        "orm-col-token-1",
        "orm-col-secret-2",
        "orm-json-pw-3",
        "orm-json-url-4",
        "orm-blob-5",
        "orm-notes-6",
        "orm-col-token-7",
        "orm-json-pw-8",
        "ormNotesBearer9xyz",
    ]
    .into_iter()
    .filter(|s| all.contains(s))
    .collect();
    assert!(leaked.is_empty(), "leaked {leaked:?}:\n{all}");
    // What is not secret is still there.
    assert_eq!(
        audit[1]["changes"]["settings.theme"]["new"], "light",
        "{all}"
    );
}
