//! `/api/my-account/identities` (spec logto §5.4): linking needs a verified social record (the
//! social verification is the next slice, so none exists yet) and unlinking an identity the user
//! has; every check before that is Logto's, in its order.

use accountd_core::account_center::Field;
use axum::extract::Path;
use axum::http::StatusCode;

use super::error::LogtoResult;
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::IdentityBody;

/// Links a social identity proved by a verified social record.
#[utoipa::path(post, path = "/api/my-account/identities", tag = "Account", operation_id = "AddUserIdentities",
    request_body = IdentityBody, responses((status = 204, description = "The identity was linked")))]
pub async fn add_identity(auth: LogtoAuth, LogtoJson(body): LogtoJson<IdentityBody>) -> LogtoResult<StatusCode> {
    auth.require_editable(Field::Social)?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    core.link_identity(&caller, &body.new_identifier_verification_record_id, false).await?;
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
