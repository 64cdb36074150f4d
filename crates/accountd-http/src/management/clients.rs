//! `/api/v2/clients`: applications.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::{MgmtError, MgmtResult};
use super::extract::{ListParams, ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{ClientRequest, ClientResponse};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// List applications.
#[utoipa::path(get, path = "/api/v2/clients", tag = "clients", params(ListParams),
    responses((status = 200, body = [ClientResponse])), security(("bearer" = ["read:clients"])))]
pub async fn list_clients(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:clients")?;
    let (apps, total) = state.core.list_applications(&rt.tenant.id, params.page()?).await?;
    let items: Vec<_> = apps.into_iter().map(|a| ClientResponse::new(rt.tenant.id.as_str(), a, None)).collect();
    Ok(params.render("clients", items, total))
}

/// Create an application; the answer carries its client secret, shown only this once.
#[utoipa::path(post, path = "/api/v2/clients", tag = "clients", request_body = ClientRequest,
    responses((status = 201, body = ClientResponse)), security(("bearer" = ["create:clients"])))]
pub async fn create_client(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<ClientRequest>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require("create:clients")?;
    if body.name.is_none() {
        return Err(MgmtError::invalid_body("Payload validation error: 'Missing required property: name'."));
    }
    let (app, secret) = state.core.create_application(&ctx, &rt.tenant.id, body.try_into()?).await?;
    Ok((StatusCode::CREATED, Json(ClientResponse::new(rt.tenant.id.as_str(), app, secret))))
}

/// Get an application.
#[utoipa::path(get, path = "/api/v2/clients/{id}", tag = "clients",
    responses((status = 200, body = ClientResponse)), security(("bearer" = ["read:clients"])))]
pub async fn get_client(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<ClientResponse>> {
    auth.require("read:clients")?;
    let app = state.core.get_application(&rt.tenant.id, &id).await?;
    Ok(Json(ClientResponse::new(rt.tenant.id.as_str(), app, None)))
}

/// Update an application.
#[utoipa::path(patch, path = "/api/v2/clients/{id}", tag = "clients", request_body = ClientRequest,
    responses((status = 200, body = ClientResponse)), security(("bearer" = ["update:clients"])))]
pub async fn update_client(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<ClientRequest>,
) -> MgmtResult<Json<ClientResponse>> {
    let ctx = auth.require("update:clients")?;
    let (app, secret) = state.core.update_application(&ctx, &rt.tenant.id, &id, body.try_into()?).await?;
    Ok(Json(ClientResponse::new(rt.tenant.id.as_str(), app, secret)))
}

/// Delete an application and its grants.
#[utoipa::path(delete, path = "/api/v2/clients/{id}", tag = "clients",
    responses((status = 204)), security(("bearer" = ["delete:clients"])))]
pub async fn delete_client(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:clients")?;
    state.core.delete_application(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
