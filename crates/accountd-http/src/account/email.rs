//! `/api/my-account/primary-email` (spec logto §5.3): POST (and PATCH, as Logto's docs write it)
//! to replace, DELETE to remove.

use accountd_core::account_center::Field;
use accountd_core::service::Address;
use axum::http::StatusCode;

use super::error::LogtoResult;
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::PrimaryEmailBody;

/// Checks in Logto's order up to the first-party rule: proof, field, scope.
pub(super) async fn preamble(auth: &LogtoAuth, field: Field, scope: &str) -> LogtoResult<()> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_editable(field)?;
    auth.require_scope(scope, StatusCode::BAD_REQUEST)?;
    core.require_first_party(&caller).await?;
    Ok(())
}

/// Replaces the primary email with one proved by a code record.
#[utoipa::path(post, path = "/api/my-account/primary-email", tag = "Account", operation_id = "UpdatePrimaryEmail",
    request_body = PrimaryEmailBody, responses((status = 204, description = "The primary email was replaced")))]
pub async fn update_primary_email(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<PrimaryEmailBody>,
) -> LogtoResult<StatusCode> {
    preamble(&auth, Field::Email, "email").await?;
    let address = Address::Email(body.email);
    auth.state()
        .core
        .change_primary_address(&auth.caller(), &address, &body.new_identifier_verification_record_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the primary email, unless it is the last identifier.
#[utoipa::path(delete, path = "/api/my-account/primary-email", tag = "Account", operation_id = "DeletePrimaryEmail",
    responses((status = 204, description = "The primary email was removed")))]
pub async fn delete_primary_email(auth: LogtoAuth) -> LogtoResult<StatusCode> {
    preamble(&auth, Field::Email, "email").await?;
    auth.state().core.remove_primary_address(&auth.caller(), Field::Email).await?;
    Ok(StatusCode::NO_CONTENT)
}
