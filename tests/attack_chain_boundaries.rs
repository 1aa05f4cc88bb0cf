//! Attack on `verify` at rotation boundaries, where each file's first
//! record links to the file before: the last line of a rotated file
//! removed, the first line (the rotation record) of the next removed,
//! two rotated files swapped by renaming, and a rotated file copied under
//! a later name. Each must be a break, never an intact report.
#![cfg(feature = "chain")]

mod chain;

use std::path::Path;

use chain::{broken, files, lines, rewrite, write};
use tracing_audit::chain::{ChainOptions, VerifyOptions};

fn small_chain(dir: &Path) {
    write(dir, 0, 80, 6_000, &ChainOptions::new(), false);
    assert!(files(dir).len() >= 4, "rotated: {:?}", files(dir));
}

#[test]
fn the_last_line_of_a_rotated_file_removed_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    let mut text = lines(&files[1]);
    text.pop();
    rewrite(&files[1], &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.file.as_path(), b.line), (files[2].as_path(), 1), "{b}");
}

#[test]
fn the_rotation_record_opening_a_file_removed_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    let mut text = lines(&files[2]);
    text.remove(0);
    rewrite(&files[2], &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(b.file.as_path(), files[2].as_path(), "{b}");
}

#[test]
fn two_rotated_files_swapped_by_name_are_a_break() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    let tmp = dir.path().join("swap");
    std::fs::rename(&files[1], &tmp).unwrap();
    std::fs::rename(&files[2], &files[1]).unwrap();
    std::fs::rename(&tmp, &files[2]).unwrap();
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(b.file.as_path(), files[1].as_path(), "{b}");
}

#[test]
fn a_rotated_file_copied_under_a_later_name_is_a_break() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    // A name after every rotated file, before the live file.
    let copy = dir.path().join("audit.log.29991231T000000.000000Z");
    std::fs::copy(&files[1], &copy).unwrap();
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(b.file.as_path(), copy.as_path(), "{b}");
}
