//! Criterion benchmark: the value scan of the redaction policy
//! (`Policy::is_secret_value`, the hand-written one-pass scanner every
//! string of every record goes through) next to the `regex` crate doing
//! the same search, on the strings a record typically carries.
//!
//! ```text
//! cargo bench --bench redact
//! ```
//!
//! The regex is one alternation of the same classes (`Bearer`/`Basic`
//! credentials, JWTs, URL userinfo, the well-known prefixes, digit runs
//! that could be card numbers, a key containing a default secret word
//! before `:` or `=`), compiled once; it is asked only `find` (where the
//! first candidate is), not the checks the scanner makes after a candidate
//! (Luhn and card ranges, the base64 of `Basic`, the look of a bearer
//! token, key segments), so it does less work than the scanner. Each input
//! is timed with both.
//!
//! - `no_secret/*`: what nearly every string is: a model name, a CRUD
//!   message, a UUID,
//!   a browser user agent, an error message of about 200 bytes, a
//!   timestamped log line with numbers.
//! - `secret/*`: a bearer JWT in a header line, a card number at the end of
//!   a sentence.

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use regex::Regex;
use tracing_audit::redact::Policy;

const PATTERN: &str = concat!(
    r"(?i:\b(?:bearer|basic)[ \t]+[A-Za-z0-9\-._~+/]+=*)",
    r"|\beyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*",
    r"|[A-Za-z0-9]://[A-Za-z0-9\-._~!$&'()*+,;=:%]+@",
    r"|\b(?:sk_live_|sk_test_|rk_live_|rk_test_|whsec_|gh[pousr]_|github_pat_|glpat-",
    r"|xox[bpasr]-|xapp-|npm_|pypi-|hf_|sk-ant-|sk-proj-|sk-|SG\.|ya29\.",
    r"|shp(?:at|ss|ca|pa)_|dop_v1_)[A-Za-z0-9_.-]{10,}",
    r"|\b(?:AKIA|ASIA)[A-Z0-9]{16}\b|\bAIza[A-Za-z0-9_-]{30,}",
    r"|-----BEGIN [A-Z ]*PRIVATE KEY-----",
    r"|\b\d(?:[ -]?\d){12,18}\b",
    r#"|(?i:[A-Za-z0-9_.-]*(?:password|passwd|pwd|pass|secret|token|jwt|bearer|auth"#,
    r#"|credential|api_?key|access|refresh|session|cookie|signature|otp|pin|cvv|cvc|ssn)"#,
    r#"[A-Za-z0-9_.-]*["']?[ \t]*[:=])"#,
);

const NO_SECRET: &[(&str, &str)] = &[
    ("model_name", "Product"),
    ("crud_message", "UPDATE event for Product (id: 42)"),
    ("uuid", "0193a2b4-7c1e-7000-8000-000000000001"),
    (
        "user_agent",
        "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    ),
    (
        "error_200b",
        "failed to connect to the billing service at billing.internal:8443 after 3 attempts: connection refused (os error 111); the request was retried with exponential backoff and then abandoned by the caller",
    ),
    (
        "xml_order",
        "<order id=\"42\"><item sku=\"W-1\">widget</item><qty>3</qty><note>leave at the door &gt; porch</note></order>",
    ),
    (
        "log_line",
        "2024-11-29T05:17:04.123456Z worker 7 processed batch 1732812345 of 250 items in 12.5 ms",
    ),
];

const SECRET: &[(&str, &str)] = &[
    (
        "bearer_jwt",
        "Authorization: Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    ),
    ("card_in_text", "the customer paid with 4111 1111 1111 1111"),
    (
        "xml_password",
        "<login><user>bob</user><password>hunter2</password></login>",
    ),
];

fn scan(c: &mut Criterion) {
    let policy = Policy::default();
    let regex = Regex::new(PATTERN).expect("the pattern compiles");
    for (group, inputs) in [("no_secret", NO_SECRET), ("secret", SECRET)] {
        let mut g = c.benchmark_group(format!("redact/{group}"));
        for &(name, text) in inputs {
            g.throughput(Throughput::Bytes(text.len() as u64));
            g.bench_with_input(BenchmarkId::new("tracing-audit", name), text, |b, t| {
                b.iter(|| policy.is_secret_value(black_box(t)))
            });
            g.bench_with_input(BenchmarkId::new("regex", name), text, |b, t| {
                b.iter(|| regex.find(black_box(t)).is_some())
            });
        }
        g.finish();
    }
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(30);
    targets = scan
}
criterion_main!(benches);
