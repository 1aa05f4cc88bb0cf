//! Attack on `log_dir` pointed at a directory another program already
//! writes to: its `app.log` holds that program's plain-text lines. The
//! crate must not take the file over (rotation would rename it and
//! retention then delete it with the other program's data): the build
//! fails, naming the file, and the file is left as it was.

use std::fs;

use tracing_audit::{Error, Kind};

const FOREIGN: &str = "127.0.0.1 - - [29/Nov/2026:10:00:00 +0000] \"GET / HTTP/1.1\" 200 612\n\
                       127.0.0.1 - - [29/Nov/2026:10:00:01 +0000] \"GET /x HTTP/1.1\" 404 0\n";

#[test]
fn a_live_file_of_another_program_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.log");
    fs::write(&app, FOREIGN).unwrap();
    let built = tracing_audit::layer()
        .log_dir(dir.path())
        .max_file_size(512)
        .max_files(1)
        .build::<tracing_subscriber::Registry>();
    match built {
        Err(e @ Error::ForeignFile(_)) => {
            let Error::ForeignFile(path) = &e else {
                unreachable!()
            };
            assert_eq!(path, &app, "{e}");
            assert!(e.to_string().contains("app.log"), "{e}");
        }
        Err(other) => panic!("another error: {other}"),
        Ok((layer, guard)) => {
            // Had it been taken over: write enough to rotate it away
            // several times, and show what retention leaves of it.
            use tracing_subscriber::layer::SubscriberExt;
            let subscriber = tracing_subscriber::registry().with(layer);
            tracing::subscriber::with_default(subscriber, || {
                for i in 0..100 {
                    tracing::info!(i, "a line long enough to rotate the small file soon");
                }
            });
            drop(guard);
            let mut left = String::new();
            for entry in fs::read_dir(dir.path()).unwrap() {
                left += &String::from_utf8_lossy(&fs::read(entry.unwrap().path()).unwrap());
            }
            panic!(
                "the other program's file was taken over; its lines survive: {}",
                left.contains("GET /x HTTP/1.1")
            );
        }
    }
    assert_eq!(fs::read_to_string(&app).unwrap(), FOREIGN);
}

#[test]
fn the_crates_own_files_and_empty_ones_are_taken_up_again() {
    let dir = tempfile::tempdir().unwrap();
    // A file of records from an earlier run, one cut short by a crash
    // (and zero bytes a power loss may leave), and an empty one.
    fs::write(
        dir.path().join("audit.log"),
        "{\"timestamp\":\"2026-11-29T10:00:00.000000Z\",\"level\":\"AUDIT\",\"name\":\"audit.crud\"}\n{\"timest",
    )
    .unwrap();
    fs::write(dir.path().join("login.log"), [0u8; 64]).unwrap();
    fs::write(dir.path().join("api.log"), "").unwrap();
    let (_layer, guard) = tracing_audit::layer()
        .log_dir(dir.path())
        .build::<tracing_subscriber::Registry>()
        .unwrap();
    assert!(guard.path(Kind::Audit).is_some());
    drop(guard);
}
