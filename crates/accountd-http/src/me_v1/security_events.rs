//! `GET /me/v1/security-events`: the user's security timeline (accountd's own; Auth0 has none),
//! in this API's list shape — `from`/`take` paging with a `next` cursor, like connected accounts.

use accountd_core::security_event::SecurityEvent;
use accountd_core::store::Page;
use axum::Json;
use axum::extract::RawQuery;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::connected_accounts::list_query;
use super::error::MeResult;
use super::extract::MeAuth;

/// One entry of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEventResponse {
    /// Its id (also the `from` cursor).
    pub id: String,
    /// What happened (`signed_in`, `password_changed`, `method_added`, …).
    #[serde(rename = "type")]
    #[schema(example = "signed_in")]
    pub kind: &'static str,
    /// What happened, in a sentence.
    #[schema(example = "Signed in with your password")]
    pub description: String,
    /// When (ISO 8601).
    pub created_at: String,
    /// The client address it came from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// The browser or app it came from, as it named itself.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Particulars: `method`, `type`, `connection`, `changed` (field names); never a secret.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<SecurityEvent> for SecurityEventResponse {
    fn from(e: SecurityEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str(),
            description: e.description,
            created_at: accountd_core::clock::to_rfc3339(e.at),
            ip: e.ip,
            user_agent: e.user_agent,
            details: e.details,
        }
    }
}

/// A page of the timeline.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityEventListResponse {
    /// Newest first.
    pub security_events: Vec<SecurityEventResponse>,
    /// The cursor of the next (older) page.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

/// List what happened to the user's account: sign-ins, changes, methods, sessions, newest first.
#[utoipa::path(get, path = "/me/v1/security-events", tag = "security-events", operation_id = "getSecurityEvents",
    params(("from" = Option<String>, Query, description = "Cursor: the `next` of the previous page"),
        ("take" = Option<u32>, Query, description = "Page size, 1 to 20")),
    responses((status = 200, body = SecurityEventListResponse)), security(("bearer" = ["read:me:security_events"])))]
pub async fn list_security_events(
    auth: MeAuth,
    RawQuery(query): RawQuery,
) -> MeResult<Json<SecurityEventListResponse>> {
    let caller = auth.require("read:me:security_events")?;
    let q = list_query(query.as_deref(), false)?;
    let limit = u32::try_from(q.take + 1).unwrap_or(u32::MAX);
    let mut events =
        auth.state().core.my_security_events(&caller, q.from.as_deref(), Page { offset: 0, limit }).await?;
    let next = (events.len() > q.take).then(|| {
        events.truncate(q.take);
        events.last().map(|e| e.id.clone())
    });
    Ok(Json(SecurityEventListResponse {
        security_events: events.into_iter().map(SecurityEventResponse::from).collect(),
        next: next.flatten(),
    }))
}
