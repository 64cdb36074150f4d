//! `/api/v2/logs`: the audit trail, newest first.

use accountd_core::audit::Actor;
use accountd_core::clock::to_rfc3339;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::MgmtResult;
use super::extract::{ListParams, ManagementAuth, MgmtQuery};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// One audit event, in the shape of an Auth0 log event.
#[derive(Debug, Serialize, ToSchema)]
pub struct LogEvent {
    /// Its id (time-ordered).
    pub log_id: String,
    /// When (RFC 3339).
    pub date: String,
    /// `sapi` for a successful change through the API or CLI, `fapi` for a failed one.
    #[serde(rename = "type")]
    pub kind: String,
    /// What happened, dotted (`client.create`).
    pub description: String,
    /// The acting client, when a client acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The acting user, when a user acted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    /// Client IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// User agent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// Actor, target and non-secret details.
    pub details: serde_json::Value,
}

/// The audit trail.
#[utoipa::path(get, path = "/api/v2/logs", tag = "logs", params(ListParams),
    responses((status = 200, body = [LogEvent])), security(("bearer" = ["read:logs"])))]
pub async fn list_logs(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<axum::Json<Vec<LogEvent>>> {
    auth.require("read:logs")?;
    let page = params.page()?;
    let events = state.core.list_audit_events(&rt.tenant.id, page).await?;
    let items: Vec<LogEvent> = events
        .into_iter()
        .map(|e| LogEvent {
            log_id: e.id,
            date: to_rfc3339(e.at),
            kind: if e.result == "success" { "sapi".into() } else { "fapi".into() },
            description: e.action,
            client_id: match &e.actor {
                Actor::Client(id) => Some(id.clone()),
                _ => None,
            },
            user_id: match &e.actor {
                Actor::User(id) => Some(id.clone()),
                _ => None,
            },
            ip: e.ip,
            user_agent: e.user_agent,
            details: serde_json::json!({
                "actor": e.actor.to_stored(),
                "target_type": e.target_type,
                "target_id": e.target_id,
                "detail": e.detail,
            }),
        })
        .collect();
    Ok(axum::Json(items))
}
