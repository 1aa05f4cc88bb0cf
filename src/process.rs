//! Business processes: named, ordered steps, each expecting a number of
//! registrations, recorded step by step on the `audit.process` target.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};
use tracing::Span;

use crate::record::{target, ProcessRecord};

/// A business process (onboarding, a payout, a KYC check) recorded in
/// `audit.log` as it runs: a `start` record with its steps, one
/// `registration` record per registration (a success or a failure, with a
/// name and a description), and a final record saying whether every step
/// succeeded (`finish`), or that the process was dropped unfinished
/// (`abandoned`).
///
/// A process is a span (target `audit.process`) opened inside the current
/// span: every record of it carries the request id, user and tenant of the
/// span it began in, wherever the handle goes afterwards (across `.await`
/// points, into another task: the handle is `Send`).
///
/// A step succeeds when it received at least the registrations it expects
/// and none of them failed; the process succeeds when every step does.
/// The steps' order is their `index` in the records; registrations are
/// taken in whatever order they come (the records' order shows it), so a
/// step may be retried after a later one started.
///
/// Two steps may have the same name (a second approval after a review):
/// a registration for that name goes to the first of them that has not
/// yet received the successes it expects, or, once each has, to the last
/// of them. The records' `step_index` says which step took it.
///
/// ```
/// use tracing_audit::Process;
///
/// let mut onboarding = Process::begin("onboarding", [("verify_email", 1), ("kyc", 2), ("contract", 1)]);
/// onboarding.register("verify_email", true, "email", "link clicked")?;
/// onboarding.register("kyc", true, "passport", "document checked")?;
/// onboarding.register("kyc", false, "address", "proof of address expired")?;
/// let succeeded = onboarding.finish(); // false: kyc failed, contract missing
/// assert!(!succeeded);
/// # Ok::<(), tracing_audit::ProcessError>(())
/// ```
///
/// The keys of its records are in the [`schema`](crate::schema).
#[must_use = "a process dropped without `finish` is recorded as abandoned"]
pub struct Process {
    span: Span,
    name: String,
    id: String,
    steps: Vec<Step>,
    finished: bool,
}

struct Step {
    name: String,
    expected: u32,
    succeeded: u32,
    failed: u32,
}

impl Step {
    fn ok(&self) -> bool {
        self.failed == 0 && self.succeeded >= self.expected
    }

    fn summary(&self) -> Value {
        json!({
            "name": self.name,
            "expected": self.expected,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "success": self.ok(),
        })
    }
}

/// A registration the process could not take: nothing is recorded.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcessError {
    /// No step of the process has this name.
    UnknownStep(String),
    /// The process has finished.
    Finished,
}

impl fmt::Display for ProcessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcessError::UnknownStep(step) => write!(f, "the process has no step named {step:?}"),
            ProcessError::Finished => f.write_str("the process has finished"),
        }
    }
}

impl std::error::Error for ProcessError {}

impl fmt::Debug for Process {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Process")
            .field("name", &self.name)
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Process {
    /// Starts a process with its steps, in order, each with the number of
    /// registrations it expects, and writes its `start` record.
    pub fn begin<S: Into<String>>(
        name: impl Into<String>,
        steps: impl IntoIterator<Item = (S, u32)>,
    ) -> Process {
        let since = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let process = Process {
            span: tracing::info_span!(target: target::PROCESS, "audit.process"),
            name: name.into(),
            id: crate::event_id::at(since).to_string(),
            steps: steps
                .into_iter()
                .map(|(name, expected)| Step {
                    name: name.into(),
                    expected,
                    succeeded: 0,
                    failed: 0,
                })
                .collect(),
            finished: false,
        };
        let mut members = Map::new();
        let steps: Vec<Value> = process
            .steps
            .iter()
            .enumerate()
            .map(|(i, s)| json!({"index": i + 1, "name": s.name, "expected": s.expected}))
            .collect();
        members.insert("steps".into(), Value::Array(steps));
        let message = format!("process {} started", process.name);
        process.emit("start", &message, &members);
        process
    }

    /// The process's id (`process_id` in its records): a UUIDv7.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The process's span, to run work in it.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Registers a success or a failure in `step`, with a name and a
    /// description, and writes its `registration` record. An unknown step,
    /// or a finished process, is an error and records nothing. Where
    /// several steps have this name, the first that still expects
    /// successes takes it (see [`Process`]).
    pub fn register(
        &mut self,
        step: &str,
        success: bool,
        name: impl fmt::Display,
        description: impl fmt::Display,
    ) -> Result<(), ProcessError> {
        if self.finished {
            return Err(ProcessError::Finished);
        }
        let Some(index) = self.step_for(step) else {
            return Err(ProcessError::UnknownStep(step.to_owned()));
        };
        let s = &mut self.steps[index];
        if success {
            s.succeeded = s.succeeded.saturating_add(1);
        } else {
            s.failed = s.failed.saturating_add(1);
        }
        let mut members = Map::new();
        members.insert("step".into(), Value::String(s.name.clone()));
        members.insert("step_index".into(), json!(index + 1));
        members.insert("success".into(), Value::Bool(success));
        // The caller's `Display`: one that fails keeps its text so far, one
        // that panics gives the panic's marker (never a panic here).
        let mut name_text = String::new();
        crate::json::display_into(&mut name_text, &name);
        let mut description_text = String::new();
        crate::json::display_into(&mut description_text, &description);
        members.insert("registration".into(), Value::String(name_text.clone()));
        members.insert("description".into(), Value::String(description_text));
        members.insert(
            "step_registrations".into(),
            json!(u64::from(s.succeeded) + u64::from(s.failed)),
        );
        members.insert("step_expected".into(), json!(s.expected));
        let message = format!(
            "process {} step {} registration {}: {}",
            self.name,
            s.name,
            name_text,
            if success { "success" } else { "failure" }
        );
        self.emit("registration", &message, &members);
        Ok(())
    }

    /// The index of the step a registration for `name` goes to: the first
    /// step of that name still short of its expected successes, else the
    /// last step of that name.
    fn step_for(&self, name: &str) -> Option<usize> {
        let mut named = self
            .steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.name == name);
        let first = named.next()?;
        let mut last = first.0;
        for (index, step) in std::iter::once(first).chain(named) {
            if step.succeeded < step.expected {
                return Some(index);
            }
            last = index;
        }
        Some(last)
    }

    /// Ends the process, writing its `finish` record with every step's
    /// tally; returns whether every step succeeded.
    pub fn finish(mut self) -> bool {
        self.end("finish")
    }

    fn end(&mut self, event: &'static str) -> bool {
        self.finished = true;
        let success = event == "finish" && self.steps.iter().all(Step::ok);
        let mut members = Map::new();
        members.insert("success".into(), Value::Bool(success));
        members.insert(
            "steps".into(),
            Value::Array(self.steps.iter().map(Step::summary).collect()),
        );
        let message = match (event, success) {
            ("finish", true) => format!("process {} succeeded", self.name),
            ("finish", false) => format!("process {} failed", self.name),
            _ => format!("process {} abandoned", self.name),
        };
        self.emit(event, &message, &members);
        success
    }

    /// One record inside the process's span, through the subscriber the
    /// span belongs to (the handle may have moved to a thread with
    /// another default).
    fn emit(&self, event: &'static str, message: &str, members: &Map<String, Value>) {
        let record = ProcessRecord {
            event,
            message,
            process: &self.name,
            process_id: &self.id,
            members,
        };
        let write = || {
            self.span
                .in_scope(|| crate::__emit!("audit.process", record))
        };
        let routed = self
            .span
            .with_subscriber(|(_, dispatch)| tracing::dispatcher::with_default(dispatch, write));
        if routed.is_none() {
            // A span no subscriber made: the current default gets it.
            let record = ProcessRecord {
                event,
                message,
                process: &self.name,
                process_id: &self.id,
                members,
            };
            crate::__emit!("audit.process", record);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if !self.finished {
            self.end("abandoned");
        }
    }
}
