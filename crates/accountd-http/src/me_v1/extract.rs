//! The My Account API's gate and extractors: every request is authenticated for this host's
//! `/me/` audience and counted against the tenant's limits before a handler runs; handlers then
//! take the caller ([`MeAuth`]) and validated JSON bodies ([`MeJson`]).

use accountd_core::authn::policy::Freshness;
use accountd_core::service::AccountCaller;
use accountd_core::verification::Proof;
use accountd_oauth::access_token::AccessTokenClaims;
use axum::extract::{FromRequest, FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use super::error::{MeError, ValidationError};
use crate::AppState;
use crate::common::client_info::ClientInfo;
use crate::common::input::{self, EdgeError as _};
use crate::common::principal;
use crate::common::rate_limit::ip_key;
use crate::common::tenant::RequestTenant;

/// The authenticated caller of a My Account request.
#[derive(Clone)]
pub struct MeAuth {
    /// The access token's claims.
    pub claims: AccessTokenClaims,
    /// `Bearer` or `DPoP`.
    pub scheme: &'static str,
    rt: RequestTenant,
    info: ClientInfo,
    state: AppState,
}

impl MeAuth {
    /// Checks the token has `scope` and returns the caller for core.
    pub fn require(&self, scope: &str) -> Result<AccountCaller, MeError> {
        if !self.claims.has_scope(scope) {
            return Err(MeError::missing_scope(scope));
        }
        let proof = Proof::Token(Freshness { auth_time: self.claims.auth_time, amr: self.claims.amr.clone() });
        Ok(principal::account_caller(&self.rt, &self.claims, &self.info, proof))
    }

    /// The application state.
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// `{scheme}://{host}` of the request.
    pub fn base_url(&self) -> String {
        self.rt.origin.base_url()
    }
}

impl FromRequestParts<AppState> for MeAuth {
    type Rejection = MeError;

    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<MeAuth>().cloned().ok_or_else(|| {
            MeError::from_auth(principal::AuthError {
                scheme: "Bearer",
                error: None,
                description: "Missing authentication".into(),
                nonce: None,
            })
        })
    }
}

/// Middleware in front of every `/me/v1` route: authentication, then the rate limits; the
/// `x-ratelimit-*` headers go on every answer, errors included, and a handler's `Bearer`
/// challenges are answered in the token's scheme. An authenticated request counts
/// against the tenant's and the user's limits; one without a valid token only against its client
/// IP's (and answers 429 instead of 401 once that IP is over it).
pub async fn gate(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let (mut parts, body) = req.into_parts();
    let Some(rt) = parts.extensions.get::<RequestTenant>().cloned() else {
        return MeError::no_route(parts.method.as_str(), parts.uri.path()).into_response();
    };
    let policy = match state.core.account_policy(&rt.tenant.id).await {
        Ok(p) => p,
        Err(e) => return MeError::from(e).into_response(),
    };
    let auth = principal::authenticate(
        &state,
        &rt,
        &parts.headers,
        parts.method.as_str(),
        parts.uri.path(),
        &rt.origin.my_account_audience(),
    )
    .await;
    // Only users have accounts: a token from a client grant never reaches a handler, nor one whose
    // user was deleted or blocked, or whose session or token family was revoked, since it was issued.
    let auth = match auth {
        Ok(claims) if claims.gty.as_deref() == Some("client-credentials") => Err(principal::AuthError {
            scheme: "Bearer",
            error: Some("invalid_token"),
            description: "The token does not belong to a user".into(),
            nonce: None,
        }),
        Ok(claims) => match principal::token_stands(&state, &rt.tenant.id, &claims).await {
            Ok(true) => Ok(claims),
            Ok(false) => Err(principal::AuthError {
                scheme: if claims.cnf.is_some() { "DPoP" } else { "Bearer" },
                error: Some("invalid_token"),
                description: "The token was revoked, or its user no longer exists or is blocked".into(),
                nonce: None,
            }),
            Err(e) => return MeError::from(e).into_response(),
        },
        Err(e) => Err(e),
    };
    let write = !matches!(parts.method, Method::GET | Method::HEAD);
    let info = ClientInfo::from_request_parts(&mut parts, &state).await.unwrap_or_default();
    let limits = &policy.rate_limits;
    let verdict = match &auth {
        Ok(claims) => state.check_rate(&rt.tenant.id, limits, &claims.sub, write).await,
        Err(_) => state.check_anonymous_rate(&rt.tenant.id, limits, &ip_key(info.ip.as_deref())).await,
    };
    let mut res = match (verdict.refused, auth) {
        (Some((retry, global)), _) => MeError::rate_limited(retry, global).into_response(),
        (None, Err(e)) => MeError::from_auth(e).into_response(),
        (None, Ok(claims)) => match refused_in_uri(&parts) {
            Some(r) => MeError::refused(&r).into_response(),
            None => {
                let scheme = if claims.cnf.is_some() { "DPoP" } else { "Bearer" };
                parts.extensions.insert(MeAuth { claims, scheme, rt, info, state: state.clone() });
                let mut res = next.run(Request::from_parts(parts, body)).await;
                // Handlers answer challenges as `Bearer`; a DPoP-bound token is challenged as DPoP.
                super::error::challenge_in_scheme(&mut res, scheme);
                res
            }
        },
    };
    verdict.apply(res.headers_mut());
    res
}

/// A control character in the path or query (ids and values there reach the database).
fn refused_in_uri(parts: &Parts) -> Option<input::Refused> {
    let route = parts.extensions.get::<MatchedPath>().map(|m| m.as_str());
    input::refused_in_uri(&parts.uri, route)
}

/// A JSON object body: 415 when it is not JSON, 400 with a pointer when it is not an object.
pub struct MeJson(pub serde_json::Map<String, Value>);

impl FromRequest<AppState> for MeJson {
    type Rejection = MeError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        let is_json = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .map(|ct| ct.split(';').next().unwrap_or("").trim().to_ascii_lowercase())
            .is_some_and(|ct| ct == "application/json" || (ct.starts_with("application/") && ct.ends_with("+json")));
        if !is_json {
            return Err(MeError::unsupported_media_type());
        }
        let bytes = input::read_body::<MeError>(req, state).await?;
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Object(m)) => match input::refused_in_object(&m) {
                Some(r) => Err(MeError::refused(&r)),
                None => Ok(MeJson(m)),
            },
            Ok(_) => Err(MeError::validation(vec![ValidationError::at("", "data must be object")])),
            Err(e) => {
                Err(MeError::validation(vec![ValidationError::at("", format!("the body is not valid JSON: {e}"))]))
            }
        }
    }
}
