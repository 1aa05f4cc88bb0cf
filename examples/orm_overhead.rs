//! What auditing costs SeaORM: rows/s of inserts and of updates through
//! SeaORM on SQLite, with an audited entity and with the same entity not
//! audited, alternating in one run.
//!
//! ```text
//! cargo run --release --all-features --example orm_overhead
//! cargo run --release --all-features --example orm_overhead -- --records 500 --rounds 1   # smoke
//! ```
//!
//! Options: `--records N` (rows per phase, default 10,000), `--rounds R`
//! (default 3), `--dir PATH` (default a fresh temporary directory).
//!
//! # What is measured
//!
//! Each round runs four arms, in an order that turns by one every round
//! (`plain`, `audited`, `not_read`, `plain_read`; then `audited`,
//! `not_read`, `plain_read`, `plain`; …). An arm creates a fresh SQLite file with one table, then times N
//! `ActiveModel::insert`s, then N `ActiveModel::update`s of one column of
//! each row (one `await` after another, on a current-thread tokio
//! runtime).
//!
//! SQLite is configured the same in every arm, as a careful user would:
//! one pool of exactly one connection (`max_connections(1)`,
//! `min_connections(1)`), opened with `journal_mode=WAL` and
//! `synchronous=NORMAL` (SQLx's connect options, so any connection the
//! pool makes has them), SQLx's prepared statement cache on (its default,
//! 100 statements), and no ping of the connection before each query
//! (`test_before_acquire(false)`: SeaORM's default pings a local file
//! before every statement). The entities have the same columns: `plain`
//! has the default `ActiveModelBehavior`; `audited` has
//! `tracing_audit::audited_behavior!` with the default settings (each
//! update also reads the old row, see the `orm` module); `not_read` the
//! same with `OldValues::NotRead` (no read; `changes` without old
//! values); `plain_read` is not audited but runs, before each update, the
//! `SELECT` the default adds (the same SQL, decoded into a `Model`): the
//! floor of reading the old row, whoever reads it. The crate's layer (`layer().log_dir(dir)`, no console, no size
//! rotation so that one file holds every record) is the global subscriber
//! in every arm: the plain arms make no record.
//!
//! After each audited arm the guard is flushed and `audit.log` must hold
//! exactly N `CREATE` and N `UPDATE` records more than before: otherwise
//! the run exits 1.
//!
//! Printed: per round and arm, inserts/s, updates/s and rows per
//! CPU-second (the process's user and system time over the arm and the
//! writing of its records: less swayed than the clock by other programs
//! on a loaded machine); then the medians, `orm_audit_cpu_ratio`,
//! `orm_audit_cpu_ratio_not_read`, `orm_read_floor_ratio=X.XX`
//! (`plain_read` over `plain`), `orm_audit_ratio_not_read=X.XX`, and
//! last `orm_audit_ratio=X.XX`, the
//! median over rounds of (audited rows/s) / (plain rows/s), rows/s counting
//! the inserts and the updates together (2N rows over the time of both
//! phases). Goal: at least 0.90.

#[path = "support/mod.rs"]
#[allow(dead_code)] // the latency helpers are not used here
mod support;

#[path = "support/orm_db.rs"]
mod orm_db;

use std::io;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sea_orm::ActiveValue::Set;
use sea_orm::{ActiveModelTrait, IntoActiveModel};
use support::{median, Args};
use tracing::Instrument;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

use orm_db::{audited, not_read, plain, plain_read};

#[derive(Clone, Copy, PartialEq, Debug)]
enum Arm {
    Plain,
    Audited,
    NotRead,
    PlainRead,
}

const ARMS: [Arm; 4] = [Arm::Plain, Arm::Audited, Arm::NotRead, Arm::PlainRead];

struct Timing {
    inserts: Duration,
    updates: Duration,
}

fn main() -> ExitCode {
    let args = support::parse_args("orm_overhead", 1_000_000).map(|mut a| {
        if !std::env::args().any(|x| x == "--records") {
            a.records = 10_000;
        }
        a
    });
    support::exit_status(args, run)
}

fn run(args: &Args) -> io::Result<bool> {
    let tmp;
    let dir = match &args.dir {
        Some(dir) => dir.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().to_path_buf()
        }
    };
    let (layer, guard) = tracing_audit::layer()
        .log_dir(dir.join("audit"))
        .service_name("orm_overhead")
        // One file holds every record, to be counted.
        .max_file_size(None)
        .build()
        .map_err(io::Error::other)?;
    tracing_subscriber::registry().with(layer).init();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let n = args.records as usize;
    println!(
        "orm_overhead: {n} inserts then {n} updates per arm, {} rounds, SQLite (WAL, synchronous=NORMAL, 1 connection, no ping)",
        args.rounds
    );
    let mut ratios = [Vec::new(), Vec::new(), Vec::new()];
    let mut cpu_ratios = [Vec::new(), Vec::new()];
    let mut rates: [Vec<(f64, f64)>; 4] = Default::default();
    let mut expected_records = 0;
    for round in 0..args.rounds {
        let mut all_rows = [0.0; 4];
        let mut cpu_rows = [0.0; 4];
        for k in 0..ARMS.len() {
            let arm = ARMS[(round + k) % ARMS.len()];
            let db_path = dir.join(format!("round{round}-{arm:?}.db"));
            let request = tracing::info_span!("request", request_id = "r-bench", user_id = "7");
            let cpu_start = cpu_time();
            let timing = runtime
                .block_on(run_arm(arm, &db_path, n).instrument(request))
                .map_err(io::Error::other)?;
            let ins = n as f64 / timing.inserts.as_secs_f64();
            let upd = n as f64 / timing.updates.as_secs_f64();
            let all = 2.0 * n as f64 / (timing.inserts + timing.updates).as_secs_f64();
            let i = arm as usize;
            rates[i].push((ins, upd));
            all_rows[i] = all;
            if matches!(arm, Arm::Audited | Arm::NotRead) {
                expected_records += 2 * n;
                guard.flush().map_err(io::Error::other)?;
            }
            // CPU time of the whole process (the SQLite worker and the
            // appender's writer included, up to the records written).
            let cpu = cpu_time().saturating_sub(cpu_start);
            cpu_rows[i] = 2.0 * n as f64 / cpu.as_secs_f64();
            println!(
                "round {round} {arm:?}: inserts {ins:.0} rows/s, updates {upd:.0} rows/s, {:.0} rows per CPU-second",
                cpu_rows[i]
            );
            if matches!(arm, Arm::Audited | Arm::NotRead) {
                let found = count_records(&dir.join("audit/audit.log"))?;
                if found != expected_records {
                    eprintln!("audit.log holds {found} records, expected {expected_records}");
                    return Ok(false);
                }
            }
            std::fs::remove_file(&db_path).ok();
        }
        ratios[0].push(all_rows[1] / all_rows[0]);
        ratios[1].push(all_rows[2] / all_rows[0]);
        ratios[2].push(all_rows[3] / all_rows[0]);
        cpu_ratios[0].push(cpu_rows[1] / cpu_rows[0]);
        cpu_ratios[1].push(cpu_rows[2] / cpu_rows[0]);
    }
    for arm in ARMS {
        let r = &rates[arm as usize];
        println!(
            "median {arm:?}: inserts {:.0} rows/s, updates {:.0} rows/s",
            median(r.iter().map(|x| x.0).collect()),
            median(r.iter().map(|x| x.1).collect())
        );
    }
    let [cpu_read, cpu_not_read] = cpu_ratios;
    println!("orm_audit_cpu_ratio={:.2}", median(cpu_read));
    println!("orm_audit_cpu_ratio_not_read={:.2}", median(cpu_not_read));
    let [read, not_read, read_floor] = ratios;
    println!("orm_read_floor_ratio={:.2}", median(read_floor));
    println!("orm_audit_ratio_not_read={:.2}", median(not_read));
    println!("orm_audit_ratio={:.2}", median(read));
    Ok(true)
}

async fn run_arm(arm: Arm, path: &Path, n: usize) -> Result<Timing, sea_orm::DbErr> {
    let db = orm_db::item_db(path).await?;
    // The same code for every arm, on each arm's entity.
    macro_rules! phases {
        ($entity:ident) => {{
            let start = Instant::now();
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
            let inserts = start.elapsed();
            let start = Instant::now();
            for row in rows {
                let price = row.price;
                let mut am = row.into_active_model();
                am.price = Set(price + 1);
                am.updated_at = Set(1);
                am.update(&db).await?;
            }
            Timing {
                inserts,
                updates: start.elapsed(),
            }
        }};
    }
    Ok(match arm {
        Arm::Plain => phases!(plain),
        Arm::Audited => phases!(audited),
        Arm::NotRead => phases!(not_read),
        Arm::PlainRead => phases!(plain_read),
    })
}

/// The CPU time this process has used, all threads (zero where it cannot
/// be read).
fn cpu_time() -> Duration {
    #[cfg(unix)]
    {
        let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
        // SAFETY: `getrusage` fills the struct it is given.
        if unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) } == 0 {
            // SAFETY: filled by the successful call above.
            let usage = unsafe { usage.assume_init() };
            let time = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
            return time(usage.ru_utime) + time(usage.ru_stime);
        }
    }
    Duration::ZERO
}

fn count_records(path: &Path) -> io::Result<usize> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes.iter().filter(|b| **b == b'\n').count()),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(e),
    }
}
