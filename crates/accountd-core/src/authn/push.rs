//! Push approval by a companion device. There is no vendor app here, so the flow is open: the
//! enrollment's `barcode_uri` carries a ticket and the account API's base URL; the device (for
//! example `accountd device enroll`) redeems the ticket with its public key, which makes the
//! enrollment verifiable; at sign-in the device fetches the open challenges and approves or denies
//! them with requests signed by that key.
//!
//! The ticket is `{method id}.{secret}`: the method id finds the pending enrollment, the secret
//! (kept as a hash in the sealed state) proves the device saw this QR code.

use serde_json::{Value, json};

use super::credential::{
    Begun, Credential, EnrollChallenge, EnrollContext, EnrollProof, EnrollRequest, account_label, new_method,
};
use super::method::{MethodDetails, MethodType, NewMethod};
use crate::error::{Error, Result};
use crate::origin::encode_component as enc;
use crate::secret::{hash_high_entropy_secret, random_token, verify_high_entropy_secret};

/// The push credential module.
pub struct Push;

/// Splits a ticket into the method id it enrolls and its secret.
pub fn parse_ticket(ticket: &str) -> Option<(&str, &str)> {
    ticket.rsplit_once('.').filter(|(id, secret)| id.starts_with("push-notification|") && !secret.is_empty())
}

/// Whether a redeemed ticket's secret matches the pending enrollment's state.
pub fn ticket_matches(state: &Value, secret: &str) -> bool {
    state["ticket_hash"].as_str().is_some_and(|h| verify_high_entropy_secret(secret, h))
}

/// The state after a device redeemed the ticket with its public key.
pub fn redeemed_state(state: &Value, device_jwk: Value, device_name: Option<String>) -> Value {
    let mut s = state.clone();
    s["device_jwk"] = device_jwk;
    s["device_name"] = json!(device_name);
    s
}

#[async_trait::async_trait]
impl Credential for Push {
    fn counts_as(&self, _: MethodType) -> super::credential::Counts {
        super::credential::Counts::SecondFactor
    }

    async fn begin(&self, cx: &EnrollContext<'_>, _: &EnrollRequest, method_id: &str) -> Result<Begun> {
        let secret = random_token::<24>();
        let ticket = format!("{method_id}.{secret}");
        let issuer = cx.rp.name.replace(':', " ");
        let barcode_uri = format!(
            "otpauth://push/{}:{}?ticket={}&base_url={}&issuer={}",
            enc(&issuer),
            enc(&account_label(cx.user)),
            enc(&ticket),
            enc(cx.base_url),
            enc(&issuer)
        );
        Ok(Begun {
            state: json!({ "ticket_hash": hash_high_entropy_secret(&secret) }),
            challenge: EnrollChallenge::Barcode { barcode_uri, manual_input_code: None },
            message: None,
        })
    }

    async fn finish(&self, cx: &EnrollContext<'_>, state: Value, proof: EnrollProof, id: &str) -> Result<NewMethod> {
        if !matches!(proof, EnrollProof::Nothing) {
            return Err(Error::invalid("auth_session", "push enrollment is confirmed with auth_session only"));
        }
        let Some(jwk) = state.get("device_jwk").filter(|j| j.is_object()).cloned() else {
            return Err(Error::BadProof(
                "No device has redeemed this enrollment yet: scan the QR code with the device first.".into(),
            ));
        };
        let mut m =
            new_method(cx, MethodType::PushNotification, id, serde_json::to_string(&jwk).map_err(anyhow::Error::from)?);
        m.method.name = state["device_name"].as_str().map(str::to_string);
        m.method.details = MethodDetails { device_public_jwk: Some(jwk), ..Default::default() };
        // Devices find their own method (and its key) by its id.
        m.lookup_key = Some(id.to_string());
        Ok(m)
    }
}
