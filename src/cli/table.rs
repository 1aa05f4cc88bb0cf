//! The readable form of a record, one line each, as the console shows
//! it: time, kind, then what happened (`UPDATE Product 42 (price)
//! user=7`), values cut and control characters escaped so that no record
//! can move the cursor or disguise a line.

use std::io::{self, Write};

use crate::record::Kind;

/// Writes records as readable lines, reusing one buffer.
#[derive(Debug, Default)]
pub struct Table {
    ansi: bool,
    line: String,
}

impl Table {
    /// Lines with colours when `ansi`.
    pub fn new(ansi: bool) -> Table {
        Table {
            ansi,
            line: String::new(),
        }
    }

    /// Writes the line of one record (its JSON text) and a newline.
    ///
    /// # Errors
    ///
    /// `out`'s errors.
    pub fn write(&mut self, out: &mut dyn Write, json: &[u8], kind: Kind) -> io::Result<()> {
        self.line.clear();
        let text = String::from_utf8_lossy(json);
        crate::console::line::write(&mut self.line, &text, kind, self.ansi);
        self.line.push('\n');
        out.write_all(self.line.as_bytes())
    }
}
