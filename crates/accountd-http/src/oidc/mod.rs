//! The authorization server's endpoints: discovery, `/authorize` and the sign-in page,
//! `/oauth/token`, `/userinfo`, `/oauth/revoke`, logout, JWKS.

pub mod authorize;
pub mod connect;
pub mod discovery;
pub mod error;
pub mod logout;
pub mod openapi;
pub mod pages;
pub mod passkey;
pub mod second_factor;
pub mod token;
pub mod upstream;
pub mod userinfo;

use accountd_oauth::OAuthError;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::header;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};

use crate::AppState;
use crate::common::input::{self, EdgeError as _};
use crate::common::tenant::RequestTenant;

/// The authorization server's routes.
pub fn routes() -> Router<AppState> {
    Router::new()
        .merge(openapi::described_routes())
        .route("/.well-known/openid-configuration", get(discovery::openid_configuration))
        .route("/oidc/.well-known/openid-configuration", get(discovery::openid_configuration))
        // RFC 8414: the same metadata for OAuth clients that look here.
        .route("/.well-known/oauth-authorization-server", get(discovery::openid_configuration))
        .route("/.well-known/jwks.json", get(jwks))
        .route("/u/login", post(authorize::login))
        .route("/u/consent", post(authorize::consent))
        .route("/u/signup", post(authorize::signup))
        .route("/u/mfa", post(second_factor::mfa))
        .route("/u/upstream", get(upstream::start))
        .route("/u/upstream/callback", get(upstream::callback))
        .route("/passkey/challenge", post(passkey::challenge))
        .route("/passkey/register", post(passkey::register))
        .route("/u/passkey/options", post(second_factor::passkey_options))
        .route("/u/passkey/login", post(second_factor::passkey_login))
        .route("/u/assets/accountd.js", get(second_factor::script))
        .route("/u/assets/accountd.css", get(second_factor::stylesheet))
        // Where Logto's own clients (`@logto/api`) post, whatever discovery says.
        .route("/oidc/token", post(token::token))
        .route("/v2/logout", get(logout::logout))
        .route("/connected-accounts/connect", get(connect::connect))
        .route("/connected-accounts/callback", get(connect::callback))
        .route("/oidc/logout", get(logout::logout))
        .layer(axum::middleware::from_fn(screen_uri))
}

/// Refuses a query with a control character (client ids, redirect URIs and hints reach the
/// database): an error page where a browser is sent, OAuth's JSON error elsewhere.
async fn screen_uri(req: Request, next: Next) -> Response {
    let Some(refused) = input::refused_in_uri(req.uri(), None) else {
        return next.run(req).await;
    };
    let path = req.uri().path();
    let page = path == "/authorize" || path.starts_with("/u/") || path.ends_with("/logout");
    if page { pages::PageError::refused(&refused).respond() } else { OAuthError::refused(&refused).respond() }
}

/// The tenant's public signing keys, current and recently retired.
async fn jwks(State(state): State<AppState>, rt: RequestTenant) -> axum::response::Response {
    match state.keys.get(&rt.tenant.id).await {
        Ok(ring) => ([(header::CACHE_CONTROL, "public, max-age=300")], axum::Json(ring.jwks().clone())).into_response(),
        Err(e) => error::render(e.into()),
    }
}
