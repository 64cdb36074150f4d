//! Grants of the token endpoint. This issue builds `client_credentials`; the user-facing grants
//! (authorization code, refresh token, passkey) are built on the same pieces.

use std::sync::Arc;

use accountd_core::Core;
use accountd_core::access_policy::{Denied, client_credentials_scopes};
use accountd_core::application::Application;
use accountd_core::audit::Context;
use accountd_core::client_grant::SubjectType;
use accountd_core::origin::Origin;
use accountd_core::tenant::TenantId;
use serde::Serialize;

use crate::access_token::{AccessTokenClaims, mint};
use crate::error::OAuthError;
use crate::keyring::KeyCache;
use crate::opaque::{NewOpaqueToken, OpaqueTokens};

/// A successful token answer (RFC 6749 §5.1).
#[derive(Debug, Clone, Serialize)]
pub struct TokenResponse {
    /// The access token: a JWT for an API, an opaque handle otherwise.
    pub access_token: String,
    /// `Bearer` (or `DPoP` when bound).
    pub token_type: &'static str,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// The ID token, when `openid` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// A new refresh token, when `offline_access` was granted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Where tokens are issued: the core, the tenant's keys, and the origin the request came in on.
#[derive(Clone, Copy)]
pub struct Issuer<'a> {
    /// The domain core.
    pub core: &'a Arc<Core>,
    /// Signing keys.
    pub keys: &'a KeyCache,
    /// Opaque access tokens.
    pub opaque: &'a OpaqueTokens,
    /// The tenant.
    pub tenant: &'a TenantId,
    /// Scheme and host of the request (the issuer and built-in audiences follow it).
    pub origin: &'a Origin,
}

/// Issues a token to a client acting as itself, for the API named by `audience`, within the
/// API's client-flow policy and the client's grant (spec auth0 §4.1, §4.3: never for My Account).
pub async fn client_credentials(
    issuer: Issuer<'_>,
    app: &Application,
    audience: Option<&str>,
    scope: Option<&str>,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let Issuer { core, keys, tenant, origin, .. } = issuer;
    if !app.allows_grant("client_credentials") {
        return Err(OAuthError::unauthorized_client("Grant type 'client_credentials' not allowed for the client."));
    }
    let audience = audience.filter(|a| !a.is_empty()).ok_or_else(|| {
        OAuthError::access_denied("No audience parameter was provided, and no default audience has been configured")
    })?;
    let api = core
        .resolve_audience(tenant, audience)
        .await?
        // Built-in APIs are only reachable under this host's own identifier.
        .filter(|api| api.identifier_on(origin) == audience)
        .ok_or_else(|| OAuthError::access_denied(format!("Service not found: {audience}")))?;
    if api.require_dpop && dpop_jkt.is_none() {
        return Err(OAuthError::invalid_request("This API requires DPoP-bound tokens: send a DPoP proof."));
    }
    let grant = core.client_grant_for(tenant, &app.client_id, &api.id, SubjectType::Client).await?;
    let requested: Option<Vec<String>> = scope.map(|s| s.split_whitespace().map(str::to_string).collect());
    let scopes = client_credentials_scopes(&api, grant.as_ref(), requested.as_deref()).map_err(|d| match d {
        Denied::PolicyDenies | Denied::NoClientGrant => OAuthError::access_denied(format!(
            "Client is not authorized to access \"{audience}\". You need to create a \"client-grant\" associated to this API."
        )),
        Denied::NoScopeAllowed => {
            OAuthError::access_denied(format!("Client has not been granted scopes: {}", scope.unwrap_or_default()))
        }
    })?;
    let mut ring = keys.get(tenant).await?;
    if ring.signer(&api.signing_alg).is_none() {
        // First token for an API that signs with another algorithm: make its key now.
        core.rotate_signing_key(&Context::system(), tenant, &api.signing_alg).await?;
        keys.invalidate(tenant);
        ring = keys.get(tenant).await?;
    }
    let now = accountd_core::clock::now_millis() / 1000;
    let claims = AccessTokenClaims {
        iss: origin.issuer(),
        sub: format!("{}@clients", app.client_id),
        aud: crate::access_token::Audience::One(audience.to_string()),
        azp: app.client_id.clone(),
        client_id: app.client_id.clone(),
        scope: scopes.join(" "),
        iat: now,
        exp: now + api.token_lifetime_secs,
        jti: accountd_core::secret::random_token::<16>(),
        gty: Some("client-credentials".into()),
        sid: None,
        family_id: None,
        auth_time: None,
        amr: vec![],
        acr: None,
        cnf: dpop_jkt.map(|j| crate::access_token::Confirmation { jkt: j.to_string() }),
    };
    let access_token = mint(&ring, &api.signing_alg, &claims).map_err(|e| {
        tracing::error!(error = %e, "minting failed");
        OAuthError::server_error()
    })?;
    Ok(TokenResponse {
        access_token,
        token_type: if dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
        expires_in: api.token_lifetime_secs,
        scope: claims.scope,
        id_token: None,
        refresh_token: None,
    })
}

/// Lifetime of ID tokens.
pub const ID_TOKEN_LIFETIME_SECS: i64 = 36_000;
/// Lifetime of an access token with no API audience (it serves `/userinfo` and the Logto Account
/// API).
pub const USERINFO_TOKEN_LIFETIME_SECS: i64 = 86_400;

/// Mints the access token (and ID token when `openid` was granted) for a user grant: a JWT when
/// the grant names an API, else an opaque handle (as Logto and Auth0 do), which `/userinfo` and the
/// Logto Account API look up.
pub async fn user_tokens(
    issuer: Issuer<'_>,
    grant: accountd_core::authorization::UserGrant,
    gty: &str,
    dpop_jkt: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let Issuer { core, keys, tenant, origin, opaque } = issuer;
    if grant.api.as_ref().is_some_and(|a| a.require_dpop) && dpop_jkt.is_none() {
        return Err(OAuthError::invalid_request("This API requires DPoP-bound tokens: send a DPoP proof."));
    }
    let now = accountd_core::clock::now_millis() / 1000;
    let openid = grant.scope.iter().any(|s| s == "openid");
    let scope = grant.scope.join(" ");
    // ID tokens are always RS256; an API may sign its access tokens with another algorithm.
    let jwt = match (&grant.api, &grant.audience) {
        (Some(api), Some(a)) => Some((a, api)),
        _ => None,
    };
    let alg = jwt.map_or("RS256", |(_, api)| api.signing_alg.as_str());
    // An opaque token without `openid` needs no key at all.
    let ring = if openid || jwt.is_some() {
        let mut ring = keys.get(tenant).await?;
        if ring.signer(alg).is_none() {
            // First token for an API that signs with another algorithm: make its key now.
            core.rotate_signing_key(&Context::system(), tenant, alg).await?;
            keys.invalidate(tenant);
            ring = keys.get(tenant).await?;
        }
        Some(ring)
    } else {
        None
    };
    let (access_token, lifetime) = match (jwt, &ring) {
        (Some((audience, api)), Some(ring)) => {
            let userinfo = crate::opaque::userinfo_audience(&origin.issuer());
            let aud = if openid {
                crate::access_token::Audience::Many(vec![audience.clone(), userinfo])
            } else {
                crate::access_token::Audience::One(audience.clone())
            };
            let claims = AccessTokenClaims {
                iss: origin.issuer(),
                sub: grant.user.id.0.clone(),
                aud,
                azp: grant.client_id.clone(),
                client_id: grant.client_id.clone(),
                scope: scope.clone(),
                iat: now,
                exp: now + api.token_lifetime_secs,
                jti: accountd_core::secret::random_token::<16>(),
                gty: Some(gty.to_string()),
                sid: Some(grant.session_id.clone()),
                family_id: grant.family_id.clone(),
                auth_time: Some(grant.auth_time),
                amr: grant.amr.clone(),
                acr: grant.acr.clone(),
                cnf: dpop_jkt.map(|j| crate::access_token::Confirmation { jkt: j.to_string() }),
            };
            let token = mint(ring, alg, &claims).map_err(|e| {
                tracing::error!(error = %e, "minting failed");
                OAuthError::server_error()
            })?;
            (token, api.token_lifetime_secs)
        }
        _ => {
            let new = NewOpaqueToken {
                client_id: &grant.client_id,
                user_id: &grant.user.id.0,
                session_id: &grant.session_id,
                family_id: grant.family_id.as_deref(),
                scope: scope.clone(),
                auth_time: grant.auth_time,
                amr: &grant.amr,
                acr: grant.acr.as_deref(),
                dpop_jkt,
                lifetime_secs: USERINFO_TOKEN_LIFETIME_SECS,
            };
            (opaque.issue(tenant, new).await?, USERINFO_TOKEN_LIFETIME_SECS)
        }
    };
    let id_token = match (&ring, openid) {
        (Some(ring), true) => Some(crate::id_token::mint(ring, origin, &grant, &access_token, now).map_err(|e| {
            tracing::error!(error = %e, "ID token minting failed");
            OAuthError::server_error()
        })?),
        _ => None,
    };
    Ok(TokenResponse {
        access_token,
        token_type: if dpop_jkt.is_some() { "DPoP" } else { "Bearer" },
        expires_in: lifetime,
        scope,
        id_token,
        refresh_token: grant.refresh_token,
    })
}
