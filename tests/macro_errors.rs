//! Mistakes in the record macros are `compile_error!`s that name the
//! allowed keys (issue 11). Few cases on purpose: each costs a compile.

#[test]
fn macro_mistakes_name_the_allowed_keys() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/compile_fail/*.rs");
}
