//! Attack on the CSV formula guard: a cell starting with `-` or `+` was
//! left unquoted whenever Rust's `f64` parser took it, and that parser
//! takes words no spreadsheet reads as a number (`-inf`, `+nan`,
//! `-Infinity`) and numbers out of any spreadsheet's range (`-1e999`).
//! A spreadsheet runs those as formulas (`=-inf` is a name lookup), so
//! they must open as text; plain numbers stay numbers.
#![cfg(feature = "cli")]

use tracing_audit::cli::export::spreadsheet_safe;

fn guarded(cell: &str) -> String {
    let mut cell = cell.to_owned();
    spreadsheet_safe(&mut cell);
    cell
}

#[test]
fn words_the_float_parser_takes_are_quoted() {
    for cell in [
        "-inf",
        "+inf",
        "-INF",
        "-infinity",
        "+Infinity",
        "-nan",
        "+NaN",
        "-1e999",
        "+1e400",
        "-",
        "+",
        "-e5",
        "-.",
        "-1e",
        "-1e+",
    ] {
        assert_eq!(guarded(cell), format!("'{cell}"), "{cell:?}");
    }
}

#[test]
fn numbers_a_spreadsheet_reads_as_numbers_stay_as_they_are() {
    for cell in [
        "-5",
        "+5",
        "-1.5",
        "-.5",
        "-5.",
        "-1e5",
        "+1E-3",
        "-0",
        "-12.5e+10",
        // Not starting with a formula character: never touched.
        "inf",
        "nan",
        "5",
    ] {
        assert_eq!(guarded(cell), cell, "{cell:?}");
    }
}
