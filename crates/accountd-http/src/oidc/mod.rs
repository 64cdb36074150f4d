//! The authorization server's endpoints: `/oauth/token` and `/.well-known/jwks.json`.

pub mod error;
pub mod token;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::AppState;
use crate::common::tenant::RequestTenant;

/// The authorization server's routes.
pub fn routes() -> Router<AppState> {
    Router::new().route("/oauth/token", post(token::token)).route("/.well-known/jwks.json", get(jwks))
}

/// The tenant's public signing keys, current and recently retired.
async fn jwks(State(state): State<AppState>, rt: RequestTenant) -> axum::response::Response {
    match state.keys.get(&rt.tenant.id).await {
        Ok(ring) => ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(ring.jwks().clone())).into_response(),
        Err(e) => error::render(e.into()),
    }
}
