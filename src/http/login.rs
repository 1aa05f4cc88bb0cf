//! Login detection: configured authentication routes give an
//! `audit.login` record (a login or a failed login) once their response is
//! known, besides the route's `audit.request` record.
//!
//! The user name is read from the request body the layer keeps for the
//! request record: one field of a JSON object or of a form, found without
//! reading any other value into memory, so the password is never copied
//! out of the kept bytes (which the request record writes redacted). The
//! login record holds no body at all: the tokens a login route answers
//! with reach only the request record, redacted there by key
//! (`access_token`, `refresh_token`, `token`, …) and by value (JWTs).

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use http::{Method, StatusCode};
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};

use super::capture::Shape;
use super::headers::HeaderTexts;
use super::paths::Pattern;
use super::AuditLayer;
use crate::record::{Login, LoginEvent};
use crate::redact::Policy;

/// The most bytes of a user name written in a login record.
const MAX_USER_BYTES: usize = 256;

impl AuditLayer {
    /// Makes `POST` requests to `path` (a pattern as for
    /// [`include`](Self::include)) login attempts: after the response, a
    /// [`login!`](crate::login) record on a 2xx status, a
    /// [`login_failed!`](crate::login_failed) record (with the status as
    /// `error`) on 401 or 403, in `login.log`, inside the request's span
    /// (so with its `request_id`). The user is the `user_field` of the
    /// request's JSON object or form body (top level, the last value of a
    /// repeated field; at most 256 bytes kept); the record also has the
    /// client address (as the request record has it) and the `User-Agent`.
    /// A `user_field` that the audit layer's redaction policy calls secret
    /// is written masked, and one the default [`Policy`] calls secret
    /// (`password`) is never even read.
    ///
    /// Other statuses give no login record: a 400 or 422 is a malformed
    /// attempt, a 429 a refused one, a 5xx a failure of the service, none
    /// of them a decision on the credentials; the request record has them
    /// with their status. Neither does a request whose response never
    /// came (the service's error) or that the client abandoned.
    ///
    /// The password is never kept by the login record, and the tokens the
    /// route answers with are not in it; the request record of the route
    /// has both bodies, redacted by the layer's policy. The body must be
    /// kept for the user to be known: a route given to
    /// [`skip_body`](Self::skip_body), a zero
    /// [`body_limit`](Self::body_limit) or a body cut at the limit before
    /// its end give a record with an empty user.
    ///
    /// ```
    /// use tracing_audit::http::AuditLayer;
    ///
    /// let layer = AuditLayer::new()
    ///     .login_route("/api/login", "username")
    ///     .login_route("/oauth/token", "client_id");
    /// ```
    pub fn login_route(self, path: &str, user_field: &str) -> Self {
        let route = LoginRoute {
            pattern: Pattern::new(path),
            user_field: Arc::from(user_field),
            // A field the default policy calls secret (`password`, say) is
            // never read: the user is written masked.
            secret_field: Policy::default().is_secret_key(user_field),
        };
        self.with(|config| config.login_routes.push(route))
    }
}

/// One configured login route.
#[derive(Debug, Clone)]
pub(crate) struct LoginRoute {
    pattern: Pattern,
    user_field: Arc<str>,
    secret_field: bool,
}

/// The login route a request is on, if any: `POST` to a configured path.
pub(crate) fn watch(routes: &[LoginRoute], method: &Method, path: &str) -> Option<Watch> {
    if *method != Method::POST {
        return None;
    }
    routes
        .iter()
        .find(|r| r.pattern.matches(path))
        .map(|r| Watch {
            field: Arc::clone(&r.user_field),
            user_field: (!r.secret_field).then(|| Arc::clone(&r.user_field)),
        })
}

/// A request on a login route, waiting for its response.
#[derive(Debug, Clone)]
pub(crate) struct Watch {
    /// The configured field.
    field: Arc<str>,
    /// `None`: the configured field is a secret, never read.
    user_field: Option<Arc<str>>,
}

/// What the login record is made from.
pub(crate) struct Attempt<'a> {
    /// `None` when the service answered with an error.
    pub(crate) status: Option<StatusCode>,
    pub(crate) aborted: bool,
    pub(crate) request_headers: &'a HeaderTexts,
    /// How the request body is recorded (from its `content-type`).
    pub(crate) shape: Shape,
    /// The kept request body, and whether it was cut.
    pub(crate) body: &'a [u8],
    pub(crate) cut: bool,
    pub(crate) client_ip: Option<IpAddr>,
}

impl Watch {
    /// Makes the login record of `attempt`, in the current span, when its
    /// status is a decision (see [`AuditLayer::login_route`]).
    pub(crate) fn emit(&self, attempt: &Attempt<'_>) {
        let Some(status) = attempt.status else {
            return;
        };
        if attempt.aborted {
            return;
        }
        let success = status.is_success();
        if !success && status != StatusCode::UNAUTHORIZED && status != StatusCode::FORBIDDEN {
            return;
        }
        let user = match &self.user_field {
            Some(field) if !attempt.cut => user_from_body(attempt.shape, attempt.body, field),
            _ => None,
        };
        // Not read (a secret field): no user, so the record writes the mask.
        let user = self
            .user_field
            .is_some()
            .then(|| user.as_deref().unwrap_or(""));
        let agent = attempt
            .request_headers
            .get(http::header::USER_AGENT.as_str());
        let status = Status(status);
        let event = if success {
            LoginEvent::Login
        } else {
            LoginEvent::FailedLogin
        };
        // Masked when the writing layer's policy calls the field secret.
        let mut record = Login::new(event).user_field(&self.field);
        if let Some(user) = &user {
            record = record.user(user);
        }
        if !success {
            record = record.error(&status);
        }
        // Unknown: `null`, as the schema says.
        if let Some(ip) = &attempt.client_ip {
            record = record.client_ip(ip);
        }
        if let Some(agent) = &agent {
            record = record.user_agent(agent);
        }
        crate::__emit!("audit.login", record);
    }
}

/// `401 Unauthorized`.
struct Status(StatusCode);

impl fmt::Display for Status {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.canonical_reason() {
            Some(reason) => write!(f, "{} {reason}", self.0.as_u16()),
            None => write!(f, "{}", self.0.as_u16()),
        }
    }
}

/// The top-level `field` of a JSON object or form body, as text (a number
/// or a boolean as written), cut to [`MAX_USER_BYTES`]. The body's shape
/// comes from its `content-type`; without one, JSON is tried.
fn user_from_body(shape: Shape, body: &[u8], field: &str) -> Option<String> {
    let user = match shape {
        Shape::Form => user_from_form(body, field),
        Shape::Json | Shape::Text => user_from_json(body, field),
        Shape::Binary => None,
    }?;
    Some(cut(user))
}

fn cut(mut user: String) -> String {
    if user.len() > MAX_USER_BYTES {
        let mut end = MAX_USER_BYTES;
        while !user.is_char_boundary(end) {
            end -= 1;
        }
        user.truncate(end);
    }
    user
}

fn user_from_form(body: &[u8], field: &str) -> Option<String> {
    // A repeated key: the last value counts, as for JSON.
    form_urlencoded::parse(body)
        .filter(|(key, _)| key == field)
        .last()
        .map(|(_, value)| value.into_owned())
}

fn user_from_json(body: &[u8], field: &str) -> Option<String> {
    let mut de = serde_json::Deserializer::from_slice(body);
    let user = FieldOf(field).deserialize(&mut de).ok()?;
    de.end().ok()?;
    user
}

/// Reads a JSON object, keeping only the value of one top-level key;
/// every other value is skipped without being stored.
struct FieldOf<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for FieldOf<'_> {
    type Value = Option<String>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for FieldOf<'_> {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut found = None;
        while let Some(wanted) = map.next_key_seed(KeyIs(self.0))? {
            // A repeated key: the last value counts, as in the request
            // record's body (and in `serde_json::Value`).
            if wanted {
                found = map.next_value::<Scalar>()?.0;
            } else {
                map.next_value::<IgnoredAny>()?;
            }
        }
        Ok(found)
    }
}

/// Whether a key is the wanted field, compared where the key lies (no key
/// is copied).
struct KeyIs<'f>(&'f str);

impl<'de> DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E: de::Error>(self, key: &str) -> Result<bool, E> {
        Ok(key == self.0)
    }
}

/// A string, number or boolean as text; anything else (an object, an
/// array, null) as `None`.
struct Scalar(Option<String>);

impl<'de> de::Deserialize<'de> for Scalar {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a user name")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_owned())))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Scalar, E> {
                Ok(Scalar(Some(v.to_string())))
            }
            fn visit_unit<E: de::Error>(self) -> Result<Scalar, E> {
                Ok(Scalar(None))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Scalar, A::Error> {
                while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> Result<Scalar, A::Error> {
                while seq.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar(None))
            }
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_user_field_of_a_json_object() {
        let user = |body: &str| user_from_body(Shape::Json, body.as_bytes(), "username");
        assert_eq!(
            user(r#"{"password":"x","username":"alice"}"#).as_deref(),
            Some("alice")
        );
        // Escapes in the key and the value are read as JSON says.
        assert_eq!(user(r#"{"user\u006eame":"a\"b"}"#).as_deref(), Some("a\"b"));
        assert_eq!(user(r#"{"username":42}"#).as_deref(), Some("42"));
        // Nested objects are skipped; only the top level counts.
        assert_eq!(
            user(r#"{"a":{"username":"no"},"username":"yes"}"#).as_deref(),
            Some("yes")
        );
        assert_eq!(user(r#"{"username":{"first":"a"}}"#), None);
        // A repeated key: the last value, as the record's body shows it.
        assert_eq!(
            user(r#"{"username":"mallory","username":"alice"}"#).as_deref(),
            Some("alice")
        );
        assert_eq!(
            user_from_form(b"username=mallory&username=alice", "username").as_deref(),
            Some("alice")
        );
        assert_eq!(user(r#"{"username":null}"#), None);
        assert_eq!(user(r#"{"other":"alice"}"#), None);
        // Not an object, not JSON, trailing bytes: no user.
        assert_eq!(user(r#"["alice"]"#), None);
        assert_eq!(user("username=alice"), None);
        assert_eq!(user(r#"{"username":"alice"} x"#), None);
        // Long names are cut on a character boundary.
        let long = format!(r#"{{"username":"{}"}}"#, "é".repeat(200));
        assert_eq!(user(&long).unwrap().len(), MAX_USER_BYTES);
    }

    #[test]
    fn the_user_field_of_a_form() {
        let user = |body: &str| user_from_body(Shape::Form, body.as_bytes(), "email");
        assert_eq!(
            user("password=x&email=bob%40example.com").as_deref(),
            Some("bob@example.com")
        );
        assert_eq!(user("password=x"), None);
    }

    #[test]
    fn only_posts_to_a_login_route_are_watched() {
        let routes = vec![LoginRoute {
            pattern: Pattern::new("/auth/*"),
            user_field: Arc::from("username"),
            secret_field: false,
        }];
        assert!(watch(&routes, &Method::POST, "/auth/login").is_some());
        assert!(watch(&routes, &Method::GET, "/auth/login").is_none());
        assert!(watch(&routes, &Method::POST, "/login").is_none());
    }
}
