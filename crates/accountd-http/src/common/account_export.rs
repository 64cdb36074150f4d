//! The account export document both account APIs return (`GET /me/v1/export`,
//! `GET /api/my-account/export`): one documented shape, a file the user keeps, whichever API the
//! app speaks. Built field by field from core's [`AccountExport`], so that a secret could only
//! appear here by being named — none is: no password hash, method secret or upstream token is
//! read for it, and `app_metadata` (the operator's own notes on the user) stays out.

use accountd_core::clock::to_rfc3339;
use accountd_core::service::AccountExport;
use serde_json::{Value, json};

/// The browser and system a timeline entry came from (both dialects and the export).
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct DeviceView {
    /// `Firefox`, `Chrome`, `Safari`, … (`UNKNOWN` when the user agent does not say).
    #[schema(example = "Firefox")]
    pub browser: String,
    /// `Linux`, `Android`, `iPhone`, `Windows 10`, …
    #[schema(example = "Linux")]
    pub os: String,
    /// `pc`, `smartphone`, `mobilephone`, `appliance`, `crawler` or `misc`.
    #[schema(example = "pc")]
    pub category: String,
}

impl From<accountd_core::security_event::Device> for DeviceView {
    fn from(d: accountd_core::security_event::Device) -> Self {
        Self { browser: d.browser, os: d.os, category: d.category }
    }
}

/// The document's `format`, for whoever reads it later.
pub const EXPORT_FORMAT: &str = "accountd.account-export/1";

/// The export as its JSON document.
pub fn document(x: &AccountExport, now: i64) -> Value {
    let time = |ms: i64| Value::String(to_rfc3339(ms));
    let opt_time = |ms: Option<i64>| ms.map_or(Value::Null, time);
    let u = &x.user;
    json!({
        "format": EXPORT_FORMAT,
        "exported_at": time(now),
        "profile": {
            "user_id": u.id.0,
            "email": u.email,
            "email_verified": u.email_verified,
            "phone_number": u.phone_number,
            "phone_verified": u.phone_verified,
            "username": u.username,
            "name": u.name,
            "given_name": u.given_name,
            "family_name": u.family_name,
            "nickname": u.nickname,
            "picture": u.picture,
            "claims": u.claims,
            "custom_data": u.user_metadata,
            "created_at": time(u.created_at),
            "updated_at": time(u.updated_at),
            "last_login_at": opt_time(u.last_login_at),
            "logins_count": u.logins_count,
        },
        "authentication_methods": x.methods.iter().map(|m| json!({
            "id": m.id,
            "type": m.method_type.storage_name(),
            "name": m.name,
            "confirmed": m.confirmed,
            "details": m.details,
            "created_at": time(m.created_at),
            "updated_at": time(m.updated_at),
            "last_used_at": opt_time(m.last_used_at),
        })).collect::<Vec<_>>(),
        "linked_identities": x.identities.iter().map(|i| json!({
            "id": i.id,
            "connection": i.connection_name,
            "subject": i.subject,
            "profile": i.profile,
            "scopes": i.scopes,
            "holds_tokens": i.sealed_tokens.is_some(),
            "created_at": time(i.created_at),
            "updated_at": time(i.updated_at),
        })).collect::<Vec<_>>(),
        "sessions": x.sessions.iter().map(|v| json!({
            "id": v.session.id,
            "current": v.is_current,
            "signed_in_at": time(v.session.auth_time * 1000),
            "methods": v.session.amr,
            "ip": v.session.ip,
            "user_agent": v.session.user_agent,
            "created_at": time(v.session.created_at),
            "last_seen_at": opt_time(v.session.last_seen_at),
            "expires_at": time(v.session.expires_at),
            "applications": v.apps.iter().map(|a| a.client_id.as_str()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "grants": x.grants.iter().map(|g| json!({
            "id": g.grant.id,
            "client_id": g.grant.client_id,
            "application": g.application.as_ref().map(|a| a.name.as_str()),
            "created_at": time(g.grant.created_at),
            "expires_at": time(g.grant.expires_at),
        })).collect::<Vec<_>>(),
        "consents": x.consents.iter().map(|c| json!({
            "client_id": c.client_id,
            "audience": c.audience,
            "scopes": c.scopes,
            "updated_at": time(c.updated_at),
        })).collect::<Vec<_>>(),
        "security_events": x.security_events.iter().map(|e| json!({
            "id": e.id,
            "type": e.kind.as_str(),
            "description": e.description,
            "created_at": time(e.at),
            "ip": e.ip,
            "user_agent": e.user_agent,
            "device": e.device.clone().map(DeviceView::from),
            "details": e.details,
        })).collect::<Vec<_>>(),
    })
}

/// The response headers that make a browser save the document as a file, never cache it.
pub fn attachment(doc: &Value) -> axum::response::Response {
    use axum::http::{HeaderValue, header};
    use axum::response::IntoResponse;
    let mut r = axum::Json(doc).into_response();
    let h = r.headers_mut();
    h.insert(header::CONTENT_DISPOSITION, HeaderValue::from_static("attachment; filename=\"account-export.json\""));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}
