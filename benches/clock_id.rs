//! Criterion benchmark: the two values every record starts with, made as
//! the crate makes them next to what the `time` and `uuid` crates offer
//! (issue 11, item 6). The crate keeps its own code only where it is
//! clearly faster on this per-record path.
//!
//! ```text
//! cargo bench --bench clock_id
//! ```
//!
//! - `timestamp/*`: the present time as `2026-11-22T10:00:00.123456Z`
//!   appended to a reused `String` (the clock read included):
//!   `crate` (the calendar part kept per thread for the current second,
//!   the six decimals written by hand), `time_format_description`
//!   (`format_description!` with `[subsecond digits:6]`, formatted in full
//!   for every record), `time_rfc3339` (`well_known::Rfc3339`: as many
//!   decimals as the nanoseconds need, so not the record's format; shown
//!   for scale).
//! - `event_id/*`: a UUIDv7 for a given time, encoded as hyphenated lower
//!   case text: `crate` (48-bit milliseconds + 74 random bits from the
//!   per-thread `fastrand` generator), `uuid_now_v7` (`Uuid::now_v7()`:
//!   its own clock read, a process-wide `Mutex<ContextV7>` counter, random
//!   bits from the OS through `getrandom` or `rand`), `uuid_context_v7`
//!   (`Uuid::new_v7` with a `Timestamp` from a per-thread `ContextV7`),
//!   `uuid_no_context` (`Timestamp` with `NoContext`: random bits only).
//! - `event_id_4_threads/*`: `crate` and `uuid_now_v7` with four threads
//!   making ids at once (the shared context's lock is contended).

use std::hint::black_box;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use criterion::{criterion_group, criterion_main, Criterion};
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;
use time::OffsetDateTime;
use tracing_audit::__private::bench;
use uuid::timestamp::context::{ContextV7, NoContext};
use uuid::{Timestamp, Uuid};

const RECORD_FORMAT: &[time::format_description::BorrowedFormatItem<'static>] =
    format_description!("[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:6]Z");

fn timestamps(c: &mut Criterion) {
    let mut g = c.benchmark_group("timestamp");
    let mut out = String::with_capacity(64);
    g.bench_function("crate", |b| {
        b.iter(|| {
            out.clear();
            black_box(bench::timestamp(&mut out));
        })
    });
    let mut bytes = Vec::with_capacity(64);
    g.bench_function("time_format_description", |b| {
        b.iter(|| {
            bytes.clear();
            let now = OffsetDateTime::now_utc();
            now.format_into(&mut bytes, RECORD_FORMAT).unwrap();
            black_box(&bytes);
        })
    });
    g.bench_function("time_rfc3339", |b| {
        b.iter(|| {
            bytes.clear();
            let now = OffsetDateTime::now_utc();
            now.format_into(&mut bytes, &Rfc3339).unwrap();
            black_box(&bytes);
        })
    });
    g.finish();
}

fn since_epoch() -> Duration {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap()
}

thread_local!(static CONTEXT: ContextV7 = const { ContextV7::new() });

fn encode(id: Uuid) -> usize {
    let mut buf = Uuid::encode_buffer();
    id.hyphenated().encode_lower(&mut buf).len()
}

fn event_ids(c: &mut Criterion) {
    let mut g = c.benchmark_group("event_id");
    // The time is read once, as the record's timestamp gives it.
    let now = since_epoch();
    g.bench_function("crate", |b| {
        b.iter(|| black_box(encode(bench::event_id(black_box(now)))))
    });
    g.bench_function("uuid_now_v7", |b| {
        b.iter(|| black_box(encode(Uuid::now_v7())))
    });
    g.bench_function("uuid_context_v7", |b| {
        b.iter(|| {
            let ts = CONTEXT.with(|ctx| {
                Timestamp::from_unix(ctx, black_box(now.as_secs()), now.subsec_nanos())
            });
            black_box(encode(Uuid::new_v7(ts)))
        })
    });
    g.bench_function("uuid_no_context", |b| {
        b.iter(|| {
            let ts = Timestamp::from_unix(NoContext, black_box(now.as_secs()), now.subsec_nanos());
            black_box(encode(Uuid::new_v7(ts)))
        })
    });
    g.finish();

    let mut g = c.benchmark_group("event_id_4_threads");
    let threaded = |make: fn() -> usize| {
        move |iters: u64| {
            let start = Instant::now();
            std::thread::scope(|s| {
                for _ in 0..4 {
                    s.spawn(move || {
                        for _ in 0..iters {
                            black_box(make());
                        }
                    });
                }
            });
            // Per id made, all threads together.
            start.elapsed() / 4
        }
    };
    g.bench_function("crate", |b| {
        b.iter_custom(threaded(|| encode(bench::event_id(since_epoch()))))
    });
    g.bench_function("uuid_now_v7", |b| {
        b.iter_custom(threaded(|| encode(Uuid::now_v7())))
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2));
    targets = timestamps, event_ids
}
criterion_main!(benches);
