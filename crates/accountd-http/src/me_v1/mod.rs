//! The My Account API `/me/v1` in Auth0's dialect (spec auth0-myaccount.md): the signed-in user's
//! authentication methods, factors, profile and connected accounts. Every route sits behind [`extract::gate`]
//! (authentication for `{scheme}://{host}/me/`, rate limits, `x-ratelimit-*` headers) but the
//! OpenAPI document, `GET /me/v1/openapi.json`, which is public.

pub mod authentication_methods;
pub mod connected_accounts;
pub mod error;
pub mod export;
pub mod extract;
pub mod factors;
pub mod profile;
pub mod security_events;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get};
use utoipa::OpenApi;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The OpenAPI document's header.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "accountd My Account API (Auth0 dialect)",
        description = "Auth0-compatible My Account API of accountd, for the signed-in user."
    ),
    modifiers(&BearerAuth)
)]
struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        if let Some(c) = openapi.components.as_mut() {
            c.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        }
    }
}

/// The authenticated routes with their OpenAPI description.
fn user_routes() -> OpenApiRouter<AppState> {
    use authentication_methods as am;
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(factors::list_factors))
        .routes(routes!(am::list_authentication_methods, am::create_authentication_method))
        .routes(routes!(
            am::get_authentication_method,
            am::update_authentication_method,
            am::delete_authentication_method
        ))
        .routes(routes!(am::verify_authentication_method))
        .routes(routes!(profile::get_profile, profile::update_profile))
        .routes(routes!(security_events::list_security_events))
        .routes(routes!(security_events::report_security_event))
        .routes(routes!(export::export_account))
        .routes(routes!(connected_accounts::create_connected_account_request))
        .routes(routes!(connected_accounts::complete_connected_account_request))
        .routes(routes!(connected_accounts::get_connected_accounts))
        .routes(routes!(connected_accounts::get_connected_accounts_connections))
        .routes(routes!(connected_accounts::delete_connected_account))
}

/// The `/me/v1` routes.
pub fn routes(state: AppState) -> Router<AppState> {
    let (user, mut openapi) = user_routes().split_for_parts();
    crate::common::openapi::declare_path_params(&mut openapi);
    let openapi = Arc::new(openapi);
    user.route_layer(axum::middleware::from_fn_with_state(state, extract::gate))
        .route(
            "/me/v1/openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        // Anything else under /me/ answers in this API's error format, not the generic one.
        .route(
            "/me/{*rest}",
            any(|m: Method, u: Uri| async move { error::MeError::no_route(m.as_str(), u.path()).into_response() }),
        )
}
