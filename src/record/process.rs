//! Business-process records: `audit.process`, level `AUDIT`.

use std::fmt;

use serde_json::Value;

use super::{fmt_body, Body, ToJson};
use crate::context::MESSAGE_BIT;
use crate::json::{self, Opts, Out};

/// The body of a process record, made by [`Process`](crate::Process).
pub struct ProcessRecord<'a> {
    /// `start`, `registration`, `finish` or `abandoned`.
    pub(crate) event: &'static str,
    pub(crate) message: &'a str,
    pub(crate) process: &'a str,
    pub(crate) process_id: &'a str,
    /// The other members: an object whose keys are written at the top
    /// level (`steps`, `step`, `success`, …).
    pub(crate) members: &'a serde_json::Map<String, Value>,
}

impl ProcessRecord<'_> {
    fn write<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        let mut first = true;
        if !opts.written(MESSAGE_BIT) {
            json::lit(out, &mut first, "\"message\":")?;
            json::string(out, self.message, opts)?;
            opts.mark_written(MESSAGE_BIT);
        }
        json::lit(out, &mut first, "\"event\":")?;
        json::plain_string(out, self.event)?;
        json::lit(out, &mut first, "\"process\":")?;
        json::string(out, self.process, opts)?;
        json::lit(out, &mut first, "\"process_id\":")?;
        json::plain_string(out, self.process_id)?;
        for (key, value) in self.members {
            json::key(out, &mut first, key)?;
            value.write_json(out, opts)?;
        }
        Ok(())
    }
}

impl Body for ProcessRecord<'_> {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        self.write(out, opts)
    }
}

impl fmt::Debug for ProcessRecord<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_body(f, self)
    }
}
