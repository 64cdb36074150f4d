//! Pending verifications, made and read the same way by every flow that keeps a proof in progress
//! (enrollment, second factors, passkey ceremonies, push): the state is sealed with the master
//! key, and the client holds a random token of which the store keeps only the hash.

use serde_json::Value;

use super::Core;
use crate::authn::method::MethodType;
use crate::authn::pending::{MAX_ATTEMPTS, PENDING_TTL_MILLIS, PendingPurpose, PendingStatus, PendingVerification};
use crate::clock::now_millis;
use crate::error::{Error, Result};
use crate::secret::{hash_high_entropy_secret, random_token};
use crate::tenant::TenantId;
use crate::user::UserId;

/// Seal context of pending verification state.
const PENDING_SEAL: &str = "pending-verification";

impl Core {
    /// Seals a pending verification's state.
    pub(super) fn seal_pending_state(&self, state: &Value) -> Result<String> {
        self.master_key.seal(PENDING_SEAL, &serde_json::to_vec(state).map_err(anyhow::Error::from)?)
    }

    /// Opens a pending verification's state.
    pub(super) fn open_pending_state(&self, p: &PendingVerification) -> Result<Value> {
        let plain = self.master_key.open(PENDING_SEAL, &p.state)?;
        Ok(serde_json::from_slice(&plain).map_err(anyhow::Error::from)?)
    }

    /// A new pending verification (not stored yet) and the token that names it.
    pub(super) fn new_pending(
        &self,
        purpose: PendingPurpose,
        user: Option<&UserId>,
        method: (MethodType, &str),
        state: &Value,
    ) -> Result<(String, PendingVerification)> {
        let token = random_token::<32>();
        let now = now_millis();
        let pending = PendingVerification {
            id: hash_high_entropy_secret(&token),
            purpose,
            user_id: user.cloned(),
            method_type: method.0,
            method_id: method.1.to_string(),
            state: self.seal_pending_state(state)?,
            status: PendingStatus::Pending,
            attempts: 0,
            created_at: now,
            expires_at: now + PENDING_TTL_MILLIS,
        };
        Ok((token, pending))
    }

    /// Stores a new pending verification; returns the token that names it.
    pub(super) async fn insert_new_pending(
        &self,
        tenant: &TenantId,
        purpose: PendingPurpose,
        user: Option<&UserId>,
        method: (MethodType, &str),
        state: &Value,
    ) -> Result<String> {
        let (token, pending) = self.new_pending(purpose, user, method, state)?;
        self.store.insert_pending(tenant, &pending).await?;
        Ok(token)
    }

    /// Reserves one of the [`MAX_ATTEMPTS`] answers a pending verification allows, before the
    /// answer is checked (so a parallel burst gets no more checked); returns its number. When
    /// all are spent the verification is gone and the caller must start again.
    pub(super) async fn reserve_pending_attempt(&self, tenant: &TenantId, id: &str) -> Result<i64> {
        match self.store.reserve_pending_attempt(tenant, id, MAX_ATTEMPTS).await? {
            Some(n) => Ok(n),
            None => {
                self.store.take_pending(tenant, id).await?;
                Err(Error::BadProof("Too many wrong answers; start again.".into()))
            }
        }
    }
}
