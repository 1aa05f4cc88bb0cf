//! Checking a directory's chains: every file of each chain scanned on its
//! own (in parallel, streaming), then the files joined in write order and
//! the checkpoint compared with the end.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use super::files::{chain_files, rotated_name};
use super::record::{parse, Hasher, GENESIS};
use super::Checkpoint;
use crate::read::{open_file, open_reader, AsOpened, Lines};

/// What [`verify`] checks, and with which keys.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct VerifyOptions {
    /// The HMAC key the chain was written with; without it a keyed chain's
    /// links are checked but not its hashes.
    pub key: Option<Vec<u8>>,
    /// A checkpoint file (kept elsewhere) to compare the chain's end with.
    /// Without it, `<file>.checkpoint` in the directory is used if present.
    pub checkpoint: Option<PathBuf>,
    /// The ed25519 public key (32 bytes) checkpoints must be signed with.
    pub public_key: Option<[u8; 32]>,
    /// The live file names of the chains to check; empty: `audit.log`,
    /// `login.log` and `api.log`, those that are there.
    pub files: Vec<String>,
    /// Threads scanning files; 0: one per core.
    pub threads: usize,
}

impl VerifyOptions {
    /// Checks with no key, no checkpoint but the side files, every chain.
    pub fn new() -> Self {
        Self::default()
    }
}

/// The first record where a chain is broken.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Break {
    /// The file it is in.
    pub file: PathBuf,
    /// Its line number (1-based; 0 when the problem is the checkpoint
    /// file itself).
    pub line: u64,
    /// Its `seq`, when it has one.
    pub seq: Option<u64>,
    /// What is wrong.
    pub problem: String,
}

impl fmt::Display for Break {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file.display(), self.line)?;
        if let Some(seq) = self.seq {
            write!(f, " (seq {seq})")?;
        }
        write!(f, ": {}", self.problem)
    }
}

/// One chain's result.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct ChainReport {
    /// The live file's name (`audit.log`).
    pub name: String,
    /// The files checked, in write order.
    pub files: Vec<PathBuf>,
    /// Chained records.
    pub records: u64,
    /// Lines read (records and anything else).
    pub lines: u64,
    /// Bytes read (uncompressed).
    pub bytes: u64,
    /// The first record's `seq`.
    pub first_seq: Option<u64>,
    /// The last record's `seq`.
    pub last_seq: Option<u64>,
    /// The last record's `hash`.
    pub last_hash: Option<String>,
    /// The first record present is the chain's first (`seq` 1 after the
    /// all-zero `prev_hash`); false when older files were removed.
    pub starts_at_genesis: bool,
    /// Whether every record's hash was recomputed (false for a keyed
    /// chain checked without the key: links only).
    pub hashes_checked: bool,
    /// Torn lines a restart healed, each accounted for by the chain start
    /// record after it.
    pub healed_lines: u64,
    /// The checkpoint compared with the chain, if any.
    pub checkpoint: Option<PathBuf>,
    /// The first broken record; `None` when intact.
    pub first_break: Option<Break>,
    /// Things worth knowing that are not breaks.
    pub notes: Vec<String>,
}

impl ChainReport {
    /// True when no break was found and every hash was recomputed. A keyed
    /// chain checked without its key is never intact, only
    /// [`links_intact`](Self::links_intact): a record that merely claims
    /// `hmac-sha256` must not turn the hash check off.
    pub fn intact(&self) -> bool {
        self.links_intact() && self.hashes_checked
    }

    /// True when no break was found, whether or not the hashes were
    /// recomputed.
    pub fn links_intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Everything [`verify`] found.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Report {
    /// One per chain found (unchained files are named in `unchained`).
    pub chains: Vec<ChainReport>,
    /// Files of the asked-for names that carry no chain at all.
    pub unchained: Vec<String>,
    /// How long the check took.
    pub elapsed: Duration,
}

impl Report {
    /// True when at least one chain was checked, none is broken, and every
    /// hash was recomputed (see [`ChainReport::intact`]).
    pub fn intact(&self) -> bool {
        !self.chains.is_empty() && self.chains.iter().all(ChainReport::intact)
    }

    /// True when at least one chain was checked and none is broken, the
    /// hashes of a keyed chain checked without its key aside.
    pub fn links_intact(&self) -> bool {
        !self.chains.is_empty() && self.chains.iter().all(ChainReport::links_intact)
    }

    /// True when every hash was recomputed (see
    /// [`ChainReport::hashes_checked`]).
    pub fn fully_checked(&self) -> bool {
        self.chains.iter().all(|c| c.hashes_checked)
    }

    /// The first break of the first broken chain.
    pub fn first_break(&self) -> Option<&Break> {
        self.chains.iter().find_map(|c| c.first_break.as_ref())
    }

    /// Bytes read, all chains.
    pub fn bytes(&self) -> u64 {
        self.chains.iter().map(|c| c.bytes).sum()
    }

    /// Throughput in MB/s (10^6 bytes), uncompressed.
    pub fn mb_per_s(&self) -> f64 {
        self.bytes() as f64 / 1e6 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// Why [`verify`] could not check.
#[derive(Debug)]
#[non_exhaustive]
pub enum VerifyError {
    /// A file could not be read.
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// The checkpoint file is not a checkpoint.
    Checkpoint {
        /// The checkpoint file.
        path: PathBuf,
        /// What is wrong with it.
        problem: String,
    },
    /// No file of the asked-for names in the directory.
    NothingToVerify(PathBuf),
}

impl fmt::Display for VerifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            VerifyError::Io { path, source } => write!(f, "{}: {source}", path.display()),
            VerifyError::Checkpoint { path, problem } => {
                write!(f, "checkpoint {}: {problem}", path.display())
            }
            VerifyError::NothingToVerify(dir) => {
                write!(f, "no audit file to verify in {}", dir.display())
            }
        }
    }
}

impl std::error::Error for VerifyError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            VerifyError::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Checks the chains of the files in `dir` (live, rotated and gzipped, in
/// write order) and names the first broken record of each.
///
/// # Errors
///
/// When a file or the checkpoint cannot be read, or there is nothing to
/// check. A broken chain is not an error: it is in the [`Report`].
pub fn verify(dir: impl AsRef<Path>, options: &VerifyOptions) -> Result<Report, VerifyError> {
    let dir = dir.as_ref();
    let started = Instant::now();
    let names: Vec<String> = if options.files.is_empty() {
        ["audit.log", "login.log", "api.log"]
            .map(String::from)
            .to_vec()
    } else {
        options.files.clone()
    };
    let explicit = match &options.checkpoint {
        Some(path) => Some((read_checkpoint(path)?, path.clone())),
        None => None,
    };
    // Every file of every chain, scanned in parallel. A chain whose files
    // are all gone is still checked when a checkpoint of it exists: the
    // checkpoint says records were written, so their absence is a break.
    let chains: Vec<(String, Vec<PathBuf>)> = names
        .into_iter()
        .map(|name| {
            let files = chain_files(&dir.join(&name));
            (name, files)
        })
        .filter(|(name, files)| {
            !files.is_empty()
                || explicit.as_ref().is_some_and(|(cp, _)| cp.file == *name)
                || (explicit.is_none()
                    && super::checkpoint::side_file(&dir.join(name), None).is_file())
        })
        .collect();
    if chains.is_empty() {
        return Err(VerifyError::NothingToVerify(dir.to_path_buf()));
    }
    let mut checkpoints = Vec::new();
    for (name, _) in &chains {
        let checkpoint = match &explicit {
            Some((cp, path)) if cp.file == *name => Some((cp.clone(), path.clone())),
            Some(_) => None,
            None => {
                let side = super::checkpoint::side_file(&dir.join(name), None);
                if side.is_file() {
                    Some((read_checkpoint(&side)?, side))
                } else {
                    None
                }
            }
        };
        checkpoints.push(checkpoint);
    }
    let hasher = Hasher::new(options.key.as_deref());
    let jobs: Vec<(usize, &Path)> = chains
        .iter()
        .enumerate()
        .flat_map(|(c, (_, files))| files.iter().map(move |f| (c, f.as_path())))
        .collect();
    let names: Vec<&str> = chains.iter().map(|(name, _)| name.as_str()).collect();
    let scans = scan_all(&jobs, &names, &hasher, &checkpoints, options.threads)?;
    let mut report = Report::default();
    let mut scans = scans.into_iter();
    for ((name, files), checkpoint) in chains.iter().zip(&checkpoints) {
        let file_scans: Vec<FileScan> = scans.by_ref().take(files.len()).collect();
        if file_scans.iter().all(|s| s.first.is_none()) && checkpoint.is_none() {
            report.unchained.push(name.clone());
            continue;
        }
        report
            .chains
            .push(join(name, file_scans, checkpoint.as_ref(), options));
    }
    report.elapsed = started.elapsed();
    Ok(report)
}

fn read_checkpoint(path: &Path) -> Result<Checkpoint, VerifyError> {
    let text = super::small_file::read_to_string(path).map_err(|source| VerifyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    Checkpoint::from_json(&text).map_err(|e| VerifyError::Checkpoint {
        path: path.to_path_buf(),
        problem: e.to_string(),
    })
}

/// The first record of a file, as the join needs it.
#[derive(Debug)]
struct First {
    seq: u64,
    prev_hash: [u8; 64],
    line: u64,
    /// Its `prev_file`, when it is a start record (rotation, restart,
    /// heal): the file that held the record before it.
    prev_file: Option<String>,
    /// Whether that start record is a rotation's.
    rotated: bool,
}

/// One file's result, before the files are joined.
#[derive(Debug, Default)]
struct FileScan {
    path: PathBuf,
    lines: u64,
    records: u64,
    bytes: u64,
    first: Option<First>,
    last: Option<(u64, [u8; 64], u64)>,
    /// Unchained lines before the first record: (first line, count).
    leading: Option<(u64, u64)>,
    declared_hmac: bool,
    healed: u64,
    hash_break: Option<Break>,
    link_break: Option<Break>,
    /// The hash of the record whose `seq` is the checkpoint's.
    at_checkpoint: Option<([u8; 64], u64)>,
}

fn scan_all(
    jobs: &[(usize, &Path)],
    names: &[&str],
    hasher: &Hasher,
    checkpoints: &[Option<(Checkpoint, PathBuf)>],
    threads: usize,
) -> Result<Vec<FileScan>, VerifyError> {
    let threads = match threads {
        0 => std::thread::available_parallelism().map_or(1, usize::from),
        n => n,
    }
    .min(jobs.len())
    .max(1);
    let next = AtomicUsize::new(0);
    let results: Mutex<Vec<Option<Result<FileScan, VerifyError>>>> =
        Mutex::new((0..jobs.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..threads {
            scope.spawn(|| loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(&(chain, path)) = jobs.get(i) else {
                    break;
                };
                let at = checkpoints[chain].as_ref().map(|(cp, _)| cp.seq);
                let name = names[chain];
                let result = scan(path, name, hasher, at).map_err(|source| VerifyError::Io {
                    path: path.to_path_buf(),
                    source,
                });
                let mut results = results.lock().unwrap_or_else(|e| e.into_inner());
                results[i] = Some(result);
            });
        }
    });
    results
        .into_inner()
        .unwrap_or_else(|e| e.into_inner())
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Ok(FileScan::default())))
        .collect()
}

/// What a start record says, read only for lines that name `audit.chain`.
struct StartInfo {
    event: String,
    alg: String,
    prev_file: Option<String>,
    torn_sha256: Option<String>,
    /// The writer's own checkpoint `seq` when it found the chain ending
    /// before it on open.
    checkpoint_seq: Option<u64>,
}

fn start_info(line: &[u8]) -> Option<StartInfo> {
    if !contains(line, br#""name":"audit.chain""#) {
        return None;
    }
    let value: serde_json::Value = serde_json::from_slice(line).ok()?;
    if value.get("name")?.as_str()? != "audit.chain" {
        return None;
    }
    let text = |key: &str| value.get(key).and_then(|v| v.as_str()).map(str::to_owned);
    Some(StartInfo {
        event: text("chain_event")?,
        alg: text("chain_alg").unwrap_or_default(),
        prev_file: text("prev_file"),
        torn_sha256: text("torn_sha256"),
        checkpoint_seq: value
            .get("checkpoint_seq")
            .and_then(serde_json::Value::as_u64),
    })
}

/// Whether `needle` (which starts with `"`) is in `haystack`: compared
/// only where a `"` is, so a record costs a few dozen comparisons, not
/// one per byte.
fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    let mut rest = haystack;
    while let Some(at) = rest.iter().position(|&b| b == b'"') {
        if rest[at..].starts_with(needle) {
            return true;
        }
        rest = &rest[at + 1..];
    }
    false
}

/// Scans one file of the chain whose live file is `name`: each record's
/// hash, and each link inside the file.
fn scan(
    path: &Path,
    name: &str,
    hasher: &Hasher,
    checkpoint_seq: Option<u64>,
) -> io::Result<FileScan> {
    // As the file was when opened: a busy live file is not read for ever.
    let (file, gz) = open_file(path)?;
    let mut lines = Lines::new(open_reader(AsOpened::new(file, gz), gz));
    let mut s = FileScan {
        path: path.to_path_buf(),
        ..FileScan::default()
    };
    // Unchained lines since the last record: first line, count, the last
    // one's SHA-256, whether it was torn.
    let mut pending: Option<(u64, u64, String, bool)> = None;
    let mut prev: Option<(u64, [u8; 64])> = None;
    let brk = |line: u64, seq: Option<u64>, problem: String| Break {
        file: path.to_path_buf(),
        line,
        seq,
        problem,
    };
    while let Some(read) = lines.next_line()? {
        let (line, whole, n) = (read.bytes, read.complete, read.number);
        s.lines = n;
        s.bytes += line.len() as u64 + u64::from(whole);
        let Some(link) = parse(line).filter(|_| whole) else {
            let sha = hex::encode(Sha256::digest(line));
            pending = Some(match pending {
                Some((first, count, _, _)) => (first, count + 1, sha, !whole),
                None => (n, 1, sha, !whole),
            });
            continue;
        };
        s.records += 1;
        let start = start_info(line);
        if start.as_ref().is_some_and(|i| i.alg == "hmac-sha256") {
            s.declared_hmac = true;
        }
        if let Some((first, mut count, sha, _)) = pending.take() {
            let healed = start.as_ref().is_some_and(|i| {
                i.event == "healed" && i.torn_sha256.as_deref() == Some(sha.as_str())
            });
            if healed {
                s.healed += 1;
                count -= 1;
            }
            if count > 0 {
                if prev.is_none() {
                    s.leading = Some((first, count));
                } else if s.link_break.is_none() {
                    s.link_break = Some(brk(
                        first,
                        None,
                        "not a chained record (a line inserted, or a record's chain members \
                         edited)"
                            .into(),
                    ));
                }
            }
        }
        if let Some(taken) = start.as_ref().and_then(|i| i.checkpoint_seq) {
            if s.link_break.is_none() {
                s.link_break = Some(brk(
                    n,
                    Some(link.seq),
                    format!(
                        "the writer restarted at seq {} but had checkpointed seq {taken}: \
                         records were removed, or lost before they reached the disk",
                        link.seq
                    ),
                ));
            }
        }
        if s.hash_break.is_none() && !link.hash_matches(hasher) {
            s.hash_break = Some(brk(
                n,
                Some(link.seq),
                "hash does not match the record's bytes (the record was edited)".into(),
            ));
        }
        let mut hash = [0u8; 64];
        hash.copy_from_slice(link.hash);
        match prev {
            Some((pseq, phash)) => {
                if s.link_break.is_none() {
                    // `saturating_add`: a forged `seq` of `u64::MAX` is out of order
                    // after, not an overflow.
                    let problem = if link.seq > pseq.saturating_add(1) {
                        Some(format!(
                            "seq jumps from {pseq} to {}: {} record(s) missing",
                            link.seq,
                            link.seq - pseq - 1
                        ))
                    } else if link.seq <= pseq {
                        Some(format!(
                            "seq {} comes after seq {pseq}: records out of order, repeated or \
                             inserted",
                            link.seq
                        ))
                    } else if link.prev_hash != phash {
                        Some(format!(
                            "prev_hash is not the hash of the record before (line {})",
                            n - 1
                        ))
                    } else {
                        None
                    };
                    let problem = problem.or_else(|| {
                        // A restart or heal continuing from a record in this
                        // same file names the live file it then was. (A
                        // rotation's record after lines written again into
                        // a new file is not at the top: it is not checked.)
                        let named = start
                            .as_ref()
                            .filter(|i| i.event != "rotate")
                            .and_then(|i| i.prev_file.as_deref())?;
                        (named != name).then(|| wrong_prev_file(named, name))
                    });
                    if let Some(problem) = problem {
                        s.link_break = Some(brk(n, Some(link.seq), problem));
                    }
                }
            }
            None => {
                let mut prev_hash = [0u8; 64];
                prev_hash.copy_from_slice(link.prev_hash);
                s.first = Some(First {
                    seq: link.seq,
                    prev_hash,
                    line: n,
                    prev_file: start.as_ref().and_then(|i| i.prev_file.clone()),
                    rotated: start.as_ref().is_some_and(|i| i.event == "rotate"),
                });
            }
        }
        if checkpoint_seq == Some(link.seq) && s.at_checkpoint.is_none() {
            s.at_checkpoint = Some((hash, n));
        }
        prev = Some((link.seq, hash));
        s.last = Some((link.seq, hash, n));
    }
    if let Some((first, _, _, torn)) = pending {
        if s.link_break.is_none() {
            let problem = if torn {
                "a torn last line (not terminated): the writer stopped mid-line and has not \
                 started again since"
            } else {
                "not a chained record (a line appended, or a record's chain members edited)"
            };
            s.link_break = Some(brk(first, None, problem.into()));
        }
    }
    Ok(s)
}

/// Joins one chain's files in write order and compares the end with the
/// checkpoint.
fn join(
    name: &str,
    scans: Vec<FileScan>,
    checkpoint: Option<&(Checkpoint, PathBuf)>,
    options: &VerifyOptions,
) -> ChainReport {
    let mut r = ChainReport {
        name: name.to_string(),
        files: scans.iter().map(|s| s.path.clone()).collect(),
        ..ChainReport::default()
    };
    let declared_hmac = scans.iter().any(|s| s.declared_hmac);
    r.hashes_checked = options.key.is_some() || !declared_hmac;
    if !r.hashes_checked {
        r.notes.push(
            "keyed chain (hmac-sha256) checked without its key: links checked, hashes not \
             (give the key to check them)"
                .into(),
        );
    }
    // Breaks in file order: (file index, line, break).
    let mut breaks: Vec<(usize, u64, Break)> = Vec::new();
    let mut prev_last: Option<(u64, [u8; 64], &Path)> = None;
    // Files wholly before a chain that starts at genesis were written
    // before the chain was turned on: they are not part of it.
    let first_chained = scans.iter().position(|s| s.first.is_some());
    let before_chain = match first_chained {
        Some(i)
            if scans[i]
                .first
                .as_ref()
                .is_some_and(|f| f.seq == 1 && f.prev_hash == GENESIS) =>
        {
            i
        }
        _ => 0,
    };
    if before_chain > 0 {
        r.notes.push(format!(
            "{before_chain} file(s) before the chain's start are unchained (written before the \
             chain was turned on)"
        ));
    }
    for (i, s) in scans.iter().enumerate() {
        r.records += s.records;
        r.lines += s.lines;
        r.bytes += s.bytes;
        r.healed_lines += s.healed;
        if i < before_chain {
            continue;
        }
        for b in [
            &s.link_break,
            &s.hash_break.as_ref().filter(|_| r.hashes_checked).cloned(),
        ]
        .into_iter()
        .flatten()
        {
            breaks.push((i, b.line, b.clone()));
        }
        let Some(first) = &s.first else { continue };
        let brk = |line: u64, seq: Option<u64>, problem: String| Break {
            file: s.path.clone(),
            line,
            seq,
            problem,
        };
        let genesis = first.seq == 1 && first.prev_hash == GENESIS;
        if let Some((line, count)) = s.leading {
            if prev_last.is_none() && genesis {
                r.notes.push(format!(
                    "{count} unchained line(s) at the top of {} were written before the chain \
                     started",
                    s.path.display()
                ));
            } else {
                breaks.push((
                    i,
                    line,
                    brk(
                        line,
                        None,
                        "not a chained record (a line inserted, or a record's chain members \
                         edited)"
                            .into(),
                    ),
                ));
            }
        }
        match prev_last {
            None => {
                r.first_seq = Some(first.seq);
                r.starts_at_genesis = genesis;
                if !genesis {
                    r.notes.push(format!(
                        "the chain begins at seq {} in {}: the records before it are not here \
                         (files removed by retention, or deleted)",
                        first.seq,
                        s.path.display()
                    ));
                }
            }
            Some((pseq, phash, ppath)) => {
                let prev_name = rotated_name(ppath);
                let named = first.prev_file.as_deref();
                let problem = if first.seq != pseq.saturating_add(1) || first.prev_hash != phash {
                    Some(match named {
                        Some(named) if first.rotated && named != prev_name => format!(
                            "the file follows {named}, which is missing (the file before it \
                             here, {prev_name}, ends at seq {pseq})"
                        ),
                        _ if first.seq > pseq.saturating_add(1) => format!(
                            "seq jumps from {pseq} (the end of {prev_name}) to {}: {} record(s) \
                             missing",
                            first.seq,
                            first.seq - pseq - 1
                        ),
                        _ if first.seq <= pseq => format!(
                            "seq {} comes after seq {pseq} (the end of {prev_name}): records \
                             out of order or repeated",
                            first.seq
                        ),
                        _ => format!("prev_hash is not the last hash of {prev_name}"),
                    })
                } else {
                    // The links hold: the start record at the top must
                    // still name the file before it (a file renamed, or
                    // put in another's place, is a break).
                    named
                        .filter(|named| *named != prev_name)
                        .map(|named| wrong_prev_file(named, &prev_name))
                };
                if let Some(problem) = problem {
                    breaks.push((i, first.line, brk(first.line, Some(first.seq), problem)));
                }
            }
        }
        if let Some((seq, hash, _)) = s.last {
            prev_last = Some((seq, hash, &s.path));
            r.last_seq = Some(seq);
            r.last_hash = Some(String::from_utf8_lossy(&hash).into_owned());
        }
    }
    if let Some((cp, cp_path)) = checkpoint {
        r.checkpoint = Some(cp_path.clone());
        let cp_break = |problem: String| Break {
            file: cp_path.clone(),
            line: 0,
            seq: Some(cp.seq),
            problem,
        };
        // A checkpoint whose signature fails says nothing about the chain:
        // that is its first break, before any line (line 0 of file 0).
        let trusted = match (&cp.signature, options.public_key) {
            (_, Some(key)) => match check_signature(cp, &key) {
                Ok(()) => true,
                Err(problem) => {
                    breaks.push((0, 0, cp_break(problem)));
                    false
                }
            },
            (Some(_), None) => {
                r.notes.push(
                    "the checkpoint is signed; give the public key to check the signature".into(),
                );
                true
            }
            (None, None) => true,
        };
        let found = scans
            .iter()
            .enumerate()
            .find_map(|(i, s)| s.at_checkpoint.map(|(h, line)| (i, h, line)));
        match (found, prev_last) {
            _ if !trusted => {}
            (Some((i, hash, line)), _) => {
                if hash != cp.hash.as_bytes() {
                    breaks.push((
                        i,
                        line,
                        Break {
                            file: scans[i].path.clone(),
                            line,
                            seq: Some(cp.seq),
                            problem: format!(
                                "the checkpoint of {} gives seq {} the hash {}, the record has \
                                 another: records rewritten",
                                cp.timestamp, cp.seq, cp.hash
                            ),
                        },
                    ));
                }
            }
            (None, Some((last, _, path))) if last < cp.seq => {
                let i = scans.len() - 1;
                let line = scans
                    .iter()
                    .rev()
                    .find_map(|s| s.last.map(|l| l.2))
                    .unwrap_or(0);
                breaks.push((
                    i,
                    line,
                    Break {
                        file: path.to_path_buf(),
                        line,
                        seq: Some(last),
                        problem: format!(
                            "the chain ends at seq {last}, but the checkpoint of {} says seq {} \
                             was written: the tail was cut ({} record(s) missing)",
                            cp.timestamp,
                            cp.seq,
                            cp.seq - last
                        ),
                    },
                ));
            }
            (None, None) => breaks.push((
                0,
                0,
                cp_break(format!(
                    "the checkpoint of {} says seq {} was written, but no chained record is \
                     here: the files were emptied or replaced",
                    cp.timestamp, cp.seq
                )),
            )),
            (None, Some(_)) => r.notes.push(format!(
                "checkpoint seq {} is not among the records here (older than the oldest file)",
                cp.seq
            )),
        }
    }
    breaks.sort_by_key(|(i, line, _)| (*i, *line));
    r.first_break = breaks.into_iter().next().map(|(_, _, b)| b);
    r
}

/// A start record names `named` as the file of the record before it, but
/// that record is in `actual`.
fn wrong_prev_file(named: &str, actual: &str) -> String {
    format!(
        "the start record says the record before it is in {named}, but it is in {actual} \
         (a file renamed, or files out of order)"
    )
}

#[cfg(feature = "chain-sign")]
fn check_signature(cp: &Checkpoint, key: &[u8; 32]) -> Result<(), String> {
    match cp.verify_signature(key)? {
        true => Ok(()),
        false => Err("the checkpoint is not signed, but a public key was given".into()),
    }
}

#[cfg(not(feature = "chain-sign"))]
fn check_signature(_cp: &Checkpoint, _key: &[u8; 32]) -> Result<(), String> {
    Err("checking signatures needs the `chain-sign` feature".into())
}
