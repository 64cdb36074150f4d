//! `GET /me/v1/security-events`: the user's security timeline (accountd's own; Auth0 has none),
//! in this API's list shape — `from`/`take` paging with a `next` cursor, like connected accounts.

use crate::common::account_export::DeviceView;
use accountd_core::security_event::SecurityEvent;
use accountd_core::store::Page;
use axum::Json;
use axum::extract::RawQuery;
use serde::Serialize;
use serde_json::Value;
use utoipa::ToSchema;

use super::connected_accounts::list_query;
use super::error::{MeError, MeResult, ValidationError};
use super::extract::{MeAuth, MeJson};

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
    /// The browser and system, as far as the user agent tells.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub device: Option<DeviceView>,
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
            device: e.device.map(DeviceView::from),
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

/// Body of `POST /me/v1/security-events/{id}/report`.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // documents the body, read field by field
pub struct ReportSecurityEventRequest {
    /// The new password; required when the account has one (whoever did this may know it).
    pub password: Option<String>,
}

/// A kept report and what it did.
#[derive(Debug, Serialize, ToSchema)]
pub struct SecurityReportResponse {
    /// The report's id.
    pub id: String,
    /// The reported entry.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// When (ISO 8601).
    pub reported_at: String,
    /// Other sessions ended.
    pub sessions_ended: i64,
    /// Other apps' access revoked.
    pub grants_revoked: i64,
    /// Whether the password was replaced.
    pub password_replaced: bool,
}

impl From<accountd_core::security_event::SecurityReport> for SecurityReportResponse {
    fn from(r: accountd_core::security_event::SecurityReport) -> Self {
        Self {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            reported_at: accountd_core::clock::to_rfc3339(r.reported_at),
            sessions_ended: r.sessions_ended,
            grants_revoked: r.grants_revoked,
            password_replaced: r.password_replaced,
        }
    }
}

/// "This wasn't me": ends every other session and app access, replaces the password and tells
/// the operator (after a recent sign-in, like the other sensitive operations).
#[utoipa::path(post, path = "/me/v1/security-events/{id}/report", tag = "security-events",
    operation_id = "reportSecurityEvent",
    params(("id" = String, Path, description = "The timeline entry's id")),
    request_body = ReportSecurityEventRequest,
    responses((status = 201, body = SecurityReportResponse)), security(("bearer" = ["create:me:security_reports"])))]
pub async fn report_security_event(
    auth: MeAuth,
    axum::extract::Path(id): axum::extract::Path<String>,
    body: Result<MeJson, MeError>,
) -> MeResult<(axum::http::StatusCode, Json<SecurityReportResponse>)> {
    let caller = auth.require("create:me:security_reports")?;
    let MeJson(body) = body?;
    let mut password = None;
    for (key, value) in body {
        match (key.as_str(), value) {
            ("password", Value::String(p)) if !p.is_empty() => password = Some(zeroize::Zeroizing::new(p)),
            ("password", _) => {
                return Err(MeError::validation(vec![ValidationError::at(
                    "/password",
                    "data/password must be a non-empty string",
                )]));
            }
            (other, _) => {
                return Err(MeError::validation(vec![ValidationError::at(
                    &format!("/{other}"),
                    "data must NOT have additional properties",
                )]));
            }
        }
    }
    let report = auth.state().core.report_security_event(&caller, &id, password).await?;
    Ok((axum::http::StatusCode::CREATED, Json(report.into())))
}
