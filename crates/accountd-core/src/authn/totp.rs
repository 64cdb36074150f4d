//! TOTP (RFC 6238) with `totp-rs`: SHA-1, 6 digits, 30 s steps, ±1 step of clock skew — what every
//! authenticator app reads from an `otpauth://` URI. The secret is sealed at rest together with the
//! last step accepted, so a code is never accepted twice.

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::credential::{
    Begun, Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, account_label, new_method,
};
use super::method::{MethodType, NewMethod};
use crate::error::{Error, Result};
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

/// The step a code matches at `now`, if any (codes are six ASCII digits).
fn matching_step(secret_b32: &str, code: &str, now: u64) -> Result<Option<u64>> {
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return Ok(None);
    }
    let totp = build(secret_b32, "x", "x")?;
    Ok(totp.check(code, now))
}

#[async_trait::async_trait]
impl Credential for Totp {
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
    Ok(build(secret_b32, "x", "x")?.generate(now_secs()).to_string())
}
