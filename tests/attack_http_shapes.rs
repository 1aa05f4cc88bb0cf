//! The inbound layer attacked a third time: bodies whose shape hides a
//! secret from the scanner (a byte-order mark, another charset, bytes
//! that are not UTF-8, a top-level string, repeated keys, numbers), secrets
//! in the values of headers no list names.
#![cfg(feature = "http")]

mod common;

use std::convert::Infallible;
use std::future::Future;

use bytes::Bytes;
use common::records::{check_envelope, Logs, Record};
use http::{HeaderValue, Request, Response};
use http_body_util::{BodyExt, Full};
use tower::{service_fn, Layer, ServiceExt};
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_audit::Kind;

const JWT: &str = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLW9mLWEtand0";

fn block_on<F: Future>(logs: &Logs, f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    logs.run(|| rt.block_on(f))
}

/// `body` (as `content_type`) through the layer to a service that reads
/// it and answers `answer` as `answer_type`; the one record it leaves.
fn exchange(
    content_type: &str,
    body: Vec<u8>,
    headers: &[(&str, &str)],
    answer_type: &'static str,
    answer: Vec<u8>,
) -> Record {
    let logs = Logs::new();
    let svc = AuditLayer::new().layer(service_fn(move |req: Request<RequestBody<Full<Bytes>>>| {
        let answer = answer.clone();
        async move {
            let _ = req.into_body().collect().await;
            let mut res = Response::new(Full::new(Bytes::from(answer)));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static(answer_type));
            Ok::<_, Infallible>(res)
        }
    }));
    let mut req = Request::post("/x").header("content-type", content_type);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let req = req.body(Full::new(Bytes::from(body))).unwrap();
    let response = block_on(&logs, svc.oneshot(req)).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 1, "one record");
    check_envelope(&records[0], Some("API"));
    records[0].clone()
}

fn text(record: &Record) -> String {
    serde_json::to_string(record).unwrap()
}

/// The record with the NULs of UTF-16 text taken out, as a reader
/// decoding it would see it.
fn without_nuls(record: &Record) -> String {
    text(record).replace("\\u0000", "")
}

fn utf16le(s: &str) -> Vec<u8> {
    s.encode_utf16().flat_map(u16::to_le_bytes).collect()
}

/// UTF-16 text (declared by its charset, or not at all) is valid UTF-8
/// with a NUL between the letters: the scanner saw no `password` key and
/// no token, and the secret reached the file letter by letter, readable
/// by anyone who drops the NULs. Such a body is recorded by its size.
#[test]
fn utf16_bodies_are_not_written_letter_by_letter() {
    for (content_type, body) in [
        (
            "application/json; charset=utf-16le",
            r#"{"password":"hunter2-sixteen"}"#,
        ),
        ("text/plain; charset=utf-16", "password=hunter2-sixteen"),
        ("text/plain", "Authorization: Bearer hunter2-sixteen"),
        (
            "application/x-www-form-urlencoded",
            "password=hunter2-sixteen",
        ),
    ] {
        let bytes = utf16le(body);
        let size = bytes.len();
        let record = exchange(content_type, bytes, &[], "application/json", b"{}".to_vec());
        assert!(
            !without_nuls(&record).contains("hunter2"),
            "{content_type}: {}",
            text(&record)
        );
        assert_eq!(
            record["request_repr"]["body"],
            format!("[binary {size} bytes]"),
            "{content_type}"
        );
        // The answer in UTF-16 too.
        let record = exchange(
            "application/json",
            b"{}".to_vec(),
            &[],
            "text/plain; charset=utf-16le",
            utf16le(body),
        );
        assert!(
            !without_nuls(&record).contains("hunter2"),
            "{}",
            text(&record)
        );
    }
}

/// Shapes that a scanner could miss but does not (kept as guards): a
/// byte-order mark before JSON, JSON that is not UTF-8, a top-level JSON
/// string holding a JWT, a key given twice, secret numbers under secret
/// keys, credentials in headers no list names, in a `Location` and a
/// `Refresh` of the answer.
#[test]
fn bodies_and_headers_shaped_to_hide_a_secret_still_have_it_masked() {
    let mut bom = "\u{feff}".as_bytes().to_vec();
    bom.extend_from_slice(br#"{"password":"hunter2-bom","user":"bob"}"#);
    let mut bad = br#"{"password":"hunter2-bad"#.to_vec();
    bad.push(0xff);
    bad.extend_from_slice(br#"","note":"x"}"#);
    let cases: Vec<(Vec<u8>, Vec<u8>)> = vec![
        (bom, b"{}".to_vec()),
        (bad, b"{}".to_vec()),
        (
            format!("\"{JWT}\"").into_bytes(),
            format!("\"Bearer {JWT}\"").into_bytes(),
        ),
        (
            br#"{"password":"hunter2-a","password":"hunter2-b","Password":"hunter2-c"}"#.to_vec(),
            b"{}".to_vec(),
        ),
        (
            br#"{"pin":918273,"cvv":737,"otp":554433,"card_number":4111111111111111}"#.to_vec(),
            b"{}".to_vec(),
        ),
    ];
    for (body, answer) in cases {
        let record = exchange("application/json", body, &[], "application/json", answer);
        let t = text(&record);
        for secret in [
            "hunter2",
            "eyJzdWIi",
            "918273",
            "554433",
            "4111111111111111",
        ] {
            assert!(!t.contains(secret), "{secret}: {t}");
        }
    }
    let record = exchange(
        "application/json",
        b"{}".to_vec(),
        &[
            ("x-debug", "postgres://app:hunter2-pg@db/shop"),
            ("x-custom", &format!("Bearer {JWT}")),
            ("x-trace-ctx", &format!("token={JWT}")),
            ("x-upstream", "redis://:hunter2-redis@cache:6379/0"),
        ],
        "application/json",
        b"{}".to_vec(),
    );
    let t = text(&record);
    assert!(!t.contains("hunter2") && !t.contains("eyJzdWIi"), "{t}");

    let logs = Logs::new();
    let svc = AuditLayer::new().layer(service_fn(
        move |_req: Request<RequestBody<Full<Bytes>>>| async move {
            let mut res = Response::new(Full::new(Bytes::new()));
            *res.status_mut() = http::StatusCode::FOUND;
            let location = format!(
                "https://bob:hunter2-loc@idp.example/cb?code=abc&access_token=hunter2-tok#id_token={JWT}"
            );
            res.headers_mut()
                .insert("location", HeaderValue::from_str(&location).unwrap());
            res.headers_mut().insert(
                "refresh",
                HeaderValue::from_static("0; url=/next?token=hunter2-refresh"),
            );
            Ok::<_, Infallible>(res)
        },
    ));
    let req = Request::get("/login")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = block_on(&logs, svc.oneshot(req)).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 1);
    let t = text(&records[0]);
    assert!(!t.contains("hunter2") && !t.contains("eyJzdWIi"), "{t}");
}

/// A trailers-only gRPC error (status and message in the headers) had its
/// `grpc-message` header recorded as sent, percent-encoded, where the
/// scanner does not see `Bearer%20<token>`: the token reached the file
/// beside the redacted `grpc_message`. The header is recorded decoded, as
/// `grpc_message` is, and redacted alike.
#[test]
fn a_grpc_message_in_the_headers_is_redacted_as_the_grpc_message_is() {
    for trailers_only in [true, false] {
        let logs = Logs::new();
        let svc = AuditLayer::new().layer(service_fn(
            move |_req: Request<RequestBody<Full<Bytes>>>| async move {
                let body = if trailers_only {
                    Bytes::new()
                } else {
                    Bytes::from_static(b"\0\0\0\0\x00")
                };
                let mut res = Response::new(Full::new(body));
                let h = res.headers_mut();
                h.insert("content-type", HeaderValue::from_static("application/grpc"));
                h.insert("grpc-status", HeaderValue::from_static("16"));
                h.insert(
                    "grpc-message",
                    HeaderValue::from_static(
                        "bad%20credentials%3A%20password%3Dhunter2-grpc%20Bearer%20hunter2-bearer%20postgres%3A%2F%2Fu%3Ahunter2-pg%40db",
                    ),
                );
                Ok::<_, Infallible>(res)
            },
        ));
        let req = Request::post("/pkg.Svc/Do")
            .header("content-type", "application/grpc")
            .body(Full::new(Bytes::new()))
            .unwrap();
        let response = block_on(&logs, svc.oneshot(req)).unwrap();
        block_on(&logs, response.into_body().collect()).unwrap();
        let records = logs.records(Kind::Api);
        assert_eq!(records.len(), 1);
        let t = text(&records[0]);
        assert!(!t.contains("hunter2"), "{t}");
        let message = &records[0]["response_repr"]["grpc_message"];
        assert_eq!(
            records[0]["response_repr"]["headers"]["grpc-message"],
            *message
        );
        assert!(message
            .as_str()
            .is_some_and(|m| m.starts_with("bad credentials: ")));
    }
}

/// A `user_from` that hands back the credentials, a handler's
/// `set_user` with a token, a client's request id that is a token: all
/// masked (a guard).
#[test]
fn users_and_request_ids_that_are_credentials_are_masked() {
    let logs = Logs::new();
    let layer = AuditLayer::new().user_from(|p| {
        p.headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    });
    let svc = layer.layer(service_fn(
        move |_req: Request<RequestBody<Full<Bytes>>>| async move {
            tracing_audit::set_user("Bearer hunter2-setuser");
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        },
    ));
    let req = Request::get("/u")
        .header("authorization", format!("Bearer {JWT}"))
        .header("x-request-id", "ghp_0123456789abcdefghijABCDEFGHIJ012345")
        .body(Full::new(Bytes::new()))
        .unwrap();
    let response = block_on(&logs, svc.oneshot(req)).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let records = logs.records(Kind::Api);
    let t = text(&records[0]);
    eprintln!("{t}");
    assert!(
        !t.contains("hunter2") && !t.contains("eyJzdWIi") && !t.contains("ghp_0123456789abcdef"),
        "{t}"
    );
}

/// Text bodies of other kinds carrying secrets: GraphQL arguments, a
/// bare JWT, NDJSON, YAML, dotenv lines (a guard: all masked).
#[test]
fn text_bodies_of_other_kinds_have_their_secrets_masked() {
    for (ct, body) in [
        (
            "application/graphql",
            "mutation { login(username: \"bob\", password: \"hunter2-gql\") { token } }",
        ),
        (
            "application/json",
            "{\"query\":\"mutation { login(password: \\\"hunter2-gqlj\\\") }\"}",
        ),
        (
            "text/plain",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJtYWxsb3J5In0.c2lnbmF0dXJlLW9mLWEtand0",
        ),
        (
            "application/x-ndjson",
            "{\"password\":\"hunter2-nd1\"}\n{\"token\":\"hunter2-nd2\"}\n",
        ),
        ("application/yaml", "db:\n  password: hunter2-yaml\n"),
        ("text/plain", "PASSWORD=hunter2-env\nAPI_KEY=hunter2-env2\n"),
    ] {
        let r = exchange(
            ct,
            body.as_bytes().to_vec(),
            &[],
            "application/json",
            b"{}".to_vec(),
        );
        let t = text(&r);
        assert!(
            !t.contains("hunter2") && !t.contains("eyJzdWIi"),
            "{ct}: {t}"
        );
    }
}

/// Secrets in the path (a Java matrix session id, key=value in a
/// segment, a token-shaped segment) and after a `;` in the query (a
/// guard: all masked).
#[test]
fn secrets_in_the_path_and_after_a_semicolon_are_masked() {
    let logs = Logs::new();
    let svc = AuditLayer::new().layer(service_fn(
        move |_req: Request<RequestBody<Full<Bytes>>>| async move {
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        },
    ));
    for uri in [
        "/login;jsessionid=HUNTER2SESSION0123",
        "/a?x=1;password=hunter2-semi",
        "/reset/token=hunter2-path",
        "/hooks/sk_live_51Hunter2abcdefghijklmnopqrstuv",
    ] {
        let req = Request::get(uri).body(Full::new(Bytes::new())).unwrap();
        let response = block_on(&logs, svc.clone().oneshot(req)).unwrap();
        block_on(&logs, response.into_body().collect()).unwrap();
    }
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 4);
    for r in &records {
        let t = text(r);
        assert!(!t.to_lowercase().contains("hunter2"), "{t}");
    }
}
