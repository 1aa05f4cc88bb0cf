//! The real `tracing-audit` binary on files the crate wrote (rotated, some
//! gzipped): every filter against a direct count, time order across kinds
//! and files, export round trips, malformed lines, empty and missing
//! inputs, exit statuses.
#![cfg(all(feature = "cli", feature = "http"))]

mod cli_support;

use std::fs;
use std::path::Path;
use std::sync::OnceLock;

use cli_support::*;
use serde_json::Value;
use tracing_subscriber::layer::SubscriberExt;

/// One fixture for the whole file (the writer takes a moment).
fn fixture() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap();
        write_fixture(dir.path());
        dir
    })
    .path()
}

fn dir() -> &'static str {
    fixture().to_str().unwrap()
}

fn s<'a>(r: &'a Value, key: &str) -> Option<&'a str> {
    r[key].as_str()
}

#[test]
fn rotated_and_gz_files_are_read_in_write_order() {
    let files = files_in_order(fixture(), "audit.log");
    let gz = files
        .iter()
        .filter(|f| f.extension().is_some_and(|e| e == "gz"))
        .count();
    assert!(
        gz >= 3,
        "the fixture must have gzipped rotated files: {files:?}"
    );
    assert!(files.last().unwrap().ends_with("audit.log"));
    let out = run(&["query", "--kind", "audit", dir()]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = json_lines(&out);
    let want = records(fixture(), "audit.log");
    assert_eq!(want.len(), 401);
    // Same records, same order, byte for byte the same values.
    assert_eq!(got, want);
}

#[test]
fn all_kinds_are_merged_in_time_order() {
    let out = run(&["query", dir()]);
    assert_eq!(out.status.code(), Some(0));
    let got = json_lines(&out);
    assert_eq!(ids(&got), ids(&all_records(fixture())));
    assert!(in_time_order(&got));
    assert!(got.iter().any(|r| s(r, "level") == Some("API")));
    assert!(got.iter().any(|r| s(r, "level") == Some("INFO")));
}

#[test]
fn each_filter_gives_what_a_direct_count_gives() {
    let all = all_records(fixture());
    let audit_ts: Vec<&str> = all
        .iter()
        .filter(|r| s(r, "level") == Some("AUDIT"))
        .map(|r| s(r, "timestamp").unwrap())
        .collect();
    let middle = audit_ts[200].to_owned();
    let status = |r: &Value| r["response_repr"]["status_code"].as_u64();
    type Keep = Box<dyn Fn(&Value) -> bool>;
    let cases: Vec<(Vec<String>, Keep)> = vec![
        (
            vec!["--user".into(), "7".into()],
            Box::new(|r| s(r, "user_id") == Some("7")),
        ),
        (
            vec!["--user".into(), "zoë".into()],
            Box::new(|r| s(r, "user_id") == Some("zoë")),
        ),
        (
            vec!["--model".into(), "Product".into()],
            Box::new(|r| s(r, "model") == Some("Product")),
        ),
        (
            vec!["--event-type".into(), "delete".into()],
            Box::new(|r| s(r, "event_type") == Some("DELETE")),
        ),
        (
            vec!["--event-type".into(), "failed_login,BULK_DELETE".into()],
            Box::new(|r| {
                s(r, "event") == Some("failed_login") || s(r, "event_type") == Some("BULK_DELETE")
            }),
        ),
        (
            vec!["--instance-id".into(), "42".into()],
            Box::new(|r| s(r, "instance_id") == Some("42")),
        ),
        (
            vec!["--instance-id".into(), "s2".into()],
            Box::new(|r| {
                r["instance_ids"]
                    .as_array()
                    .is_some_and(|a| a.iter().any(|i| i == "s2"))
            }),
        ),
        (
            vec!["--client-ip".into(), "10.0.0.1".into()],
            Box::new(|r| {
                s(r, "client_ip") == Some("10.0.0.1")
                    || r["request_repr"]["client_ip"] == "10.0.0.1"
            }),
        ),
        (
            vec!["--path".into(), "/api/*".into()],
            Box::new(|r| {
                r["request_repr"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with("/api/"))
            }),
        ),
        (
            vec!["--path".into(), "/login".into()],
            Box::new(|r| r["request_repr"]["path"] == "/login"),
        ),
        (
            vec!["--method".into(), "post".into()],
            Box::new(|r| r["request_repr"]["method"] == "POST"),
        ),
        (
            vec!["--status".into(), "5xx".into()],
            Box::new(move |r| status(r).is_some_and(|s| (500..600).contains(&s))),
        ),
        (
            vec![
                "--status".into(),
                "404".into(),
                "--status".into(),
                "200-201".into(),
            ],
            Box::new(move |r| status(r).is_some_and(|s| s == 404 || s == 200 || s == 201)),
        ),
        (
            vec!["--request-id".into(), "r-3".into()],
            Box::new(|r| s(r, "request_id") == Some("r-3")),
        ),
        (
            vec!["--request-id".into(), "api-2".into()],
            Box::new(|r| s(r, "request_id") == Some("api-2")),
        ),
        (
            vec!["--tenant".into(), "globex".into()],
            Box::new(|r| s(r, "tenant") == Some("globex")),
        ),
        (
            vec!["--kind".into(), "login,app".into()],
            Box::new(|r| {
                s(r, "level") == Some("LOGIN")
                    || s(r, "name").is_some_and(|n| !n.starts_with("audit."))
            }),
        ),
        (
            vec!["--text".into(), "made #3 \"quoted\"".into()],
            Box::new(|r| r["extra"]["note"] == "made #3 \"quoted\""),
        ),
        (vec!["--since".into(), middle.clone()], {
            let m = middle.clone();
            Box::new(move |r| s(r, "timestamp").unwrap() >= m.as_str())
        }),
        (vec!["--until".into(), middle.clone()], {
            let m = middle.clone();
            Box::new(move |r| s(r, "timestamp").unwrap() < m.as_str())
        }),
        (vec!["--since".into(), "1h".into()], Box::new(|_| true)),
        (
            vec![
                "--user".into(),
                "7".into(),
                "--event-type".into(),
                "DELETE".into(),
                "--tenant".into(),
                "acme".into(),
            ],
            Box::new(|r| {
                s(r, "user_id") == Some("7")
                    && s(r, "event_type") == Some("DELETE")
                    && s(r, "tenant") == Some("acme")
            }),
        ),
    ];
    for (args, keep) in cases {
        let want = expect(&all, &keep);
        assert!(
            !want.is_empty() && want.len() < all.len() || args[1] == "1h",
            "{args:?} must select some records"
        );
        let mut argv: Vec<&str> = vec!["query"];
        argv.extend(args.iter().map(String::as_str));
        argv.push(dir());
        let out = run(&argv);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = json_lines(&out);
        assert_eq!(ids(&got), want, "{args:?}");
        assert!(in_time_order(&got), "{args:?}");
    }
}

#[test]
fn no_match_usage_and_input_errors_have_their_exit_status() {
    let out = run(&["query", "--user", "nobody", dir()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    let out = run(&["query", "--until", "1h", dir()]);
    assert_eq!(out.status.code(), Some(1));

    let out = run(&["query", "--status", "abc", dir()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--status"));
    let out = run(&["query", "--since", "yesterday", dir()]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["query", "--no-such-flag"]);
    assert_eq!(out.status.code(), Some(2));

    let missing = fixture().join("no-such-dir");
    let out = run(&["query", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("no-such-dir") && err.contains("cannot read"),
        "{err}"
    );

    // A missing input does not stop the others from being read.
    let out = run(&["query", "--kind", "login", missing.to_str().unwrap(), dir()]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_lines(&out).len(), 12);

    // An empty file is no error: nothing matched.
    let empty = tempfile::tempdir().unwrap();
    let zero = empty.path().join("audit.log");
    fs::write(&zero, b"").unwrap();
    let out = run(&["query", zero.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["query", empty.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
}

#[test]
fn malformed_lines_are_reported_with_file_and_line_and_skipped() {
    let tmp = tempfile::tempdir().unwrap();
    let good = records(fixture(), "login.log");
    let mut text = String::new();
    text.push_str(&good[0].to_string());
    text.push_str("\n{\"level\":\"LOGIN\",\"user_id\":\n"); // line 2: cut short
    text.push_str(&good[1].to_string());
    text.push_str("\nnot json at all\n"); // line 4
    text.push_str(&good[2].to_string());
    text.push_str("\n{\"user_id\":\"7\""); // line 6: no newline, unfinished
    let file = tmp.path().join("login.log");
    fs::write(&file, text).unwrap();
    let out = run(&["query", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out), good[..3].to_vec());
    let err = String::from_utf8_lossy(&out.stderr);
    let name = file.display().to_string();
    assert!(err.contains(&format!("{name}:2: malformed")), "{err}");
    assert!(err.contains(&format!("{name}:4: malformed")), "{err}");
    assert!(err.contains(&format!("{name}:6: unfinished")), "{err}");
    assert!(err.contains("3 malformed line(s) skipped"), "{err}");

    // A corrupt .gz is an input error, the records before it still out.
    let gz = tmp.path().join("audit.log.20261129T100000.000000Z.gz");
    fs::write(&gz, b"\x1f\x8b\x08\x00garbage").unwrap();
    let out = run(&["query", tmp.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(3));
    assert_eq!(json_lines(&out).len(), 3);
    assert!(String::from_utf8_lossy(&out.stderr).contains("audit.log.20261129T100000.000000Z.gz"));
}

#[test]
fn export_jsonl_and_json_give_back_the_records() {
    let want = records(fixture(), "audit.log");
    let out = run(&["export", "--format", "jsonl", "--kind", "audit", dir()]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(json_lines(&out), want);

    let out = run(&["export", "--format", "json", "--kind", "audit", dir()]);
    assert_eq!(out.status.code(), Some(0));
    let array: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(array, want);

    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("out.json");
    let out = run(&[
        "export",
        "-f",
        "json",
        "--user",
        "nobody",
        "--out",
        file.to_str().unwrap(),
        dir(),
    ]);
    assert_eq!(out.status.code(), Some(1));
    let array: Vec<Value> = serde_json::from_slice(&fs::read(&file).unwrap()).unwrap();
    assert!(array.is_empty());
}

#[test]
fn export_csv_has_fixed_columns_and_round_trips() {
    for (kind, live) in [
        ("audit", "audit.log"),
        ("api", "api.log"),
        ("login", "login.log"),
        ("app", "app.log"),
    ] {
        let want = records(fixture(), live);
        let out = run(&["export", "--format", "csv", "--kind", kind, dir()]);
        assert_eq!(out.status.code(), Some(0), "{kind}");
        let mut reader = csv::Reader::from_reader(&out.stdout[..]);
        let header: Vec<String> = reader
            .headers()
            .unwrap()
            .iter()
            .map(str::to_owned)
            .collect();
        assert_eq!(header[..3], ["timestamp", "level", "name"]);
        assert_eq!(header.last().unwrap(), "other");
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), want.len(), "{kind}");
        for (row, record) in rows.iter().zip(&want) {
            let cell = |key: &str| {
                row.get(header.iter().position(|h| h == key).unwrap())
                    .unwrap()
            };
            let other: serde_json::Map<String, Value> = match cell("other") {
                "" => serde_json::Map::new(),
                text => serde_json::from_str(text).unwrap(),
            };
            for (key, value) in record.as_object().unwrap() {
                if let Some(v) = other.get(key) {
                    assert!(!header.contains(key), "{key} is a column and in other");
                    assert_eq!(v, value);
                    continue;
                }
                let text = cell(key);
                match value {
                    Value::String(s) => assert_eq!(text, s, "{kind} {key}"),
                    _ => assert_eq!(
                        &serde_json::from_str::<Value>(text).unwrap(),
                        value,
                        "{kind} {key}"
                    ),
                }
            }
            for key in &header {
                if key != "other" && record.get(key.as_str()).is_none() {
                    assert_eq!(cell(key), "", "{kind}: {key} is not in the record");
                }
            }
        }
    }
    // The columns depend on the kinds asked for, not on what was found.
    let a = run(&[
        "export",
        "-f",
        "csv",
        "--kind",
        "audit",
        "--user",
        "nobody",
        dir(),
    ]);
    let b = run(&["export", "-f", "csv", "--kind", "audit", dir()]);
    let first = |o: &std::process::Output| {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .next()
            .unwrap()
            .to_owned()
    };
    assert_eq!(first(&a), first(&b));
}

#[test]
fn table_output_is_one_readable_line_per_record() {
    let out = run(&[
        "query",
        "-o",
        "table",
        "--kind",
        "audit",
        "--user",
        "7",
        "--event-type",
        "DELETE",
        dir(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let text = String::from_utf8(out.stdout).unwrap();
    let want = expect(&all_records(fixture()), |r| {
        r["user_id"] == "7" && r["event_type"] == "DELETE"
    });
    assert_eq!(text.lines().count(), want.len());
    for line in text.lines() {
        assert!(
            line.contains("AUDIT") && line.contains("DELETE") && line.contains("user=7"),
            "{line}"
        );
        assert!(
            !line.contains('\x1b'),
            "no colours off a terminal: {line:?}"
        );
    }
    let out = run(&["query", "-o", "table", "-n", "2", dir()]);
    assert_eq!(String::from_utf8(out.stdout).unwrap().lines().count(), 2);
}

#[test]
fn a_closed_pipe_ends_the_command_quietly() {
    use std::io::{BufRead, BufReader};
    let mut child = std::process::Command::new(BIN)
        .args(["query", "-o", "json", dir()])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    assert!(first.starts_with('{'));
    // stdout is closed here, long before the ~430 records are written.
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A line whose unread value is not UTF-8 is reported as malformed, not
/// exported: the JSON export stays valid JSON.
#[test]
fn a_line_that_is_not_utf8_is_malformed_and_not_exported() {
    let tmp = tempfile::tempdir().unwrap();
    let good = records(fixture(), "login.log");
    let mut bytes = good[0].to_string().into_bytes();
    bytes.extend_from_slice(
        b"\n{\"level\":\"LOGIN\",\"name\":\"audit.login\",\"message\":\"\xff\xfe\"}\n",
    );
    let file = tmp.path().join("login.log");
    fs::write(&file, bytes).unwrap();
    let out = run(&["export", "--format", "json", file.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0));
    let array: Vec<Value> = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(array, good[..1].to_vec());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&format!("{}:2: malformed", file.display())),
        "{err}"
    );
}

#[test]
fn rotated_files_named_one_by_one_are_read_once_in_write_order() {
    // As a shell glob hands them over, in any order, some twice: the
    // command reads one kind's rotated files as one sequence, once each.
    let mut files = files_in_order(fixture(), "audit.log");
    files.reverse();
    let twice = files[1].clone();
    files.push(twice);
    let names: Vec<&str> = files.iter().map(|p| p.to_str().unwrap()).collect();
    let mut args = vec!["query"];
    args.extend(&names);
    let out = run(&args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (got, want) = (json_lines(&out), records(fixture(), "audit.log"));
    assert_eq!(got.len(), want.len(), "each record once");
    assert!(got == want, "same records in write order");
}

#[test]
fn csv_cells_a_spreadsheet_would_run_open_as_text() {
    let dir = tempfile::tempdir().unwrap();
    let (layer, guard) = tracing_audit::layer().log_dir(dir.path()).build().unwrap();
    let subscriber = tracing_subscriber::registry().with(layer);
    let hostile = [
        "=HYPERLINK(\"http://evil.example\",\"x\")",
        "@SUM(A1)",
        "+1+1",
        "-2+3",
        "\tcmd",
    ];
    tracing::subscriber::with_default(subscriber, || {
        for (n, model) in hostile.iter().enumerate() {
            tracing_audit::create!(model: *model, id: n, user: "-5");
        }
    });
    assert_eq!(guard.shutdown().lost(), 0);
    let path = dir.path().to_str().unwrap();
    let cells = |raw: bool| {
        let mut args = vec!["export", "-f", "csv", "--kind", "audit", path];
        if raw {
            args.push("--csv-raw");
        }
        let out = run(&args);
        assert_eq!(out.status.code(), Some(0));
        let mut reader = csv::Reader::from_reader(&out.stdout[..]);
        let header = reader.headers().unwrap().clone();
        let at = |key: &str| header.iter().position(|h| h == key).unwrap();
        let (model, user) = (at("model"), at("user_id"));
        reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                (r[model].to_owned(), r[user].to_owned())
            })
            .collect::<Vec<_>>()
    };
    let safe = cells(false);
    assert_eq!(safe.len(), hostile.len());
    for ((model, user), want) in safe.iter().zip(hostile) {
        assert_eq!(model, &format!("'{want}"));
        assert_eq!(user, "-5", "a number is left as it is");
    }
    let raw = cells(true);
    for ((model, _), want) in raw.iter().zip(hostile) {
        assert_eq!(model, want);
    }
}

/// As `query`, every export format ends quietly with status 0 when its
/// reader closes the pipe (`| head`): the CSV writer's errors kept the
/// broken pipe hidden inside a CSV error, so `export --format csv | head`
/// said "cannot write the output" and exited with 3. The file is large
/// enough for the pipe to close while records are still being written.
#[test]
fn a_closed_pipe_ends_every_export_quietly() {
    use std::io::{BufRead, BufReader};
    let tmp = tempfile::tempdir().unwrap();
    let one = &records(fixture(), "audit.log")[0];
    let mut text = String::new();
    for n in 0..20_000 {
        let mut record = one.clone();
        record["instance_id"] = Value::String(n.to_string());
        text.push_str(&record.to_string());
        text.push('\n');
    }
    let file = tmp.path().join("audit.log");
    fs::write(&file, text).unwrap();
    for format in ["csv", "json", "jsonl"] {
        let mut child = std::process::Command::new(BIN)
            .args(["export", "--format", format, file.to_str().unwrap()])
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut first = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut first)
            .unwrap();
        assert!(!first.is_empty(), "{format}");
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            out.stderr.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

/// The reports on stderr (malformed lines, the count at the end) meet a
/// pipe whose reader is gone (`2>&1 | head`): the command ends by its
/// exit status, not by a panic (status 101) on the first report it cannot
/// write.
#[test]
fn a_closed_stderr_does_not_make_the_command_panic() {
    let tmp = tempfile::tempdir().unwrap();
    let good = records(fixture(), "audit.log")[0].to_string();
    let mut text = String::new();
    for _ in 0..2000 {
        text.push_str("not a record\n");
    }
    text.push_str(&good);
    text.push('\n');
    let file = tmp.path().join("audit.log");
    fs::write(&file, text).unwrap();
    for command in ["query", "stats"] {
        let mut child = std::process::Command::new(BIN)
            .args([command, file.to_str().unwrap()])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        drop(child.stderr.take());
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(0), "{command}: {status:?}");
    }
}
