//! Criterion benchmark: the fast path of the value scan for object keys
//! and field names (a text shorter than 12 bytes made of word characters
//! cannot hold a secret value, see `redact::scan::SHORTEST_WORD_SECRET`).
//!
//! ```text
//! cargo bench --bench key_scan
//! ```
//!
//! - `is_secret_value/*`: the policy's answer for a key, through the
//!   fast path (the keys of a typical JSON body and record) or the full
//!   scan (a key of 12 or more bytes, `description_text`);
//! - `word_check/*`: the fast path's own test written by hand next to the
//!   `regex` crate's (`^[A-Za-z0-9_]{0,11}$`, compiled once), on the same
//!   keys.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use regex::Regex;
use tracing_audit::redact::Policy;

/// Keys of a small JSON body and of a record, and one too long for the
/// fast path.
const KEYS: &[&str] = &[
    "id",
    "name",
    "price",
    "tags",
    "user_id",
    "quantity",
    "created_at",
    "description_text",
];

fn by_hand(key: &str) -> bool {
    key.len() < 12 && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
}

fn bench(c: &mut Criterion) {
    let policy = Policy::default();
    let regex = Regex::new("^[A-Za-z0-9_]{0,11}$").expect("a valid pattern");
    // Both ways agree on every key.
    for key in KEYS {
        assert_eq!(by_hand(key), regex.is_match(key), "{key}");
        assert!(!policy.is_secret_value(key), "{key}");
    }
    let mut group = c.benchmark_group("is_secret_value");
    group.bench_function("short_keys", |b| {
        b.iter(|| {
            KEYS[..7]
                .iter()
                .filter(|k| policy.is_secret_value(black_box(k)))
                .count()
        })
    });
    group.bench_function("long_key", |b| {
        b.iter(|| policy.is_secret_value(black_box(KEYS[7])))
    });
    group.finish();
    let mut group = c.benchmark_group("word_check");
    group.bench_function("by_hand", |b| {
        b.iter(|| KEYS.iter().filter(|k| by_hand(black_box(k))).count())
    });
    group.bench_function("regex", |b| {
        b.iter(|| KEYS.iter().filter(|k| regex.is_match(black_box(k))).count())
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_millis(300))
        .measurement_time(std::time::Duration::from_secs(1));
    targets = bench
}
criterion_main!(benches);
