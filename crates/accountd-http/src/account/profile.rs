//! `/api/my-account` and `/api/my-account/profile` (spec logto §5.1): the caller's account,
//! filtered by scope and account center, and changes to it in Logto's check order.

use accountd_core::account_center::Field;
use accountd_core::service::AccountPatch;
use axum::Json;
use axum::http::StatusCode;
use serde_json::Value;

use super::error::LogtoResult;
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::{UpdateAccountBody, UpdateProfileBody, account_view, claims_view, shows_identities};

async fn view(auth: &LogtoAuth) -> LogtoResult<Json<Value>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    let (user, has_password) = core.own_account(&caller).await?;
    let scopes = |s: &str| auth.has_scope(s);
    // Identities cost a read of their own: only when they will be shown.
    let identities =
        if shows_identities(&scopes, &auth.center) { Some(core.list_identities(&caller).await?) } else { None };
    Ok(Json(account_view(&user, has_password, identities.as_deref(), &scopes, &auth.center)))
}

/// The caller's account.
#[utoipa::path(get, path = "/api/my-account", tag = "Account", operation_id = "GetProfile",
    responses((status = 200, description = "The user's profile, filtered by scopes and account-center fields")))]
pub async fn get_profile(auth: LogtoAuth) -> LogtoResult<Json<Value>> {
    view(&auth).await
}

/// Changes name, avatar, username (with `logto-verification-id`) or custom data (replaced).
#[utoipa::path(patch, path = "/api/my-account", tag = "Account", operation_id = "UpdateProfile",
    request_body = UpdateAccountBody, responses((status = 200, description = "The updated profile")))]
pub async fn update_profile(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<UpdateAccountBody>,
) -> LogtoResult<Json<Value>> {
    for (given, field) in [
        (body.name.is_given(), Field::Name),
        (body.avatar.is_given(), Field::Avatar),
        (body.username.is_given(), Field::Username),
        (body.custom_data.is_some(), Field::CustomData),
    ] {
        if given {
            auth.require_editable(field)?;
        }
    }
    auth.require_scope("profile", StatusCode::BAD_REQUEST)?;
    if body.custom_data.is_some() {
        auth.require_scope("custom_data", StatusCode::BAD_REQUEST)?;
    }
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let patch =
        AccountPatch { name: body.name, picture: body.avatar, username: body.username, custom_data: body.custom_data };
    core.update_account(&caller, patch).await?;
    view(&auth).await
}

/// Changes the OIDC standard claims (shallow merge; `address` needs its scope).
#[utoipa::path(patch, path = "/api/my-account/profile", tag = "Account", operation_id = "UpdateOtherProfile",
    request_body = UpdateProfileBody, responses((status = 200, description = "The resulting profile object")))]
pub async fn update_other_profile(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<UpdateProfileBody>,
) -> LogtoResult<Json<Value>> {
    auth.require_editable(Field::Profile)?;
    auth.require_scope("profile", StatusCode::BAD_REQUEST)?;
    if body.address.is_some() {
        auth.require_scope("address", StatusCode::BAD_REQUEST)?;
    }
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let user = core.update_standard_claims(&caller, body.into()).await?;
    Ok(Json(Value::Object(claims_view(&user, auth.has_scope("address")))))
}
