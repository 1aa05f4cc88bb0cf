// Every mistake in one file: trybuild compiles each file as its own crate,
// so one file is one compile.

// Record macros: an unknown key, and `id:` where the bulk kinds take `ids:`
// or out of order.
fn macro_keys() {
    tracing_audit::update!(model: "Product", id: 42, colour: "red");
    tracing_audit::login!(user: 7, colour: "red");
    tracing_audit::bulk_delete!(model: "Session", id: 7);
    tracing_audit::read!(id: 7, model: "Invoice");
}

// `layer()` builds the audit layer alone: the console and `init` belong to
// the subscriber `builder()` installs, so asking for them does not compile
// (before, `layer().console(true).build()` ignored the console).
fn layer_has_no_console() {
    let _ = tracing_audit::layer().console(true);
    let _ = tracing_audit::layer().console_writer(std::io::stderr);
    let _ = tracing_audit::layer().init();
    // `builder()` has no `build()`: its console would be lost there.
    let _ = tracing_audit::builder().build::<tracing_subscriber::Registry>();
}

fn main() {
    macro_keys();
    layer_has_no_console();
}
