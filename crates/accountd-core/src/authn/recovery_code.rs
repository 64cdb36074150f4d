//! Recovery codes: one random code, shown once, stored as a SHA-256 hash (it has ~120 bits of
//! entropy, so no slow hash is needed), usable once at sign-in. Enrolling again replaces it.

use serde_json::{Value, json};

use super::credential::{Begun, Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, new_method};
use super::method::{MethodType, NewMethod};
use crate::error::{Error, Result};
use crate::secret::{hash_high_entropy_secret, random_bytes};

/// The recovery-code credential module.
pub struct RecoveryCode;

/// Crockford-style alphabet without look-alikes (no I, L, O, U).
const ALPHABET: &[u8] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A fresh 24-character code (120 bits).
fn generate() -> String {
    random_bytes::<24>().iter().map(|b| ALPHABET[(b % 32) as usize] as char).collect()
}

/// How a typed code is compared: case and separators do not matter.
pub fn normalize(code: &str) -> String {
    code.chars().filter(|c| c.is_ascii_alphanumeric()).map(|c| c.to_ascii_uppercase()).collect()
}

/// The stored form of a code.
pub fn hash(code: &str) -> String {
    hash_high_entropy_secret(&normalize(code))
}

#[async_trait::async_trait]
impl Credential for RecoveryCode {
    async fn begin(&self, _: &EnrollContext<'_>, _: &EnrollRequest, _: &str) -> Result<Begun> {
        let code = generate();
        Ok(Begun {
            state: json!({ "hash": hash(&code) }),
            challenge: EnrollChallenge::RecoveryCode { recovery_code: code },
            message: None,
        })
    }

    async fn finish(&self, cx: &EnrollContext<'_>, state: Value, proof: EnrollProof, id: &str) -> Result<NewMethod> {
        if !matches!(proof, EnrollProof::Nothing) {
            return Err(Error::invalid("auth_session", "recovery codes are confirmed with auth_session only"));
        }
        let hash = state["hash"].as_str().unwrap_or_default().to_string();
        Ok(new_method(cx, MethodType::RecoveryCode, id, hash))
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn codes_are_24_unambiguous_characters_and_compare_loosely() {
        let c = super::generate();
        assert_eq!(c.len(), 24);
        assert!(!c.contains(['I', 'L', 'O', 'U']));
        let spaced = format!("{} {}", &c[..12], c[12..].to_lowercase());
        assert_eq!(super::hash(&spaced), super::hash(&c));
    }
}
