//! DPoP proofs (RFC 9449): checking a proof JWT against the request it came with, server nonces,
//! and the key thumbprint (`jkt`) tokens are bound to. Replay is checked by the caller through the
//! shared replay store, keyed by `jkt:jti`.

use accountd_core::secret::MasterKey;
use accountd_core::tenant::TenantId;
use accountd_core::text::Chars;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use jsonwebtoken::{Algorithm, DecodingKey};
use serde::Deserialize;

/// Signature algorithms accepted in proofs (advertised in `WWW-Authenticate` as `algs`).
pub const ALGS: &[&str] = &["ES256", "EdDSA", "RS256", "PS256"];
/// Oldest proof accepted, in seconds.
pub const MAX_AGE_SECS: i64 = 300;
/// How far in the future a proof's `iat` may be (clock skew), in seconds.
pub const MAX_SKEW_SECS: i64 = 30;
/// How long a server nonce stays valid, in seconds.
pub const NONCE_TTL_SECS: i64 = 300;

/// A checked proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    /// RFC 7638 thumbprint of the proof key (what `cnf.jkt` carries).
    pub jkt: String,
    /// The proof's unique id.
    pub jti: String,
    /// The nonce it carried.
    pub nonce: Option<String>,
    /// When the client says it made the proof (seconds).
    pub iat: i64,
}

impl Proof {
    /// The replay-store key of this proof.
    pub fn replay_key(&self) -> String {
        format!("dpop:{}:{}", self.jkt, self.jti)
    }
}

/// Why a proof is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DpopError {
    /// The proof is malformed or does not match the request (`invalid_dpop_proof`).
    #[error("{0}")]
    Invalid(&'static str),
    /// A (fresh) server nonce is required (`use_dpop_nonce`).
    #[error("Authorization server requires nonce in DPoP proof")]
    UseNonce,
}

#[derive(Deserialize)]
struct Claims {
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
    #[serde(default)]
    ath: Option<String>,
    #[serde(default)]
    nonce: Option<String>,
}

/// `scheme://host/path` of a URL: the part `htu` is compared on (no query, no fragment).
pub fn htu_of(url: &str) -> &str {
    url.split(['?', '#']).next().unwrap_or(url)
}

/// base64url(SHA-256(access token)): the `ath` claim.
pub fn ath(access_token: &str) -> String {
    URL_SAFE_NO_PAD.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, access_token.as_bytes()).as_ref())
}

/// A proof header that passed its checks: the key it names and that key's thumbprint.
struct ProofKey {
    alg: Algorithm,
    key: DecodingKey,
    jkt: String,
}

/// Proof headers already checked, by their encoded form. A client signs every proof with one key,
/// so its header is the same string each time: decoding it, building the key and hashing the
/// thumbprint happen once per key instead of once per request (they were a fifth of a proof's
/// cost; the signature, checked every time, is the rest).
#[derive(Default)]
pub struct ProofKeys {
    checked: std::sync::RwLock<std::collections::HashMap<Box<str>, std::sync::Arc<ProofKey>>>,
}

impl ProofKeys {
    /// Headers kept at most; past it the cache starts again (headers are chosen by clients).
    const MAX: usize = 10_000;
    /// Longer headers are checked every time, not kept (an RSA-4096 key's header is about 1 KB).
    const MAX_HEADER_LEN: usize = 2048;

    fn get(&self, header_b64: &str) -> Result<std::sync::Arc<ProofKey>, DpopError> {
        if let Some(k) = self.checked.read().ok().and_then(|m| m.get(header_b64).cloned()) {
            return Ok(k);
        }
        let key = std::sync::Arc::new(check_header(header_b64)?);
        if header_b64.len() <= Self::MAX_HEADER_LEN
            && let Ok(mut m) = self.checked.write()
        {
            if m.len() >= Self::MAX {
                m.clear();
            }
            m.insert(header_b64.into(), key.clone());
        }
        Ok(key)
    }
}

/// Checks a proof's header (`typ`, `alg`, a public `jwk`) and builds the key it names.
fn check_header(header_b64: &str) -> Result<ProofKey, DpopError> {
    let bad = DpopError::Invalid;
    let header: serde_json::Value = URL_SAFE_NO_PAD
        .decode(header_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(bad("malformed DPoP proof header"))?;
    if header["typ"] != "dpop+jwt" {
        return Err(bad("DPoP proof typ must be dpop+jwt"));
    }
    let alg_name = header["alg"].as_str().unwrap_or("");
    if !ALGS.contains(&alg_name) {
        return Err(bad("unsupported DPoP proof alg"));
    }
    let jwk_value = header.get("jwk").filter(|j| j.is_object()).ok_or(bad("DPoP proof has no jwk"))?;
    const PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    if PRIVATE.iter().any(|m| jwk_value.get(m).is_some()) {
        return Err(bad("DPoP proof jwk contains private key material"));
    }
    let jwk: Jwk = serde_json::from_value(jwk_value.clone()).map_err(|_| bad("invalid DPoP proof jwk"))?;
    let alg: Algorithm = alg_name.parse().map_err(|_| bad("unsupported DPoP proof alg"))?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| bad("invalid DPoP proof jwk"))?;
    let jkt = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| bad("invalid DPoP proof jwk"))?;
    Ok(ProofKey { alg, key, jkt })
}

/// What a proof must match besides its request: the access token it comes with (`ath`, and the
/// key thumbprint the token is bound to) and the server nonce when one is required.
#[derive(Default, Clone, Copy)]
pub struct Expected<'a> {
    /// The access token presented with the proof.
    pub access_token: Option<&'a str>,
    /// The `cnf.jkt` of that token: the proof must be signed with this key.
    pub jkt: Option<&'a str>,
    /// Whether a nonce value is acceptable; `None` means nonces are not required.
    pub nonce_ok: Option<&'a dyn Fn(&str) -> bool>,
}

/// Checks `proof` for a request `method url` and what else it must match. The key and the claims
/// are checked before the signature, so a proof for another request or token costs no signature
/// check; nothing is accepted before all pass.
pub fn verify(
    keys: &ProofKeys,
    proof: &str,
    method: &str,
    url: &str,
    expected: Expected<'_>,
    now: i64,
) -> Result<Proof, DpopError> {
    let bad = DpopError::Invalid;
    let mut parts = proof.split('.');
    let (Some(header_b64), Some(claims_b64), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad("malformed DPoP proof"));
    };
    let key = keys.get(header_b64)?;
    if expected.jkt.is_some_and(|jkt| jkt != key.jkt) {
        return Err(bad("The proof key does not match the token"));
    }
    let claims: Claims = URL_SAFE_NO_PAD
        .decode(claims_b64)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or(bad("malformed DPoP proof claims"))?;
    if claims.htm != method {
        return Err(bad("DPoP proof htm mismatch"));
    }
    if htu_of(&claims.htu) != htu_of(url) {
        return Err(bad("DPoP proof htu mismatch"));
    }
    if claims.iat < now - MAX_AGE_SECS || claims.iat > now + MAX_SKEW_SECS {
        return Err(bad("DPoP proof iat is outside the acceptable window"));
    }
    // The jti is stored to refuse replays; the database refuses control characters (and anyone
    // can sign a proof with their own key, so a bad one must not reach it).
    if claims.jti.is_empty() || claims.jti.len() > 256 || !Chars::Identifier.allow_all(&claims.jti) {
        return Err(bad("DPoP proof jti is missing, too long or not printable"));
    }
    if let Some(token) = expected.access_token
        && claims.ath.as_deref() != Some(ath(token).as_str())
    {
        return Err(bad("DPoP proof ath mismatch"));
    }
    if let Some(nonce_ok) = expected.nonce_ok {
        match &claims.nonce {
            Some(n) if nonce_ok(n) => {}
            _ => return Err(DpopError::UseNonce),
        }
    }
    let signed = &proof[..header_b64.len() + 1 + claims_b64.len()];
    if !jsonwebtoken::crypto::verify(signature, signed.as_bytes(), &key.key, key.alg).unwrap_or(false) {
        return Err(bad("invalid DPoP proof signature"));
    }
    Ok(Proof { jkt: key.jkt.clone(), jti: claims.jti, nonce: claims.nonce, iat: claims.iat })
}

/// A fresh server nonce for `tenant`: the current time (ms) sealed under the master key, so any
/// node can check it without shared state.
pub fn issue_nonce(master: &MasterKey, tenant: &TenantId, now_ms: i64) -> String {
    master.seal(&format!("dpop_nonce:{tenant}"), &now_ms.to_be_bytes()).unwrap_or_default()
}

/// When `nonce` was issued for `tenant` (ms), if it is one of ours.
pub fn nonce_issued_at(master: &MasterKey, tenant: &TenantId, nonce: &str) -> Option<i64> {
    let bytes = master.open(&format!("dpop_nonce:{tenant}"), nonce).ok()?;
    Some(i64::from_be_bytes(<[u8; 8]>::try_from(bytes.as_slice()).ok()?))
}

/// Whether `nonce` was issued for `tenant` within the last `NONCE_TTL_SECS` of `now_ms`.
pub fn nonce_is_fresh(master: &MasterKey, tenant: &TenantId, nonce: &str, now_ms: i64) -> bool {
    nonce_issued_at(master, tenant, nonce)
        .is_some_and(|issued| issued <= now_ms + MAX_SKEW_SECS * 1000 && now_ms - issued <= NONCE_TTL_SECS * 1000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonces_expire_and_belong_to_their_tenant() {
        let key = MasterKey::from_base64(&MasterKey::generate_base64()).unwrap();
        let t1 = TenantId::from_stored("a".into());
        let t2 = TenantId::from_stored("b".into());
        let n = issue_nonce(&key, &t1, 1_000_000);
        assert!(nonce_is_fresh(&key, &t1, &n, 1_100_000));
        assert!(!nonce_is_fresh(&key, &t1, &n, 1_000_000 + NONCE_TTL_SECS * 1000 + 1));
        assert!(!nonce_is_fresh(&key, &t2, &n, 1_100_000));
        assert!(!nonce_is_fresh(&key, &t1, "v1.garbage", 1_100_000));
        assert_eq!(nonce_issued_at(&key, &t1, &n), Some(1_000_000));
    }

    #[test]
    fn htu_ignores_query_and_fragment() {
        assert_eq!(htu_of("https://a.example/oauth/token?x=1#f"), "https://a.example/oauth/token");
    }
}
