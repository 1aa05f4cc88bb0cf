//! The hash chain's cost on the writer thread, for instruction counts:
//! a fixed number of typical lines (one ~590-byte CRUD record, as
//! `compare_stacks` makes) through the chain's line transform, as the
//! writer thread runs it (one `on_written` per 256 KiB batch, checkpoints
//! at their defaults), or copied into the batch as the plain writer does.
//!
//! ```text
//! cargo build --release --features chain --example chain_calls
//! # instructions per record: the difference of two runs over the
//! # difference of their line counts (start-up cancels out), chain minus
//! # plain
//! for mode in plain chain; do for n in 100000 300000; do
//!   perf stat -x, -e instructions:u \
//!     target/release/examples/chain_calls $mode $n 2>&1 >/dev/null | cut -d, -f1
//! done; done
//! ```
//!
//! `perf stat` needs hardware counters (absent in some virtual machines);
//! `valgrind --tool=callgrind` counts instructions everywhere, but hides
//! the CPU's SHA extensions from the program, so SHA-256 runs in software
//! there. Each run also prints its own wall time per line
//! (`ns_per_line`), with the SHA extensions when the CPU has them.

use std::io::Write;

use tracing_audit::chain::ChainOptions;

/// One record as the layer writes it for `compare_stacks` (without the
/// chain's members), ending in `\n`.
fn line() -> Vec<u8> {
    let mut line = br#"{"timestamp":"2026-11-29T14:00:00.123456Z","level":"AUDIT","name":"audit.crud","event_id":"0193a2b4-7c1e-7d2a-9f00-5a1b2c3d4e5f","message":"UPDATE event for Product (id: 42)","service_name":"compare-stacks","user_info":{},"model":"Product","event_type":"UPDATE","instance_id":"42","changes":{"price":{"old":10.99,"new":12.99}},"user_id":"7","request_id":"0193a2b4-7c1e-7d2a-9f00-5a1b2c3d4e5f","tenant":"acme","extra":123456"#.to_vec();
    // Up to the ~590 bytes of a chained line's record part.
    line.extend_from_slice(br#","span":{"name":"request","target":"compare_stacks","module":"compare_stacks","file":"examples/compare_stacks.rs","line":224}"#);
    line.extend_from_slice(b"}\n");
    line
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let mode = args.next().unwrap_or_else(|| "chain".to_owned());
    let n: u64 = args.next().map_or(Ok(100_000), |s| s.parse())?;
    let dir = tempfile::tempdir()?;
    let live = dir.path().join("audit.log");
    let line = line();
    let per_batch = (256 * 1024 / line.len()) as u64;
    let mut batch: Vec<u8> = Vec::with_capacity(256 * 1024 + 4096);
    let mut bytes = 0u64;
    let started = std::time::Instant::now();
    match mode.as_str() {
        "plain" => {
            for i in 0..n {
                batch.extend_from_slice(&line);
                if (i + 1) % per_batch == 0 {
                    bytes += batch.len() as u64;
                    batch.clear();
                }
            }
        }
        "chain" => {
            let mut transform = ChainOptions::new().line_transform(&live)();
            transform.on_open(None, None);
            for i in 0..n {
                transform.transform(&line, &mut batch);
                if (i + 1) % per_batch == 0 {
                    bytes += batch.len() as u64;
                    batch.clear();
                    transform.on_written();
                }
            }
            transform.on_close();
        }
        other => return Err(format!("mode is plain or chain, not {other}").into()),
    }
    bytes += batch.len() as u64;
    let elapsed = started.elapsed();
    writeln!(
        std::io::stdout(),
        "mode={mode} lines={n} bytes={bytes} line_len={} ns_per_line={:.0}",
        line.len(),
        elapsed.as_nanos() as f64 / n.max(1) as f64
    )?;
    Ok(())
}
