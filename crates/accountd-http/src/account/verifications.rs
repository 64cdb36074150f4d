//! `/api/verifications` (spec logto §3, §4.1–§4.7): verification records by password, by a code
//! sent to an email address or phone number, by a sign-in at a social connector (an upstream
//! connection), and by a WebAuthn credential registered.

use accountd_core::clock::to_rfc3339;
use accountd_core::error::{CodeRefusal, Error, Refusal};
use accountd_core::message::Purpose;
use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::{LogtoError, LogtoResult};
use super::extract::{Guarded, LogtoAuth, LogtoJson};
use super::wire::{
    IdentifierKind, PasswordBody, RecordCreated, RecordVerified, SendCodeBody, SocialBody, SocialCreated,
    SocialVerifyBody, TemplateType, VerifyCodeBody,
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

/// `{verificationRecordId, registrationOptions, expiresAt}`.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationStarted {
    /// The WebAuthn record (verify it, then add it as an MFA item).
    pub verification_record_id: String,
    /// `PublicKeyCredentialCreationOptions` for `navigator.credentials.create` (base64url).
    #[schema(value_type = Object)]
    pub registration_options: Value,
    /// When the record expires (ISO 8601).
    pub expires_at: String,
}

/// The only `payload.type` Logto accepts.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub enum WebAuthnType {
    /// `WebAuthn`.
    WebAuthn,
}

/// A transport an authenticator reports.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Transport {
    /// USB.
    Usb,
    /// NFC.
    Nfc,
    /// Bluetooth.
    Ble,
    /// Built in.
    Internal,
    /// caBLE.
    Cable,
    /// Hybrid (phone as authenticator).
    Hybrid,
    /// Smart card.
    SmartCard,
}

/// How the authenticator is attached.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "kebab-case")]
pub enum Attachment {
    /// A roaming authenticator.
    CrossPlatform,
    /// A platform authenticator.
    Platform,
}

/// The attestation part of the payload.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AttestationResponse {
    /// `clientDataJSON` (base64url).
    #[serde(rename = "clientDataJSON")]
    pub client_data_json: String,
    /// The attestation object (base64url).
    pub attestation_object: String,
    /// Authenticator data (base64url).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_data: Option<String>,
    /// Transports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transports: Option<Vec<Transport>>,
    /// COSE algorithm of the key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key_algorithm: Option<i64>,
    /// The public key (base64url SPKI).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_key: Option<String>,
}

/// The browser's `PublicKeyCredential` (its `toJSON()`, with Logto's `type`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct WebAuthnPayload {
    /// `WebAuthn`.
    #[serde(rename = "type")]
    pub kind: WebAuthnType,
    /// The credential id (base64url).
    pub id: String,
    /// The credential id (base64url).
    pub raw_id: String,
    /// The attestation.
    pub response: AttestationResponse,
    /// How the authenticator is attached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub authenticator_attachment: Option<Attachment>,
    /// Extension results (an object, required).
    #[schema(value_type = Object)]
    pub client_extension_results: Map<String, Value>,
}

/// `POST /api/verifications/web-authn/registration/verify`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct VerifyWebAuthnBody {
    /// The record the registration returned.
    pub verification_record_id: String,
    /// The browser's answer.
    pub payload: WebAuthnPayload,
}

impl Guarded for VerifyWebAuthnBody {}

/// Starts registering a passkey: creation options and a WebAuthn record of the caller.
#[utoipa::path(post, path = "/api/verifications/web-authn/registration", tag = "Verification",
    operation_id = "GenerateWebAuthnRegistrationOptions", responses((status = 200, body = RegistrationStarted)))]
pub async fn start_webauthn_registration(auth: LogtoAuth) -> LogtoResult<Json<RegistrationStarted>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let (record, options) = core.start_webauthn_registration(&caller).await?;
    // vendor quirk: 200, where the other record-creating endpoints answer 201 (spec logto §10.6).
    Ok(Json(RegistrationStarted {
        verification_record_id: record.id,
        registration_options: options,
        expires_at: to_rfc3339(record.expires_at),
    }))
}

/// Verifies the browser's attestation for a WebAuthn record.
#[utoipa::path(post, path = "/api/verifications/web-authn/registration/verify", tag = "Verification",
    operation_id = "VerifyWebAuthnRegistration", request_body = VerifyWebAuthnBody,
    responses((status = 200, body = RecordVerified)))]
pub async fn verify_webauthn_registration(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<VerifyWebAuthnBody>,
) -> LogtoResult<Json<RecordVerified>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_first_party(&caller).await?;
    let payload = serde_json::to_value(&body.payload).map_err(|e| Error::Internal(e.into()))?;
    core.verify_webauthn_registration(&caller, &body.verification_record_id, payload).await?;
    Ok(Json(RecordVerified { verification_record_id: body.verification_record_id }))
}

/// Starts proving an identity at a social connector: the URL to send the user to.
#[utoipa::path(post, path = "/api/verifications/social", tag = "Verification",
    operation_id = "CreateVerificationBySocial", request_body = SocialBody,
    responses((status = 201, body = SocialCreated)))]
pub async fn create_by_social(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<SocialBody>,
) -> LogtoResult<(StatusCode, Json<SocialCreated>)> {
    if body.state.is_empty() || body.redirect_uri.is_empty() {
        return Err(LogtoError::new(StatusCode::BAD_REQUEST, "session.insufficient_info"));
    }
    let caller = auth.caller();
    let (record, url) = auth
        .state()
        .core
        .start_social_verification(&caller, &body.connector_id, &body.state, &body.redirect_uri, body.scope.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(SocialCreated {
            verification_record_id: record.id,
            authorization_uri: url,
            expires_at: to_rfc3339(record.expires_at),
        }),
    ))
}

/// Finishes a social verification with the provider's callback query (`connectorData`).
#[utoipa::path(post, path = "/api/verifications/social/verify", tag = "Verification",
    operation_id = "VerifyVerificationBySocial", request_body = SocialVerifyBody,
    responses((status = 200, body = RecordVerified)))]
pub async fn verify_social(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<SocialVerifyBody>,
) -> LogtoResult<Json<RecordVerified>> {
    let caller = auth.caller();
    auth.state().core.verify_social(&caller, &body.verification_record_id, &body.callback()).await?;
    Ok(Json(RecordVerified { verification_record_id: body.verification_record_id }))
}
