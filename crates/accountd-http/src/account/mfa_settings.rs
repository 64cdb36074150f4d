//! `/api/my-account/mfa-settings` and `/api/my-account/logto-configs` (spec logto §5.7): the
//! user's own MFA choices, stored on the user in core; `skipMfaOnSignIn` really skips the hosted
//! sign-in's second factor unless the tenant requires one.

use accountd_core::account_center::Field;
use accountd_core::user::{MfaSettings, MfaSettingsPatch};
use axum::Json;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::LogtoResult;
use super::extract::{Guarded, LogtoAuth, LogtoJson};

/// `{skipMfaOnSignIn}` (request and answer of `mfa-settings`).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaSettingsBody {
    /// Whether sign-in skips the second factor for this user.
    pub skip_mfa_on_sign_in: bool,
}

impl Guarded for MfaSettingsBody {}

/// The `mfa` part of `logto-configs`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MfaConfig {
    /// Whether the user turned MFA on (omitted while unknown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    /// The user skipped setting up MFA.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
    /// Sign-in skips the second factor.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_mfa_on_sign_in: Option<bool>,
    /// The user dismissed the suggestion to add another factor (request only).
    #[serde(default, skip_serializing)]
    pub additional_binding_suggestion_skipped: Option<bool>,
}

/// The `passkeySignIn` part of `logto-configs`.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
pub struct PasskeySignInConfig {
    /// The user skipped setting up passkey sign-in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skipped: Option<bool>,
}

/// `logto-configs`: the request merges the keys given; the answer shows them all.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct LogtoConfigsBody {
    /// MFA choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mfa: Option<MfaConfig>,
    /// Passkey sign-in choices.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub passkey_sign_in: Option<PasskeySignInConfig>,
}

impl Guarded for LogtoConfigsBody {}

impl LogtoConfigsBody {
    fn view(s: &MfaSettings) -> Self {
        Self {
            mfa: Some(MfaConfig {
                enabled: s.enabled,
                skipped: Some(s.skipped),
                skip_mfa_on_sign_in: Some(s.skip_mfa_on_sign_in),
                additional_binding_suggestion_skipped: None,
            }),
            passkey_sign_in: Some(PasskeySignInConfig { skipped: Some(s.passkey_sign_in_skipped) }),
        }
    }

    fn patch(self) -> MfaSettingsPatch {
        let mfa = self.mfa.unwrap_or_default();
        MfaSettingsPatch {
            enabled: mfa.enabled,
            skipped: mfa.skipped,
            skip_mfa_on_sign_in: mfa.skip_mfa_on_sign_in,
            additional_binding_suggestion_skipped: mfa.additional_binding_suggestion_skipped,
            passkey_sign_in_skipped: self.passkey_sign_in.and_then(|p| p.skipped),
        }
    }
}

/// Whether sign-in skips the second factor for the caller.
#[utoipa::path(get, path = "/api/my-account/mfa-settings", tag = "Account", operation_id = "GetMfaSettings",
    responses((status = 200, body = MfaSettingsBody)))]
pub async fn get_mfa_settings(auth: LogtoAuth) -> LogtoResult<Json<MfaSettingsBody>> {
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    auth.center.require_readable(Field::Mfa)?;
    let s = auth.state().core.mfa_settings(&auth.caller()).await?;
    Ok(Json(MfaSettingsBody { skip_mfa_on_sign_in: s.skip_mfa_on_sign_in }))
}

/// Sets whether sign-in skips the second factor for the caller.
#[utoipa::path(patch, path = "/api/my-account/mfa-settings", tag = "Account", operation_id = "UpdateMfaSettings",
    request_body = MfaSettingsBody, responses((status = 200, body = MfaSettingsBody)))]
pub async fn update_mfa_settings(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<MfaSettingsBody>,
) -> LogtoResult<Json<MfaSettingsBody>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    auth.require_editable(Field::Mfa)?;
    let patch = MfaSettingsPatch { skip_mfa_on_sign_in: Some(body.skip_mfa_on_sign_in), ..Default::default() };
    let s = core.update_mfa_settings(&caller, patch).await?;
    Ok(Json(MfaSettingsBody { skip_mfa_on_sign_in: s.skip_mfa_on_sign_in }))
}

/// The caller's MFA and passkey sign-in choices.
#[utoipa::path(get, path = "/api/my-account/logto-configs", tag = "Account", operation_id = "GetLogtoConfig",
    responses((status = 200, body = LogtoConfigsBody)))]
pub async fn get_logto_configs(auth: LogtoAuth) -> LogtoResult<Json<LogtoConfigsBody>> {
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    auth.center.require_readable(Field::Passkey)?;
    let s = auth.state().core.mfa_settings(&auth.caller()).await?;
    Ok(Json(LogtoConfigsBody::view(&s)))
}

/// Changes the given MFA and passkey sign-in choices, keeping the others.
#[utoipa::path(patch, path = "/api/my-account/logto-configs", tag = "Account", operation_id = "UpdateLogtoConfig",
    request_body = LogtoConfigsBody, responses((status = 200, body = LogtoConfigsBody)))]
pub async fn update_logto_configs(
    auth: LogtoAuth,
    LogtoJson(body): LogtoJson<LogtoConfigsBody>,
) -> LogtoResult<Json<LogtoConfigsBody>> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_scope("identities", StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    auth.require_editable(Field::Passkey)?;
    let s = core.update_mfa_settings(&caller, body.patch()).await?;
    Ok(Json(LogtoConfigsBody::view(&s)))
}
