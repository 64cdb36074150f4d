//! `/api/v2/users/{id}/sessions` and `/api/v2/sessions/{id}` (Auth0's names): an operator lists
//! a user's sign-in sessions and ends one or all of them. Ending a session refuses every token
//! issued under it at once, on every node.

use accountd_core::clock::to_rfc3339;
use accountd_core::service::SessionView;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::MgmtResult;
use super::extract::ManagementAuth;
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// A session, in the shape of Auth0's.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionResponse {
    /// Its id (the `sid` of its tokens).
    pub id: String,
    /// The user.
    pub user_id: String,
    /// When it started.
    pub created_at: String,
    /// When it last changed (its last use).
    pub updated_at: String,
    /// When the user authenticated.
    pub authenticated_at: String,
    /// When the browser last came back with it.
    pub last_interacted_at: String,
    /// When it ends.
    pub expires_at: String,
    /// The browser it was signed in from.
    pub device: SessionDevice,
    /// The applications signed in to under it.
    pub clients: Vec<SessionClient>,
    /// How the user authenticated.
    pub authentication: SessionAuthentication,
}

/// Where a session was signed in from.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionDevice {
    /// User agent at sign-in.
    pub initial_user_agent: Option<String>,
    /// IP at sign-in.
    pub initial_ip: Option<String>,
}

/// An application of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionClient {
    /// Its client id.
    pub client_id: String,
}

/// The authentication of a session.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionAuthentication {
    /// The methods used.
    pub methods: Vec<SessionMethod>,
}

/// One method used.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionMethod {
    /// Its `amr` name (`pwd`, `otp`, `hwk`…).
    pub name: String,
    /// When.
    pub timestamp: String,
}

/// `GET /api/v2/users/{id}/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionListResponse {
    /// The user's live sessions, newest first.
    pub sessions: Vec<SessionResponse>,
}

impl From<SessionView> for SessionResponse {
    fn from(v: SessionView) -> Self {
        let s = v.session;
        let auth_ms = s.auth_time * 1000;
        let seen = s.last_seen_at.unwrap_or(s.created_at);
        Self {
            created_at: to_rfc3339(s.created_at),
            updated_at: to_rfc3339(seen),
            authenticated_at: to_rfc3339(auth_ms),
            last_interacted_at: to_rfc3339(seen),
            expires_at: to_rfc3339(s.expires_at),
            device: SessionDevice { initial_user_agent: s.user_agent.clone(), initial_ip: s.ip.clone() },
            clients: v.apps.into_iter().map(|a| SessionClient { client_id: a.client_id }).collect(),
            authentication: SessionAuthentication {
                methods: s
                    .amr
                    .iter()
                    .map(|m| SessionMethod { name: m.clone(), timestamp: to_rfc3339(auth_ms) })
                    .collect(),
            },
            id: s.id,
            user_id: s.user_id,
        }
    }
}

/// A user's live sessions.
#[utoipa::path(get, path = "/api/v2/users/{id}/sessions", tag = "sessions",
    responses((status = 200, body = SessionListResponse)), security(("bearer" = ["read:sessions"])))]
pub async fn list_user_sessions(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<SessionListResponse>> {
    auth.require("read:sessions")?;
    let views = state.core.list_user_sessions(&rt.tenant.id, &id).await?;
    Ok(Json(SessionListResponse { sessions: views.into_iter().map(Into::into).collect() }))
}

/// Ends every session of a user, with every token issued under them.
#[utoipa::path(delete, path = "/api/v2/users/{id}/sessions", tag = "sessions",
    responses((status = 202)), security(("bearer" = ["delete:sessions"])))]
pub async fn delete_user_sessions(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:sessions")?;
    state.core.revoke_user_sessions(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// A live session.
#[utoipa::path(get, path = "/api/v2/sessions/{id}", tag = "sessions",
    responses((status = 200, body = SessionResponse)), security(("bearer" = ["read:sessions"])))]
pub async fn get_session(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<Json<SessionResponse>> {
    auth.require("read:sessions")?;
    Ok(Json(state.core.get_session(&rt.tenant.id, &id).await?.into()))
}

/// Ends a session, with every token issued under it.
#[utoipa::path(delete, path = "/api/v2/sessions/{id}", tag = "sessions",
    responses((status = 202)), security(("bearer" = ["delete:sessions"])))]
pub async fn delete_session(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    Path(id): Path<String>,
) -> MgmtResult<StatusCode> {
    let ctx = auth.require("delete:sessions")?;
    state.core.revoke_session(&ctx, &rt.tenant.id, &id).await?;
    Ok(StatusCode::ACCEPTED)
}

/// Ends a session and revokes its refresh tokens (Auth0's `POST …/revoke`; the same here, since
/// ending a session always revokes them).
#[utoipa::path(post, path = "/api/v2/sessions/{id}/revoke", tag = "sessions",
    responses((status = 202)), security(("bearer" = ["delete:sessions"])))]
pub async fn revoke_session(
    state: State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    id: Path<String>,
) -> MgmtResult<StatusCode> {
    delete_session(state, rt, auth, id).await
}
