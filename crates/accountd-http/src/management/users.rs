//! `/api/v2/users`: users, their roles and permissions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;

use super::error::{MgmtError, MgmtResult};
use super::extract::{ListParams, ManagementAuth, MgmtJson, MgmtQuery};
use super::wire::{RoleResponse, UserListParams, UserRequest, UserResponse, UserRolesRequest};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Reads `email:"x"` or `email:x` from a `q` search; other searches are not supported.
fn email_query(q: &str) -> Result<String, MgmtError> {
    let rest = q
        .trim()
        .strip_prefix("email:")
        .ok_or_else(|| MgmtError::invalid_query("Query validation error: only email:\"…\" searches are supported."))?;
    Ok(rest.trim().trim_matches('"').to_string())
}

/// List users, optionally searching by email (`q=email:"ada@example.com"`).
#[utoipa::path(get, path = "/api/v2/users", tag = "users", params(UserListParams),
    responses((status = 200, body = [UserResponse])), security(("bearer" = ["read:users"])))]
pub async fn list_users(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(q): MgmtQuery<UserListParams>,
) -> MgmtResult<impl IntoResponse> {
    auth.require("read:users")?;
    let email = q.q.as_deref().filter(|s| !s.trim().is_empty()).map(email_query).transpose()?;
    let params = ListParams { page: q.page, per_page: q.per_page, include_totals: q.include_totals };
    let (users, total) = state.core.list_users(&rt.tenant.id, email.as_deref(), params.page()?).await?;
    let items: Vec<UserResponse> = users.into_iter().map(Into::into).collect();
    Ok(params.render("users", items, total))
}

/// Query of `GET /api/v2/users-by-email`.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ByEmail {
    /// The email address (any case).
    pub email: String,
}

/// Users with an email address (at most one: emails are unique per tenant).
#[utoipa::path(get, path = "/api/v2/users-by-email", tag = "users", params(ByEmail),
    responses((status = 200, body = [UserResponse])), security(("bearer" = ["read:users"])))]
pub async fn users_by_email(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(q): MgmtQuery<ByEmail>,
) -> MgmtResult<Json<Vec<UserResponse>>> {
    auth.require("read:users")?;
    let user = state.core.find_user_by_email(&rt.tenant.id, &q.email).await?;
    Ok(Json(user.into_iter().map(Into::into).collect()))
}

/// Create a user in the database connection.
#[utoipa::path(post, path = "/api/v2/users", tag = "users", request_body = UserRequest,
    responses((status = 201, body = UserResponse)), security(("bearer" = ["create:users"])))]
pub async fn create_user(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtJson(body): MgmtJson<UserRequest>,
) -> MgmtResult<impl IntoResponse> {
    let ctx = auth.require("create:users")?;
    let (fields, password) = body.into_parts()?;
    let user = state.core.create_user(&ctx, &rt.tenant.id, fields, password).await?;
    Ok((StatusCode::CREATED, Json(UserResponse::from(user))))
}

/// Get a user.
#[utoipa::path(get, path = "/api/v2/users/{id}", tag = "users",
    responses((status = 200, body = UserResponse)), security(("bearer" = ["read:users"])))]
pub async fn get_user(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<UserResponse>> {
    auth.require("read:users")?;
    Ok(Json(state.core.get_user(&rt.tenant.id, &id).await?.into()))
}

/// Update a user (metadata is merged; `password` sets a new password).
#[utoipa::path(patch, path = "/api/v2/users/{id}", tag = "users", request_body = UserRequest,
    responses((status = 200, body = UserResponse)), security(("bearer" = ["update:users"])))]
pub async fn update_user(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<UserRequest>,
) -> MgmtResult<Json<UserResponse>> {
    let ctx = auth.require("update:users")?;
    let (fields, password) = body.into_parts()?;
    Ok(Json(state.core.update_user(&ctx, &rt.tenant.id, &id, fields, password).await?.into()))
}

/// Delete a user and everything that belongs to it.
#[utoipa::path(delete, path = "/api/v2/users/{id}", tag = "users",
    responses((status = 204)), security(("bearer" = ["delete:users"])))]
pub async fn delete_user(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:users")?;
    state.core.delete_user(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A user's roles.
#[utoipa::path(get, path = "/api/v2/users/{id}/roles", tag = "users",
    responses((status = 200, body = [RoleResponse])), security(("bearer" = ["read:users", "read:roles"])))]
pub async fn list_user_roles(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<Vec<RoleResponse>>> {
    auth.require("read:roles")?;
    let roles = state.core.list_user_roles(&rt.tenant.id, &id).await?;
    Ok(Json(roles.into_iter().map(Into::into).collect()))
}

/// Assign roles to a user.
#[utoipa::path(post, path = "/api/v2/users/{id}/roles", tag = "users", request_body = UserRolesRequest,
    responses((status = 204)), security(("bearer" = ["update:users"])))]
pub async fn assign_user_roles(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<UserRolesRequest>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("update:users")?;
    state.core.assign_user_roles(&ctx, &rt.tenant.id, &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Remove roles from a user.
#[utoipa::path(delete, path = "/api/v2/users/{id}/roles", tag = "users", request_body = UserRolesRequest,
    responses((status = 204)), security(("bearer" = ["update:users"])))]
pub async fn remove_user_roles(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
    MgmtJson(body): MgmtJson<UserRolesRequest>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("update:users")?;
    state.core.remove_user_roles(&ctx, &rt.tenant.id, &id, &body.roles).await?;
    Ok(StatusCode::NO_CONTENT)
}
