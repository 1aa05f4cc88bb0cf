//! gRPC server streaming through the layer: the health service's `Watch`
//! (an endless stream) cancelled by its client, and a stream still open
//! when the server stops.
#![cfg(feature = "tonic")]

mod common;

use std::time::{Duration, Instant};

use common::records::{Logs, Record};
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Channel, Server};
use tonic_health::pb::health_client::HealthClient;
use tonic_health::pb::HealthCheckRequest;
use tracing_audit::http::AuditLayer;
use tracing_audit::Kind;

const WATCH: &str = "/grpc.health.v1.Health/Watch";

fn records(logs: &Logs, n: usize) -> Vec<Record> {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let records: Vec<Record> = logs
            .records(Kind::Api)
            .into_iter()
            .filter(|r| r["name"] == "audit.request")
            .collect();
        if records.len() >= n || Instant::now() > deadline {
            return records;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn a_watch_cancelled_by_its_client_is_one_aborted_record() {
    let logs = Logs::new();
    let dispatch = logs.dispatch.clone();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .on_thread_start(move || {
            // Kept for the thread's life.
            std::mem::forget(tracing::dispatcher::set_default(&dispatch));
        })
        .build()
        .unwrap();
    let (server, reporter, mut client) = runtime.block_on(async {
        let (reporter, health) = tonic_health::server::health_reporter();
        reporter
            .set_service_status("billing.Invoices", tonic_health::ServingStatus::Serving)
            .await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let serve = Server::builder()
            .layer(AuditLayer::new())
            .add_service(health)
            .serve_with_incoming(TcpIncoming::from(listener));
        let server = tokio::spawn(serve);
        let channel = Channel::from_shared(format!("http://{addr}"))
            .unwrap()
            .connect()
            .await
            .unwrap();
        let mut client = HealthClient::new(channel);
        let mut stream = client
            .watch(HealthCheckRequest {
                service: "billing.Invoices".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        let first = stream.message().await.unwrap().unwrap();
        assert_eq!(first.status, 1, "SERVING");
        reporter
            .set_service_status("billing.Invoices", tonic_health::ServingStatus::NotServing)
            .await;
        let second = stream.message().await.unwrap().unwrap();
        assert_eq!(second.status, 2, "NOT_SERVING");
        // The client cancels the stream.
        drop(stream);
        (server, reporter, client)
    });
    let found = records(&logs, 1);
    assert_eq!(found.len(), 1, "{found:#?}");
    let r = &found[0];
    assert_eq!(r["protocol"], "grpc");
    assert_eq!(r["request_repr"]["path"], WATCH);
    assert_eq!(r["aborted"], true, "{r:#?}");
    assert_eq!(r["response_repr"]["status_code"], 200);
    // Two messages of 7 bytes went out before the cancel.
    assert_eq!(r["response_size"], 14, "{r:#?}");
    // A second watch, still open when the server's runtime stops: its
    // record is made as the stream is dropped.
    let open = runtime.block_on(async {
        let mut stream = client
            .watch(HealthCheckRequest {
                service: "billing.Invoices".to_owned(),
            })
            .await
            .unwrap()
            .into_inner();
        stream.message().await.unwrap().unwrap();
        stream
    });
    assert_eq!(
        records(&logs, 1).len(),
        1,
        "the open watch has no record yet"
    );
    drop(reporter);
    server.abort();
    runtime.shutdown_timeout(Duration::from_secs(5));
    drop(open);
    drop(client);
    let found = records(&logs, 2);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[1]["aborted"], true);
    assert_ne!(found[0]["request_id"], found[1]["request_id"]);
}
