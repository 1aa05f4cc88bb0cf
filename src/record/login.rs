//! Login records: `audit.login`, level `LOGIN`.

use std::fmt;

use serde::Serialize;

use super::{display_member, fmt_body, object_member, user_info_member, user_member, Body, ToJson};
use crate::context::MESSAGE_BIT;
use crate::json::{self, Opts, Out};

/// What happened at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum LoginEvent {
    /// A successful login: `login`.
    Login,
    /// A logout: `logout`.
    Logout,
    /// A refused login: `failed_login`.
    FailedLogin,
}

impl LoginEvent {
    /// The name written in `event`.
    pub fn as_str(self) -> &'static str {
        match self {
            LoginEvent::Login => "login",
            LoginEvent::Logout => "logout",
            LoginEvent::FailedLogin => "failed_login",
        }
    }

    /// The message written for this event.
    pub fn message(self) -> &'static str {
        match self {
            LoginEvent::Login => "User logged in",
            LoginEvent::Logout => "User logged out",
            LoginEvent::FailedLogin => "Failed login attempt",
        }
    }

    fn success(self) -> bool {
        self != LoginEvent::FailedLogin
    }
}

/// The body of a login record, built by the login macros. Not meant to be
/// used directly: its methods are the keys the macros accept.
pub struct Login<'a> {
    event: LoginEvent,
    user: Option<&'a dyn fmt::Display>,
    user_field: Option<&'a str>,
    user_info: Option<&'a dyn ToJson>,
    client_ip: Option<&'a dyn fmt::Display>,
    user_agent: Option<&'a dyn fmt::Display>,
    error: Option<&'a dyn fmt::Display>,
    extra: Option<&'a dyn ToJson>,
}

impl<'a> Login<'a> {
    /// A record of `event`.
    pub fn new(event: LoginEvent) -> Self {
        Login {
            event,
            user: None,
            user_field: None,
            user_info: None,
            client_ip: None,
            user_agent: None,
            error: None,
            extra: None,
        }
    }

    /// The user's id (for a failed login, the name that was tried). Without
    /// it, the span context's user is written.
    pub fn user(mut self, user: &'a dyn fmt::Display) -> Self {
        self.user = Some(user);
        self
    }

    /// The user was read from the request body's field `key` (the HTTP
    /// layer's login routes): written as the mask when the writing layer's
    /// policy calls `key` secret, or when no user was read (the field was
    /// never read, for being secret).
    #[doc(hidden)]
    pub fn user_field(mut self, key: &'a str) -> Self {
        self.user_field = Some(key);
        self
    }

    /// The user's details.
    pub fn user_info<T: Serialize>(mut self, info: &'a T) -> Self {
        self.user_info = Some(info as &dyn ToJson);
        self
    }

    /// The client's address.
    pub fn client_ip(mut self, ip: &'a dyn fmt::Display) -> Self {
        self.client_ip = Some(ip);
        self
    }

    /// The client's `User-Agent`.
    pub fn user_agent(mut self, agent: &'a dyn fmt::Display) -> Self {
        self.user_agent = Some(agent);
        self
    }

    /// Why the login failed.
    pub fn error(mut self, error: &'a dyn fmt::Display) -> Self {
        self.error = Some(error);
        self
    }

    /// Anything else worth keeping, written as `extra`.
    pub fn extra<T: Serialize>(mut self, extra: &'a T) -> Self {
        self.extra = Some(extra as &dyn ToJson);
        self
    }

    /// The record's message.
    pub fn message(&self) -> &'static str {
        self.event.message()
    }

    fn write<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        let mut first = true;
        if !opts.written(MESSAGE_BIT) {
            json::lit(out, &mut first, "\"message\":")?;
            json::plain_string(out, self.event.message())?;
            opts.mark_written(MESSAGE_BIT);
        }
        json::lit(out, &mut first, "\"event\":")?;
        json::plain_string(out, self.event.as_str())?;
        json::lit(out, &mut first, "\"success\":")?;
        out.write_str(if self.event.success() {
            "true"
        } else {
            "false"
        })?;
        match self.user_field {
            Some(key) if self.user.is_none() || opts.policy.is_secret_key(key) => {
                let mask: &dyn fmt::Display = &opts.policy.mask();
                user_member(out, &mut first, Some(mask), opts)?;
            }
            _ => user_member(out, &mut first, self.user, opts)?,
        }
        for (key, value) in [
            ("\"client_ip\":", self.client_ip),
            ("\"user_agent\":", self.user_agent),
            ("\"error\":", self.error),
        ] {
            match value {
                Some(v) => display_member(out, &mut first, key, v, opts)?,
                None => {
                    json::lit(out, &mut first, key)?;
                    out.write_str("null")?;
                }
            }
        }
        if opts.minimal {
            opts.truncated.set(true);
            return Ok(());
        }
        user_info_member(out, &mut first, self.user_info, opts)?;
        object_member(out, &mut first, "\"extra\":", self.extra, opts)
    }
}

impl Body for Login<'_> {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        self.write(out, opts)
    }
}

impl fmt::Debug for Login<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_body(f, self)
    }
}
