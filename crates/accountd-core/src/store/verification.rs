use crate::store::StoreResult;
use crate::tenant::TenantId;
use crate::verification::VerificationRecord;

/// Verification records: proofs of identity, reusable until they expire.
#[async_trait::async_trait]
pub trait VerificationRecordStore {
    /// Inserts a record.
    async fn insert_verification_record(&self, tenant: &TenantId, record: &VerificationRecord) -> StoreResult<()>;
    /// A record by id that has not expired at `now`.
    async fn find_verification_record(
        &self,
        tenant: &TenantId,
        id: &str,
        now: i64,
    ) -> StoreResult<Option<VerificationRecord>>;
    /// Reserves one code attempt on a live record with a code waiting, if fewer than `max` were
    /// made: the attempt's number, or `None` (spent, expired, no code). One statement, so a burst
    /// gets no more than `max`.
    async fn reserve_code_attempt(&self, tenant: &TenantId, id: &str, max: i64, now: i64) -> StoreResult<Option<i64>>;
    /// Marks a live record with a code waiting verified and forgets the code (it is used); false
    /// when there was none (a parallel verify used it first).
    async fn mark_record_verified(&self, tenant: &TenantId, id: &str, now: i64) -> StoreResult<bool>;
    /// Marks a live, unverified record verified and replaces its sealed state `expected` (a
    /// WebAuthn ceremony) with `state` (what the ceremony proved), in one statement: false when
    /// the record expired, was verified already or holds another state, so a ceremony finishes
    /// once.
    async fn complete_record(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
        now: i64,
    ) -> StoreResult<bool>;
    /// Replaces the sealed state `expected` of a live record with `state`, verified or not, in
    /// one statement (compare and swap): false when the record expired or holds another state, so
    /// one-time values kept in it (a social `connect_code`) are spent once.
    async fn swap_record_state(
        &self,
        tenant: &TenantId,
        id: &str,
        expected: &str,
        state: &str,
        verified: bool,
        now: i64,
    ) -> StoreResult<bool>;
}
