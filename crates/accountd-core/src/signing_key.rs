//! Token signing keys per tenant. The private half is sealed under the master key; the public half
//! is kept as a JWK for the JWKS document.

use crate::clock::Millis;

/// Lifecycle of a signing key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyStatus {
    /// Signs new tokens (one per tenant and algorithm).
    Active,
    /// No longer signs, still published until every token it signed has expired.
    Retired,
}

impl KeyStatus {
    /// Storage name.
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "active",
            KeyStatus::Retired => "retired",
        }
    }

    /// Parses the storage name.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(KeyStatus::Active),
            "retired" => Some(KeyStatus::Retired),
            _ => None,
        }
    }
}

/// A signing key as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct SigningKey {
    /// Key id (`kid`): the RFC 7638 thumbprint of the public key.
    pub kid: String,
    /// JWS algorithm (`RS256`, `ES256`, `EdDSA`).
    pub alg: String,
    /// Active or retired.
    pub status: KeyStatus,
    /// Private key (PKCS#8 DER) sealed under the master key with context `signing_key:{tenant}:{kid}`.
    pub private_key_sealed: String,
    /// Public key as a JWK JSON object.
    pub public_jwk: String,
    /// When it was created.
    pub created_at: Millis,
    /// When it stopped signing.
    pub retired_at: Option<Millis>,
    /// When it leaves the JWKS (every token it signed has expired by then).
    pub publish_until: Option<Millis>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("status", &self.status)
            .finish_non_exhaustive()
    }
}

/// The seal context that binds a sealed private key to its tenant and kid.
pub fn seal_context(tenant: &crate::tenant::TenantId, kid: &str) -> String {
    format!("signing_key:{tenant}:{kid}")
}
