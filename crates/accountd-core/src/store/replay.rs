use crate::store::StoreResult;
use crate::tenant::TenantId;

/// One-time values seen recently (DPoP proof ids), shared by every node.
#[async_trait::async_trait]
pub trait ReplayStore {
    /// Records `key` until `expires_at`; false if it was already recorded and has not expired
    /// (a replay). Exactly one of several concurrent callers with the same key gets true.
    async fn remember_once(&self, tenant: &TenantId, key: &str, now: i64, expires_at: i64) -> StoreResult<bool>;

    /// For a store that saves one-time values behind the requests (SQLite's, in memory, saved
    /// every 100 ms): when it started (ms). Values spent just before a crash may not have been
    /// saved, so a value made before this time must not be accepted without other proof that it
    /// is new (a server nonce issued since). `None`: every accepted value is saved at once.
    fn unsaved_before(&self) -> Option<i64> {
        None
    }
}
