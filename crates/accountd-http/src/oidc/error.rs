//! RFC 6749 error rendering for the authorization server's endpoints.

use accountd_oauth::OAuthError;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// `{error, error_description}` with the error's status; never cached.
pub fn render(e: OAuthError) -> Response {
    let status = StatusCode::from_u16(e.status).unwrap_or(StatusCode::BAD_REQUEST);
    let mut resp = (status, axum::Json(json!({"error": e.error, "error_description": e.description}))).into_response();
    let h = resp.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    if status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Basic realm=\"accountd\""));
    }
    if status == StatusCode::SERVICE_UNAVAILABLE {
        h.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    resp
}

impl crate::common::input::EdgeError for OAuthError {
    fn too_large(limit: usize) -> Self {
        OAuthError {
            status: 413,
            error: "invalid_request",
            description: format!("The request body is larger than the {limit} bytes allowed."),
        }
    }

    fn unreadable() -> Self {
        OAuthError::invalid_request("The request body could not be read.")
    }

    fn refused(r: &crate::common::input::Refused) -> Self {
        OAuthError::invalid_request(format!("The parameter {} contains a control character.", r.property()))
    }

    fn respond(self) -> Response {
        render(self)
    }
}
