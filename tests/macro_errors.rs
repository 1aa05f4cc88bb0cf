//! Mistakes in the record macros are `compile_error!`s that name the
//! allowed keys (issue 11), and `layer()` has no console. The cases are in
//! one file: trybuild compiles each file as a crate of its own (after
//! checking every dependency and dev-dependency once, SeaORM and SQLx
//! included, in `target/tests/trybuild`).

#[test]
fn macro_mistakes_name_the_allowed_keys() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
