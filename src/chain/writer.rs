//! The chain on the writer thread: a [`LineTransform`] that gives each
//! line its `seq`, `prev_hash` and `hash`, writes a chain start record at
//! the top of each new file, after a restart and after a healed torn line,
//! and takes checkpoints.

use std::path::{Path, PathBuf};
use std::time::{Instant, SystemTime};

use sha2::{Digest, Sha256};

use super::checkpoint::{side_file, write_atomic};
use super::files::chain_files;
use super::options::ChainOptions;
use super::record::{append_chained, parse, Hasher, GENESIS};
use super::Checkpoint;
use crate::appender::LineTransform;

/// Why a chain start record is written.
#[derive(Debug)]
enum Start {
    /// No earlier record: the chain begins.
    Genesis,
    /// The writer started again and continues from the last record of
    /// `file`.
    Restart { file: String },
    /// As `Restart`, after terminating a torn last line.
    Healed { file: String, torn: Vec<u8> },
    /// The first record of a new file; the previous one was renamed to
    /// `file`.
    Rotate { file: String },
}

pub(crate) struct ChainWriter {
    hasher: Hasher,
    live: PathBuf,
    file_name: String,
    level: String,
    service: String,
    /// The last record transformed: its `seq` (0: none yet) and hash.
    seq: u64,
    hash: [u8; 64],
    start: Option<Start>,
    /// The last record known to be written, and the last checkpointed.
    written: (u64, [u8; 64]),
    checkpointed: u64,
    checkpointed_at: Instant,
    options: ChainOptions,
    checkpoint_path: Option<PathBuf>,
    checkpoint_failing: bool,
    /// The `seq` of this writer's own last checkpoint, when the chain
    /// found on open ends before it (records were removed): written into
    /// the next start record, so the cut stays visible after the side
    /// file is overwritten.
    behind_checkpoint: Option<u64>,
}

impl ChainWriter {
    pub(crate) fn new(options: &ChainOptions, live: &Path, level: &str, service: &str) -> Self {
        ChainWriter {
            hasher: Hasher::new(options.key.as_deref()),
            live: live.to_path_buf(),
            file_name: live
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned(),
            level: level.to_string(),
            service: service.to_string(),
            seq: 0,
            hash: GENESIS,
            start: Some(Start::Genesis),
            written: (0, GENESIS),
            checkpointed: 0,
            checkpointed_at: Instant::now(),
            checkpoint_path: options
                .checkpoint_file
                .then(|| side_file(live, options.checkpoint_dir.as_deref())),
            options: options.clone(),
            checkpoint_failing: false,
            behind_checkpoint: None,
        }
    }

    /// Takes up the chain where `line` (a chained record) left it.
    fn continue_from(&mut self, line: &[u8]) -> bool {
        match parse(line) {
            Some(link) => {
                self.seq = link.seq;
                self.hash.copy_from_slice(link.hash);
                self.written = (self.seq, self.hash);
                self.checkpointed = self.seq;
                true
            }
            None => false,
        }
    }

    /// The last chained record of the newest rotated file that has one,
    /// and that file's name, for a restart that finds the live file empty.
    fn last_rotated_record(&self) -> Option<(Vec<u8>, String)> {
        let files = chain_files(&self.live);
        files
            .iter()
            .rev()
            .filter(|p| **p != self.live)
            .find_map(|path| Some((last_record_in(path)?, super::files::rotated_name(path))))
    }

    /// Writes the start record for `start` as a chained line.
    fn write_start(&mut self, start: Start, out: &mut Vec<u8>) {
        let (event, file) = match &start {
            Start::Genesis => ("start", None),
            Start::Restart { file } => ("restart", Some(file)),
            Start::Healed { file, .. } => ("healed", Some(file)),
            Start::Rotate { file } => ("rotate", Some(file)),
        };
        let now = SystemTime::now();
        let mut object = Vec::with_capacity(320);
        object.extend_from_slice(b"{\"timestamp\":\"");
        crate::clock::write_rfc3339(now, &mut object);
        object.extend_from_slice(b"\",\"level\":");
        push_json_string(&mut object, &self.level);
        object.extend_from_slice(b",\"name\":\"audit.chain\",\"event_id\":\"");
        object.extend_from_slice(
            crate::event_id::at(
                now.duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default(),
            )
            .hyphenated()
            .to_string()
            .as_bytes(),
        );
        object.extend_from_slice(b"\",\"message\":\"chain ");
        object.extend_from_slice(event.as_bytes());
        object.extend_from_slice(b"\",\"service_name\":");
        push_json_string(&mut object, &self.service);
        object.extend_from_slice(b",\"chain_event\":\"");
        object.extend_from_slice(event.as_bytes());
        object.extend_from_slice(b"\",\"chain_alg\":\"");
        object.extend_from_slice(self.hasher.alg().as_bytes());
        object.push(b'"');
        if let Some(file) = file {
            object.extend_from_slice(b",\"prev_file\":");
            push_json_string(&mut object, file);
        }
        if let Start::Healed { torn, .. } = &start {
            object.extend_from_slice(b",\"torn_bytes\":");
            object.extend_from_slice(itoa::Buffer::new().format(torn.len()).as_bytes());
            object.extend_from_slice(b",\"torn_sha256\":\"");
            object.extend_from_slice(hex::encode(Sha256::digest(torn)).as_bytes());
            object.push(b'"');
        }
        if let Some(seq) = self.behind_checkpoint.take() {
            object.extend_from_slice(b",\"checkpoint_seq\":");
            object.extend_from_slice(itoa::Buffer::new().format(seq).as_bytes());
        }
        object.push(b'}');
        self.chain(&object, out);
    }

    fn chain(&mut self, object: &[u8], out: &mut Vec<u8>) {
        // Saturating: after a forged last `seq` of `u64::MAX` the lines are
        // still chained (verify names the forgery), not left unchained by
        // an overflow panic on every one.
        self.seq = self.seq.saturating_add(1);
        self.hash = append_chained(out, object, self.seq, &self.hash, &self.hasher);
    }

    /// Takes a checkpoint of the last written record if one is due (or,
    /// with `force`, if anything was written since the last).
    fn checkpoint(&mut self, force: bool) {
        let (seq, hash) = self.written;
        let since = seq.saturating_sub(self.checkpointed);
        let due = since >= self.options.every_records
            || (since > 0
                && self
                    .options
                    .every
                    .is_some_and(|every| self.checkpointed_at.elapsed() >= every));
        if !(due || (force && since > 0)) {
            return;
        }
        self.checkpointed = seq;
        self.checkpointed_at = Instant::now();
        let mut timestamp = Vec::with_capacity(32);
        crate::clock::write_rfc3339(SystemTime::now(), &mut timestamp);
        #[allow(unused_mut)]
        let mut checkpoint = Checkpoint {
            file: self.file_name.clone(),
            seq,
            hash: String::from_utf8_lossy(&hash).into_owned(),
            timestamp: String::from_utf8_lossy(&timestamp).into_owned(),
            signature: None,
            public_key: None,
        };
        #[cfg(feature = "chain-sign")]
        if let Some(key) = &self.options.signing_key {
            use ed25519_dalek::Signer;
            let signature = key.sign(&checkpoint.signed_message());
            checkpoint.signature = Some(hex::encode(signature.to_bytes()));
            checkpoint.public_key = Some(hex::encode(key.verifying_key().to_bytes()));
        }
        if let Some(path) = &self.checkpoint_path {
            match write_atomic(path, &checkpoint.to_json()) {
                Ok(()) if self.checkpoint_failing => {
                    self.checkpoint_failing = false;
                    report!(
                        "tracing-audit: writing checkpoint {} works again",
                        path.display()
                    );
                }
                Ok(()) => {}
                Err(e) if !self.checkpoint_failing => {
                    self.checkpoint_failing = true;
                    report!(
                        "tracing-audit: could not write checkpoint {}: {e} (retried at the next one)",
                        path.display()
                    );
                }
                Err(_) => {}
            }
        }
        if let Some(f) = &self.options.on_checkpoint {
            let call = std::panic::AssertUnwindSafe(|| f(&checkpoint));
            if std::panic::catch_unwind(call).is_err() {
                report!(
                    "tracing-audit: the on_checkpoint callback panicked (checkpoint seq {seq})"
                );
            }
        }
    }
}

impl LineTransform for ChainWriter {
    fn on_open(&mut self, last_line: Option<&[u8]>, healed: Option<&[u8]>) {
        // A torn line that is a whole chained record (the crash came just
        // before its newline, which the appender has now added) is part of
        // the chain: continue from it.
        if healed.is_some_and(|torn| self.continue_from(torn)) {
            self.start = Some(Start::Restart {
                file: self.file_name.clone(),
            });
            return;
        }
        let mut healed = healed.map(<[u8]>::to_vec);
        let found = match last_line {
            Some(line) if self.continue_from(line) => Some(self.file_name.clone()),
            // The last line is not a chained record, but one comes before
            // it: a torn line an earlier start healed and then wrote no
            // record after (it ended or crashed again first). It is
            // accounted for now, as that start would have.
            Some(line) if healed.is_none() => match last_record_in(&self.live) {
                Some(record) if self.continue_from(&record) => {
                    healed = Some(line.to_vec());
                    Some(self.file_name.clone())
                }
                _ => None,
            },
            Some(_) => None,
            None => match self.last_rotated_record() {
                Some((line, file)) if self.continue_from(&line) => Some(file),
                _ => None,
            },
        };
        self.behind_checkpoint = self
            .checkpoint_path
            .as_deref()
            .and_then(|path| super::small_file::read_to_string(path).ok())
            .and_then(|text| Checkpoint::from_json(&text).ok())
            .map(|checkpoint| checkpoint.seq)
            .filter(|&seq| seq > self.seq);
        self.start = Some(match (found, healed) {
            (Some(file), Some(torn)) => Start::Healed { file, torn },
            (None, Some(torn)) => Start::Healed {
                file: self.file_name.clone(),
                torn,
            },
            (Some(file), None) => Start::Restart { file },
            (None, None) => Start::Genesis,
        });
    }

    fn on_rotate(&mut self, rotated: &str) {
        self.start = Some(Start::Rotate {
            file: rotated.to_string(),
        });
    }

    fn transform(&mut self, line: &[u8], out: &mut Vec<u8>) -> u64 {
        let mut lines = 1;
        if let Some(start) = self.start.take() {
            self.write_start(start, out);
            lines += 1;
        }
        let object = line.trim_ascii_end();
        // A line holding a newline would become two lines in the file.
        if object.starts_with(b"{")
            && object.ends_with(b"}")
            && memchr::memchr(b'\n', object).is_none()
        {
            self.chain(object, out);
        } else {
            // Not a JSON object on one line: kept whole, as a string.
            let mut wrapped = b"{\"line\":".to_vec();
            push_json_string(&mut wrapped, &String::from_utf8_lossy(object));
            wrapped.push(b'}');
            self.chain(&wrapped, out);
        }
        lines
    }

    fn on_written(&mut self) {
        self.written = (self.seq, self.hash);
        self.checkpoint(false);
    }

    fn on_close(&mut self) {
        self.checkpoint(true);
    }
}

/// The last complete chained record of a file (`.gz` read through).
fn last_record_in(path: &Path) -> Option<Vec<u8>> {
    let reader = crate::read::open(path).ok()?;
    let (mut lines, mut last) = (crate::read::Lines::new(reader), None);
    while let Ok(Some(line)) = lines.next_line() {
        if line.complete && parse(line.bytes).is_some() {
            last = Some(line.bytes.to_vec());
        }
    }
    last
}

/// Appends `s` as a JSON string, through the crate's one escaper.
fn push_json_string(out: &mut Vec<u8>, s: &str) {
    let mut text = String::with_capacity(s.len() + 2);
    // Writing into a String cannot fail.
    let _ = crate::json::plain_string(&mut text, s);
    out.extend_from_slice(text.as_bytes());
}
