//! gRPC through the HTTP layer: a real tonic service (the standard health
//! service, from `tonic-health`, whose generated code needs no protoc)
//! behind `AuditLayer`, called over loopback with its generated client.
#![cfg(feature = "tonic")]

mod common;

use common::records::{Logs, Record};
use serde_json::Value;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tracing_audit::http::AuditLayer;
use tracing_audit::Kind;

const CHECK: &str = "/grpc.health.v1.Health/Check";

/// Serves the health service behind the layer on 127.0.0.1:0 and makes
/// `calls` (service name, expected status) through the generated client,
/// all on the test's thread under `logs`' subscriber. Returns the
/// `audit.request` records.
fn serve_and_call(
    logs: &Logs,
    calls: &[(&str, Result<ServingStatus, tonic::Code>)],
) -> Vec<Record> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    logs.run(|| {
        runtime.block_on(async {
            let (reporter, health) = tonic_health::server::health_reporter();
            reporter
                .set_service_status("billing.Invoices", tonic_health::ServingStatus::Serving)
                .await;
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let addr = listener.local_addr().unwrap();
            let server = tokio::spawn(
                Server::builder()
                    .layer(AuditLayer::new())
                    .add_service(health)
                    .serve_with_incoming(TcpIncoming::from(listener)),
            );
            let channel = Channel::from_shared(format!("http://{addr}"))
                .unwrap()
                .connect()
                .await
                .unwrap();
            let mut client = HealthClient::new(channel);
            for (service, expected) in calls {
                let answer = client
                    .check(HealthCheckRequest {
                        service: (*service).to_owned(),
                    })
                    .await;
                match (answer, expected) {
                    (Ok(response), Ok(status)) => {
                        assert_eq!(response.into_inner().status, *status as i32)
                    }
                    (Err(status), Err(code)) => assert_eq!(status.code(), *code),
                    (answer, expected) => panic!("{service}: {answer:?}, expected {expected:?}"),
                }
            }
            drop(client);
            server.abort();
            let _ = server.await;
        })
    });
    drop(runtime);
    logs.records(Kind::Api)
        .into_iter()
        .filter(|r| r["name"] == "audit.request")
        .collect()
}

fn repr<'a>(record: &'a Record, side: &str, key: &str) -> &'a Value {
    &record[side][key]
}

#[test]
fn a_health_check_is_one_grpc_record_with_its_status() {
    let logs = Logs::new();
    let records = serve_and_call(&logs, &[("billing.Invoices", Ok(ServingStatus::Serving))]);
    assert_eq!(records.len(), 1, "{records:#?}");
    let r = &records[0];
    assert_eq!(r["level"], "API");
    assert_eq!(r["request_type"], "internal");
    assert_eq!(r["protocol"], "grpc");
    assert_eq!(repr(r, "request_repr", "method"), "POST");
    assert_eq!(repr(r, "request_repr", "path"), CHECK);
    // From the `TcpConnectInfo` tonic puts in the request's extensions.
    assert_eq!(repr(r, "request_repr", "client_ip"), "127.0.0.1");
    assert_eq!(repr(r, "response_repr", "status_code"), 200);
    // The status of a gRPC call is in the trailers, not the HTTP status.
    assert_eq!(repr(r, "response_repr", "grpc_status"), "0");
    assert_eq!(r["error_message"], Value::Null);
    // Protobuf bodies are not text: their size only. The request is the
    // 5-byte gRPC frame header and "billing.Invoices" (2 + 16 bytes); the
    // answer, the header and `status: SERVING` (2 bytes).
    assert_eq!(repr(r, "request_repr", "body"), "[binary 23 bytes]");
    assert_eq!(repr(r, "response_repr", "body"), "[binary 7 bytes]");
    assert!(r["request_id"].as_str().is_some_and(|id| !id.is_empty()));
    assert!(r["execution_time"].as_f64().is_some_and(|t| t >= 0.0));
}

#[test]
fn a_failed_call_has_its_grpc_status_and_message() {
    let logs = Logs::new();
    let records = serve_and_call(
        &logs,
        &[
            ("billing.Invoices", Ok(ServingStatus::Serving)),
            ("no.such.Service", Err(tonic::Code::NotFound)),
        ],
    );
    assert_eq!(records.len(), 2, "{records:#?}");
    let failed = &records[1];
    assert_eq!(failed["protocol"], "grpc");
    assert_eq!(repr(failed, "request_repr", "path"), CHECK);
    // HTTP says 200; gRPC says NOT_FOUND (5), with the service's message.
    assert_eq!(repr(failed, "response_repr", "status_code"), 200);
    assert_eq!(repr(failed, "response_repr", "grpc_status"), "5");
    let message = repr(failed, "response_repr", "grpc_message");
    assert!(
        message.as_str().is_some_and(|m| !m.is_empty()),
        "grpc_message: {message}"
    );
    let error = failed["error_message"].as_str().unwrap_or_default();
    assert!(error.contains('5'), "error_message: {error:?}");
    // Each call has its own request id.
    assert_ne!(records[0]["request_id"], failed["request_id"]);
}
