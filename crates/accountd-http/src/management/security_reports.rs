//! `/api/v2/security-reports`: what users reported as not their doing ("this wasn't me" in their
//! security timeline), newest first, with what each report did — for the operator to follow up.

use accountd_core::clock::to_rfc3339;
use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;

use super::error::MgmtResult;
use super::extract::{ListParams, ManagementAuth, MgmtQuery};
use crate::AppState;
use crate::common::tenant::RequestTenant;

/// One report.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityReportView {
    /// Its id.
    pub id: String,
    /// The user who reported.
    pub user_id: String,
    /// The reported timeline entry (the audit event's id, as in `/api/v2/logs`).
    pub event_id: String,
    /// Its type (`signed_in`, `password_changed`, …).
    pub event_type: String,
    /// When (RFC 3339).
    pub reported_at: String,
    /// From where the user reported.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<String>,
    /// From which browser.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user_agent: Option<String>,
    /// The user's other sessions it ended.
    pub sessions_ended: i64,
    /// Other apps' grants it revoked.
    pub grants_revoked: i64,
    /// Whether the user's password was replaced with it.
    pub password_replaced: bool,
}

/// Users' "this wasn't me" reports.
#[utoipa::path(get, path = "/api/v2/security-reports", tag = "security-reports", params(ListParams),
    responses((status = 200, body = [SecurityReportView])), security(("bearer" = ["read:security_reports"])))]
pub async fn list_security_reports(
    State(state): State<AppState>,
    rt: RequestTenant,
    auth: ManagementAuth,
    MgmtQuery(params): MgmtQuery<ListParams>,
) -> MgmtResult<axum::Json<serde_json::Value>> {
    auth.require("read:security_reports")?;
    let (reports, total) = state.core.list_security_reports(&rt.tenant.id, params.page()?).await?;
    let items: Vec<SecurityReportView> = reports
        .into_iter()
        .map(|r| SecurityReportView {
            id: r.id,
            user_id: r.user_id,
            event_id: r.event_id,
            event_type: r.event_type,
            reported_at: to_rfc3339(r.reported_at),
            ip: r.ip,
            user_agent: r.user_agent,
            sessions_ended: r.sessions_ended,
            grants_revoked: r.grants_revoked,
            password_replaced: r.password_replaced,
        })
        .collect();
    Ok(params.render("security_reports", items, total))
}
