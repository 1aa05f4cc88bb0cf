//! Failures of the inner service, in process (no network): an `Err` is
//! recorded with its message and returned unchanged; a panic in `call` or
//! while polling is answered with an empty 500 and recorded with the
//! panic's message. And gRPC: status and message from the trailers, or
//! from the headers of a trailers-only answer; bodies as binary.
#![cfg(feature = "http")]

mod common;

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use common::records::{check_envelope, Logs, Record};
use http::{HeaderMap, Request, Response, StatusCode};
use http_body::Frame;
use http_body_util::{BodyExt, Full, StreamBody};
use serde_json::Value;
use tower::{service_fn, Layer, Service, ServiceExt};
use tracing_audit::http::{AuditLayer, RequestBody};
use tracing_audit::Kind;

/// Runs `f` on a current-thread runtime with the layer's subscriber.
fn block_on<F: Future>(logs: &Logs, f: F) -> F::Output {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    logs.run(|| rt.block_on(f))
}

fn request(path: &str) -> Request<Full<Bytes>> {
    Request::builder()
        .uri(path)
        .header("x-request-id", "r-1")
        .body(Full::new(Bytes::from_static(b"hello")))
        .unwrap()
}

fn one_record(logs: &Logs) -> Record {
    let records = logs.records(Kind::Api);
    assert_eq!(records.len(), 1, "{records:#?}");
    check_envelope(&records[0], Some("API"));
    records[0].clone()
}

#[test]
fn an_inner_error_is_recorded_and_returned_unchanged() {
    let logs = Logs::new();
    let svc = AuditLayer::new().layer(service_fn(
        |_req: Request<RequestBody<Full<Bytes>>>| async {
            Err::<Response<Full<Bytes>>, _>(std::io::Error::other(
                "backend refused: password=hunter2",
            ))
        },
    ));
    let err = block_on(&logs, svc.oneshot(request("/x"))).unwrap_err();
    assert_eq!(err.to_string(), "backend refused: password=hunter2");
    let r = one_record(&logs);
    assert_eq!(r["error_message"], "backend refused: password=[REDACTED]");
    assert_eq!(r["response_repr"]["status_code"], Value::Null);
    assert_eq!(r["request_id"], "r-1");
    assert!(!std::fs::read_to_string(logs.path(Kind::Api))
        .unwrap()
        .contains("hunter2"));
}

/// A service whose `call` itself panics.
#[derive(Clone)]
struct PanicsInCall;

impl<B> Service<Request<B>> for PanicsInCall {
    type Response = Response<Full<Bytes>>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Self::Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, _: Request<B>) -> Self::Future {
        panic!("call blew up")
    }
}

#[test]
fn a_panic_in_call_or_in_the_future_is_a_recorded_500() {
    let logs = Logs::new();
    let svc = AuditLayer::new().layer(PanicsInCall);
    let response = block_on(&logs, svc.oneshot(request("/a"))).unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(response.headers()["x-request-id"], "r-1");
    let body = block_on(&logs, response.into_body().collect())
        .unwrap()
        .to_bytes();
    assert!(body.is_empty());
    let r = one_record(&logs);
    assert_eq!(r["response_repr"]["status_code"], 500);
    assert!(
        r["error_message"]
            .as_str()
            .unwrap()
            .contains("call blew up"),
        "{r:?}"
    );

    let logs = Logs::new();
    let svc = AuditLayer::new().layer(service_fn(
        |_req: Request<RequestBody<Full<Bytes>>>| async {
            if true {
                panic!("future blew up");
            }
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        },
    ));
    let response = block_on(&logs, svc.oneshot(request("/b"))).unwrap();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let r = one_record(&logs);
    assert!(
        r["error_message"]
            .as_str()
            .unwrap()
            .contains("future blew up"),
        "{r:?}"
    );
}

#[test]
fn a_head_or_304_answer_dropped_unread_is_not_aborted() {
    for (method, status) in [("HEAD", 200), ("GET", 304), ("GET", 200)] {
        let logs = Logs::new();
        let svc = AuditLayer::new().layer(service_fn(
            move |_req: Request<RequestBody<Full<Bytes>>>| async move {
                let mut res = Response::new(Full::new(Bytes::from_static(b"{\"a\":1}")));
                *res.status_mut() = StatusCode::from_u16(status).unwrap();
                Ok::<_, Infallible>(res)
            },
        ));
        let mut req = request("/items/1");
        *req.method_mut() = method.parse().unwrap();
        // The server drops the body without polling it, as hyper does for
        // HEAD and 304.
        block_on(&logs, async { drop(svc.oneshot(req).await.unwrap()) });
        let r = one_record(&logs);
        let aborted = method == "GET" && status == 200;
        assert_eq!(r["aborted"], aborted, "{method} {status}: {r:?}");
    }
}

#[test]
fn a_response_future_dropped_before_it_is_ready_leaves_an_aborted_record() {
    let logs = Logs::new();
    let mut svc = AuditLayer::new().layer(service_fn(
        |_req: Request<RequestBody<Full<Bytes>>>| async {
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        },
    ));
    let future = logs.run(|| svc.call(request("/slow")));
    // Polled once (pending), then dropped: the client went away.
    assert!(block_on(&logs, async {
        futures_util::FutureExt::now_or_never(future)
    })
    .is_none());
    let r = one_record(&logs);
    assert_eq!(r["aborted"], true);
    assert_eq!(r["response_repr"]["status_code"], Value::Null);
    assert_eq!(r["request_repr"]["path"], "/slow");
    assert_eq!(r["request_id"], "r-1");
}

type Frames = futures_util::stream::Iter<std::vec::IntoIter<Result<Frame<Bytes>, Infallible>>>;

/// A gRPC-like service: one length-prefixed message, then the trailers.
fn grpc_service(
    trailers: Option<HeaderMap>,
    header_status: Option<&'static str>,
) -> impl Service<
    Request<RequestBody<Full<Bytes>>>,
    Response = Response<StreamBody<Frames>>,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    service_fn(move |req: Request<RequestBody<Full<Bytes>>>| {
        let trailers = trailers.clone();
        async move {
            // The handler reads the request like tonic would.
            let got = req.into_body().collect().await.unwrap().to_bytes();
            assert_eq!(&got[..], b"\0\0\0\0\x03abc");
            let mut frames = vec![Ok(Frame::data(Bytes::from_static(b"\0\0\0\0\x02\x08\x01")))];
            if let Some(t) = trailers {
                frames.push(Ok(Frame::trailers(t)));
            }
            let mut response = Response::new(StreamBody::new(futures_util::stream::iter(frames)));
            response
                .headers_mut()
                .insert("content-type", "application/grpc".parse().unwrap());
            if let Some(status) = header_status {
                response
                    .headers_mut()
                    .insert("grpc-status", status.parse().unwrap());
                response
                    .headers_mut()
                    .insert("grpc-message", "no%20such%20service".parse().unwrap());
            }
            Ok::<_, Infallible>(response)
        }
    })
}

fn grpc_request() -> Request<Full<Bytes>> {
    Request::builder()
        .method("POST")
        .uri("/grpc.health.v1.Health/Check")
        .header("content-type", "application/grpc")
        .header("te", "trailers")
        .body(Full::new(Bytes::from_static(b"\0\0\0\0\x03abc")))
        .unwrap()
}

#[test]
fn grpc_status_comes_from_the_trailers_and_bodies_are_binary() {
    let logs = Logs::new();
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", "0".parse().unwrap());
    let svc = AuditLayer::new().layer(grpc_service(Some(trailers), None));
    let response = block_on(&logs, svc.oneshot(grpc_request())).unwrap();
    let collected = block_on(&logs, response.into_body().collect()).unwrap();
    assert_eq!(collected.trailers().unwrap()["grpc-status"], "0");
    let r = one_record(&logs);
    assert_eq!(r["protocol"], "grpc");
    assert_eq!(r["request_repr"]["path"], "/grpc.health.v1.Health/Check");
    assert_eq!(r["request_repr"]["body"], "[binary 8 bytes]");
    assert_eq!(r["response_repr"]["body"], "[binary 7 bytes]");
    assert_eq!(r["response_repr"]["grpc_status"], "0");
    assert_eq!(r["error_message"], Value::Null);
    assert_eq!(r["aborted"], false);
}

#[test]
fn a_trailers_only_grpc_error_is_recorded_with_its_status_and_message() {
    let logs = Logs::new();
    let svc = AuditLayer::new().layer(grpc_service(None, Some("5")));
    let response = block_on(&logs, svc.oneshot(grpc_request())).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let r = one_record(&logs);
    assert_eq!(r["protocol"], "grpc");
    assert_eq!(r["response_repr"]["grpc_status"], "5");
    // Percent-encoded on the wire; recorded as the service wrote it.
    assert_eq!(r["response_repr"]["grpc_message"], "no such service");
    assert_eq!(r["error_message"], "grpc-status 5: no such service");
}

#[test]
fn a_percent_encoded_grpc_message_in_the_trailers_is_decoded() {
    let logs = Logs::new();
    let mut trailers = HeaderMap::new();
    trailers.insert("grpc-status", "9".parse().unwrap());
    // "café fermé: 100% full" as gRPC puts it on the wire.
    trailers.insert(
        "grpc-message",
        "caf%C3%A9%20ferm%C3%A9:%20100%25%20full".parse().unwrap(),
    );
    let svc = AuditLayer::new().layer(grpc_service(Some(trailers), None));
    let response = block_on(&logs, svc.oneshot(grpc_request())).unwrap();
    block_on(&logs, response.into_body().collect()).unwrap();
    let r = one_record(&logs);
    assert_eq!(r["response_repr"]["grpc_status"], "9");
    assert_eq!(
        r["response_repr"]["grpc_message"],
        "caf\u{e9} ferm\u{e9}: 100% full"
    );
    assert_eq!(
        r["error_message"],
        "grpc-status 9: caf\u{e9} ferm\u{e9}: 100% full"
    );
}

/// What the handler holds panics when it is dropped (an assertion guard
/// that insists on being finished), and the client goes away mid-handler:
/// the panic goes on to whoever dropped the future (the server's task),
/// and the request is still recorded, aborted.
#[test]
fn a_handler_whose_drop_panics_when_abandoned_still_leaves_its_record() {
    struct MustFinish;
    impl Drop for MustFinish {
        fn drop(&mut self) {
            if !std::thread::panicking() {
                panic!("MustFinish dropped before the work was done");
            }
        }
    }
    let logs = Logs::new();
    let mut svc = AuditLayer::new().layer(service_fn(
        |_req: Request<RequestBody<Full<Bytes>>>| async {
            let _guard = MustFinish;
            std::future::pending::<()>().await;
            Ok::<_, Infallible>(Response::new(Full::new(Bytes::new())))
        },
    ));
    let future = logs.run(|| svc.call(request("/guarded")));
    let dropped = block_on(&logs, async {
        let mut future = Box::pin(future);
        assert!(futures_util::poll!(future.as_mut()).is_pending());
        // The client went away: the server drops the future.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || drop(future)))
    });
    assert!(dropped.is_err(), "the handler's own panic goes on");
    let r = one_record(&logs);
    assert_eq!(r["aborted"], true);
    assert_eq!(r["request_repr"]["path"], "/guarded");
    assert_eq!(
        r["error_message"],
        "[panicked: MustFinish dropped before the work was done]"
    );
}
