//! A service whose handler calls a partner API through `AuditedClient`:
//! the inbound request and the outbound call are two `api.log` records
//! that share the request id (the handler's span carries it out as
//! `x-request-id`), and the partner's record joins them on it too.
//!
//! ```text
//! cargo run --features reqwest,axum --example partner_call
//! ```
//! Both services run in this one process on 127.0.0.1; the records go
//! to `audit_logs/api.log` and are printed at the end.

use axum::extract::State;
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};
use tracing_audit::http::{AuditLayer, AuditedClient};

#[derive(Clone)]
struct App {
    payments: AuditedClient,
    partner_url: String,
}

/// Our handler: charges the order through the partner's API.
async fn checkout(State(app): State<App>, Json(order): Json<Value>) -> Json<Value> {
    tracing_audit::set_user("alice");
    let answer = app
        .payments
        .post(format!("{}/charges", app.partner_url))
        .bearer_auth("sk_live_not_a_real_key_0123456789")
        .json(&json!({"amount": order["total"], "currency": "EUR"}))
        .send()
        .await;
    match answer {
        Ok(response) => {
            let charge: Value = response.json().await.unwrap_or(Value::Null);
            Json(json!({"status": "paid", "charge": charge}))
        }
        Err(e) => Json(json!({"status": "failed", "error": e.to_string()})),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let _ = std::fs::remove_dir_all("audit_logs");
    let guard = tracing_audit::builder()
        .service_name("shop")
        .log_dir("audit_logs")
        .init()?;

    // The partner (a plain axum app here).
    let partner = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let partner_url = format!("http://{}", partner.local_addr()?);
    tokio::spawn(async move {
        let app = Router::new().route(
            "/charges",
            post(|Json(v): Json<Value>| async move {
                Json(json!({"id": "ch_1", "amount": v["amount"]}))
            }),
        );
        axum::serve(partner, app).await
    });

    // Our service, audited inbound.
    let app = Router::new()
        .route("/checkout", post(checkout))
        .route("/health", get(|| async { "ok" }))
        .with_state(App {
            payments: AuditedClient::new("payments", reqwest::Client::new()),
            partner_url,
        })
        .layer(AuditLayer::new());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}/checkout", listener.local_addr()?);
    tokio::spawn(async move { axum::serve(listener, app).await });

    let answer: Value = reqwest::Client::new()
        .post(url)
        .header("x-request-id", "order-1001")
        .json(&json!({"total": 1200}))
        .send()
        .await?
        .json()
        .await?;
    println!("client got: {answer}");

    guard.flush()?;
    let api = std::fs::read_to_string("audit_logs/api.log")?;
    for line in api.lines() {
        let r: Value = serde_json::from_str(line)?;
        println!(
            "{} {} request_id={} peer_service={} status={}",
            r["request_type"],
            r["message"],
            r["request_id"],
            r["peer_service"],
            r["response_repr"]["status_code"]
        );
    }
    Ok(())
}
