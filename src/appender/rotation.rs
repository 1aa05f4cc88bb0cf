//! Rotation on the writer thread: when a line must go to a fresh file,
//! renaming the live file aside, and backing off (never growing the live
//! file without bound) while that fails.

use std::io;
use std::time::{Duration, Instant, SystemTime};

use super::file::rename_aside;
use super::maintenance::Job;
use super::stats::Counters;
use super::worker::Worker;
use super::Durability;
use crate::clock::next_boundary;

/// The first wait before a failed rotation is tried again; it doubles up
/// to [`RETRY_MAX`].
const RETRY_FIRST: Duration = Duration::from_millis(10);
const RETRY_MAX: Duration = Duration::from_secs(5);

/// How a rotation attempt ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Rotated {
    /// A fresh file is open.
    Done,
    /// A fresh file is open, and the old one had vanished: its unverified
    /// lines were put back into the batch.
    Replayed,
    /// The live file could not be renamed aside; writing goes on into it.
    Failed,
}

/// What the next line needs before it can be added to the batch.
enum Check {
    NotDue,
    /// Rotate now, naming the rotated file after this time.
    Due(SystemTime),
    /// Rotation keeps failing and the live file has reached twice its
    /// size limit: wait for the next attempt.
    Blocked(Instant),
}

impl Worker {
    /// Adds one line to the batch, rotating first if it is due. While
    /// rotation fails the line goes into the live file, up to twice
    /// `max_file_size`; beyond that the writer waits (and so, once the
    /// queue is full, do callers) until a rotation succeeds or the shutdown
    /// deadline passes.
    pub(super) fn push_line(&mut self, line: &[u8]) {
        loop {
            if self.gave_up {
                Counters::add(&self.counters.abandoned, 1);
                return;
            }
            match self.rotation_check(line.len() as u64) {
                Check::NotDue => break,
                Check::Due(name_time) => {
                    self.write_batch();
                    if !self.gave_up && self.rotate(name_time) != Rotated::Failed {
                        break;
                    }
                }
                Check::Blocked(retry_at) => {
                    self.write_batch();
                    if self.closing.expired() {
                        self.abandon_batch(0);
                        continue;
                    }
                    let wait = retry_at.saturating_duration_since(Instant::now());
                    std::thread::park_timeout(self.closing.cap(wait));
                }
            }
        }
        self.transform_into_batch(line);
    }

    /// Whether the file must be rotated before `incoming` more bytes, and
    /// the time to name the rotated file after: the UTC boundary for a
    /// time rotation (the file holds lines from before it), the present
    /// for a size one.
    fn rotation_check(&self, incoming: u64) -> Check {
        let occupied = self.file.as_ref().map_or(0, |f| f.len) + self.batch.len() as u64;
        if occupied == 0 {
            return Check::NotDue;
        }
        let by_time = self.next_rotation.filter(|&at| self.now >= at);
        let over = |limit: u64| occupied + incoming > limit;
        let by_size = self.config.max_file_size.filter(|&max| over(max));
        let name_time = match (by_time, by_size) {
            (Some(boundary), _) => boundary,
            (None, Some(_)) => (self.clock)(),
            (None, None) => return Check::NotDue,
        };
        match self.rotation_retry {
            Some((retry_at, _)) if Instant::now() < retry_at => {
                let hard_cap = self.config.max_file_size.map(|max| max.saturating_mul(2));
                if hard_cap.is_some_and(over) {
                    Check::Blocked(retry_at)
                } else {
                    Check::NotDue
                }
            }
            _ => Check::Due(name_time),
        }
    }

    pub(super) fn schedule_time_rotation(&mut self) {
        self.next_rotation = self
            .config
            .time_rotation
            .map(|r| next_boundary(self.now, r.period()));
    }

    /// Renames the live file aside, named after `name_time`, and opens a
    /// fresh one. The batch must already be written.
    pub(super) fn rotate(&mut self, name_time: SystemTime) -> Rotated {
        if self.config.durability != Durability::Write {
            if let Err(e) = self.sync_file() {
                self.note_error(&e, "sync");
            }
        }
        // Names sort in the order files were rotated, even if the clock was
        // stepped back since the last rotation, in this run or before it
        // (`last_archive` starts as the newest name on disk): retention
        // keeps the newest names, and must not take the newest files for
        // the oldest.
        // A newest name at the end of time (year 9999: a clock once set
        // far ahead, or a file put there) has no later name: the clock's.
        let name_time = match self.last_archive {
            Some(last) if name_time <= last && last < crate::clock::latest_named() => {
                last + Duration::from_micros(1)
            }
            _ => name_time,
        };
        let rotated = match rename_aside(&self.config.path, name_time) {
            Ok((archive, named)) => {
                self.last_archive = Some(named);
                Counters::add(&self.counters.rotations, 1);
                // Our lines are in the renamed file only if the path still
                // named our file: check the file that got the new name.
                let ours = self.file.as_ref().is_some_and(|f| f.still_at(&archive));
                let name = archive.file_name().unwrap_or_default().to_string_lossy();
                let name = name.into_owned();
                self.transform_event("on_rotate", |t| t.on_rotate(&name));
                if let Some(jobs) = &self.jobs {
                    let _ = jobs.send(Job::Rotated(archive));
                }
                self.vanished_unless(ours)
            }
            // The file vanished with its directory.
            Err(e) if e.kind() == io::ErrorKind::NotFound => self.vanished_unless(false),
            Err(e) => {
                self.rotation_failed(&e);
                return Rotated::Failed;
            }
        };
        if self.rotation_failures > 0 {
            report!(
                "tracing-audit: rotating {} succeeded after {} failed attempt(s)",
                self.config.path.display(),
                self.rotation_failures
            );
        }
        self.rotation_failures = 0;
        self.rotation_retry = None;
        self.file = None;
        self.reopen();
        self.schedule_time_rotation();
        rotated
    }

    /// After the live file was renamed aside (`ours`) or found gone: its
    /// unverified lines are safe, or go back into the batch.
    fn vanished_unless(&mut self, ours: bool) -> Rotated {
        if ours {
            self.unverified.clear();
            Rotated::Done
        } else if self.replay_unverified() {
            Rotated::Replayed
        } else {
            Rotated::Done
        }
    }

    /// Counts a failed rotation, reports the first of a burst, and sets the
    /// time of the next attempt.
    fn rotation_failed(&mut self, error: &io::Error) {
        Counters::add(&self.counters.write_errors, 1);
        if self.rotation_failures == 0 {
            report!(
                "tracing-audit: rotating {} failed: {error}; retrying with backoff, writing on \
                 into the live file up to twice max_file_size, then waiting (further failures \
                 are counted in Stats::write_errors)",
                self.config.path.display()
            );
        }
        self.rotation_failures += 1;
        let backoff = self.rotation_retry.map_or(RETRY_FIRST, |(_, b)| b);
        self.rotation_retry = Some((Instant::now() + backoff, (backoff * 2).min(RETRY_MAX)));
    }
}
