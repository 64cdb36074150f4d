//! The gate in front of Logto's Account and Verification APIs, in Logto's order (spec logto §1.1):
//! the opaque user token (401/403) → the account center switched on (400) → then, per route, the
//! body (`guard.invalid_input`) and the route's checks. Handlers take the caller ([`LogtoAuth`])
//! and validated bodies ([`LogtoJson`]).

use std::sync::Arc;

use accountd_core::account_center::{AccountCenter, Field};
use accountd_core::service::AccountCaller;
use accountd_core::verification::Proof;
use accountd_oauth::access_token::AccessTokenClaims;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

use super::error::{LANG, Lang, LogtoError};
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::input::{self, EdgeError as _};
use crate::common::principal::{self, UserTokenError};
use crate::common::rate_limit::ip_key;
use crate::common::tenant::RequestTenant;

/// The header that carries a verification record's id (spec logto §1.5).
pub const VERIFICATION_HEADER: &str = "logto-verification-id";

/// The authenticated caller of a Logto account request.
#[derive(Clone)]
pub struct LogtoAuth {
    /// The token's claims.
    pub claims: AccessTokenClaims,
    /// The tenant's account center, as the gate read it.
    pub center: Arc<AccountCenter>,
    rt: RequestTenant,
    info: ClientInfo,
    verification: Option<String>,
    state: AppState,
}

impl LogtoAuth {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.claims.has_scope(scope)
    }

    /// Refuses with `auth.unauthorized` (at Logto's `status` for the route) unless the token has
    /// `scope`.
    pub fn require_scope(&self, scope: &str, status: StatusCode) -> Result<(), LogtoError> {
        if self.has_scope(scope) { Ok(()) } else { Err(LogtoError::unauthorized(status)) }
    }

    /// Refuses unless users may change `field` (400 `account_center.field_not_editable`).
    pub fn require_editable(&self, field: Field) -> Result<(), LogtoError> {
        self.center.require_editable(field).map_err(LogtoError::from)
    }

    /// The caller for core, with the verification record of the request as its proof.
    pub fn caller(&self) -> AccountCaller {
        principal::account_caller(&self.rt, &self.claims, &self.info, Proof::Record(self.verification.clone()))
    }

    /// The application state.
    pub fn state(&self) -> &AppState {
        &self.state
    }
}

impl FromRequestParts<AppState> for LogtoAuth {
    type Rejection = LogtoError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<LogtoAuth>().cloned().ok_or_else(|| LogtoError::unauthorized(StatusCode::UNAUTHORIZED))
    }
}

/// Middleware that answers in the request's language (routes without the gate).
pub async fn with_lang(req: Request, next: Next) -> Response {
    let lang = Lang::negotiate(req.headers());
    LANG.scope(lang, next.run(req)).await
}

/// Middleware in front of every `/api/my-account` and `/api/verifications` route.
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let lang = Lang::negotiate(req.headers());
    LANG.scope(lang, gate_inner(state, req, next)).await
}

async fn gate_inner(state: AppState, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(rt) = parts.extensions.get::<RequestTenant>().cloned() else {
        return LogtoError::no_route().into_response();
    };
    let policy = match state.core.account_policy(&rt.tenant.id).await {
        Ok(p) => p,
        Err(e) => return LogtoError::from(e).into_response(),
    };
    let info = ClientInfo::from_request_parts(&mut parts, &state).await.unwrap_or_default();
    let auth = principal::authenticate_user_token(&state, &rt, &parts.headers).await;
    let refused = match auth {
        Ok(c) if c.gty.as_deref() != Some("client-credentials") => Ok(c),
        Ok(_) | Err(UserTokenError::Invalid) => Err(LogtoError::unauthorized(StatusCode::UNAUTHORIZED)),
        Err(UserTokenError::MissingHeader) => {
            Err(LogtoError::new(StatusCode::UNAUTHORIZED, "auth.authorization_header_missing"))
        }
        Err(UserTokenError::NotBearer) => {
            Err(LogtoError::new(StatusCode::UNAUTHORIZED, "auth.authorization_token_type_not_supported"))
        }
        Err(UserTokenError::Unavailable) => return LogtoError::from(accountd_core::Error::Unavailable).into_response(),
    };
    let claims = match refused {
        Ok(c) => c,
        // Without a valid token a request counts against its IP's own limit (as on /me/v1): made-up
        // tokens cost a lookup each, so an IP cannot send them without end.
        Err(e) => {
            let limits = &policy.rate_limits;
            let verdict = state.check_anonymous_rate(&rt.tenant.id, limits, &ip_key(info.ip.as_deref())).await;
            let mut res = match verdict.refused {
                Some((retry, _)) => LogtoError::rate_limited(retry).into_response(),
                None => e.into_response(),
            };
            verdict.apply(res.headers_mut());
            return res;
        }
    };
    // A token outlives neither its user, nor a block, nor the revocation of its session or family.
    match principal::token_stands(&state, &rt.tenant.id, &claims).await {
        Ok(true) => {}
        Ok(false) => return LogtoError::unauthorized(StatusCode::UNAUTHORIZED).into_response(),
        Err(e) => return LogtoError::from(e).into_response(),
    }
    if !claims.has_scope("openid") {
        return LogtoError::new(StatusCode::FORBIDDEN, "auth.forbidden").into_response();
    }
    let center = match state.core.account_center(&rt.tenant.id).await {
        Ok(c) => c,
        Err(e) => return LogtoError::from(e).into_response(),
    };
    if !center.enabled {
        return LogtoError::new(StatusCode::BAD_REQUEST, "account_center.not_enabled").into_response();
    }
    let write = !matches!(parts.method, Method::GET | Method::HEAD);
    let verdict = state.check_rate(&rt.tenant.id, &policy.rate_limits, &claims.sub, write).await;
    if let Some((retry, _)) = verdict.refused {
        let mut res = LogtoError::rate_limited(retry).into_response();
        verdict.apply(res.headers_mut());
        return res;
    }
    let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str());
    if let Some(r) = input::refused_in_uri(&parts.uri, route) {
        return LogtoError::refused(&r).into_response();
    }
    // A header that is not text is no record (Logto only reads string headers).
    let verification = parts
        .headers
        .get(VERIFICATION_HEADER)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string)
        .filter(|v| !v.is_empty());
    parts.extensions.insert(LogtoAuth { claims, center, rt, info, verification, state: state.clone() });
    let mut res = next.run(Request::from_parts(parts, body)).await;
    verdict.apply(res.headers_mut());
    res
}

/// A body type that checks what serde cannot (formats, patterns), as Logto's guards do.
pub trait Guarded {
    /// What is wrong, as `path: problem`.
    fn check(&self) -> Result<(), String> {
        Ok(())
    }
}

/// A JSON body, checked: 400 `guard.invalid_input` with the path of what is wrong in `details`.
pub struct LogtoJson<T>(pub T);

impl<T: DeserializeOwned + Guarded> FromRequest<AppState> for LogtoJson<T> {
    type Rejection = LogtoError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let bytes = input::read_body::<LogtoError>(req, state).await?;
        // No body is an empty object, as Koa's body parser leaves it.
        let bytes =
            if bytes.iter().all(u8::is_ascii_whitespace) { axum::body::Bytes::from_static(b"{}") } else { bytes };
        let de = &mut serde_json::Deserializer::from_slice(&bytes);
        let value: T = serde_path_to_error::deserialize(de).map_err(|e| {
            let path = e.path().to_string();
            let at = if path == "." { "body".to_string() } else { format!("body.{path}") };
            LogtoError::invalid_input(format!("{at}: {}", e.inner())).arg("type", "body")
        })?;
        if let Some(r) = input::refused_in_body(input::BodyKind::Json, &bytes) {
            return Err(LogtoError::refused(&r));
        }
        value.check().map_err(|d| LogtoError::invalid_input(format!("body.{d}")).arg("type", "body"))?;
        Ok(LogtoJson(value))
    }
}
