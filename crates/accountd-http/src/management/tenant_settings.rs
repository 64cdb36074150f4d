//! `/api/v2/tenants/settings`: tenant-wide switches (for now: sign-up on the hosted page).

use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use accountd_core::authn::policy::AccountPolicy;
use serde::de::IntoDeserializer as _;

use super::error::{MgmtError, MgmtResult};
use super::extract::{ManagementAuth, MgmtJson};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Tenant settings.
#[derive(Debug, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TenantSettings {
    /// Whether the hosted sign-in page offers "Create an account".
    pub allow_signup: Option<bool>,
    /// The account policy: `factors` users may enroll, `mfa` at sign-in (`never`, `when_enrolled`,
    /// `always`), `step_up` for sensitive account changes, the `password` policy, and the account
    /// API's `rate_limits`. A PATCH replaces the top-level keys it names and keeps the others.
    #[schema(value_type = Object)]
    pub account_policy: Option<serde_json::Value>,
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
    current(&state, &rt).await
}

async fn current(state: &AppState, rt: &RequestTenant) -> MgmtResult<Json<TenantSettings>> {
    let policy = state.core.account_policy(&rt.tenant.id).await?;
    Ok(Json(TenantSettings {
        allow_signup: Some(state.core.signup_allowed(&rt.tenant.id).await?),
        account_policy: Some(serde_json::to_value(policy.as_ref()).unwrap_or_default()),
    }))
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
    // Check the whole request before changing anything.
    let policy = match body.account_policy {
        Some(serde_json::Value::Object(changes)) => {
            let mut merged =
                serde_json::to_value(state.core.account_policy(&rt.tenant.id).await?.as_ref()).unwrap_or_default();
            for (k, v) in changes {
                merged[k] = v;
            }
            let de = merged.into_deserializer();
            let p: AccountPolicy = serde_path_to_error::deserialize(de).map_err(|e| {
                MgmtError::invalid_body(format!(
                    "Payload validation error: '{}' on property account_policy.{}.",
                    e.inner(),
                    e.path()
                ))
            })?;
            Some(p)
        }
        Some(_) => {
            return Err(MgmtError::invalid_body(
                "Payload validation error: 'Expected type object' on property account_policy.",
            ));
        }
        None => None,
    };
    if let Some(p) = &policy {
        p.validate()?;
    }
    if let Some(allow) = body.allow_signup {
        state.core.set_signup_allowed(&ctx, &rt.tenant.id, allow).await?;
    }
    if let Some(p) = policy {
        state.core.set_account_policy(&ctx, &rt.tenant.id, p).await?;
    }
    current(&state, &rt).await
}
