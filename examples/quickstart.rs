//! The README's main job: installs tracing-audit, makes CRUD, login and
//! application records, and prints where the files are.
//!
//! ```text
//! cargo run --example quickstart
//! cargo run --example quickstart --features http   # also request records
//! ```
//!
//! With the `http` feature it also sends two requests through an axum
//! router behind `tracing_audit::http::AuditLayer`, in process (no
//! network), which writes one `audit.request` record each to `api.log`.

use serde::Serialize;
use tracing_audit::diff;
use tracing_audit::Kind;
use tracing_audit::Transaction;

#[derive(Serialize, Clone)]
struct Product {
    id: u64,
    name: String,
    price: f64,
    supplier: Supplier,
}

#[derive(Serialize, Clone)]
struct Supplier {
    name: String,
    api_key: String,
}

#[derive(Serialize)]
struct UserInfo<'a> {
    email: &'a str,
    role: &'a str,
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One call: audit.log, api.log, login.log and app.log in audit_logs/,
    // plus a console on stderr. The guard writes everything out on drop.
    let guard = tracing_audit::builder()
        .service_name("quickstart")
        .log_dir("audit_logs")
        .init()?;

    tracing::info!(version = env!("CARGO_PKG_VERSION"), "service starting");

    // A request: its span carries the request id and the tenant into every
    // record made inside it.
    let request = tracing::info_span!(
        "request",
        request_id = "0193a2b4-7c1e-7000-8000-000000000001",
        tenant = "acme"
    );
    let _entered = request.enter();

    tracing_audit::login_failed!(
        user: "alice@example.com",
        error: "invalid password",
        client_ip: "203.0.113.9",
        user_agent: "curl/8.5"
    );
    // After authentication, every later record names the user.
    tracing_audit::set_user_info(
        7,
        &UserInfo {
            email: "alice@example.com",
            role: "admin",
        },
    );
    tracing_audit::login!(client_ip: "203.0.113.9", user_agent: "curl/8.5");

    let mut product = Product {
        id: 42,
        name: "Desk lamp".into(),
        price: 10.99,
        supplier: Supplier {
            name: "Lumen".into(),
            api_key: "sk_live_8f2k1".into(),
        },
    };
    tracing_audit::create!(model: "Product", id: product.id, instance: product);
    tracing_audit::read!(model: "Product", id: product.id);

    // Changes are written field by field; the supplier's api_key is
    // redacted in the diff and in the snapshot.
    let before = product.clone();
    product.price = 12.99;
    product.supplier.api_key = "sk_live_rotated".into();
    tracing_audit::update!(
        model: "Product",
        id: product.id,
        changes: diff(&before, &product),
        extra: serde_json::json!({"reason": "price review"})
    );

    // Records made in a transaction that rolls back are never written.
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::delete!(model: "Product", id: product.id));
    tx.rollback();

    // This one commits.
    let tx = Transaction::begin();
    tx.in_scope(|| tracing_audit::bulk_delete!(model: "Session", ids: ["s1", "s2", "s3"]));
    tx.commit();

    tracing_audit::logout!();
    tracing::warn!(queue = "email", depth = 1200, "queue is backing up");
    drop(_entered);

    #[cfg(feature = "http")]
    http::requests()?;

    guard.sync()?;
    for kind in Kind::ALL {
        // A kind's file is made by its first record: name only real files.
        if let Some(path) = guard.path(kind).filter(|p| p.exists()) {
            println!("{:<6} {}", format!("{kind:?}"), path.display());
        }
    }
    Ok(())
}

/// Requests through the HTTP layer, in process: `tower::ServiceExt::oneshot`
/// calls the router as a server would, with no socket.
#[cfg(feature = "http")]
mod http {
    use axum::body::Body;
    use axum::http::Request;
    use axum::routing::put;
    use axum::{Json, Router};
    use serde_json::{json, Value};
    use tower::ServiceExt;
    use tracing_audit::http::AuditLayer;

    async fn update_price(Json(body): Json<Value>) -> Json<Value> {
        // Made inside the layer's request span: it carries the request's
        // request_id, like the request record.
        tracing_audit::update!(
            model: "Product",
            id: 42,
            changes: tracing_audit::Changes::new().with("price", 12.99, body["price"].clone())
        );
        Json(json!({"id": 42, "price": body["price"]}))
    }

    pub(crate) fn requests() -> Result<(), Box<dyn std::error::Error>> {
        let app = Router::new()
            .route("/products/{id}", put(update_price))
            .layer(AuditLayer::new());
        let runtime = tokio::runtime::Builder::new_current_thread().build()?;
        runtime.block_on(async {
            for price in [13.49, 13.99] {
                let request = Request::put("/products/42")
                    .header("content-type", "application/json")
                    // Redacted in the record, as any credential.
                    .header("authorization", "Bearer sk_live_8f2k1")
                    // Without a server there is no connection: the client
                    // address is this extension, as a server would set it.
                    .extension(std::net::SocketAddr::from(([203, 0, 113, 9], 50_000)))
                    .body(Body::from(json!({"price": price}).to_string()))?;
                let response = app.clone().oneshot(request).await?;
                // The record is made when the response body ends.
                axum::body::to_bytes(response.into_body(), usize::MAX).await?;
            }
            Ok(())
        })
    }
}
