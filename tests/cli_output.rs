//! `export -O FILE` and `report --html FILE` never write over the records
//! they read (an input file, a link to one, or an audit file's name in an
//! input directory: refused, exit status 2, nothing touched), and replace
//! an existing FILE only once the new one is complete.
#![cfg(feature = "cli")]

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tracing-audit");

fn record(n: u32) -> String {
    format!(
        "{{\"timestamp\":\"2026-11-22T10:00:{:02}.000000Z\",\"level\":\"AUDIT\",\
         \"name\":\"audit.crud\",\"event_id\":\"id-{n}\",\"message\":\"record {n} {}\"}}\n",
        n % 60,
        "x".repeat(80)
    )
}

/// `audit_logs/` with a rotated and a live audit file.
fn fixture(root: &Path) -> PathBuf {
    let dir = root.join("audit_logs");
    fs::create_dir(&dir).unwrap();
    let rotated: String = (0..10).map(record).collect();
    let live: String = (10..20).map(record).collect();
    fs::write(dir.join("audit.log.20261122T100000.000000Z"), rotated).unwrap();
    fs::write(dir.join("audit.log"), live).unwrap();
    dir
}

/// Every file in `dir` with its text.
fn snapshot(dir: &Path) -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_file())
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                String::from_utf8_lossy(&fs::read(&p).unwrap()).into_owned(),
            )
        })
        .collect();
    files.sort();
    files
}

fn run(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The outputs that name the records read, for the inputs `dir` (a
/// directory) and `dir/audit.log` (a file).
fn hostile_outputs(root: &Path, dir: &Path) -> Vec<(PathBuf, PathBuf)> {
    fs::create_dir_all(dir.join("sub")).unwrap();
    let mut cases = vec![
        (dir.to_path_buf(), dir.join("audit.log")),
        (
            dir.to_path_buf(),
            dir.join("audit.log.20261122T100000.000000Z"),
        ),
        // Not there yet, but the appender's name: records planted among
        // the audit files.
        (dir.to_path_buf(), dir.join("api.log")),
        (
            dir.to_path_buf(),
            dir.join("login.log.20990101T000000.000000Z.gz"),
        ),
        (dir.to_path_buf(), dir.join("sub/../audit.log")),
        (dir.join("audit.log"), dir.join("audit.log")),
        (dir.join("audit.log"), root.join("audit_logs/./audit.log")),
    ];
    #[cfg(unix)]
    {
        let symlink = root.join("link.jsonl");
        std::os::unix::fs::symlink(dir.join("audit.log"), &symlink).unwrap();
        cases.push((dir.to_path_buf(), symlink.clone()));
        cases.push((dir.join("audit.log"), symlink));
        let hard = root.join("hard.jsonl");
        fs::hard_link(dir.join("audit.log"), &hard).unwrap();
        cases.push((dir.to_path_buf(), hard.clone()));
        cases.push((dir.join("audit.log"), hard));
    }
    cases
}

fn assert_refused(out: &Output, case: &str) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{case}: {stderr}");
    assert!(
        stderr.contains("refusing to write the output"),
        "{case}: {stderr}"
    );
}

#[test]
fn export_refuses_an_output_that_is_one_of_its_inputs_and_touches_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = fixture(root.path());
    for (input, output) in hostile_outputs(root.path(), &dir) {
        let before = snapshot(&dir);
        let out = run(&[
            "export",
            "--no-progress",
            "-f",
            "jsonl",
            s(&input),
            "-O",
            s(&output),
        ]);
        let case = format!("export {} -O {}", input.display(), output.display());
        assert_refused(&out, &case);
        assert_eq!(snapshot(&dir), before, "{case} changed the inputs");
    }
}

#[test]
fn report_refuses_an_output_that_is_one_of_its_inputs_and_touches_nothing() {
    let root = tempfile::tempdir().unwrap();
    let dir = fixture(root.path());
    for (input, output) in hostile_outputs(root.path(), &dir) {
        let before = snapshot(&dir);
        let out = run(&["report", "--no-progress", "--html", s(&output), s(&input)]);
        let case = format!("report {} --html {}", input.display(), output.display());
        assert_refused(&out, &case);
        assert_eq!(snapshot(&dir), before, "{case} changed the inputs");
    }
}

#[test]
fn an_output_with_another_name_in_an_input_directory_is_written() {
    let root = tempfile::tempdir().unwrap();
    let dir = fixture(root.path());
    let before = snapshot(&dir);
    let export = dir.join("export.jsonl");
    let out = run(&[
        "export",
        "--no-progress",
        "-f",
        "jsonl",
        s(&dir),
        "-O",
        s(&export),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let expected: String = (0..20).map(record).collect();
    assert_eq!(fs::read_to_string(&export).unwrap(), expected);

    let page = dir.join("report.html");
    let out = run(&["report", "--no-progress", "--html", s(&page), s(&dir)]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(fs::read_to_string(&page).unwrap().contains("20 records"));

    // The inputs are as they were; nothing else was left behind.
    let mut after = snapshot(&dir);
    after.retain(|(name, _)| name != "export.jsonl" && name != "report.html");
    assert_eq!(after, before);
}

/// A replaced output keeps its mode; a new one gets what any new file
/// gets.
#[cfg(unix)]
#[test]
fn a_replaced_output_keeps_its_mode() {
    use std::os::unix::fs::PermissionsExt;
    let root = tempfile::tempdir().unwrap();
    let dir = fixture(root.path());
    let export = root.path().join("export.jsonl");
    fs::write(&export, b"old\n").unwrap();
    fs::set_permissions(&export, fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(&[
        "export",
        "--no-progress",
        "-f",
        "jsonl",
        s(&dir),
        "-O",
        s(&export),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mode = fs::metadata(&export).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o600);
    assert_eq!(
        fs::read_to_string(&export).unwrap(),
        (0..20).map(record).collect::<String>()
    );
}

/// The output cannot be written whole (the file size limit is hit half
/// way): the command fails and the old file is as it was, with no
/// half-written file or temporary file left.
#[cfg(target_os = "linux")]
#[test]
fn a_failed_export_or_report_leaves_the_old_output_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let dir = fixture(root.path());
    let out_dir = root.path().join("out");
    fs::create_dir(&out_dir).unwrap();
    let export = out_dir.join("export.jsonl");
    let page = out_dir.join("report.html");
    fs::write(&export, b"the old export\n").unwrap();
    fs::write(&page, b"the old page\n").unwrap();
    for args in [
        vec![
            "export",
            "--no-progress",
            "-f",
            "jsonl",
            s(&dir),
            "-O",
            s(&export),
        ],
        vec!["report", "--no-progress", "--html", s(&page), s(&dir)],
    ] {
        // 1 KiB at most per file: writes past it fail with EFBIG (the
        // signal that would kill the process instead is ignored).
        let out = Command::new("sh")
            .arg("-c")
            .arg("trap '' XFSZ; ulimit -f 2; exec \"$@\"")
            .arg("sh")
            .arg(BIN)
            .args(&args)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {stderr}");
        assert!(
            stderr.contains("cannot write the output"),
            "{args:?}: {stderr}"
        );
    }
    assert_eq!(
        snapshot(&out_dir),
        vec![
            ("export.jsonl".to_owned(), "the old export\n".to_owned()),
            ("report.html".to_owned(), "the old page\n".to_owned()),
        ]
    );
}
