//! Tamper evidence: every kind of tampering names the first broken record
//! (file, line, seq, what is wrong); a clean chain across rotated and
//! gzipped files verifies; a restart continues the chain; lines written
//! again after the file vanished still verify; the `verify` command's
//! exit codes.

mod chain;

use std::path::Path;
use std::process::Command;

use chain::{assert_intact, broken, files, json, lines, record, rewrite, write};
use sha2::{Digest, Sha256};
use tracing_audit::appender::Appender;
use tracing_audit::chain::{ChainOptions, VerifyOptions};

/// About 60 records over 3 or more files, plain.
fn small_chain(dir: &Path) {
    write(dir, 0, 60, 6_000, &ChainOptions::new(), false);
    assert!(files(dir).len() >= 3, "rotated: {:?}", files(dir));
}

/// A rotated file between two others, where the tests tamper.
fn middle(dir: &Path) -> std::path::PathBuf {
    files(dir)[1].clone()
}

fn live(dir: &Path) -> std::path::PathBuf {
    dir.join("audit.log")
}

#[test]
fn an_untouched_small_chain_verifies_and_every_line_is_json_with_its_chain_members() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let c = &report.chains[0];
    assert_eq!(c.name, "audit.log");
    assert!(c.starts_at_genesis && c.hashes_checked);
    assert_eq!(c.first_seq, Some(1));
    // 60 records, one start record per file.
    let files = files(dir.path());
    assert_eq!(c.records, 60 + files.len() as u64);
    assert_eq!(c.last_seq, Some(c.records));
    let mut expected_seq = 1;
    for (i, file) in files.iter().enumerate() {
        for (n, line) in lines(file).iter().enumerate() {
            let v = json(line);
            assert_eq!(v["seq"], expected_seq);
            expected_seq += 1;
            if n == 0 {
                assert_eq!(
                    v["name"], "audit.chain",
                    "each file opens with a start record"
                );
                let event = if i == 0 { "start" } else { "rotate" };
                assert_eq!(v["chain_event"], event);
                if i > 0 {
                    let previous = files[i - 1].file_name().unwrap().to_str().unwrap();
                    assert_eq!(v["prev_file"], previous);
                }
            }
        }
    }
}

/// The documented recipe, applied by hand: SHA-256 of the line without
/// its `hash` member, and `prev_hash` the previous line's `hash`.
#[test]
fn a_third_party_can_recompute_every_hash_from_the_documented_bytes() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let mut prev = "0".repeat(64);
    for file in files(dir.path()) {
        for line in lines(&file) {
            let cut = line.rfind(r#","hash":""#).unwrap();
            let body = format!("{}}}", &line[..cut]);
            let v = json(&line);
            assert_eq!(v["prev_hash"], prev.as_str());
            let hash = hex::encode(Sha256::digest(body.as_bytes()));
            assert_eq!(v["hash"], hash.as_str());
            prev = hash;
        }
    }
}

/// A rotated file renamed (its records untouched, still listed between
/// the same neighbours): the links still hold, but the rotation record at
/// the top of the next file names the file's old name, so verify names it.
#[test]
fn a_renamed_middle_file_is_named_by_the_start_record_after_it() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    let name = |p: &Path| p.file_name().unwrap().to_str().unwrap().to_owned();
    let old = name(&files[1]);
    // The same name one microsecond later or earlier, still between its
    // neighbours.
    let new = [b'1', b'0', b'9', b'8']
        .into_iter()
        .map(|digit| {
            let mut bytes = old.clone().into_bytes();
            let at = bytes.len() - 2;
            bytes[at] = digit;
            String::from_utf8(bytes).unwrap()
        })
        .find(|n| *n != old && name(&files[0]) < *n && *n < name(&files[2]))
        .expect("a free name between the neighbours");
    std::fs::rename(&files[1], dir.path().join(&new)).unwrap();
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.file.as_path(), b.line), (files[2].as_path(), 1), "{b}");
    assert!(
        b.problem.contains(&old) && b.problem.contains(&new),
        "{}",
        b.problem
    );
}

#[test]
fn a_one_byte_edit_is_named() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let mut text = lines(&middle(dir.path()));
    let seq = json(&text[4])["seq"].as_u64();
    text[4] = text[4].replacen("record ", "record!", 1);
    rewrite(&middle(dir.path()), &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(
        (b.file.as_path(), b.line, b.seq),
        (middle(dir.path()).as_path(), 5, seq)
    );
    assert!(b.problem.contains("hash does not match"), "{}", b.problem);
}

#[test]
fn a_deleted_line_is_named() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let mut text = lines(&middle(dir.path()));
    let gone = json(&text[4])["seq"].as_u64().unwrap();
    text.remove(4);
    rewrite(&middle(dir.path()), &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.line, b.seq), (5, Some(gone + 1)));
    assert!(b.problem.contains("1 record(s) missing"), "{}", b.problem);
}

#[test]
fn an_inserted_line_is_named_whether_plain_or_a_copied_record() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let original = lines(&middle(dir.path()));
    let mut text = original.clone();
    text.insert(4, record(999));
    rewrite(&middle(dir.path()), &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.line, b.seq), (5, None));
    assert!(b.problem.contains("not a chained record"), "{}", b.problem);

    // A valid record of the chain, copied in again.
    let mut text = original.clone();
    text.insert(4, original[1].clone());
    rewrite(&middle(dir.path()), &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(b.line, 5);
    assert!(b.problem.contains("comes after"), "{}", b.problem);
}

#[test]
fn two_swapped_lines_are_named() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let mut text = lines(&middle(dir.path()));
    let later = json(&text[5])["seq"].as_u64();
    text.swap(4, 5);
    rewrite(&middle(dir.path()), &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.line, b.seq), (5, later));
}

#[test]
fn a_deleted_rotated_file_is_named_at_the_next_file() {
    let dir = tempfile::tempdir().unwrap();
    small_chain(dir.path());
    let files = files(dir.path());
    let deleted = files[1].file_name().unwrap().to_str().unwrap().to_owned();
    std::fs::remove_file(&files[1]).unwrap();
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.file.as_path(), b.line), (files[2].as_path(), 1));
    assert!(
        b.problem.contains(&deleted) && b.problem.contains("missing"),
        "{}",
        b.problem
    );
}

#[test]
fn a_cut_tail_is_found_with_a_checkpoint_kept_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let vault = tempfile::tempdir().unwrap();
    let options = ChainOptions::new()
        .checkpoint_every(1)
        .checkpoint_dir(vault.path());
    write(dir.path(), 0, 60, 6_000, &options, false);
    let checkpoint = vault.path().join("audit.log.checkpoint");
    let mut text = lines(&live(dir.path()));
    let last_kept = json(&text[text.len() - 4])["seq"].as_u64();
    text.truncate(text.len() - 3);
    rewrite(&live(dir.path()), &text);
    // Without the checkpoint a cut tail looks like a shorter chain.
    assert_intact(dir.path(), &VerifyOptions::new());
    let mut with = VerifyOptions::new();
    with.checkpoint = Some(checkpoint);
    let b = broken(dir.path(), &with);
    assert_eq!((b.line, b.seq), (text.len() as u64, last_kept));
    assert!(
        b.problem.contains("tail was cut") && b.problem.contains("3 record(s) missing"),
        "{}",
        b.problem
    );
}

/// Every file of the chain deleted (live, rotated, the side checkpoint):
/// with a checkpoint kept elsewhere that is a break, not "nothing to
/// verify".
#[test]
fn a_trail_deleted_whole_is_a_break_with_a_checkpoint_kept_elsewhere() {
    let dir = tempfile::tempdir().unwrap();
    let vault = tempfile::tempdir().unwrap();
    let options = ChainOptions::new()
        .checkpoint_every(1)
        .checkpoint_dir(vault.path());
    write(dir.path(), 0, 60, 6_000, &options, false);
    let checkpoint = vault.path().join("audit.log.checkpoint");
    for entry in std::fs::read_dir(dir.path()).unwrap() {
        std::fs::remove_file(entry.unwrap().path()).unwrap();
    }
    // Without the checkpoint there is nothing to verify (exit 2 in the CLI).
    assert!(tracing_audit::chain::verify(dir.path(), &VerifyOptions::new()).is_err());
    let mut with = VerifyOptions::new();
    with.checkpoint = Some(checkpoint);
    let b = broken(dir.path(), &with);
    assert!(b.problem.contains("no chained record"), "{}", b.problem);
    // 60 records and the chain's own start records at each rotation.
    assert!(b.seq.is_some_and(|seq| seq >= 60), "{b:?}");
}

/// Someone without the key rewrites every file into a chain that is
/// consistent under plain SHA-256 (start records saying so): without the
/// key it passes, with the key its first record is named.
#[test]
fn a_consistent_forgery_without_the_hmac_key_is_found_with_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key = b"the key the forger does not have";
    write(
        dir.path(),
        0,
        60,
        6_000,
        &ChainOptions::new().hmac_key(key).no_checkpoint_file(),
        false,
    );
    let mut keyed = VerifyOptions::new();
    keyed.key = Some(key.to_vec());
    assert_intact(dir.path(), &keyed);
    // Without the key: links checked, hashes not (exit code 3 in the CLI),
    // and so not intact.
    let report = verify_report(dir.path(), &VerifyOptions::new());
    assert!(report.links_intact() && !report.fully_checked() && !report.intact());

    let mut prev = "0".repeat(64);
    let files = files(dir.path());
    for file in &files {
        let forged: Vec<String> = lines(file)
            .iter()
            .map(|line| {
                let cut = line.rfind(r#","seq":"#).unwrap();
                let seq = json(line)["seq"].as_u64().unwrap();
                let object = line[..cut]
                    .replace("hmac-sha256", "sha256")
                    .replace("record 7\"", "record 7 (forged)\"");
                let body = format!(r#"{object},"seq":{seq},"prev_hash":"{prev}"}}"#);
                let hash = hex::encode(Sha256::digest(body.as_bytes()));
                let line = format!(r#"{},"hash":"{hash}"}}"#, &body[..body.len() - 1]);
                prev = hash;
                line
            })
            .collect();
        rewrite(file, &forged);
    }
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    assert!(report.fully_checked(), "the forgery claims plain SHA-256");
    let b = broken(dir.path(), &keyed);
    assert_eq!(
        (b.file.as_path(), b.line, b.seq),
        (files[0].as_path(), 1, Some(1))
    );
    assert!(b.problem.contains("hash does not match"), "{}", b.problem);
}

#[test]
fn a_restart_continues_the_chain_with_a_restart_record() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new();
    write(dir.path(), 0, 20, 1 << 20, &options, false);
    write(dir.path(), 20, 20, 1 << 20, &options, false);
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    assert_eq!(report.chains[0].records, 42);
    let text = lines(&live(dir.path()));
    let restart = json(&text[21]);
    assert_eq!(restart["chain_event"], "restart");
    assert_eq!(restart["prev_file"], "audit.log");
    assert_eq!(restart["seq"], 22);
    assert_eq!(json(&text[22])["n"], 20);
}

/// A restart that finds the live file empty takes up the chain from the
/// newest rotated file, gzipped or not.
#[test]
fn a_restart_after_an_empty_live_file_continues_from_the_rotated_file() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new();
    write(dir.path(), 0, 20, 1 << 20, &options, false);
    // As a rotation would leave it: the lines renamed aside, an empty live
    // file.
    let rotated = dir.path().join("audit.log.20261129T100000.000000Z");
    std::fs::rename(live(dir.path()), &rotated).unwrap();
    std::fs::write(live(dir.path()), b"").unwrap();
    write(dir.path(), 20, 5, 1 << 20, &options, false);
    assert_intact(dir.path(), &VerifyOptions::new());
    let first = json(&lines(&live(dir.path()))[0]);
    assert_eq!(first["chain_event"], "restart");
    assert_eq!(first["prev_file"], "audit.log.20261129T100000.000000Z");
}

/// Lines written into a file that was renamed away (or deleted) before
/// the writer checked are written again into the new file as they were:
/// the new file continues the chain and verifies.
#[test]
fn lines_written_again_after_the_file_vanished_still_verify() {
    let dir = tempfile::tempdir().unwrap();
    let elsewhere = tempfile::tempdir().unwrap();
    let live = live(dir.path());
    let (appender, guard) = Appender::builder(&live)
        .max_file_size(3_000)
        .max_files(None)
        .identity_check_interval(None)
        .line_transform(ChainOptions::new().line_transform(&live))
        .build()
        .unwrap();
    for i in 0..30 {
        appender.write_line(record(i).as_bytes()).unwrap();
    }
    appender.flush().unwrap();
    std::fs::rename(&live, elsewhere.path().join("moved.log")).unwrap();
    for i in 30..40 {
        appender.write_line(record(i).as_bytes()).unwrap();
    }
    appender.sync().unwrap();
    let rewritten = appender.stats().rewritten;
    drop(guard);
    assert!(
        rewritten > 0,
        "the vanished file's lines were written again"
    );
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let numbers: Vec<u64> = files(dir.path())
        .iter()
        .flat_map(|f| lines(f))
        .filter_map(|l| json(&l)["n"].as_u64())
        .collect();
    assert_eq!(
        numbers,
        (0..40).collect::<Vec<u64>>(),
        "every record once, in order"
    );
    assert_eq!(
        report.chains[0].records,
        40 + files(dir.path()).len() as u64
    );
}

/// 50,000 records over about 20 files, most of them gzipped (the
/// benchmark example makes the issue's 1,000,000).
#[test]
fn a_clean_chain_across_rotated_and_gzipped_files_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let size = record(0).len() as u64 + 160;
    write(
        dir.path(),
        0,
        50_000,
        size * 2_500,
        &ChainOptions::new(),
        true,
    );
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let gz = names.iter().filter(|n| n.ends_with(".gz")).count();
    assert!(gz >= 1, "some rotated files are gzipped: {names:?}");
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let c = &report.chains[0];
    assert!(c.files.len() >= 19, "{} files", c.files.len());
    assert_eq!(c.records, 50_000 + c.files.len() as u64);
    assert_eq!((c.first_seq, c.last_seq), (Some(1), Some(c.records)));
}

#[test]
fn the_verify_command_prints_a_summary_and_exits_by_the_documented_codes() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, b"k3y").unwrap();
    let logs = dir.path().join("logs");
    write(
        &logs,
        0,
        60,
        6_000,
        &ChainOptions::new().hmac_key(b"k3y"),
        false,
    );
    let run = |args: &[&str]| {
        let out = Command::new(env!("CARGO_BIN_EXE_tracing-audit"))
            .arg("verify")
            .arg(&logs)
            .args(args)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let key = key_file.to_str().unwrap();
    let (code, out) = run(&["--key", key]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("audit.log: ") && out.contains("intact") && out.contains("MB/s"),
        "{out}"
    );
    let (code, out) = run(&[]);
    assert_eq!(code, Some(3), "keyed chain without the key: {out}");
    let mut text = lines(&logs.join("audit.log"));
    text[2] = text[2].replacen("record", "recorD", 1);
    rewrite(&logs.join("audit.log"), &text);
    let (code, out) = run(&["--key", key]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("BROKEN") && out.contains("audit.log:3"),
        "{out}"
    );
    let (code, _) = run(&["--key", "/nonexistent/key"]);
    assert_eq!(code, Some(2));
}

#[test]
fn the_builder_chains_audit_and_login_files_but_not_api_by_default() {
    let dir = tempfile::tempdir().unwrap();
    {
        let layer_guard = tracing_audit::layer()
            .log_dir(dir.path())
            .chain(ChainOptions::new())
            .build()
            .unwrap();
        let (layer, guard) = layer_guard;
        use tracing_subscriber::layer::SubscriberExt;
        let subscriber = tracing_subscriber::registry().with(layer);
        tracing::subscriber::with_default(subscriber, || {
            tracing::info!(target: "audit.process", "job ran");
            tracing::info!(target: "audit.login", user_id = "u1", "login");
            tracing::info!(target: "audit.request", method = "GET", path = "/", status = 200u16, "request");
        });
        drop(guard);
    }
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let names: Vec<&str> = report.chains.iter().map(|c| c.name.as_str()).collect();
    assert!(
        names.contains(&"audit.log") && names.contains(&"login.log"),
        "{names:?}"
    );
    let login = json(&lines(&dir.path().join("login.log"))[0]);
    assert_eq!(
        (login["level"].as_str(), login["name"].as_str()),
        (Some("LOGIN"), Some("audit.chain"))
    );
    if dir.path().join("api.log").exists() {
        assert_eq!(report.unchained, vec!["api.log".to_string()]);
        assert!(json(&lines(&dir.path().join("api.log"))[0])
            .get("seq")
            .is_none());
    }
}

/// Checkpoints reach the callback, the last one naming the chain's end;
/// signed ones verify with the public key, and one altered to hide a cut
/// tail (its seq lowered) fails its signature.
#[cfg(feature = "chain-sign")]
#[test]
fn signed_checkpoints_reach_the_callback_and_an_altered_one_is_caught() {
    use std::sync::{Arc, Mutex};
    use tracing_audit::chain::Checkpoint;

    let dir = tempfile::tempdir().unwrap();
    let seen: Arc<Mutex<Vec<Checkpoint>>> = Arc::default();
    let sink = Arc::clone(&seen);
    let seed = [7u8; 32];
    let options = ChainOptions::new()
        .checkpoint_every(5)
        .sign_checkpoints(seed)
        .on_checkpoint(move |cp| sink.lock().unwrap().push(cp.clone()));
    write(dir.path(), 0, 60, 6_000, &options, false);
    let seen = seen.lock().unwrap().clone();
    assert!(seen.len() >= 2, "{} checkpoints", seen.len());
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let last = seen.last().unwrap();
    assert_eq!(Some(last.seq), report.chains[0].last_seq);
    assert_eq!(Some(&last.hash), report.chains[0].last_hash.as_ref());

    let public: [u8; 32] = hex::decode(last.public_key.as_ref().unwrap())
        .unwrap()
        .try_into()
        .unwrap();
    let mut keyed = VerifyOptions::new();
    keyed.public_key = Some(public);
    assert_intact(dir.path(), &keyed);

    let side = dir.path().join("audit.log.checkpoint");
    let mut altered = Checkpoint::from_json(&std::fs::read_to_string(&side).unwrap()).unwrap();
    altered.seq -= 3;
    std::fs::write(&side, altered.to_json()).unwrap();
    let b = broken(dir.path(), &keyed);
    assert_eq!((b.file.as_path(), b.line), (side.as_path(), 0));
    assert!(
        b.problem.contains("signature does not match"),
        "{}",
        b.problem
    );
    let mut wrong = VerifyOptions::new();
    wrong.public_key = Some([1u8; 32]);
    std::fs::write(&side, last.to_json()).unwrap();
    assert!(!verify_report(dir.path(), &wrong).intact());
}

fn verify_report(dir: &Path, options: &VerifyOptions) -> tracing_audit::chain::Report {
    chain::verify(dir, options)
}

/// A trail written before the chain was turned on (rotated files and the
/// top of the live file) is not part of the chain and does not break it;
/// an unchained line after the chain started does.
#[test]
fn turning_the_chain_on_over_an_unchained_trail_verifies_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let live = live(dir.path());
    let (appender, guard) = Appender::builder(&live)
        .max_file_size(1_000)
        .max_files(None)
        .build()
        .unwrap();
    for i in 0..20 {
        appender.write_line(record(i).as_bytes()).unwrap();
    }
    drop(guard);
    let unchained_files = files(dir.path()).len();
    assert!(unchained_files >= 3);
    write(dir.path(), 20, 10, 1 << 20, &ChainOptions::new(), false);
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    let c = &report.chains[0];
    assert!(c.starts_at_genesis);
    assert_eq!(c.records, 11);
    assert!(
        c.notes.iter().any(|n| n.contains("before the chain")),
        "{:?}",
        c.notes
    );

    let mut text = lines(&live);
    let at = text.len() - 2;
    text.insert(at, record(99));
    rewrite(&live, &text);
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!((b.line, b.seq), (at as u64 + 1, None));
}

/// Lines that are not one JSON object (plain text, two objects in one
/// write) are kept whole as a string and chained.
#[test]
fn a_line_that_is_not_one_json_object_is_kept_whole_and_chained() {
    let dir = tempfile::tempdir().unwrap();
    let live = live(dir.path());
    let (appender, guard) = Appender::builder(&live)
        .line_transform(ChainOptions::new().line_transform(&live))
        .build()
        .unwrap();
    appender.write_line(b"plain text").unwrap();
    appender.write_line(b"{\"a\":1}\n{\"b\":2}\n").unwrap();
    appender.write_line(b"{}").unwrap();
    drop(guard);
    assert_intact(dir.path(), &VerifyOptions::new());
    let text = lines(&live);
    assert_eq!(text.len(), 4);
    assert_eq!(json(&text[1])["line"], "plain text");
    assert_eq!(json(&text[2])["line"], "{\"a\":1}\n{\"b\":2}");
    assert_eq!(json(&text[3])["seq"], 4);
}

/// Every file emptied: nothing chained is left, and the checkpoint says
/// records were written.
#[test]
fn emptied_files_are_found_with_a_checkpoint() {
    let dir = tempfile::tempdir().unwrap();
    let vault = tempfile::tempdir().unwrap();
    let options = ChainOptions::new().checkpoint_dir(vault.path());
    write(dir.path(), 0, 60, 6_000, &options, false);
    for file in files(dir.path()) {
        std::fs::write(file, b"").unwrap();
    }
    let mut with = VerifyOptions::new();
    with.checkpoint = Some(vault.path().join("audit.log.checkpoint"));
    let b = broken(dir.path(), &with);
    assert_eq!(b.line, 0);
    assert!(b.problem.contains("no chained record"), "{}", b.problem);
}

/// A plain SHA-256 chain whose first record is edited to claim
/// `hmac-sha256`, then has a record rewritten: without a key the hashes
/// cannot be checked, so the chain is not reported intact (the claim must
/// not switch the hash check off), and the command does not exit 0.
#[test]
fn a_record_claiming_hmac_does_not_make_an_edited_sha_chain_intact() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        0,
        40,
        1_000_000,
        &ChainOptions::new().no_checkpoint_file(),
        false,
    );
    let live = dir.path().join("audit.log");
    let edited: Vec<String> = lines(&live)
        .iter()
        .map(|l| {
            l.replace(r#""chain_alg":"sha256""#, r#""chain_alg":"hmac-sha256""#)
                .replace("record 7\"", "record 8\"")
        })
        .collect();
    assert!(
        edited.iter().any(|l| l.contains("hmac-sha256")),
        "the start record names its algorithm"
    );
    rewrite(&live, &edited);
    let report = verify_report(dir.path(), &VerifyOptions::new());
    assert!(!report.intact(), "{report:?}");
    let status = Command::new(env!("CARGO_BIN_EXE_tracing-audit"))
        .arg("verify")
        .arg(dir.path())
        .status()
        .unwrap();
    assert_ne!(status.code(), Some(0));
}

/// A crash leaves a torn line; a start heals it but the process ends (or
/// crashes again) before writing a record; the next start must continue
/// the chain and account for the healed line, not start a new chain that
/// verify calls a break.
#[test]
fn two_restarts_after_a_crash_with_no_record_between_still_verify() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new().no_checkpoint_file();
    write(dir.path(), 0, 20, 1_000_000, &options, false);
    let live = dir.path().join("audit.log");
    let mut text = std::fs::read(&live).unwrap();
    text.extend_from_slice(&record(999).as_bytes()[..30]);
    std::fs::write(&live, text).unwrap();
    write(dir.path(), 20, 0, 1_000_000, &options, false);
    write(dir.path(), 20, 10, 1_000_000, &options, false);
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    assert_eq!(report.chains[0].healed_lines, 1);
    assert_eq!(report.chains[0].records, 20 + 10 + 2);
}

/// A crash just before a record's newline: the record is whole, only its
/// newline is missing. The restart continues from that record (it is in
/// the chain) instead of treating it as torn.
#[test]
fn a_whole_record_missing_only_its_newline_is_continued_from() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new().no_checkpoint_file();
    write(dir.path(), 0, 20, 1_000_000, &options, false);
    let live = dir.path().join("audit.log");
    let mut text = std::fs::read(&live).unwrap();
    assert_eq!(text.pop(), Some(b'\n'));
    std::fs::write(&live, text).unwrap();
    write(dir.path(), 20, 10, 1_000_000, &options, false);
    let report = assert_intact(dir.path(), &VerifyOptions::new());
    assert_eq!(report.chains[0].last_seq, Some(20 + 10 + 2));
}

/// Lines cut off the end while the service was stopped, then a restart:
/// the writer finds its own checkpoint ahead of the chain and says so in
/// the restart record, so the cut stays visible even after it overwrites
/// the side file with later checkpoints.
#[test]
fn a_tail_cut_while_stopped_is_named_by_the_restart_that_follows() {
    let dir = tempfile::tempdir().unwrap();
    let options = ChainOptions::new();
    write(dir.path(), 0, 30, 1 << 20, &options, false);
    let live = dir.path().join("audit.log");
    let text = lines(&live);
    rewrite(&live, &text[..text.len() - 5]);
    write(dir.path(), 30, 5, 1 << 20, &options, false);
    // The side checkpoint is now the new end: only the restart record
    // shows the cut.
    let b = broken(dir.path(), &VerifyOptions::new());
    assert_eq!(b.line, text.len() as u64 - 5 + 1, "{b}");
    assert!(b.problem.contains("checkpointed seq 31"), "{}", b.problem);
}
