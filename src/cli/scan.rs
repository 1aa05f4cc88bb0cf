//! One scan shared by every subcommand: the inputs' files read in
//! parallel, each line prefiltered, parsed for the keys the filter needs
//! and matched, and the matching records handed over in time order.

use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, IsTerminal, Read};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Arc;
use std::thread;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::filter::Filter;
use super::view::View;
use crate::read::{kind_files, open_file, open_reader, AsOpened, Lines};
use crate::record::Kind;

/// A sequence of files whose records are in time order: the files of one
/// kind in one directory (rotated, then live), or one file given by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    /// The files, oldest first.
    pub files: Vec<PathBuf>,
}

/// An input that could not be read.
#[derive(Debug)]
pub struct InputError {
    /// The directory or file.
    pub path: PathBuf,
    /// Why.
    pub error: io::Error,
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.error)
    }
}

/// The sources of the command line's paths: a directory gives one source
/// per kind (only `kinds`' when not empty) that has files there; a file
/// gives itself, except that files named on the command line which are one
/// kind's rotated and live files in one directory form one source, in
/// rotation order (named twice, or plain and `.gz`, read once). Paths that
/// cannot be read are returned as errors.
pub fn sources(paths: &[PathBuf], kinds: &[Kind]) -> (Vec<Source>, Vec<InputError>) {
    let mut found = Vec::new();
    let mut errors = Vec::new();
    let mut places = Places::default();
    let mut grouped: HashMap<(PathBuf, Kind), usize> = HashMap::new();
    let mut named: Vec<Vec<(usize, PathBuf)>> = Vec::new();
    let mut slots: Vec<usize> = Vec::new();
    let kinds = if kinds.is_empty() {
        &Kind::ALL[..]
    } else {
        kinds
    };
    for path in paths {
        match std::fs::metadata(path) {
            Ok(meta) if meta.is_dir() => {
                for kind in kinds {
                    match kind_files(path, kind.file_name()) {
                        Ok(files) if files.is_empty() => {}
                        Ok(files) => found.push(Source { files }),
                        Err(error) => errors.push(InputError {
                            path: path.clone(),
                            error,
                        }),
                    }
                }
            }
            Ok(_) => match places.place(path) {
                Some((group, index)) => match grouped.get(&group) {
                    Some(&at) => named[at].push((index, path.clone())),
                    None => {
                        grouped.insert(group, named.len());
                        named.push(vec![(index, path.clone())]);
                        found.push(Source { files: Vec::new() });
                        slots.push(found.len() - 1);
                    }
                },
                None => found.push(Source {
                    files: vec![path.clone()],
                }),
            },
            Err(error) => errors.push(InputError {
                path: path.clone(),
                error,
            }),
        }
    }
    for (members, slot) in named.into_iter().zip(slots) {
        let mut members = members;
        members.sort_by_key(|(index, _)| *index);
        members.dedup_by_key(|(index, _)| *index);
        found[slot].files = members.into_iter().map(|(_, path)| path).collect();
    }
    (found, errors)
}

/// Where named files stand among their directory's rotated files, so that
/// `query audit_logs/audit.*` reads one kind's files as one source, in
/// rotation order, on one thread at a time (a year of hourly files named
/// on the command line would otherwise start a reader for each at once).
#[derive(Default)]
struct Places {
    listings: HashMap<(PathBuf, Kind), Vec<OsString>>,
}

impl Places {
    /// The directory and kind a file belongs to and its place in that
    /// kind's order, when its name is one `kind_files` lists there (a
    /// `.gz` and its plain name count as the same file).
    fn place(&mut self, path: &Path) -> Option<((PathBuf, Kind), usize)> {
        let name = path.file_name()?;
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let plain = name
            .to_str()
            .and_then(|n| n.strip_suffix(".gz"))
            .map_or_else(|| name.to_os_string(), OsString::from);
        for kind in Kind::ALL {
            let listing = self.listings.entry((dir.clone(), kind)).or_insert_with(|| {
                kind_files(&dir, kind.file_name())
                    .unwrap_or_default()
                    .iter()
                    .filter_map(|p| p.file_name())
                    .map(|n| {
                        n.to_str()
                            .and_then(|n| n.strip_suffix(".gz"))
                            .map_or_else(|| n.to_os_string(), OsString::from)
                    })
                    .collect()
            });
            if let Some(index) = listing.iter().position(|n| *n == plain) {
                return Some(((dir, kind), index));
            }
        }
        None
    }
}

/// One matching record, borrowed for the length of the visit.
#[derive(Debug, Clone, Copy)]
pub struct Record<'a> {
    /// The file it is in.
    pub file: &'a Path,
    /// Its line number there, from 1.
    pub line: u64,
    /// Its JSON line, without the `\n`, as in the file.
    pub bytes: &'a [u8],
    /// Its `timestamp`, when it has one.
    pub timestamp: Option<&'a str>,
    /// Its kind, by its target (`name`), else its `level`.
    pub kind: Kind,
}

impl Record<'_> {
    /// The whole record, parsed.
    ///
    /// # Errors
    ///
    /// Only for a record nested deeper than `serde_json` reads (the scan
    /// already checked that the line is JSON).
    pub fn value(&self) -> serde_json::Result<serde_json::Value> {
        serde_json::from_slice(self.bytes)
    }
}

/// What a visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    /// More records.
    Continue,
    /// No more: the scan ends here.
    Stop,
}

/// Settings of a scan.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    /// Show a progress bar on stderr (only drawn when stderr is a terminal).
    pub progress: bool,
    /// How many malformed lines to report one by one on stderr.
    pub show_malformed: u64,
}

impl Default for Options {
    fn default() -> Options {
        Options {
            progress: true,
            show_malformed: 20,
        }
    }
}

/// What a scan saw.
#[derive(Debug, Default)]
pub struct Summary {
    /// Files read.
    pub files: usize,
    /// Lines read.
    pub lines: u64,
    /// Records handed to the visitor.
    pub matched: u64,
    /// Lines that are not a JSON object (among those the prefilter let
    /// through: a line that cannot match is not parsed).
    pub malformed: u64,
    /// Where the first malformed lines are: file, line, what is wrong.
    pub malformed_at: Vec<(PathBuf, u64, String)>,
    /// Files that could not be read (to the end).
    pub errors: Vec<InputError>,
}

/// Scans `sources` with `filter`, giving each matching record to `visit`,
/// in time order across sources (by `timestamp`; within a source, in file
/// order). Files are read in parallel, several at once; memory stays
/// bounded whatever their size. Malformed lines are counted, the first
/// `options.show_malformed` reported on stderr as `FILE:LINE: …`, and
/// skipped.
///
/// # Errors
///
/// Only the visitor's own error; unreadable files go to
/// [`Summary::errors`].
pub fn scan(
    sources: &[Source],
    filter: &Arc<Filter>,
    options: Options,
    visit: &mut dyn FnMut(&Record<'_>) -> io::Result<Flow>,
) -> io::Result<Summary> {
    let total: u64 = sources
        .iter()
        .flat_map(|s| &s.files)
        .filter_map(|f| std::fs::metadata(f).ok())
        .map(|m| m.len())
        .sum();
    let bar = progress_bar(options.progress, total);
    let read = Arc::new(AtomicU64::new(0));
    let parallel = thread::available_parallelism().map_or(2, |n| n.get());
    let window = parallel.div_ceil(sources.len().max(1)).max(1);
    let mut streams: Vec<Stream> = sources
        .iter()
        .map(|s| Stream::new(s, window, filter, &read))
        .collect();
    let mut summary = Summary::default();
    let result = merge(&mut streams, &mut summary, options, &bar, &read, visit);
    bar.finish_and_clear();
    result.map(|()| summary)
}

fn merge(
    streams: &mut [Stream],
    summary: &mut Summary,
    options: Options,
    bar: &ProgressBar,
    read: &AtomicU64,
    visit: &mut dyn FnMut(&Record<'_>) -> io::Result<Flow>,
) -> io::Result<()> {
    for stream in streams.iter_mut() {
        stream.fill(summary, options, bar, read);
    }
    loop {
        // The stream whose next record is the oldest; ties go to the
        // first source.
        let mut best: Option<usize> = None;
        for (i, stream) in streams.iter().enumerate() {
            let Some(key) = stream.head_key() else {
                continue;
            };
            if best.is_none_or(|b| key < streams[b].head_key().unwrap_or_default()) {
                best = Some(i);
            }
        }
        let Some(i) = best else { return Ok(()) };
        let stream = &mut streams[i];
        let Some(record) = stream.head() else {
            return Ok(());
        };
        summary.matched += 1;
        let flow = visit(&record)?;
        if flow == Flow::Stop {
            return Ok(());
        }
        stream.step(summary, options, bar, read);
    }
}

fn progress_bar(wanted: bool, total: u64) -> ProgressBar {
    if !wanted || !io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    if let Ok(style) = ProgressStyle::with_template(
        "{bar:40} {binary_bytes}/{binary_total_bytes} {binary_bytes_per_sec} {eta}",
    ) {
        bar.set_style(style);
    }
    bar
}

/// Matching records of one file, a batch at a time.
struct Chunk {
    file: Arc<Path>,
    data: Vec<u8>,
    items: Vec<Item>,
    lines: u64,
    malformed: Vec<(u64, String)>,
    error: Option<io::Error>,
}

/// A record in [`Chunk::data`]: its line and timestamp as byte ranges.
struct Item {
    line: u64,
    kind: Kind,
    bytes: (usize, usize),
    timestamp: Option<(usize, usize)>,
}

/// A batch is sent when it holds this many bytes of records…
const CHUNK_BYTES: usize = 1 << 20;
/// …or this many records…
const CHUNK_ITEMS: usize = 4096;
/// …or this many lines were read (so progress and stops are seen).
const CHUNK_LINES: u64 = 64 * 1024;
/// Batches queued per file ahead of the merge.
const QUEUE: usize = 4;

impl Chunk {
    fn new(file: &Arc<Path>) -> Chunk {
        Chunk {
            file: file.clone(),
            data: Vec::new(),
            items: Vec::new(),
            lines: 0,
            malformed: Vec::new(),
            error: None,
        }
    }

    fn push(&mut self, line: u64, bytes: &[u8], timestamp: Option<&str>, kind: Kind) {
        let start = self.data.len();
        self.data.extend_from_slice(bytes);
        let end = self.data.len();
        let timestamp = timestamp.map(|t| {
            self.data.extend_from_slice(t.as_bytes());
            (end, self.data.len())
        });
        self.items.push(Item {
            line,
            kind,
            bytes: (start, end),
            timestamp,
        });
    }

    fn full(&self) -> bool {
        self.data.len() >= CHUNK_BYTES
            || self.items.len() >= CHUNK_ITEMS
            || self.lines >= CHUNK_LINES
    }
}

/// Counts the bytes read from disk, for the progress bar.
struct Counted {
    file: AsOpened,
    read: Arc<AtomicU64>,
}

impl Read for Counted {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.file.read(buf)?;
        self.read.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// What the filter says of one line.
pub(crate) enum Verdict<'a> {
    /// Blank, or not wanted.
    Skip,
    /// Wanted.
    Match {
        timestamp: Option<std::borrow::Cow<'a, str>>,
        kind: Kind,
    },
    /// Not a JSON object: why.
    Malformed(String),
}

/// Prefilters, parses and matches one line (`complete`: it ended in a
/// newline).
pub(crate) fn check<'a>(filter: &Filter, bytes: &'a [u8], complete: bool) -> Verdict<'a> {
    if bytes.iter().all(u8::is_ascii_whitespace) || !filter.prefilter(bytes) {
        return Verdict::Skip;
    }
    match View::parse(bytes) {
        // The parse passes over the values it does not read without
        // checking their UTF-8; a record handed on (exported, printed as
        // JSON) must be valid JSON text, so the whole line is checked.
        Ok(_) if std::str::from_utf8(bytes).is_err() => {
            Verdict::Malformed("malformed record: not UTF-8".into())
        }
        Ok(view) if filter.matches(&view, bytes) => Verdict::Match {
            kind: view.kind(),
            timestamp: view.timestamp,
        },
        Ok(_) => Verdict::Skip,
        Err(e) if complete => Verdict::Malformed(format!("malformed record: {e}")),
        Err(e) => Verdict::Malformed(format!(
            "unfinished last line (no newline; still being written?): {e}"
        )),
    }
}

/// Reads one file on its own thread, sending batches of matches.
fn scan_file(file: Arc<Path>, filter: Arc<Filter>, read: Arc<AtomicU64>, tx: SyncSender<Chunk>) {
    let mut chunk = Chunk::new(&file);
    let opened = open_file(&file).map(|(f, gz)| {
        let file = AsOpened::new(f, gz);
        (Counted { file, read }, gz)
    });
    let reader = match opened {
        Ok((counted, gz)) => open_reader(counted, gz),
        Err(e) => {
            chunk.error = Some(e);
            let _ = tx.send(chunk);
            return;
        }
    };
    let mut lines = Lines::new(reader);
    loop {
        let line = match lines.next_line() {
            Ok(Some(line)) => line,
            Ok(None) => break,
            Err(e) => {
                chunk.error = Some(e);
                break;
            }
        };
        chunk.lines += 1;
        if line.cut {
            let why = format!(
                "a line longer than {} bytes, skipped",
                crate::read::MAX_LINE
            );
            chunk.malformed.push((line.number, why));
        } else {
            match check(&filter, line.bytes, line.complete) {
                Verdict::Skip => {}
                Verdict::Match { timestamp, kind } => {
                    chunk.push(line.number, line.bytes, timestamp.as_deref(), kind);
                }
                Verdict::Malformed(why) => chunk.malformed.push((line.number, why)),
            }
        }
        if chunk.full() {
            let next = Chunk::new(&file);
            if tx.send(std::mem::replace(&mut chunk, next)).is_err() {
                return; // the scan stopped
            }
        }
    }
    let _ = tx.send(chunk);
}

/// One source being read: a window of files scanned ahead by their own
/// threads, and the batch being handed out.
struct Stream {
    files: VecDeque<PathBuf>,
    window: usize,
    running: VecDeque<Receiver<Chunk>>,
    chunk: Option<Chunk>,
    next: usize,
    /// The key of records without a timestamp: the last one seen.
    last_time: Vec<u8>,
    filter: Arc<Filter>,
    read: Arc<AtomicU64>,
}

impl Stream {
    fn new(source: &Source, window: usize, filter: &Arc<Filter>, read: &Arc<AtomicU64>) -> Stream {
        let mut stream = Stream {
            files: source.files.iter().cloned().collect(),
            window,
            running: VecDeque::new(),
            chunk: None,
            next: 0,
            last_time: Vec::new(),
            filter: filter.clone(),
            read: read.clone(),
        };
        stream.start();
        stream
    }

    /// Starts threads for the next files, up to the window.
    fn start(&mut self) {
        while self.running.len() < self.window {
            let Some(path) = self.files.pop_front() else {
                return;
            };
            let (tx, rx) = sync_channel(QUEUE);
            let (filter, read) = (self.filter.clone(), self.read.clone());
            let file: Arc<Path> = Arc::from(path.as_path());
            let spawned = thread::Builder::new()
                .name("tracing-audit-scan".into())
                .spawn(move || scan_file(file, filter, read, tx));
            if let Err(e) = spawned {
                // No thread to be had: read it here, now.
                let (tx, rx) = sync_channel(1);
                let mut chunk = Chunk::new(&Arc::from(path.as_path()));
                chunk.error = Some(io::Error::other(format!("could not start a thread: {e}")));
                let _ = tx.send(chunk);
                self.running.push_back(rx);
                continue;
            }
            self.running.push_back(rx);
        }
    }

    /// The sort key of the next record.
    fn head_key(&self) -> Option<&[u8]> {
        let chunk = self.chunk.as_ref()?;
        let item = chunk.items.get(self.next)?;
        Some(match item.timestamp {
            Some((s, e)) => &chunk.data[s..e],
            None => &self.last_time,
        })
    }

    fn head(&self) -> Option<Record<'_>> {
        let chunk = self.chunk.as_ref()?;
        let item = chunk.items.get(self.next)?;
        Some(Record {
            file: &chunk.file,
            line: item.line,
            kind: item.kind,
            bytes: &chunk.data[item.bytes.0..item.bytes.1],
            timestamp: item
                .timestamp
                .and_then(|(s, e)| std::str::from_utf8(&chunk.data[s..e]).ok()),
        })
    }

    /// Moves past the head record.
    fn step(
        &mut self,
        summary: &mut Summary,
        options: Options,
        bar: &ProgressBar,
        read: &AtomicU64,
    ) {
        if let Some(key) = self.head_key() {
            let key = key.to_vec();
            self.last_time = key;
        }
        self.next += 1;
        self.fill(summary, options, bar, read);
    }

    /// Makes sure there is a head record, unless the source is done.
    fn fill(
        &mut self,
        summary: &mut Summary,
        options: Options,
        bar: &ProgressBar,
        read: &AtomicU64,
    ) {
        while self.head_key().is_none() {
            let Some(rx) = self.running.front() else {
                self.chunk = None;
                return;
            };
            match rx.recv() {
                Ok(mut chunk) => {
                    bar.set_position(read.load(Ordering::Relaxed));
                    summary.lines += chunk.lines;
                    for (line, why) in &chunk.malformed {
                        summary.malformed += 1;
                        if summary.malformed <= options.show_malformed {
                            report!("tracing-audit: {}:{line}: {why}", chunk.file.display());
                            summary.malformed_at.push((
                                chunk.file.to_path_buf(),
                                *line,
                                why.clone(),
                            ));
                        }
                    }
                    if let Some(error) = chunk.error.take() {
                        summary.errors.push(InputError {
                            path: chunk.file.to_path_buf(),
                            error,
                        });
                    }
                    self.chunk = Some(chunk);
                    self.next = 0;
                }
                Err(_) => {
                    // The file is done.
                    summary.files += 1;
                    self.running.pop_front();
                    self.start();
                }
            }
        }
    }
}
