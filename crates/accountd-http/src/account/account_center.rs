//! `/api/account-center` (spec logto §2): the tenant's account-center settings, read and changed
//! with a management token — accountd's own (`{base}/api/v2/`, `read:tenant_settings` /
//! `update:tenant_settings`) or one for a Logto-style management resource (`{base}/api` with
//! scope `all`, as `@logto/api` asks for) — and `/api/.well-known/account-center` for anyone.

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde_json::Value;

use super::error::{LogtoError, LogtoResult};
use super::extract::LogtoJson;
use super::wire::{AccountCenterBody, account_center_view};
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::principal;
use crate::common::tenant::RequestTenant;

/// A management caller of the account-center settings.
pub struct SettingsAuth {
    claims: accountd_oauth::access_token::AccessTokenClaims,
    info: ClientInfo,
}

impl SettingsAuth {
    fn require(&self, scope: &str) -> LogtoResult<accountd_core::audit::Context> {
        if self.claims.has_scope(scope) || self.claims.has_scope("all") {
            Ok(self.info.context(accountd_core::audit::Actor::Client(self.claims.client_id.clone())))
        } else {
            Err(LogtoError::new(StatusCode::FORBIDDEN, "auth.forbidden"))
        }
    }
}

impl FromRequestParts<AppState> for SettingsAuth {
    type Rejection = LogtoError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let rt = RequestTenant::from_request_parts(parts, state)
            .await
            .map_err(|_| LogtoError::unauthorized(StatusCode::UNAUTHORIZED))?;
        if !parts.headers.contains_key(axum::http::header::AUTHORIZATION) {
            return Err(LogtoError::new(StatusCode::UNAUTHORIZED, "auth.authorization_header_missing"));
        }
        let (method, path) = (parts.method.as_str(), parts.uri.path());
        let audience = rt.origin.management_audience();
        let claims = match principal::authenticate(state, &rt, &parts.headers, method, path, &audience).await {
            Ok(c) => c,
            // Logto's management resource is `{endpoint}/api`, and `all` its one scope.
            Err(_) => {
                let logto = format!("{}/api", rt.origin.base_url());
                principal::authenticate(state, &rt, &parts.headers, method, path, &logto)
                    .await
                    .ok()
                    .filter(|c| c.has_scope("all"))
                    .ok_or_else(|| LogtoError::unauthorized(StatusCode::UNAUTHORIZED))?
            }
        };
        let info = ClientInfo::from_request_parts(parts, state).await.unwrap_or_default();
        Ok(SettingsAuth { claims, info })
    }
}

/// The tenant's account-center settings.
#[utoipa::path(get, path = "/api/account-center", tag = "Account center", operation_id = "GetAccountCenterSettings",
    responses((status = 200, description = "The settings")))]
pub async fn get_account_center(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: Result<SettingsAuth, LogtoError>,
) -> LogtoResult<Json<Value>> {
    auth?.require("read:tenant_settings")?;
    let c = state.core.account_center(&rt.tenant.id).await?;
    Ok(Json(account_center_view(rt.tenant.id.as_str(), &c)))
}

/// Changes the settings: the keys given; a `fields` object replaces every field.
#[utoipa::path(patch, path = "/api/account-center", tag = "Account center", operation_id = "UpdateAccountCenterSettings",
    request_body = AccountCenterBody, responses((status = 200, description = "The updated settings")))]
pub async fn update_account_center(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: Result<SettingsAuth, LogtoError>,
    body: Result<LogtoJson<AccountCenterBody>, LogtoError>,
) -> LogtoResult<Json<Value>> {
    let ctx = auth?.require("update:tenant_settings")?;
    let LogtoJson(body) = body?;
    let c = state.core.update_account_center(&ctx, &rt.tenant.id, body.into_change()).await?;
    Ok(Json(account_center_view(rt.tenant.id.as_str(), &c)))
}

/// The settings, for anyone (the hosted account page reads them).
#[utoipa::path(get, path = "/api/.well-known/account-center", tag = "Account center",
    responses((status = 200, description = "The settings")))]
pub async fn get_public_account_center(State(state): State<AppState>, rt: RequestTenant) -> LogtoResult<Json<Value>> {
    let c = state.core.account_center(&rt.tenant.id).await?;
    Ok(Json(account_center_view(rt.tenant.id.as_str(), &c)))
}
