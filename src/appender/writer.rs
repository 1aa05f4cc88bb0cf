//! The appender where `std::io` and `tracing-subscriber` expect a writer:
//! [`io::Write`] for one line per call, and [`MakeWriter`], so that any
//! `fmt` layer can write through it (`fmt::layer().with_writer(appender)`).

use std::io;

use tracing_subscriber::fmt::MakeWriter;

use super::Appender;

/// Each `write` call is queued as one line, as
/// [`write_line`](Appender::write_line) queues it: a missing trailing `\n`
/// is added, and an empty buffer writes nothing. A `write!` or `writeln!`
/// is one line too (formatted whole, then queued). `flush` waits until
/// every line queued so far is handed to the operating system.
impl io::Write for Appender {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.write_line(buf)?;
        Ok(buf.len())
    }

    /// The whole of a `write!`/`writeln!` as one line: its pieces would
    /// otherwise reach [`write`](io::Write::write) one by one, each a line.
    fn write_fmt(&mut self, args: std::fmt::Arguments<'_>) -> io::Result<()> {
        let mut text = String::new();
        let text = match args.as_str() {
            Some(text) => text,
            None => {
                std::fmt::write(&mut text, args).map_err(|_| {
                    io::Error::other("a formatting trait implementation returned an error")
                })?;
                &text
            }
        };
        if text.is_empty() {
            return Ok(());
        }
        self.write_line(text.as_bytes()).map_err(io::Error::from)
    }

    fn flush(&mut self) -> io::Result<()> {
        Appender::flush(self)
    }
}

/// A writer per record: [`EventWriter`] gathers every write made while the
/// record is formatted and queues them as one piece when it is dropped, so
/// a record formatted in several `write` calls still lands whole.
impl<'a> MakeWriter<'a> for Appender {
    type Writer = EventWriter<'a>;

    fn make_writer(&'a self) -> Self::Writer {
        EventWriter {
            appender: self,
            buf: Vec::new(),
        }
    }
}

/// What [`Appender::make_writer`](MakeWriter::make_writer) returns: the
/// bytes of one record, queued as one piece when dropped (or flushed),
/// with a trailing `\n` added if it is missing. A piece the appender
/// refuses (it is closing) is counted in [`Stats::dropped`](super::Stats),
/// as any refused line is.
#[derive(Debug)]
pub struct EventWriter<'a> {
    appender: &'a Appender,
    buf: Vec<u8>,
}

impl EventWriter<'_> {
    fn send(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let piece = std::mem::take(&mut self.buf);
        self.appender.send_line(piece).map_err(io::Error::from)
    }
}

impl io::Write for EventWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(buf);
        Ok(buf.len())
    }

    /// Queues what was written so far as one piece.
    fn flush(&mut self) -> io::Result<()> {
        self.send()
    }
}

impl Drop for EventWriter<'_> {
    fn drop(&mut self) {
        // A refusal is counted by the appender; there is no one to tell.
        let _ = self.send();
    }
}
