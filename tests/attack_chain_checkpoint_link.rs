//! Attack: a symbolic link planted at the chain's temporary checkpoint
//! name (`audit.log.checkpoint.tmp`), by someone who can write the
//! checkpoint directory (the log directory by default). The checkpoint was
//! written with `File::create`, which follows the link and truncates its
//! target: the process (root, say) overwrote any file the link named with
//! a checkpoint. The link is now replaced, never followed, and the
//! checkpoint is still written.
#![cfg(all(unix, feature = "chain"))]

mod chain;

use std::fs;
use std::os::unix::fs::symlink;

use chain::write;
use tracing_audit::chain::{ChainOptions, Checkpoint};

#[test]
fn a_link_at_the_temporary_checkpoint_name_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let victim = dir.path().join("precious.conf");
    fs::write(&victim, b"do not touch\n").unwrap();
    symlink(&victim, dir.path().join("audit.log.checkpoint.tmp")).unwrap();
    // A dangling one too, for a file that does not exist yet.
    let elsewhere = dir.path().join("elsewhere");
    fs::create_dir(&elsewhere).unwrap();
    let login_victim = elsewhere.join("made");
    symlink(&login_victim, dir.path().join("login.log.checkpoint.tmp")).unwrap();

    write(dir.path(), 0, 5, 1 << 30, &ChainOptions::new(), false);

    assert_eq!(
        fs::read(&victim).unwrap(),
        b"do not touch\n",
        "the link's target was overwritten"
    );
    let text = fs::read_to_string(dir.path().join("audit.log.checkpoint")).unwrap();
    let checkpoint = Checkpoint::from_json(&text).unwrap();
    assert_eq!(checkpoint.seq, 6, "start record and 5 records: {text}");

    // The same for a chain of another file, through a dangling link.
    let live = dir.path().join("login.log");
    let (appender, guard) = tracing_audit::appender::Appender::builder(&live)
        .line_transform(ChainOptions::new().line_transform(&live))
        .build()
        .unwrap();
    appender.write_line(chain::record(1).as_bytes()).unwrap();
    drop(guard);
    assert!(!login_victim.exists(), "a file was made through the link");
    assert!(dir.path().join("login.log.checkpoint").is_file());
}
