//! The load: a fixed set of keep-alive HTTP/1.1 connections, one request
//! in flight on each, alternating a JSON `POST /items` and a `GET
//! /items/{id}`, every request timed.

use std::io;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper::header::{CONTENT_TYPE, HOST};
use hyper::{Method, Request};
use hyper_util::rt::TokioIo;

/// The JSON every `POST` sends.
const ITEM: &[u8] = br#"{"name":"Desk lamp","price":12.99,"tags":["home","light"]}"#;

pub type Connection = SendRequest<Full<Bytes>>;

/// Opens `count` connections to `addr` (`TCP_NODELAY`, HTTP/1.1
/// keep-alive), driven by tasks of the current runtime.
pub async fn connect(addr: SocketAddr, count: usize) -> io::Result<Vec<Connection>> {
    let mut connections = Vec::with_capacity(count);
    for _ in 0..count {
        let stream = tokio::net::TcpStream::connect(addr).await?;
        stream.set_nodelay(true)?;
        let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(io::Error::other)?;
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                eprintln!("client connection: {e}");
            }
        });
        connections.push(sender);
    }
    Ok(connections)
}

/// What one load run saw.
#[derive(Default)]
pub struct Load {
    /// Requests answered with a 2xx status and a whole body.
    pub ok: u64,
    /// Requests that failed: an error status, a transport error, or a
    /// connection that could not take a request.
    pub failed: u64,
    /// From the first request sent to the last response read.
    pub elapsed: Duration,
    /// Each request's latency, in nanoseconds.
    pub latencies_ns: Vec<u32>,
}

impl Load {
    pub fn requests_per_second(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

/// Loads the server behind `connections` for `duration`: each connection
/// sends its next request as soon as the last one is answered. A
/// connection that fails stops and is not given back.
pub async fn run(
    addr: SocketAddr,
    connections: Vec<Connection>,
    duration: Duration,
) -> (Vec<Connection>, Load) {
    let host = addr.to_string();
    let start = Instant::now();
    let deadline = start + duration;
    let tasks: Vec<_> = connections
        .into_iter()
        .enumerate()
        .map(|(n, sender)| tokio::spawn(drive(sender, host.clone(), deadline, n as u64)))
        .collect();
    let mut kept = Vec::with_capacity(tasks.len());
    let mut load = Load::default();
    for task in tasks {
        match task.await {
            Ok((sender, part)) => {
                kept.extend(sender);
                load.ok += part.ok;
                load.failed += part.failed;
                load.latencies_ns.extend(part.latencies_ns);
            }
            Err(e) => {
                eprintln!("client task: {e}");
                load.failed += 1;
            }
        }
    }
    load.elapsed = start.elapsed();
    (kept, load)
}

async fn drive(
    mut sender: Connection,
    host: String,
    deadline: Instant,
    seed: u64,
) -> (Option<Connection>, Load) {
    let mut load = Load {
        latencies_ns: Vec::with_capacity(64 * 1024),
        ..Load::default()
    };
    let mut n = seed;
    while Instant::now() < deadline {
        n += 1;
        let request = if n.is_multiple_of(2) {
            Request::builder()
                .method(Method::POST)
                .uri("/items")
                .header(HOST, host.as_str())
                .header(CONTENT_TYPE, "application/json")
                .body(Full::new(Bytes::from_static(ITEM)))
        } else {
            Request::builder()
                .method(Method::GET)
                .uri(format!("/items/{n}"))
                .header(HOST, host.as_str())
                .body(Full::new(Bytes::new()))
        }
        .expect("a valid request");
        let sent = Instant::now();
        match exchange(&mut sender, request).await {
            Ok(()) => {
                let ns = sent.elapsed().as_nanos();
                load.latencies_ns
                    .push(u32::try_from(ns).unwrap_or(u32::MAX));
                load.ok += 1;
            }
            Err(e) => {
                eprintln!("request failed: {e}");
                load.failed += 1;
                if sender.is_closed() {
                    return (None, load);
                }
            }
        }
    }
    (Some(sender), load)
}

/// One request and its whole response; an error for a non-2xx status or
/// an empty body.
async fn exchange(sender: &mut Connection, request: Request<Full<Bytes>>) -> io::Result<()> {
    sender.ready().await.map_err(io::Error::other)?;
    let response = sender
        .send_request(request)
        .await
        .map_err(io::Error::other)?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(io::Error::other)?
        .to_bytes();
    if !status.is_success() {
        return Err(io::Error::other(format!("status {status}")));
    }
    if body.is_empty() {
        return Err(io::Error::other("empty body"));
    }
    Ok(())
}
