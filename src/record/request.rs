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
                let masked = masked_query(ext.endpoint, self.query, opts);
                json::string(out, masked.as_deref().unwrap_or(ext.endpoint), opts)?;
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

/// `endpoint` with the values masked whose pair in `query` (the same
/// query, decoded) is secret by key or by value: encoded, a secret can
/// hide from the scanner (`card=4111+1111+…`, `session%5Fid=…`). `None`
/// when nothing is to be masked. The raw pairs line up with the decoded
/// ones: both split at `&`, skip empty pairs, and split a pair at its
/// first `=`.
fn masked_query(
    endpoint: &str,
    query: &[(Cow<'_, str>, Cow<'_, str>)],
    opts: &Opts<'_>,
) -> Option<String> {
    if query.is_empty() {
        return None;
    }
    let start = endpoint.find('?')? + 1;
    let end = endpoint[start..]
        .find('#')
        .map_or(endpoint.len(), |i| start + i);
    let mut masked: Option<String> = None;
    // Where the text not yet copied into `masked` starts.
    let mut copied = 0;
    let mut at = start;
    let mut pairs = query.iter();
    let by_neighbours = opts
        .policy
        .secret_members(query.iter().map(|(k, _)| k.as_ref()));
    for raw in endpoint[start..end].split('&') {
        let here = at;
        at += raw.len() + 1;
        if raw.is_empty() {
            continue;
        }
        let Some((key, value)) = pairs.next() else {
            break;
        };
        // A pair without `=` has no value to mask.
        let Some(eq) = raw.find('=') else {
            continue;
        };
        let secret = opts.policy.is_secret_key(key) || by_neighbours.has(key);
        if !(secret || opts.policy.is_secret_value(value)) {
            continue;
        }
        let text = masked.get_or_insert_with(String::new);
        text.push_str(&endpoint[copied..here + eq + 1]);
        text.push_str(opts.policy.mask());
        copied = here + raw.len();
    }
    let mut text = masked?;
    text.push_str(&endpoint[copied..]);
    Some(text)
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
    // The body lies one level below a member of the record (in
    // `request_repr` or `response_repr`): one level less for it, so that
    // the line stays within the limit.
    let opts = &Opts {
        value_depth: opts.value_depth.saturating_sub(1),
        ..*opts
    };
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
    let by_neighbours = opts
        .policy
        .secret_members(pairs.iter().map(|(k, _)| k.as_ref()));
    grouped(
        out,
        pairs,
        opts,
        |key| opts.policy.is_secret_key(key) || by_neighbours.has(key),
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

#[cfg(test)]
mod tests {
    use std::borrow::Cow;
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    /// The exact bytes of two known records (one inbound, one outbound)
    /// with the default policy: any change to the writer's output, by a
    /// speed-up or otherwise, fails here first.
    #[test]
    fn known_records_are_written_byte_for_byte() {
        let request_headers: Vec<(&str, Cow<'_, str>)> = vec![
            ("content-type", Cow::Borrowed("application/json")),
            ("authorization", Cow::Borrowed("Bearer abc123def456ghi")),
            ("accept", Cow::Borrowed("text/html")),
            ("accept", Cow::Borrowed("*/*")),
            ("user-agent", Cow::Borrowed("bench/1.0 \"quoted\"\ttab")),
            ("x-note", Cow::Borrowed("card 4111 1111 1111 1111 paid")),
            ("host", Cow::Borrowed("127.0.0.1:8080")),
        ];
        let query: Vec<(Cow<'_, str>, Cow<'_, str>)> = vec![
            (Cow::Borrowed("page"), Cow::Borrowed("2")),
            (Cow::Borrowed("api_key"), Cow::Borrowed("k-123")),
            (Cow::Borrowed("tag"), Cow::Borrowed("a")),
            (Cow::Borrowed("tag"), Cow::Borrowed("b\"c")),
        ];
        let request_body =
            br#" {"name":"widget","price":12.5,"tags":["a","b"],"password":"hunter2",
            "nested":{"z":1,"a":[true,false,null],"token":{"x":1}},"n":-0,"f":1e2,
            "big":123456789012345678901234,"u":"\u00e9\n\"x\"","auth":"Bearer abcdefghijkl1",
            "name":"second","url":"https://bob:pw@example.com/x","\u0062key":"v"} "#;
        let response_headers: Vec<(&str, Cow<'_, str>)> = vec![
            ("content-type", Cow::Borrowed("application/json")),
            ("set-cookie", Cow::Borrowed("sid=1")),
            (
                "x-request-id",
                Cow::Borrowed("0193a2b4-7c1e-7000-8000-000000000001"),
            ),
        ];
        let response_body = br#"{"id":1,"name":"widget","access":"eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln","list":[{"b":2,"a":1}]}"#;
        let ip = IpAddr::V4(Ipv4Addr::new(10, 0, 0, 7));
        let inbound = Request {
            protocol: "http",
            method: "POST",
            path: "/items/42",
            query: &query,
            client_ip: Some(&ip),
            request: Side {
                headers: &request_headers,
                body: Payload::JsonText(request_body),
                body_truncated: false,
                size: request_body.len() as u64,
            },
            status: Some(201),
            response: Side {
                headers: &response_headers,
                body: Payload::JsonText(response_body),
                body_truncated: true,
                size: 4096,
            },
            execution_time: 0.001_234_5,
            trace_id: Some("4bf92f3577b34da6a3ce929d0e0e4736"),
            span_id: Some("00f067aa0ba902b7"),
            ..Request::default()
        };
        let pairs = vec![
            ("user".to_owned(), "bob".to_owned()),
            ("password".to_owned(), "hunter2".to_owned()),
            ("note".to_owned(), "x=1&y".to_owned()),
        ];
        let outbound = Request {
            protocol: "http",
            method: "PUT",
            request: Side {
                headers: &[],
                body: Payload::Pairs(pairs),
                body_truncated: false,
                size: 40,
            },
            status: None,
            response: Side {
                headers: &[],
                body: Payload::JsonText(b"{not json: password=hunter2}"),
                body_truncated: false,
                size: 28,
            },
            execution_time: 2.5,
            error: Some("connect refused for https://u:p@partner.example/a?token=t1"),
            external: Some(External {
                peer_service: "partner",
                endpoint: "https://u:p@partner.example/a?token=t1&x=1",
                error_kind: Some("connect"),
                attempt: Some(2),
            }),
            ..Request::default()
        };
        let texts = Request {
            protocol: "grpc",
            method: "POST",
            path: "/grpc.health.v1.Health/Check",
            request: Side {
                body: Payload::Binary(5),
                ..Side::default()
            },
            status: Some(200),
            response: Side {
                body: Payload::Text("plain \u{1} text".to_owned()),
                ..Side::default()
            },
            grpc_status: Some("0"),
            grpc_message: Some("ok"),
            aborted: true,
            ..Request::default()
        };
        let not_kept = Request {
            protocol: "http",
            method: "GET",
            path: "/",
            request: Side {
                body: Payload::NotKept(12),
                ..Side::default()
            },
            response: Side {
                body: Payload::JsonText(b"\xff\xfe"),
                size: 2,
                ..Side::default()
            },
            ..Request::default()
        };
        let got = [
            format!("{inbound:?}"),
            format!("{outbound:?}"),
            format!("{texts:?}"),
            format!("{not_kept:?}"),
        ];
        let want = [
            "{\"message\":\"Audit Internal Request\",\"request_type\":\"internal\",\"protocol\":\"http\",\"request_repr\":{\"method\":\"POST\",\"path\":\"/items/42\",\"client_ip\":\"10.0.0.7\",\"query_params\":{\"page\":\"2\",\"api_key\":\"[REDACTED]\",\"tag\":[\"a\",\"b\\\"c\"]},\"headers\":{\"content-type\":\"application/json\",\"authorization\":\"[REDACTED]\",\"accept\":\"text/html, */*\",\"user-agent\":\"bench/1.0 \\\"quoted\\\"\\ttab\",\"x-note\":\"card [REDACTED] paid\",\"host\":\"127.0.0.1:8080\"},\"body\":{\"auth\":\"[REDACTED]\",\"big\":1.2345678901234567e+23,\"bkey\":\"v\",\"f\":100.0,\"n\":-0.0,\"name\":\"second\",\"nested\":{\"a\":[true,false,null],\"token\":\"[REDACTED]\",\"z\":1},\"password\":\"[REDACTED]\",\"price\":12.5,\"tags\":[\"a\",\"b\"],\"u\":\"é\\n\\\"x\\\"\",\"url\":\"https://[REDACTED]@example.com/x\"},\"body_truncated\":false},\"response_repr\":{\"status_code\":201,\"headers\":{\"content-type\":\"application/json\",\"set-cookie\":\"[REDACTED]\",\"x-request-id\":\"0193a2b4-7c1e-7000-8000-000000000001\"},\"body\":{\"access\":\"[REDACTED]\",\"id\":1,\"list\":[{\"a\":1,\"b\":2}],\"name\":\"widget\"},\"body_truncated\":true},\"execution_time\":0.0012345,\"request_size\":329,\"response_size\":4096,\"error_message\":null,\"aborted\":false,\"trace_id\":\"4bf92f3577b34da6a3ce929d0e0e4736\",\"span_id\":\"00f067aa0ba902b7\"}",
            "{\"message\":\"Audit External Request\",\"request_type\":\"external\",\"peer_service\":\"partner\",\"protocol\":\"http\",\"request_repr\":{\"method\":\"PUT\",\"endpoint\":\"https://[REDACTED]@partner.example/a?token=[REDACTED]&x=1\",\"query_params\":{},\"headers\":{},\"body\":{\"user\":\"bob\",\"password\":\"[REDACTED]\",\"note\":\"x=1&y\"},\"body_truncated\":false},\"response_repr\":{\"status_code\":null,\"headers\":{},\"body\":\"{not json: password=[REDACTED]}\",\"body_truncated\":false},\"execution_time\":2.5,\"request_size\":40,\"response_size\":28,\"error_message\":\"connect refused for https://[REDACTED]@partner.example/a?token=[REDACTED]\",\"error_kind\":\"connect\",\"attempt\":2,\"aborted\":false,\"trace_id\":null,\"span_id\":null}",
            "{\"message\":\"Audit Internal Request\",\"request_type\":\"internal\",\"protocol\":\"grpc\",\"request_repr\":{\"method\":\"POST\",\"path\":\"/grpc.health.v1.Health/Check\",\"client_ip\":null,\"query_params\":{},\"headers\":{},\"body\":\"[binary 5 bytes]\",\"body_truncated\":false},\"response_repr\":{\"status_code\":200,\"grpc_status\":\"0\",\"grpc_message\":\"ok\",\"headers\":{},\"body\":\"plain \\u0001 text\",\"body_truncated\":false},\"execution_time\":0.0,\"request_size\":0,\"response_size\":0,\"error_message\":null,\"aborted\":true,\"trace_id\":null,\"span_id\":null}",
            "{\"message\":\"Audit Internal Request\",\"request_type\":\"internal\",\"protocol\":\"http\",\"request_repr\":{\"method\":\"GET\",\"path\":\"/\",\"client_ip\":null,\"query_params\":{},\"headers\":{},\"body\":\"[not kept 12 bytes]\",\"body_truncated\":false},\"response_repr\":{\"status_code\":null,\"headers\":{},\"body\":\"[binary 2 bytes]\",\"body_truncated\":false},\"execution_time\":0.0,\"request_size\":0,\"response_size\":2,\"error_message\":null,\"aborted\":false,\"trace_id\":null,\"span_id\":null}",
        ];
        for (got, want) in got.iter().zip(want) {
            assert_eq!(got, want);
        }
        // The layer's way: the members straight into its line.
        let records = [&inbound, &outbound, &texts, &not_kept];
        for (record, want) in records.into_iter().zip(want) {
            let line = json::with_opts(|opts| {
                let mut line = String::from("{");
                record.write_body(&mut line, opts).map(|()| line + "}")
            });
            assert_eq!(line.as_deref(), Ok(want));
        }
    }
}
