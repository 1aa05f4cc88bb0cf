//! The feature tables the crate documents (the guide in `src/lib.rs`, shown
//! on docs.rs, and the README) name every feature `Cargo.toml` declares:
//! a feature missing from them is one a reader cannot find.

use std::collections::BTreeSet;

/// The features `Cargo.toml` declares (`default` aside).
fn declared() -> BTreeSet<String> {
    let manifest = include_str!("../Cargo.toml");
    let section = manifest
        .split("\n[features]\n")
        .nth(1)
        .expect("a [features] section");
    let section = section.split("\n[").next().unwrap_or(section);
    section
        .lines()
        .filter(|l| !l.starts_with('#') && l.contains(" = "))
        .map(|l| l.split(" = ").next().unwrap().trim().to_owned())
        .filter(|name| name != "default")
        .collect()
}

/// The first cells (`` `name` ``) of the rows of the table headed
/// `| feature |` in `text`, the doc comment markers (`//! `) stripped.
fn table(text: &str) -> BTreeSet<String> {
    let mut rows = BTreeSet::new();
    let mut inside = false;
    for line in text.lines() {
        let line = line.trim_start_matches("//!").trim();
        if line.starts_with("| feature |") {
            inside = true;
            continue;
        }
        if inside {
            if !line.starts_with('|') {
                break;
            }
            let cell = line.split('|').nth(1).unwrap_or("").trim();
            if let Some(name) = cell.strip_prefix('`').and_then(|c| c.strip_suffix('`')) {
                rows.insert(name.to_owned());
            }
        }
    }
    rows
}

#[test]
fn the_guide_and_the_readme_list_every_feature() {
    let declared = declared();
    assert!(
        declared.contains("gzip") && declared.contains("chain"),
        "{declared:?}"
    );
    for (doc, text) in [
        ("src/lib.rs", include_str!("../src/lib.rs")),
        ("README.md", include_str!("../README.md")),
    ] {
        let listed = table(text);
        let missing: Vec<&String> = declared.difference(&listed).collect();
        assert!(
            missing.is_empty(),
            "{doc}'s feature table misses {missing:?}"
        );
    }
}
