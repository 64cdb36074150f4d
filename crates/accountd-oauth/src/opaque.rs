//! Opaque access tokens, as Logto and Auth0 issue them when a user token request names no API: a
//! random handle the client presents, recorded by core (only its SHA-256), and served from a
//! bounded in-process cache keyed by that hash — a hit costs no database read, a miss one.
//!
//! A cached entry lives until the token expires or [`MAX_CACHED`] has passed, whichever is first.
//! Revocation does not wait for that: every use also checks the token's session and family
//! against core's revocation view, which every node clears at once.

use std::sync::Arc;
use std::time::{Duration, Instant};

use accountd_core::Core;
use accountd_core::secret::{hash_high_entropy_secret, random_token};
use accountd_core::session::AccessToken;
use accountd_core::tenant::TenantId;

use crate::access_token::{AccessTokenClaims, Audience, Confirmation};

/// Random bytes in a handle (256 bits; base64url without padding: 43 characters).
pub const HANDLE_BYTES: usize = 32;
const HANDLE_CHARS: usize = 43;

/// Longest an entry is served from memory without asking the database again.
pub const MAX_CACHED: Duration = Duration::from_secs(30);

/// Live tokens remembered at most (a few hundred bytes each).
pub const CAPACITY: u64 = 100_000;

type Key = (TenantId, String);

struct UntilExpiry;

impl moka::Expiry<Key, Arc<AccessToken>> for UntilExpiry {
    fn expire_after_create(&self, _: &Key, token: &Arc<AccessToken>, _: Instant) -> Option<Duration> {
        let left = token.expires_at - accountd_core::clock::now_millis();
        Some(Duration::from_millis(u64::try_from(left).unwrap_or(0)).min(MAX_CACHED))
    }
}

/// The opaque tokens of every tenant, in front of core's store.
pub struct OpaqueTokens {
    core: Arc<Core>,
    cache: moka::sync::Cache<Key, Arc<AccessToken>>,
}

/// What a new opaque token carries (the handle and hash are made by [`OpaqueTokens::issue`]).
#[derive(Debug, Clone)]
pub struct NewOpaqueToken<'a> {
    /// The client.
    pub client_id: &'a str,
    /// The user.
    pub user_id: &'a str,
    /// The session.
    pub session_id: &'a str,
    /// The token family.
    pub family_id: Option<&'a str>,
    /// Granted scopes, space-separated.
    pub scope: String,
    /// When the user authenticated (seconds).
    pub auth_time: i64,
    /// How.
    pub amr: &'a [String],
    /// Context class.
    pub acr: Option<&'a str>,
    /// The DPoP key it is bound to.
    pub dpop_jkt: Option<&'a str>,
    /// Lifetime in seconds.
    pub lifetime_secs: i64,
}

impl OpaqueTokens {
    /// An empty cache over `core`.
    pub fn new(core: Arc<Core>) -> Self {
        let cache = moka::sync::Cache::builder().max_capacity(CAPACITY).expire_after(UntilExpiry).build();
        Self { core, cache }
    }

    /// Mints a handle, records its token and remembers it (its first use on this node is a hit).
    pub async fn issue(&self, tenant: &TenantId, new: NewOpaqueToken<'_>) -> accountd_core::Result<String> {
        let handle = random_token::<HANDLE_BYTES>();
        let now = accountd_core::clock::now_millis();
        let token = AccessToken {
            token_hash: hash_high_entropy_secret(&handle),
            client_id: new.client_id.to_string(),
            user_id: new.user_id.to_string(),
            session_id: new.session_id.to_string(),
            scope: new.scope,
            auth_time: new.auth_time,
            amr: new.amr.to_vec(),
            acr: new.acr.map(str::to_string),
            dpop_jkt: new.dpop_jkt.map(str::to_string),
            created_at: now,
            expires_at: now + new.lifetime_secs * 1000,
            family_id: new.family_id.map(str::to_string),
        };
        self.core.record_access_token(tenant, &token).await?;
        self.cache.insert((tenant.clone(), token.token_hash.clone()), Arc::new(token));
        Ok(handle)
    }

    /// The live token `handle` names in `tenant`; `None` for anything else (unknown, expired,
    /// another tenant's, not shaped like a handle — a JWT, say — which costs no read).
    pub async fn find(&self, tenant: &TenantId, handle: &str) -> accountd_core::Result<Option<Arc<AccessToken>>> {
        if !is_handle(handle) {
            return Ok(None);
        }
        let key = (tenant.clone(), hash_high_entropy_secret(handle));
        let now = accountd_core::clock::now_millis();
        if let Some(t) = self.cache.get(&key) {
            // The cache's own expiry is coarse; the token's is checked on every use.
            return Ok((t.expires_at > now).then_some(t));
        }
        // Unknown handles are not remembered: a flood of made-up ones must not evict live tokens.
        let Some(token) = self.core.find_access_token(tenant, handle).await? else { return Ok(None) };
        let token = Arc::new(token);
        self.cache.insert(key, token.clone());
        Ok(Some(token))
    }

    /// Revokes the token if `client_id` holds it, here and in the store (other nodes drop it
    /// within [`MAX_CACHED`]).
    pub async fn revoke(&self, tenant: &TenantId, client_id: &str, handle: &str) -> accountd_core::Result<bool> {
        if !is_handle(handle) {
            return Ok(false);
        }
        let revoked = self.core.revoke_access_token(tenant, client_id, handle).await?;
        if revoked {
            self.cache.invalidate(&(tenant.clone(), hash_high_entropy_secret(handle)));
        }
        Ok(revoked)
    }
}

/// Whether `token` has the shape of a handle (43 base64url characters).
pub fn is_handle(token: &str) -> bool {
    token.len() == HANDLE_CHARS && token.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// The audience of opaque tokens: `/userinfo` (and the Logto Account API, which takes the same).
pub fn userinfo_audience(issuer: &str) -> String {
    format!("{issuer}userinfo")
}

/// The token's facts in the shape of a JWT access token's claims, for `issuer` (the request's).
pub fn claims(token: &AccessToken, issuer: &str) -> AccessTokenClaims {
    AccessTokenClaims {
        iss: issuer.to_string(),
        sub: token.user_id.clone(),
        aud: Audience::One(userinfo_audience(issuer)),
        azp: token.client_id.clone(),
        client_id: token.client_id.clone(),
        scope: token.scope.clone(),
        iat: token.created_at / 1000,
        exp: token.expires_at / 1000,
        // The hash names the token without revealing it (logs, audit).
        jti: token.token_hash.clone(),
        gty: None,
        sid: Some(token.session_id.clone()),
        family_id: token.family_id.clone(),
        auth_time: Some(token.auth_time),
        amr: token.amr.clone(),
        acr: token.acr.clone(),
        cnf: token.dpop_jkt.clone().map(|jkt| Confirmation { jkt }),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn handles_are_long_random_base64url() {
        let h = accountd_core::secret::random_token::<{ super::HANDLE_BYTES }>();
        assert!(super::is_handle(&h), "{h}");
        assert!(!super::is_handle("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln"));
        assert!(!super::is_handle(&h[1..]));
        assert!(!super::is_handle(&format!("{}=", &h[1..])));
    }
}
