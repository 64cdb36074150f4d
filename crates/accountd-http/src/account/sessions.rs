//! `/api/my-account/sessions` and `/api/my-account/grants` (spec logto §5.8): the user's sign-in
//! sessions and the grants of the applications they signed in to, listed and ended. Every check is
//! Logto's, in its order. Unlike Logto, ending a session or grant also refuses the access tokens
//! already issued under it, at once (core's revocation view).

use accountd_core::account_center::Field;
use accountd_core::service::{GrantView, GrantsTarget, SessionView};
use axum::extract::Path;
use axum::http::{StatusCode, Uri};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use utoipa::{IntoParams, ToSchema};

use super::error::{LogtoError, LogtoResult};
use super::extract::LogtoAuth;

/// The scope every session and grant route needs.
const SESSIONS_SCOPE: &str = "urn:logto:scope:sessions";

/// Query of `DELETE /api/my-account/sessions/{sessionId}`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct RevokeSessionQuery {
    /// Also revoke the grants of the applications signed in to under the session: `all`, or
    /// `firstParty` for first-party applications only. Without it the grants stay (the
    /// session's own tokens end either way).
    pub revoke_grants_target: Option<RevokeGrantsTarget>,
}

/// Which grants to revoke with a session.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum RevokeGrantsTarget {
    /// Every application's.
    All,
    /// First-party applications' only.
    FirstParty,
}

/// Query of `GET /api/my-account/grants`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
pub struct ListGrantsQuery {
    /// Only grants of first-party (`firstParty`) or third-party (`thirdParty`) applications.
    pub app_type: Option<AppTypeFilter>,
}

/// Application kind filter.
#[derive(Debug, Clone, Copy, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum AppTypeFilter {
    /// First-party applications.
    FirstParty,
    /// Third-party applications.
    ThirdParty,
}

/// `GET /api/my-account/sessions`.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionsView {
    /// The user's live sessions, newest first.
    pub sessions: Vec<SessionItem>,
}

/// One session, in the shape of Logto's (oidc-provider's) session records.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SessionItem {
    /// `{exp, iat, jti, uid, kind: "Session", loginTs, accountId, authorizations}` (seconds).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// How the session was signed in (`signInContext` holds the IP and user agent).
    #[schema(value_type = Option<Object>)]
    pub last_submission: Option<Value>,
    /// Always `null` (a session is not one application's).
    #[schema(value_type = Option<String>)]
    pub client_id: Option<String>,
    /// The user.
    pub account_id: String,
    /// When it expires (milliseconds since the epoch).
    pub expires_at: i64,
    /// Whether the calling token was issued under it.
    pub is_current: bool,
    /// When the browser last came back with it (milliseconds; accountd's own field).
    pub last_seen_at: Option<i64>,
}

/// `GET /api/my-account/grants`.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantsView {
    /// The user's live grants, oldest first.
    pub grants: Vec<GrantItem>,
}

/// One grant.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct GrantItem {
    /// Its id.
    pub id: String,
    /// `{exp, iat, jti, kind: "Grant", clientId, accountId}` (seconds).
    #[schema(value_type = Object)]
    pub payload: Value,
    /// When it lapses (milliseconds since the epoch).
    pub expires_at: i64,
    /// The application.
    pub application: GrantApplication,
}

/// The application of a grant.
#[derive(Debug, Serialize, ToSchema)]
pub struct GrantApplication {
    /// Client id.
    pub id: String,
    /// Name (empty if it was deleted).
    pub name: String,
}

fn session_item(v: SessionView) -> SessionItem {
    let s = v.session;
    let authorizations: Map<String, Value> = v
        .apps
        .iter()
        .map(|a| (a.client_id.clone(), json!({"sid": s.id, "grantId": a.grant_id, "persistsLogout": a.offline_access})))
        .collect();
    SessionItem {
        payload: json!({
            "exp": s.expires_at / 1000,
            "iat": s.created_at / 1000,
            "jti": s.id,
            "uid": s.id,
            "kind": "Session",
            "loginTs": s.auth_time,
            "accountId": s.user_id,
            "authorizations": authorizations,
        }),
        last_submission: Some(json!({
            "interactionEvent": "SignIn",
            "userId": s.user_id,
            "verificationRecords": [],
            "signInContext": {"ip": s.ip, "userAgent": s.user_agent},
        })),
        client_id: None,
        account_id: s.user_id.clone(),
        expires_at: s.expires_at,
        is_current: v.is_current,
        last_seen_at: s.last_seen_at,
    }
}

fn grant_item(v: GrantView) -> GrantItem {
    let g = &v.grant;
    GrantItem {
        id: g.id.clone(),
        payload: json!({
            "exp": g.expires_at / 1000,
            "iat": g.created_at / 1000,
            "jti": g.id,
            "kind": "Grant",
            "clientId": g.client_id,
            "accountId": g.user_id,
        }),
        expires_at: g.expires_at,
        application: GrantApplication {
            id: g.client_id.clone(),
            name: v.application.as_ref().map(|a| a.name.clone()).unwrap_or_default(),
        },
    }
}

/// A query string in Logto's error format when it does not parse.
fn query<T: serde::de::DeserializeOwned + Default>(uri: &Uri) -> LogtoResult<T> {
    if uri.query().is_none_or(str::is_empty) {
        return Ok(T::default());
    }
    axum::extract::Query::<T>::try_from_uri(uri)
        .map(|q| q.0)
        .map_err(|e| LogtoError::invalid_input(e.body_text()).arg("type", "query"))
}

/// Logto's order for the reads: proof, `session` readable, scope.
async fn read_preamble(auth: &LogtoAuth) -> LogtoResult<()> {
    auth.state().core.require_identity_proof(&auth.caller()).await?;
    auth.center.require_readable(Field::Session).map_err(LogtoError::from)?;
    auth.require_scope(SESSIONS_SCOPE, StatusCode::UNAUTHORIZED)
}

/// Logto's order for the deletions: proof, `session` editable, scope, first-party.
async fn write_preamble(auth: &LogtoAuth) -> LogtoResult<()> {
    let caller = auth.caller();
    let core = &auth.state().core;
    core.require_identity_proof(&caller).await?;
    auth.require_editable(Field::Session)?;
    auth.require_scope(SESSIONS_SCOPE, StatusCode::UNAUTHORIZED)?;
    core.require_first_party(&caller).await?;
    Ok(())
}

/// The user's live sessions; `isCurrent` marks the one the token was issued under.
#[utoipa::path(get, path = "/api/my-account/sessions", tag = "Account", operation_id = "GetSessions",
    responses((status = 200, body = SessionsView, description = "The user's sessions")))]
pub async fn list_sessions(auth: LogtoAuth) -> LogtoResult<axum::Json<SessionsView>> {
    read_preamble(&auth).await?;
    let views = auth.state().core.list_my_sessions(&auth.caller()).await?;
    Ok(axum::Json(SessionsView { sessions: views.into_iter().map(session_item).collect() }))
}

/// Ends a session: every token issued under it is refused from now on, on every node.
#[utoipa::path(delete, path = "/api/my-account/sessions/{sessionId}", tag = "Account",
    operation_id = "DeleteSessionById",
    params(("sessionId" = String, Path, description = "The session's id (`payload.uid`)"), RevokeSessionQuery),
    responses((status = 204, description = "The session was ended")))]
pub async fn delete_session(auth: LogtoAuth, Path(id): Path<String>, uri: Uri) -> LogtoResult<StatusCode> {
    write_preamble(&auth).await?;
    let q: RevokeSessionQuery = query(&uri)?;
    let target = q.revoke_grants_target.map(|t| match t {
        RevokeGrantsTarget::All => GrantsTarget::All,
        RevokeGrantsTarget::FirstParty => GrantsTarget::FirstParty,
    });
    auth.state().core.revoke_my_session(&auth.caller(), &id, target).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The grants of the applications the user signed in to.
#[utoipa::path(get, path = "/api/my-account/grants", tag = "Account", operation_id = "GetGrants",
    params(ListGrantsQuery), responses((status = 200, body = GrantsView, description = "The user's grants")))]
pub async fn list_grants(auth: LogtoAuth, uri: Uri) -> LogtoResult<axum::Json<GrantsView>> {
    read_preamble(&auth).await?;
    let q: ListGrantsQuery = query(&uri)?;
    let first_party = q.app_type.map(|t| matches!(t, AppTypeFilter::FirstParty));
    let views = auth.state().core.list_my_grants(&auth.caller(), first_party).await?;
    Ok(axum::Json(GrantsView { grants: views.into_iter().map(grant_item).collect() }))
}

/// Revokes a grant: the application's refresh and access tokens for the user end at once.
#[utoipa::path(delete, path = "/api/my-account/grants/{grantId}", tag = "Account", operation_id = "DeleteGrantById",
    params(("grantId" = String, Path, description = "The grant's id")),
    responses((status = 204, description = "The grant was revoked")))]
pub async fn delete_grant(auth: LogtoAuth, Path(id): Path<String>) -> LogtoResult<StatusCode> {
    write_preamble(&auth).await?;
    auth.state().core.revoke_my_grant(&auth.caller(), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}
