//! The inbound layer attacked as an outsider would: secrets under header
//! names and in places no list names, hostile headers, paths and queries,
//! and a JSON body nested 10,000 deep. Each request gives one record, every
//! line parses, no secret reaches a file, and nothing panics.
#![cfg(feature = "http")]

mod common;

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use common::records::{check_envelope, Logs, Record};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use serde_json::Value;
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_audit::Kind;

/// A JWT (`{"alg":"HS256"}` / `{"sub":"mallory"}` / a signature).
const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLW9mLWEtand0";
const BEARER: &str = "Zm9vYmFyLXNlY3JldC10b2tlbi12YWx1ZQ";
const PROXY: &str = "cHJveHktdXNlcjpwcm94eS1wYXNz";
const API_KEY: &str = "k-91c2e7f04d3b5a6e8f1c2d3e4f5a6b7c";
const GITHUB: &str = "ghp_0123456789abcdefghijABCDEFGHIJ012345";

fn block_on<F: Future>(logs: &Logs, f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    logs.run(|| rt.block_on(f))
}

/// Sends `req` through the layer to a service that reads the body and
/// answers `answer` as JSON; returns the one record it leaves.
fn one_exchange(layer: AuditLayer, req: Request<Full<Bytes>>, answer: &'static str) -> Record {
    let logs = Logs::new();
    let svc = layer.layer(service_fn(
        move |req: Request<RequestBody<Full<Bytes>>>| async move {
            let _ = req.into_body().collect().await;
            let mut res = Response::new(Full::new(Bytes::from_static(answer.as_bytes())));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            Ok::<_, Infallible>(res)
        },
    ));
    let response = block_on(&logs, svc.oneshot(req)).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let lines = logs.lines(Kind::Api);
    assert_eq!(lines.len(), 1, "one record");
    let records = logs.records(Kind::Api);
    check_envelope(&records[0], Some("API"));
    records[0].clone()
}

fn all_text(record: &Record) -> String {
    serde_json::to_string(record).unwrap()
}

#[test]
fn secrets_under_names_and_in_places_no_list_names_reach_no_file() {
    let req = Request::post(format!("/search?q={JWT}&next=%2Fhome%3Ftoken%3D{BEARER}"))
        .header("content-type", "application/json")
        .header("x-custom", format!("Bearer {BEARER}"))
        .header("proxy-authorization", format!("Basic {PROXY}"))
        .header("X-Api-Key", API_KEY)
        .header("x-forwarded-token", GITHUB)
        .header("x-trace", format!("upstream said Authorization: Bearer {BEARER}"))
        .body(Full::new(Bytes::from(format!(
            r#"{{"note":"call me with {JWT}","nested":{{"list":["Bearer {BEARER}",{{"k":"{GITHUB}"}}]}}}}"#
        ))))
        .unwrap();
    let record = one_exchange(AuditLayer::new(), req, r#"{"ok":true}"#);
    let text = all_text(&record);
    for secret in [JWT, BEARER, PROXY, API_KEY, GITHUB] {
        assert!(!text.contains(secret), "{secret} in the record: {text}");
    }
    let headers = &record["request_repr"]["headers"];
    assert_eq!(headers["proxy-authorization"], "[REDACTED]");
    assert_eq!(headers["x-api-key"], "[REDACTED]");
    assert_eq!(headers["x-custom"], "Bearer [REDACTED]");
    // What is not secret is kept.
    assert_eq!(record["request_repr"]["path"], "/search");
    assert_eq!(
        record["request_repr"]["body"]["nested"]["list"][0],
        "Bearer [REDACTED]"
    );
}

#[test]
fn hostile_headers_paths_and_queries_give_one_valid_capped_record() {
    let long_value = "v".repeat(200_000);
    let mut req = Request::post(format!(
        "/{}?{}",
        "a%00b%0A%22/".repeat(1_000),
        "k=%FF%FE%FD&".repeat(4_000)
    ))
    .header("content-type", "text/plain")
    .header("x-long", long_value.as_str())
    // Bytes that are not UTF-8 (obs-text), as HTTP allows in a value.
    .header(
        "x-latin1",
        HeaderValue::from_bytes(b"caf\xe9 \xff\xfe").unwrap(),
    );
    for i in 0..500 {
        req = req.header(format!("x-h{i}"), format!("value {i}"));
    }
    let req = req.body(Full::new(Bytes::from_static(b"plain"))).unwrap();
    let record = one_exchange(AuditLayer::new(), req, r#"{"ok":true}"#);
    // The line stays under the cap and says it was cut.
    assert_eq!(record["truncated"], true, "{record:?}");
    let path = record["request_repr"]["path"].as_str().unwrap_or_default();
    assert!(path.starts_with("/a%00b%0A%22/"), "{path}");
    // The lossy value is text, never bytes that break the line.
    let latin1 = &record["request_repr"]["headers"]["x-latin1"];
    assert!(latin1.is_null() || latin1.as_str().is_some(), "{latin1:?}");
}

#[test]
fn a_json_body_nested_ten_thousand_deep_is_a_safe_record() {
    for body in [
        format!("{}{}", "[".repeat(10_000), "]".repeat(10_000)),
        format!("{}1{}", r#"{"a":"#.repeat(10_000), "}".repeat(10_000)),
        // Unclosed: not JSON at all.
        format!("{}\"password\":\"hunter2\"", r#"{"a":"#.repeat(10_000)),
    ] {
        let req = Request::post("/items")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        let record = one_exchange(
            AuditLayer::new().login_route("/items", "username"),
            req,
            r#"{"ok":true}"#,
        );
        let kept = &record["request_repr"]["body"];
        assert!(
            kept.is_string() || kept.is_object() || kept.is_array(),
            "{kept:?}"
        );
        assert_eq!(record["request_size"], body.len() as u64);
        assert!(!all_text(&record).contains("hunter2"));
    }
}

/// A query value that is not UTF-8 once decoded, and a key that is a
/// secret only once decoded.
#[test]
fn a_query_that_is_not_utf8_once_decoded_is_text_and_still_redacted() {
    let req = Request::get("/q?name=%C3%28%FF&pass%77ord=s3cr3t-value&x=%E2%82")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let record = one_exchange(AuditLayer::new(), req, "{}");
    let query = &record["request_repr"]["query_params"];
    assert!(query["name"].is_string(), "{query:?}");
    assert_eq!(query["password"], "[REDACTED]");
    assert!(!all_text(&record).contains("s3cr3t-value"));
}

#[test]
fn the_record_is_one_json_line_whatever_the_answer_holds() {
    // The service answers JSON that nests deep, then text that is not.
    for answer in [
        Box::leak(format!("{}{}", "[".repeat(5_000), "]".repeat(5_000)).into_boxed_str()) as &str,
        "not json \u{0} \u{7} at all",
    ] {
        let req = Request::get("/x").body(Full::new(Bytes::new())).unwrap();
        let record = one_exchange(AuditLayer::new(), req, answer);
        assert!(!matches!(record["response_repr"]["body"], Value::Null));
    }
}

/// Secret keys hidden from a plain key match: escaped in JSON, a JSON
/// body cut at the cap (kept as text), `key=value` in a text body.
#[test]
fn secret_keys_in_escaped_cut_and_text_bodies_are_redacted() {
    let cases: [(&str, String, usize); 4] = [
        (
            "application/json",
            r#"{"pass\u0077ord":"hunter2-escaped"}"#.to_owned(),
            1024,
        ),
        (
            "application/json",
            format!(
                r#"{{"a":"x","password":"hunter2-cut-json","tail":"{}"}}"#,
                "y".repeat(500)
            ),
            100,
        ),
        (
            "text/plain",
            "user=bob password=hunter2-text token: hunter2-colon".to_owned(),
            1024,
        ),
        (
            "application/x-www-form-urlencoded",
            "user=bob&pass%77ord=hunter2-form".to_owned(),
            1024,
        ),
    ];
    for (content_type, body, limit) in cases {
        let req = Request::post("/x")
            .header("content-type", content_type)
            .body(Full::new(Bytes::from(body.clone())))
            .unwrap();
        let record = one_exchange(AuditLayer::new().body_limit(limit), req, "{}");
        let text = all_text(&record);
        assert!(!text.contains("hunter2"), "{content_type} {body}: {text}");
    }
}

/// XML (a SOAP login, say): the text of an element named by a secret key
/// is masked, as a JSON value under that key would be.
#[test]
fn an_xml_body_has_its_secret_elements_masked() {
    let req = Request::post("/x")
        .header("content-type", "application/xml")
        .body(Full::new(Bytes::from_static(
            b"<login><user>bob</user><password>hunter2-xml</password></login>",
        )))
        .unwrap();
    let record = one_exchange(AuditLayer::new(), req, "{}");
    assert_eq!(
        record["request_repr"]["body"],
        "<login><user>bob</user><password>[REDACTED]</password></login>"
    );
}

/// Request and response bodies nested just around the depth limit (the
/// body sits two levels down in the record: `request_repr` → `body`):
/// every line stays within the 127 levels `serde_json` (and the crate's
/// own readers) can read, cut and marked where it must be.
#[test]
fn bodies_nested_around_the_depth_limit_give_lines_every_reader_parses() {
    for depth in [124, 125, 126, 127, 130] {
        let body = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let answer: &'static str = Box::leak(
            format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth)).into_boxed_str(),
        );
        let req = Request::post("/items")
            .header("content-type", "application/json")
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        // `one_exchange` parses the line with `serde_json` (its default
        // recursion limit): a line nested deeper fails there.
        let record = one_exchange(AuditLayer::new(), req, answer);
        let kept = &record["request_repr"]["body"];
        // Past what `serde_json` reads (128 levels) the body is not JSON
        // to the layer either: kept as text.
        if depth < 128 {
            assert!(kept.is_array(), "{depth}: {kept:?}");
            assert!(record["response_repr"]["body"].is_object(), "{depth}");
        } else {
            assert!(kept.is_string(), "{depth}: {kept:?}");
        }
        if (126..128).contains(&depth) {
            assert_eq!(record.get("truncated"), Some(&Value::Bool(true)), "{depth}");
        }
    }
}

/// A dual-stack listener (`[::]:port`) sees IPv4 clients as IPv4-mapped
/// IPv6 peers (`::ffff:203.0.113.9`): the record names the client as an
/// IPv4 listener and a forwarding proxy do (`203.0.113.9`), so one client
/// is one `client_ip` for queries and alert keys however it connected.
#[test]
fn an_ipv4_mapped_peer_is_recorded_as_its_ipv4_address() {
    let peer: std::net::SocketAddr = "[::ffff:203.0.113.9]:40000".parse().unwrap();
    for layer in [
        AuditLayer::new(),
        // Trusted, with no forwarding header: the peer itself.
        AuditLayer::new()
            .trusted_proxies(["203.0.113.0/24"])
            .unwrap(),
    ] {
        let mut req = Request::get("/x").body(Full::new(Bytes::new())).unwrap();
        req.extensions_mut().insert(peer);
        let record = one_exchange(layer, req, "{}");
        assert_eq!(record["request_repr"]["client_ip"], "203.0.113.9");
    }
    // Behind a trusted proxy, the forwarded hop was already written so.
    let mut req = Request::get("/x")
        .header("x-forwarded-for", "::ffff:198.51.100.4")
        .body(Full::new(Bytes::new()))
        .unwrap();
    req.extensions_mut().insert(peer);
    let layer = AuditLayer::new()
        .trusted_proxies(["203.0.113.0/24"])
        .unwrap();
    let record = one_exchange(layer, req, "{}");
    assert_eq!(record["request_repr"]["client_ip"], "198.51.100.4");
}

/// Trusted proxies written as IPv4-mapped IPv6 (`::ffff:10.0.0.0/104`, as
/// a dual-stack host lists them): they are the IPv4 proxies they name, so
/// their forwarding header is believed, whichever way the peer shows.
#[test]
fn trusted_proxies_written_ipv4_mapped_are_trusted() {
    for (cidr, peer) in [
        ("::ffff:10.0.0.0/104", "10.0.0.5:443"),
        ("::ffff:10.0.0.0/104", "[::ffff:10.0.0.5]:443"),
        ("::ffff:10.0.0.5", "10.0.0.5:443"),
    ] {
        let peer: std::net::SocketAddr = peer.parse().unwrap();
        let mut req = Request::get("/x")
            .header("x-forwarded-for", "203.0.113.7")
            .body(Full::new(Bytes::new()))
            .unwrap();
        req.extensions_mut().insert(peer);
        let layer = AuditLayer::new().trusted_proxies([cidr]).unwrap();
        let record = one_exchange(layer, req, "{}");
        assert_eq!(
            record["request_repr"]["client_ip"], "203.0.113.7",
            "{cidr} {peer}"
        );
    }
}

/// A streaming response whose stream makes a record (an export that
/// records itself when its last rows go out, an SSE feed that records
/// what it sent): that code is the handler's, so its record carries the
/// request's id and user as the handler's own records do, though the
/// server polls the body after the handler has returned.
#[test]
fn records_made_while_the_response_body_streams_carry_the_request() {
    use futures_util::StreamExt;
    use http_body::Frame;
    use http_body_util::StreamBody;

    let logs = Logs::new();
    let svc = AuditLayer::new()
        .user_from(|_| Some("exporter-7".to_owned()))
        .layer(service_fn(
            |_req: Request<RequestBody<Full<Bytes>>>| async move {
                let rows = futures_util::stream::iter(0..3).map(|i| {
                    if i == 2 {
                        tracing_audit::create!(model: "Export", id: 1, extra: serde_json::json!({"rows": 3}));
                    }
                    Ok::<_, Infallible>(Frame::data(Bytes::from(format!("row {i}\n"))))
                });
                Ok::<_, Infallible>(Response::new(StreamBody::new(rows)))
            },
        ));
    let req = Request::get("/export")
        .header("x-request-id", "export-1")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = block_on(&logs, svc.oneshot(req)).unwrap();
    let body = block_on(&logs, response.into_body().collect()).unwrap();
    assert_eq!(body.to_bytes(), "row 0\nrow 1\nrow 2\n");
    let api = logs.records(Kind::Api);
    assert_eq!(api.len(), 1);
    assert_eq!(api[0]["request_id"], "export-1");
    let audit = logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1, "{audit:#?}");
    assert_eq!(audit[0]["request_id"], "export-1", "{:#?}", audit[0]);
    assert_eq!(audit[0]["user_id"], "exporter-7", "{:#?}", audit[0]);
}

/// A form body longer than the cap: what is kept is still a form, read as
/// one (percent-decoded, `+` as a space), so secrets a form encodes
/// (`session%5Fid`, a card number with `+` between its groups, a bearer
/// token after `Bearer+`) are found as in a whole form, not looked for in
/// the encoded text. The record says it was cut.
#[test]
fn a_form_body_cut_at_the_cap_is_redacted_as_a_form() {
    let body = format!(
        "user=bob&session%5Fid=s3ss-hunter2&card=4111+1111+1111+1111&note=Bearer+Zm9vYmFyLWh1bnRlcjItdG9rZW4tdmFsdWU&pad={}",
        "x".repeat(500)
    );
    let req = Request::post("/form")
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from(body)))
        .unwrap();
    let record = one_exchange(AuditLayer::new().body_limit(300), req, "{}");
    let text = all_text(&record);
    for secret in [
        "s3ss-hunter2",
        "4111",
        "Zm9vYmFyLWh1bnRlcjItdG9rZW4tdmFsdWU",
    ] {
        assert!(!text.contains(secret), "{secret}: {text}");
    }
    let kept = &record["request_repr"]["body"];
    assert_eq!(kept["user"], "bob", "{kept:?}");
    assert_eq!(record["request_repr"]["body_truncated"], true);
}
