//! What auditing costs a SeaORM insert and update, for instruction
//! counts: a fixed number of rows inserted, then each updated once (one
//! column and an excluded one), through SeaORM on SQLite (WAL,
//! `synchronous=NORMAL`, one connection, as `orm_overhead` sets it up),
//! with the entity `plain` (no hooks), `audited` (the default: each
//! update reads the old row) or `not_read` (`OldValues::NotRead`).
//!
//! ```text
//! cargo build --release --all-features --example orm_calls
//! # instructions per row (one insert and one update): the difference of
//! # two runs over the difference of their row counts (start-up cancels
//! # out); callgrind counts every thread (sqlx's SQLite worker, the
//! # appender's writer)
//! for mode in plain audited not_read; do for n in 2000 6000; do
//!   valgrind --tool=callgrind --callgrind-out-file=cg.$mode.$n \
//!     target/release/examples/orm_calls $mode $n 2>&1 | grep -o 'refs: .*'
//! done; done
//! callgrind_annotate --inclusive=yes cg.audited.6000 | head -60
//! ```
//!
//! The run exits 1 unless `audit.log` holds exactly `2 × rows` records
//! (0 for `plain`).

#[path = "support/orm_db.rs"]
#[allow(dead_code)] // `plain_read` is `orm_overhead`'s
mod orm_db;

use std::process::ExitCode;

use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use orm_db::{audited, not_read, plain};

fn main() -> ExitCode {
    match run() {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("orm_calls: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run() -> Result<bool, Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "audited".to_owned());
    let n: usize = args.next().map_or(Ok(2000), |s| s.parse())?;
    if !["plain", "audited", "not_read"].contains(&mode.as_str()) {
        return Err(format!("mode {mode:?}: plain, audited or not_read").into());
    }
    let dir = tempfile::tempdir()?;
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.path().join("audit"))
        .service_name("orm_calls")
        .max_file_size(None)
        .build()?;
    tracing_subscriber::registry().with(layer).init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let request = tracing::info_span!("request", request_id = "r-calls", user_id = "7");
    let db_path = dir.path().join("orm_calls.db");
    runtime.block_on(rows(&mode, &db_path, n).instrument(request))?;
    guard.flush()?;
    let log = dir.path().join("audit/audit.log");
    let found = match std::fs::read(&log) {
        Ok(bytes) => bytes.iter().filter(|b| **b == b'\n').count(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0,
        Err(e) => return Err(e.into()),
    };
    let expected = if mode == "plain" { 0 } else { 2 * n };
    println!("orm_calls {mode} {n}: {found} records");
    if found != expected {
        eprintln!("audit.log holds {found} records, expected {expected}");
        return Ok(false);
    }
    Ok(true)
}

async fn rows(mode: &str, path: &std::path::Path, n: usize) -> Result<(), sea_orm::DbErr> {
    let db = orm_db::item_db(path).await?;
    macro_rules! phases {
        ($entity:ident) => {{
            let mut rows = Vec::with_capacity(n);
            for i in 0..n {
                let am = $entity::ActiveModel {
                    name: Set(format!("item {i}")),
                    price: Set(i as i64),
                    updated_at: Set(0),
                    ..Default::default()
                };
                rows.push(am.insert(&db).await?);
            }
            for row in rows {
                let price = row.price;
                let mut am = row.into_active_model();
                am.price = Set(price + 1);
                am.updated_at = Set(1);
                am.update(&db).await?;
            }
        }};
    }
    match mode {
        "plain" => phases!(plain),
        "audited" => phases!(audited),
        _ => phases!(not_read),
    }
    Ok(())
}
