//! One `audit.request` record per request through a real axum server:
//! GET, JSON POST, PUT, DELETE, 404, a handler's error, a 500 and a panic,
//! each with its status, bodies and timing; the handler's CRUD records
//! carry the request's id and the user an auth middleware set.
#![cfg(feature = "axum")]

mod common;
mod http_support;

use axum::extract::{Path, Request};
use axum::http::StatusCode;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use common::records::{check_envelope, Logs};
use http_support::{at, by_request_id, Server};
use serde_json::{json, Value};
use tracing_audit::http::AuditLayer;
use tracing_audit::Kind;

async fn auth(req: Request, next: Next) -> Response {
    if let Some(user) = req.headers().get("x-user").and_then(|v| v.to_str().ok()) {
        tracing_audit::set_user(user);
    }
    next.run(req).await
}

fn app() -> Router {
    Router::new()
        .route(
            "/items/{id}",
            get(|Path(id): Path<u64>| async move {
                tracing_audit::read!(model: "Item", id: id);
                Json(json!({"id": id, "name": "lamp"}))
            })
            .put(|Path(id): Path<u64>, Json(body): Json<Value>| async move {
                tracing_audit::update!(model: "Item", id: id);
                Json(json!({"id": id, "updated": body}))
            })
            .delete(|Path(id): Path<u64>| async move {
                tracing_audit::delete!(model: "Item", id: id);
                StatusCode::NO_CONTENT
            }),
        )
        .route(
            "/items",
            axum::routing::post(|Json(body): Json<Value>| async move {
                tracing_audit::create!(model: "Item", id: 7, instance: body);
                (StatusCode::CREATED, Json(json!({"id": 7})))
            }),
        )
        .route(
            "/invalid",
            axum::routing::post(|| async {
                (StatusCode::UNPROCESSABLE_ENTITY, "name is required")
            }),
        )
        .route(
            "/broken",
            get(|| async { (StatusCode::INTERNAL_SERVER_ERROR, "database down") }),
        )
        .route(
            "/panic",
            get(|| async {
                if true {
                    panic!("handler exploded");
                }
                "never"
            }),
        )
        .layer(middleware::from_fn(auth))
        .layer(AuditLayer::new())
}

#[test]
fn each_method_and_outcome_gives_one_record_with_status_bodies_and_timing() {
    let server = Server::start(Logs::new(), app());
    let c = &server.client;
    let cases: Vec<(&str, reqwest::RequestBuilder, u16)> = vec![
        ("get", c.get(server.url("/items/1?verbose=yes")), 200),
        (
            "post",
            c.post(server.url("/items"))
                .json(&json!({"name": "lamp", "price": 12.5})),
            201,
        ),
        (
            "put",
            c.put(server.url("/items/3")).json(&json!({"price": 13})),
            200,
        ),
        ("delete", c.delete(server.url("/items/4")), 204),
        ("missing", c.get(server.url("/nowhere")), 404),
        ("invalid", c.post(server.url("/invalid")).body("{}"), 422),
        ("broken", c.get(server.url("/broken")), 500),
        ("panic", c.get(server.url("/panic")), 500),
    ];
    let n = cases.len();
    let mut bodies = std::collections::HashMap::new();
    for (name, request, status) in cases {
        let response = server
            .run(
                request
                    .header("x-request-id", format!("case-{name}"))
                    .header("x-user", format!("user-{name}"))
                    .send(),
            )
            .unwrap();
        assert_eq!(response.status().as_u16(), status, "{name}");
        assert_eq!(
            response.headers()["x-request-id"],
            format!("case-{name}").as_str()
        );
        bodies.insert(name, server.run(response.text()).unwrap());
    }
    assert_eq!(bodies["panic"], "", "a panic is answered with an empty 500");
    let records = server.wait_records(n);
    assert_eq!(records.len(), n, "{records:#?}");
    for r in &records {
        check_envelope(r, Some("API"));
        assert_eq!(r["message"], "Audit Internal Request");
        assert_eq!(r["request_type"], "internal");
        assert_eq!(r["protocol"], "http");
        assert_eq!(at(r, &["request_repr", "client_ip"]), "127.0.0.1");
        let t = r["execution_time"].as_f64().unwrap();
        assert!((0.0..60.0).contains(&t), "{r:?}");
        assert_eq!(r["aborted"], false);
    }
    let rec = |name: &str| by_request_id(&records, &format!("case-{name}")).clone();

    let get = rec("get");
    assert_eq!(at(&get, &["request_repr", "method"]), "GET");
    assert_eq!(at(&get, &["request_repr", "path"]), "/items/1");
    assert_eq!(
        at(&get, &["request_repr", "query_params"]),
        &json!({"verbose": "yes"})
    );
    assert_eq!(at(&get, &["request_repr", "body"]), &Value::Null);
    assert_eq!(at(&get, &["response_repr", "status_code"]), 200);
    assert_eq!(
        at(&get, &["response_repr", "body"]),
        &json!({"id": 1, "name": "lamp"})
    );
    assert_eq!(
        at(&get, &["response_repr", "headers", "x-request-id"]),
        "case-get"
    );
    assert_eq!(get["user_id"], "user-get");
    assert_eq!(get["error_message"], Value::Null);
    assert_eq!(get["response_size"], bodies["get"].len());

    let post = rec("post");
    assert_eq!(at(&post, &["request_repr", "method"]), "POST");
    assert_eq!(
        at(&post, &["request_repr", "body"]),
        &json!({"name": "lamp", "price": 12.5})
    );
    assert_eq!(
        at(&post, &["request_repr", "headers", "content-type"]),
        "application/json"
    );
    assert_eq!(at(&post, &["response_repr", "status_code"]), 201);
    assert_eq!(at(&post, &["response_repr", "body"]), &json!({"id": 7}));

    let put = rec("put");
    assert_eq!(at(&put, &["request_repr", "method"]), "PUT");
    assert_eq!(
        at(&put, &["response_repr", "body"]),
        &json!({"id": 3, "updated": {"price": 13}})
    );

    let delete = rec("delete");
    assert_eq!(at(&delete, &["request_repr", "method"]), "DELETE");
    assert_eq!(at(&delete, &["response_repr", "status_code"]), 204);
    assert_eq!(at(&delete, &["response_repr", "body"]), &Value::Null);

    assert_eq!(at(&rec("missing"), &["response_repr", "status_code"]), 404);
    assert_eq!(rec("missing")["error_message"], Value::Null);

    let invalid = rec("invalid");
    assert_eq!(at(&invalid, &["response_repr", "status_code"]), 422);
    assert_eq!(at(&invalid, &["response_repr", "body"]), "name is required");

    let broken = rec("broken");
    assert_eq!(at(&broken, &["response_repr", "status_code"]), 500);
    assert_eq!(broken["error_message"], "500 Internal Server Error");
    assert_eq!(at(&broken, &["response_repr", "body"]), "database down");

    let panic = rec("panic");
    assert_eq!(at(&panic, &["response_repr", "status_code"]), 500);
    assert!(
        panic["error_message"]
            .as_str()
            .unwrap()
            .contains("handler exploded"),
        "{panic:?}"
    );

    // The handlers' CRUD records carry the request's id and user.
    let audit = server.logs.records(Kind::Audit);
    assert_eq!(audit.len(), 4, "{audit:#?}");
    for (event, name) in [
        ("READ", "get"),
        ("CREATE", "post"),
        ("UPDATE", "put"),
        ("DELETE", "delete"),
    ] {
        let r = audit.iter().find(|r| r["event_type"] == event).unwrap();
        assert_eq!(r["request_id"], format!("case-{name}").as_str(), "{r:?}");
        assert_eq!(r["user_id"], format!("user-{name}").as_str(), "{r:?}");
    }
}

#[test]
fn excluded_paths_are_not_recorded_and_include_limits_the_rest() {
    let app = Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/api/a", get(|| async { "a" }))
        .route("/other", get(|| async { "o" }))
        .layer(AuditLayer::new().include("/api/*"));
    let server = Server::start(Logs::new(), app);
    for path in ["/health", "/other", "/api/a", "/static/x.css"] {
        let r = server
            .run(server.client.get(server.url(path)).send())
            .unwrap();
        server.run(r.text()).unwrap();
    }
    // The recorded one is last: once it is there, the others would be too.
    let records = server.wait_records(1);
    std::thread::sleep(std::time::Duration::from_millis(200));
    let records = if records.len() == 1 {
        server.logs.records(Kind::Api)
    } else {
        records
    };
    assert_eq!(records.len(), 1, "{records:#?}");
    assert_eq!(at(&records[0], &["request_repr", "path"]), "/api/a");
}

#[test]
fn request_ids_sane_ones_are_kept_hostile_ones_replaced() {
    let app = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let long = "a".repeat(129);
    let cases = [
        ("req-123.abc_def:9", true),
        (long.as_str(), false),
        ("bad id", false),
        ("<script>", false),
        ("{\"x\":1}", false),
    ];
    let mut echoed = Vec::new();
    for (id, _) in &cases {
        let r = server
            .run(
                server
                    .client
                    .get(server.url("/"))
                    .header("x-request-id", *id)
                    .send(),
            )
            .unwrap();
        echoed.push(r.headers()["x-request-id"].to_str().unwrap().to_owned());
        server.run(r.text()).unwrap();
    }
    let none = server
        .run(server.client.get(server.url("/")).send())
        .unwrap();
    echoed.push(none.headers()["x-request-id"].to_str().unwrap().to_owned());
    server.run(none.text()).unwrap();
    let records = server.wait_records(cases.len() + 1);
    for (i, (id, sane)) in cases.iter().enumerate() {
        if *sane {
            assert_eq!(echoed[i], *id);
        } else {
            assert_ne!(echoed[i], *id);
            let uuid = uuid::Uuid::parse_str(&echoed[i]).unwrap();
            assert_eq!(uuid.get_version_num(), 7);
        }
        by_request_id(&records, &echoed[i]);
    }
    assert_eq!(
        uuid::Uuid::parse_str(&echoed[5]).unwrap().get_version_num(),
        7
    );
    by_request_id(&records, &echoed[5]);
    // No record carries a hostile id as its request id (the header itself
    // is recorded, escaped, as what the client sent).
    for r in &records {
        let id = r["request_id"].as_str().unwrap();
        assert!(
            cases.iter().all(|(hostile, sane)| *sane || id != *hostile),
            "{r:?}"
        );
        assert_eq!(
            at(r, &["request_repr", "headers", "x-request-id"]).is_string(),
            r["request_id"] != echoed[5].as_str()
        );
    }
}

#[test]
fn traceparent_gives_trace_and_span_ids() {
    let app = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let r = server
        .run(
            server
                .client
                .get(server.url("/"))
                .header("x-request-id", "tp-good")
                .header(
                    "traceparent",
                    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
                )
                .send(),
        )
        .unwrap();
    server.run(r.text()).unwrap();
    let r = server
        .run(
            server
                .client
                .get(server.url("/"))
                .header("x-request-id", "tp-bad")
                .header("traceparent", "00-XYZ-00f067aa0ba902b7-01")
                .send(),
        )
        .unwrap();
    server.run(r.text()).unwrap();
    let records = server.wait_records(2);
    let good = by_request_id(&records, "tp-good");
    assert_eq!(good["trace_id"], "4bf92f3577b34da6a3ce929d0e0e4736");
    assert_eq!(good["span_id"], "00f067aa0ba902b7");
    let bad = by_request_id(&records, "tp-bad");
    assert_eq!(bad["trace_id"], Value::Null);
    assert_eq!(bad["span_id"], Value::Null);
}

#[test]
fn repeated_query_keys_become_lists_and_a_huge_query_still_gives_one_record() {
    let app = Router::new()
        .route("/", get(|| async { "hi" }))
        .layer(AuditLayer::new());
    let server = Server::start(Logs::new(), app);
    let send = |id: &str, query: &str| {
        let r = server
            .run(
                server
                    .client
                    .get(server.url(&format!("/?{query}")))
                    .header("x-request-id", id)
                    .send(),
            )
            .unwrap();
        assert_eq!(r.status(), 200);
        server.run(r.text()).unwrap();
    };
    send("repeat", "tag=a&tag=b&x=1&tag=c%20d");
    let huge: Vec<String> = (0..6_000).map(|i| format!("k{}=v", i % 3_000)).collect();
    send("huge", &huge.join("&"));
    let records = server.wait_records(2);
    assert_eq!(
        at(
            by_request_id(&records, "repeat"),
            &["request_repr", "query_params"]
        ),
        &json!({"tag": ["a", "b", "c d"], "x": "1"})
    );
    let big = by_request_id(&records, "huge");
    assert_eq!(at(big, &["response_repr", "status_code"]), 200);
}

#[test]
fn the_user_comes_from_a_closure_or_a_jwt_sub_and_set_user_overrides_both() {
    use base64::Engine as _;
    let app = |layer: AuditLayer| {
        Router::new()
            .route(
                "/",
                get(|| async {
                    tracing_audit::read!(model: "Doc", id: 1);
                    "hi"
                }),
            )
            .route(
                "/override",
                get(|| async {
                    tracing_audit::set_user("from-handler");
                    "hi"
                }),
            )
            .layer(layer)
    };
    let closure = Server::start(
        Logs::new(),
        app(AuditLayer::new().user_from(|parts| {
            parts
                .headers
                .get("x-session")
                .and_then(|v| v.to_str().ok())
                .map(|s| format!("session-{s}"))
        })),
    );
    let send = |server: &Server, path: &str, id: &str, headers: &[(&str, String)]| {
        let mut req = server
            .client
            .get(server.url(path))
            .header("x-request-id", id);
        for (k, v) in headers {
            req = req.header(*k, v);
        }
        let r = server.run(req.send()).unwrap();
        server.run(r.text()).unwrap();
    };
    send(&closure, "/", "c1", &[("x-session", "abc".into())]);
    send(&closure, "/override", "c2", &[("x-session", "abc".into())]);
    send(&closure, "/", "c3", &[]);
    let records = closure.wait_records(3);
    assert_eq!(by_request_id(&records, "c1")["user_id"], "session-abc");
    assert_eq!(by_request_id(&records, "c2")["user_id"], "from-handler");
    assert_eq!(by_request_id(&records, "c3")["user_id"], "");
    let audit = closure.logs.records(Kind::Audit);
    let crud = audit.iter().find(|r| r["request_id"] == "c1").unwrap();
    assert_eq!(crud["user_id"], "session-abc");

    let b64 = |s: &str| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s);
    let jwt = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(r#"{"alg":"HS256"}"#),
        b64(r#"{"sub":"alice"}"#)
    );
    let on = Server::start(Logs::new(), app(AuditLayer::new().user_from_jwt_sub(true)));
    send(
        &on,
        "/",
        "j1",
        &[("authorization", format!("Bearer {jwt}"))],
    );
    let off = Server::start(Logs::new(), app(AuditLayer::new()));
    send(
        &off,
        "/",
        "j2",
        &[("authorization", format!("Bearer {jwt}"))],
    );
    assert_eq!(by_request_id(&on.wait_records(1), "j1")["user_id"], "alice");
    assert_eq!(by_request_id(&off.wait_records(1), "j2")["user_id"], "");
    // The token itself is in no file.
    assert!(!on.all_files().contains("c2lnbmF0dXJl"));
}

#[test]
fn skip_body_routes_keep_no_body() {
    let app = Router::new()
        .route(
            "/secret/upload",
            axum::routing::post(|body: String| async move { body }),
        )
        .route(
            "/open",
            axum::routing::post(|body: String| async move { body }),
        )
        .layer(AuditLayer::new().skip_body("/secret/*"));
    let server = Server::start(Logs::new(), app);
    for (id, path) in [("skip", "/secret/upload"), ("keep", "/open")] {
        let r = server
            .run(
                server
                    .client
                    .post(server.url(path))
                    .header("x-request-id", id)
                    .header("content-type", "text/plain")
                    .body("the whole body")
                    .send(),
            )
            .unwrap();
        assert_eq!(server.run(r.text()).unwrap(), "the whole body");
    }
    let records = server.wait_records(2);
    let skip = by_request_id(&records, "skip");
    assert_eq!(at(skip, &["request_repr", "body"]), "[not kept 14 bytes]");
    assert_eq!(at(skip, &["response_repr", "body"]), "[not kept 14 bytes]");
    assert_eq!(skip["request_size"], 14);
    let keep = by_request_id(&records, "keep");
    assert_eq!(at(keep, &["request_repr", "body"]), "the whole body");
}

#[test]
fn with_the_application_filter_off_handlers_still_get_the_request_span() {
    let app = Router::new()
        .route(
            "/",
            get(|| async {
                tracing_audit::set_user("u-1");
                tracing_audit::create!(model: "Doc", id: 9);
                "hi"
            }),
        )
        .layer(AuditLayer::new());
    let server = Server::start(Logs::with(|b| b.app_filter("off")), app);
    let r = server
        .run(
            server
                .client
                .get(server.url("/"))
                .header("x-request-id", "quiet")
                .send(),
        )
        .unwrap();
    server.run(r.text()).unwrap();
    let records = server.wait_records(1);
    assert_eq!(by_request_id(&records, "quiet")["user_id"], "u-1");
    let audit = server.logs.records(Kind::Audit);
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0]["request_id"], "quiet");
    assert_eq!(audit[0]["user_id"], "u-1");
}

/// The layer on a router nested under a prefix (`Router::nest("/api/v2",
/// …)`), which sees its requests with the prefix taken off: the record has
/// the path the client asked for, so `/api/v1/items/7` and
/// `/api/v2/items/7` stay apart in the trail. Patterns still match the
/// path as the wrapped router sees it.
#[test]
fn a_layer_inside_a_nested_router_records_the_path_the_client_asked_for() {
    let items = |version: &'static str| {
        Router::new()
            .route(
                "/items/{id}",
                get(
                    move |Path(id): Path<u32>| async move { Json(json!({"id": id, "v": version})) },
                ),
            )
            .layer(AuditLayer::new().exclude("/items/0"))
    };
    let app = Router::new()
        .nest("/api/v1", items("v1"))
        .nest("/api/v2", items("v2"));
    let server = Server::start(Logs::new(), app);
    for (id, path) in [
        ("one", "/api/v1/items/7?full=1"),
        ("two", "/api/v2/items/7"),
        ("zero", "/api/v2/items/0"),
    ] {
        let r = server
            .run(
                server
                    .client
                    .get(server.url(path))
                    .header("x-request-id", id)
                    .send(),
            )
            .unwrap();
        assert_eq!(r.status(), 200);
        server.run(r.text()).unwrap();
    }
    let records = server.wait_records(2);
    assert_eq!(records.len(), 2, "the excluded one is not recorded");
    let one = by_request_id(&records, "one");
    assert_eq!(at(one, &["request_repr", "path"]), "/api/v1/items/7");
    assert_eq!(at(one, &["request_repr", "query_params", "full"]), "1");
    let two = by_request_id(&records, "two");
    assert_eq!(at(two, &["request_repr", "path"]), "/api/v2/items/7");
}
