//! `/api/v2/client-grants`: which scopes of an API an application may obtain.

use accountd_core::client_grant::SubjectType;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::{MgmtError, MgmtResult};
use super::extract::{ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{ClientGrantCreateRequest, ClientGrantResponse, ClientGrantUpdateRequest};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Query of `GET /api/v2/client-grants`.
#[derive(Debug, Default, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ClientGrantListParams {
    /// Page index, from 0.
    pub page: Option<u32>,
    /// Items per page (at most 100).
    pub per_page: Option<u32>,
    /// Wrap with totals.
    pub include_totals: Option<bool>,
    /// Only this application's grants.
    pub client_id: Option<String>,
    /// Only grants for this API identifier.
    pub audience: Option<String>,
}

/// List client grants.
#[utoipa::path(get, path = "/api/v2/client-grants", tag = "client-grants", params(ClientGrantListParams),
    responses((status = 200, body = [ClientGrantResponse])), security(("bearer" = ["read:client_grants"])))]
pub async fn list_client_grants(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(q): MgmtQuery<ClientGrantListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:client_grants")?;
    let params = super::extract::ListParams { page: q.page, per_page: q.per_page, include_totals: q.include_totals };
    let (grants, total) =
        state.core.list_client_grants(&rt.tenant.id, q.client_id, q.audience.as_deref(), params.page()?).await?;
    let items: Vec<_> = grants.into_iter().map(|g| ClientGrantResponse::new(g, &rt.origin)).collect();
    Ok(params.render("client_grants", items, total))
}

/// Grant an application scopes of an API.
#[utoipa::path(post, path = "/api/v2/client-grants", tag = "client-grants", request_body = ClientGrantCreateRequest,
    responses((status = 201, body = ClientGrantResponse)), security(("bearer" = ["create:client_grants"])))]
pub async fn create_client_grant(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<ClientGrantCreateRequest>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require("create:client_grants")?;
    let subject = match body.subject_type.as_deref() {
        None => SubjectType::Client,
        Some(s) => SubjectType::parse(s).ok_or_else(|| {
            MgmtError::invalid_body("Payload validation error: 'must be user or client' on property subject_type.")
        })?,
    };
    let view = state
        .core
        .create_client_grant(&ctx, &rt.tenant.id, &body.client_id, &body.audience, body.scope, subject)
        .await?;
    Ok((StatusCode::CREATED, Json(ClientGrantResponse::new(view, &rt.origin))))
}

/// Get a client grant.
#[utoipa::path(get, path = "/api/v2/client-grants/{id}", tag = "client-grants",
    responses((status = 200, body = ClientGrantResponse)), security(("bearer" = ["read:client_grants"])))]
pub async fn get_client_grant(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<ClientGrantResponse>> {
    auth.require("read:client_grants")?;
    Ok(Json(ClientGrantResponse::new(state.core.get_client_grant(&rt.tenant.id, &id).await?, &rt.origin)))
}

/// Replace a client grant's scopes.
#[utoipa::path(patch, path = "/api/v2/client-grants/{id}", tag = "client-grants", request_body = ClientGrantUpdateRequest,
    responses((status = 200, body = ClientGrantResponse)), security(("bearer" = ["update:client_grants"])))]
pub async fn update_client_grant(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<ClientGrantUpdateRequest>,
) -> MgmtResult<Json<ClientGrantResponse>> {
    let ctx = auth.require("update:client_grants")?;
    let view = state.core.update_client_grant(&ctx, &rt.tenant.id, &id, body.scope).await?;
    Ok(Json(ClientGrantResponse::new(view, &rt.origin)))
}

/// Delete a client grant.
#[utoipa::path(delete, path = "/api/v2/client-grants/{id}", tag = "client-grants",
    responses((status = 204)), security(("bearer" = ["delete:client_grants"])))]
pub async fn delete_client_grant(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:client_grants")?;
    state.core.delete_client_grant(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
