//! The companion device's side of push approval (the credential module is `authn::push`): a device
//! redeems the enrollment ticket of a `barcode_uri` with its public key, which makes the pending
//! enrollment verifiable; at sign-in it lists the challenges open for its method and approves or
//! denies them. The HTTP adapter authenticates device requests with the key `push_device_key`
//! returns. The sign-in page starts challenges with `start_push_challenge` and waits on
//! `push_challenge_status`.
//!
//! A challenge is a pending verification with purpose `SecondFactor`, type `push-notification`,
//! the method's id and user, and sealed state `{"binding_message": …}` (the short text both screens
//! show, so the user can tell their sign-in from someone else's).

use aws_lc_rs::signature::{ECDSA_P256_SHA256_FIXED, ParsedPublicKey};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use super::Core;
use crate::audit::{Actor, AuditEvent, Context};
use crate::authn::method::{AuthenticationMethod, MethodType};
use crate::authn::pending::{MAX_ATTEMPTS, PENDING_TTL_MILLIS, PendingPurpose, PendingStatus, PendingVerification};
use crate::authn::push::{parse_ticket, redeemed_state, ticket_matches};
use crate::clock::{Millis, now_millis};
use crate::error::{Entity, Error, Result};
use crate::secret::random_token;
use crate::tenant::TenantId;
use crate::user::UserId;

/// Longest binding message, in characters (what fits on a phone's notification).
pub const MAX_BINDING_MESSAGE_CHARS: usize = 64;

/// Longest device name, in characters (as a method's name).
const MAX_DEVICE_NAME_CHARS: usize = 255;

/// A sign-in waiting for the device's answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushChallenge {
    /// The pending verification's id: what the device answers and the sign-in page waits on.
    pub id: String,
    /// The text both screens show.
    pub binding_message: String,
    /// When the sign-in asked.
    pub created_at: Millis,
    /// When it stops being answerable.
    pub expires_at: Millis,
}

fn bad_ticket() -> Error {
    Error::BadProof("The enrollment ticket is invalid or expired, or its enrollment no longer exists.".into())
}

fn ticket_used() -> Error {
    Error::BadProof("This enrollment ticket was already redeemed by a device.".into())
}

fn no_challenge() -> Error {
    // The one entity a device can name: its method. A challenge that is gone, answered or
    // another method's is not found the same way.
    Error::NotFound(Entity::AuthenticationMethod)
}

/// The public EC P-256 key of `jwk`, as `{kty, crv, x, y}`: refuses private members, other key
/// types and curves, and points not on the curve.
fn public_p256_jwk(jwk: &Value) -> Result<Value> {
    let bad = |m: &str| Error::invalid("public_key", m);
    let obj = jwk.as_object().ok_or_else(|| bad("must be a JWK object"))?;
    const PRIVATE: &[&str] = &["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    if PRIVATE.iter().any(|m| obj.contains_key(*m)) {
        return Err(bad("must be a public key: it contains private key material"));
    }
    if obj.get("kty").and_then(Value::as_str) != Some("EC") || obj.get("crv").and_then(Value::as_str) != Some("P-256") {
        return Err(bad("must be an EC P-256 key (kty EC, crv P-256)"));
    }
    let coord = |name: &str| {
        obj.get(name)
            .and_then(Value::as_str)
            .and_then(|s| URL_SAFE_NO_PAD.decode(s).ok())
            .filter(|b| b.len() == 32)
            .ok_or_else(|| bad("x and y must be 32-byte base64url coordinates"))
    };
    let (x, y) = (coord("x")?, coord("y")?);
    let mut point = Vec::with_capacity(65);
    point.push(0x04);
    point.extend_from_slice(&x);
    point.extend_from_slice(&y);
    ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, &point).map_err(|_| bad("is not a point on P-256"))?;
    Ok(json!({ "kty": "EC", "crv": "P-256", "x": obj["x"], "y": obj["y"] }))
}

/// Whether `p` is an open sign-in challenge for the push method `m`.
fn is_open_challenge_of(p: &PendingVerification, m: &AuthenticationMethod) -> bool {
    p.purpose == PendingPurpose::SecondFactor
        && p.method_type == MethodType::PushNotification
        && p.method_id == m.id
        && p.user_id.as_ref() == Some(&m.user_id)
        && p.status == PendingStatus::Pending
}

impl Core {
    /// The push method `method_id` and its device's key (JSON), found by its lookup key.
    async fn push_method(&self, tenant: &TenantId, method_id: &str) -> Result<Option<(AuthenticationMethod, String)>> {
        Ok(self
            .store
            .load_methods_by_lookup(tenant, method_id)
            .await?
            .into_iter()
            .find(|(m, _)| m.id == method_id && m.method_type == MethodType::PushNotification))
    }

    /// A device redeems the ticket of an enrollment's `barcode_uri` with its public key (an EC
    /// P-256 JWK, stored as `{kty, crv, x, y}`); the enrollment can then be verified. Returns the
    /// method id, which is also the device's id. A wrong secret counts as a failed attempt; a ticket
    /// is redeemed once (`BadProof` otherwise).
    pub async fn redeem_push_ticket(
        &self,
        tenant: &TenantId,
        ticket: &str,
        device_jwk: Value,
        device_name: Option<String>,
    ) -> Result<String> {
        let jwk = public_p256_jwk(&device_jwk)?;
        let name = device_name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty());
        if name.as_ref().is_some_and(|n| n.chars().count() > MAX_DEVICE_NAME_CHARS) {
            return Err(Error::invalid("name", format!("must be at most {MAX_DEVICE_NAME_CHARS} characters")));
        }
        let (method_id, secret) = parse_ticket(ticket.trim()).ok_or_else(bad_ticket)?;
        let pending = self
            .store
            .list_pending_for_method(tenant, method_id, now_millis())
            .await?
            .into_iter()
            .find(|p| {
                p.purpose == PendingPurpose::Enroll
                    && p.method_type == MethodType::PushNotification
                    && p.status == PendingStatus::Pending
            })
            .ok_or_else(bad_ticket)?;
        let state = self.open_pending_state(&pending)?;
        let attempt = self.reserve_pending_attempt(tenant, &pending.id).await?;
        if !ticket_matches(&state, secret) {
            if attempt >= MAX_ATTEMPTS {
                self.store.take_pending(tenant, &pending.id).await?;
            }
            return Err(bad_ticket());
        }
        if state.get("device_jwk").is_some_and(Value::is_object) {
            return Err(ticket_used());
        }
        let sealed = self.seal_pending_state(&redeemed_state(&state, jwk, name))?;
        // Only from the state read above: of two devices redeeming at once, one wins.
        if !self.store.update_pending_state(tenant, &pending.id, &pending.state, &sealed).await? {
            return Err(ticket_used());
        }
        Ok(method_id.to_string())
    }

    /// The public JWK of the device enrolled as push method `method_id`, if there is one.
    pub async fn push_device_key(&self, tenant: &TenantId, method_id: &str) -> Result<Option<Value>> {
        match self.push_method(tenant, method_id).await? {
            Some((_, jwk)) => Ok(Some(serde_json::from_str(&jwk).map_err(anyhow::Error::from)?)),
            None => Ok(None),
        }
    }

    /// The unanswered, unexpired sign-in challenges of push method `method_id`, oldest first.
    pub async fn open_push_challenges(&self, tenant: &TenantId, method_id: &str) -> Result<Vec<PushChallenge>> {
        let (m, _) = self.push_method(tenant, method_id).await?.ok_or(Error::NotFound(Entity::AuthenticationMethod))?;
        let mut out = Vec::new();
        for p in self.store.list_pending_for_method(tenant, method_id, now_millis()).await? {
            if !is_open_challenge_of(&p, &m) {
                continue;
            }
            let state = self.open_pending_state(&p)?;
            out.push(PushChallenge {
                binding_message: state["binding_message"].as_str().unwrap_or_default().to_string(),
                id: p.id,
                created_at: p.created_at,
                expires_at: p.expires_at,
            });
        }
        Ok(out)
    }

    /// The device of push method `method_id` approves or denies challenge `challenge_id`, which
    /// must be open and that method's (`NotFound` otherwise). The audit event
    /// (`push.challenge.approve` or `.deny`) names the method's user as the actor; `ctx` gives the
    /// IP and user agent.
    pub async fn answer_push_challenge(
        &self,
        ctx: &Context,
        tenant: &TenantId,
        method_id: &str,
        challenge_id: &str,
        approve: bool,
    ) -> Result<()> {
        let (m, _) = self.push_method(tenant, method_id).await?.ok_or(Error::NotFound(Entity::AuthenticationMethod))?;
        let p = self
            .store
            .find_pending(tenant, challenge_id, now_millis())
            .await?
            .filter(|p| is_open_challenge_of(p, &m))
            .ok_or_else(no_challenge)?;
        let (status, action) = if approve {
            (PendingStatus::Approved, "push.challenge.approve")
        } else {
            (PendingStatus::Denied, "push.challenge.deny")
        };
        let ctx = Context { actor: Actor::User(m.user_id.0.clone()), ..ctx.clone() };
        let tx = self.store.begin().await?;
        if !tx.set_pending_status(tenant, &p.id, status).await? {
            return Err(no_challenge());
        }
        tx.insert_audit_event(
            tenant,
            &AuditEvent::success(
                &ctx,
                action,
                "authentication_method",
                &m.id,
                json!({ "type": MethodType::PushNotification.storage_name(), "user_id": m.user_id.0 }),
            ),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks the device of `user`'s push method `method_id` to approve a sign-in: stores an open
    /// challenge for `PENDING_TTL_MILLIS` showing `binding_message` (1 to 64 characters, no control
    /// characters) and returns its id, to wait on with [`Core::push_challenge_status`].
    pub async fn start_push_challenge(
        &self,
        tenant: &TenantId,
        user: &UserId,
        method_id: &str,
        binding_message: &str,
    ) -> Result<String> {
        let message = binding_message.trim();
        let length = message.chars().count();
        if length == 0 || length > MAX_BINDING_MESSAGE_CHARS || message.chars().any(char::is_control) {
            return Err(Error::invalid(
                "binding_message",
                format!("must be 1 to {MAX_BINDING_MESSAGE_CHARS} characters without control characters"),
            ));
        }
        self.store
            .find_method(tenant, user, method_id)
            .await?
            .filter(|m| m.method_type == MethodType::PushNotification)
            .ok_or(Error::NotFound(Entity::AuthenticationMethod))?;
        let now = now_millis();
        let pending = PendingVerification {
            id: random_token::<32>(),
            purpose: PendingPurpose::SecondFactor,
            user_id: Some(user.clone()),
            method_type: MethodType::PushNotification,
            method_id: method_id.to_string(),
            state: self.seal_pending_state(&json!({ "binding_message": message }))?,
            status: PendingStatus::Pending,
            attempts: 0,
            created_at: now,
            expires_at: now + PENDING_TTL_MILLIS,
        };
        self.store.insert_pending(tenant, &pending).await?;
        Ok(pending.id)
    }

    /// Where push challenge `pending_id` stands: `Pending` until the device answers, then
    /// `Approved` or `Denied`; `None` once it expired or was taken (or is not a push challenge).
    pub async fn push_challenge_status(&self, tenant: &TenantId, pending_id: &str) -> Result<Option<PendingStatus>> {
        Ok(self
            .store
            .find_pending(tenant, pending_id, now_millis())
            .await?
            .filter(|p| p.purpose == PendingPurpose::SecondFactor && p.method_type == MethodType::PushNotification)
            .map(|p| p.status))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwk() -> Value {
        // A P-256 public key (RFC 7515 appendix A.3).
        json!({"kty": "EC", "crv": "P-256",
               "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU", "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"})
    }

    #[test]
    fn only_public_p256_keys_are_accepted() {
        let mut with_extras = jwk();
        with_extras["alg"] = json!("ES256");
        with_extras["kid"] = json!("k1");
        assert_eq!(public_p256_jwk(&with_extras).ok(), Some(jwk()), "extras are dropped");
        let refused = |f: &dyn Fn(&mut Value)| {
            let mut k = jwk();
            f(&mut k);
            assert!(matches!(public_p256_jwk(&k), Err(Error::Invalid(_))), "{k}");
        };
        refused(&|k| k["d"] = json!("jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"));
        refused(&|k| k["kty"] = json!("RSA"));
        refused(&|k| k["crv"] = json!("P-384"));
        refused(&|k| k["x"] = json!("AAAA"));
        refused(&|k| {
            k.as_object_mut().unwrap().remove("y");
        });
        // Not on the curve: y + 1.
        refused(&|k| k["y"] = json!("x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a4"));
        assert!(public_p256_jwk(&json!("a string")).is_err());
    }
}
