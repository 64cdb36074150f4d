//! Opaque access tokens: recorded when the token endpoint mints one, found by the hash of the
//! handle the client presents, deleted on revocation. The in-memory cache in front of these reads
//! lives in `accountd-oauth` (`opaque.rs`).

use super::Core;
use crate::clock::now_millis;
use crate::error::Result;
use crate::secret::hash_high_entropy_secret;
use crate::session::AccessToken;
use crate::tenant::TenantId;

impl Core {
    /// Records a freshly minted opaque access token (already hashed).
    pub async fn record_access_token(&self, tenant: &TenantId, token: &AccessToken) -> Result<()> {
        Ok(self.store.insert_access_token(tenant, token).await?)
    }

    /// The live opaque access token `handle` names in this tenant.
    pub async fn find_access_token(&self, tenant: &TenantId, handle: &str) -> Result<Option<AccessToken>> {
        Ok(self.store.find_access_token(tenant, &hash_high_entropy_secret(handle), now_millis()).await?)
    }

    /// Revokes the opaque access token `handle` names if `client_id` holds it (RFC 7009: others'
    /// tokens and unknown ones are ignored); whether one was deleted.
    pub async fn revoke_access_token(&self, tenant: &TenantId, client_id: &str, handle: &str) -> Result<bool> {
        let hash = hash_high_entropy_secret(handle);
        match self.store.find_access_token(tenant, &hash, now_millis()).await? {
            Some(t) if t.client_id == client_id => Ok(self.store.delete_access_token(tenant, &hash).await?),
            _ => Ok(false),
        }
    }
}
