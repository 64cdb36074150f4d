use crate::store::StoreResult;
use crate::tenant::TenantId;

/// When failures lock a key out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Failures within the window that lock the key.
    pub max_failures: i64,
    /// Length of the counting window.
    pub window_millis: i64,
    /// How long a lockout lasts.
    pub lockout_millis: i64,
}

/// The state of a key after a failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Failures in the current window.
    pub failures: i64,
    /// End of the lockout, if the key is locked.
    pub locked_until: Option<i64>,
}

/// Failed sign-in counters, shared by every node (per account identifier and per IP).
#[async_trait::async_trait]
pub trait ThrottleStore {
    /// Counts a failure for `key` atomically and returns the new state.
    async fn record_failure(&self, tenant: &TenantId, key: &str, now: i64, rule: &ThrottleRule)
    -> StoreResult<Lockout>;
    /// The end of `key`'s lockout, if it is locked at `now`.
    async fn find_lockout(&self, tenant: &TenantId, key: &str, now: i64) -> StoreResult<Option<i64>>;
    /// Forgets `key`'s failures (after a successful sign-in).
    async fn clear_failures(&self, tenant: &TenantId, key: &str) -> StoreResult<()>;
}
