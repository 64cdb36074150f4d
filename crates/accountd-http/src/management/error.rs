//! The Auth0 Management API's error shape, `{statusCode, error, message, errorCode}`, from the one
//! core error. One exhaustive match: a new core variant does not compile until it is mapped here.

use accountd_core::Error;
use accountd_core::error::{ConflictKind, Entity};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error as the management API answers it.
#[derive(Debug)]
pub struct MgmtError {
    status: StatusCode,
    message: String,
    code: Option<&'static str>,
    headers: Vec<(header::HeaderName, header::HeaderValue)>,
}

impl MgmtError {
    /// An error with a status, message and Auth0 `errorCode`.
    pub fn new(status: StatusCode, message: impl Into<String>, code: Option<&'static str>) -> Self {
        Self { status, message: message.into(), code, headers: vec![] }
    }

    /// A 401 from the shared token check, with its challenge headers.
    pub fn from_auth(e: crate::common::principal::AuthError) -> Self {
        let headers = e.headers();
        Self { status: StatusCode::UNAUTHORIZED, message: e.description, code: e.error, headers }
    }

    /// 400 for a body that fails validation.
    pub fn invalid_body(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, Some("invalid_body"))
    }

    /// 400 for a query string that fails validation.
    pub fn invalid_query(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message, Some("invalid_query_string"))
    }

    /// 401 with a reason.
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, message, None)
    }
}

/// Auth0's "not found" message and code for each kind of object.
fn not_found(entity: Entity) -> (&'static str, &'static str) {
    match entity {
        Entity::Application => ("The client does not exist", "inexistent_client"),
        Entity::ApiResource => ("The resource server does not exist", "inexistent_resource_server"),
        Entity::User => ("The user does not exist.", "inexistent_user"),
        Entity::Role => ("The role does not exist.", "inexistent_role"),
        Entity::ClientGrant => ("The client grant does not exist.", "inexistent_client_grant"),
        Entity::Tenant => ("The tenant does not exist.", "inexistent_tenant"),
        Entity::Domain => ("The domain does not exist.", "inexistent_domain"),
        Entity::Permission => ("The permission does not exist.", "inexistent_permission"),
        Entity::AuthenticationMethod => {
            ("The authentication method does not exist.", "inexistent_authentication_method")
        }
        Entity::VerificationRecord => ("The verification record does not exist.", "inexistent_verification_record"),
        Entity::Identity => ("The identity does not exist.", "inexistent_identity"),
        Entity::Session => ("The session does not exist.", "inexistent_session"),
        Entity::Grant => ("The grant does not exist.", "inexistent_grant"),
        Entity::Connection => ("The connection does not exist", "inexistent_connection"),
        Entity::TokenSet => ("The token set does not exist.", "inexistent_token_set"),
        Entity::SecurityEvent => ("The security event does not exist.", "inexistent_security_event"),
    }
}

impl From<Error> for MgmtError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(errors) => {
                let msg = errors
                    .iter()
                    .map(|f| format!("'{}' on property {}", f.message, f.field))
                    .collect::<Vec<_>>()
                    .join("; ");
                MgmtError::invalid_body(format!("Payload validation error: {msg}."))
            }
            Error::NotFound(entity) => {
                let (message, code) = not_found(entity);
                MgmtError::new(StatusCode::NOT_FOUND, message, Some(code))
            }
            Error::Conflict(kind) => {
                let (message, code): (String, _) = match kind {
                    ConflictKind::EmailTaken | ConflictKind::PhoneTaken | ConflictKind::UsernameTaken => {
                        ("The user already exists.".into(), "auth0_idp_error")
                    }
                    ConflictKind::LastIdentifier => {
                        ("This is the user's last identifier to sign in with.".into(), "last_identifier")
                    }
                    ConflictKind::ApiIdentifierTaken => (
                        "A resource server with the same identifier already exists.".into(),
                        "resource_server_conflict",
                    ),
                    ConflictKind::ClientGrantExists => (
                        "A client grant for this client, audience and subject type already exists.".into(),
                        "client_grant_conflict",
                    ),
                    ConflictKind::RoleNameTaken => {
                        ("A role with the same name already exists.".into(), "role_conflict")
                    }
                    ConflictKind::DomainTaken => ("The domain is already in use.".into(), "domain_conflict"),
                    ConflictKind::TenantExists => ("The tenant already exists.".into(), "tenant_conflict"),
                    ConflictKind::LastSignInMethod => {
                        ("This is the user's last way to sign in.".into(), "last_authentication_method")
                    }
                    ConflictKind::IdentityTaken | ConflictKind::IdentityExists => {
                        ("The identity is already linked.".into(), "identity_conflict")
                    }
                    ConflictKind::ConnectionNameTaken => {
                        ("A connection with the same name already exists".into(), "connection_conflict")
                    }
                    ConflictKind::AlreadyEnrolled(what) => (format!("{what} is already enrolled."), "already_enrolled"),
                    ConflictKind::AlreadyReported => ("The event was already reported.".into(), "already_reported"),
                    ConflictKind::TooManyMethods => (
                        format!(
                            "The user has the most authentication methods allowed ({}).",
                            accountd_core::authn::MAX_METHODS_PER_USER
                        ),
                        "too_many_authentication_methods",
                    ),
                    ConflictKind::Other(c) => (format!("Conflict ({c})."), "conflict"),
                };
                MgmtError::new(StatusCode::CONFLICT, message, Some(code))
            }
            Error::Forbidden(reason) => {
                MgmtError::new(StatusCode::FORBIDDEN, reason.to_string(), Some("operation_not_supported"))
            }
            Error::Unauthenticated(reason) => MgmtError::unauthorized(reason),
            Error::MissingScope(scope) => MgmtError::new(
                StatusCode::FORBIDDEN,
                format!("Insufficient scope, expected any of: {scope}"),
                Some("insufficient_scope"),
            ),
            Error::LockedOut { until } => MgmtError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!("Too many failed attempts; try again after {}.", accountd_core::clock::to_rfc3339(until)),
                Some("too_many_attempts"),
            ),
            Error::BadProof(d) => MgmtError::new(StatusCode::BAD_REQUEST, d, Some("invalid_proof")),
            Error::Refused(r) => MgmtError::new(StatusCode::BAD_REQUEST, format!("Refused: {r:?}."), Some("refused")),
            Error::ProofRequired(_) => {
                MgmtError::new(StatusCode::FORBIDDEN, "A more recent or stronger sign-in is required.", None)
            }
            Error::Delivery(_) => {
                MgmtError::new(StatusCode::SERVICE_UNAVAILABLE, "The message could not be delivered.", None)
            }
            Error::Upstream(_) => MgmtError::new(
                StatusCode::BAD_GATEWAY,
                "The upstream identity provider failed.",
                Some("upstream_error"),
            ),
            Error::Unavailable => {
                MgmtError::new(StatusCode::SERVICE_UNAVAILABLE, "The service is temporarily unavailable.", None)
            }
            Error::Busy { retry_after_secs } => {
                let mut e =
                    MgmtError::new(StatusCode::SERVICE_UNAVAILABLE, "The server is busy; try again shortly.", None);
                e.headers.push((header::RETRY_AFTER, header::HeaderValue::from(retry_after_secs.max(1))));
                e
            }
            Error::Internal(e) => {
                // Logged once here, at the boundary; the client sees a fixed message.
                tracing::error!(error = format!("{e:#}"), "internal error");
                MgmtError::new(StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error", None)
            }
        }
    }
}

impl IntoResponse for MgmtError {
    fn into_response(self) -> Response {
        let mut body = json!({
            "statusCode": self.status.as_u16(),
            "error": self.status.canonical_reason().unwrap_or("Error"),
            "message": self.message,
        });
        if let Some(code) = self.code {
            body["errorCode"] = json!(code);
        }
        let mut resp = (self.status, axum::Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED && self.headers.is_empty() {
            resp.headers_mut().insert(header::WWW_AUTHENTICATE, header::HeaderValue::from_static("Bearer"));
        }
        for (k, v) in self.headers {
            resp.headers_mut().insert(k, v);
        }
        resp
    }
}

impl crate::common::input::EdgeError for MgmtError {
    fn too_large(limit: usize) -> Self {
        // Auth0's Management API (hapi) says exactly this, without an errorCode.
        MgmtError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("Payload content length greater than maximum allowed: {limit}"),
            None,
        )
    }

    fn unreadable() -> Self {
        MgmtError::invalid_body("Invalid request payload: the body could not be read.")
    }

    fn refused(r: &crate::common::input::Refused) -> Self {
        use crate::common::input::Place;
        let what = "must not contain control characters";
        match &r.0 {
            Place::Path(_) => MgmtError::new(
                StatusCode::BAD_REQUEST,
                format!("Path validation error: '{what}' on property {}.", r.property()),
                Some("invalid_uri"),
            ),
            Place::Query(_) => {
                MgmtError::invalid_query(format!("Query validation error: '{what}' on property {}.", r.property()))
            }
            Place::Body(_) => {
                MgmtError::invalid_body(format!("Payload validation error: '{what}' on property {}.", r.property()))
            }
        }
    }

    fn respond(self) -> Response {
        self.into_response()
    }
}

/// Result of a management handler.
pub type MgmtResult<T> = Result<T, MgmtError>;

#[cfg(test)]
mod tests {
    use super::*;
    use accountd_core::error::{FieldError, Forbidden};

    /// Every core error renders in Auth0's shape; pin status and code per variant.
    #[test]
    fn every_core_error_has_a_management_rendering() {
        let cases: Vec<(Error, u16, Option<&str>)> = vec![
            (Error::Invalid(vec![FieldError::new("name", "is required")]), 400, Some("invalid_body")),
            (Error::NotFound(Entity::Application), 404, Some("inexistent_client")),
            (Error::NotFound(Entity::User), 404, Some("inexistent_user")),
            (Error::Conflict(ConflictKind::EmailTaken), 409, Some("auth0_idp_error")),
            (Error::Forbidden(Forbidden::MyAccountClientPolicyFixed), 403, Some("operation_not_supported")),
            (Error::Unauthenticated("x".into()), 401, None),
            (Error::MissingScope("read:users".into()), 403, Some("insufficient_scope")),
            (Error::Unavailable, 503, None),
            (Error::Busy { retry_after_secs: 1 }, 503, None),
            (Error::Internal(anyhow::anyhow!("secret detail")), 500, None),
        ];
        for (e, status, code) in cases {
            let m = MgmtError::from(e);
            assert_eq!(m.status.as_u16(), status);
            assert_eq!(m.code, code);
            assert!(!m.message.contains("secret detail"), "internal detail leaked");
        }
    }
}
