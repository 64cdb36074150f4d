//! A DPoP client key that makes proofs, including deliberately broken ones.

use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use serde_json::{Value, json};

pub struct DpopKey {
    kp: EcdsaKeyPair,
    pub jwk: Value,
    pub jkt: String,
}

pub fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

pub fn ath(token: &str) -> String {
    B64.encode(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes()).as_ref())
}

impl DpopKey {
    pub fn new() -> Self {
        let kp = EcdsaKeyPair::generate(&ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let p = kp.public_key().as_ref();
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": B64.encode(&p[1..33]), "y": B64.encode(&p[33..65])});
        let parsed: jsonwebtoken::jwk::Jwk = serde_json::from_value(jwk.clone()).unwrap();
        let jkt = parsed.thumbprint(jsonwebtoken::jwk::ThumbprintHash::SHA256).unwrap();
        Self { kp, jwk, jkt }
    }

    /// A signed JWT with exactly this header and payload.
    pub fn sign(&self, header: &Value, claims: &Value) -> String {
        let input = format!("{}.{}", B64.encode(header.to_string()), B64.encode(claims.to_string()));
        let sig = self.kp.sign(&SystemRandom::new(), input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    pub fn header(&self) -> Value {
        json!({"typ": "dpop+jwt", "alg": "ES256", "jwk": self.jwk})
    }

    pub fn claims(&self, htm: &str, htu: &str, token: Option<&str>, nonce: Option<&str>) -> Value {
        let mut c = json!({"jti": accountd_core::secret::random_token::<12>(), "htm": htm, "htu": htu, "iat": now()});
        if let Some(t) = token {
            c["ath"] = json!(ath(t));
        }
        if let Some(n) = nonce {
            c["nonce"] = json!(n);
        }
        c
    }

    /// A good proof.
    pub fn proof(&self, htm: &str, htu: &str, token: Option<&str>, nonce: Option<&str>) -> String {
        self.sign(&self.header(), &self.claims(htm, htu, token, nonce))
    }
}
