//! A small audited JSON API: items CRUD behind a bearer-token middleware,
//! a login route, and a checkout that charges a partner API through
//! `tracing_audit::http::AuditedClient`. Every request is recorded by
//! `tracing_audit::http::AuditLayer` (`api.log`), logins and failed logins
//! are detected on `/login` (`login.log`), the handlers record what they
//! change with the CRUD macros inside a `Transaction` (`audit.log`), and
//! the auth middleware names the user with `tracing_audit::set_user`, so
//! that every record of a request carries its `request_id` and its user.
//!
//! ```text
//! cargo run --features axum,reqwest --example axum_service
//! ```
//!
//! It serves on 127.0.0.1:0, runs a short scripted session against itself
//! (a wrong password, a login, create, list, update, read, a missing item,
//! a checkout, delete, a request without a token), and prints where the
//! files are. The checkout's outbound call to the partner (a second axum
//! app on loopback) is its own `api.log` record, `request_type:
//! "external"`, with the same `request_id` and user as the request that
//! made it.
//! Secrets to look for and not find in them: the password
//! `correct horse battery staple`, the tokens `/login` answers with, and
//! the `Authorization` headers.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use tracing_audit::http::{AuditLayer, AuditedClient};
use tracing_audit::{diff, Kind, Transaction};

const PASSWORD: &str = "correct horse battery staple";

#[derive(Clone, Serialize, Deserialize)]
struct Item {
    #[serde(default)]
    id: u64,
    name: String,
    price: f64,
}

#[derive(Default)]
struct Store {
    items: HashMap<u64, Item>,
    next_id: u64,
    /// Access token -> user name.
    sessions: HashMap<String, String>,
}

type Shared = Arc<Mutex<Store>>;

#[derive(Deserialize)]
struct Credentials {
    username: String,
    password: String,
}

/// Answers a JWT-shaped access token and an opaque refresh token: both
/// secrets, redacted in `api.log` and absent from `login.log`.
async fn login(State(store): State<Shared>, Json(c): Json<Credentials>) -> Response {
    if c.username != "alice" || c.password != PASSWORD {
        return (
            StatusCode::UNAUTHORIZED,
            Json(json!({"error": "invalid credentials"})),
        )
            .into_response();
    }
    let access = format!(
        "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJ{:x}In0.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg",
        fastrand::u64(..)
    );
    let refresh = format!("rt_{:016x}{:016x}", fastrand::u64(..), fastrand::u64(..));
    store
        .lock()
        .unwrap()
        .sessions
        .insert(access.clone(), c.username);
    Json(json!({"access_token": access, "refresh_token": refresh, "token_type": "Bearer"}))
        .into_response()
}

/// The auth middleware: a known bearer token names the user for every
/// record of the request (the request record included); anything else is
/// a 401.
async fn authenticate(State(store): State<Shared>, request: Request, next: Next) -> Response {
    let user = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|token| store.lock().unwrap().sessions.get(token).cloned());
    match user {
        Some(user) => {
            tracing_audit::set_user(&user);
            next.run(request).await
        }
        None => StatusCode::UNAUTHORIZED.into_response(),
    }
}

async fn list_items(State(store): State<Shared>) -> Json<Vec<Item>> {
    let store = store.lock().unwrap();
    let mut items: Vec<Item> = store.items.values().cloned().collect();
    items.sort_by_key(|i| i.id);
    Json(items)
}

async fn create_item(
    State(store): State<Shared>,
    Json(mut item): Json<Item>,
) -> (StatusCode, Json<Item>) {
    let mut store = store.lock().unwrap();
    store.next_id += 1;
    item.id = store.next_id;
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::create!(model: "Item", id: item.id, instance: &item));
    store.items.insert(item.id, item.clone());
    tx.commit();
    (StatusCode::CREATED, Json(item))
}

async fn read_item(
    State(store): State<Shared>,
    Path(id): Path<u64>,
) -> Result<Json<Item>, StatusCode> {
    let store = store.lock().unwrap();
    let item = store.items.get(&id).cloned().ok_or(StatusCode::NOT_FOUND)?;
    tracing_audit::read!(model: "Item", id: id);
    Ok(Json(item))
}

async fn update_item(
    State(store): State<Shared>,
    Path(id): Path<u64>,
    Json(mut new): Json<Item>,
) -> Result<Json<Item>, StatusCode> {
    let mut store = store.lock().unwrap();
    let old = store.items.get(&id).cloned().ok_or(StatusCode::NOT_FOUND)?;
    new.id = id;
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::update!(model: "Item", id: id, changes: diff(&old, &new)));
    store.items.insert(id, new.clone());
    tx.commit();
    Ok(Json(new))
}

async fn delete_item(State(store): State<Shared>, Path(id): Path<u64>) -> StatusCode {
    let mut store = store.lock().unwrap();
    let tx = Transaction::begin();
    if store.items.remove(&id).is_none() {
        // Nothing was deleted: the transaction rolls back, no record.
        tx.rollback();
        return StatusCode::NOT_FOUND;
    }
    tx.in_scope(|| tracing_audit::delete!(model: "Item", id: id));
    tx.commit();
    StatusCode::NO_CONTENT
}

/// The partner API the checkout calls, through the audited client.
#[derive(Clone)]
struct Partner {
    client: AuditedClient,
    url: String,
}

/// Charges the order through the partner: the outbound call is recorded
/// with this request's id and user (the auth middleware set it).
async fn checkout(
    Extension(partner): Extension<Partner>,
    Json(order): Json<Value>,
) -> Result<Json<Value>, StatusCode> {
    let charge: Value = partner
        .client
        .post(format!("{}/charges", partner.url))
        .bearer_auth("sk_live_not_a_real_key_0123456789")
        .json(&json!({"amount": order["total"], "currency": "EUR"}))
        .send()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?
        .json()
        .await
        .map_err(|_| StatusCode::BAD_GATEWAY)?;
    Ok(Json(json!({"status": "paid", "charge": charge})))
}

/// The partner: a plain axum app on loopback.
async fn serve_partner() -> std::io::Result<String> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let app =
        Router::new().route(
            "/charges",
            post(|Json(v): Json<Value>| async move {
                Json(json!({"id": "ch_1", "amount": v["amount"]}))
            }),
        );
    tokio::spawn(async move { axum::serve(listener, app).await });
    Ok(url)
}

fn app(partner: Partner) -> Router {
    let store = Shared::default();
    let items = Router::new()
        .route("/checkout", post(checkout))
        .route("/items", get(list_items).post(create_item))
        .route(
            "/items/{id}",
            get(read_item).put(update_item).delete(delete_item),
        )
        .route_layer(middleware::from_fn_with_state(store.clone(), authenticate))
        .layer(Extension(partner));
    Router::new()
        .route("/login", post(login))
        .merge(items)
        .with_state(store)
        .layer(AuditLayer::new().login_route("/login", "username"))
}

/// One request on a fresh connection; the status and the JSON answer
/// (`null` when there is none).
async fn call(
    addr: SocketAddr,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> Result<(StatusCode, Value), Box<dyn std::error::Error>> {
    let stream = tokio::net::TcpStream::connect(addr).await?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut request = hyper::Request::builder()
        .method(method)
        .uri(path)
        .header(header::HOST, addr.to_string())
        .header(header::USER_AGENT, "axum_service-example/1.0");
    if let Some(token) = token {
        request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
    }
    let body = match body {
        Some(body) => {
            request = request.header(header::CONTENT_TYPE, "application/json");
            Bytes::from(serde_json::to_vec(&body)?)
        }
        None => Bytes::new(),
    };
    let response = sender.send_request(request.body(Full::new(body))?).await?;
    let status = response.status();
    let bytes = response.into_body().collect().await?.to_bytes();
    let value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    println!("{method:<6} {path:<10} -> {status}");
    Ok((status, value))
}

async fn session(addr: SocketAddr) -> Result<(), Box<dyn std::error::Error>> {
    let wrong = json!({"username": "alice", "password": "letmein"});
    let (status, _) = call(addr, "POST", "/login", None, Some(wrong)).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let right = json!({"username": "alice", "password": PASSWORD});
    let (status, tokens) = call(addr, "POST", "/login", None, Some(right)).await?;
    assert_eq!(status, StatusCode::OK);
    let token = tokens["access_token"].as_str().ok_or("no access token")?;
    let token = Some(token);

    let lamp = json!({"name": "Desk lamp", "price": 10.99});
    let (status, created) = call(addr, "POST", "/items", token, Some(lamp)).await?;
    assert_eq!(status, StatusCode::CREATED);
    let path = format!("/items/{}", created["id"]);
    call(addr, "GET", "/items", token, None).await?;
    let cheaper = json!({"name": "Desk lamp", "price": 12.99});
    call(addr, "PUT", &path, token, Some(cheaper)).await?;
    call(addr, "GET", &path, token, None).await?;
    let (status, _) = call(addr, "GET", "/items/999", token, None).await?;
    assert_eq!(status, StatusCode::NOT_FOUND);
    let order = json!({"total": 1299});
    let (status, _) = call(addr, "POST", "/checkout", token, Some(order)).await?;
    assert_eq!(status, StatusCode::OK);
    call(addr, "DELETE", &path, token, None).await?;
    let (status, _) = call(addr, "GET", "/items", None, None).await?;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let guard = tracing_audit::builder()
        .service_name("axum_service")
        .log_dir("audit_logs/axum_service")
        .init()?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    runtime.block_on(async {
        let partner = Partner {
            client: AuditedClient::new("payments", reqwest::Client::new()),
            url: serve_partner().await?,
        };
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        println!("serving on http://{addr}");
        let server = tokio::spawn(async move {
            let service = app(partner).into_make_service_with_connect_info::<SocketAddr>();
            axum::serve(listener, service).await
        });
        let outcome = session(addr).await;
        server.abort();
        outcome
    })?;
    // The server's connections end with the runtime: every record made.
    drop(runtime);
    guard.sync()?;
    println!();
    for kind in Kind::ALL {
        if let Some(path) = guard.path(kind) {
            let lines = std::fs::read_to_string(path)
                .map(|t| t.lines().count())
                .unwrap_or(0);
            println!(
                "{:<6} {:>3} lines  {}",
                format!("{kind:?}"),
                lines,
                path.display()
            );
        }
    }
    Ok(())
}
