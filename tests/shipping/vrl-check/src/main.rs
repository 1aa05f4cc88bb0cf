//! Compiles the VRL of `examples/shipping/vector.toml` with `vrl` (the
//! language crate Vector itself runs) and runs it on the crate's real lines,
//! as Vector would: every line of every file the sources include must come
//! out of the `parse` transform as the same record (nested values as their
//! exact JSON text) and match exactly the route of its file's kind; lines
//! that are not records must take the dead-letter route.
//!
//! ```text
//! cargo run -- ../../../examples/shipping/vector.toml <dir written by the shipping example>
//! ```

use std::collections::{BTreeMap, HashMap};
use std::error::Error;
use std::fs;
use std::path::Path;

use serde_json::value::RawValue;
use vrl::compiler::state::RuntimeState;
use vrl::compiler::{compile, Context, Program, TargetValue, TimeZone};
use vrl::value::{Secrets, Value};

struct Checks {
    passed: u64,
    failed: u64,
}

impl Checks {
    fn check(&mut self, what: &str, ok: bool, detail: impl std::fmt::Debug) {
        if ok {
            self.passed += 1;
        } else {
            self.failed += 1;
            println!("  FAIL  {what}: {detail:?}");
        }
    }
}

/// What a `remap` or a route condition does with one event.
enum Outcome {
    /// The program ran; the event afterwards, and the program's value.
    Done(Value, Value),
    /// Error or abort: with `drop_on_error`/`drop_on_abort` and
    /// `reroute_dropped`, the event goes to `<transform>.dropped`.
    Dropped(String),
}

fn run(program: &Program, event: Value) -> Outcome {
    let mut target = TargetValue {
        value: event,
        metadata: Value::Object(BTreeMap::new()),
        secrets: Secrets::default(),
    };
    let mut state = RuntimeState::default();
    let timezone = TimeZone::default();
    let mut ctx = Context::new(&mut target, &mut state, &timezone);
    match program.resolve(&mut ctx) {
        Ok(value) => Outcome::Done(target.value, value),
        Err(e) => Outcome::Dropped(e.to_string()),
    }
}

fn compile_vrl(name: &str, source: &str) -> Result<Program, Box<dyn Error>> {
    let fns = vrl::stdlib::all();
    match compile(source, &fns) {
        Ok(result) => Ok(result.program),
        Err(diagnostics) => Err(format!(
            "{name} does not compile:\n{}",
            vrl::diagnostic::Formatter::new(source, diagnostics)
        )
        .into()),
    }
}

/// The event Vector's `file` source makes of one line.
fn file_event(line: &str, file: &str) -> Value {
    Value::from(serde_json::json!({
        "message": line,
        "file": file,
        "host": "shipper",
        "source_type": "file",
        "timestamp": "2026-11-29T00:00:00Z",
    }))
}

/// The routes whose condition holds for this record.
fn routes_of(routes: &[(String, Program)], record: &Value) -> Vec<String> {
    routes
        .iter()
        .filter(|(_, condition)| {
            matches!(
                run(condition, record.clone()),
                Outcome::Done(_, Value::Boolean(true))
            )
        })
        .map(|(name, _)| name.clone())
        .collect()
}

/// True when `out` is the record of `line` as the table should get it:
/// the same keys, scalars equal, objects and arrays as their exact text.
fn same_record(line: &str, out: &Value) -> Result<(), String> {
    let raw: HashMap<String, &RawValue> =
        serde_json::from_str(line).map_err(|e| format!("not an object: {e}"))?;
    let Value::Object(out) = out else {
        return Err("output is not an object".into());
    };
    if out.len() != raw.len() {
        return Err(format!("{} keys in, {} out", raw.len(), out.len()));
    }
    for (key, raw) in raw {
        let got = out
            .get(key.as_str())
            .ok_or_else(|| format!("key {key} lost"))?;
        let text = raw.get();
        if text.starts_with('{') || text.starts_with('[') {
            match got {
                Value::Bytes(b) if b.as_ref() == text.as_bytes() => {}
                _ => return Err(format!("{key}: nested value not kept as its text: {got:?}")),
            }
        } else {
            let want: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
            let got = serde_json::to_value(got).map_err(|e| e.to_string())?;
            if want != got {
                return Err(format!("{key}: {want} became {got}"));
            }
        }
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn Error>> {
    let mut args = std::env::args().skip(1);
    let config_path = args
        .next()
        .ok_or("usage: vrl-check <vector.toml> <log dir>")?;
    let dir = args
        .next()
        .ok_or("usage: vrl-check <vector.toml> <log dir>")?;
    let config: toml::Value = toml::from_str(&fs::read_to_string(&config_path)?)?;
    let transforms = config
        .get("transforms")
        .and_then(|t| t.as_table())
        .ok_or("no [transforms]")?;

    let parse_source = transforms
        .get("parse")
        .and_then(|t| t.get("source"))
        .and_then(|s| s.as_str())
        .ok_or("no transforms.parse.source")?;
    let parse = compile_vrl("transforms.parse", parse_source)?;
    let mut routes = Vec::new();
    for (name, condition) in transforms
        .get("by_level")
        .and_then(|t| t.get("route"))
        .and_then(|r| r.as_table())
        .ok_or("no transforms.by_level.route")?
    {
        let condition = condition
            .as_str()
            .ok_or("a route condition is not a string")?;
        routes.push((
            name.clone(),
            compile_vrl(&format!("route {name}"), condition)?,
        ));
    }
    println!(
        "compiled transforms.parse and {} route conditions ({})",
        routes.len(),
        routes
            .iter()
            .map(|(n, _)| n.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    );

    let mut checks = Checks {
        passed: 0,
        failed: 0,
    };
    let mut lines_by_kind: BTreeMap<String, u64> = BTreeMap::new();
    let mut names: Vec<_> = fs::read_dir(&dir)?
        .filter_map(Result::ok)
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for name in names {
        // The names the sources include: `<kind>.log` and `<kind>.log.<UTC time>Z`.
        let Some((kind, rest)) = name.split_once(".log") else {
            continue;
        };
        if !(rest.is_empty() || (rest.starts_with('.') && rest.ends_with('Z'))) {
            continue;
        }
        let path = Path::new(&dir).join(&name);
        let text = fs::read_to_string(&path)?;
        for line in text.lines() {
            *lines_by_kind.entry(kind.to_string()).or_default() += 1;
            match run(&parse, file_event(line, &path.to_string_lossy())) {
                Outcome::Dropped(why) => {
                    checks.check(&format!("{name}: a record is parsed"), false, (why, line))
                }
                Outcome::Done(record, _) => {
                    let same = same_record(line, &record);
                    checks.check(
                        &format!("{name}: the record comes out whole"),
                        same.is_ok(),
                        (same, line.get(..200)),
                    );
                    let matched = routes_of(&routes, &record);
                    checks.check(
                        &format!("{name}: routed to {kind} only"),
                        matched == [kind],
                        (matched, line.get(..200)),
                    );
                }
            }
        }
    }
    println!("ran transforms.parse and the routes on {lines_by_kind:?} lines");
    checks.check(
        "lines of every kind",
        lines_by_kind.len() == 4,
        &lines_by_kind,
    );

    // Lines that are not records go to the dead letter sink, by
    // `parse.dropped` (an error or abort) or `by_level._unmatched`.
    let bad = [
        (
            "torn line",
            r#"{"timestamp":"2026-11-29T10:00:00.123456Z","level":"AU"#,
        ),
        ("not JSON", "hello world"),
        ("empty line", ""),
        ("an array", r#"[{"level":"AUDIT"}]"#),
        ("a string", r#""AUDIT""#),
        (
            "no event_id",
            r#"{"timestamp":"2026-11-29T10:00:00.123456Z","level":"AUDIT","message":"x"}"#,
        ),
        (
            "level not a string",
            r#"{"timestamp":"2026-11-29T10:00:00.123456Z","level":21,"event_id":"e","message":"x"}"#,
        ),
        (
            "two records on a line",
            r#"{"level":"AUDIT","event_id":"a","timestamp":"t"}{"level":"AUDIT"}"#,
        ),
    ];
    for (what, line) in bad {
        let dropped = matches!(
            run(&parse, file_event(line, "audit.log")),
            Outcome::Dropped(_)
        );
        checks.check(
            &format!("{what} goes to parse.dropped (dead letter)"),
            dropped,
            line,
        );
    }
    let unknown_level = r#"{"timestamp":"2026-11-29T10:00:00.123456Z","level":"NOTICE","event_id":"e","message":"x"}"#;
    match run(&parse, file_event(unknown_level, "app.log")) {
        Outcome::Done(record, _) => {
            let matched = routes_of(&routes, &record);
            checks.check(
                "an unknown level matches no route (by_level._unmatched, dead letter)",
                matched.is_empty(),
                matched,
            );
        }
        Outcome::Dropped(why) => checks.check("an unknown level is parsed", false, why),
    }

    // Why `max_depth: 1`: a full parse turns an integer above 2^63 into a
    // float, and the row would hold other digits than the file.
    let full = compile_vrl("full parse", ". = parse_json!(string!(.message))")?;
    let line = r#"{"level":"AUDIT","changes":{"id":{"old":18446744073709551615,"new":1}}}"#;
    if let Outcome::Done(record, _) = run(&full, file_event(line, "audit.log")) {
        let text = serde_json::to_string(&record)?;
        checks.check(
            "a full parse would lose u64::MAX (the reason for max_depth: 1)",
            !text.contains("18446744073709551615"),
            text,
        );
    }

    println!(
        "vrl check: {} passed, {} failed",
        checks.passed, checks.failed
    );
    if checks.failed > 0 {
        std::process::exit(1);
    }
    Ok(())
}
