//! CRUD records: `audit.crud`, level `AUDIT`.

use std::fmt::{self, Write as _};

use serde::Serialize;
use serde_json::Value;

use super::{fmt_body, object_member, user_info_member, user_member, Body, ToJson};
use crate::context::MESSAGE_BIT;
use crate::diff::Changes;
use crate::json::{self, Opts, Out};
use crate::nesting;

/// What happened to the instance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum EventType {
    /// `CREATE`
    Create,
    /// `READ`
    Read,
    /// `UPDATE`
    Update,
    /// `DELETE`
    Delete,
    /// `BULK_CREATE`
    BulkCreate,
    /// `BULK_UPDATE`
    BulkUpdate,
    /// `BULK_DELETE`
    BulkDelete,
}

impl EventType {
    /// The name written in `event_type`.
    pub fn as_str(self) -> &'static str {
        match self {
            EventType::Create => "CREATE",
            EventType::Read => "READ",
            EventType::Update => "UPDATE",
            EventType::Delete => "DELETE",
            EventType::BulkCreate => "BULK_CREATE",
            EventType::BulkUpdate => "BULK_UPDATE",
            EventType::BulkDelete => "BULK_DELETE",
        }
    }

    /// Whether this is one of the `BULK_*` kinds.
    pub fn is_bulk(self) -> bool {
        matches!(
            self,
            EventType::BulkCreate | EventType::BulkUpdate | EventType::BulkDelete
        )
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The `id:` of a CRUD macro: anything `Display`, or an `Option` of it
/// (`None`: no id yet). An inherent method for `Option`, a trait method
/// for the rest: the macro calls `.id()` and the compiler picks.
#[doc(hidden)]
pub struct IdArg<'a, T: ?Sized>(pub &'a T);

impl<'a, T: fmt::Display> IdArg<'a, Option<T>> {
    #[doc(hidden)]
    pub fn id(&self) -> Option<&'a dyn fmt::Display> {
        self.0.as_ref().map(|v| v as &dyn fmt::Display)
    }
}

#[doc(hidden)]
pub trait IdDisplay<'a> {
    #[doc(hidden)]
    fn id(&self) -> Option<&'a dyn fmt::Display>;
}

impl<'a, T: fmt::Display> IdDisplay<'a> for IdArg<'a, T> {
    fn id(&self) -> Option<&'a dyn fmt::Display> {
        Some(self.0 as &dyn fmt::Display)
    }
}

/// The body of a CRUD record, built by the CRUD macros. Not meant to be
/// used directly: its methods are the keys the macros accept.
pub struct Crud<'a> {
    event_type: EventType,
    model: &'a dyn fmt::Display,
    id: Option<&'a dyn fmt::Display>,
    ids: Option<Vec<String>>,
    /// Whether the ids were cut at the nesting limit: the record is marked
    /// `truncated`.
    ids_cut: bool,
    user: Option<&'a dyn fmt::Display>,
    user_info: Option<&'a dyn ToJson>,
    changes: Option<&'a Changes>,
    instance: Option<&'a dyn ToJson>,
    extra: Option<&'a dyn ToJson>,
}

impl<'a> Crud<'a> {
    /// A record of one instance.
    pub fn new(
        event_type: EventType,
        model: &'a dyn fmt::Display,
        id: Option<&'a dyn fmt::Display>,
    ) -> Self {
        Crud {
            event_type,
            model,
            id,
            ids: None,
            ids_cut: false,
            user: None,
            user_info: None,
            changes: None,
            instance: None,
            extra: None,
        }
    }

    /// A record of several instances (the `BULK_*` kinds). The ids are
    /// written as strings.
    pub fn bulk<I: Serialize + ?Sized>(
        event_type: EventType,
        model: &'a dyn fmt::Display,
        ids: &I,
    ) -> Self {
        // Deeper ids are written as the depth marker; a failing or
        // panicking impl as a string saying so.
        let cut = std::cell::Cell::new(false);
        let ids = match nesting::to_value(ids, nesting::DEFAULT_MAX_DEPTH, &cut) {
            Value::Array(items) => items.iter().map(id_string).collect(),
            other => vec![id_string(&other)],
        };
        Crud {
            ids: Some(ids),
            ids_cut: cut.get(),
            id: None,
            ..Crud::new(event_type, model, None)
        }
    }

    /// The acting user's id, instead of the one from the span context.
    pub fn user(mut self, user: &'a dyn fmt::Display) -> Self {
        self.user = Some(user);
        self
    }

    /// The acting user's details, instead of the ones from the span context.
    pub fn user_info<T: Serialize>(mut self, info: &'a T) -> Self {
        self.user_info = Some(info as &dyn ToJson);
        self
    }

    /// The field-level changes (see [`diff`](crate::diff())).
    pub fn changes(mut self, changes: &'a Changes) -> Self {
        self.changes = Some(changes);
        self
    }

    /// A snapshot of the instance, written as `instance_repr`.
    pub fn instance<T: Serialize>(mut self, instance: &'a T) -> Self {
        self.instance = Some(instance as &dyn ToJson);
        self
    }

    /// Anything else worth keeping, written as `extra`.
    pub fn extra<T: Serialize>(mut self, extra: &'a T) -> Self {
        self.extra = Some(extra as &dyn ToJson);
        self
    }

    fn write<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        let mut first = true;
        json::with_texts(|[model, id, message]| {
            // Model and id are formatted once, for their fields and for the
            // message; a secret one is masked in both.
            json::display_into(model, self.model);
            match &self.ids {
                None => json::display_into(id, self.id.unwrap_or(&"")),
                Some(ids) => {
                    // Each id redacted on its own.
                    for (i, one) in ids.iter().enumerate() {
                        if i > 0 {
                            id.push(',');
                        }
                        id.push_str(&opts.policy.redact_text(one));
                    }
                }
            }
            // Redacted once: the message and the fields show the same text,
            // written without a second scan.
            for text in [&mut *model, &mut *id] {
                opts.policy.redact_in_place(text);
            }
            if !opts.written(MESSAGE_BIT) {
                message.push_str(self.event_type.as_str());
                message.push_str(" event for ");
                message.push_str(model);
                match &self.ids {
                    // `id: None`: no id yet, none in the message.
                    None if self.id.is_none() => {}
                    None => {
                        message.push_str(" (id: ");
                        message.push_str(id);
                        message.push(')');
                    }
                    Some(ids) => {
                        let _ = write!(
                            message,
                            " ({} instance{})",
                            ids.len(),
                            if ids.len() == 1 { "" } else { "s" }
                        );
                    }
                }
                json::lit(out, &mut first, "\"message\":")?;
                json::capped_string(out, message, opts)?;
                opts.mark_written(MESSAGE_BIT);
            }
            json::lit(out, &mut first, "\"model\":")?;
            json::capped_string(out, model, opts)?;
            json::lit(out, &mut first, "\"event_type\":")?;
            json::plain_string(out, self.event_type.as_str())?;
            json::lit(out, &mut first, "\"instance_id\":")?;
            json::capped_string(out, id, opts)?;
            Ok::<_, fmt::Error>(())
        })?;
        if self.ids_cut {
            opts.truncated.set(true);
        }
        if let Some(ids) = &self.ids {
            // A scalar that identifies the record: kept in a shrunk one.
            json::lit(out, &mut first, "\"count\":")?;
            json::int(out, ids.len())?;
            if !opts.minimal {
                json::lit(out, &mut first, "\"instance_ids\":")?;
                out.write_char('[')?;
                for (i, id) in ids.iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    json::value_string(out, id, opts)?;
                }
                out.write_char(']')?;
            }
        }
        user_member(out, &mut first, self.user, opts)?;
        if opts.minimal {
            opts.truncated.set(true);
            return Ok(());
        }
        user_info_member(out, &mut first, self.user_info, opts)?;
        json::lit(out, &mut first, "\"changes\":")?;
        match self.changes {
            Some(changes) => changes.write_json(out, opts)?,
            None => out.write_str("{}")?,
        }
        if let Some(instance) = self.instance {
            json::lit(out, &mut first, "\"instance_repr\":")?;
            instance.write_json(out, opts)?;
        }
        object_member(out, &mut first, "\"extra\":", self.extra, opts)
    }
}

/// Ids are written as strings: a JSON string as it is, anything else as its
/// JSON text.
fn id_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

impl Body for Crud<'_> {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        self.write(out, opts)
    }
}

impl fmt::Debug for Crud<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_body(f, self)
    }
}
