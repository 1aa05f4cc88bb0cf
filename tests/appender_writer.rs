//! The appender as `io::Write` and as a `tracing-subscriber` `MakeWriter`.

use std::fs;
use std::io::Write;
use std::thread;

use tracing_audit::appender::Appender;
use tracing_subscriber::layer::SubscriberExt;

/// `fmt::layer().json().with_writer(appender)` from four threads: every
/// event is one whole line in the file, none lost, none torn.
#[test]
fn a_fmt_layer_writes_whole_lines_through_the_appender() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(
        tracing_subscriber::fmt::layer()
            .json()
            .with_writer(appender.clone()),
    );
    let dispatch = tracing::Dispatch::new(subscriber);
    let threads: Vec<_> = (0..4u32)
        .map(|t| {
            let dispatch = dispatch.clone();
            thread::spawn(move || {
                tracing::dispatcher::with_default(&dispatch, || {
                    for n in 0..1000u32 {
                        tracing::info!(t, n, "event");
                    }
                })
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    drop(dispatch);
    drop(guard);
    let text = fs::read_to_string(&path).unwrap();
    let mut seen = std::collections::HashSet::new();
    for line in text.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let fields = &v["fields"];
        assert_eq!(fields["message"], "event", "{line}");
        let key = (fields["t"].as_u64().unwrap(), fields["n"].as_u64().unwrap());
        assert!(seen.insert(key), "twice: {line}");
    }
    assert_eq!(seen.len(), 4000);
    assert!(text.ends_with('\n'));
}

/// `io::Write`: one `write` call is one line; `flush` hands it to the OS.
#[test]
fn each_write_call_is_one_line_and_flush_hands_it_over() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (mut appender, guard) = Appender::builder(&path).build().unwrap();
    appender.write_all(b"{\"a\":1}").unwrap();
    appender.write_all(b"{\"b\":2}\n").unwrap();
    appender.write_all(b"").unwrap();
    appender.flush().unwrap();
    assert_eq!(fs::read_to_string(&path).unwrap(), "{\"a\":1}\n{\"b\":2}\n");
    drop(guard);
}

/// After the guard is gone, a record written through the `MakeWriter` is
/// refused and counted, never silently lost.
#[test]
fn a_record_written_after_shutdown_is_counted_as_dropped() {
    use tracing_subscriber::fmt::MakeWriter;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("app.log");
    let (appender, guard) = Appender::builder(&path).build().unwrap();
    drop(guard);
    let before = appender.stats().dropped;
    {
        let mut w = appender.make_writer();
        w.write_all(b"late").unwrap();
        assert!(w.flush().is_err(), "the closed appender refuses the line");
    }
    assert_eq!(appender.stats().dropped, before + 1);
    assert_eq!(fs::read_to_string(&path).unwrap(), "");
}

/// `write!` and `writeln!` make one line each: their pieces (the text
/// between the arguments, each argument, the `\n` of `writeln!`) reached
/// `write` one by one, so `writeln!(appender, "{json}")` added an empty
/// line after every record and `writeln!(appender, "{{\"n\":{n}}}")` tore
/// the record into three lines.
#[test]
fn write_and_writeln_macros_make_one_line_each() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (mut appender, guard) = Appender::builder(&path).build().unwrap();
    let json = r#"{"a":1}"#;
    writeln!(appender, "{json}").unwrap();
    let n = 5;
    writeln!(appender, "{{\"n\":{n}}}").unwrap();
    write!(appender, "{{\"m\":{}}}", n + 1).unwrap();
    appender.flush().unwrap();
    assert_eq!(
        fs::read_to_string(&path).unwrap(),
        "{\"a\":1}\n{\"n\":5}\n{\"m\":6}\n"
    );
    drop(guard);
}
