//! `/api/my-account/identities` (spec logto §5.4, §5.5): linking the identity a verified social
//! record proves, unlinking one, and the provider tokens kept for it — every check in Logto's
//! order.

use accountd_core::account_center::Field;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;

use super::error::{LogtoError, LogtoResult};
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::{AccessTokenBody, IdentityBody, ThirdPartyToken};

/// Links a social identity proved by a verified social record.
#[utoipa::path(post, path = "/api/my-account/identities", tag = "Account", operation_id = "AddUserIdentities",
    request_body = IdentityBody, responses((status = 204, description = "The identity was linked")))]
pub async fn add_identity(auth: LogtoAuth, LogtoJson(body): LogtoJson<IdentityBody>) -> LogtoResult<StatusCode> {
    link(auth, body, false).await
}

/// Links a social identity, replacing the one the user has at that connector.
#[utoipa::path(put, path = "/api/my-account/identities", tag = "Account", operation_id = "ReplaceMyAccountIdentity",
    request_body = IdentityBody, responses((status = 204, description = "The identity was linked or replaced")))]
pub async fn replace_identity(auth: LogtoAuth, LogtoJson(body): LogtoJson<IdentityBody>) -> LogtoResult<StatusCode> {
    link(auth, body, true).await
}

async fn link(auth: LogtoAuth, body: IdentityBody, replace: bool) -> LogtoResult<StatusCode> {
    auth.require_editable(Field::Social)?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    core.link_identity(&caller, &body.new_identifier_verification_record_id, replace).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Unlinks the identity of `target`.
#[utoipa::path(delete, path = "/api/my-account/identities/{target}", tag = "Account", operation_id = "DeleteIdentity",
    params(("target" = String, Path, description = "The social connector target")),
    responses((status = 204, description = "The identity was unlinked")))]
pub async fn delete_identity(auth: LogtoAuth, Path(target): Path<String>) -> LogtoResult<StatusCode> {
    auth.require_editable(Field::Social)?;
    auth.require_scope("identities", StatusCode::BAD_REQUEST)?;
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    core.remove_identity(&caller, &target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The provider's access token kept for the identity of `target`, refreshed when expired.
#[utoipa::path(get, path = "/api/my-account/identities/{target}/access-token", tag = "Account",
    operation_id = "GetSocialIdentityAccessToken",
    params(("target" = String, Path, description = "The social connector target")),
    responses((status = 200, body = ThirdPartyToken)))]
pub async fn get_access_token(auth: LogtoAuth, Path(target): Path<String>) -> LogtoResult<Json<ThirdPartyToken>> {
    require_identities_scope(&auth)?;
    let caller = auth.caller();
    let tokens = auth.state().core.read_upstream_token(&caller.tenant, &caller.user, &caller.ctx, &target).await?;
    Ok(Json(ThirdPartyToken::from(&tokens)))
}

/// Keeps the tokens of a new verified social record of the same provider account.
#[utoipa::path(put, path = "/api/my-account/identities/{target}/access-token", tag = "Account",
    operation_id = "UpdateSocialIdentityAccessTokenByVerificationId", request_body = AccessTokenBody,
    params(("target" = String, Path, description = "The social connector target")),
    responses((status = 200, body = ThirdPartyToken)))]
pub async fn replace_access_token(
    auth: LogtoAuth,
    Path(target): Path<String>,
    LogtoJson(body): LogtoJson<AccessTokenBody>,
) -> LogtoResult<Json<ThirdPartyToken>> {
    require_identities_scope(&auth)?;
    let caller = auth.caller();
    let tokens = auth.state().core.replace_upstream_token(&caller, &target, &body.verification_record_id).await?;
    Ok(Json(ThirdPartyToken::from(&tokens)))
}

/// vendor quirk: the stored-token routes refuse a missing `identities` scope with 403
/// `auth.forbidden`, where the other identity routes say `auth.unauthorized`.
fn require_identities_scope(auth: &LogtoAuth) -> Result<(), LogtoError> {
    if auth.has_scope("identities") { Ok(()) } else { Err(LogtoError::new(StatusCode::FORBIDDEN, "auth.forbidden")) }
}
