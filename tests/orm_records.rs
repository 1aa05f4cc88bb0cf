//! SeaORM hooks on a real SQLite file: every insert, update and delete
//! through SeaORM writes one CRUD record, with the table as `model`, the
//! primary key as `instance_id`, the changes old and new, and the user and
//! request id of the span it runs in; a secret column never appears.

#![cfg(feature = "sea-orm")]

mod common;
mod orm_support;

use common::records::{check_envelope, Logs, Record};
use orm_support::{block_on, new_account, note, open, HASH};
use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, IntoActiveModel, ModelTrait};
use serde_json::json;
use tracing::Instrument;
use tracing_audit::Kind;

fn crud(logs: &Logs) -> Vec<Record> {
    let records = logs.records(Kind::Audit);
    for r in &records {
        check_envelope(r, Some("AUDIT"));
        assert_eq!(r["name"], "audit.crud");
    }
    records
}

#[test]
fn insert_update_of_two_columns_and_delete_each_write_one_record_with_the_span_context() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let id = block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let request = tracing::info_span!("request", request_id = "r-42", user_id = "7");
        async {
            let created = new_account("ada@example.com").insert(&db).await.unwrap();
            let mut active = created.clone().into_active_model();
            active.name = Set("Ada L.".to_owned());
            active.role = Set("admin".to_owned());
            active.updated_at = Set(2);
            let updated = active.update(&db).await.unwrap();
            assert_eq!(updated.role, "admin");
            updated.delete(&db).await.unwrap();
            created.id
        }
        .instrument(request)
        .await
    });
    let records = crud(&logs);
    let kinds: Vec<_> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CREATE", "UPDATE", "DELETE"]);
    for r in &records {
        assert_eq!(r["model"], "account");
        assert_eq!(r["instance_id"], id.to_string());
        assert_eq!(r["user_id"], "7");
        assert_eq!(r["request_id"], "r-42");
    }
    // The update: exactly the two columns, old and new; `updated_at` is
    // excluded.
    assert_eq!(
        records[1]["changes"],
        json!({"name": {"old": "ada", "new": "Ada L."}, "role": {"old": "member", "new": "admin"}})
    );
    assert_eq!(records[0]["changes"], json!({}));
    // Snapshots: every column but the excluded one, the secret masked.
    let created = &records[0]["instance_repr"];
    assert_eq!(created["email"], "ada@example.com");
    assert_eq!(created["id"], id);
    assert!(created.get("updated_at").is_none(), "{created}");
    assert_eq!(records[1]["instance_repr"]["role"], "admin");
    assert_eq!(records[2]["instance_repr"]["name"], "Ada L.");
    assert_eq!(
        records[0]["message"],
        format!("CREATE event for account (id: {id})")
    );
}

#[test]
fn an_update_that_changes_nothing_audited_writes_no_record() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let created = new_account("bob@example.com").insert(&db).await.unwrap();
        // Set to the values it already has.
        let mut same = created.clone().into_active_model();
        same.name = Set(created.name.clone());
        same.role = Set(created.role.clone());
        same.update(&db).await.unwrap();
        // Only the excluded column.
        let mut touched = created.clone().into_active_model();
        touched.updated_at = Set(99);
        let touched = touched.update(&db).await.unwrap();
        assert_eq!(touched.updated_at, 99);
        // Nothing set at all.
        created
            .clone()
            .into_active_model()
            .update(&db)
            .await
            .unwrap();
        // A real change afterwards is still recorded.
        let mut active = touched.into_active_model();
        active.email = Set("bob@example.org".to_owned());
        active.update(&db).await.unwrap();
    });
    let records = crud(&logs);
    let kinds: Vec<_> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CREATE", "UPDATE"]);
    assert_eq!(
        records[1]["changes"],
        json!({"email": {"old": "bob@example.com", "new": "bob@example.org"}})
    );
}

#[test]
fn a_secret_column_never_appears_in_any_record() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let created = new_account("eve@example.com").insert(&db).await.unwrap();
        let mut active = created.into_active_model();
        active.password_hash = Set(format!("{HASH}-rotated"));
        active.name = Set("Eve".to_owned());
        let updated = active.update(&db).await.unwrap();
        updated.delete(&db).await.unwrap();
    });
    let text = std::fs::read_to_string(logs.path(Kind::Audit)).unwrap();
    assert!(!text.contains("SECRETHASHVALUE"), "{text}");
    assert!(!text.contains("argon2"), "{text}");
    let records = crud(&logs);
    assert_eq!(records.len(), 3);
    assert_eq!(records[0]["instance_repr"]["password_hash"], "[REDACTED]");
    assert_eq!(
        records[1]["changes"]["password_hash"],
        json!({"old": "[REDACTED]", "new": "[REDACTED]"})
    );
    assert_eq!(records[1]["changes"]["name"]["new"], "Eve");
    assert_eq!(records[2]["instance_repr"]["password_hash"], "[REDACTED]");
}

#[test]
fn eight_concurrent_tasks_writing_different_rows_each_carry_their_own_user() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let mut tasks = Vec::new();
        for n in 0..8 {
            let db = db.clone();
            let span = tracing::info_span!(
                "request",
                request_id = format!("r-{n}"),
                user_id = tracing::field::Empty
            );
            let task = async move {
                tracing_audit::set_user(format!("user-{n}"));
                for round in 0..5 {
                    let created = new_account(&format!("u{n}-{round}@example.com"))
                        .insert(&db)
                        .await
                        .unwrap();
                    tokio::task::yield_now().await;
                    let mut active = created.into_active_model();
                    active.name = Set(format!("task {n} round {round}"));
                    let updated = active.update(&db).await.unwrap();
                    tokio::task::yield_now().await;
                    updated.delete(&db).await.unwrap();
                }
            }
            .instrument(span);
            tasks.push(tokio::spawn(
                tracing::instrument::WithSubscriber::with_current_subscriber(task),
            ));
        }
        for task in tasks {
            task.await.unwrap();
        }
    });
    let records = crud(&logs);
    assert_eq!(records.len(), 8 * 5 * 3);
    for r in &records {
        let n = r["request_id"]
            .as_str()
            .unwrap()
            .strip_prefix("r-")
            .unwrap();
        assert_eq!(r["user_id"], format!("user-{n}"), "{r:?}");
        // The row is the task's own.
        let email = r["instance_repr"]["email"].as_str().unwrap();
        assert!(email.starts_with(&format!("u{n}-")), "{r:?}");
        if r["event_type"] == "UPDATE" {
            assert!(r["changes"]["name"]["new"]
                .as_str()
                .unwrap()
                .starts_with(&format!("task {n} ")));
        }
    }
    for kind in ["CREATE", "UPDATE", "DELETE"] {
        assert_eq!(
            records.iter().filter(|r| r["event_type"] == kind).count(),
            40,
            "{kind}"
        );
    }
}

#[test]
fn an_entity_audited_by_the_macro_has_its_model_name_and_snapshot_columns() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let created = note::ActiveModel {
            title: Set("Minutes".to_owned()),
            body: Set("long text".to_owned()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        let mut active = created.into_active_model();
        active.body = Set("longer text".to_owned());
        let updated = active.update(&db).await.unwrap();
        updated.delete(&db).await.unwrap();
    });
    let records = crud(&logs);
    let kinds: Vec<_> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CREATE", "UPDATE", "DELETE"]);
    for r in &records {
        assert_eq!(r["model"], "Note");
        assert_eq!(r["instance_repr"], json!({"id": 1, "title": "Minutes"}));
    }
    // Changes cover every column, not only the snapshot's.
    assert_eq!(
        records[1]["changes"],
        json!({"body": {"old": "long text", "new": "longer text"}})
    );
}

/// Two updates of one row at once on one connection, in one task and span
/// (`join!`): they share the key the old rows wait under, and each still
/// writes its UPDATE record (before, the second row replaced the first and
/// one update went unrecorded).
#[test]
fn two_updates_of_one_row_at_once_on_one_connection_each_write_a_record() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let created = new_account("bo@example.com").insert(&db).await.unwrap();
        let mut a = created.clone().into_active_model();
        a.name = Set("first".to_owned());
        let mut b = created.into_active_model();
        b.role = Set("admin".to_owned());
        let (a, b) = tokio::join!(a.update(&db), b.update(&db));
        a.unwrap();
        b.unwrap();
    });
    let updates: Vec<Record> = crud(&logs)
        .into_iter()
        .filter(|r| r["event_type"] == "UPDATE")
        .collect();
    assert_eq!(updates.len(), 2, "{updates:?}");
}

#[test]
fn old_values_not_read_list_the_set_columns_with_their_new_values_only() {
    use orm_support::quick_note;
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let id = block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let created = quick_note::ActiveModel {
            title: Set("Draft".to_owned()),
            body: Set("text".to_owned()),
            ..Default::default()
        }
        .insert(&db)
        .await
        .unwrap();
        // The title changes; the body is set to the value it has.
        let mut active = created.clone().into_active_model();
        active.title = Set("Final".to_owned());
        active.body = Set("text".to_owned());
        active.update(&db).await.unwrap();
        // Nothing set: no record.
        created
            .clone()
            .into_active_model()
            .update(&db)
            .await
            .unwrap();
        // Unchanged (`set_if_not_equals` to the same value): no record.
        let mut same = created.clone().into_active_model();
        same.body.set_if_not_equals("text".to_owned());
        same.update(&db).await.unwrap();
        created.id
    });
    let records = crud(&logs);
    let kinds: Vec<_> = records
        .iter()
        .map(|r| r["event_type"].as_str().unwrap())
        .collect();
    assert_eq!(kinds, ["CREATE", "UPDATE"]);
    let update = &records[1];
    assert_eq!(update["instance_id"], id.to_string());
    assert_eq!(
        update["changes"],
        json!({
            "title": {"old": tracing_audit::orm::OLD_NOT_READ, "new": "Final"},
            "body": {"old": tracing_audit::orm::OLD_NOT_READ, "new": "text"},
        })
    );
    assert_eq!(update["instance_repr"]["title"], "Final");
}

/// `instance_repr` as written, byte for byte: its keys in the order of
/// their names (as every JSON object of a record), not the entity's
/// column order (`id, email, name, role, password_hash`).
#[test]
fn the_snapshot_is_written_with_its_keys_in_name_order() {
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    let id = block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        new_account("cy@example.com").insert(&db).await.unwrap().id
    });
    let lines = logs.lines(Kind::Audit);
    assert_eq!(lines.len(), 1);
    let expected = format!(
        r#""instance_repr":{{"email":"cy@example.com","id":{id},"name":"cy","password_hash":"[REDACTED]","role":"member"}}"#
    );
    assert!(lines[0].text.contains(&expected), "{}", lines[0].text);
}

/// The old values are the row as the database holds it when the update
/// runs, not as the application loaded it: a change another writer made
/// in between (here raw SQL on a second connection) is the `old` side.
#[test]
fn the_old_value_is_the_databases_even_after_another_writer_changed_the_row() {
    use sea_orm::ConnectionTrait;
    let logs = Logs::new();
    let dir = tempfile::tempdir().unwrap();
    block_on(&logs.dispatch, async {
        let db = open(dir.path()).await;
        let loaded = new_account("dee@example.com").insert(&db).await.unwrap();
        let other = orm_support::connect_one(dir.path()).await;
        other
            .execute_unprepared(&format!(
                "UPDATE account SET role = 'auditor' WHERE id = {}",
                loaded.id
            ))
            .await
            .unwrap();
        let mut active = loaded.into_active_model();
        active.role = Set("owner".to_owned());
        active.update(&db).await.unwrap();
    });
    let records = crud(&logs);
    assert_eq!(records.len(), 2, "{records:?}");
    assert_eq!(
        records[1]["changes"],
        json!({"role": {"old": "auditor", "new": "owner"}})
    );
}
