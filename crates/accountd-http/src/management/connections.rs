//! `/api/v2/connections`: the tenant's upstream identity providers (Auth0's `oidc` and `oauth2`
//! strategies), for social linking, connected accounts and "Continue with …" sign-in.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::MgmtResult;
use super::extract::{ListParams, ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{ConnectionRequest, ConnectionResponse};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// List connections.
#[utoipa::path(get, path = "/api/v2/connections", tag = "connections", params(ListParams),
    responses((status = 200, body = [ConnectionResponse])), security(("bearer" = ["read:connections"])))]
pub async fn list_connections(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:connections")?;
    let page = params.page()?;
    let all = state.core.list_connections(&rt.tenant.id).await?;
    let total = all.len() as u64;
    let items: Vec<ConnectionResponse> =
        all.into_iter().skip(page.offset as usize).take(page.limit as usize).map(Into::into).collect();
    Ok(params.render("connections", items, total))
}

/// Create a connection.
#[utoipa::path(post, path = "/api/v2/connections", tag = "connections", request_body = ConnectionRequest,
    responses((status = 201, body = ConnectionResponse)), security(("bearer" = ["create:connections"])))]
pub async fn create_connection(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<ConnectionRequest>,
) -> MgmtResult<(StatusCode, Json<ConnectionResponse>)> {
    let ctx = auth.require("create:connections")?;
    let spec = body.into_new()?;
    let created = state.core.create_connection(&rt.tenant.id, &ctx, spec).await?;
    Ok((StatusCode::CREATED, Json(created.into())))
}

/// Get a connection.
#[utoipa::path(get, path = "/api/v2/connections/{id}", tag = "connections",
    responses((status = 200, body = ConnectionResponse)), security(("bearer" = ["read:connections"])))]
pub async fn get_connection(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<ConnectionResponse>> {
    auth.require("read:connections")?;
    Ok(Json(state.core.get_connection(&rt.tenant.id, &id).await?.into()))
}

/// Change a connection (`name` and `strategy` cannot change).
#[utoipa::path(patch, path = "/api/v2/connections/{id}", tag = "connections", request_body = ConnectionRequest,
    responses((status = 200, body = ConnectionResponse)), security(("bearer" = ["update:connections"])))]
pub async fn update_connection(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<ConnectionRequest>,
) -> MgmtResult<Json<ConnectionResponse>> {
    let ctx = auth.require("update:connections")?;
    if body.name.is_some() || body.strategy.is_some() {
        return Err(accountd_core::Error::invalid("name", "name and strategy cannot be changed").into());
    }
    let current = state.core.get_connection(&rt.tenant.id, &id).await?;
    let spec = body.apply(accountd_core::service::ConnectionSpec::of(&current))?;
    Ok(Json(state.core.update_connection(&rt.tenant.id, &ctx, &current.id, spec).await?.into()))
}

/// Delete a connection, with every identity linked through it and their kept tokens.
#[utoipa::path(delete, path = "/api/v2/connections/{id}", tag = "connections",
    responses((status = 202)), security(("bearer" = ["delete:connections"])))]
pub async fn delete_connection(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:connections")?;
    state.core.delete_connection(&rt.tenant.id, &ctx, &id).await?;
    // vendor quirk: Auth0 answers a connection's deletion with 202 Accepted.
    Ok(StatusCode::ACCEPTED)
}
