//! `/me/v1/factors` (spec §1.2): the factor types the tenant lets users enroll.

use axum::Json;

use super::error::MeResult;
use super::extract::MeAuth;
use super::wire::FactorListResponse;

/// List the factors the tenant lets users enroll.
#[utoipa::path(get, path = "/me/v1/factors", tag = "factors", operation_id = "getFactors",
    responses((status = 200, body = FactorListResponse)), security(("bearer" = ["read:me:factors"])))]
pub async fn list_factors(auth: MeAuth) -> MeResult<Json<FactorListResponse>> {
    let caller = auth.require("read:me:factors")?;
    let enabled = auth.state().core.enabled_factors(&caller.tenant).await?;
    Ok(Json(FactorListResponse::new(&enabled)))
}
