//! OAuth 2.0 errors (RFC 6749 §5.2): `{error, error_description}` with their HTTP status.

/// An error answer of the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OAuthError {
    /// HTTP status.
    pub status: u16,
    /// RFC 6749 error code.
    pub error: &'static str,
    /// Human-readable description.
    pub description: String,
}

impl OAuthError {
    /// `invalid_request` (400).
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self { status: 400, error: "invalid_request", description: d.into() }
    }
    /// `invalid_client` (401).
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self { status: 401, error: "invalid_client", description: d.into() }
    }
    /// `unauthorized_client` (403): the client may not use this grant.
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self { status: 403, error: "unauthorized_client", description: d.into() }
    }
    /// `access_denied` (403), as Auth0 answers policy refusals.
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self { status: 403, error: "access_denied", description: d.into() }
    }
    /// `unsupported_grant_type` (400).
    pub fn unsupported_grant_type(d: impl Into<String>) -> Self {
        Self { status: 400, error: "unsupported_grant_type", description: d.into() }
    }
    /// `invalid_scope` (400).
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self { status: 400, error: "invalid_scope", description: d.into() }
    }
    /// `server_error` (500); the cause is logged, not shown.
    pub fn server_error() -> Self {
        Self { status: 500, error: "server_error", description: "The server could not complete the request.".into() }
    }
    /// `temporarily_unavailable` (503).
    pub fn unavailable() -> Self {
        Self { status: 503, error: "temporarily_unavailable", description: "Try again later.".into() }
    }
}

impl From<accountd_core::Error> for OAuthError {
    fn from(e: accountd_core::Error) -> Self {
        use accountd_core::Error as E;
        match e {
            E::Invalid(errs) => OAuthError::invalid_request(
                errs.into_iter().map(|f| format!("{}: {}", f.field, f.message)).collect::<Vec<_>>().join("; "),
            ),
            E::NotFound(entity) => OAuthError::invalid_request(format!("unknown {entity}")),
            E::Conflict(_) => OAuthError::invalid_request("conflicting request"),
            E::Forbidden(f) => OAuthError::access_denied(f.to_string()),
            E::Unauthenticated(_) => OAuthError::invalid_client("Client authentication failed."),
            E::MissingScope(s) => OAuthError::invalid_scope(format!("missing scope {s}")),
            E::LockedOut { .. } => OAuthError::access_denied("Too many failed attempts."),
            E::BadProof(d) => OAuthError { status: 400, error: "invalid_grant", description: d },
            E::ProofRequired(_) => OAuthError::access_denied("A more recent or stronger sign-in is required."),
            E::Refused(r) => OAuthError::invalid_request(format!("refused: {r:?}")),
            E::Delivery(_) | E::Unavailable | E::Busy { .. } => OAuthError::unavailable(),
            E::Upstream(accountd_core::error::UpstreamFailure::Unavailable) => OAuthError::unavailable(),
            E::Upstream(_) => OAuthError::access_denied("The upstream provider refused."),
            E::Internal(err) => {
                tracing::error!(error = format!("{err:#}"), "token endpoint failure");
                OAuthError::server_error()
            }
        }
    }
}
