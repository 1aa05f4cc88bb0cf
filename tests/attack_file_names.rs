//! Attack on the builder's file names: two record kinds given one file.
//! Two appenders would rotate that file under each other (each with its
//! own idea of its size and of which rotated files to keep), and with the
//! hash chain on, two chains interleaved in one file make an untouched
//! trail read as tampered. The build refuses it, naming the file.

use tracing_audit::{Error, Kind};

/// A change to the builder's defaults.
type Configure = fn(tracing_audit::LayerBuilder) -> tracing_audit::LayerBuilder;

#[test]
fn two_kinds_in_one_file_are_refused_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let cases: [(&str, Configure); 3] = [
        ("audit.log", |b| b.file_name(Kind::Login, "audit.log")),
        ("shared.log", |b| {
            b.file_name(Kind::App, "shared.log")
                .file_name(Kind::Api, "./shared.log")
        }),
        ("all.log", |b| {
            Kind::ALL
                .into_iter()
                .fold(b, |b, kind| b.file_name(kind, "all.log"))
        }),
    ];
    for (shared, configure) in cases {
        let builder = configure(tracing_audit::layer().log_dir(dir.path()));
        match builder.build::<tracing_subscriber::Registry>() {
            Err(e @ Error::SharedFile(_)) => {
                let Error::SharedFile(path) = &e else {
                    unreachable!()
                };
                assert_eq!(path.file_name().unwrap(), shared, "{e}");
                assert!(e.to_string().contains(shared), "{e}");
            }
            Err(other) => panic!("{shared}: another error: {other}"),
            Ok(_) => panic!("{shared}: two kinds were let write to one file"),
        }
    }
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "nothing is created when the build is refused"
    );
}

#[test]
fn a_kind_sent_elsewhere_frees_its_file_name() {
    let dir = tempfile::tempdir().unwrap();
    // Login records to a writer of the caller's: `audit.log` is the audit
    // kind's alone, whatever name the login kind keeps.
    let (_layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .file_name(Kind::Login, "audit.log")
        .writer(Kind::Login, std::io::sink)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    drop(guard);
    let (_layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .file_name(Kind::App, "audit.log")
        .disable(Kind::App)
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    drop(guard);
}

/// A device is never rotated: every kind may write to `/dev/null` (or
/// `/dev/stdout` in a container).
#[cfg(unix)]
#[test]
fn kinds_may_share_a_device() {
    let builder = Kind::ALL.into_iter().fold(
        tracing_audit::layer().log_dir("/dev").max_file_size(None),
        |b, kind| b.file_name(kind, "null"),
    );
    let (_layer, guard) = builder.build::<tracing_subscriber::Registry>().unwrap();
    drop(guard);
}
