// `layer()` builds the audit layer alone: the console and `init` belong to
// the subscriber `builder()` installs, so asking for them does not compile
// (before, `layer().console(true).build()` ignored the console).
fn main() {
    let _ = tracing_audit::layer().console(true);
    let _ = tracing_audit::layer().console_writer(std::io::stderr);
    let _ = tracing_audit::layer().init();
    // `builder()` has no `build()`: its console would be lost there.
    let _ = tracing_audit::builder().build::<tracing_subscriber::Registry>();
}
