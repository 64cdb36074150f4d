//! Per-tenant signing keys, loaded once and cached: the active signer per algorithm, a verifier per
//! `kid`, and the JWKS document. The hot path (verifying a token) touches no database.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use accountd_core::signing_key::KeyStatus;
use accountd_core::tenant::TenantId;
use accountd_core::{Core, Error};
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey};
use serde_json::{Value, json};

/// A key that signs new tokens, parsed once (parsing an RSA key per signature costs more than
/// the signature).
pub struct Signer {
    /// Its `kid`.
    pub kid: String,
    /// Its algorithm.
    pub alg: Algorithm,
    key: SigningKeyPair,
}

enum SigningKeyPair {
    Rsa(aws_lc_rs::rsa::KeyPair),
    Ec(aws_lc_rs::signature::EcdsaKeyPair),
    Ed(aws_lc_rs::signature::Ed25519KeyPair),
}

impl Signer {
    /// Signs a JWS in compact form: base64url(header) . base64url(claims) . base64url(signature).
    pub fn sign_jws(&self, header: &jsonwebtoken::Header, claims: &impl serde::Serialize) -> Option<String> {
        use base64::Engine;
        use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
        let header = serde_json::to_vec(header).ok()?;
        let claims = serde_json::to_vec(claims).ok()?;
        let input = format!("{}.{}", B64.encode(header), B64.encode(claims));
        let rng = aws_lc_rs::rand::SystemRandom::new();
        let sig = match &self.key {
            SigningKeyPair::Rsa(kp) => {
                let mut sig = vec![0u8; kp.public_modulus_len()];
                kp.sign(&aws_lc_rs::signature::RSA_PKCS1_SHA256, &rng, input.as_bytes(), &mut sig).ok()?;
                sig
            }
            SigningKeyPair::Ec(kp) => kp.sign(&rng, input.as_bytes()).ok()?.as_ref().to_vec(),
            SigningKeyPair::Ed(kp) => kp.sign(input.as_bytes()).as_ref().to_vec(),
        };
        Some(format!("{input}.{}", B64.encode(sig)))
    }
}

/// A key that verifies tokens by `kid`.
pub struct Verifier {
    /// Its algorithm: the only one a token with this `kid` may use.
    pub alg: Algorithm,
    pub(crate) key: DecodingKey,
}

impl Verifier {
    /// The verifier of a public JWK (JSON) for an algorithm name (`RS256`, `ES256`, `EdDSA`), as
    /// [`KeyRing::load`] makes them; `None` if either is unusable.
    pub fn from_public_jwk(alg: &str, public_jwk: &str) -> Option<Self> {
        let (alg, _) = parse_alg(alg)?;
        let jwk: Jwk = serde_json::from_str(public_jwk).ok()?;
        Some(Self { alg, key: DecodingKey::from_jwk(&jwk).ok()? })
    }
}

/// The keys of one tenant.
pub struct KeyRing {
    signers: HashMap<&'static str, Signer>,
    verifiers: HashMap<String, Verifier>,
    jwks: Value,
}

fn parse_alg(alg: &str) -> Option<(Algorithm, &'static str)> {
    match alg {
        "RS256" => Some((Algorithm::RS256, "RS256")),
        "ES256" => Some((Algorithm::ES256, "ES256")),
        "EdDSA" => Some((Algorithm::EdDSA, "EdDSA")),
        _ => None,
    }
}

impl KeyRing {
    /// Loads the tenant's published keys and opens the active private keys.
    pub async fn load(core: &Core, tenant: &TenantId) -> accountd_core::Result<Self> {
        let keys = core.signing_keys(tenant).await?;
        let mut signers = HashMap::new();
        let mut verifiers = HashMap::new();
        let mut published = Vec::new();
        for k in keys {
            let Some((alg, alg_name)) = parse_alg(&k.alg) else {
                continue;
            };
            let public: Value = serde_json::from_str(&k.public_jwk).map_err(|e| Error::Internal(e.into()))?;
            let jwk: Jwk = serde_json::from_value(public.clone()).map_err(|e| Error::Internal(e.into()))?;
            let decoding = DecodingKey::from_jwk(&jwk).map_err(|e| Error::Internal(e.into()))?;
            verifiers.insert(k.kid.clone(), Verifier { alg, key: decoding });
            published.push(public);
            if k.status == KeyStatus::Active && !signers.contains_key(alg_name) {
                let der = core.open_signing_key(tenant, &k)?;
                let bad = |_| Error::Internal(anyhow::anyhow!("stored signing key {} does not parse", k.kid));
                let key = match alg {
                    Algorithm::RS256 => SigningKeyPair::Rsa(aws_lc_rs::rsa::KeyPair::from_pkcs8(&der).map_err(bad)?),
                    Algorithm::ES256 => SigningKeyPair::Ec(
                        aws_lc_rs::signature::EcdsaKeyPair::from_pkcs8(
                            &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                            &der,
                        )
                        .map_err(bad)?,
                    ),
                    _ => SigningKeyPair::Ed(aws_lc_rs::signature::Ed25519KeyPair::from_pkcs8(&der).map_err(bad)?),
                };
                signers.insert(alg_name, Signer { kid: k.kid.clone(), alg, key });
            }
        }
        Ok(Self { signers, verifiers, jwks: json!({ "keys": published }) })
    }

    /// The active signer for an algorithm name (`RS256`, `ES256`, `EdDSA`).
    pub fn signer(&self, alg: &str) -> Option<&Signer> {
        self.signers.get(alg)
    }

    /// The verifier for a `kid`.
    pub fn verifier(&self, kid: &str) -> Option<&Verifier> {
        self.verifiers.get(kid)
    }

    /// The JWKS document (`{"keys": [...]}`), public keys only.
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }
}

struct Entry {
    ring: Arc<KeyRing>,
    loaded_at: Instant,
}

/// Key rings per tenant, reloaded after `ttl` so that a rotation on another node is picked up,
/// and at once when a token names a `kid` not seen before (a key rotated on another node).
pub struct KeyCache {
    core: Arc<Core>,
    ttl: Duration,
    entries: RwLock<HashMap<TenantId, Entry>>,
    /// `kid`s a reload did not find, and when: one is not looked for again for a few seconds.
    unknown: std::sync::Mutex<HashMap<(TenantId, Box<str>), Instant>>,
    /// Forced reloads in the current second, across tenants: bogus `kid`s cannot turn into more
    /// database reads than this.
    forced: std::sync::Mutex<(Instant, u32)>,
    /// Claims of tokens whose signature was already checked, by the whole token (a hit compares
    /// every byte; hashing it with SHA-256 instead cost more than the rest of the lookup).
    verified: RwLock<HashMap<Box<str>, (TenantId, crate::access_token::AccessTokenClaims)>>,
}

/// Most verified tokens remembered (about 1.5 KB each); the map is emptied when full (cheap, and
/// never wrong).
const MAX_VERIFIED: usize = 20_000;

/// How long a `kid` a reload did not find is not looked for again.
const UNKNOWN_KID_TTL: Duration = Duration::from_secs(5);

/// Most reloads forced by unknown `kid`s per second, on this node (a flood of bogus tokens stays a
/// trickle of database reads).
const MAX_FORCED_PER_SECOND: u32 = 10;

/// Most unknown `kid`s remembered; the map is emptied when full (it only saves reloads).
const MAX_UNKNOWN: usize = 10_000;

impl KeyCache {
    /// An empty cache.
    pub fn new(core: Arc<Core>, ttl: Duration) -> Self {
        Self {
            core,
            ttl,
            entries: RwLock::new(HashMap::new()),
            verified: RwLock::new(HashMap::new()),
            unknown: std::sync::Mutex::new(HashMap::new()),
            forced: std::sync::Mutex::new((Instant::now(), 0)),
        }
    }

    /// Claims of a token of `tenant` verified earlier.
    pub fn verified_get(&self, tenant: &TenantId, token: &str) -> Option<crate::access_token::AccessTokenClaims> {
        let map = self.verified.read().ok()?;
        let (t, claims) = map.get(token)?;
        (t == tenant).then(|| claims.clone())
    }

    /// Remembers a verified token's claims.
    pub fn verified_put(&self, tenant: &TenantId, token: &str, claims: &crate::access_token::AccessTokenClaims) {
        if let Ok(mut m) = self.verified.write() {
            if m.len() >= MAX_VERIFIED {
                m.clear();
            }
            m.insert(token.into(), (tenant.clone(), claims.clone()));
        }
    }

    fn cached(&self, tenant: &TenantId, max_age: Duration) -> Option<Arc<KeyRing>> {
        let entries = self.entries.read().ok()?;
        let e = entries.get(tenant)?;
        (e.loaded_at.elapsed() < max_age).then(|| e.ring.clone())
    }

    async fn reload(&self, tenant: &TenantId) -> accountd_core::Result<Arc<KeyRing>> {
        let ring = Arc::new(KeyRing::load(&self.core, tenant).await?);
        if let Ok(mut entries) = self.entries.write() {
            entries.insert(tenant.clone(), Entry { ring: ring.clone(), loaded_at: Instant::now() });
        }
        Ok(ring)
    }

    /// The tenant's key ring.
    pub async fn get(&self, tenant: &TenantId) -> accountd_core::Result<Arc<KeyRing>> {
        match self.cached(tenant, self.ttl) {
            Some(ring) => Ok(ring),
            None => self.reload(tenant).await,
        }
    }

    /// The key ring with `kid` in it if the store has it: reloaded at once for a `kid` not looked
    /// for lately (a key rotated on another node is honoured by its first token here), within
    /// [`MAX_FORCED_PER_SECOND`] reloads a second; otherwise the ring as cached.
    pub async fn get_fresh(&self, tenant: &TenantId, kid: &str) -> accountd_core::Result<Arc<KeyRing>> {
        let key = (tenant.clone(), Box::<str>::from(kid));
        let looked_for_lately = self
            .unknown
            .lock()
            .ok()
            .and_then(|m| m.get(&key).copied())
            .is_some_and(|at| at.elapsed() < UNKNOWN_KID_TTL);
        if looked_for_lately || !self.may_force_reload() {
            return self.get(tenant).await;
        }
        let ring = self.reload(tenant).await?;
        if ring.verifier(kid).is_none()
            && let Ok(mut m) = self.unknown.lock()
        {
            if m.len() >= MAX_UNKNOWN {
                m.clear();
            }
            m.insert(key, Instant::now());
        }
        Ok(ring)
    }

    /// Counts one forced reload against this second's budget; false when it is spent.
    fn may_force_reload(&self) -> bool {
        let Ok(mut f) = self.forced.lock() else { return false };
        if f.0.elapsed() >= Duration::from_secs(1) {
            *f = (Instant::now(), 0);
        }
        f.1 += 1;
        f.1 <= MAX_FORCED_PER_SECOND
    }

    /// Forgets a tenant's keys (after a rotation on this node).
    pub fn invalidate(&self, tenant: &TenantId) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(tenant);
        }
        if let Ok(mut m) = self.verified.write() {
            m.clear();
        }
    }
}
