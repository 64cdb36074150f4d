//! Recovery codes, in two shapes under one method type:
//! - Auth0's: one random code, shown once, stored as a SHA-256 hash (it has ~120 bits of entropy,
//!   so no slow hash is needed), usable once at sign-in. Enrolling again replaces it.
//! - Logto's backup codes: a [`BackupCodeSet`] of 10 client-supplied codes, each usable once.
//!   Logto shows them again (`GET …/backup-codes`), so the set is sealed with the master key, as
//!   TOTP secrets are, never hashed; using a code re-seals the set with its `used_at`, swapped in
//!   only if the stored set is unchanged, so two uses of one code cannot both win.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::credential::{
    Begun, Counts, Credential, DirectEnrollment, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, new_method,
};
use super::method::{MethodType, NewMethod};
use crate::clock::Millis;
use crate::error::{Error, Refusal, Result};
use crate::secret::{MasterKey, constant_time_eq, hash_high_entropy_secret, random_bytes};

/// How many codes a backup-code set has (Logto's rule).
pub const BACKUP_CODE_COUNT: usize = 10;

/// How long each backup code is (lowercase hex characters).
pub const BACKUP_CODE_LENGTH: usize = 10;

/// The sealing context of backup-code sets.
const SET_SEAL_CONTEXT: &str = "backup_codes";

/// What a stored secret starts with when it is a sealed set (a single code's hash is 64 hex).
const SET_PREFIX: &str = "set:";

/// One code of a set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCode {
    /// The code (10 lowercase hex characters).
    pub code: String,
    /// When it was used to sign in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub used_at: Option<Millis>,
}

/// A set of backup codes, as sealed in a recovery-code method's secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupCodeSet {
    /// The codes, in the order given.
    pub codes: Vec<BackupCode>,
}

impl BackupCodeSet {
    /// Whether a stored recovery-code secret is a sealed set (rather than one code's hash).
    pub fn is_set(secret: &str) -> bool {
        secret.starts_with(SET_PREFIX)
    }

    /// Opens a stored set; `None` when the secret is a single hashed code.
    pub fn open(key: &MasterKey, secret: &str) -> Result<Option<BackupCodeSet>> {
        let Some(sealed) = secret.strip_prefix(SET_PREFIX) else { return Ok(None) };
        let plain = key.open(SET_SEAL_CONTEXT, sealed)?;
        Ok(Some(serde_json::from_slice(&plain).map_err(anyhow::Error::from)?))
    }

    /// The stored form.
    pub fn seal(&self, key: &MasterKey) -> Result<String> {
        let plain = zeroize::Zeroizing::new(serde_json::to_vec(self).map_err(anyhow::Error::from)?);
        Ok(format!("{SET_PREFIX}{}", key.seal(SET_SEAL_CONTEXT, &plain)?))
    }

    /// Codes not used yet.
    pub fn remaining(&self) -> usize {
        self.codes.iter().filter(|c| c.used_at.is_none()).count()
    }

    /// Marks the unused code equal to `typed` used at `now`; false when none is. Every code is
    /// compared in constant time, so the time taken says nothing about which one matched.
    pub fn use_code(&mut self, typed: &str, now: Millis) -> bool {
        let typed = typed.trim().to_ascii_lowercase();
        let mut hit = None;
        for (i, c) in self.codes.iter().enumerate() {
            if constant_time_eq(c.code.as_bytes(), typed.as_bytes()) && c.used_at.is_none() && hit.is_none() {
                hit = Some(i);
            }
        }
        match hit {
            Some(i) => {
                self.codes[i].used_at = Some(now);
                true
            }
            None => false,
        }
    }
}

/// Whether `codes` are exactly 10 codes of 10 lowercase hex characters; else
/// [`Refusal::WrongBackupCodeFormat`].
pub fn validate_backup_codes(codes: &[impl AsRef<str>]) -> Result<()> {
    let ok = codes.len() == BACKUP_CODE_COUNT
        && codes.iter().all(|c| {
            let c = c.as_ref();
            c.len() == BACKUP_CODE_LENGTH && c.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    if ok { Ok(()) } else { Err(Error::Refused(Refusal::WrongBackupCodeFormat)) }
}

/// A fresh set of codes for a client to show; nothing is stored until the client enrolls them.
pub fn generate_backup_codes() -> Vec<String> {
    (0..BACKUP_CODE_COUNT).map(|_| crate::secret::random_hex::<5>()).collect()
}

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
    fn counts_as(&self, _: MethodType) -> Counts {
        Counts::BackupSecondFactor
    }

    async fn enroll_direct(&self, cx: &EnrollContext<'_>, material: DirectEnrollment, id: &str) -> Result<NewMethod> {
        let DirectEnrollment::BackupCodes(codes) = material else {
            return Err(Error::Internal(anyhow::anyhow!("backup-code module given a TOTP secret")));
        };
        validate_backup_codes(&codes.iter().map(|c| c.as_str()).collect::<Vec<_>>())?;
        let set =
            BackupCodeSet { codes: codes.iter().map(|c| BackupCode { code: c.to_string(), used_at: None }).collect() };
        Ok(new_method(cx, MethodType::RecoveryCode, id, set.seal(cx.master_key)?))
    }

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

    #[test]
    fn backup_codes_are_ten_hex_codes_each_used_once() {
        use super::*;
        let codes = generate_backup_codes();
        assert!(validate_backup_codes(&codes).is_ok());
        assert!(validate_backup_codes(&codes[..9]).is_err());
        assert!(validate_backup_codes(&["ABCDEF1234"; 10]).is_err(), "lowercase only");
        assert!(validate_backup_codes(&["zzzzzzzzzz"; 10]).is_err());
        let key = MasterKey::from_bytes(&[7u8; 32]).unwrap();
        let mut set =
            BackupCodeSet { codes: codes.iter().map(|c| BackupCode { code: c.clone(), used_at: None }).collect() };
        let sealed = set.seal(&key).unwrap();
        assert!(BackupCodeSet::is_set(&sealed) && !sealed.contains(&codes[0]));
        assert_eq!(BackupCodeSet::open(&key, &sealed).unwrap().unwrap(), set);
        assert!(set.use_code(&codes[3], 5));
        assert!(!set.use_code(&codes[3], 6), "used once");
        assert_eq!(set.remaining(), 9);
        assert_eq!(BackupCodeSet::open(&key, &super::hash("x")).unwrap(), None);
    }
}
