//! `GET /api/my-account/security-events`: the user's security timeline (accountd's own; Logto has
//! none), in Logto's list shape — `page`/`page_size` paging, the body an array, the total in the
//! `Total-Number` header, as Logto's paged lists answer.

use crate::common::account_export::DeviceView;
use accountd_core::security_event::SecurityEvent;
use accountd_core::store::Page;
use axum::http::{HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};

use super::error::{LogtoError, LogtoResult};
use super::extract::{Guarded, LogtoAuth, LogtoJson};

/// The scope the timeline needs (accountd's; ask for it beside Logto's scopes).
pub const SECURITY_EVENTS_SCOPE: &str = "urn:accountd:scope:security_events";

/// Query of `GET /api/my-account/security-events`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
pub struct SecurityEventsQuery {
    /// The page, from 1.
    #[serde(default = "first_page")]
    pub page: u32,
    /// Entries per page, 1 to 100 (default 20).
    #[serde(default = "default_page_size")]
    pub page_size: u32,
}

fn first_page() -> u32 {
    1
}

fn default_page_size() -> u32 {
    20
}

/// One entry of the timeline.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityEventItem {
    /// Its id.
    pub id: String,
    /// What happened (`signed_in`, `password_changed`, `method_added`, …).
    #[serde(rename = "type")]
    #[schema(example = "signed_in")]
    pub kind: &'static str,
    /// What happened, in a sentence.
    #[schema(example = "Signed in with your password")]
    pub description: String,
    /// When (milliseconds since the epoch).
    pub created_at: i64,
    /// The client address it came from.
    pub ip: Option<String>,
    /// The browser or app it came from, as it named itself.
    pub user_agent: Option<String>,
    /// The browser and system, as far as the user agent tells.
    pub device: Option<DeviceView>,
    /// Particulars: `method`, `type`, `connection`, `changed` (field names); never a secret.
    #[schema(value_type = Object)]
    pub details: Value,
}

impl From<SecurityEvent> for SecurityEventItem {
    fn from(e: SecurityEvent) -> Self {
        Self {
            id: e.id,
            kind: e.kind.as_str(),
            description: e.description,
            created_at: e.at,
            ip: e.ip,
            user_agent: e.user_agent,
            device: e.device.map(DeviceView::from),
            details: e.details,
        }
    }
}

/// What happened to the user's account — sign-ins, changes, methods, sessions — newest first.
#[utoipa::path(get, path = "/api/my-account/security-events", tag = "Account", operation_id = "ListSecurityEvents",
    params(SecurityEventsQuery),
    responses((status = 200, body = Vec<SecurityEventItem>, description = "A page of the timeline, newest first",
        headers(("Total-Number" = u64, description = "Entries in the whole timeline")))))]
pub async fn list_security_events(auth: LogtoAuth, uri: Uri) -> LogtoResult<Response> {
    auth.require_scope(SECURITY_EVENTS_SCOPE, StatusCode::UNAUTHORIZED)?;
    let q: SecurityEventsQuery = axum::extract::Query::try_from_uri(&uri)
        .map(|q| q.0)
        .map_err(|e| LogtoError::invalid_input(e.body_text()).arg("type", "query"))?;
    let max = accountd_core::service::MAX_SECURITY_EVENTS_PAGE;
    if q.page == 0 || !(1..=max).contains(&q.page_size) {
        return Err(LogtoError::invalid_input(format!("page must be 1 or more and page_size from 1 to {max}"))
            .arg("type", "query"));
    }
    let caller = auth.caller();
    let core = &auth.state().core;
    let offset = (q.page - 1).saturating_mul(q.page_size);
    let events = core.my_security_events(&caller, None, Page { offset, limit: q.page_size }).await?;
    let total = core.count_my_security_events(&caller, None).await?;
    let items: Vec<SecurityEventItem> = events.into_iter().map(SecurityEventItem::from).collect();
    let mut r = axum::Json(items).into_response();
    r.headers_mut().insert("total-number", HeaderValue::from(total));
    Ok(r)
}

/// Body of `POST /api/my-account/security-events/{eventId}/report`.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The new password; required when the account has one (whoever did this may know it).
    pub password: Option<String>,
}

impl Guarded for ReportBody {
    fn check(&self) -> Result<(), String> {
        match &self.password {
            Some(p) if p.is_empty() => Err("password: must not be empty".into()),
            _ => Ok(()),
        }
    }
}

/// A kept report and what it did.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SecurityReportItem {
    /// The report's id.
    pub id: String,
    /// The reported entry.
    pub event_id: String,
    /// Its type.
    pub event_type: String,
    /// When (milliseconds since the epoch).
    pub reported_at: i64,
    /// Other sessions ended.
    pub sessions_ended: i64,
    /// Other apps' access revoked.
    pub grants_revoked: i64,
    /// Whether the password was replaced.
    pub password_replaced: bool,
}

/// "This wasn't me": ends every other session and app access, replaces the password and tells
/// the operator; needs a verification record (`logto-verification-id`).
#[utoipa::path(post, path = "/api/my-account/security-events/{eventId}/report", tag = "Account",
    operation_id = "ReportSecurityEvent",
    params(("eventId" = String, Path, description = "The timeline entry's id")),
    request_body = ReportBody,
    responses((status = 201, body = SecurityReportItem, description = "The report, and what it did")))]
pub async fn report_security_event(
    auth: LogtoAuth,
    axum::extract::Path(id): axum::extract::Path<String>,
    LogtoJson(body): LogtoJson<ReportBody>,
) -> LogtoResult<(StatusCode, axum::Json<SecurityReportItem>)> {
    auth.require_scope(SECURITY_EVENTS_SCOPE, StatusCode::UNAUTHORIZED)?;
    let password = body.password.map(zeroize::Zeroizing::new);
    let r = auth.state().core.report_security_event(&auth.caller(), &id, password).await?;
    Ok((
        StatusCode::CREATED,
        axum::Json(SecurityReportItem {
            id: r.id,
            event_id: r.event_id,
            event_type: r.event_type,
            reported_at: r.reported_at,
            sessions_ended: r.sessions_ended,
            grants_revoked: r.grants_revoked,
            password_replaced: r.password_replaced,
        }),
    ))
}
