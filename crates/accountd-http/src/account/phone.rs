//! `/api/my-account/primary-phone` (spec logto §5.3): POST (and PATCH) to replace, DELETE to remove.

use accountd_core::account_center::Field;
use accountd_core::service::Address;
use axum::http::StatusCode;

use super::email::preamble;
use super::error::LogtoResult;
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::PrimaryPhoneBody;

/// Replaces the primary phone with one proved by a code record.
#[utoipa::path(post, path = "/api/my-account/primary-phone", tag = "Account", operation_id = "UpdatePrimaryPhone",
    request_body = PrimaryPhoneBody, responses((status = 204, description = "The primary phone was replaced")))]
pub async fn update_primary_phone(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<PrimaryPhoneBody>,
) -> LogtoResult<StatusCode> {
    preamble(&auth, Field::Phone, "phone").await?;
    let address = Address::Phone(body.phone);
    auth.state()
        .core
        .change_primary_address(&auth.caller(), &address, &body.new_identifier_verification_record_id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Removes the primary phone, unless it is the last identifier.
#[utoipa::path(delete, path = "/api/my-account/primary-phone", tag = "Account", operation_id = "DeletePrimaryPhone",
    responses((status = 204, description = "The primary phone was removed")))]
pub async fn delete_primary_phone(auth: LogtoAuth) -> LogtoResult<StatusCode> {
    preamble(&auth, Field::Phone, "phone").await?;
    auth.state().core.remove_primary_address(&auth.caller(), Field::Phone).await?;
    Ok(StatusCode::NO_CONTENT)
}
