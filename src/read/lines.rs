//! Lines of a file, one buffer reused for all of them.

use std::io::{self, BufRead};

/// One line of a file, borrowed from [`Lines`]' buffer until the next
/// call to [`Lines::next_line`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Line<'a> {
    /// The line's number in its file, from 1.
    pub number: u64,
    /// The line's bytes, without its `\n`.
    pub bytes: &'a [u8],
    /// False for a last line with no `\n` after it: a record the writer
    /// may still be writing (or a file cut short). Its bytes may not be a
    /// whole record.
    pub complete: bool,
}

/// The lines of a reader, numbered from 1, read into one buffer that is
/// reused, so walking a file costs no allocation per line.
///
/// Lines are bytes: nothing is checked or decoded here, so invalid UTF-8
/// or a broken record is handed on as it is, for the caller to report.
#[derive(Debug)]
pub struct Lines<R> {
    reader: R,
    buffer: Vec<u8>,
    number: u64,
}

impl<R: BufRead> Lines<R> {
    /// Reads lines from `reader` (see [`open`](super::open)).
    pub fn new(reader: R) -> Self {
        Lines {
            reader,
            buffer: Vec::with_capacity(4096),
            number: 0,
        }
    }

    /// The next line, or `None` at the end of the reader. After `None`,
    /// a later call reads on from where the reader is (for following a
    /// file that grows).
    ///
    /// # Errors
    ///
    /// The reader's errors (a corrupt `.gz`, a read failure). An
    /// interrupted read is retried.
    pub fn next_line(&mut self) -> io::Result<Option<Line<'_>>> {
        self.buffer.clear();
        let read = self.reader.read_until(b'\n', &mut self.buffer)?;
        if read == 0 {
            return Ok(None);
        }
        self.number += 1;
        let complete = self.buffer.last() == Some(&b'\n');
        let bytes = if complete {
            &self.buffer[..self.buffer.len() - 1]
        } else {
            &self.buffer[..]
        };
        Ok(Some(Line {
            number: self.number,
            bytes,
            complete,
        }))
    }

    /// How many lines have been handed out so far.
    pub fn count(&self) -> u64 {
        self.number
    }

    /// The reader, e.g. to seek it or check where it is.
    pub fn get_mut(&mut self) -> &mut R {
        &mut self.reader
    }

    /// Gives back the reader.
    pub fn into_inner(self) -> R {
        self.reader
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(input: &[u8]) -> Vec<(u64, Vec<u8>, bool)> {
        let mut lines = Lines::new(input);
        let mut out = Vec::new();
        while let Some(line) = lines.next_line().unwrap() {
            out.push((line.number, line.bytes.to_vec(), line.complete));
        }
        out
    }

    #[test]
    fn numbered_without_newline_and_last_partial_flagged() {
        assert_eq!(
            all(b"a\n\nbc\nd"),
            [
                (1, b"a".to_vec(), true),
                (2, b"".to_vec(), true),
                (3, b"bc".to_vec(), true),
                (4, b"d".to_vec(), false),
            ]
        );
        assert!(all(b"").is_empty());
        assert_eq!(all(b"x\n"), [(1, b"x".to_vec(), true)]);
    }

    #[test]
    fn invalid_utf8_and_long_lines_pass_through() {
        let long = vec![b'z'; 100_000];
        let mut input = vec![0xff, 0xfe, b'\n'];
        input.extend(&long);
        input.push(b'\n');
        let got = all(&input);
        assert_eq!(got[0].1, [0xff, 0xfe]);
        assert_eq!(got[1].1, long);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn buffer_reused_and_reading_resumes_after_end() {
        let mut lines = Lines::new(io::Cursor::new(b"one\n".to_vec()));
        assert_eq!(lines.next_line().unwrap().unwrap().bytes, b"one");
        assert!(lines.next_line().unwrap().is_none());
        let capacity = lines.buffer.capacity();
        // The file grows: the same Lines reads the new line, numbered on.
        lines.get_mut().get_mut().extend_from_slice(b"two\n");
        let line = lines.next_line().unwrap().unwrap();
        assert_eq!((line.number, line.bytes), (2, &b"two"[..]));
        assert_eq!(lines.buffer.capacity(), capacity);
        assert_eq!(lines.count(), 2);
    }
}
