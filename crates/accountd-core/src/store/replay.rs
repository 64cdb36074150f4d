use crate::store::StoreResult;
use crate::tenant::TenantId;

/// One-time values seen recently (DPoP proof ids), shared by every node.
#[async_trait::async_trait]
pub trait ReplayStore {
    /// Records `key` until `expires_at`; false if it was already recorded and has not expired
    /// (a replay). Exactly one of several concurrent callers with the same key gets true.
    async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, expires_at: i64) -> StoreResult<bool>;
}
