//! The record bodies the macros hand to `tracing`, and the kinds of record.
//!
//! A record body is an event field (named `audit`) whose `Debug` output is
//! JSON: the full object `{…}` for anyone who prints it (another layer, a
//! test), the object's members without braces in the alternate form
//! (`{:#?}`), which is how the crate's layer splices it into the line it is
//! building. Either way it is written once, straight into the destination,
//! through the crate's one JSON writer (escaping, redaction, caps).
//!
//! This module knows nothing of the layer or the appender.

#[cfg(feature = "alert")]
mod alert;
mod crud;
mod login;
mod process;
#[cfg_attr(not(feature = "http"), allow(dead_code))]
pub(crate) mod request;

use std::fmt;

#[cfg(feature = "alert")]
#[doc(hidden)]
pub use alert::AlertRecord;
pub use crud::EventType;
#[doc(hidden)]
pub use crud::{Crud, IdArg, IdDisplay};
#[doc(hidden)]
pub use login::Login;
pub use login::LoginEvent;
#[doc(hidden)]
pub use process::ProcessRecord;

use crate::json::{self, Opts, Out};

/// The kinds of record, one file each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Kind {
    /// CRUD and process records: targets `audit.crud` and `audit.process`,
    /// level `AUDIT`, file `audit.log`.
    Audit,
    /// Request-response records: target `audit.request`, level `API`, file
    /// `api.log`.
    Api,
    /// Login, logout and failed-login records: target `audit.login`, level
    /// `LOGIN`, file `login.log`.
    Login,
    /// Everything else the application logs: any other target, its own
    /// level, file `app.log`.
    App,
}

impl Kind {
    /// Every kind, in file order.
    pub const ALL: [Kind; 4] = [Kind::Audit, Kind::Api, Kind::Login, Kind::App];

    /// The kind a target's events belong to: the one definition of which
    /// targets are audit targets, shared by routing (which file) and
    /// filtering (audit records are always written, whatever `RUST_LOG`
    /// says; see [`is_audit_target`]).
    ///
    /// Every target that starts with `audit.` is an audit target:
    /// `audit.request` is [`Kind::Api`], `audit.login` [`Kind::Login`], and
    /// any other, `audit.crud` and `audit.process` as well as an unknown one
    /// such as a misspelt `audit.crudd`, is [`Kind::Audit`]: it is always
    /// written, to `audit.log` with level `AUDIT`, like an `audit.process`
    /// record (its message and fields), so a typo never loses an audit
    /// record to a filter nor hides it in `app.log`.
    ///
    /// ```
    /// use tracing_audit::Kind;
    /// assert_eq!(Kind::of_target("audit.crud"), Kind::Audit);
    /// assert_eq!(Kind::of_target("audit.login"), Kind::Login);
    /// assert_eq!(Kind::of_target("audit.crudd"), Kind::Audit); // unknown: AUDIT
    /// assert_eq!(Kind::of_target("my_app::db"), Kind::App);
    /// assert_eq!(Kind::of_target("audit"), Kind::App); // no `audit.` prefix
    /// assert!(tracing_audit::record::is_audit_target("audit.crudd"));
    /// ```
    pub fn of_target(target: &str) -> Kind {
        match target.strip_prefix("audit.") {
            None => Kind::App,
            Some("request") => Kind::Api,
            Some("login") => Kind::Login,
            Some(_) => Kind::Audit,
        }
    }

    /// The JSON `level` of this kind's records (`None` for [`Kind::App`],
    /// whose records carry their own `tracing` level).
    pub fn level(self) -> Option<&'static str> {
        match self {
            Kind::Audit => Some("AUDIT"),
            Kind::Api => Some("API"),
            Kind::Login => Some("LOGIN"),
            Kind::App => None,
        }
    }

    /// The default file name: `audit.log`, `api.log`, `login.log`, `app.log`.
    pub fn file_name(self) -> &'static str {
        match self {
            Kind::Audit => "audit.log",
            Kind::Api => "api.log",
            Kind::Login => "login.log",
            Kind::App => "app.log",
        }
    }

    pub(crate) fn index(self) -> usize {
        self as usize
    }
}

/// Whether events of `target` are audit records: always recorded, whatever
/// the filters say. Defined by [`Kind::of_target`] (any kind but
/// [`Kind::App`]), so filtering and routing cannot disagree.
pub fn is_audit_target(target: &str) -> bool {
    Kind::of_target(target) != Kind::App
}

/// The targets, as constants for `tracing` macros.
pub mod target {
    /// CRUD records (`AUDIT`).
    pub const CRUD: &str = "audit.crud";
    /// Business-process records (`AUDIT`).
    pub const PROCESS: &str = "audit.process";
    /// Request-response records (`API`).
    pub const REQUEST: &str = "audit.request";
    /// Login records (`LOGIN`).
    pub const LOGIN: &str = "audit.login";
    /// Alert records (`AUDIT`, feature `alert`), written by the alert rules.
    pub const ALERT: &str = "audit.alert";
    /// The span a [`Transaction`](crate::Transaction) opens.
    pub const TRANSACTION: &str = "audit.transaction";
}

/// A `Serialize` value behind a reference, for record fields that take
/// any serializable type.
pub(crate) trait ToJson {
    fn write_json(&self, out: &mut dyn fmt::Write, opts: &Opts<'_>) -> fmt::Result;
}

impl<T: serde::Serialize + ?Sized> ToJson for T {
    fn write_json(&self, out: &mut dyn fmt::Write, opts: &Opts<'_>) -> fmt::Result {
        json::serialize(out, self, opts)
    }
}

/// A record body: writes its members (without braces) into any
/// destination.
pub(crate) trait Body {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result;
}

/// The `Debug` output of a body: the members appended straight to the
/// line the crate's layer lent (the alternate form, `{:#?}`, inside the
/// layer), or a whole `{…}` object for anyone else.
pub(crate) fn fmt_body<B: Body>(f: &mut fmt::Formatter<'_>, body: &B) -> fmt::Result {
    let fragment = f.alternate();
    json::with_opts(|opts| {
        opts.body.set(true);
        if fragment {
            if let Some(mut line) = json::take_lent() {
                // Handed back when `line` is dropped, even on unwind
                // (nothing else can be lent meanwhile: a nested record
                // restores what it replaced).
                return body.write_body(&mut *line, opts);
            }
        } else {
            f.write_str("{")?;
        }
        body.write_body(f, opts)?;
        if !fragment {
            f.write_str("}")?;
        }
        Ok(())
    })
}

/// Writes `"key":"<display>"` with the display output escaped, capped and
/// checked by the policy; `quoted_key` comes with its quotes and colon.
pub(crate) fn display_member<W: Out>(
    out: &mut W,
    first: &mut bool,
    quoted_key: &str,
    value: &dyn fmt::Display,
    opts: &Opts<'_>,
) -> fmt::Result {
    json::lit(out, first, quoted_key)?;
    json::display(out, value, opts)
}

/// Writes `user_id` from the record's own `user:` key, if given, so that the
/// span's user is not written too.
pub(crate) fn user_member<W: Out>(
    out: &mut W,
    first: &mut bool,
    user: Option<&dyn fmt::Display>,
    opts: &Opts<'_>,
) -> fmt::Result {
    if let Some(user) = user {
        display_member(out, first, "\"user_id\":", user, opts)?;
        opts.mark_written(1 << crate::context::USER_ID);
    }
    Ok(())
}

/// Writes `user_info` from the record's own `user_info:` key, if given.
pub(crate) fn user_info_member<W: Out>(
    out: &mut W,
    first: &mut bool,
    info: Option<&dyn ToJson>,
    opts: &Opts<'_>,
) -> fmt::Result {
    if let Some(info) = info {
        json::lit(out, first, "\"user_info\":")?;
        crate::redact::user_info::write_serialized(out, opts, |s| info.write_json(s, opts))?;
        opts.mark_written(1 << crate::context::USER_INFO);
    }
    Ok(())
}

/// Writes `quoted_key` with the value, or `{}` when none was given.
pub(crate) fn object_member<W: Out>(
    out: &mut W,
    first: &mut bool,
    quoted_key: &str,
    value: Option<&dyn ToJson>,
    opts: &Opts<'_>,
) -> fmt::Result {
    json::lit(out, first, quoted_key)?;
    match value {
        Some(v) => v.write_json(out, opts),
        None => out.write_str("{}"),
    }
}
