//! The client address: the connection's peer; `X-Forwarded-For` and
//! `Forwarded` believed only from a trusted proxy.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::routing::get;
use axum::Router;
use common::records::Logs;
use http_support::{at, by_request_id, Server};
use tracing_audit::http::{AuditLayer, ProxyHeader};

fn serve(layer: AuditLayer) -> Server {
    let app = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(layer);
    Server::start(Logs::new(), app)
}

fn send(server: &Server, id: &str, headers: &[(&str, &str)]) {
    let mut request = server
        .client
        .get(server.url("/"))
        .header("x-request-id", id);
    for (k, v) in headers {
        request = request.header(*k, *v);
    }
    let r = server.run(request.send()).unwrap();
    server.run(r.text()).unwrap();
}

#[test]
fn spoofed_forwarding_headers_from_an_untrusted_peer_are_ignored() {
    // The peer (127.0.0.1) is not trusted: only 10.0.0.0/8 is.
    let server = serve(AuditLayer::new().trusted_proxies(["10.0.0.0/8"]).unwrap());
    send(&server, "xff", &[("x-forwarded-for", "203.0.113.66")]);
    send(&server, "fwd", &[("forwarded", "for=203.0.113.66")]);
    let records = server.wait_records(2);
    for id in ["xff", "fwd"] {
        assert_eq!(
            at(by_request_id(&records, id), &["request_repr", "client_ip"]),
            "127.0.0.1"
        );
    }
}

#[test]
fn forwarding_headers_from_a_trusted_proxy_are_honoured() {
    let server = serve(
        AuditLayer::new()
            .trusted_proxies(["127.0.0.1/32", "10.0.0.0/8"])
            .unwrap(),
    );
    send(&server, "one", &[("x-forwarded-for", "203.0.113.9")]);
    // Walked from the right past every trusted hop; the spoofed left part
    // is not reached.
    send(
        &server,
        "chain",
        &[("x-forwarded-for", "6.6.6.6, 198.51.100.4, 10.1.2.3")],
    );
    // A client's own `Forwarded` passed on by an X-Forwarded-For proxy
    // chooses nothing.
    send(
        &server,
        "fwd-spoof",
        &[
            ("forwarded", "for=203.0.113.66"),
            ("x-forwarded-for", "198.51.100.8"),
        ],
    );
    send(&server, "garbage", &[("x-forwarded-for", "not-an-address")]);
    let records = server.wait_records(4);
    let ip = |id| at(by_request_id(&records, id), &["request_repr", "client_ip"]).clone();
    assert_eq!(ip("one"), "203.0.113.9");
    assert_eq!(ip("chain"), "198.51.100.4");
    assert_eq!(ip("fwd-spoof"), "198.51.100.8");
    assert_eq!(ip("garbage"), "127.0.0.1");
}

#[test]
fn forwarded_is_read_only_when_configured() {
    let server = serve(
        AuditLayer::new()
            .trusted_proxies(["127.0.0.1/32"])
            .unwrap()
            .proxy_header(ProxyHeader::Forwarded),
    );
    send(
        &server,
        "fwd",
        &[
            ("forwarded", "for=\"[2001:db8::7]:4711\""),
            ("x-forwarded-for", "6.6.6.6"),
        ],
    );
    let records = server.wait_records(1);
    let ip = at(
        by_request_id(&records, "fwd"),
        &["request_repr", "client_ip"],
    )
    .clone();
    assert_eq!(ip, "2001:db8::7");
}

#[test]
fn a_bad_cidr_is_a_clear_error() {
    let err = AuditLayer::new()
        .trusted_proxies(["10.0.0.0/8", "10.0.0.0/40"])
        .unwrap_err();
    assert!(matches!(err, tracing_audit::Error::TrustedProxy(_)));
    assert!(err.to_string().contains("10.0.0.0/40"), "{err}");
}
