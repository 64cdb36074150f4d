//! The My Account API `/me/v1` in Auth0's dialect (spec auth0-myaccount.md): the signed-in user's
//! authentication methods, factors and profile. Every route sits behind [`extract::gate`]
//! (authentication for `{scheme}://{host}/me/`, rate limits, `x-ratelimit-*` headers).

pub mod authentication_methods;
pub mod error;
pub mod extract;
pub mod profile;
pub mod wire;

use axum::Router;
use axum::http::{Method, Uri};
use axum::response::IntoResponse;
use axum::routing::{any, get};

use crate::AppState;

/// The `/me/v1` routes.
pub fn routes(state: AppState) -> Router<AppState> {
    use authentication_methods as am;
    Router::new()
        .route("/me/v1/factors", get(am::factors))
        .route("/me/v1/authentication-methods", get(am::list).post(am::create))
        .route("/me/v1/authentication-methods/{id}", get(am::get).patch(am::update).delete(am::delete))
        .route("/me/v1/authentication-methods/{id}/verify", axum::routing::post(am::verify))
        .route("/me/v1/profile", get(profile::get).patch(profile::update))
        .route_layer(axum::middleware::from_fn_with_state(state, extract::gate))
        // Anything else under /me/ answers in this API's error format, not the generic one.
        .route(
            "/me/{*rest}",
            any(|m: Method, u: Uri| async move { error::MeError::no_route(m.as_str(), u.path()).into_response() }),
        )
}
