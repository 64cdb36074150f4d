//! One-time codes by email or SMS: six digits, sent through the tenant's connector, kept only as a
//! hash in the (sealed) pending state, valid five minutes, a few wrong tries at most (the pending
//! verification's attempt counter), and a limited number of sends per recipient (the service).

use serde_json::{Value, json};

use super::credential::{Begun, Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, new_method};
use super::method::{MethodDetails, MethodType, NewMethod, PhoneDelivery};
use crate::error::{Error, Result};
use crate::message::{Channel, OutgoingMessage, Purpose};
use crate::secret::{constant_time_eq, hash_high_entropy_secret, random_bytes};

/// The email / phone credential module.
pub struct OneTimeCode;

/// Six random digits (unbiased: values ≥ 4 294 000 000 are redrawn).
pub fn generate_code() -> String {
    loop {
        let n = u32::from_be_bytes(random_bytes::<4>());
        if n < 4_294_000_000 {
            return format!("{:06}", n % 1_000_000);
        }
    }
}

/// The stored form of a code. Six digits have little entropy, so the hash is keyed by a per-code
/// salt kept beside it (in sealed state) and guessing is bounded by the attempt limit, not by it.
pub fn hash_code(code: &str, salt: &str) -> String {
    hash_high_entropy_secret(&format!("{salt}:{code}"))
}

/// Whether `code` matches the stored hash.
pub fn code_matches(code: &str, salt: &str, hash: &str) -> bool {
    constant_time_eq(hash_code(code.trim(), salt).as_bytes(), hash.as_bytes())
}

/// A message carrying `code` to an email address or phone number.
pub fn message(channel: Channel, to: &str, code: &str, purpose: Purpose, voice: bool) -> OutgoingMessage {
    let mut payload = serde_json::Map::new();
    if voice {
        payload.insert("delivery".into(), json!("voice"));
    }
    OutgoingMessage {
        channel,
        to: to.to_string(),
        purpose,
        code: code.to_string(),
        subject: String::new(),
        text: String::new(),
        payload,
    }
}

/// Checks an E.164 phone number (`+` and 8 to 15 digits).
pub fn is_e164(s: &str) -> bool {
    s.strip_prefix('+')
        .is_some_and(|d| (8..=15).contains(&d.len()) && d.bytes().all(|b| b.is_ascii_digit()) && !d.starts_with('0'))
}

#[async_trait::async_trait]
impl Credential for OneTimeCode {
    fn counts_as(&self, _: MethodType) -> super::credential::Counts {
        super::credential::Counts::SecondFactor
    }

    async fn begin(&self, _: &EnrollContext<'_>, request: &EnrollRequest, _: &str) -> Result<Begun> {
        let code = generate_code();
        let salt = crate::secret::random_token::<16>();
        let (state, message) = match request {
            EnrollRequest::Email { email } => (
                json!({ "email": email, "salt": salt, "hash": hash_code(&code, &salt) }),
                message(Channel::Email, email, &code, Purpose::Generic, false),
            ),
            EnrollRequest::Phone { phone_number, delivery } => (
                json!({ "phone_number": phone_number, "delivery": delivery, "salt": salt, "hash": hash_code(&code, &salt) }),
                message(Channel::Sms, phone_number, &code, Purpose::Generic, *delivery == PhoneDelivery::Voice),
            ),
            _ => return Err(Error::Internal(anyhow::anyhow!("one-time code module asked for {:?}", request))),
        };
        Ok(Begun { state, challenge: EnrollChallenge::CodeSent, message: Some(message) })
    }

    async fn finish(&self, cx: &EnrollContext<'_>, state: Value, proof: EnrollProof, id: &str) -> Result<NewMethod> {
        let EnrollProof::OtpCode(code) = proof else {
            return Err(Error::invalid("otp_code", "is required"));
        };
        let salt = state["salt"].as_str().unwrap_or_default();
        let hash = state["hash"].as_str().unwrap_or_default();
        if !code_matches(&code, salt, hash) {
            return Err(Error::BadProof("The code is wrong or has expired.".into()));
        }
        let (t, details) = match state["email"].as_str() {
            Some(email) => (MethodType::Email, MethodDetails { email: Some(email.into()), ..Default::default() }),
            None => (
                MethodType::Phone,
                MethodDetails {
                    phone_number: state["phone_number"].as_str().map(str::to_string),
                    preferred_authentication_method: Some(
                        serde_json::from_value(state["delivery"].clone()).unwrap_or_default(),
                    ),
                    ..Default::default()
                },
            ),
        };
        let mut m = new_method(cx, t, id, String::new());
        m.method.details = details;
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_six_digits_and_compare_by_salted_hash() {
        let c = generate_code();
        assert_eq!(c.len(), 6);
        assert!(c.bytes().all(|b| b.is_ascii_digit()));
        let h = hash_code(&c, "s");
        assert!(code_matches(&c, "s", &h));
        assert!(!code_matches(&c, "t", &h));
        assert!(!code_matches("000000x", "s", &h));
    }

    #[test]
    fn phone_numbers_must_be_e164() {
        assert!(is_e164("+15551234567"));
        assert!(!is_e164("15551234567"));
        assert!(!is_e164("+1555"));
        assert!(!is_e164("+0155512345"));
        assert!(!is_e164("+1555123456a"));
    }
}
