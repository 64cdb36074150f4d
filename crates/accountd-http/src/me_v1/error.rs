//! The My Account API's error format (spec auth0 §3): `{type, status, title, detail,
//! validation_errors}` as `application/json`, with the `type` codes seen in Auth0's SDK fixtures.
//! Every core error maps here in one exhaustive match.

use accountd_core::error::{ConflictKind, Error, Refusal, UpstreamFailure};
use accountd_core::verification::ProofNeeded;
use axum::http::{HeaderName, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::common::principal::AuthError;

/// One invalid part of a request body (`pointer` is a JSON Pointer into it).
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ValidationError {
    /// What is wrong, in AJV's words (`data/email must be string`).
    pub detail: String,
    /// The field's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// JSON Pointer to the field (`/email`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pointer: Option<String>,
    /// Why a field cannot be changed (profile: `managed_by_identity_provider`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

impl ValidationError {
    /// An error about the field at `pointer` (`/email`, or `` for the whole body).
    pub fn at(pointer: &str, detail: impl Into<String>) -> Self {
        let field = pointer.rsplit('/').next().filter(|f| !f.is_empty()).map(str::to_string);
        Self {
            detail: detail.into(),
            field,
            pointer: Some(pointer.to_string()).filter(|p| !p.is_empty()),
            source: None,
        }
    }
}

/// What a My Account handler returns; core errors convert with `?` (the gate then answers
/// challenges in the token's scheme, [`challenge_in_scheme`]).
pub type MeResult<T> = Result<T, MeError>;

/// Rewrites the `Bearer` challenges of a handler's answer (a missing scope, a step-up) into
/// `scheme`, so that a DPoP-bound caller is challenged as `DPoP` (RFC 9449 §7.1).
pub fn challenge_in_scheme(res: &mut Response, scheme: &str) {
    if scheme == "Bearer" {
        return;
    }
    for (name, value) in res.headers_mut().iter_mut() {
        if *name == header::WWW_AUTHENTICATE
            && let Ok(s) = value.to_str()
            && let Some(rest) = s.strip_prefix("Bearer ")
            && let Ok(v) = HeaderValue::from_str(&format!("{scheme} {rest}"))
        {
            *value = v;
        }
    }
}

/// An error response of the My Account API.
#[derive(Debug)]
pub struct MeError {
    status: StatusCode,
    code: &'static str,
    title: &'static str,
    detail: String,
    validation_errors: Vec<ValidationError>,
    headers: Vec<(HeaderName, HeaderValue)>,
}

#[derive(Serialize)]
struct Body<'a> {
    #[serde(rename = "type")]
    type_: String,
    status: u16,
    title: &'a str,
    detail: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    validation_errors: &'a [ValidationError],
}

impl MeError {
    /// An error with no validation details.
    pub fn new(status: StatusCode, code: &'static str, title: &'static str, detail: impl Into<String>) -> Self {
        Self { status, code, title, detail: detail.into(), validation_errors: vec![], headers: vec![] }
    }

    /// 400 for a body or query that does not fit the schema.
    pub fn validation(errors: Vec<ValidationError>) -> Self {
        Self {
            validation_errors: errors,
            ..Self::new(StatusCode::BAD_REQUEST, "A0E-400-0003", "Validation Error", "Invalid request payload input")
        }
    }

    /// 400 `read_only_field` for a body that sets fields the user cannot change (profile); the
    /// detail names the first one, `errors` carry each field's pointer and reason (`source`).
    pub fn read_only(errors: Vec<ValidationError>) -> Self {
        let first = errors.first().and_then(|e| e.pointer.clone()).unwrap_or_default();
        Self {
            validation_errors: errors,
            ..Self::new(
                StatusCode::BAD_REQUEST,
                "A0E-400-0008",
                "read_only_field",
                format!("The field '{first}' is read-only."),
            )
        }
    }

    /// 415 for a body that is not JSON.
    pub fn unsupported_media_type() -> Self {
        Self::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "A0E-415-0001",
            "Unsupported Media Type",
            "The request body must be JSON (Content-Type: application/json).",
        )
    }

    /// 404 for a path the API does not serve.
    pub fn no_route(method: &str, path: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "A0E-404-0001",
            "Not Found",
            format!("The requested resource {method} {path} was not found."),
        )
    }

    /// 429 with `retry-after` (seconds); `global` when the tenant-wide limit was hit.
    pub fn rate_limited(retry_after: u64, global: bool) -> Self {
        let mut e =
            Self::new(StatusCode::TOO_MANY_REQUESTS, "A0E-429-0001", "Too Many Requests", "Rate limit exceeded.");
        e.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after.max(1))));
        if global {
            e.headers
                .push((HeaderName::from_static("x-auth0-error-kind"), HeaderValue::from_static("global-rate-limit")));
        }
        e
    }

    /// 401 for a missing or invalid token, with its `WWW-Authenticate` (and `DPoP-Nonce`).
    pub fn from_auth(e: AuthError) -> Self {
        let (code, title, detail) = match e.error {
            None => ("A0E-401-0001", "Unauthorized", "Missing or invalid token.".to_string()),
            Some(_) => ("A0E-401-0003", "Invalid Token", e.description.clone()),
        };
        let mut out = Self::new(StatusCode::UNAUTHORIZED, code, title, detail);
        out.headers = e.headers();
        out
    }

    /// 403 for a token without the endpoint's scope.
    pub fn missing_scope(scope: &str) -> Self {
        let mut e =
            Self::new(StatusCode::FORBIDDEN, "A0E-403-0002", "insufficient_scope", "Token lacks required scope.");
        if let Ok(v) = HeaderValue::from_str(&format!("Bearer error=\"insufficient_scope\", scope=\"{scope}\"")) {
            e.headers.push((header::WWW_AUTHENTICATE, v));
        }
        e
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        self.status
    }
}

impl From<Error> for MeError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(fields) => MeError::validation(
                fields
                    .into_iter()
                    .map(|f| {
                        let pointer = format!("/{}", f.field.replace('.', "/"));
                        ValidationError::at(&pointer, f.message)
                    })
                    .collect(),
            ),
            Error::NotFound(entity) => {
                MeError::new(StatusCode::NOT_FOUND, "A0E-404-0001", "Not Found", format!("The {entity} was not found."))
            }
            Error::Conflict(kind) => MeError::new(
                StatusCode::CONFLICT,
                "A0E-409-0001",
                "Conflict",
                match kind {
                    ConflictKind::LastSignInMethod => {
                        "This is the last way this account can sign in; add another method before removing it.".into()
                    }
                    ConflictKind::AlreadyEnrolled(what) => format!("{what} is already enrolled."),
                    ConflictKind::TooManyMethods => format!(
                        "This account has the most authentication methods allowed ({}); remove one before adding another.",
                        accountd_core::authn::MAX_METHODS_PER_USER
                    ),
                    ConflictKind::EmailTaken => "The email is already used by another account.".into(),
                    ConflictKind::PhoneTaken => "The phone number is already used by another account.".into(),
                    ConflictKind::UsernameTaken => "The username is already used by another account.".into(),
                    ConflictKind::LastIdentifier => {
                        "This is the last identifier this account can sign in with; add another before removing it."
                            .into()
                    }
                    ConflictKind::IdentityTaken => {
                        "This account at the provider is already connected to another user.".into()
                    }
                    ConflictKind::IdentityExists => "An account of this connection is already connected.".into(),
                    ConflictKind::AlreadyReported => "This event was already reported.".into(),
                    other @ (ConflictKind::DomainTaken
                    | ConflictKind::ConnectionNameTaken
                    | ConflictKind::ApiIdentifierTaken
                    | ConflictKind::ClientGrantExists
                    | ConflictKind::RoleNameTaken
                    | ConflictKind::TenantExists
                    | ConflictKind::Other(_)) => {
                        format!("The request conflicts with the current state of the resource ({other:?}).")
                    }
                },
            ),
            Error::Forbidden(f) => MeError::new(StatusCode::FORBIDDEN, "A0E-403-0001", "Forbidden", f.to_string()),
            Error::Unauthenticated(d) => MeError::new(StatusCode::UNAUTHORIZED, "A0E-401-0003", "Invalid Token", d),
            Error::MissingScope(scope) => MeError::missing_scope(&scope),
            Error::LockedOut { until } => {
                let secs = ((until - accountd_core::clock::now_millis()).max(1000) + 999) / 1000;
                let mut e = MeError::rate_limited(secs as u64, false);
                e.detail = "Too many attempts; try again later.".into();
                e
            }
            Error::BadProof(detail) => {
                MeError::new(StatusCode::BAD_REQUEST, "A0E-400-0004", "Invalid Verification", detail)
            }
            Error::ProofRequired(ProofNeeded::VerificationRecord) => MeError::new(
                StatusCode::UNAUTHORIZED,
                "A0E-401-0004",
                "insufficient_user_authentication",
                "This operation requires proof of identity.",
            ),
            Error::Refused(r) => refusal(r),
            Error::ProofRequired(ProofNeeded::RecentSignIn(s)) => {
                // RFC 9470: say what sign-in would do, in the header and in the body.
                let mut challenge = format!(
                    "Bearer error=\"insufficient_user_authentication\", error_description=\"A more recent or stronger sign-in is required\", max_age={}",
                    s.max_age
                );
                let mut detail =
                    format!("This operation requires signing in again within the last {} seconds", s.max_age);
                if let Some(acr) = s.acr_values {
                    challenge.push_str(&format!(", acr_values=\"{acr}\""));
                    detail.push_str(&format!(" with multi-factor authentication (acr_values={acr})"));
                }
                detail.push_str(&format!(" (max_age={}).", s.max_age));
                let mut e =
                    MeError::new(StatusCode::UNAUTHORIZED, "A0E-401-0004", "insufficient_user_authentication", detail);
                if let Ok(v) = HeaderValue::from_str(&challenge) {
                    e.headers.push((header::WWW_AUTHENTICATE, v));
                }
                e
            }
            Error::Upstream(f) => match f {
                UpstreamFailure::Unavailable => MeError::new(
                    StatusCode::BAD_GATEWAY,
                    "A0E-502-0001",
                    "Bad Gateway",
                    "The connection's identity provider could not be reached.",
                ),
                UpstreamFailure::Refused | UpstreamFailure::IdTokenInvalid => MeError::new(
                    StatusCode::BAD_REQUEST,
                    "A0E-400-0004",
                    "Invalid Verification",
                    "The connection's identity provider refused the sign-in.",
                ),
            },
            Error::Delivery(_) => MeError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "A0E-503-0002",
                "Service Unavailable",
                "The code could not be sent; try again later.",
            ),
            Error::Unavailable => MeError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "A0E-503-0001",
                "Service Unavailable",
                "The service is temporarily unavailable.",
            ),
            Error::Busy { retry_after_secs } => {
                let mut e = MeError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "A0E-503-0001",
                    "Service Unavailable",
                    "The server is busy; try again shortly.",
                );
                e.headers.push((header::RETRY_AFTER, HeaderValue::from(retry_after_secs.max(1))));
                e
            }
            Error::Internal(e) => {
                tracing::error!(error = ?e, "internal error");
                MeError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "A0E-500-0001",
                    "Internal Server Error",
                    "Internal error.",
                )
            }
        }
    }
}

/// A refusal of the account's rules, as a 400 (a 429 for too many sends).
fn refusal(r: Refusal) -> MeError {
    let bad = |d: String| MeError::new(StatusCode::BAD_REQUEST, "A0E-400-0004", "Invalid Verification", d);
    match r {
        Refusal::PasswordRejected(fields) => MeError::validation(
            fields.into_iter().map(|f| ValidationError::at(&format!("/{}", f.field), f.message)).collect(),
        ),
        Refusal::MessageRateLimited { until } => {
            let secs = ((until - accountd_core::clock::now_millis()).max(1000) + 999) / 1000;
            let mut e = MeError::rate_limited(secs as u64, false);
            e.detail = "Too many codes were sent; try again later.".into();
            e
        }
        Refusal::Code(_) => bad("The code is wrong or expired.".into()),
        Refusal::NoConnector => MeError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "A0E-503-0002",
            "Service Unavailable",
            "The code could not be sent; try again later.",
        ),
        Refusal::FieldNotEditable(f) | Refusal::FieldNotEnabled(f) => MeError::new(
            StatusCode::FORBIDDEN,
            "A0E-403-0001",
            "Forbidden",
            format!("The account settings do not let users change '{f}'."),
        ),
        Refusal::AccountCenterDisabled | Refusal::ThirdPartyApplication => {
            MeError::new(StatusCode::FORBIDDEN, "A0E-403-0001", "Forbidden", "This operation is not available.")
        }
        Refusal::WrongPassword => bad("The password is wrong.".into()),
        Refusal::SamePassword => bad("The new password must differ from the current one.".into()),
        Refusal::UsernameRejected(v) => bad(format!("The username is not allowed ({v}).")),
        Refusal::EmailNotAllowed => bad("This email address is not allowed.".into()),
        Refusal::TotpAlreadyInUse | Refusal::BackupCodeAlreadyInUse => {
            let what = if r == Refusal::TotpAlreadyInUse { "totp" } else { "recovery-code" };
            MeError::new(StatusCode::CONFLICT, "A0E-409-0001", "Conflict", format!("{what} is already enrolled."))
        }
        Refusal::TotpSecretInvalid => {
            MeError::validation(vec![ValidationError::at("/secret", "must be a base32 string of 16 to 32 characters")])
        }
        Refusal::WrongBackupCodeFormat => {
            MeError::validation(vec![ValidationError::at("/codes", "must be 10 codes of 10 hexadecimal characters")])
        }
        Refusal::InvalidTotpCode => bad("The code is wrong or has expired.".into()),
        Refusal::BackupCodeCanNotBeAlone => bad("Recovery codes need another second factor; enroll one first.".into()),
        Refusal::MfaFactorNotEnabled => bad("This factor is not enabled for this tenant.".into()),
        Refusal::WebauthnVerificationFailed => bad("The WebAuthn registration could not be verified.".into()),
        Refusal::PendingInfoNotFound => bad("No WebAuthn registration is waiting; start again.".into()),
        Refusal::UpstreamSessionNotFound => bad("No connection request is waiting; start again.".into()),
        Refusal::SocialTargetMismatch => bad("The verification was made at another connection.".into()),
        Refusal::IdentityNotOwned => bad("That account is not connected to this user.".into()),
        Refusal::NoTokenSet => bad("The connection keeps no tokens.".into()),
        Refusal::UpstreamTokenExpired => MeError::new(
            StatusCode::UNAUTHORIZED,
            "A0E-401-0005",
            "Unauthorized",
            "The connected account's token expired and cannot be refreshed; connect the account again.",
        ),
    }
}

impl crate::common::input::EdgeError for MeError {
    fn too_large(limit: usize) -> Self {
        MeError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "A0E-413-0001",
            "Payload Too Large",
            format!("The request body is larger than the {limit} bytes allowed."),
        )
    }

    fn unreadable() -> Self {
        MeError::validation(vec![ValidationError::at("", "the body could not be read")])
    }

    fn refused(r: &crate::common::input::Refused) -> Self {
        use crate::common::input::Place;
        // AJV's words, as for the other schema errors: `data/name`, `params/id`, `querystring/type`.
        let root = match r.0 {
            Place::Path(_) => "params",
            Place::Query(_) => "querystring",
            Place::Body(_) => "data",
        };
        let pointer = r.pointer();
        MeError::validation(vec![ValidationError::at(
            &pointer,
            format!("{root}{pointer} must not contain control characters"),
        )])
    }

    fn respond(self) -> Response {
        self.into_response()
    }
}

impl IntoResponse for MeError {
    fn into_response(self) -> Response {
        let body = Body {
            type_: format!("https://auth0.com/api-errors/{}", self.code),
            status: self.status.as_u16(),
            title: self.title,
            detail: &self.detail,
            validation_errors: &self.validation_errors,
        };
        let mut res = (self.status, axum::Json(&body)).into_response();
        for (k, v) in self.headers {
            res.headers_mut().append(k, v);
        }
        res
    }
}
