//! The public API as a newcomer guesses it (issue 11): names at the root,
//! calls without type annotations, errors that keep their source.

use tracing_audit::{diff, Changes, Kind};

#[test]
fn kind_and_diff_are_at_the_root() {
    #[derive(serde::Serialize)]
    struct P {
        price: u32,
    }
    let changes: Changes = diff(&P { price: 1 }, &P { price: 2 });
    assert_eq!(changes.len(), 1);
    assert_eq!(Kind::of_target("audit.login"), Kind::Login);
    // The record module still names the same type.
    assert_eq!(tracing_audit::record::Kind::Audit, Kind::Audit);
}
