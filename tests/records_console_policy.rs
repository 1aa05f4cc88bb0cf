//! A record body printed by another layer (a console) is redacted with the
//! policy of the crate's layer, not the default one. Its own binary: the
//! policy for printing is the last built layer's, process-wide.

use serde_json::json;
use tracing_audit::redact::Policy;

#[test]
fn bodies_printed_by_another_layer_use_the_configured_policy() {
    use std::sync::{Arc, Mutex};
    use tracing_subscriber::prelude::*;

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl std::io::Write for Buf {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let (audit, _guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .redaction(Policy::default().with_key("pin").mask_with("***"))
        .build()
        .unwrap();
    let console = Buf::default();
    let shown = console.clone();
    let subscriber = tracing_subscriber::registry().with(audit).with(
        tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(move || console.clone()),
    );
    tracing::subscriber::with_default(subscriber, || {
        tracing_audit::create!(model: "Card", id: 1, instance: json!({"pin": "1234"}));
    });
    let text = String::from_utf8(shown.0.lock().unwrap().clone()).unwrap();
    assert!(text.contains(r#""pin":"***""#), "{text}");
    assert!(!text.contains("1234"), "{text}");
}
