//! `/api/my-account/mfa-verifications…` (spec logto §5.6): the user's MFA items — TOTP apps,
//! WebAuthn credentials, backup codes — which are the authentication methods
//! `/me/v1/authentication-methods` lists. Each handler runs Logto's checks in Logto's order, then
//! one core operation.

use accountd_core::account_center::Field;
use accountd_core::authn::policy::MfaFactor;
use accountd_core::authn::{recovery_code, totp};
use accountd_core::clock::to_rfc3339;
use accountd_core::error::{Entity, Error};
use accountd_core::service::MfaItem;
use axum::Json;
use axum::extract::Path;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use zeroize::Zeroizing;

use super::error::{LogtoError, LogtoResult};
use super::extract::{Guarded, LogtoAuth, LogtoJson};

/// Logto's name of a factor.
fn factor_name(f: MfaFactor) -> &'static str {
    match f {
        MfaFactor::Totp => "Totp",
        MfaFactor::WebAuthn => "WebAuthn",
        MfaFactor::BackupCode => "BackupCode",
    }
}

/// An MFA item as Logto lists it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaVerificationResponse {
    /// The item's id (the authentication method's id).
    pub id: String,
    /// When it was added (ISO 8601).
    pub created_at: String,
    /// `Totp`, `WebAuthn` or `BackupCode`.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// WebAuthn: when it last signed in (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_used_at: Option<String>,
    /// WebAuthn: the browser that registered it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent: Option<String>,
    /// WebAuthn: the name the user gave it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// BackupCode: how many codes are left.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub remain_codes: Option<usize>,
}

impl MfaVerificationResponse {
    fn of(item: &MfaItem) -> Option<Self> {
        let m = &item.method;
        let factor = MfaFactor::of(m.method_type)?;
        let webauthn = factor == MfaFactor::WebAuthn;
        Some(Self {
            id: m.id.clone(),
            created_at: to_rfc3339(m.created_at),
            kind: factor_name(factor),
            last_used_at: m.last_used_at.filter(|_| webauthn).map(to_rfc3339),
            agent: m.details.user_agent.clone().filter(|_| webauthn),
            name: m.name.clone().filter(|_| webauthn),
            remain_codes: item.remaining_codes.filter(|_| factor == MfaFactor::BackupCode),
        })
    }
}

/// `POST /api/my-account/mfa-verifications`: one of three shapes, by `type`.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum AddMfaVerificationBody {
    /// A passkey from a verified WebAuthn registration record.
    #[serde(rename_all = "camelCase")]
    WebAuthn {
        /// The record `POST /api/verifications/web-authn/registration/verify` verified.
        new_identifier_verification_record_id: String,
        /// A name for it.
        name: Option<String>,
    },
    /// A TOTP app.
    Totp {
        /// The base32 secret (16 to 32 characters).
        secret: String,
        /// A current code from the app.
        code: Option<String>,
    },
    /// Backup codes.
    BackupCode {
        /// Exactly 10 codes of 10 hex characters.
        codes: Vec<String>,
    },
}

impl Guarded for AddMfaVerificationBody {}

impl AddMfaVerificationBody {
    fn factor(&self) -> MfaFactor {
        match self {
            AddMfaVerificationBody::WebAuthn { .. } => MfaFactor::WebAuthn,
            AddMfaVerificationBody::Totp { .. } => MfaFactor::Totp,
            AddMfaVerificationBody::BackupCode { .. } => MfaFactor::BackupCode,
        }
    }
}

/// `PUT /api/my-account/mfa-verifications/totp`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ReplaceTotpBody {
    /// The base32 secret.
    pub secret: String,
    /// A current code from the app.
    pub code: String,
}

impl Guarded for ReplaceTotpBody {}

/// `PATCH /api/my-account/mfa-verifications/{verificationId}/name`.
#[derive(Debug, Deserialize, ToSchema)]
pub struct RenameBody {
    /// The new name.
    pub name: String,
}

impl Guarded for RenameBody {}

/// `{secret}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct TotpSecretResponse {
    /// A fresh base32 secret (nothing is stored).
    pub secret: String,
}

/// `{codes}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GeneratedCodesResponse {
    /// 10 fresh codes (nothing is stored).
    pub codes: Vec<String>,
}

/// One backup code with its use.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BackupCodeResponse {
    /// The code.
    pub code: String,
    /// When it was used (ISO 8601).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub used_at: Option<String>,
}

/// `{codes: [{code, usedAt?}]}`.
#[derive(Debug, Serialize, ToSchema)]
pub struct BackupCodesResponse {
    /// The set's codes.
    pub codes: Vec<BackupCodeResponse>,
}

/// The caller's MFA items.
#[utoipa::path(get, path = "/api/my-account/mfa-verifications", tag = "Account",
    operation_id = "GetMfaVerifications", responses((status = 200, body = [MfaVerificationResponse])))]
pub async fn list_mfa_verifications(auth: LogtoAuth) -> LogtoResult<Json<Vec<MfaVerificationResponse>>> {
    auth.center.require_readable(Field::Mfa)?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    let items = auth.state().core.list_mfa_items(&auth.caller()).await?;
    Ok(Json(items.iter().filter_map(MfaVerificationResponse::of).collect()))
}

/// Adds a TOTP app, backup codes, or a passkey from a WebAuthn registration record.
#[utoipa::path(post, path = "/api/my-account/mfa-verifications", tag = "Account",
    operation_id = "AddMfaVerification", request_body = AddMfaVerificationBody,
    responses((status = 204, description = "The item was added")))]
pub async fn add_mfa_verification(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<AddMfaVerificationBody>,
) -> LogtoResult<StatusCode> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_editable(body.factor().field())?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    core.require_mfa_factor(&caller.tenant, body.factor()).await?;
    match body {
        AddMfaVerificationBody::Totp { secret, code } => core.add_totp(&caller, Zeroizing::new(secret), code).await?,
        AddMfaVerificationBody::BackupCode { codes } => {
            core.add_backup_codes(&caller, codes.into_iter().map(Zeroizing::new).collect()).await?
        }
        AddMfaVerificationBody::WebAuthn { new_identifier_verification_record_id: record, name } => {
            core.add_webauthn_credential(&caller, &record, name).await.map(|_| ())?
        }
    }
    Ok(StatusCode::NO_CONTENT)
}

/// Adds a TOTP app or replaces the current one (the code is required).
#[utoipa::path(put, path = "/api/my-account/mfa-verifications/totp", tag = "Account",
    operation_id = "CreateOrReplaceTotpMfaVerification", request_body = ReplaceTotpBody,
    responses((status = 204, description = "The TOTP app was set")))]
pub async fn replace_totp(auth: LogtoAuth, LogtoJson(body): LogtoJson<ReplaceTotpBody>) -> LogtoResult<StatusCode> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_editable(Field::Mfa)?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    core.require_mfa_factor(&caller.tenant, MfaFactor::Totp).await?;
    core.replace_totp(&caller, Zeroizing::new(body.secret), body.code).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A fresh TOTP secret to show; nothing is stored.
#[utoipa::path(post, path = "/api/my-account/mfa-verifications/totp-secret/generate", tag = "Account",
    operation_id = "GenerateTotpSecret", responses((status = 200, body = TotpSecretResponse)))]
pub async fn generate_totp_secret(_auth: LogtoAuth) -> Json<TotpSecretResponse> {
    Json(TotpSecretResponse { secret: totp::generate_secret() })
}

/// Ten fresh backup codes to show; nothing is stored.
#[utoipa::path(post, path = "/api/my-account/mfa-verifications/backup-codes/generate", tag = "Account",
    operation_id = "GenerateMyAccountBackupCodes", responses((status = 200, body = GeneratedCodesResponse)))]
pub async fn generate_backup_codes(_auth: LogtoAuth) -> Json<GeneratedCodesResponse> {
    Json(GeneratedCodesResponse { codes: recovery_code::generate_backup_codes() })
}

/// The caller's backup codes and their use.
#[utoipa::path(get, path = "/api/my-account/mfa-verifications/backup-codes", tag = "Account",
    operation_id = "GetBackupCodes", responses((status = 200, body = BackupCodesResponse)))]
pub async fn get_backup_codes(auth: LogtoAuth) -> LogtoResult<Json<BackupCodesResponse>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    // vendor quirk: no backup codes is a 404 here, where every other missing item is a 400.
    let codes = core.backup_codes(&caller).await.map_err(|e| match e {
        Error::NotFound(Entity::AuthenticationMethod) => {
            LogtoError::new(StatusCode::NOT_FOUND, "verification_record.not_found")
        }
        other => other.into(),
    })?;
    Ok(Json(BackupCodesResponse {
        codes: codes
            .into_iter()
            .map(|c| BackupCodeResponse { code: c.code, used_at: c.used_at.map(to_rfc3339) })
            .collect(),
    }))
}

/// A missing MFA item is Logto's 400 `verification_record.not_found`.
fn item_not_found(e: Error) -> LogtoError {
    match e {
        Error::NotFound(Entity::AuthenticationMethod) => {
            LogtoError::new(StatusCode::BAD_REQUEST, "verification_record.not_found")
        }
        other => other.into(),
    }
}

/// Renames a WebAuthn credential.
#[utoipa::path(patch, path = "/api/my-account/mfa-verifications/{verificationId}/name", tag = "Account",
    operation_id = "UpdateMfaVerificationName", request_body = RenameBody,
    params(("verificationId" = String, Path, description = "The item's id")),
    responses((status = 200, description = "Renamed (Logto answers a plain `OK`, no JSON)")))]
pub async fn rename_mfa_verification(
    auth: LogtoAuth,
    Path(id): Path<String>,
    LogtoJson(body): LogtoJson<RenameBody>,
) -> LogtoResult<(StatusCode, &'static str)> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_editable(Field::Passkey)?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    core.rename_webauthn_credential(&caller, &id, body.name).await.map_err(item_not_found)?;
    // vendor quirk: 200 with Koa's plain "OK", no JSON body (spec logto §10.5).
    Ok((StatusCode::OK, "OK"))
}

/// Removes an MFA item (the same method `/me/v1` lists).
#[utoipa::path(delete, path = "/api/my-account/mfa-verifications/{verificationId}", tag = "Account",
    operation_id = "DeleteMfaVerification", params(("verificationId" = String, Path, description = "The item's id")),
    responses((status = 204, description = "Removed")))]
pub async fn delete_mfa_verification(auth: LogtoAuth, Path(id): Path<String>) -> LogtoResult<StatusCode> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    let method = core.get_authentication_method(&caller.tenant, &caller.user, &id).await.map_err(item_not_found)?;
    let Some(factor) = MfaFactor::of(method.method_type) else {
        return Err(item_not_found(Error::NotFound(Entity::AuthenticationMethod)));
    };
    auth.require_editable(factor.field())?;
    core.delete_authentication_method(&caller, &id).await.map_err(item_not_found)?;
    Ok(StatusCode::NO_CONTENT)
}
