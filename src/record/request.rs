//! Request-response records: `audit.request`, level `API`.
//!
//! The body of an inbound request record, built by the `http` module from
//! what it saw and written here through the crate's JSON writer, so that the
//! layer's redaction policy applies to every part: header values by
//! [`Policy::is_secret_header`](crate::redact::Policy::is_secret_header),
//! query and form keys and JSON keys by the key rules, and every string
//! value scanned for secret values. It knows nothing of `http` types: names
//! and values arrive as text.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde_json::Value;

use super::{fmt_body, Body};
use crate::context::MESSAGE_BIT;
use crate::json::{self, Opts, Out};

/// A body as it is recorded.
#[derive(Debug, Default)]
pub(crate) enum Payload<'a> {
    /// No body at all (`null`).
    #[default]
    Empty,
    /// Parsed JSON, written redacted by key and value.
    Json(Value),
    /// JSON text, written as [`Payload::Json`] would write it once parsed
    /// (see [`json::json_text`]); text that does not parse is written as
    /// text, bytes that are not UTF-8 as `"[binary N bytes]"`.
    JsonText(&'a [u8]),
    /// A form body (`application/x-www-form-urlencoded`): an object.
    Pairs(Vec<(String, String)>),
    /// Text, as it is (scanned for secret values).
    Text(String),
    /// Bytes that are not text (`"[binary N bytes]"`).
    Binary(u64),
    /// A body the configuration says not to keep (`"[not kept N bytes]"`).
    NotKept(u64),
}

/// One side of the exchange: the request or the response.
#[derive(Debug, Default)]
pub(crate) struct Side<'a> {
    /// Header names (lower case) and values (lossy UTF-8).
    pub(crate) headers: &'a [(&'a str, Cow<'a, str>)],
    pub(crate) body: Payload<'a>,
    /// Whether the kept body is only the first part of it.
    pub(crate) body_truncated: bool,
    /// Bytes of body seen in all.
    pub(crate) size: u64,
}

/// What an outbound call's record has instead of the inbound request's
/// path and client address (`request_type` `"external"`).
#[derive(Debug, Default)]
pub(crate) struct External<'a> {
    /// The service called (OpenTelemetry's `peer.service`).
    pub(crate) peer_service: &'a str,
    /// The URL or address called, written through the value scanner (URL
    /// userinfo and secret query values masked).
    pub(crate) endpoint: &'a str,
    /// `connect`, `timeout`, `body`, `redirect`, `request`, `decode`,
    /// `abandoned` or `other`, when the call failed.
    pub(crate) error_kind: Option<&'a str>,
    /// The attempt's number (1 first), under a retry middleware.
    pub(crate) attempt: Option<u32>,
}

/// The body of an `audit.request` record: inbound (`request_type`
/// `"internal"`) or, with `external`, an outbound call (`"external"`).
#[derive(Default)]
pub(crate) struct Request<'a> {
    /// `"http"` or `"grpc"`.
    pub(crate) protocol: &'a str,
    pub(crate) method: &'a str,
    pub(crate) path: &'a str,
    /// The decoded query pairs, in order.
    pub(crate) query: &'a [(Cow<'a, str>, Cow<'a, str>)],
    pub(crate) client_ip: Option<&'a dyn fmt::Display>,
    pub(crate) request: Side<'a>,
    /// `None` when the service answered with an error instead of a response.
    pub(crate) status: Option<u16>,
    pub(crate) response: Side<'a>,
    pub(crate) grpc_status: Option<&'a str>,
    pub(crate) grpc_message: Option<&'a str>,
    /// Seconds from the request to the end of the response body.
    pub(crate) execution_time: f64,
    pub(crate) error: Option<&'a str>,
    /// The response body was dropped before its end (the client went away).
    pub(crate) aborted: bool,
    /// From a valid W3C `traceparent`.
    pub(crate) trace_id: Option<&'a str>,
    pub(crate) span_id: Option<&'a str>,
    /// An outbound call: `path` and `client_ip` are not written.
    pub(crate) external: Option<External<'a>>,
}

/// The record's message.
pub(crate) const MESSAGE: &str = "Audit Internal Request";
/// The message of an outbound call's record.
pub(crate) const EXTERNAL_MESSAGE: &str = "Audit External Request";

impl Request<'_> {
    fn write<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        let mut first = true;
        if !opts.written(MESSAGE_BIT) {
            json::lit(out, &mut first, "\"message\":")?;
            json::plain_string(
                out,
                match self.external {
                    Some(_) => EXTERNAL_MESSAGE,
                    None => MESSAGE,
                },
            )?;
            opts.mark_written(MESSAGE_BIT);
        }
        match &self.external {
            None => json::lit(
                out,
                &mut first,
                "\"request_type\":\"internal\",\"protocol\":",
            )?,
            Some(ext) => {
                json::lit(
                    out,
                    &mut first,
                    "\"request_type\":\"external\",\"peer_service\":",
                )?;
                json::string(out, ext.peer_service, opts)?;
                out.write_str(",\"protocol\":")?;
            }
        }
        json::string(out, self.protocol, opts)?;

        json::lit(out, &mut first, "\"request_repr\":{\"method\":")?;
        json::string(out, self.method, opts)?;
        match &self.external {
            Some(ext) => {
                // The scanner masks the URL's userinfo and the values of
                // secret query keys (`?api_key=…`) like in any string.
                out.write_str(",\"endpoint\":")?;
                json::string(out, ext.endpoint, opts)?;
            }
            None => {
                out.write_str(",\"path\":")?;
                json::string(out, self.path, opts)?;
                out.write_str(",\"client_ip\":")?;
                match self.client_ip {
                    Some(ip) => json::display(out, ip, opts)?,
                    None => out.write_str("null")?,
                }
            }
        }
        if !opts.minimal {
            out.write_str(",\"query_params\":")?;
            pairs(out, self.query, opts)?;
            side(out, &self.request, opts)?;
        }
        out.write_char('}')?;

        json::lit(out, &mut first, "\"response_repr\":{\"status_code\":")?;
        match self.status {
            Some(code) => json::int(out, code)?,
            None => out.write_str("null")?,
        }
        if let Some(status) = self.grpc_status {
            out.write_str(",\"grpc_status\":")?;
            json::string(out, status, opts)?;
        }
        if !opts.minimal {
            if let Some(message) = self.grpc_message {
                out.write_str(",\"grpc_message\":")?;
                json::string(out, message, opts)?;
            }
            side(out, &self.response, opts)?;
        }
        out.write_char('}')?;

        json::lit(out, &mut first, "\"execution_time\":")?;
        json::float(out, self.execution_time)?;
        json::lit(out, &mut first, "\"request_size\":")?;
        json::int(out, self.request.size)?;
        json::lit(out, &mut first, "\"response_size\":")?;
        json::int(out, self.response.size)?;
        json::lit(out, &mut first, "\"error_message\":")?;
        match self.error {
            Some(e) => json::string(out, e, opts)?,
            None => out.write_str("null")?,
        }
        if let Some(ext) = &self.external {
            json::lit(out, &mut first, "\"error_kind\":")?;
            match ext.error_kind {
                Some(kind) => json::plain_string(out, kind)?,
                None => out.write_str("null")?,
            }
            json::lit(out, &mut first, "\"attempt\":")?;
            match ext.attempt {
                Some(n) => json::int(out, n)?,
                None => out.write_str("null")?,
            }
        }
        json::lit(out, &mut first, "\"aborted\":")?;
        out.write_str(if self.aborted { "true" } else { "false" })?;
        for (key, value) in [
            ("\"trace_id\":", self.trace_id),
            ("\"span_id\":", self.span_id),
        ] {
            json::lit(out, &mut first, key)?;
            match value {
                Some(v) => json::plain_string(out, v)?,
                None => out.write_str("null")?,
            }
        }
        if opts.minimal || self.request.body_truncated || self.response.body_truncated {
            opts.truncated.set(true);
        }
        Ok(())
    }
}

/// `,"headers":{…},"body":…,"body_truncated":…` of one side.
fn side<W: Out>(out: &mut W, side: &Side<'_>, opts: &Opts<'_>) -> fmt::Result {
    out.write_str(",\"headers\":")?;
    // A header sent more than once is written once, its values joined as
    // HTTP joins them; secret headers masked.
    grouped(
        out,
        side.headers,
        opts,
        |name| opts.policy.is_secret_header(name),
        |out, values| match values {
            [one] => json::string(out, one, opts),
            _ => json::string(out, &values.join(", "), opts),
        },
    )?;
    out.write_str(",\"body\":")?;
    match &side.body {
        Payload::Empty => out.write_str("null")?,
        Payload::Json(v) => json::value(out, v, opts)?,
        Payload::JsonText(bytes) => {
            if !json::json_text(out, bytes, opts)? {
                match std::str::from_utf8(bytes) {
                    Ok(text) => json::string(out, text, opts)?,
                    Err(_) => marker(out, "[binary ", side.size)?,
                }
            }
        }
        Payload::Pairs(p) => pairs(out, p, opts)?,
        Payload::Text(t) => json::string(out, t, opts)?,
        Payload::Binary(n) => marker(out, "[binary ", *n)?,
        Payload::NotKept(n) => marker(out, "[not kept ", *n)?,
    }
    out.write_str(",\"body_truncated\":")?;
    out.write_str(if side.body_truncated { "true" } else { "false" })
}

fn marker<W: Out>(out: &mut W, head: &str, n: u64) -> fmt::Result {
    out.write_char('"')?;
    out.write_str(head)?;
    json::int(out, n)?;
    out.write_str(" bytes]\"")
}

/// Key-value pairs (a query string, a form body) as an object, each key
/// once: a key given several times holds the list of its values. A secret
/// key's values are masked; the others are scanned for secret values.
fn pairs<W: Out, K: AsRef<str>, V: AsRef<str>>(
    out: &mut W,
    pairs: &[(K, V)],
    opts: &Opts<'_>,
) -> fmt::Result {
    grouped(
        out,
        pairs,
        opts,
        |key| opts.policy.is_secret_key(key),
        |out, values| match values {
            [one] => json::string(out, one, opts),
            _ => {
                out.write_char('[')?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        out.write_char(',')?;
                    }
                    json::string(out, v, opts)?;
                }
                out.write_char(']')
            }
        },
    )
}

/// Up to this many pairs are grouped without a map.
const SMALL: usize = 24;

/// Writes `pairs` as an object with each key once, in the order of first
/// appearance, `write` given all the values of a key; the values of a key
/// `secret` says is secret are the mask. Grouping is linear in the number
/// of pairs (a hostile query string may have tens of thousands).
fn grouped<W: Out, K: AsRef<str>, V: AsRef<str>>(
    out: &mut W,
    pairs: &[(K, V)],
    opts: &Opts<'_>,
    secret: impl Fn(&str) -> bool,
    write: impl Fn(&mut W, &[&str]) -> fmt::Result,
) -> fmt::Result {
    out.write_char('{')?;
    let mut first = true;
    let mut cut_keys = json::CutKeys::new();
    let mut entry = |out: &mut W, key: &str, values: &[&str]| -> fmt::Result {
        json::data_key(out, &mut first, key, opts, &mut cut_keys)?;
        if secret(key) {
            json::plain_string(out, opts.policy.mask())
        } else {
            write(out, values)
        }
    };
    if pairs.len() <= SMALL {
        // A few pairs (the usual headers and queries): grouped by looking
        // back and ahead, with no allocation unless a key repeats.
        let mut values: Vec<&str> = Vec::new();
        for (i, (k, v)) in pairs.iter().enumerate() {
            let k = k.as_ref();
            if pairs[..i].iter().any(|(seen, _)| seen.as_ref() == k) {
                continue;
            }
            let mut rest = pairs[i + 1..]
                .iter()
                .filter(|(other, _)| other.as_ref() == k);
            match rest.next() {
                None => entry(out, k, &[v.as_ref()])?,
                Some((_, second)) => {
                    values.clear();
                    values.push(v.as_ref());
                    values.push(second.as_ref());
                    values.extend(rest.map(|(_, v)| v.as_ref()));
                    entry(out, k, &values)?;
                }
            }
        }
        return out.write_char('}');
    }
    // Many pairs (a hostile query string may have tens of thousands):
    // grouped through a map, linear in their number.
    let mut order: Vec<(&str, Vec<&str>)> = Vec::with_capacity(pairs.len());
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (k, v) in pairs {
        let (k, v) = (k.as_ref(), v.as_ref());
        match index.get(k) {
            Some(&i) => order[i].1.push(v),
            None => {
                index.insert(k, order.len());
                order.push((k, vec![v]));
            }
        }
    }
    for (key, values) in &order {
        entry(out, key, values)?;
    }
    out.write_char('}')
}

impl Body for Request<'_> {
    fn write_body<W: Out>(&self, out: &mut W, opts: &Opts<'_>) -> fmt::Result {
        self.write(out, opts)
    }
}

impl fmt::Debug for Request<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_body(f, self)
    }
}
