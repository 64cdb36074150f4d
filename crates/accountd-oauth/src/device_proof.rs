//! Device proofs: how a push device (enrolled with its public key) authenticates a request, as
//! `Authorization: Device <JWS>`. The JWS is ES256 with header `{typ: "device+jwt", alg: "ES256"}`
//! over `{sub: <method id>, htm, htu, iat, jti}`; like a DPoP proof (`dpop.rs`) it is bound to one
//! request and fresh, and the caller checks `jti` once through the shared replay store, keyed by
//! [`DeviceProof::replay_key`]. Unlike DPoP the key is not in the proof: it is the one stored for
//! the device named by `sub`, so the caller reads `sub` first ([`unverified_subject`]), then
//! verifies with that device's key.

use accountd_core::text::Chars;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use crate::dpop::htu_of;

/// The `typ` of a device proof's header.
pub const TYP: &str = "device+jwt";
/// How far a proof's `iat` may be from now, either way, in seconds.
pub const MAX_SKEW_SECS: i64 = 60;

/// A checked proof.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeviceProof {
    /// The device (push method id).
    pub sub: String,
    /// The proof's unique id.
    pub jti: String,
    /// When the device says it made the proof (seconds).
    pub iat: i64,
}

impl DeviceProof {
    /// The replay-store key of this proof.
    pub fn replay_key(&self) -> String {
        format!("device:{}:{}", self.sub, self.jti)
    }
}

#[derive(Deserialize)]
struct Claims {
    sub: String,
    jti: String,
    htm: String,
    htu: String,
    iat: i64,
}

fn segment(proof: &str, i: usize) -> Option<serde_json::Value> {
    let mut parts = proof.split('.');
    if proof.split('.').count() != 3 {
        return None;
    }
    let b64 = parts.nth(i)?;
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(b64).ok()?).ok()
}

/// The `sub` a proof claims, before its signature is checked: only to find the key to check it
/// with.
pub fn unverified_subject(proof: &str) -> Option<String> {
    segment(proof, 1)?.get("sub")?.as_str().filter(|s| printable_id(s)).map(str::to_string)
}

/// An id from a proof that may be looked up: 1 to 256 bytes without control characters (which
/// the database refuses, so a proof anyone can make would fail the query).
fn printable_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= 256 && Chars::Identifier.allow_all(s)
}

/// Checks `proof` for a request `method url` (`url` without query is compared) at `now`
/// (seconds), signed by the device key `jwk` (a public EC P-256 JWK).
pub fn verify(
    proof: &str,
    jwk: &serde_json::Value,
    method: &str,
    url: &str,
    now: i64,
) -> Result<DeviceProof, &'static str> {
    let header = segment(proof, 0).ok_or("malformed device proof")?;
    if header["typ"] != TYP {
        return Err("device proof typ must be device+jwt");
    }
    if header["alg"] != "ES256" {
        return Err("device proof alg must be ES256");
    }
    let jwk: Jwk = serde_json::from_value(jwk.clone()).map_err(|_| "the device key is unusable")?;
    let key = DecodingKey::from_jwk(&jwk).map_err(|_| "the device key is unusable")?;
    let mut v = Validation::new(Algorithm::ES256);
    v.validate_exp = false;
    v.validate_aud = false;
    v.required_spec_claims.clear();
    let claims = jsonwebtoken::decode::<Claims>(proof, &key, &v).map_err(|_| "invalid device proof signature")?.claims;
    if claims.htm != method {
        return Err("device proof htm mismatch");
    }
    if htu_of(&claims.htu) != htu_of(url) {
        return Err("device proof htu mismatch");
    }
    // `abs_diff`: `iat - now` overflows for an `iat` near `i64::MIN` (a panic with overflow
    // checks, and `.abs()` of `i64::MIN` wraps to a negative "fresh" distance without them).
    if claims.iat.abs_diff(now) > MAX_SKEW_SECS.unsigned_abs() {
        return Err("device proof iat is outside the acceptable window");
    }
    if !printable_id(&claims.jti) {
        return Err("device proof jti is missing, too long or not printable");
    }
    Ok(DeviceProof { sub: claims.sub, jti: claims.jti, iat: claims.iat })
}

#[cfg(test)]
mod tests {
    use aws_lc_rs::rand::SystemRandom;
    use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
    use serde_json::{Value, json};

    use super::*;

    fn b64(v: &Value) -> String {
        URL_SAFE_NO_PAD.encode(serde_json::to_vec(v).unwrap())
    }

    fn key() -> (EcdsaKeyPair, Value) {
        let k = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let p = k.public_key().as_ref().to_vec();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": URL_SAFE_NO_PAD.encode(&p[1..33]), "y": URL_SAFE_NO_PAD.encode(&p[33..65])});
        (k, jwk)
    }

    fn sign(k: &EcdsaKeyPair, header: Value, claims: Value) -> String {
        let input = format!("{}.{}", b64(&header), b64(&claims));
        let sig = k.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig.as_ref()))
    }

    #[test]
    fn a_proof_is_bound_to_its_key_request_and_time() {
        let (k, jwk) = key();
        let (_, other) = key();
        let url = "http://127.0.0.1:3000/push/v1/challenges";
        let header = json!({"typ": TYP, "alg": "ES256"});
        let claims = json!({"sub": "push-notification|dev_1", "htm": "GET", "htu": url, "iat": 1_000, "jti": "j1"});
        let proof = sign(&k, header.clone(), claims.clone());
        assert_eq!(unverified_subject(&proof).as_deref(), Some("push-notification|dev_1"));
        let ok = verify(&proof, &jwk, "GET", &format!("{url}?x=1"), 1_030).unwrap();
        assert_eq!(ok.replay_key(), "device:push-notification|dev_1:j1");
        assert_eq!(verify(&proof, &other, "GET", url, 1_000), Err("invalid device proof signature"));
        assert_eq!(verify(&proof, &jwk, "POST", url, 1_000), Err("device proof htm mismatch"));
        assert_eq!(
            verify(&proof, &jwk, "GET", "http://127.0.0.1:3000/push/v1/challenges/x", 1_000),
            Err("device proof htu mismatch")
        );
        assert!(verify(&proof, &jwk, "GET", url, 1_061).is_err(), "too old");
        assert!(verify(&proof, &jwk, "GET", url, 939).is_err(), "from the future");
        let dpop = sign(&k, json!({"typ": "dpop+jwt", "alg": "ES256"}), claims);
        assert!(verify(&dpop, &jwk, "GET", url, 1_000).is_err(), "another typ");
        assert!(unverified_subject("a.b").is_none());
    }

    #[test]
    fn an_iat_at_the_ends_of_i64_is_refused_without_overflow() {
        let (k, jwk) = key();
        let url = "http://127.0.0.1:3000/push/v1/challenges";
        let now = 1_800_000_000;
        // i64::MIN + now: `iat - now` is i64::MIN, whose `.abs()` overflowed.
        for iat in [i64::MIN, i64::MIN + now, i64::MAX, -1] {
            let claims = json!({"sub": "push-notification|dev_1", "htm": "GET", "htu": url, "iat": iat, "jti": "j1"});
            let proof = sign(&k, json!({"typ": TYP, "alg": "ES256"}), claims);
            assert_eq!(
                verify(&proof, &jwk, "GET", url, now),
                Err("device proof iat is outside the acceptable window"),
                "iat {iat}"
            );
        }
    }
}
