//! The OAuth endpoints' OpenAPI document, `GET /oauth/openapi.json`: `/authorize`'s query, the
//! form bodies of `/oauth/token`, `/oauth/revoke` and `/oauth/introspect`, and `/userinfo`, each
//! described by the type that parses it.

use std::sync::Arc;

use axum::Router;
use axum::routing::get;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The document's header.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "accountd OAuth 2.0 and OpenID Connect endpoints",
        description = "Authorization, token, revocation, introspection and userinfo endpoints of accountd. \
                       Discovery (`/.well-known/openid-configuration`) names the same endpoints."
    ),
    modifiers(&Schemes)
)]
struct ApiDoc;

struct Schemes;

impl utoipa::Modify for Schemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let c = openapi.components.get_or_insert_with(Default::default);
        c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        c.add_security_scheme("client_secret_basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// A successful token answer (RFC 6749 §5.1; `issued_token_type` for the Token Vault exchange).
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `token` renders
pub struct TokenResponse {
    access_token: String,
    /// `Bearer`, or `DPoP` for a DPoP-bound token.
    token_type: String,
    expires_in: u64,
    refresh_token: Option<String>,
    id_token: Option<String>,
    scope: Option<String>,
    issued_token_type: Option<String>,
}

/// An RFC 6749 §5.2 error.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `error::render` writes
pub struct OAuthErrorBody {
    error: String,
    error_description: Option<String>,
}

/// An RFC 7662 answer: `active`, and for an active token its claims.
#[derive(ToSchema)]
#[allow(dead_code)] // describes the JSON `token::introspect` renders
pub struct Introspection {
    active: bool,
    scope: Option<String>,
    client_id: Option<String>,
    sub: Option<String>,
    exp: Option<i64>,
    iat: Option<i64>,
    iss: Option<String>,
    token_type: Option<String>,
}

/// The described routes, with `GET /oauth/openapi.json` serving their document.
pub fn described_routes() -> Router<AppState> {
    let (router, mut doc) = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(super::authorize::authorize))
        .routes(routes!(super::token::token))
        .routes(routes!(super::token::revoke))
        .routes(routes!(super::token::introspect))
        .routes(routes!(super::userinfo::userinfo))
        .split_for_parts();
    crate::common::openapi::declare_path_params(&mut doc);
    let doc = Arc::new(doc);
    router.route(
        "/oauth/openapi.json",
        get(move || {
            let doc = doc.clone();
            async move { axum::Json(doc.as_ref().clone()) }
        }),
    )
}
