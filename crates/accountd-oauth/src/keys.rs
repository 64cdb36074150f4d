//! Key generation for token signing (RS256, ES256, EdDSA) with aws-lc-rs, and the public JWK of
//! each key. The `kid` is the key's RFC 7638 thumbprint.

use accountd_core::Error;
use accountd_core::secret::Zeroizing;
use accountd_core::service::{GeneratedKey, KeyMaker};
use aws_lc_rs::encoding::AsDer;
use aws_lc_rs::signature::KeyPair as _;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{Jwk, ThumbprintHash};
use serde_json::{Value, json};

fn internal(what: &str) -> Error {
    Error::Internal(anyhow::anyhow!("signing key generation failed: {what}"))
}

/// Generates signing keys for core.
#[derive(Debug, Default, Clone, Copy)]
pub struct JoseKeyMaker;

impl KeyMaker for JoseKeyMaker {
    fn generate(&self, alg: &str) -> accountd_core::Result<GeneratedKey> {
        let (pkcs8, public): (Vec<u8>, Value) = match alg {
            "RS256" => {
                let kp =
                    aws_lc_rs::rsa::KeyPair::generate(aws_lc_rs::rsa::KeySize::Rsa2048).map_err(|_| internal("RSA"))?;
                let der = AsDer::<aws_lc_rs::encoding::Pkcs8V1Der>::as_der(&kp).map_err(|_| internal("RSA DER"))?;
                let pk = kp.public_key();
                let n = URL_SAFE_NO_PAD.encode(pk.modulus().big_endian_without_leading_zero());
                let e = URL_SAFE_NO_PAD.encode(pk.exponent().big_endian_without_leading_zero());
                (der.as_ref().to_vec(), json!({"kty": "RSA", "n": n, "e": e}))
            }
            "ES256" => {
                let alg = &aws_lc_rs::signature::ECDSA_P256_SHA256_FIXED_SIGNING;
                let kp = aws_lc_rs::signature::EcdsaKeyPair::generate(alg).map_err(|_| internal("P-256"))?;
                let der = kp.to_pkcs8v1().map_err(|_| internal("P-256 DER"))?;
                // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
                let point = kp.public_key().as_ref();
                if point.len() != 65 {
                    return Err(internal("P-256 point"));
                }
                let x = URL_SAFE_NO_PAD.encode(&point[1..33]);
                let y = URL_SAFE_NO_PAD.encode(&point[33..65]);
                (der.as_ref().to_vec(), json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}))
            }
            "EdDSA" => {
                let kp = aws_lc_rs::signature::Ed25519KeyPair::generate().map_err(|_| internal("Ed25519"))?;
                let der = kp.to_pkcs8v1().map_err(|_| internal("Ed25519 DER"))?;
                let x = URL_SAFE_NO_PAD.encode(kp.public_key().as_ref());
                (der.as_ref().to_vec(), json!({"kty": "OKP", "crv": "Ed25519", "x": x}))
            }
            other => {
                return Err(Error::invalid("signing_alg", format!("unsupported algorithm {other}")));
            }
        };
        let jwk: Jwk = serde_json::from_value(public.clone()).map_err(|_| internal("JWK"))?;
        let kid = jwk.thumbprint(ThumbprintHash::SHA256).map_err(|_| internal("thumbprint"))?;
        let mut public = public;
        if let Some(obj) = public.as_object_mut() {
            obj.insert("kid".into(), json!(kid));
            obj.insert("alg".into(), json!(alg));
            obj.insert("use".into(), json!("sig"));
        }
        Ok(GeneratedKey { kid, alg: alg.into(), private_pkcs8: Zeroizing::new(pkcs8), public_jwk: public.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generates_every_algorithm_with_a_thumbprint_kid() {
        for alg in ["RS256", "ES256", "EdDSA"] {
            let k = JoseKeyMaker.generate(alg).unwrap();
            let jwk: Value = serde_json::from_str(&k.public_jwk).unwrap();
            assert_eq!(jwk["kid"], k.kid.as_str());
            assert_eq!(jwk["alg"], alg);
            assert!(jwk.get("d").is_none(), "private material in the public JWK");
            assert_eq!(k.kid.len(), 43, "SHA-256 thumbprint, base64url");
        }
        assert!(JoseKeyMaker.generate("HS256").is_err());
    }
}
