use crate::store::StoreResult;
use crate::tenant::TenantId;

/// When attempts lock a key out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleRule {
    /// Attempts within the window that may be checked; the last of them locks the key unless it
    /// succeeds.
    pub max_failures: i64,
    /// Length of the counting window.
    pub window_millis: i64,
    /// How long a lockout lasts.
    pub lockout_millis: i64,
}

/// A steady budget of attempts (GCRA): `burst` at once, then one more every `interval_millis`.
/// It slows a key down instead of locking it out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    /// Attempts allowed at once.
    pub burst: i64,
    /// Time for one spent attempt to come back.
    pub interval_millis: i64,
}

/// The answer to a reservation, made before the slow check (a hash, a code compare) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt {
    /// The attempt may be checked. `number` is its place in the window (1 = first); the attempt
    /// numbered `max_failures` locked the key already, and a success clears that lock.
    Allowed {
        /// This attempt's number within the window.
        number: i64,
    },
    /// Nothing may be checked before `until` (ms).
    Refused {
        /// When the key may try again.
        until: i64,
    },
}

/// Attempt counters (sign-in per identifier and IP, second factors, code sends), shared by every
/// node. Every method is one atomic statement: a burst of parallel callers, on one node or many,
/// gets no more attempts than the rule allows.
#[async_trait::async_trait]
pub trait ThrottleStore {
    /// Counts one attempt on `key` before it is checked; refuses it when the key is locked or its
    /// window's attempts are used up. The attempt that reaches the limit locks the key.
    async fn reserve_attempt(
        &self,
        tenant: &TenantId,
        key: &str,
        now: i64,
        rule: &ThrottleRule,
    ) -> StoreResult<Attempt>;
    /// Forgets `key`'s attempts and lockout (after a success).
    async fn clear_failures(&self, tenant: &TenantId, key: &str) -> StoreResult<()>;
    /// Takes one attempt from `key`'s steady budget; refuses it when the budget is spent.
    async fn reserve_rate(&self, tenant: &TenantId, key: &str, now: i64, rule: &RateRule) -> StoreResult<Attempt>;
    /// Gives back an attempt taken with [`ThrottleStore::reserve_rate`] (it succeeded, or was
    /// never checked).
    async fn refund_rate(&self, tenant: &TenantId, key: &str, rule: &RateRule) -> StoreResult<()>;
}
