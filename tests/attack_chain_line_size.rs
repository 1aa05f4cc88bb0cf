//! Attack: the promise "no line is ever longer than `max_line_bytes`"
//! (schema, Size limits) with the hash chain on. The chain adds `seq`,
//! `prev_hash` and `hash` (up to 180 bytes) to each line on the writer
//! thread, after the record was sized: a record just under the cap made
//! a chained line over it, and at `max_line_bytes(102400)` (Vector's
//! `max_line_bytes`) Vector would drop the line.
#![cfg(feature = "chain")]

mod common;

use common::records::Logs;
use tracing_audit::chain::ChainOptions;
use tracing_audit::Kind;

#[test]
fn chained_lines_stay_within_max_line_bytes() {
    for cap in [1024usize, 4096, 102_400] {
        let logs = Logs::with(|b| {
            b.max_line_bytes(cap)
                .chain(ChainOptions::new().no_checkpoint_file())
        });
        logs.run(|| {
            // Records of every size around the cap: the largest fit
            // unshrunk only without the chain's members.
            for len in (cap.saturating_sub(600)..cap + 50).step_by(7) {
                let text = "x".repeat(len.saturating_sub(200).min(cap));
                tracing_audit::create!(model: "Doc", id: len, extra: serde_json::json!({ "t": text }));
                tracing_audit::login!(user: "u", client_ip: "203.0.113.9", user_agent: text.as_str());
            }
        });
        for kind in [Kind::Audit, Kind::Login] {
            let path = logs.dir.path().join(match kind {
                Kind::Audit => "audit.log",
                _ => "login.log",
            });
            logs.guard.flush().unwrap();
            let text = std::fs::read(&path).unwrap();
            let mut n = 0;
            for line in text.split_inclusive(|&b| b == b'\n') {
                n += 1;
                assert!(
                    line.len() <= cap,
                    "{kind:?}: a chained line of {} bytes over max_line_bytes({cap}): {}",
                    line.len(),
                    String::from_utf8_lossy(&line[line.len().saturating_sub(300)..])
                );
                let record: serde_json::Value = serde_json::from_slice(line).unwrap();
                assert!(record["hash"].is_string(), "chained: {record}");
            }
            assert!(n > 80, "{kind:?}: {n} lines");
        }
        let report = tracing_audit::chain::verify(logs.dir.path(), &Default::default()).unwrap();
        assert!(report.intact(), "{:?}", report.first_break());
    }
}
