use crate::store::StoreResult;
use crate::tenant::TenantId;

/// The tenant's self-service settings, each stored as one JSON document on the tenant: the
/// account policy (factors, MFA, step-up, password, limits; see `crate::authn::policy`) and the
/// account center (see `crate::account_center`).
#[async_trait::async_trait]
pub trait TenantSettingsStore {
    /// The tenant's account policy as stored (JSON, `{}` for all defaults).
    async fn load_account_policy(&self, tenant: &TenantId) -> StoreResult<String>;
    /// Replaces the tenant's account policy.
    async fn save_account_policy(&self, tenant: &TenantId, policy: &str) -> StoreResult<()>;
    /// The account center as stored, `None` until an operator sets it.
    async fn load_account_center(&self, tenant: &TenantId) -> StoreResult<Option<String>>;
    /// Replaces the account center.
    async fn save_account_center(&self, tenant: &TenantId, settings: &str) -> StoreResult<()>;
}
