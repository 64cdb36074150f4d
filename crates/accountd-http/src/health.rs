//! `/healthz` (the process answers) and `/readyz` (the store answers). Both work on any host.

use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::get;
use serde_json::json;

use crate::AppState;

/// The health routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/healthz", get(healthz)).route("/readyz", get(readyz))
}

/// The process is up.
async fn healthz() -> axum::Json<serde_json::Value> {
    axum::Json(json!({"status": "ok"}))
}

/// The store is reachable.
async fn readyz(State(state): State<AppState>) -> (StatusCode, axum::Json<serde_json::Value>) {
    match state.core.store().ping().await {
        Ok(()) => (StatusCode::OK, axum::Json(json!({"status": "ok", "store": state.core.store().backend()}))),
        Err(e) => {
            tracing::warn!(error = %e, "readiness check failed");
            (StatusCode::SERVICE_UNAVAILABLE, axum::Json(json!({"status": "unavailable"})))
        }
    }
}
