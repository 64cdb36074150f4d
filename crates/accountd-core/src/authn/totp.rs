//! TOTP (RFC 6238) with `totp-rs`: SHA-1, 6 digits, 30 s steps, ±1 step of clock skew — what every
//! authenticator app reads from an `otpauth://` URI. The secret is sealed at rest together with the
//! last step accepted, so a code is never accepted twice. Two ways in: the server-generated
//! two-step enrollment (`begin`/`finish`, Auth0) and a client-supplied secret in one step
//! (`enroll_direct`, Logto's `totp-secret/generate` then `POST/PUT mfa-verifications`).

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::credential::{
    Begun, Counts, Credential, DirectEnrollment, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest,
    account_label, new_method,
};
use super::method::{MethodType, NewMethod};
use crate::error::{Error, Refusal, Result};
use crate::secret::MasterKey;

const SEAL_CONTEXT: &str = "totp";

/// The TOTP credential module.
pub struct Totp;

/// What is sealed in the method's secret.
#[derive(Serialize, Deserialize)]
struct Stored {
    /// Base32 secret.
    secret: String,
    /// The last time step accepted (codes of this step or earlier are refused).
    last_step: u64,
}

fn build(secret_b32: &str, issuer: &str, account: &str) -> Result<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|_| Error::Internal(anyhow::anyhow!("bad TOTP secret")))?;
    // Authenticator apps split the label at ':'; keep it out of both parts.
    let issuer = issuer.replace(':', " ");
    let account = account.replace(':', " ");
    totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .with_issuer(Some(issuer))
        .with_account_name(account)
        .build()
        .map_err(|e| Error::Internal(anyhow::anyhow!("TOTP: {e}")))
}

fn now_secs() -> u64 {
    u64::try_from(crate::clock::now_millis() / 1000).unwrap_or(0)
}

/// A checker for a stored secret. Client-supplied secrets may be as short as 80 bits (Logto
/// accepts 16 base32 characters), below totp-rs's RFC minimum of 128, so this skips that check;
/// digits and step are ours and valid.
fn checker(secret_b32: &str) -> Result<totp_rs::Totp> {
    let secret = totp_rs::Secret::try_from_base32(secret_b32)
        .map_err(|_| Error::Internal(anyhow::anyhow!("bad TOTP secret")))?;
    Ok(totp_rs::Builder::new()
        .with_algorithm(totp_rs::Algorithm::SHA1)
        .with_digits(6)
        .with_skew(1)
        .with_step_duration(30)
        .with_secret(secret)
        .build_noncompliant())
}

/// The step a code matches at `now`, if any (codes are six ASCII digits).
fn matching_step(secret_b32: &str, code: &str, now: u64) -> Result<Option<u64>> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    Ok(checker(secret_b32)?.check(code, now))
}

/// A client-supplied secret in its stored form (uppercase, no padding), if it is base32 of 16 to
/// 32 characters as Logto requires; else [`Refusal::TotpSecretInvalid`].
pub fn validate_secret(secret: &str) -> Result<String> {
    let body = secret.trim_end_matches('=');
    let ok = (16..=32).contains(&secret.len())
        && !body.is_empty()
        && body.bytes().all(|b| b.is_ascii_alphabetic() || (b'2'..=b'7').contains(&b));
    let upper = body.to_ascii_uppercase();
    if !ok || totp_rs::Secret::try_from_base32(&upper).is_err() {
        return Err(Error::Refused(Refusal::TotpSecretInvalid));
    }
    Ok(upper)
}

/// A fresh secret for a client to show (base32 of 20 random bytes, 32 characters); nothing is
/// stored until the client enrolls it.
pub fn generate_secret() -> String {
    totp_rs::Secret::generate().to_base32()
}

#[async_trait::async_trait]
impl Credential for Totp {
    fn counts_as(&self, _: MethodType) -> Counts {
        Counts::SecondFactor
    }

    async fn enroll_direct(&self, cx: &EnrollContext<'_>, material: DirectEnrollment, id: &str) -> Result<NewMethod> {
        let DirectEnrollment::Totp { secret, code } = material else {
            return Err(Error::Internal(anyhow::anyhow!("TOTP module given backup codes")));
        };
        let secret = validate_secret(&secret)?;
        // A code sent with the secret is spent here, so it cannot sign in a second time.
        let last_step = match code {
            Some(code) => {
                matching_step(&secret, code.trim(), now_secs())?.ok_or(Error::Refused(Refusal::InvalidTotpCode))?
            }
            None => 0,
        };
        let stored = serde_json::to_vec(&Stored { secret, last_step }).map_err(anyhow::Error::from)?;
        Ok(new_method(cx, MethodType::Totp, id, cx.master_key.seal(SEAL_CONTEXT, &stored)?))
    }

    async fn begin(&self, cx: &EnrollContext<'_>, _: &EnrollRequest, _: &str) -> Result<Begun> {
        let secret = totp_rs::Secret::generate().to_base32();
        let totp = build(&secret, &cx.rp.name, &account_label(cx.user))?;
        let barcode_uri = totp.to_url().map_err(|e| Error::Internal(anyhow::anyhow!("TOTP URL: {e}")))?;
        Ok(Begun {
            state: json!({ "secret": secret }),
            challenge: EnrollChallenge::Barcode { barcode_uri, manual_input_code: Some(secret) },
            message: None,
        })
    }

    async fn finish(&self, cx: &EnrollContext<'_>, state: Value, proof: EnrollProof, id: &str) -> Result<NewMethod> {
        let secret = state["secret"].as_str().unwrap_or_default().to_string();
        let EnrollProof::OtpCode(code) = proof else {
            return Err(Error::invalid("otp_code", "is required"));
        };
        let Some(step) = matching_step(&secret, &code, now_secs())? else {
            return Err(Error::BadProof("The code is wrong or has expired.".into()));
        };
        let stored = serde_json::to_vec(&Stored { secret, last_step: step }).map_err(anyhow::Error::from)?;
        Ok(new_method(cx, MethodType::Totp, id, cx.master_key.seal(SEAL_CONTEXT, &stored)?))
    }
}

/// Checks a code at sign-in against a stored (sealed) secret; on success returns the secret to
/// store instead (with the step used), which the caller swaps in only if unchanged.
pub fn check_sign_in_code(key: &MasterKey, sealed: &str, code: &str) -> Result<Option<String>> {
    let plain = key.open(SEAL_CONTEXT, sealed)?;
    let stored: Stored = serde_json::from_slice(&plain).map_err(anyhow::Error::from)?;
    match matching_step(&stored.secret, code, now_secs())? {
        Some(step) if step > stored.last_step => {
            let next =
                serde_json::to_vec(&Stored { secret: stored.secret, last_step: step }).map_err(anyhow::Error::from)?;
            Ok(Some(key.seal(SEAL_CONTEXT, &next)?))
        }
        _ => Ok(None),
    }
}

/// The current code for a base32 secret (tests and the device CLI).
pub fn current_code(secret_b32: &str) -> Result<String> {
    Ok(checker(&secret_b32.trim_end_matches('=').to_ascii_uppercase())?.generate(now_secs()).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_secrets_are_base32_of_16_to_32_characters() {
        assert_eq!(validate_secret("jbswy3dpehpk3pxp").unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(validate_secret(&generate_secret()).is_ok());
        assert_eq!(generate_secret().len(), 32);
        for bad in ["JBSWY3DPEHPK3PX", "JBSWY3DPEHPK3PX1", "JBSWY3DPEHPK3PXP JB", &"A".repeat(33)] {
            assert!(matches!(validate_secret(bad), Err(Error::Refused(Refusal::TotpSecretInvalid))), "{bad}");
        }
        // An 80-bit secret still gives codes that check.
        let code = current_code("JBSWY3DPEHPK3PXP").unwrap();
        assert!(matching_step("JBSWY3DPEHPK3PXP", &code, now_secs()).unwrap().is_some());
    }
}
