//! Access tokens: JWTs signed with the tenant's active key (RFC 9068 profile) and their checks.

use jsonwebtoken::{Header, Validation};
use serde::{Deserialize, Serialize};

use crate::keyring::{KeyCache, KeyRing, Verifier};
use accountd_core::tenant::TenantId;

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenClaims {
    /// Issuer: `{scheme}://{host}/` of the domain the token was issued on.
    pub iss: String,
    /// Subject: a user id, or `{client_id}@clients` for client credentials.
    pub sub: String,
    /// Audience: the API's identifier, or several (an API and `/userinfo`).
    pub aud: Audience,
    /// The client the token was issued to.
    pub azp: String,
    /// Same as `azp` (RFC 9068 name).
    pub client_id: String,
    /// Space-separated scopes.
    #[serde(default)]
    pub scope: String,
    /// Issued at (seconds).
    pub iat: i64,
    /// Expires at (seconds).
    pub exp: i64,
    /// Unique id.
    pub jti: String,
    /// Grant type that produced it (Auth0's `gty`), e.g. `client-credentials`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gty: Option<String>,
    /// The session (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sid: Option<String>,
    /// The token family it was issued under (user tokens): revoking the family, its grant or its
    /// session refuses the token at once (accountd's own claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub family_id: Option<String>,
    /// When the user authenticated (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub auth_time: Option<i64>,
    /// How the user authenticated (user tokens).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub amr: Vec<String>,
    /// Authentication context class (user tokens).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
    /// Confirmation: the DPoP key the token is bound to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Confirmation>,
}

/// RFC 7800 confirmation claim with a JWK thumbprint (RFC 9449 §6).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Confirmation {
    /// SHA-256 thumbprint of the DPoP key.
    pub jkt: String,
}

/// One audience or several.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    /// A single audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
}

impl Audience {
    /// Whether `aud` is among them.
    pub fn contains(&self, aud: &str) -> bool {
        match self {
            Audience::One(a) => a == aud,
            Audience::Many(v) => v.iter().any(|a| a == aud),
        }
    }
}

impl AccessTokenClaims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scope.split(' ').any(|s| s == scope)
    }
}

/// Why a token was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a JWS we can read.
    #[error("malformed token")]
    Malformed,
    /// Signed by no key of this tenant.
    #[error("unknown signing key")]
    UnknownKey,
    /// Signature, algorithm or claims are wrong.
    #[error("invalid token: {0}")]
    Invalid(&'static str),
    /// Past its `exp`.
    #[error("token expired")]
    Expired,
    /// The tenant has no key to sign with.
    #[error("no signing key for {0}")]
    NoSigner(String),
}

/// Allowed clock skew, in seconds.
pub const LEEWAY_SECS: u64 = 30;

/// Signs `claims` with the tenant's active key for `alg`.
pub fn mint(ring: &KeyRing, alg: &str, claims: &AccessTokenClaims) -> Result<String, TokenError> {
    let signer = ring.signer(alg).ok_or_else(|| TokenError::NoSigner(alg.into()))?;
    let mut header = Header::new(signer.alg);
    header.kid = Some(signer.kid.clone());
    header.typ = Some("at+jwt".into());
    signer.sign_jws(&header, claims).ok_or(TokenError::Invalid("signing failed"))
}

/// Verifies a token's key, signature, issuer and expiry whatever its audience (introspection).
pub async fn inspect(
    keys: &KeyCache,
    tenant: &TenantId,
    token: &str,
    issuer: &str,
) -> Result<AccessTokenClaims, TokenError> {
    verify_with(keys, tenant, token, issuer, None).await
}

/// Verifies a token for `issuer` and `audience`: known `kid`, that key's algorithm only, signature,
/// issuer, audience, and `exp`/`nbf` with a small leeway.
pub async fn verify(
    keys: &KeyCache,
    tenant: &TenantId,
    token: &str,
    issuer: &str,
    audience: &str,
) -> Result<AccessTokenClaims, TokenError> {
    verify_with(keys, tenant, token, issuer, Some(audience)).await
}

async fn verify_with(
    keys: &KeyCache,
    tenant: &TenantId,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Result<AccessTokenClaims, TokenError> {
    // A token verified before (same tenant, same bytes) skips the signature check; its claims are
    // still checked against this request's issuer, audience and the clock.
    if let Some(claims) = keys.verified_get(tenant, token) {
        let now = accountd_core::clock::now_millis() / 1000;
        if claims.iss != issuer {
            return Err(TokenError::Invalid("wrong issuer"));
        }
        if audience.is_some_and(|a| !claims.aud.contains(a)) {
            return Err(TokenError::Invalid("wrong audience"));
        }
        if claims.exp + LEEWAY_SECS as i64 <= now {
            return Err(TokenError::Expired);
        }
        return Ok(claims);
    }
    let claims = verify_signed(keys, tenant, token, issuer, audience).await?;
    keys.verified_put(tenant, token, &claims);
    Ok(claims)
}

async fn verify_signed(
    keys: &KeyCache,
    tenant: &TenantId,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Result<AccessTokenClaims, TokenError> {
    let header = jsonwebtoken::decode_header(token).map_err(|_| TokenError::Malformed)?;
    let kid = header.kid.as_deref().ok_or(TokenError::UnknownKey)?;
    let ring = keys.get(tenant).await.map_err(|_| TokenError::UnknownKey)?;
    let ring = match ring.verifier(kid) {
        Some(_) => ring,
        // Maybe another node rotated keys since we loaded them.
        None => keys.get_fresh(tenant, kid).await.map_err(|_| TokenError::UnknownKey)?,
    };
    let verifier = ring.verifier(kid).ok_or(TokenError::UnknownKey)?;
    verify_signature(verifier, &header, token, issuer, audience)
}

/// The checks of a token once the key its header's `kid` names is found: that key's algorithm
/// only, signature, issuer, audience (unless `None`), and `exp`/`nbf` with a small leeway.
pub fn verify_signature(
    verifier: &Verifier,
    header: &Header,
    token: &str,
    issuer: &str,
    audience: Option<&str>,
) -> Result<AccessTokenClaims, TokenError> {
    if header.alg != verifier.alg {
        return Err(TokenError::Invalid("algorithm does not match the key"));
    }
    let mut v = Validation::new(verifier.alg);
    v.leeway = LEEWAY_SECS;
    v.validate_nbf = true;
    v.set_issuer(&[issuer]);
    match audience {
        Some(a) => v.set_audience(&[a]),
        None => v.validate_aud = false,
    }
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    jsonwebtoken::decode::<AccessTokenClaims>(token, &verifier.key, &v).map(|d| d.claims).map_err(|e| {
        use jsonwebtoken::errors::ErrorKind;
        match e.kind() {
            ErrorKind::ExpiredSignature => TokenError::Expired,
            ErrorKind::InvalidIssuer => TokenError::Invalid("wrong issuer"),
            ErrorKind::InvalidAudience => TokenError::Invalid("wrong audience"),
            ErrorKind::ImmatureSignature => TokenError::Invalid("not yet valid"),
            ErrorKind::InvalidSignature => TokenError::Invalid("bad signature"),
            _ => TokenError::Invalid("invalid claims"),
        }
    })
}
