//! Settings that would destroy data are refused at build time; retention
//! deletions are counted.

mod common;

use std::io;

use common::{files_of, line};
use tracing_audit::appender::{Appender, ConfigError};
use tracing_audit::Error;

fn config_error(e: &io::Error) -> Option<ConfigError> {
    e.get_ref()?.downcast_ref::<ConfigError>().copied()
}

#[test]
fn max_file_size_zero_is_refused_by_the_appender() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let err = Appender::builder(&path)
        .max_file_size(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::InvalidInput);
    assert_eq!(config_error(&err), Some(ConfigError::ZeroMaxFileSize));
    assert!(err.to_string().contains("max_file_size(0)"), "{err}");
    assert!(!path.exists(), "no file is made for a refused setting");
}

#[test]
fn max_files_zero_is_refused_unless_asked_for_explicitly() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let err = Appender::builder(&path).max_files(0).build().unwrap_err();
    assert_eq!(config_error(&err), Some(ConfigError::ZeroMaxFiles));
    assert!(err.to_string().contains("max_files(0)"), "{err}");

    // Asked for: every rotated file is deleted, and each deletion counted.
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(4096)
        .discard_rotated_files()
        .build()
        .unwrap();
    for n in 0..1_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert!(stats.rotations > 10, "{stats:?}");
    assert_eq!(stats.files_removed, stats.rotations);
    assert_eq!(files_of(&path), vec![path.clone()]);
}

#[test]
fn the_whole_stack_refuses_them_with_a_config_error() {
    let dir = tempfile::tempdir().unwrap();
    let refused = |b: tracing_audit::LayerBuilder| match b
        .log_dir(dir.path())
        .build::<tracing_subscriber::Registry>()
    {
        Err(Error::Config(e)) => e,
        Err(e) => panic!("wrong error {e}"),
        Ok(_) => panic!("accepted"),
    };
    assert_eq!(
        refused(tracing_audit::layer().max_file_size(0)),
        ConfigError::ZeroMaxFileSize
    );
    assert_eq!(
        refused(tracing_audit::layer().max_files(0)),
        ConfigError::ZeroMaxFiles
    );
    assert_eq!(
        refused(tracing_audit::layer().configure_appender(|_, a| a.max_file_size(0))),
        ConfigError::ZeroMaxFileSize
    );
    let shown = Error::Config(ConfigError::ZeroMaxFiles).to_string();
    assert!(shown.contains("max_files(0)"), "{shown}");
}

#[test]
fn retention_deletions_are_counted() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("audit.log");
    let (appender, guard) = Appender::builder(&path)
        .max_file_size(16 * 1024)
        .max_files(3)
        .build()
        .unwrap();
    for n in 0..5_000 {
        appender.send_line(line(0, n)).unwrap();
    }
    drop(guard);
    let stats = appender.stats();
    assert!(stats.rotations > 10, "{stats:?}");
    assert_eq!(files_of(&path).len(), 4);
    assert_eq!(stats.files_removed, stats.rotations - 3);
}
