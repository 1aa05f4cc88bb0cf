//! A real axum server on 127.0.0.1:0 behind `tracing_audit::http::AuditLayer`,
//! whose records the crate's real layer writes to files (see
//! `common::records::Logs`), and a real `reqwest` client.
#![allow(dead_code, unreachable_pub)]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use axum::Router;
use serde_json::Value;
use tracing_audit::Kind;

use crate::common::records::{Logs, Record};

/// A server and the files its records go to.
pub struct Server {
    pub logs: Logs,
    pub runtime: tokio::runtime::Runtime,
    pub addr: SocketAddr,
    pub client: reqwest::Client,
}

impl Server {
    /// Serves `app` (with `ConnectInfo<SocketAddr>`), the layer's
    /// subscriber the default on every runtime thread.
    pub fn start(logs: Logs, app: Router) -> Server {
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
        let listener = runtime
            .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
            .unwrap();
        let addr = listener.local_addr().unwrap();
        runtime.spawn(async move {
            axum::serve(
                listener,
                app.into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
            .unwrap();
        });
        Server {
            logs,
            runtime,
            addr,
            client: reqwest::Client::new(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Runs a client future to its end.
    pub fn run<F: std::future::Future>(&self, f: F) -> F::Output {
        self.runtime.block_on(f)
    }

    /// The request records once there are at least `n` (waiting for the
    /// ones made when a connection closes), at most 20 s.
    pub fn wait_records(&self, n: usize) -> Vec<Record> {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let records = self.logs.records(Kind::Api);
            if records.len() >= n || Instant::now() > deadline {
                return records;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Every byte of every file the layer wrote.
    pub fn all_files(&self) -> String {
        self.logs.guard.flush().unwrap();
        let mut all = String::new();
        for entry in std::fs::read_dir(self.logs.dir.path()).unwrap() {
            let path = entry.unwrap().path();
            all.push_str(&String::from_utf8_lossy(&std::fs::read(path).unwrap()));
        }
        all
    }
}

/// The record of the request with this `x-request-id`.
pub fn by_request_id<'a>(records: &'a [Record], id: &str) -> &'a Record {
    let found: Vec<&Record> = records
        .iter()
        .filter(|r| r.get("request_id").and_then(Value::as_str) == Some(id))
        .collect();
    assert_eq!(found.len(), 1, "one record for {id}: {records:#?}");
    found[0]
}

/// `record[a][b]…`.
pub fn at<'a>(record: &'a Record, path: &[&str]) -> &'a Value {
    let mut v = record.get(path[0]).unwrap_or(&Value::Null);
    for key in &path[1..] {
        v = v.get(key).unwrap_or(&Value::Null);
    }
    v
}
