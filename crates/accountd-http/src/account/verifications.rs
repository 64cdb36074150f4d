//! `/api/verifications` (spec logto §3, §4.1–§4.3): verification records by password and by a code
//! sent to an email address or phone number.

use accountd_core::error::{CodeRefusal, Error, Refusal};
use accountd_core::message::Purpose;
use axum::Json;
use axum::http::StatusCode;
use serde_json::json;
use zeroize::Zeroizing;

use super::error::{LogtoError, LogtoResult};
use super::extract::{LogtoAuth, LogtoJson};
use super::wire::{
    IdentifierKind, PasswordBody, RecordCreated, RecordVerified, SendCodeBody, TemplateType, VerifyCodeBody,
};

/// Proves the caller's identity with their password.
#[utoipa::path(post, path = "/api/verifications/password", tag = "Verification",
    operation_id = "CreateVerificationByPassword", request_body = PasswordBody,
    responses((status = 201, body = RecordCreated)))]
pub async fn create_by_password(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<PasswordBody>,
) -> LogtoResult<(StatusCode, Json<RecordCreated>)> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let record = core.verify_password(&caller, Zeroizing::new(body.password)).await?;
    Ok((StatusCode::CREATED, Json(RecordCreated::of(&record))))
}

/// Sends a code to an email address or phone number and records it.
#[utoipa::path(post, path = "/api/verifications/verification-code", tag = "Verification",
    operation_id = "CreateVerificationByVerificationCode", request_body = SendCodeBody,
    responses((status = 201, body = RecordCreated)))]
pub async fn create_by_code(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<SendCodeBody>,
) -> LogtoResult<(StatusCode, Json<RecordCreated>)> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let purpose = body.template_type.map(|t| match t {
        TemplateType::UserPermissionValidation => Purpose::UserPermissionValidation,
        TemplateType::BindMfa => Purpose::BindMfa,
    });
    let client = &auth.claims.client_id;
    let app =
        core.get_application(&caller.tenant, client).await.ok().map(|a| json!({ "id": a.client_id, "name": a.name }));
    let record = core.send_verification_code(&caller, &body.identifier.address(), purpose, app).await?;
    Ok((StatusCode::CREATED, Json(RecordCreated::of(&record))))
}

/// Checks the code of a code record and marks it verified.
#[utoipa::path(post, path = "/api/verifications/verification-code/verify", tag = "Verification",
    operation_id = "VerifyVerificationByVerificationCode", request_body = VerifyCodeBody,
    responses((status = 200, body = RecordVerified)))]
pub async fn verify_code(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<VerifyCodeBody>,
) -> LogtoResult<Json<RecordVerified>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    match core.verify_code(&caller, &body.verification_id, &body.identifier.address(), &body.code).await {
        Ok(()) => Ok(Json(RecordVerified { verification_record_id: body.verification_id })),
        Err(Error::Refused(Refusal::Code(CodeRefusal::WrongAddress)))
            if body.identifier.kind == IdentifierKind::Phone =>
        {
            Err(LogtoError::new(StatusCode::BAD_REQUEST, "verification_code.phone_mismatch"))
        }
        Err(e) => Err(e.into()),
    }
}
