//! `/api/v2/resource-servers`: APIs, their scopes and access policies.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::MgmtResult;
use super::extract::{ListParams, ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{ResourceServerRequest, ResourceServerResponse};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// List APIs, built-in ones first.
#[utoipa::path(get, path = "/api/v2/resource-servers", tag = "resource-servers", params(ListParams),
    responses((status = 200, body = [ResourceServerResponse])), security(("bearer" = ["read:resource_servers"])))]
pub async fn list_resource_servers(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:resource_servers")?;
    let (apis, total) = state.core.list_apis(&rt.tenant.id, params.page()?).await?;
    let items: Vec<_> = apis.into_iter().map(|a| ResourceServerResponse::new(a, &rt.origin)).collect();
    Ok(params.render("resource_servers", items, total))
}

/// Create an API.
#[utoipa::path(post, path = "/api/v2/resource-servers", tag = "resource-servers", request_body = ResourceServerRequest,
    responses((status = 201, body = ResourceServerResponse)), security(("bearer" = ["create:resource_servers"])))]
pub async fn create_resource_server(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<ResourceServerRequest>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require("create:resource_servers")?;
    let api = state.core.create_api(&ctx, &rt.tenant.id, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(ResourceServerResponse::new(api, &rt.origin))))
}

/// Get an API by id or by (URL-encoded) identifier.
#[utoipa::path(get, path = "/api/v2/resource-servers/{id}", tag = "resource-servers",
    responses((status = 200, body = ResourceServerResponse)), security(("bearer" = ["read:resource_servers"])))]
pub async fn get_resource_server(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<ResourceServerResponse>> {
    auth.require("read:resource_servers")?;
    let api = state.core.get_api(&rt.tenant.id, &id).await?;
    Ok(Json(ResourceServerResponse::new(api, &rt.origin)))
}

/// Update an API. The My Account API's client-flow policy is fixed to `deny_all` (403).
#[utoipa::path(patch, path = "/api/v2/resource-servers/{id}", tag = "resource-servers", request_body = ResourceServerRequest,
    responses((status = 200, body = ResourceServerResponse)), security(("bearer" = ["update:resource_servers"])))]
pub async fn update_resource_server(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<ResourceServerRequest>,
) -> MgmtResult<Json<ResourceServerResponse>> {
    let ctx = auth.require("update:resource_servers")?;
    let api = state.core.update_api(&ctx, &rt.tenant.id, &id, body.try_into()?).await?;
    Ok(Json(ResourceServerResponse::new(api, &rt.origin)))
}

/// Delete an API with its grants and permissions. Built-in APIs cannot be deleted.
#[utoipa::path(delete, path = "/api/v2/resource-servers/{id}", tag = "resource-servers",
    responses((status = 204)), security(("bearer" = ["delete:resource_servers"])))]
pub async fn delete_resource_server(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:resource_servers")?;
    state.core.delete_api(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
