use crate::authn::pending::{PendingStatus, PendingVerification};
use crate::store::StoreResult;
use crate::tenant::TenantId;

/// Proofs in progress (enrollments, second-factor challenges, passkey ceremonies, push approvals),
/// shared by every node.
#[async_trait::async_trait]
pub trait PendingVerificationStore {
    /// Stores a new pending verification.
    async fn insert_pending(&self, tenant: &TenantId, pending: &PendingVerification) -> StoreResult<()>;
    /// One by id, if it has not expired at `now`.
    async fn find_pending(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<Option<PendingVerification>>;
    /// Reserves one of `max` attempts at answering it, before the answer is checked; returns the
    /// attempt's number, or `None` once all are spent (or it is gone). Atomic, so a burst of
    /// answers gets at most `max` checked.
    async fn reserve_pending_attempt(&self, tenant: &TenantId, id: &str, max: i64) -> StoreResult<Option<i64>>;
    /// Sets the status of a pending verification still pending; false if it was not.
    async fn set_pending_status(&self, tenant: &TenantId, id: &str, status: PendingStatus) -> StoreResult<bool>;
    /// Replaces the sealed state of a pending verification still pending, only if its state is
    /// still `expected` (a push enrollment redeemed by its device); false otherwise, so of two
    /// concurrent replacements of the same state only one succeeds.
    async fn update_pending_state(&self, tenant: &TenantId, id: &str, expected: &str, state: &str)
    -> StoreResult<bool>;
    /// Deletes it; true for exactly one caller (single use).
    async fn take_pending(&self, tenant: &TenantId, id: &str) -> StoreResult<bool>;
    /// Unexpired ones for a method and purpose (a push device's open challenges), oldest first.
    async fn list_pending_for_method(
        &self,
        tenant: &TenantId,
        method_id: &str,
        now: i64,
    ) -> StoreResult<Vec<PendingVerification>>;
}
