//! `/api/v2/roles`: roles and their permissions and users.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::{MgmtError, MgmtResult};
use super::extract::{ListParams, ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{PermissionResponse, PermissionsRequest, RoleRequest, RoleResponse, RoleUsersRequest};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// List roles.
#[utoipa::path(get, path = "/api/v2/roles", tag = "roles", params(ListParams),
    responses((status = 200, body = [RoleResponse])), security(("bearer" = ["read:roles"])))]
pub async fn list_roles(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:roles")?;
    let (roles, total) = state.core.list_roles(&rt.tenant.id, params.page()?).await?;
    let items: Vec<RoleResponse> = roles.into_iter().map(Into::into).collect();
    Ok(params.render("roles", items, total))
}

/// Create a role.
#[utoipa::path(post, path = "/api/v2/roles", tag = "roles", request_body = RoleRequest,
    responses((status = 200, body = RoleResponse)), security(("bearer" = ["create:roles"])))]
pub async fn create_role(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<RoleRequest>,
) -> MgmtResult<Json<RoleResponse>> {
    let ctx = auth.require("create:roles")?;
    let name = body
        .name
        .ok_or_else(|| MgmtError::invalid_body("Payload validation error: 'Missing required property: name'."))?;
    // vendor quirk: Auth0 answers role creation with 200, not 201.
    Ok(Json(state.core.create_role(&ctx, &rt.tenant.id, &name, body.description.as_deref()).await?.into()))
}

/// Get a role.
#[utoipa::path(get, path = "/api/v2/roles/{id}", tag = "roles",
    responses((status = 200, body = RoleResponse)), security(("bearer" = ["read:roles"])))]
pub async fn get_role(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<RoleResponse>> {
    auth.require("read:roles")?;
    Ok(Json(state.core.get_role(&rt.tenant.id, &id).await?.into()))
}

/// Rename or redescribe a role.
#[utoipa::path(patch, path = "/api/v2/roles/{id}", tag = "roles", request_body = RoleRequest,
    responses((status = 200, body = RoleResponse)), security(("bearer" = ["update:roles"])))]
pub async fn update_role(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<RoleRequest>,
) -> MgmtResult<Json<RoleResponse>> {
    let ctx = auth.require("update:roles")?;
    let role =
        state.core.update_role(&ctx, &rt.tenant.id, &id, body.name.as_deref(), body.description.as_deref()).await?;
    Ok(Json(role.into()))
}

/// Delete a role.
#[utoipa::path(delete, path = "/api/v2/roles/{id}", tag = "roles",
    responses((status = 204)), security(("bearer" = ["delete:roles"])))]
pub async fn delete_role(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:roles")?;
    state.core.delete_role(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A role's permissions.
#[utoipa::path(get, path = "/api/v2/roles/{id}/permissions", tag = "roles",
    responses((status = 200, body = [PermissionResponse])), security(("bearer" = ["read:roles"])))]
pub async fn list_role_permissions(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<Vec<PermissionResponse>>> {
    auth.require("read:roles")?;
    let perms = state.core.list_role_permissions(&rt.tenant.id, &id).await?;
    Ok(Json(perms.into_iter().map(|p| PermissionResponse::new(p, &rt.origin)).collect()))
}

/// Add permissions (scopes of APIs) to a role.
#[utoipa::path(post, path = "/api/v2/roles/{id}/permissions", tag = "roles", request_body = PermissionsRequest,
    responses((status = 201)), security(("bearer" = ["update:roles"])))]
pub async fn add_role_permissions(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<PermissionsRequest>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("update:roles")?;
    state.core.add_role_permissions(&ctx, &rt.tenant.id, &id, &body.pairs()).await?;
    Ok(StatusCode::CREATED)
}

/// Remove permissions from a role.
#[utoipa::path(delete, path = "/api/v2/roles/{id}/permissions", tag = "roles", request_body = PermissionsRequest,
    responses((status = 204)), security(("bearer" = ["update:roles"])))]
pub async fn remove_role_permissions(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<PermissionsRequest>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("update:roles")?;
    state.core.remove_role_permissions(&ctx, &rt.tenant.id, &id, &body.pairs()).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Users holding a role (`{user_id}` objects).
#[utoipa::path(get, path = "/api/v2/roles/{id}/users", tag = "roles", params(ListParams),
    responses((status = 200)), security(("bearer" = ["read:roles", "read:users"])))]
pub async fn list_role_users(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<Json<Vec<serde_json::Value>>> {
    auth.require("read:roles")?;
    let users = state.core.list_role_users(&rt.tenant.id, &id, params.page()?).await?;
    Ok(Json(users.into_iter().map(|u| serde_json::json!({"user_id": u.0})).collect()))
}

/// Assign a role to users.
#[utoipa::path(post, path = "/api/v2/roles/{id}/users", tag = "roles", request_body = RoleUsersRequest,
    responses((status = 200)), security(("bearer" = ["update:users"])))]
pub async fn assign_role_users(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<RoleUsersRequest>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("update:users")?;
    state.core.assign_role_users(&ctx, &rt.tenant.id, &id, &body.users).await?;
    Ok(StatusCode::OK)
}
