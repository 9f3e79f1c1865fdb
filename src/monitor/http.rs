//! The listener of `hetsync run --listen ADDR`: `/metrics`, `/health` and
//! the status page `/`.

use super::Monitor;
use anyhow::{Context, Result};
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;

/// Listens on `addr` (port 0: any free port) and serves `monitor` from a
/// task of its own; returns the address it listens on.
pub async fn serve(addr: &str, monitor: Arc<Monitor>) -> Result<SocketAddr> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("run --listen {addr}: cannot listen there"))?;
    let local = listener.local_addr()?;
    let app = Router::new()
        .route("/", get(page))
        .route("/metrics", get(metrics))
        .route("/health", get(health))
        .with_state(monitor);
    tokio::spawn(async move {
        if let Err(e) = axum::serve(listener, app).await {
            tracing::error!(error = %e, "the monitoring listener stopped");
        }
    });
    Ok(local)
}

async fn metrics(State(monitor): State<Arc<Monitor>>) -> Response {
    (
        [(header::CONTENT_TYPE, prometheus::TEXT_FORMAT)],
        monitor.metrics_text(),
    )
        .into_response()
}

async fn health(State(monitor): State<Arc<Monitor>>) -> Response {
    let health = monitor.health();
    let code = match health.healthy {
        true => StatusCode::OK,
        false => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = serde_json::to_string_pretty(&health).unwrap_or_default();
    (code, [(header::CONTENT_TYPE, "application/json")], body).into_response()
}

async fn page(State(monitor): State<Arc<Monitor>>) -> Html<String> {
    Html(monitor.page())
}
