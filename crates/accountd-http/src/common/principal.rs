//! The one access-token check every protected route uses: `Authorization: Bearer|DPoP <token>` →
//! signing key by `kid` → signature → `iss` is this host's issuer → `aud` → `exp`/`nbf` (small
//! leeway) → DPoP proof when the token is bound (`cnf.jkt`) → the caller checks scopes. A valid
//! token costs no database read; a DPoP proof costs one replay-store insert.
//!
//! Opaque tokens (a handle, no dots) are looked up instead of verified, through the in-process
//! cache of `accountd_oauth::opaque`: a hit costs no read, a miss one. Their audience is
//! `/userinfo` (and the Logto Account API, through [`authenticate_user_token`]).

use accountd_oauth::access_token::{self, AccessTokenClaims, TokenError};
use accountd_oauth::dpop::{self, DpopError, Proof};
use accountd_oauth::opaque;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::AppState;
use crate::common::tenant::RequestTenant;

/// Why a request is not authenticated, with what the client must be told.
#[derive(Debug, Clone)]
pub struct AuthError {
    /// `Bearer` or `DPoP`: the scheme of the challenge.
    pub scheme: &'static str,
    /// RFC 6750 / 9449 error code; `None` when no credentials were sent.
    pub error: Option<&'static str>,
    /// What is wrong.
    pub description: String,
    /// A fresh DPoP nonce to retry with.
    pub nonce: Option<String>,
}

impl AuthError {
    fn new(scheme: &'static str, error: &'static str, description: impl Into<String>) -> Self {
        Self { scheme, error: Some(error), description: description.into(), nonce: None }
    }

    /// The `WWW-Authenticate` and `DPoP-Nonce` headers of the 401.
    pub fn headers(&self) -> Vec<(HeaderName, HeaderValue)> {
        let mut challenge = self.scheme.to_string();
        if let Some(e) = self.error {
            challenge
                .push_str(&format!(" error=\"{e}\", error_description=\"{}\"", self.description.replace('"', "'")));
        }
        if self.scheme == "DPoP" {
            challenge.push_str(&format!(", algs=\"{}\"", dpop::ALGS.join(" ")));
        }
        let mut out = Vec::new();
        if let Ok(v) = HeaderValue::from_str(challenge.trim_start_matches(", ")) {
            out.push((header::WWW_AUTHENTICATE, v));
        }
        if let Some(n) = self.nonce.as_deref().and_then(|n| HeaderValue::from_str(n).ok()) {
            out.push((HeaderName::from_static("dpop-nonce"), n));
        }
        out
    }
}

fn now_secs() -> i64 {
    accountd_core::clock::now_millis() / 1000
}

/// A fresh nonce for the tenant.
pub fn fresh_nonce(state: &AppState, rt: &RequestTenant) -> String {
    dpop::issue_nonce(state.core.master_key(), &rt.tenant.id, accountd_core::clock::now_millis())
}

/// Checks the request's `DPoP` header, if any, for `method url` (and for an access token when one
/// is presented: `(token, cnf.jkt)`), including the nonce when required and replay through the
/// shared store.
pub async fn check_dpop(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
    method: &str,
    url: &str,
    bound_token: Option<(&str, &str)>,
) -> Result<Option<Proof>, DpopError> {
    let mut values = headers.get_all("dpop").iter();
    let Some(first) = values.next() else { return Ok(None) };
    if values.next().is_some() {
        return Err(DpopError::Invalid("more than one DPoP header"));
    }
    let proof = first.to_str().map_err(|_| DpopError::Invalid("malformed DPoP proof"))?;
    let now = now_secs();
    let master = state.core.master_key();
    let tenant = &rt.tenant.id;
    let now_ms = accountd_core::clock::now_millis();
    let nonce_ok = |n: &str| dpop::nonce_is_fresh(master, tenant, n, now_ms);
    let nonce_check: Option<&dyn Fn(&str) -> bool> =
        if state.config.dpop_require_nonce { Some(&nonce_ok) } else { None };
    let expected = dpop::Expected {
        access_token: bound_token.map(|(token, _)| token),
        jkt: bound_token.map(|(_, jkt)| jkt),
        nonce_ok: nonce_check,
    };
    let proof = dpop::verify(&state.proof_keys, proof, method, url, expected, now)?;
    // A proof made before this process started may have been spent just before a crash and not
    // saved: only a nonce issued since the start proves it new (clients retry with one).
    if let Some(since) = state.spent_unsaved_since(proof.iat) {
        let nonce_since_start = proof
            .nonce
            .as_deref()
            .and_then(|n| dpop::nonce_issued_at(master, tenant, n))
            .is_some_and(|issued| issued >= since);
        if !nonce_since_start {
            return Err(DpopError::UseNonce);
        }
    }
    let until = now_ms + (dpop::MAX_AGE_SECS + dpop::MAX_SKEW_SECS) * 1000;
    match state.remember_once(tenant, &proof.replay_key(), now_ms, until).await {
        Ok(true) => Ok(Some(proof)),
        Ok(false) => Err(DpopError::Invalid("DPoP proof replayed")),
        Err(e) => {
            tracing::error!(error = %e, "replay store unavailable");
            Err(DpopError::Invalid("DPoP proof could not be checked"))
        }
    }
}

/// Authenticates the request's access token for `audience` on this host.
pub async fn authenticate(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
    method: &str,
    path: &str,
    audience: &str,
) -> Result<AccessTokenClaims, AuthError> {
    let auth = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let (scheme, token) = match auth.and_then(|h| h.split_once(' ')) {
        Some((s, t)) if s.eq_ignore_ascii_case("bearer") && !t.trim().is_empty() => ("Bearer", t.trim()),
        Some((s, t)) if s.eq_ignore_ascii_case("dpop") && !t.trim().is_empty() => ("DPoP", t.trim()),
        _ => {
            return Err(AuthError {
                scheme: "Bearer",
                error: None,
                description: "Missing authentication".into(),
                nonce: None,
            });
        }
    };
    let claims = if opaque::is_handle(token) {
        let claims = match state.opaque.find(&rt.tenant.id, token).await {
            Ok(Some(t)) => opaque::claims(&t, &rt.origin.issuer()),
            Ok(None) => return Err(AuthError::new(scheme, "invalid_token", "Invalid token")),
            Err(e) => {
                tracing::error!(error = %e, "opaque token lookup failed");
                return Err(AuthError::new(scheme, "invalid_token", "The token could not be checked"));
            }
        };
        if !claims.aud.contains(audience) {
            return Err(AuthError::new(scheme, "invalid_token", "Bad audience"));
        }
        claims
    } else {
        access_token::verify(&state.keys, &rt.tenant.id, token, &rt.origin.issuer(), audience).await.map_err(|e| {
            match e {
                TokenError::Expired => AuthError::new(scheme, "invalid_token", "The access token expired"),
                TokenError::Invalid("wrong audience") => AuthError::new(scheme, "invalid_token", "Bad audience"),
                _ => AuthError::new(scheme, "invalid_token", "Invalid token"),
            }
        })?
    };
    match (scheme, &claims.cnf) {
        ("Bearer", None) => Ok(claims),
        ("Bearer", Some(_)) => {
            Err(AuthError::new("DPoP", "invalid_token", "DPoP-bound token presented as a Bearer token"))
        }
        (_, None) => Err(AuthError::new("DPoP", "invalid_token", "The token is not DPoP-bound")),
        (_, Some(cnf)) => {
            let url = format!("{}{path}", rt.origin.base_url());
            // The proof's key is compared with `cnf.jkt` before its id is recorded as spent.
            match check_dpop(state, rt, headers, method, &url, Some((token, &cnf.jkt))).await {
                Ok(Some(_)) => Ok(claims),
                Ok(None) => Err(AuthError::new("DPoP", "invalid_dpop_proof", "Missing DPoP proof")),
                Err(DpopError::UseNonce) => Err(AuthError {
                    nonce: Some(fresh_nonce(state, rt)),
                    ..AuthError::new("DPoP", "use_dpop_nonce", "Resource server requires nonce in DPoP proof")
                }),
                Err(DpopError::Invalid(d)) => Err(AuthError::new("DPoP", "invalid_dpop_proof", d)),
            }
        }
    }
}

/// Why a user token was refused, in the terms Logto's API distinguishes (spec logto §1.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UserTokenError {
    /// No `Authorization` header (`auth.authorization_header_missing`).
    MissingHeader,
    /// A scheme other than `Bearer` (`auth.authorization_token_type_not_supported`).
    NotBearer,
    /// Unknown, expired, another tenant's, DPoP-bound, or not an opaque token (a JWT)
    /// (`auth.unauthorized`).
    Invalid,
    /// The store could not be asked (a cache miss during an outage): a 503, not a sign-out.
    Unavailable,
}

/// Authenticates `Authorization: Bearer <opaque token>` for this tenant: the claims (sub, scope,
/// client_id/azp, sid, auth_time, amr, exp) of a live opaque user access token. JWTs are refused
/// as Logto refuses them (they are for an API, not for the account). A cache hit costs no read.
pub async fn authenticate_user_token(
    state: &AppState,
    rt: &RequestTenant,
    headers: &HeaderMap,
) -> Result<AccessTokenClaims, UserTokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else { return Err(UserTokenError::MissingHeader) };
    let value = value.to_str().map_err(|_| UserTokenError::NotBearer)?;
    let token = match value.split_once(' ') {
        Some((scheme, token)) if scheme.eq_ignore_ascii_case("bearer") => token.trim(),
        _ => return Err(UserTokenError::NotBearer),
    };
    let found = state.opaque.find(&rt.tenant.id, token).await.map_err(|e| {
        tracing::error!(error = %e, "opaque token lookup failed");
        UserTokenError::Unavailable
    })?;
    match found {
        // A DPoP-bound token needs its proof, which this dialect has no way to carry.
        Some(t) if t.dpop_jkt.is_none() => Ok(opaque::claims(&t, &rt.origin.issuer())),
        _ => Err(UserTokenError::Invalid),
    }
}

/// The self-service caller a user's token makes on this tenant and host: the user, the audit
/// context, the WebAuthn relying party of the domain used, the token's client, and the proof of
/// identity the dialect brings.
pub fn account_caller(
    rt: &RequestTenant,
    claims: &AccessTokenClaims,
    info: &crate::common::client_info::ClientInfo,
    proof: accountd_core::verification::Proof,
) -> accountd_core::service::AccountCaller {
    let origin = &rt.origin;
    accountd_core::service::AccountCaller {
        tenant: rt.tenant.id.clone(),
        user: accountd_core::user::UserId(claims.sub.clone()),
        ctx: info.context(accountd_core::audit::Actor::User(claims.sub.clone())),
        rp: accountd_core::authn::credential::RelyingParty {
            id: origin.host().to_string(),
            origin: origin.base_url(),
            name: rt.tenant.name.clone(),
        },
        base_url: format!("{}/", origin.base_url()),
        proof,
        client_id: Some(claims.client_id.clone()),
        session_id: claims.sid.clone(),
    }
}

/// Whether a user token still stands: its user is neither deleted nor blocked and its session and
/// token family are not revoked (core's in-memory revocation view; no database read on a repeat).
pub async fn token_stands(
    state: &AppState,
    tenant: &accountd_core::tenant::TenantId,
    claims: &AccessTokenClaims,
) -> accountd_core::Result<bool> {
    state.core.token_stands(tenant, &claims.sub, claims.sid.as_deref(), claims.family_id.as_deref()).await
}
