//! Writes real audit files into `audit_logs/` and prints where they are.
//!
//! ```text
//! cargo run --example quickstart
//! ```
//!
//! Until the record layer lands, the lines are made by hand here; the
//! appender underneath is the one every record kind will use.

use std::time::{SystemTime, UNIX_EPOCH};

use tracing_audit::appender::{Appender, Backpressure};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = std::path::Path::new("audit_logs");
    let now = SystemTime::now().duration_since(UNIX_EPOCH)?.as_secs();
    let mut guards = Vec::new();
    let mut written = Vec::new();

    for (file, backpressure, line) in [
        (
            "audit.log",
            Backpressure::Block,
            format!(
                r#"{{"unix_time":{now},"level":"AUDIT","name":"audit.crud","message":"UPDATE event for Product (id: 42)","model":"Product","event_type":"UPDATE","instance_id":"42","user_id":"7","changes":{{"price":{{"old":10.99,"new":12.99}}}}}}"#
            ),
        ),
        (
            "login.log",
            Backpressure::Block,
            format!(
                r#"{{"unix_time":{now},"level":"LOGIN","name":"audit.login","message":"login","user_id":"7","event":"login","success":true,"client_ip":"127.0.0.1"}}"#
            ),
        ),
        (
            "app.log",
            Backpressure::Drop,
            format!(
                r#"{{"unix_time":{now},"level":"INFO","name":"quickstart","message":"service started"}}"#
            ),
        ),
    ] {
        let (appender, guard) = Appender::builder(dir.join(file))
            .backpressure(backpressure)
            .build()?;
        appender.write_line(line.as_bytes())?;
        appender.sync()?;
        guards.push(guard);
        written.push(appender);
    }

    drop(guards); // drain, fsync, join
    for appender in &written {
        let path = std::fs::canonicalize(appender.path())?;
        println!(
            "wrote {} line(s) to {}",
            appender.stats().lines_written,
            path.display()
        );
    }
    Ok(())
}
