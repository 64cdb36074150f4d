//! The My Account API `/me/v1` in Auth0's dialect (spec auth0-myaccount.md): the signed-in user's
//! authentication methods, factors and profile. Every route sits behind [`extract::gate`]
//! (authentication for `{scheme}://{host}/me/`, rate limits, `x-ratelimit-*` headers).

pub mod authentication_methods;
pub mod error;
pub mod extract;
pub mod factors;
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
        .route("/me/v1/factors", get(factors::list_factors))
        .route(
            "/me/v1/authentication-methods",
            get(am::list_authentication_methods).post(am::create_authentication_method),
        )
        .route(
            "/me/v1/authentication-methods/{id}",
            get(am::get_authentication_method)
                .patch(am::update_authentication_method)
                .delete(am::delete_authentication_method),
        )
        .route("/me/v1/authentication-methods/{id}/verify", axum::routing::post(am::verify_authentication_method))
        .route("/me/v1/profile", get(profile::get_profile).patch(profile::update_profile))
        .route_layer(axum::middleware::from_fn_with_state(state, extract::gate))
        // Anything else under /me/ answers in this API's error format, not the generic one.
        .route(
            "/me/{*rest}",
            any(|m: Method, u: Uri| async move { error::MeError::no_route(m.as_str(), u.path()).into_response() }),
        )
}
