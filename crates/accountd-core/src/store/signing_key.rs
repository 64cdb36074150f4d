use crate::signing_key::SigningKey;
use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Token signing keys.
#[async_trait::async_trait]
pub trait SigningKeyStore {
    /// Inserts a key.
    async fn insert_signing_key(&self, tenant: &TenantId, key: &SigningKey) -> StoreResult<()>;
    /// Every key still published (active, or retired with `publish_until` after `now`), newest first.
    async fn list_signing_keys(&self, tenant: &TenantId, now: i64) -> StoreResult<Vec<SigningKey>>;
    /// Marks a key retired; it stays published until `publish_until`.
    async fn retire_signing_key(&self, tenant: &TenantId, kid: &str, at: i64, publish_until: i64) -> StoreResult<bool>;
}
