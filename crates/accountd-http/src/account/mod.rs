//! Logto's Account API (`/api/my-account…`), Verification API (`/api/verifications/…`) and
//! account-center settings (`/api/account-center`), in Logto's dialect (spec logto-account-api.md).
//! Every account and verification route sits behind [`extract::gate`] (the user's opaque token,
//! the account center switched on, the request limits); each handler runs Logto's checks in
//! Logto's order and calls one core operation. `PATCH` is accepted beside `POST` where Logto's
//! guide writes it (primary email and phone, code verification, identities).

pub mod account_center;
pub mod email;
pub mod error;
pub mod export;
pub mod extract;
pub mod identities;
pub mod mfa_settings;
pub mod mfa_verifications;
pub mod password;
pub mod phone;
pub mod profile;
pub mod security_events;
pub mod sessions;
pub mod verifications;
pub mod wire;

use std::sync::Arc;

use axum::Router;
use axum::response::IntoResponse;
use axum::routing::{any, get, patch, post};
use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The OpenAPI document's header.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "accountd Account API (Logto dialect)",
        description = "Logto-compatible Account and Verification APIs of accountd, for the signed-in user."
    ),
    components(schemas(sessions::RevokeGrantsTarget, sessions::AppTypeFilter))
)]
struct ApiDoc;

/// The user-facing routes with their OpenAPI description.
fn user_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(profile::get_profile, profile::update_profile))
        .routes(routes!(profile::update_other_profile))
        .routes(routes!(password::update_password))
        .routes(routes!(email::update_primary_email, email::delete_primary_email))
        .routes(routes!(phone::update_primary_phone, phone::delete_primary_phone))
        .routes(routes!(identities::add_identity, identities::replace_identity))
        .routes(routes!(identities::delete_identity))
        .routes(routes!(identities::get_access_token, identities::replace_access_token))
        .routes(routes!(verifications::create_by_social))
        .routes(routes!(verifications::verify_social))
        .routes(routes!(verifications::create_by_password))
        .routes(routes!(verifications::create_by_code))
        .routes(routes!(verifications::verify_code))
        .routes(routes!(sessions::list_sessions))
        .routes(routes!(security_events::list_security_events))
        .routes(routes!(security_events::report_security_event))
        .routes(routes!(export::export_account))
        .routes(routes!(sessions::delete_session))
        .routes(routes!(sessions::list_grants))
        .routes(routes!(sessions::delete_grant))
        .routes(routes!(verifications::start_webauthn_registration))
        .routes(routes!(verifications::verify_webauthn_registration))
        .routes(routes!(mfa_verifications::list_mfa_verifications, mfa_verifications::add_mfa_verification))
        .routes(routes!(mfa_verifications::replace_totp))
        .routes(routes!(mfa_verifications::generate_totp_secret))
        .routes(routes!(mfa_verifications::generate_backup_codes))
        .routes(routes!(mfa_verifications::get_backup_codes))
        .routes(routes!(mfa_verifications::rename_mfa_verification))
        .routes(routes!(mfa_verifications::delete_mfa_verification))
        .routes(routes!(mfa_settings::get_mfa_settings, mfa_settings::update_mfa_settings))
        .routes(routes!(mfa_settings::get_logto_configs, mfa_settings::update_logto_configs))
}

/// The routes.
pub fn routes(state: AppState) -> Router<AppState> {
    let (user, mut openapi) = user_routes().split_for_parts();
    crate::common::openapi::declare_path_params(&mut openapi);
    let openapi = Arc::new(openapi);
    // vendor quirk: Logto's guide writes PATCH where its code uses POST (spec logto §10.1): the same
    // handlers answer them.
    let user = user
        .route("/api/my-account/primary-email", patch(email::update_primary_email))
        .route("/api/my-account/primary-phone", patch(phone::update_primary_phone))
        .route("/api/my-account/identities", patch(identities::add_identity))
        .route("/api/verifications/verification-code/verify", patch(verifications::verify_code))
        .route_layer(axum::middleware::from_fn_with_state(state, extract::gate))
        // Anything else under these prefixes answers in Logto's format.
        .route("/api/my-account/{*rest}", any(|| async { error::LogtoError::no_route().into_response() }))
        .route("/api/verifications/{*rest}", any(|| async { error::LogtoError::no_route().into_response() }));
    let settings = Router::new()
        .route(
            "/api/account-center",
            get(account_center::get_account_center).patch(account_center::update_account_center),
        )
        .route("/api/.well-known/account-center", get(account_center::get_public_account_center))
        .route(
            "/api/.well-known/user.openapi.json",
            get(move || {
                let doc = openapi.clone();
                async move { axum::Json(doc.as_ref().clone()) }
            }),
        )
        .route_layer(axum::middleware::from_fn(extract::with_lang));
    user.merge(settings).route("/api/account-center/{*rest}", post(|| async { error::LogtoError::no_route() }))
}
