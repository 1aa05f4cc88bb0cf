//! The writer thread: drains the queue in batches, writes each batch with
//! as few `write` calls as it can, retries failures, writes again what went
//! into a file that vanished, and at shutdown writes every accepted line or
//! counts the ones it had to give up on. Rotation is in `rotation.rs`.

use std::io::{self, Write};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TryRecvError};

use super::builder::{Config, Durability};
use super::file::LiveFile;
use super::maintenance::Job;
use super::replay::Unverified;
use super::shutdown::Closing;
use super::stats::Counters;

/// What handles send to the writer thread. Control messages travel in the
/// same queue as lines, so they are answered in order. There is no
/// shutdown message: the writer stops when the channel disconnects, that
/// is once closing has begun and the last send under way has finished.
#[derive(Debug)]
pub(crate) enum Msg {
    Line(Vec<u8>),
    /// Answered once every earlier line has been handed to the OS.
    Flush(Sender<()>),
    /// Answered once every earlier line is written and fsynced.
    Sync(Sender<io::Result<()>>),
}

const DROP_REPORT_EVERY: Duration = Duration::from_millis(100);
const BACKOFF_FIRST: Duration = Duration::from_millis(1);
const BACKOFF_MAX: Duration = Duration::from_secs(1);

/// How long the writer keeps polling after the last message before it
/// blocks on the queue (see `Worker::next_message`).
const PARK_AFTER: Duration = Duration::from_millis(50);
/// The first sleep between two polls of the queue; each empty poll doubles
/// it, up to [`MAX_NAP`].
const POLL_EVERY: Duration = Duration::from_micros(1000);
/// The longest sleep between two polls (a line waits at most this long in
/// the queue; `flush`, `sync` and the guard wake the writer at once).
const MAX_NAP: Duration = Duration::from_millis(5);

/// How many spent line buffers wait for reuse (see `Shared::pool`).
pub(crate) const POOL_SIZE: usize = 1024;
/// Buffers bigger than this are freed, not kept.
const POOL_MAX_LINE: usize = 4096;

pub(crate) struct Worker {
    /// Where spent line buffers go back for reuse.
    pub(crate) recycle: Option<Sender<Vec<u8>>>,
    pub(super) config: Config,
    rx: Receiver<Msg>,
    pub(super) counters: Arc<Counters>,
    pub(super) file: Option<LiveFile>,
    pub(super) batch: Vec<u8>,
    /// Lines in `batch`, replayed ones included.
    pub(super) batch_lines: u64,
    /// Lines at the front of `batch` that are written again (already
    /// counted in `lines_written`).
    batch_replayed: u64,
    /// Lines written since the path was last seen to name the file.
    pub(super) unverified: Unverified,
    flush_acks: Vec<Sender<()>>,
    sync_acks: Vec<Sender<io::Result<()>>>,
    pub(super) now: SystemTime,
    pub(super) next_rotation: Option<SystemTime>,
    /// While rotation fails: when to try again, and the next backoff.
    pub(super) rotation_retry: Option<(Instant, Duration)>,
    pub(super) rotation_failures: u64,
    /// The time the last rotated file was named after (at start, the
    /// newest rotated file found on disk).
    pub(super) last_archive: Option<SystemTime>,
    /// When the last message arrived.
    last_message: Instant,
    unsynced_since: Option<Instant>,
    failures_in_burst: u64,
    pub(super) jobs: Option<Sender<Job>>,
    pub(super) clock: fn() -> SystemTime,
    pub(super) closing: Arc<Closing>,
    /// The shutdown deadline passed while writing kept failing: every line
    /// from now on is counted in `abandoned`, none written.
    pub(super) gave_up: bool,
    /// Run on every line before it joins the batch (see
    /// [`LineTransform`](super::LineTransform)).
    pub(crate) transform: Option<Box<dyn super::LineTransform>>,
    /// Held only to signal the guard, by being dropped, that we are done.
    _done: Sender<()>,
}

impl Worker {
    pub(crate) fn new(
        config: Config,
        rx: Receiver<Msg>,
        counters: Arc<Counters>,
        file: LiveFile,
        jobs: Sender<Job>,
        done: Sender<()>,
        closing: Arc<Closing>,
    ) -> Worker {
        // Across a restart too, rotated files are named after the newest
        // one on disk (see `rotate`).
        let last_archive = super::maintenance::newest_archive_time(&config.path);
        let mut worker = Worker {
            batch: Vec::with_capacity(config.batch_bytes + 4096),
            unverified: Unverified::new(config.identity_check_every, config.identity_clock),
            config,
            rx,
            counters,
            file: Some(file),
            batch_lines: 0,
            batch_replayed: 0,
            flush_acks: Vec::new(),
            sync_acks: Vec::new(),
            now: SystemTime::now(),
            next_rotation: None,
            rotation_retry: None,
            rotation_failures: 0,
            last_archive,
            last_message: Instant::now(),
            unsynced_since: None,
            failures_in_burst: 0,
            jobs: Some(jobs),
            clock: SystemTime::now,
            closing,
            gave_up: false,
            _done: done,
            recycle: None,
            transform: None,
        };
        worker.schedule_time_rotation();
        worker
    }

    /// Runs until the channel disconnects: closing has begun and every send
    /// under way has finished, so every accepted line has been received.
    pub(crate) fn run(mut self) {
        loop {
            let first = self.next_message();
            self.now = (self.clock)();
            match first {
                Ok(msg) => self.take(msg),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            while self.batch.len() < self.config.batch_bytes {
                match self.rx.try_recv() {
                    Ok(msg) => self.take(msg),
                    Err(_) => break,
                }
            }
            self.finish_batch();
        }
        if !self.gave_up {
            // The last lines may have gone into a file that vanished since
            // the last check.
            self.verify();
            self.write_batch();
        }
        if !self.gave_up {
            if let Err(e) = self.sync_file() {
                self.note_error(&e, "sync");
            }
        }
        self.transform_event("on_close", |t| t.on_close());
        // Dropping `jobs` lets the maintenance thread finish; dropping
        // `_done` tells the guard we are done.
    }

    /// Waits for the next message, up to [`Self::wait_limit`].
    ///
    /// While lines keep coming (the last one less than [`PARK_AFTER`] ago)
    /// in `Block` mode, the writer polls the queue, parked between polls
    /// for [`POLL_EVERY`] doubling up to [`MAX_NAP`], instead of blocking on
    /// it: a blocked
    /// receiver must be woken by a system call on the sender's side, which
    /// would land on the caller of `write_line` and make its latency jump.
    /// `flush`, `sync` and the guard unpark it at once. Once idle, and
    /// always in `Drop` mode (where a sleeping writer would let a small
    /// queue overflow), it blocks, so an idle appender costs no CPU.
    fn next_message(&mut self) -> Result<Msg, RecvTimeoutError> {
        let limit = self.wait_limit();
        let start = Instant::now();
        let mut now = start;
        let polling = self.config.backpressure == super::Backpressure::Block;
        let mut nap = POLL_EVERY;
        while polling && now.duration_since(self.last_message) < PARK_AFTER {
            match self.rx.try_recv() {
                Ok(msg) => {
                    self.last_message = now;
                    return Ok(msg);
                }
                Err(TryRecvError::Disconnected) => return Err(RecvTimeoutError::Disconnected),
                Err(TryRecvError::Empty) => {}
            }
            if limit.is_some_and(|limit| now.duration_since(start) >= limit) {
                return Err(RecvTimeoutError::Timeout);
            }
            std::thread::park_timeout(nap);
            nap = (nap * 2).min(MAX_NAP);
            now = Instant::now();
        }
        let result = match limit {
            Some(limit) => self.rx.recv_timeout(limit.saturating_sub(start.elapsed())),
            None => self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        if result.is_ok() {
            self.last_message = Instant::now();
        }
        result
    }

    /// How long the next wait for a message may last.
    fn wait_limit(&self) -> Option<Duration> {
        let mut limit = None;
        let mut at_most = |d: Duration| limit = Some(limit.map_or(d, |l: Duration| l.min(d)));
        if self.config.backpressure == super::Backpressure::Drop {
            at_most(DROP_REPORT_EVERY);
        }
        if let (Durability::SyncEvery(every), Some(since)) =
            (self.config.durability, self.unsynced_since)
        {
            at_most(every.saturating_sub(since.elapsed()));
        }
        // Written lines are checked for a vanished file even when no more
        // come.
        if let Some(due) = self.unverified.due_in() {
            at_most(due);
        }
        limit
    }

    /// Adds a message to the batch.
    fn take(&mut self, msg: Msg) {
        match msg {
            Msg::Line(line) => {
                self.push_line(&line);
                if line.capacity() <= POOL_MAX_LINE {
                    if let Some(pool) = &self.recycle {
                        let _ = pool.try_send(line);
                    }
                }
            }
            Msg::Flush(ack) => self.flush_acks.push(ack),
            Msg::Sync(ack) => self.sync_acks.push(ack),
        }
    }

    fn finish_batch(&mut self) {
        self.report_drops();
        if !self.sync_acks.is_empty() {
            // A sync promises the lines are on disk in the file at the
            // path, not in one that vanished.
            self.verify();
        }
        let wrote = !self.batch.is_empty();
        self.write_batch();
        if self.gave_up {
            // Nothing more is written: waiters are told so.
            self.flush_acks.clear();
            for ack in self.sync_acks.drain(..) {
                let _ = ack.send(Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "appender gave up at its shutdown timeout",
                )));
            }
            return;
        }
        let sync_due = match self.config.durability {
            Durability::Write => false,
            Durability::SyncEachBatch => wrote,
            Durability::SyncEvery(every) => self
                .unsynced_since
                .is_some_and(|since| since.elapsed() >= every),
        };
        if sync_due || !self.sync_acks.is_empty() {
            let result = self.sync_file();
            if let Err(e) = &result {
                self.note_error(e, "sync");
            }
            for ack in self.sync_acks.drain(..) {
                let reply = match &result {
                    Ok(()) => Ok(()),
                    Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
                };
                let _ = ack.send(reply);
            }
        }
        for ack in self.flush_acks.drain(..) {
            let _ = ack.send(());
        }
    }

    /// In drop mode, puts one line in the file for the lines refused since
    /// the last report.
    fn report_drops(&mut self) {
        if self.gave_up {
            // Nothing more reaches the file; `Stats::dropped` has them.
            return;
        }
        let dropped = self.counters.dropped_unreported.swap(0, Relaxed);
        if dropped == 0 {
            return;
        }
        let mut line = Vec::with_capacity(256);
        line.extend_from_slice(b"{\"timestamp\":\"");
        crate::clock::write_rfc3339(self.now, &mut line);
        line.extend_from_slice(
            b"\",\"level\":\"WARN\",\"name\":\"tracing_audit::appender\",\"event_id\":\"",
        );
        // An `event_id` as every record has (the shipping pipeline keys
        // rows on it), and the service when the builder gave one.
        let since = self
            .now
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default();
        line.extend_from_slice(
            crate::event_id::at(since)
                .hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        );
        line.extend_from_slice(b"\",\"message\":\"");
        let count = dropped.to_string();
        line.extend_from_slice(count.as_bytes());
        line.extend_from_slice(b" lines dropped: queue full\"");
        if let Some(service) = &self.config.service_name {
            line.extend_from_slice(b",\"service_name\":");
            line.extend_from_slice(
                serde_json::to_string(service)
                    .unwrap_or_default()
                    .as_bytes(),
            );
        }
        line.extend_from_slice(b",\"dropped\":");
        line.extend_from_slice(count.as_bytes());
        line.extend_from_slice(b"}\n");
        self.push_line(&line);
    }

    /// Writes the whole batch, retrying until it is in the file or the
    /// shutdown deadline passes (then the rest is counted as abandoned).
    pub(super) fn write_batch(&mut self) {
        if self.unverified.check_due() {
            self.verify();
        }
        if self.batch.is_empty() {
            return;
        }
        if self.gave_up {
            self.abandon_batch(0);
            return;
        }
        let mut written = 0;
        let mut backoff = BACKOFF_FIRST;
        while written < self.batch.len() {
            let Some(file) = self.file.as_mut() else {
                self.reopen();
                if self.file.is_none() {
                    if self.closing.expired() {
                        self.abandon_batch(written);
                        return;
                    }
                    backoff = self.pause(backoff);
                }
                continue;
            };
            let error = match file.file.write(&self.batch[written..]) {
                Ok(0) => io::Error::new(io::ErrorKind::WriteZero, "write returned 0 bytes"),
                Ok(n) => {
                    written += n;
                    file.len += n as u64;
                    continue;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => e,
            };
            self.note_error(&error, "write to");
            written = self.cut_torn_line(written);
            if self.closing.expired() {
                self.abandon_batch(written);
                return;
            }
            backoff = self.pause(backoff);
            if self.recover(&error) {
                // What was written went into a file that vanished: the
                // whole batch, now behind the replayed lines, again.
                written = 0;
            }
        }
        let new_lines = self.batch_lines - self.batch_replayed;
        Counters::add(&self.counters.lines_written, new_lines);
        Counters::add(&self.counters.bytes_written, self.batch.len() as u64);
        self.unverified.record(&mut self.batch, self.batch_lines);
        if self.config.durability == Durability::Write {
            // Otherwise the lines are durable only after the next fsync
            // (see `sync_file`).
            self.transform_event("on_written", |t| t.on_written());
        }
        self.batch.clear();
        self.batch_lines = 0;
        self.batch_replayed = 0;
        if self.unsynced_since.is_none() {
            self.unsynced_since = Some(Instant::now());
        }
        if self.failures_in_burst > 0 {
            report!(
                "tracing-audit: writing to {} resumed after {} failed attempt(s)",
                self.config.path.display(),
                self.failures_in_burst
            );
            self.failures_in_burst = 0;
        }
    }

    /// The shutdown deadline passed: counts the lines of the batch from
    /// `written` on as abandoned (those before it are in the file), and
    /// every line after them too.
    pub(super) fn abandon_batch(&mut self, written: usize) {
        let rest = &self.batch[written.min(self.batch.len())..];
        let unwritten = rest.iter().filter(|&&b| b == b'\n').count() as u64;
        let done = self.batch_lines.saturating_sub(unwritten);
        Counters::add(
            &self.counters.lines_written,
            done.saturating_sub(self.batch_replayed),
        );
        Counters::add(&self.counters.abandoned, unwritten);
        self.batch.clear();
        self.batch_lines = 0;
        self.batch_replayed = 0;
        self.unverified.clear();
        self.gave_up = true;
    }

    /// Checks that the path still names the file written to; if not, the
    /// lines written since the last check go to the front of the batch, to
    /// be written into a new file.
    pub(super) fn verify(&mut self) {
        if !self
            .file
            .as_ref()
            .is_some_and(|f| f.still_at(&self.config.path))
        {
            self.drop_file();
        } else {
            self.unverified.clear();
        }
    }

    /// Puts the unverified lines back at the front of the batch, to be
    /// written into the next file; true if there were any.
    pub(super) fn replay_unverified(&mut self) -> bool {
        let (mut bytes, lines) = self.unverified.take();
        if lines == 0 {
            return false;
        }
        report!(
            "tracing-audit: {} no longer names the file being written (deleted, its directory \
             removed, or renamed away); writing the {lines} line(s) written since the last \
             check again into a new file (counted in Stats::rewritten)",
            self.config.path.display()
        );
        Counters::add(&self.counters.rewritten, lines);
        bytes.extend_from_slice(&self.batch);
        self.batch = bytes;
        self.batch_lines += lines;
        self.batch_replayed += lines;
        true
    }

    /// After a failed write, removes a partly written line from the end of
    /// the file so that no line is ever torn; returns how much of the batch
    /// is now really in the file.
    fn cut_torn_line(&mut self, written: usize) -> usize {
        let whole = self.batch[..written]
            .iter()
            .rposition(|&b| b == b'\n')
            .map_or(0, |i| i + 1);
        if whole == written {
            return written;
        }
        let torn = (written - whole) as u64;
        if let Some(file) = self.file.as_mut() {
            let cut = file
                .file
                .metadata()
                .and_then(|m| file.file.set_len(m.len().saturating_sub(torn)));
            match cut {
                Ok(()) => file.len = file.len.saturating_sub(torn),
                Err(e) => {
                    // Reopening heals the torn line with a newline.
                    self.note_error(&e, "truncate torn line in");
                    if self.drop_file() {
                        return 0;
                    }
                }
            }
        }
        whole
    }

    /// Closes the live file; if the path no longer names it, puts its
    /// unverified lines back into the batch and returns true.
    fn drop_file(&mut self) -> bool {
        let here = self
            .file
            .as_ref()
            .is_some_and(|f| f.still_at(&self.config.path));
        self.file = None;
        if here {
            self.unverified.clear();
            false
        } else {
            self.replay_unverified()
        }
    }

    /// Chooses how to get going again after `error`; true if the file had
    /// vanished and its unverified lines were put back into the batch.
    fn recover(&mut self, error: &io::Error) -> bool {
        if is_file_too_large(error) {
            return self.rotate((self.clock)()) == super::rotation::Rotated::Replayed;
        }
        let here = self
            .file
            .as_ref()
            .is_some_and(|f| f.still_at(&self.config.path));
        if !here || self.failures_in_burst >= 3 {
            // Start afresh with a new open.
            return self.drop_file();
        }
        false
    }

    /// Sleeps for `backoff` (no later than the shutdown deadline; the
    /// guard wakes it) and returns the next backoff.
    pub(super) fn pause(&self, backoff: Duration) -> Duration {
        std::thread::park_timeout(self.closing.cap(backoff));
        (backoff * 2).min(BACKOFF_MAX)
    }

    pub(super) fn reopen(&mut self) {
        match LiveFile::open(&self.config.path, self.config.file_mode) {
            Ok(file) => self.file = Some(file),
            Err(e) => {
                self.file = None;
                self.note_error(&e, "open");
            }
        }
    }

    pub(super) fn sync_file(&mut self) -> io::Result<()> {
        self.unsynced_since = None;
        let Some(file) = &self.file else {
            return Ok(());
        };
        file.file.sync_data()?;
        // With a sync configured, the transform hears that its lines are in
        // the file only once they are on disk, and only when every line it
        // transformed is (not halfway through a batch).
        if self.config.durability != Durability::Write && self.batch.is_empty() {
            self.transform_event("on_written", |t| t.on_written());
        }
        Ok(())
    }

    /// Counts a failure; the first of a burst is reported on stderr.
    pub(super) fn note_error(&mut self, error: &io::Error, action: &str) {
        Counters::add(&self.counters.write_errors, 1);
        if self.failures_in_burst == 0 {
            report!(
                "tracing-audit: {action} {} failed: {error}; retrying with backoff \
                 (further failures are counted in Stats::write_errors)",
                self.config.path.display()
            );
        }
        self.failures_in_burst += 1;
    }
}

fn is_file_too_large(error: &io::Error) -> bool {
    #[cfg(unix)]
    {
        error.raw_os_error() == Some(libc::EFBIG)
    }
    #[cfg(not(unix))]
    {
        let _ = error;
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::appender::builder::AppenderBuilder;
    use crate::appender::TimeRotation;
    use std::time::UNIX_EPOCH;

    /// A worker on `path` with no sender left (its queue is closed), and
    /// the receiving end of the jobs it hands to maintenance.
    fn test_worker(path: &std::path::Path, config: Config) -> (Worker, Receiver<Job>) {
        let (_, rx) = crossbeam_channel::bounded(16);
        let (jobs_tx, jobs_rx) = crossbeam_channel::unbounded();
        let (done_tx, _) = crossbeam_channel::bounded(0);
        let file = LiveFile::open(path, 0o640).unwrap();
        let worker = Worker::new(
            config,
            rx,
            Arc::default(),
            file,
            jobs_tx,
            done_tx,
            Arc::default(),
        );
        (worker, jobs_rx)
    }

    static FAKE_NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn fake_clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(FAKE_NOW.load(Relaxed))
    }

    #[test]
    fn time_rotation_happens_at_the_utc_boundary_between_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let config = AppenderBuilder::new(&path)
            .rotate_every(TimeRotation::Hourly)
            .max_file_size(None)
            .into_config();
        // 2026-11-22T10:59:59Z
        FAKE_NOW.store(1_795_345_199, Relaxed);
        let (mut worker, jobs_rx) = test_worker(&path, config);
        worker.clock = fake_clock;
        worker.now = fake_clock();
        worker.schedule_time_rotation();

        worker.push_line(b"before\n");
        worker.finish_batch();
        FAKE_NOW.store(1_795_345_500, Relaxed); // 11:05:00Z, first line after 11:00
        worker.now = fake_clock();
        worker.push_line(b"after\n");
        worker.finish_batch();

        let Ok(Job::Rotated(archive)) = jobs_rx.try_recv() else {
            panic!("no rotation reported");
        };
        // Named after the boundary: the file holds the lines written before
        // 11:00, even though it was renamed at 11:05.
        assert_eq!(
            archive.file_name().unwrap().to_str().unwrap(),
            "audit.log.20261122T110000.000000Z"
        );
        assert_eq!(std::fs::read(&archive).unwrap(), b"before\n");
        assert_eq!(std::fs::read(&path).unwrap(), b"after\n");
        assert_eq!(
            worker.next_rotation,
            Some(UNIX_EPOCH + Duration::from_secs(1_795_345_200 + 3600)),
            "the next boundary is 12:00"
        );
        assert_eq!(worker.counters.rotations.load(Relaxed), 1);
    }

    static BACKWARDS_NOW: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

    fn backwards_clock() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(BACKWARDS_NOW.load(Relaxed))
    }

    /// The clock is stepped back an hour (NTP, a resumed VM) during a run:
    /// rotated files are still named in the order they were rotated, so
    /// that retention, which keeps the newest names, does not delete the
    /// newest files and keep older ones.
    #[test]
    fn rotated_names_keep_their_order_when_the_clock_steps_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("audit.log");
        let config = AppenderBuilder::new(&path)
            .max_file_size(8)
            .max_files(None)
            .into_config();
        BACKWARDS_NOW.store(1_795_345_199, Relaxed);
        let (mut worker, jobs_rx) = test_worker(&path, config);
        worker.clock = backwards_clock;
        for (n, at) in [(1, 0u64), (2, 0), (3, 3600), (4, 3600)] {
            BACKWARDS_NOW.store(1_795_345_199 - at, Relaxed);
            worker.now = backwards_clock();
            worker.push_line(format!("line {n}\n").as_bytes());
            worker.finish_batch();
        }
        let names: Vec<String> = jobs_rx
            .try_iter()
            .map(|Job::Rotated(p)| p.file_name().unwrap().to_str().unwrap().to_owned())
            .collect();
        assert_eq!(names.len(), 3);
        let mut sorted = names.clone();
        sorted.sort();
        assert_eq!(names, sorted, "rotated later, named earlier");
    }
}
