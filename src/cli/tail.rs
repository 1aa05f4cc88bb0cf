//! `tracing-audit tail`: the last matching records, then (with `-f`) new
//! ones as they are written, following each live file across rotation.
//!
//! Following polls: every `--poll-ms` it reads what was added to the file
//! it holds open, then checks whether the live path still names that
//! file. When the appender has rotated (renamed the file aside and made a
//! new one), the old file is read to its end first, then the new one from
//! its start, so no line is skipped or shown twice. A line without its
//! newline yet is held until the rest of it arrives.

use std::collections::HashSet;
use std::ffi::OsString;
use std::fs::{self, File};
use std::io::{self, BufReader, BufWriter, IsTerminal, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use super::args::{QueryOutput, TailArgs};
use super::filter::Filter;
use super::scan::{self, check, Flow, Options, Source, Verdict};
use super::table::Table;
use crate::appender::{archives_of, identity};
use crate::read::{open, Lines};
use crate::record::Kind;

/// A matching record kept for printing: sort key, kind, JSON text.
type Kept = (String, Kind, Vec<u8>);

/// Runs `tail` and gives the exit status.
pub fn run(args: &TailArgs) -> u8 {
    let (filter, sources, mut errors) = match super::prepare(&args.inputs, &args.filter) {
        Ok(prepared) => prepared,
        Err(code) => return code,
    };
    if args.follow && !errors.is_empty() {
        // Following something that is not there would wait forever.
        return super::finish(&errors, &scan::Summary::default(), Ok(()));
    }
    let stdout = io::stdout();
    let terminal = stdout.is_terminal();
    let output = args.output.unwrap_or(if terminal {
        QueryOutput::Table
    } else {
        QueryOutput::Json
    });
    let mut printer = Printer {
        out: BufWriter::new(stdout.lock()),
        table: Table::new(terminal && super::colour_allowed()),
        output,
    };

    // What to follow: each kind's live path in a directory (made later if
    // not there yet), or the file given.
    let mut followers: Vec<Follower> = Vec::new();
    for path in super::paths(&args.inputs) {
        if path.is_dir() {
            let kinds = if filter.kinds().is_empty() {
                &Kind::ALL[..]
            } else {
                filter.kinds()
            };
            for kind in kinds {
                followers.push(Follower::new(path.join(kind.file_name())));
            }
        } else if path.exists() && !crate::read::is_gz(&path) {
            // A `.gz` file given by name is finished: read, not followed.
            followers.push(Follower::new(path));
        }
    }

    // The last records: the live files, read by their followers so that
    // following starts exactly where the first read ended, then as many
    // rotated files before each (newest first) as it takes to find the
    // records asked for. No more than those are kept per file.
    let keep = args.lines.max(1);
    let mut last: Vec<Kept> = Vec::new();
    let mut summary = scan::Summary::default();
    let mut found_live = Vec::new();
    for follower in &mut followers {
        let mut mine = Vec::new();
        follower.keep = Some(keep);
        follower.poll(&filter, &mut mine, &mut summary);
        follower.keep = None;
        found_live.push((follower.path.clone(), mine.len()));
        last.append(&mut mine);
    }
    for source in &sources {
        let mut have = found_live
            .iter()
            .filter(|(p, _)| source.files.contains(p))
            .map(|(_, n)| n)
            .sum::<usize>();
        let rotated = source
            .files
            .iter()
            .filter(|f| !followers.iter().any(|w| &w.path == *f));
        for file in rotated.rev() {
            if have >= keep {
                break;
            }
            let mut mine: Vec<Kept> = Vec::new();
            let options = Options {
                progress: false,
                ..Options::default()
            };
            let one = [Source {
                files: vec![file.clone()],
            }];
            let scanned = scan::scan(&one, &filter, options, &mut |record| {
                mine.push((
                    record.timestamp.unwrap_or_default().to_owned(),
                    record.kind,
                    record.bytes.to_vec(),
                ));
                keep_last(&mut mine, keep);
                Ok(Flow::Continue)
            });
            match scanned {
                Ok(one) => absorb(&mut summary, one),
                Err(e) => {
                    report!("tracing-audit: {e}");
                    return super::exit::IO;
                }
            }
            have += mine.len();
            last.append(&mut mine);
        }
    }
    last.sort_by(|a, b| a.0.cmp(&b.0));
    let skip = last.len().saturating_sub(args.lines);
    let mut result = printer.print(&last[skip..]);
    summary.matched += (last.len() - skip) as u64;
    if args.follow && result.is_ok() {
        errors.append(&mut summary.errors);
        result = follow(args, &filter, &mut followers, &mut printer, &mut summary);
    }
    let mut code = super::finish(&errors, &summary, result);
    if code == super::exit::NO_MATCH {
        code = super::exit::FOUND; // an empty tail is not a failure
    }
    code
}

/// Polls the followers until the output is closed.
fn follow(
    args: &TailArgs,
    filter: &Filter,
    followers: &mut [Follower],
    printer: &mut Printer<impl Write>,
    summary: &mut scan::Summary,
) -> io::Result<()> {
    let pause = Duration::from_millis(args.poll_ms.max(1));
    let mut batch: Vec<Kept> = Vec::new();
    loop {
        for follower in followers.iter_mut() {
            follower.poll(filter, &mut batch, summary);
        }
        batch.sort_by(|a, b| a.0.cmp(&b.0));
        printer.print(&batch)?;
        summary.matched += batch.len() as u64;
        batch.clear();
        if output_gone(pause) {
            // Nothing more can be shown: end as at a closed pipe.
            return Err(io::ErrorKind::BrokenPipe.into());
        }
    }
}

/// Waits `pause`, and tells whether the reader of stdout went away in
/// the meantime (a pipe whose other end was closed: `tail -f | head -1`).
/// Without it a quiet log would keep the command running for ever, a
/// closed pipe showing only at the next record written.
#[cfg(unix)]
fn output_gone(pause: Duration) -> bool {
    use rustix::event::{poll, PollFd, PollFlags, Timespec};
    let stdout = io::stdout();
    // No events asked: hang-up and error are always reported.
    let mut fds = [PollFd::new(&stdout, PollFlags::empty())];
    let timeout = Timespec::try_from(pause).ok();
    match poll(&mut fds, timeout.as_ref()) {
        Ok(ready) => ready > 0 && fds[0].revents().intersects(PollFlags::ERR | PollFlags::HUP),
        // Interrupted by a signal: the next round looks again.
        Err(_) => false,
    }
}

#[cfg(not(unix))]
fn output_gone(pause: Duration) -> bool {
    std::thread::sleep(pause);
    false
}

struct Printer<W: Write> {
    out: W,
    table: Table,
    output: QueryOutput,
}

impl<W: Write> Printer<W> {
    fn print(&mut self, records: &[Kept]) -> io::Result<()> {
        for (_, kind, bytes) in records {
            match self.output {
                QueryOutput::Json => {
                    self.out.write_all(bytes)?;
                    self.out.write_all(b"\n")?;
                }
                QueryOutput::Table => self.table.write(&mut self.out, bytes, *kind)?,
            }
        }
        self.out.flush()
    }
}

/// One live path being followed.
struct Follower {
    path: PathBuf,
    open: Option<Open>,
    /// The start of a line whose newline has not been written yet.
    pending: Vec<u8>,
    /// Errors already reported, so that one is not repeated each poll.
    reported: bool,
    /// The rotated files there were when the open file was opened, by
    /// name without `.gz`.
    known: HashSet<OsString>,
    /// While reading the last records: how many to keep at most.
    keep: Option<usize>,
    /// Whether the live path was looked for once already.
    started: bool,
}

struct Open {
    lines: Lines<BufReader<File>>,
    identity: Option<(u64, u64)>,
    name: Arc<Path>,
}

impl Follower {
    fn new(path: PathBuf) -> Follower {
        Follower {
            path,
            open: None,
            pending: Vec::new(),
            reported: false,
            known: HashSet::new(),
            keep: None,
            started: false,
        }
    }

    /// Reads what is new, following a rotation.
    fn poll(&mut self, filter: &Filter, found: &mut Vec<Kept>, summary: &mut scan::Summary) {
        if self.open.is_none() {
            // Not open: never yet, or the live file was renamed away and
            // not made again when we looked. In the second case every
            // file rotated since then was never read: read those whole.
            let known = std::mem::take(&mut self.known);
            self.reopen();
            if self.started {
                let missed: Vec<PathBuf> = self
                    .archives()
                    .into_iter()
                    .filter(|p| !known.contains(&stem(p)) && self.known.contains(&stem(p)))
                    .collect();
                for file in &missed {
                    self.read_whole(file, filter, found, summary);
                }
            }
            self.started = true;
        }
        self.drain(filter, found, summary);
        // Rotated (the path names another file now, or the file shrank)?
        let Some(open) = &self.open else { return };
        let moved = match fs::metadata(&self.path) {
            Ok(meta) => {
                // Shrank: truncated or rewritten in place (copytruncate).
                identity(&meta) != open.identity || self.shrank(meta.len())
            }
            Err(_) => false, // renamed, the new one not made yet: wait
        };
        if moved {
            // Lines written just before the rename are in the old file.
            self.drain(filter, found, summary);
            self.pending.clear();
            self.open = None;
            // Several rotations since the last poll: the files rotated
            // between the one just drained and the live file opened now
            // are read whole. They are known only once the new live file
            // is open (a rotation may come while we look), so open first:
            // `reopen` lists the rotated files as they were at that open.
            let known = std::mem::take(&mut self.known);
            self.reopen();
            let new: Vec<PathBuf> = self
                .archives()
                .into_iter()
                .filter(|p| !known.contains(&stem(p)) && self.known.contains(&stem(p)))
                .collect();
            for missed in new.iter().skip(1) {
                self.read_whole(missed, filter, found, summary);
            }
            self.drain(filter, found, summary);
        }
    }

    /// The rotated files of the path, oldest first (no `.gz.tmp`).
    fn archives(&self) -> Vec<PathBuf> {
        archives_of(&self.path)
            .unwrap_or_default()
            .into_iter()
            .filter(|p| p.extension() != Some(std::ffi::OsStr::new("tmp")))
            // Only regular files, as `read::kind_files` lists them.
            .filter(|p| fs::metadata(p).map_or(true, |m| m.is_file()))
            .collect()
    }

    /// Reads a rotated file from start to end (by its `.gz` name if it
    /// was compressed meanwhile).
    fn read_whole(
        &mut self,
        path: &Path,
        filter: &Filter,
        found: &mut Vec<Kept>,
        summary: &mut scan::Summary,
    ) {
        let opened = open(path).or_else(|e| {
            let mut gz = path.as_os_str().to_owned();
            gz.push(".gz");
            open(Path::new(&gz)).map_err(|_| e)
        });
        let mut lines = match opened {
            Ok(reader) => Lines::new(reader),
            Err(e) => {
                report!("tracing-audit: cannot read {}: {e}", path.display());
                return;
            }
        };
        let name: Arc<Path> = Arc::from(path);
        loop {
            match lines.next_line() {
                Ok(Some(line)) if line.cut => too_long(&name, line.number, summary),
                Ok(Some(line)) => {
                    let (number, complete) = (line.number, line.complete);
                    take(filter, &name, number, line.bytes, complete, found, summary);
                }
                Ok(None) => return,
                Err(e) => {
                    report!("tracing-audit: {}: {e}", path.display());
                    return;
                }
            }
        }
    }

    /// Without file identities: a file that got shorter than what was
    /// read is a new one.
    fn shrank(&mut self, len: u64) -> bool {
        self.open
            .as_mut()
            .and_then(|o| o.lines.get_mut().stream_position().ok())
            .is_some_and(|read| len < read)
    }

    /// Opens the live path from its start, with the rotated files that
    /// came before it: listed before and after opening, and again if a
    /// rotation came in between, so that the first rotated file made
    /// after this is the one opened.
    fn reopen(&mut self) {
        for _ in 0..100 {
            let before: HashSet<OsString> = self.archives().iter().map(|p| stem(p)).collect();
            self.open_live();
            let after: HashSet<OsString> = self.archives().iter().map(|p| stem(p)).collect();
            if before == after {
                self.known = after;
                return;
            }
        }
    }

    fn open_live(&mut self) {
        self.open = None;
        // Not a regular file (a FIFO planted at the live path): opening it
        // would wait for a writer for ever, the command with it.
        let regular = fs::metadata(&self.path).map(|m| {
            if m.is_file() {
                Ok(())
            } else {
                Err(io::Error::other("not a regular file"))
            }
        });
        match regular
            .and_then(|r| r)
            .and_then(|()| File::open(&self.path))
            .and_then(|f| Ok((f.metadata()?, f)))
        {
            Ok((meta, file)) => {
                self.reported = false;
                let mut reader = BufReader::with_capacity(64 * 1024, file);
                let _ = reader.seek(SeekFrom::Start(0));
                self.open = Some(Open {
                    lines: Lines::new(reader),
                    identity: identity(&meta),
                    name: Arc::from(self.path.as_path()),
                });
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => {
                if !self.reported {
                    self.reported = true;
                    report!("tracing-audit: cannot read {}: {e}", self.path.display());
                }
            }
        }
    }

    /// Hands over every whole new line of the open file.
    fn drain(&mut self, filter: &Filter, found: &mut Vec<Kept>, summary: &mut scan::Summary) {
        let Some(open) = &mut self.open else { return };
        loop {
            let line = match open.lines.next_line() {
                Ok(Some(line)) => line,
                Ok(None) => return,
                Err(e) => {
                    report!("tracing-audit: {}: {e}", open.name.display());
                    return;
                }
            };
            if line.cut || self.pending.len() > crate::read::MAX_LINE {
                too_long(&open.name, line.number, summary);
                self.pending.clear();
                continue;
            }
            if !line.complete {
                self.pending.extend_from_slice(line.bytes);
                continue;
            }
            let whole: Vec<u8>;
            let bytes = if self.pending.is_empty() {
                line.bytes
            } else {
                self.pending.extend_from_slice(line.bytes);
                whole = std::mem::take(&mut self.pending);
                &whole
            };
            take(filter, &open.name, line.number, bytes, true, found, summary);
            if let Some(keep) = self.keep {
                keep_last(found, keep);
            }
        }
    }
}

/// Drops the oldest of `found` once it holds twice `keep` (at least 1,024):
/// memory stays bounded while the last `keep` are kept.
fn keep_last(found: &mut Vec<Kept>, keep: usize) {
    if found.len() >= keep.saturating_mul(2).max(1024) {
        found.drain(..found.len() - keep);
    }
}

/// Adds the figures of one scan to another.
fn absorb(summary: &mut scan::Summary, one: scan::Summary) {
    summary.files += one.files;
    summary.lines += one.lines;
    summary.matched += one.matched;
    summary.malformed += one.malformed;
    summary.malformed_at.extend(one.malformed_at);
    summary.errors.extend(one.errors);
}

/// A rotated file's name without `.gz`: the same file before and after
/// compression.
fn stem(path: &Path) -> OsString {
    let name = path.file_name().unwrap_or_default();
    match name.as_encoded_bytes().strip_suffix(b".gz") {
        Some(_) => Path::new(name).file_stem().unwrap_or_default().to_owned(),
        None => name.to_owned(),
    }
}

fn too_long(file: &Path, number: u64, summary: &mut scan::Summary) {
    let why = format!(
        "a line longer than {} bytes, skipped",
        crate::read::MAX_LINE
    );
    malformed(file, number, why, summary);
}

/// Counts a malformed line, and names it on stderr (and in the summary)
/// while fewer than the scan's limit were, as `query` does.
fn malformed(file: &Path, number: u64, why: String, summary: &mut scan::Summary) {
    summary.malformed += 1;
    if summary.malformed <= Options::default().show_malformed {
        report!("tracing-audit: {}:{number}: {why}", file.display());
        summary.malformed_at.push((file.to_path_buf(), number, why));
    }
}

/// Checks one line and keeps it if it matches.
fn take(
    filter: &Filter,
    file: &Path,
    number: u64,
    bytes: &[u8],
    complete: bool,
    found: &mut Vec<Kept>,
    summary: &mut scan::Summary,
) {
    summary.lines += 1;
    match check(filter, bytes, complete) {
        Verdict::Skip => {}
        Verdict::Match { timestamp, kind } => found.push((
            timestamp.map(|t| t.into_owned()).unwrap_or_default(),
            kind,
            bytes.to_vec(),
        )),
        Verdict::Malformed(why) => malformed(file, number, why, summary),
    }
}
