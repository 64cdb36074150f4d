//! The authorization server's endpoints: discovery, `/authorize` and the sign-in page,
//! `/oauth/token`, `/userinfo`, `/oauth/revoke`, logout, JWKS.

pub mod authorize;
pub mod discovery;
pub mod error;
pub mod logout;
pub mod pages;
pub mod passkey;
pub mod second_factor;
pub mod token;
pub mod userinfo;

use axum::Router;
use axum::extract::State;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::{get, post};

use crate::AppState;
use crate::common::tenant::RequestTenant;

/// The authorization server's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/oidc/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/authorize", get(authorize::authorize))
        .route("/u/login", post(authorize::login))
        .route("/u/consent", post(authorize::consent))
        .route("/u/signup", post(authorize::signup))
        .route("/u/mfa", post(second_factor::mfa))
        .route("/passkey/challenge", post(passkey::challenge))
        .route("/passkey/register", post(passkey::register))
        .route("/u/passkey/options", post(second_factor::passkey_options))
        .route("/u/passkey/login", post(second_factor::passkey_login))
        .route("/u/assets/accountd.js", get(second_factor::script))
        .route("/oauth/token", post(token::token))
        .route("/oauth/revoke", post(token::revoke))
        .route("/oauth/introspect", post(token::introspect))
        .route("/userinfo", get(userinfo::userinfo).post(userinfo::userinfo))
        .route("/v2/logout", get(logout::logout))
        .route("/oidc/logout", get(logout::logout))
}

/// The tenant's public signing keys, current and recently retired.
async fn jwks(State(state): State<AppState>, rt: RequestTenant) -> axum::response::Response {
    match state.keys.get(&rt.tenant.id).await {
        Ok(ring) => ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(ring.jwks().clone())).into_response(),
        Err(e) => error::render(e.into()),
    }
}
