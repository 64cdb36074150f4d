//! The device API's error format: `{error, error_description}` (RFC 6749 style), with
//! `WWW-Authenticate: Device …` on a 401. Every core error maps here in one exhaustive match.

use accountd_core::error::Error;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answer of the device API.
#[derive(Debug)]
pub struct PushError {
    status: StatusCode,
    error: &'static str,
    description: String,
}

impl PushError {
    /// An error with a status, a code and a description.
    pub fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self { status, error, description: description.into() }
    }

    /// 400 `invalid_request`: the body does not fit.
    pub fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    /// 401 `invalid_token`: no device proof, an unknown device, or a bad proof.
    pub fn invalid_token(description: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "invalid_token", description)
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for PushError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(fields) => PushError::invalid_request(
                fields.iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
            ),
            Error::BadProof(detail) => PushError::new(StatusCode::BAD_REQUEST, "invalid_ticket", detail),
            Error::NotFound(_) => {
                PushError::new(StatusCode::NOT_FOUND, "not_found", "No open challenge with that id for this device.")
            }
            Error::Conflict(kind) => PushError::new(StatusCode::CONFLICT, "conflict", format!("{kind:?}")),
            Error::Forbidden(f) => PushError::new(StatusCode::FORBIDDEN, "access_denied", f.to_string()),
            Error::Unauthenticated(d) => PushError::invalid_token(d),
            Error::MissingScope(scope) => {
                PushError::new(StatusCode::FORBIDDEN, "insufficient_scope", format!("expected {scope}"))
            }
            Error::LockedOut { .. } => PushError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "too_many_requests",
                "Too many attempts; try again later.",
            ),
            Error::Refused(r) => PushError::new(StatusCode::BAD_REQUEST, "invalid_request", format!("{r:?}")),
            Error::ProofRequired(_) => {
                PushError::new(StatusCode::FORBIDDEN, "access_denied", "A more recent or stronger sign-in is required.")
            }
            Error::Delivery(_) | Error::Upstream(_) | Error::Unavailable | Error::Busy { .. } => PushError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "temporarily_unavailable",
                "The service is temporarily unavailable.",
            ),
            Error::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                PushError::new(StatusCode::INTERNAL_SERVER_ERROR, "server_error", "Internal error.")
            }
        }
    }
}

impl crate::common::input::EdgeError for PushError {
    fn too_large(limit: usize) -> Self {
        PushError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "invalid_request",
            format!("The request body is larger than the {limit} bytes allowed."),
        )
    }

    fn unreadable() -> Self {
        PushError::invalid_request("The request body could not be read.")
    }

    fn refused(r: &crate::common::input::Refused) -> Self {
        PushError::invalid_request(format!("{} contains a control character.", r.property()))
    }

    fn respond(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for PushError {
    fn into_response(self) -> Response {
        let mut res = (self.status, axum::Json(json!({"error": self.error, "error_description": self.description})))
            .into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            let challenge = format!(
                "Device error=\"{}\", error_description=\"{}\"",
                self.error,
                self.description.replace('"', "'")
            );
            if let Ok(v) = HeaderValue::from_str(&challenge) {
                res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
        }
        res
    }
}
