//! A panic in the user's [`LineTransform`]: caught where the writer calls
//! it, so that the writer goes on and no accepted line is lost. A line
//! whose transform panicked is written as it came, untransformed (and
//! counted in `lines_written` like any other), the panic is counted in
//! [`Stats::transform_panics`](super::Stats::transform_panics), and the
//! first one is reported on stderr. The transform is used again for the
//! next line.

use std::sync::atomic::Ordering::Relaxed;

use super::worker::Worker;
use super::LineTransform;
use crate::unwind::catch;

impl Worker {
    /// Appends `line` to the batch, through the transform if there is one.
    pub(super) fn transform_into_batch(&mut self, line: &[u8]) {
        let start = self.batch.len();
        let transformed = match self.transform.as_mut() {
            None => Ok(None),
            Some(transform) => {
                let batch = &mut self.batch;
                catch(|| transform.transform(line, batch)).map(Some)
            }
        };
        match transformed {
            Ok(Some(lines)) => self.batch_lines += lines,
            Ok(None) => {
                self.batch.extend_from_slice(line);
                self.batch_lines += 1;
            }
            Err(message) => {
                // Whatever it appended before panicking goes.
                self.batch.truncate(start);
                self.batch.extend_from_slice(line);
                self.batch_lines += 1;
                self.transform_panicked("transform", &message);
            }
        }
    }

    /// Tells the transform, if there is one, about the file's life
    /// (`event` names the method, for the report).
    pub(super) fn transform_event(
        &mut self,
        event: &'static str,
        tell: impl FnOnce(&mut dyn LineTransform),
    ) {
        let Some(transform) = self.transform.as_mut() else {
            return;
        };
        if let Err(message) = catch(|| tell(transform.as_mut())) {
            self.transform_panicked(event, &message);
        }
    }

    fn transform_panicked(&mut self, event: &str, message: &str) {
        let earlier = self.counters.transform_panics.fetch_add(1, Relaxed);
        if earlier == 0 {
            let what = if event == "transform" {
                "; the line was written untransformed, as it came"
            } else {
                ""
            };
            report!(
                "tracing-audit: the line transform of {} panicked in {event}: {message}{what}; \
                 writing goes on (further panics are counted in Stats::transform_panics)",
                self.config.path.display()
            );
        }
    }
}
