//! `/api/v2/tenants/settings`: tenant-wide switches (for now: sign-up on the hosted page).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::error::MgmtResult;
use super::extract::{ManagementAuth, MgmtJson};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Tenant settings.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Whether the hosted sign-in page offers "Create an account".
    pub allow_signup: Option<bool>,
}

/// The tenant's settings.
#[utoipa::path(get, path = "/api/v2/tenants/settings", tag = "tenants",
    responses((status = 200, body = TenantSettings)), security(("bearer" = ["read:tenant_settings"])))]
pub async fn get_tenant_settings(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
) -> MgmtResult<Json<TenantSettings>> {
    auth.require("read:tenant_settings")?;
    Ok(Json(TenantSettings { allow_signup: Some(state.core.signup_allowed(&rt.tenant.id).await?) }))
}

/// Changes the tenant's settings.
#[utoipa::path(patch, path = "/api/v2/tenants/settings", tag = "tenants", request_body = TenantSettings,
    responses((status = 200, body = TenantSettings)), security(("bearer" = ["update:tenant_settings"])))]
pub async fn update_tenant_settings(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<TenantSettings>,
) -> MgmtResult<Json<TenantSettings>> {
    let ctx = auth.require("update:tenant_settings")?;
    if let Some(allow) = body.allow_signup {
        state.core.set_signup_allowed(&ctx, &rt.tenant.id, allow).await?;
    }
    Ok(Json(TenantSettings { allow_signup: Some(state.core.signup_allowed(&rt.tenant.id).await?) }))
}
