//! Criterion benchmark: a client address written as an inbound record's
//! `client_ip`, by the crate (`itoa` per octet for IPv4) and by std's
//! `Display` (what the record used before), for an IPv4 and an IPv6
//! address.
//!
//! ```text
//! cargo bench --all-features --bench ip_text
//! ```

use std::fmt::Write as _;
use std::hint::black_box;
use std::net::IpAddr;

use criterion::{criterion_group, criterion_main, Criterion};
use tracing_audit::__private::bench::client_ip;

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("client_ip");
    for (name, ip) in [
        (
            "v4",
            "192.168.100.254".parse::<IpAddr>().expect("an address"),
        ),
        (
            "v6",
            "2001:db8::8a2e:370:7334"
                .parse::<IpAddr>()
                .expect("an address"),
        ),
    ] {
        let mut out = String::with_capacity(64);
        group.bench_function(format!("crate/{name}"), |b| {
            b.iter(|| {
                out.clear();
                client_ip(&mut out, black_box(ip));
                black_box(out.len())
            })
        });
        group.bench_function(format!("std_display/{name}"), |b| {
            b.iter(|| {
                out.clear();
                let _ = write!(out, "{}", black_box(ip));
                black_box(out.len())
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
